package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/commercesync/commercesync/connectors"
)

// Query filters for list reads.
const (
	// allActive selects active and inactive entities alike. Intuit's
	// name-list queries leave inactive entities out unless the query names
	// Active (not in the reference, so asked for explicitly); inactive
	// accounts and tax codes matter because a mapping may point at one.
	allActive = "where Active IN (true, false)"
	// onlyActive selects what a new mapping may choose.
	onlyActive = "where Active = true"
)

// Setup reads the company's country, preferences (home currency,
// multicurrency, book close date, class and department tracking) and its
// lists (§2.3): accounts and tax codes (active and inactive) with their
// rates, and the active customers, vendors, company currencies, classes,
// departments and items. The lists travel in one Intuit batch (§2.6), so a
// whole setup costs three requests of the ten a second QuickBooks allows.
func (c *Connector) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	if _, err := c.companyInfo(ctx, s); err != nil {
		return nil, err
	}
	var out struct{ Preferences preferences }
	if err := c.getJSON(ctx, s, "preferences", nil, &out); err != nil {
		return nil, fmt.Errorf("qbo: read preferences: %w", err)
	}
	p := out.Preferences
	lockDate, err := p.lockDate()
	if err != nil {
		return nil, err
	}
	var l lists
	if err := c.readLists(ctx, s, l.queries(p)); err != nil {
		return nil, fmt.Errorf("qbo: read setup lists: %w", err)
	}
	taxRates, err := l.taxRateList()
	if err != nil {
		return nil, err
	}
	return &connectors.Setup{
		Accounts:     l.accountList(),
		TaxRates:     taxRates,
		Contacts:     l.contacts(),
		Currencies:   p.currencies(l.currencies),
		Tracking:     l.tracking(p),
		Items:        l.itemList(),
		BaseCurrency: p.home(),
		LockDate:     lockDate,
	}, nil
}

// preferences is the part of Preferences Setup reads (§2.3).
type preferences struct {
	AccountingInfoPrefs struct {
		BookCloseDate                                string
		ClassTrackingPerTxn, ClassTrackingPerTxnLine bool
		TrackDepartments                             bool
		// DepartmentTerminology is the merchant's word for departments
		// (not in the reference).
		DepartmentTerminology string
	}
	CurrencyPrefs struct {
		MultiCurrencyEnabled bool
		HomeCurrency         refJSON
	}
}

func (p preferences) home() string { return p.CurrencyPrefs.HomeCurrency.Value }

// lockDate normalises BookCloseDate to YYYY-MM-DD, or "".
func (p preferences) lockDate() (string, error) {
	d := p.AccountingInfoPrefs.BookCloseDate
	if d == "" {
		return "", nil
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return "", &connectors.Error{Class: connectors.Fatal, Message: "qbo: unreadable BookCloseDate " + d, Err: err}
	}
	return t.Format(time.DateOnly), nil
}

// tracksClasses: classes are used per transaction or per line (§2.3:
// "use if Preferences.AccountingInfoPrefs.ClassTrackingPerTxn(Line)").
func (p preferences) tracksClasses() bool {
	return p.AccountingInfoPrefs.ClassTrackingPerTxn || p.AccountingInfoPrefs.ClassTrackingPerTxnLine
}

// departmentName is what the merchant sees departments called: "Location"
// unless the company chose another word (§2.3: "shown as Location in the
// UI"; the choice is not in the reference).
func (p preferences) departmentName() string {
	if t := p.AccountingInfoPrefs.DepartmentTerminology; t != "" {
		return t
	}
	return "Location"
}

// currencies is the home currency, then, with multicurrency on, the
// active company currencies (§2.3), each once.
func (p preferences) currencies(list []currencyRow) []string {
	var out []string
	if h := p.home(); h != "" {
		out = append(out, h)
	}
	if !p.CurrencyPrefs.MultiCurrencyEnabled {
		return out
	}
	for _, cur := range list {
		if cur.Active && cur.Code != "" && !slices.Contains(out, cur.Code) {
			out = append(out, cur.Code)
		}
	}
	return out
}

// The rows Setup decodes; fields as §2.3 lists them.
type (
	accountRow struct {
		ID                                         string `json:"Id"`
		Name, AcctNum, AccountType, AccountSubType string
		Classification, FullyQualifiedName         string
		Active                                     bool
		CurrencyRef                                refJSON
	}
	rateRef struct {
		TaxRateRef refJSON
	}
	taxCodeRow struct {
		ID                  string `json:"Id"`
		Name                string
		Active              bool
		SalesTaxRateList    struct{ TaxRateDetail []rateRef }
		PurchaseTaxRateList struct{ TaxRateDetail []rateRef }
	}
	taxRateRow struct {
		ID        string `json:"Id"`
		RateValue json.Number
	}
	// nameRow is a Customer or a Vendor.
	nameRow struct {
		ID          string `json:"Id"`
		DisplayName string
	}
	currencyRow struct {
		Code   string
		Active bool
	}
	// trackingRow is a Class or a Department.
	trackingRow struct {
		ID                       string `json:"Id"`
		Name, FullyQualifiedName string
	}
	itemRow struct {
		ID                       string `json:"Id"`
		Name, FullyQualifiedName string
		Type                     string
		IncomeAccountRef         refJSON
	}
)

// lists are the lists Setup reads in one batch.
type lists struct {
	accounts             []accountRow
	taxCodes             []taxCodeRow
	taxRates             []taxRateRow
	customers, vendors   []nameRow
	currencies           []currencyRow
	classes, departments []trackingRow
	items                []itemRow
}

// queries names the lists to read: company currencies only with
// multicurrency on, classes and departments only when the company tracks
// them (§2.3).
func (l *lists) queries(p preferences) []listQuery {
	qs := []listQuery{
		{"Account", allActive, &l.accounts},
		{"TaxCode", allActive, &l.taxCodes},
		{"TaxRate", "", &l.taxRates},
		{"Customer", onlyActive, &l.customers},
		{"Vendor", onlyActive, &l.vendors},
		{"Item", onlyActive, &l.items},
	}
	if p.CurrencyPrefs.MultiCurrencyEnabled {
		qs = append(qs, listQuery{"CompanyCurrency", onlyActive, &l.currencies})
	}
	if p.tracksClasses() {
		qs = append(qs, listQuery{"Class", onlyActive, &l.classes})
	}
	if p.AccountingInfoPrefs.TrackDepartments {
		qs = append(qs, listQuery{"Department", onlyActive, &l.departments})
	}
	return qs
}

func (l *lists) accountList() []connectors.Account {
	out := make([]connectors.Account, 0, len(l.accounts))
	for _, a := range l.accounts {
		out = append(out, connectors.Account{
			ID: a.ID, Code: a.AcctNum, Name: a.FullyQualifiedName, Type: a.AccountType, Class: a.Classification, Status: status(a.Active),
			Bank:   a.AccountType == "Bank",
			System: a.AccountType == "Accounts Receivable" || a.AccountType == "Accounts Payable",
			// Deposits and refunds take Bank or Other Current Asset
			// accounts (§2.2 SalesReceipt/RefundReceipt DepositToAccountRef).
			EnablePayments: a.AccountType == "Bank" || a.AccountType == "Other Current Asset",
			Currency:       a.CurrencyRef.Value,
		})
	}
	return out
}

// taxRateList gives each tax code the sum of its rates: its sales rates,
// or its purchase rates when it has no sales rates.
func (l *lists) taxRateList() ([]connectors.TaxRate, error) {
	rateOf := map[string]string{}
	for _, r := range l.taxRates {
		rateOf[r.ID] = r.RateValue.String()
	}
	out := make([]connectors.TaxRate, 0, len(l.taxCodes))
	for _, tc := range l.taxCodes {
		list := tc.SalesTaxRateList.TaxRateDetail
		if len(list) == 0 {
			list = tc.PurchaseTaxRateList.TaxRateDetail
		}
		ids := make([]string, len(list))
		for i, r := range list {
			ids[i] = r.TaxRateRef.Value
		}
		rate, err := sumRates(ids, rateOf)
		if err != nil {
			return nil, &connectors.Error{Class: connectors.Fatal, Message: "qbo: tax code " + tc.ID + ": " + err.Error()}
		}
		out = append(out, connectors.TaxRate{ID: tc.ID, Name: tc.Name, Status: status(tc.Active), Rate: rate})
	}
	return out, nil
}

// contacts are the customers, then the vendors. A customer and a vendor
// with the same name stay two contacts: they are separate entities with
// their own ids, and a document names one or the other (§2.2).
func (l *lists) contacts() []connectors.Contact {
	out := make([]connectors.Contact, 0, len(l.customers)+len(l.vendors))
	for _, n := range l.customers {
		out = append(out, connectors.Contact{ID: n.ID, Name: n.DisplayName, Customer: true})
	}
	for _, n := range l.vendors {
		out = append(out, connectors.Contact{ID: n.ID, Name: n.DisplayName, Supplier: true})
	}
	return out
}

// tracking is Class and Department, each when the company tracks it,
// with its active options by full name ("Parent:Child", as accounts);
// Push reads documents' tracking by the same category ids (tracking.go).
func (l *lists) tracking(p preferences) []connectors.TrackingCategory {
	var out []connectors.TrackingCategory
	if p.tracksClasses() {
		out = append(out, connectors.TrackingCategory{ID: classCategory, Name: "Class", Options: options(l.classes)})
	}
	if p.AccountingInfoPrefs.TrackDepartments {
		out = append(out, connectors.TrackingCategory{ID: departmentCategory, Name: p.departmentName(), Options: options(l.departments)})
	}
	return out
}

func options(rows []trackingRow) []connectors.Option {
	out := make([]connectors.Option, 0, len(rows))
	for _, r := range rows {
		out = append(out, connectors.Option{ID: r.ID, Name: fullName(r.FullyQualifiedName, r.Name)})
	}
	return out
}

// itemList is the items a sales line may name, with the income account
// each posts to (§2.2). Categories only group items and cannot be sold
// (not in the reference), so they are left out.
func (l *lists) itemList() []connectors.Item {
	out := make([]connectors.Item, 0, len(l.items))
	for _, it := range l.items {
		if it.Type == "Category" {
			continue
		}
		out = append(out, connectors.Item{ID: it.ID, Name: fullName(it.FullyQualifiedName, it.Name), IncomeAccountID: it.IncomeAccountRef.Value})
	}
	return out
}

func fullName(fq, name string) string {
	if fq != "" {
		return fq
	}
	return name
}

func status(active bool) string {
	if active {
		return "ACTIVE"
	}
	return "INACTIVE"
}
