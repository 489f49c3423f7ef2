package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultAccountID is the default account (a sandbox account id, §4.1:
// "sandbox `1234567-sb1`", realm "1234567_SB1").
const DefaultAccountID = "1234567_SB1"

// Ids in the default company. Account, subsidiary, currency, department,
// class and location ids 58, 4, 61, 1, 5, 3 and 2 are those of the
// reference's journal entry example (§4.2), so that example is accepted
// as it stands.
const (
	DefaultSubsidiaryID = "1"

	CurrencyUSD = "1" // base currency of the default subsidiary
	CurrencyGBP = "2"
	CurrencyCAD = "3" // inactive: a currency that is not enabled
	CurrencyEUR = "4"
	CurrencyJPY = "5" // precision 0

	AccountBank             = "1"  // 1000 Bank, USD
	AccountReceivable       = "2"  // 1100 AcctRec
	AccountPayable          = "3"  // 2000 AcctPay
	AccountSales            = "4"  // 4000 Income
	AccountMerchandiseSales = "5"  // 4010 Income
	AccountServiceCharges   = "6"  // 4020 Income
	AccountRefunds          = "7"  // 4090 Income
	AccountFeeRefunds       = "8"  // 4900 OthIncome
	AccountInactive         = "9"  // 5000 COGS, inactive
	AccountBankFees         = "10" // 6100 Expense
	AccountRetainedEarnings = "11" // 3000 Equity
	AccountCardClearing     = "58" // 1200 OthCurrAsset
	AccountCashClearing     = "59" // 1210 OthCurrAsset
	AccountUnsettledSales   = "60" // 1220 OthCurrAsset
	AccountSalesTax         = "61" // 2200 OthCurrLiab
	AccountTips             = "62" // 2210 OthCurrLiab
	AccountGiftCards        = "63" // 2220 OthCurrLiab

	RoleIntegration   = "1001"
	RoleAdministrator = "3"

	DepartmentRetail = "5"
	ClassStore       = "3"
	LocationMain     = "2"

	// Customer 220 is the entity of the reference's invoice example and
	// customer 4 that of its customer payment example (§4.2). Vendor ids
	// differ from customer ids because NetSuite's customers and vendors
	// are entity records sharing one id space (not in the reference).
	CustomerCommerceProvider = "220" // "Commerce provider": the daily invoice's customer
	CustomerWalkIn           = "4"
	VendorCommerceProvider   = "221" // "Commerce provider": the fee bills' vendor
	VendorPackaging          = "222"
)

// firstJournalID is the first internal id given to a journal entry.
const firstJournalID = 1001

// Company is a seedable NetSuite account: subsidiaries, currencies, chart
// of accounts, accounting periods and segments (§4.3), customers and
// vendors (the entities of invoices and vendor bills, §4.2).
type Company struct {
	// AccountID is the account id ("1234567" or "1234567_SB1").
	AccountID string
	Name      string
	// MultiCurrency is the Multiple Currencies feature (§4.7).
	MultiCurrency bool
	// Concurrency overrides the server's concurrency limit for this
	// account (§4.6); 0 keeps the server's.
	Concurrency  int
	Subsidiaries []Subsidiary
	Currencies   []Currency
	Accounts     []Account
	Periods      []Period
	Departments  []Segment
	Classes      []Segment
	Locations    []Segment
	// Disabled lists the record types whose feature the account has turned
	// off (department, classification, location): SuiteQL then knows no
	// such record, as it knows no misspelt one, and a journal entry or
	// line naming one is refused as an invalid field value. How NetSuite
	// answers either is not in the reference.
	Disabled []string
	// Customers and Vendors are entity records (record types customer,
	// §4.7, and vendor, not in the reference).
	Customers []Entity
	Vendors   []Entity
	// Roles offered on the consent page; the first is preselected.
	Roles []Role
}

// Subsidiary is a OneWorld subsidiary; Currency is its base currency's id.
type Subsidiary struct {
	ID, Name, Currency, Parent string
	Inactive, Elimination      bool
}

// Currency is a currency record; Symbol is the ISO code.
type Currency struct {
	ID, Symbol, Name string
	// Precision is the number of decimal places (§4.7, usually 2).
	Precision int
	Inactive  bool
}

// Account is a chart-of-accounts entry (§4.3: acctNumber, acctName,
// acctType, isInactive, currency, subsidiary).
type Account struct {
	ID, Number, Name string
	// Type is acctType: Bank, AcctRec, OthCurrAsset, FixedAsset, OthAsset,
	// AcctPay, CredCard, OthCurrLiab, LongTermLiab, Equity, Income, COGS,
	// Expense, OthIncome, OthExpense (§4.3).
	Type     string
	Inactive bool
	// Currency is the account's currency id (bank accounts); "" = any.
	Currency string
	// Subsidiaries restricts the account; empty = every subsidiary.
	Subsidiaries []string
}

// Period is an accounting period (§4.3 "closed/locked flags"). Start and
// End are YYYY-MM-DD.
type Period struct {
	ID, Name, Start, End string
	// Summary marks quarters and years, which take no postings.
	Summary                               bool
	Closed, AllLocked, ARLocked, APLocked bool
}

// Segment is a department, class or location.
type Segment struct {
	ID, Name string
	Inactive bool
}

// Entity is a customer or vendor record. The fields are NetSuite's
// (entityId, companyName, isInactive, subsidiary, currency on the record;
// entityid, altname, companyname, isinactive, subsidiary, currency in
// SuiteQL); none is in the reference beyond the entity id references of
// §4.2's examples.
type Entity struct {
	ID string
	// EntityID is the entity's name or auto-generated number; "" = Name.
	EntityID string
	// Name is the company name.
	Name string
	// Subsidiary is the primary subsidiary's id and Currency the primary
	// currency's; "" = the first subsidiary and its currency.
	Subsidiary, Currency string
	Inactive             bool
}

// Journal is a stored journal entry, for tests to read back.
type Journal struct {
	ID, ExternalID string
	TranDate       string // YYYY-MM-DD
	PostingPeriod  string // period id
	Subsidiary     string
	Currency       string // currency id
	// ExchangeRate is the number text sent, "" when none was.
	ExchangeRate string
	Memo         string
	Lines        []JournalLine
	Created      time.Time
	Modified     time.Time
	// Updates counts upserts that changed an existing entry.
	Updates int
}

// JournalLine is one stored line; exactly one of Debit and Credit is
// non-zero (or both are zero).
type JournalLine struct {
	Account                             string
	Debit, Credit                       decimal.Decimal
	Memo                                string
	Entity, Department, Class, Location string
}

// DefaultCompany is a US OneWorld account with one subsidiary whose chart
// covers what a daily commerce summary posts to:
//
//	id  number name                          acctType
//	1   1000   Operating Bank Account         Bank (USD)
//	2   1100   Accounts Receivable            AcctRec (lines need an entity)
//	58  1200   Card Clearing                  OthCurrAsset
//	59  1210   Cash Clearing                  OthCurrAsset
//	60  1220   Unsettled Sales                OthCurrAsset
//	3   2000   Accounts Payable               AcctPay (lines need an entity)
//	61  2200   Sales Tax Payable              OthCurrLiab
//	62  2210   Tips Payable                   OthCurrLiab
//	63  2220   Gift Card Liability            OthCurrLiab
//	11  3000   Retained Earnings              Equity
//	4   4000   Sales                          Income
//	5   4010   Merchandise Sales              Income
//	6   4020   Service Charges                Income
//	7   4090   Sales Refunds and Discounts    Income
//	8   4900   Payment Fee Refunds            OthIncome
//	9   5000   Cost of Goods Sold             COGS (inactive)
//	10  6100   Bank Fees                      Expense
//
// Subsidiary 1 "Commerce Demo Inc." with base currency USD (id 1).
// Currencies: 1 USD, 2 GBP, 3 CAD (inactive), 4 EUR (2 dp), 5 JPY (0 dp);
// Multiple Currencies on. Monthly posting periods Jan 2020 – Dec 2030
// (ids from 1) under yearly summary periods, none closed or locked.
// Department 5 Retail, class 3 Store, location 2 Main Street. Customers
// 220 Commerce provider and 4 Walk-in Customers; vendors 221 Commerce
// provider and 222 Packaging Supplies Inc. Roles:
// 1001 Commerce Integration (preselected on the consent page; may not post
// into locked periods) and 3 Administrator (may override period locks).
func DefaultCompany() Company {
	a := func(id, num, name, typ string) Account { return Account{ID: id, Number: num, Name: name, Type: typ} }
	bank := a(AccountBank, "1000", "Operating Bank Account", "Bank")
	bank.Currency = CurrencyUSD
	cogs := a(AccountInactive, "5000", "Cost of Goods Sold", "COGS")
	cogs.Inactive = true
	return Company{
		AccountID:     DefaultAccountID,
		Name:          "Commerce Demo Inc.",
		MultiCurrency: true,
		Subsidiaries:  []Subsidiary{{ID: DefaultSubsidiaryID, Name: "Commerce Demo Inc.", Currency: CurrencyUSD}},
		Currencies: []Currency{
			{ID: CurrencyUSD, Symbol: "USD", Name: "US Dollar", Precision: 2},
			{ID: CurrencyGBP, Symbol: "GBP", Name: "British pound", Precision: 2},
			{ID: CurrencyCAD, Symbol: "CAD", Name: "Canadian Dollar", Precision: 2, Inactive: true},
			{ID: CurrencyEUR, Symbol: "EUR", Name: "Euro", Precision: 2},
			{ID: CurrencyJPY, Symbol: "JPY", Name: "Yen", Precision: 0},
		},
		Accounts: []Account{
			bank,
			a(AccountReceivable, "1100", "Accounts Receivable", "AcctRec"),
			a(AccountCardClearing, "1200", "Card Clearing", "OthCurrAsset"),
			a(AccountCashClearing, "1210", "Cash Clearing", "OthCurrAsset"),
			a(AccountUnsettledSales, "1220", "Unsettled Sales", "OthCurrAsset"),
			a(AccountPayable, "2000", "Accounts Payable", "AcctPay"),
			a(AccountSalesTax, "2200", "Sales Tax Payable", "OthCurrLiab"),
			a(AccountTips, "2210", "Tips Payable", "OthCurrLiab"),
			a(AccountGiftCards, "2220", "Gift Card Liability", "OthCurrLiab"),
			a(AccountRetainedEarnings, "3000", "Retained Earnings", "Equity"),
			a(AccountSales, "4000", "Sales", "Income"),
			a(AccountMerchandiseSales, "4010", "Merchandise Sales", "Income"),
			a(AccountServiceCharges, "4020", "Service Charges", "Income"),
			a(AccountRefunds, "4090", "Sales Refunds and Discounts", "Income"),
			a(AccountFeeRefunds, "4900", "Payment Fee Refunds", "OthIncome"),
			cogs,
			a(AccountBankFees, "6100", "Bank Fees", "Expense"),
		},
		Periods:     MonthlyPeriods(2020, 2030),
		Departments: []Segment{{ID: DepartmentRetail, Name: "Retail"}},
		Classes:     []Segment{{ID: ClassStore, Name: "Store"}},
		Locations:   []Segment{{ID: LocationMain, Name: "Main Street"}},
		Customers: []Entity{
			{ID: CustomerCommerceProvider, Name: "Commerce provider"},
			{ID: CustomerWalkIn, Name: "Walk-in Customers"},
		},
		Vendors: []Entity{
			{ID: VendorCommerceProvider, Name: "Commerce provider"},
			{ID: VendorPackaging, Name: "Packaging Supplies Inc."},
		},
		Roles: []Role{
			{ID: RoleIntegration, Name: "Commerce Integration"},
			{ID: RoleAdministrator, Name: "Administrator", OverridePeriodRestrictions: true},
		},
	}
}

// MonthlyPeriods returns monthly posting periods for the years from..to,
// each year preceded by its summary period, with ids 1, 2, ….
func MonthlyPeriods(from, to int) []Period {
	var out []Period
	id := 1
	next := func() string { s := strconv.Itoa(id); id++; return s }
	for y := from; y <= to; y++ {
		out = append(out, Period{ID: next(), Name: fmt.Sprintf("FY %d", y), Start: fmt.Sprintf("%d-01-01", y), End: fmt.Sprintf("%d-12-31", y), Summary: true})
		for m := time.January; m <= time.December; m++ {
			first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			last := first.AddDate(0, 1, -1)
			out = append(out, Period{ID: next(), Name: first.Format("Jan 2006"), Start: first.Format(time.DateOnly), End: last.Format(time.DateOnly)})
		}
	}
	return out
}

// normalise fills what seeds may leave out.
func (c *Company) normalise() {
	if c.Name == "" {
		c.Name = c.AccountID
	}
	if len(c.Currencies) == 0 {
		c.Currencies = []Currency{{ID: CurrencyUSD, Symbol: "USD", Name: "US Dollar", Precision: 2}}
	}
	if len(c.Subsidiaries) == 0 {
		c.Subsidiaries = []Subsidiary{{ID: DefaultSubsidiaryID, Name: c.Name, Currency: c.Currencies[0].ID}}
	}
	if len(c.Roles) == 0 {
		c.Roles = []Role{{ID: "3", Name: "Administrator", OverridePeriodRestrictions: true}}
	}
	// A seed without customers or vendors keeps none, as an account may.
	c.Customers, c.Vendors = c.fillEntities(c.Customers), c.fillEntities(c.Vendors)
}

// fillEntities gives entities' blanks the account's defaults, on a copy:
// the seed's slice belongs to the caller.
func (c *Company) fillEntities(list []Entity) []Entity {
	out := slices.Clone(list)
	for i := range out {
		e := &out[i]
		if e.EntityID == "" {
			e.EntityID = e.Name
		}
		if e.Subsidiary == "" {
			e.Subsidiary = c.Subsidiaries[0].ID
		}
		if e.Currency == "" {
			if sub := findSubsidiary(c.Subsidiaries, e.Subsidiary); sub != nil {
				e.Currency = sub.Currency
			} else {
				e.Currency = c.Currencies[0].ID
			}
		}
	}
	return out
}

func findSubsidiary(subs []Subsidiary, id string) *Subsidiary {
	for i := range subs {
		if subs[i].ID == id {
			return &subs[i]
		}
	}
	return nil
}

func (c Company) clone() Company {
	c.Subsidiaries = slices.Clone(c.Subsidiaries)
	c.Currencies = slices.Clone(c.Currencies)
	c.Accounts = slices.Clone(c.Accounts)
	for i := range c.Accounts {
		c.Accounts[i].Subsidiaries = cloneStrings(c.Accounts[i].Subsidiaries)
	}
	c.Periods = slices.Clone(c.Periods)
	c.Departments = slices.Clone(c.Departments)
	c.Classes = slices.Clone(c.Classes)
	c.Locations = slices.Clone(c.Locations)
	c.Disabled = slices.Clone(c.Disabled)
	c.Customers = slices.Clone(c.Customers)
	c.Vendors = slices.Clone(c.Vendors)
	c.Roles = slices.Clone(c.Roles)
	return c
}

func (j *Journal) clone() Journal {
	c := *j
	c.Lines = slices.Clone(j.Lines)
	return c
}

// company is an account's live state. Guarded by Server.mu.
type company struct {
	Company
	journals []*Journal
	nextID   int
	// inFlight counts admitted API calls; phantom holds the ends of calls
	// ExhaustConcurrency pretends are running.
	inFlight int
	phantom  []time.Time
	jobs     map[string]*job
	idemKeys map[string]string // X-NetSuite-Idempotency-Key -> job id
	nextJob  int
}

func (co *company) account(id string) *Account {
	for i := range co.Accounts {
		if co.Accounts[i].ID == id {
			return &co.Accounts[i]
		}
	}
	return nil
}

func (co *company) subsidiary(id string) *Subsidiary { return findSubsidiary(co.Subsidiaries, id) }

// entities are the customer or vendor records.
func (co *company) entities(recordType string) []Entity {
	if recordType == "vendor" {
		return co.Vendors
	}
	return co.Customers
}

func (co *company) currency(id string) *Currency {
	for i := range co.Currencies {
		if co.Currencies[i].ID == id {
			return &co.Currencies[i]
		}
	}
	return nil
}

func (co *company) period(id string) *Period {
	for i := range co.Periods {
		if co.Periods[i].ID == id {
			return &co.Periods[i]
		}
	}
	return nil
}

// postingPeriod is the posting period covering date, or nil.
func (co *company) postingPeriod(date string) *Period {
	for i := range co.Periods {
		p := &co.Periods[i]
		if !p.Summary && p.Start <= date && date <= p.End {
			return p
		}
	}
	return nil
}

func (co *company) journal(id string) *Journal {
	for _, j := range co.journals {
		if j.ID == id {
			return j
		}
	}
	return nil
}

func (co *company) byExternalID(ext string, r Rules) *Journal {
	for _, j := range co.journals {
		if j.ExternalID == "" {
			continue
		}
		if j.ExternalID == ext || (!r.ExternalIDCaseSensitive && strings.EqualFold(j.ExternalID, ext)) {
			return j
		}
	}
	return nil
}

func segmentActive(list []Segment, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return !s.Inactive
		}
	}
	return false
}
