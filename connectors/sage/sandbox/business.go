package sandbox

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultBusinessID is the default business's id (the example id of
// GET /businesses, apis.md §3.1).
const DefaultBusinessID = "0d40342d0287cd6b13555c54afca6c90"

// Business is a seedable Sage business: its financial settings, chart of
// accounts, tax rates, contacts and analysis types (apis.md §3.3).
type Business struct {
	ID   string
	Name string
	// Country is the ISO country of registration, returned as country= on
	// the OAuth redirect for the lead business (apis.md §3.1).
	Country string
	// Lead marks the user's lead business, the one calls without X-Business
	// use (apis.md §3.1). Without any, the first seeded business leads.
	Lead bool
	// StartTier marks an Accounting Start subscription, which has no
	// analysis types (spec getAnalysisTypes "Endpoint Availability":
	// Accounting Plus and Standard only).
	StartTier bool

	// Financial settings (apis.md §3.3 GET /financial_settings; spec
	// FinancialSettings). Dates are YYYY-MM-DD or "".
	BaseCurrency         string
	MultiCurrencyEnabled bool
	// ExchangeRates are the foreign currencies the business trades in
	// (GET /business_exchange_rates, apis.md §3.7), code → rate. They are
	// listed whether or not MultiCurrencyEnabled is set: the reference does
	// not say that Sage hides them when multi-currency is off.
	ExchangeRates       map[string]string
	YearEndDate         string
	YearEndLockdownDate string
	AccountsStartDate   string
	AccountingType      string // accrual | cash

	LedgerAccounts []LedgerAccount
	TaxRates       []TaxRate
	Contacts       []Contact
	AnalysisTypes  []AnalysisType
}

// LedgerAccount is a chart entry with the fields of the spec's
// LedgerAccount schema that journals and the connector use.
type LedgerAccount struct {
	// ID is derived from the business and nominal code when empty.
	ID          string
	NominalCode int
	Name        string
	// TypeID is a ledger account type id (SALES, OTHER_INCOME,
	// DIRECT_EXPENSES, OVERHEADS, DEPRECIATION, CURRENT_ASSETS,
	// FIXED_ASSETS, FUTURE_ASSETS, BANK, CURRENT_LIABILITY,
	// FUTURE_LIABILITY, EQUITY, LINE_OF_CREDIT).
	TypeID string
	// TaxRateID is the account's default tax rate ("" for none).
	TaxRateID    string
	FixedTaxRate bool
	// Inactive accounts are not included in the chart of accounts
	// (spec LedgerAccount.included_in_chart = false); the spec has no other
	// status for a ledger account.
	Inactive         bool
	IsControlAccount bool
	// ControlName identifies a control account's role; the values used by
	// DefaultBusiness are illustrative (not in the reference).
	ControlName string
	// NotInJournals hides the account from the journals area
	// (visible_in_journals = false).
	NotInJournals bool
}

// TaxRate is a tax rate (GET /tax_rates); Percentage is a decimal string.
type TaxRate struct {
	ID, Name   string
	Percentage string
	Hidden     bool // is_visible = false
}

// Journal is a stored journal, for tests to read back.
type Journal struct {
	ID            string
	TransactionID string
	Date          string // YYYY-MM-DD
	Reference     string
	Description   string
	IdempotencyID string
	Total         decimal.Decimal
	Lines         []JournalLine
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// DeletedAt is set by DELETE /journals/{key}; deleted journals are no
	// longer listed.
	DeletedAt time.Time
}

// JournalLine is one stored line with exact amounts.
type JournalLine struct {
	ID                 string
	LedgerAccountID    string
	Details            string
	Debit, Credit      decimal.Decimal
	IncludeOnTaxReturn bool
	// Analysis are the analysis type categories the line carried, in the
	// order sent.
	Analysis []LineAnalysis
}

// LineAnalysis is one analysis type category on a stored line, with the
// names it had when the line was created.
type LineAnalysis struct {
	AnalysisTypeID, AnalysisType string
	CategoryID, Category         string
}

// DefaultBusiness is a UK business trading in GBP whose chart covers what
// a daily commerce summary posts to (UK nominal codes):
//
//	1100 CURRENT_ASSETS    Trade Debtors            (control account)
//	1110 CURRENT_ASSETS    Card clearing
//	1120 CURRENT_ASSETS    Cash clearing
//	1130 CURRENT_ASSETS    Unsettled sales
//	1200 BANK              Bank Current Account
//	2100 CURRENT_LIABILITY Trade Creditors          (control account)
//	2200 CURRENT_LIABILITY Sales Tax Control Account (control account)
//	2210 CURRENT_LIABILITY Tips payable
//	2220 CURRENT_LIABILITY Gift card liability
//	4000 SALES             Sales - Products         (GB_STANDARD)
//	4010 SALES             Sales - Services         (GB_STANDARD)
//	4020 SALES             Service charges          (GB_STANDARD)
//	4030 SALES             Discounts and refunds    (GB_STANDARD)
//	4900 OTHER_INCOME      Payment fee refunds      (GB_EXEMPT)
//	5000 DIRECT_EXPENSES   Cost of sales - goods    (inactive: not in the chart)
//	7900 OVERHEADS         Bank charges and interest (GB_EXEMPT)
//
// Ids are derived from the business id and nominal code (LedgerAccountID).
// Multi-currency is on with USD and EUR; JPY is not enabled. No lock date.
// Tax rates GB_STANDARD 20%, GB_LOWER 5%, GB_ZERO, GB_EXEMPT, GB_NO_TAX.
//
// One contact, "Commerce provider" (reference COMMERCE), both customer and
// vendor, so invoice mode can sell to it and buy its fees from it.
//
// Analysis types (ids from AnalysisTypeID and AnalysisTypeCategoryID), named
// after the defaults Sage's knowledgebase lists (not in the reference):
//
//	Department     TRANSACTION  Online store, Retail shop
//	Cost centre    TRANSACTION  London, Manchester
//	Project        TRANSACTION  Website relaunch   (deactivated)
//	Customer group GROUP        Wholesale
func DefaultBusiness() Business {
	acct := func(code int, name, typ, tax string) LedgerAccount {
		return LedgerAccount{NominalCode: code, Name: name, TypeID: typ, TaxRateID: tax}
	}
	control := func(a LedgerAccount, name string) LedgerAccount {
		a.IsControlAccount, a.ControlName = true, name
		return a
	}
	inactive := func(a LedgerAccount) LedgerAccount { a.Inactive = true; return a }
	return Business{
		ID:                   DefaultBusinessID,
		Name:                 "Business One",
		Country:              "GB",
		BaseCurrency:         "GBP",
		MultiCurrencyEnabled: true,
		ExchangeRates:        map[string]string{"USD": "1.2700", "EUR": "1.1700"},
		YearEndDate:          "2027-03-31",
		AccountsStartDate:    "2024-04-01",
		AccountingType:       "accrual",
		LedgerAccounts: []LedgerAccount{
			control(acct(1100, "Trade Debtors", "CURRENT_ASSETS", ""), "TRADE_DEBTORS"),
			acct(1110, "Card clearing", "CURRENT_ASSETS", ""),
			acct(1120, "Cash clearing", "CURRENT_ASSETS", ""),
			acct(1130, "Unsettled sales", "CURRENT_ASSETS", ""),
			acct(1200, "Bank Current Account", "BANK", ""),
			control(acct(2100, "Trade Creditors", "CURRENT_LIABILITY", ""), "TRADE_CREDITORS"),
			control(acct(2200, "Sales Tax Control Account", "CURRENT_LIABILITY", ""), "SALES_TAX"),
			acct(2210, "Tips payable", "CURRENT_LIABILITY", ""),
			acct(2220, "Gift card liability", "CURRENT_LIABILITY", ""),
			acct(4000, "Sales - Products", "SALES", "GB_STANDARD"),
			acct(4010, "Sales - Services", "SALES", "GB_STANDARD"),
			acct(4020, "Service charges", "SALES", "GB_STANDARD"),
			acct(4030, "Discounts and refunds", "SALES", "GB_STANDARD"),
			acct(4900, "Payment fee refunds", "OTHER_INCOME", "GB_EXEMPT"),
			inactive(acct(5000, "Cost of sales - goods", "DIRECT_EXPENSES", "GB_STANDARD")),
			acct(7900, "Bank charges and interest", "OVERHEADS", "GB_EXEMPT"),
		},
		TaxRates: []TaxRate{
			{ID: "GB_STANDARD", Name: "Standard 20.00%", Percentage: "20.0"},
			{ID: "GB_LOWER", Name: "Lower 5.00%", Percentage: "5.0"},
			{ID: "GB_ZERO", Name: "Zero 0.00%", Percentage: "0.0"},
			{ID: "GB_EXEMPT", Name: "Exempt", Percentage: "0.0"},
			{ID: "GB_NO_TAX", Name: "No Tax", Percentage: "0.0"},
		},
		Contacts: []Contact{{Name: "Commerce provider", Reference: "COMMERCE", Types: []string{ContactTypeCustomer, ContactTypeVendor}}},
		AnalysisTypes: []AnalysisType{
			{Name: "Department", Categories: []AnalysisTypeCategory{{Code: "ONLINE", Name: "Online store"}, {Code: "RETAIL", Name: "Retail shop"}}},
			{Name: "Cost centre", Categories: []AnalysisTypeCategory{{Code: "LON", Name: "London"}, {Code: "MAN", Name: "Manchester"}}},
			{Name: "Project", Deactivated: true, Categories: []AnalysisTypeCategory{{Code: "WEB", Name: "Website relaunch"}}},
			{Name: "Customer group", Level: AnalysisLevelGroup, Categories: []AnalysisTypeCategory{{Code: "WHOLESALE", Name: "Wholesale"}}},
		},
	}
}

// LedgerAccountID is the id the sandbox gives a seeded ledger account
// that has none, so tests can name accounts without reading them back.
func LedgerAccountID(businessID string, nominalCode int) string {
	return stableID("ledger_account", businessID, strconv.Itoa(nominalCode))
}

// typeNames are the displayed_as of the ledger account types.
var typeNames = map[string]string{
	"SALES": "Sales", "OTHER_INCOME": "Other Income", "DIRECT_EXPENSES": "Direct Expenses",
	"OVERHEADS": "Overheads", "DEPRECIATION": "Depreciation", "CURRENT_ASSETS": "Current Assets",
	"FIXED_ASSETS": "Fixed Assets", "FUTURE_ASSETS": "Future Assets", "BANK": "Bank",
	"CURRENT_LIABILITY": "Current Liability", "FUTURE_LIABILITY": "Future Liability",
	"EQUITY": "Equity", "LINE_OF_CREDIT": "Line of Credit",
}

// currencyNames are the currencies GET /currencies lists.
var currencyNames = map[string]string{
	"GBP": "Pound Sterling", "EUR": "Euro", "USD": "US Dollar", "CAD": "Canadian Dollar",
	"JPY": "Japanese Yen", "CHF": "Swiss Franc", "AUD": "Australian Dollar",
}

// normalise fills derived fields so seeds can stay short.
func (b *Business) normalise() {
	if b.Name == "" {
		b.Name = "Business"
	}
	if b.Country == "" {
		b.Country = "GB"
	}
	if b.BaseCurrency == "" {
		b.BaseCurrency = "GBP"
	}
	if b.AccountingType == "" {
		b.AccountingType = "accrual"
	}
	for i := range b.LedgerAccounts {
		a := &b.LedgerAccounts[i]
		if a.ID == "" {
			a.ID = LedgerAccountID(b.ID, a.NominalCode)
		}
	}
	for i := range b.Contacts {
		c := &b.Contacts[i]
		if c.ID == "" {
			c.ID = ContactID(b.ID, c.Name)
		}
		if len(c.Types) == 0 {
			c.Types = []string{ContactTypeCustomer}
		}
	}
	for i := range b.AnalysisTypes {
		t := &b.AnalysisTypes[i]
		if t.ID == "" {
			t.ID = AnalysisTypeID(b.ID, t.Name)
		}
		if t.Level == "" {
			t.Level = AnalysisLevelTransaction
		}
		for j := range t.Categories {
			if t.Categories[j].ID == "" {
				t.Categories[j].ID = AnalysisTypeCategoryID(b.ID, t.ID, t.Categories[j].Name)
			}
		}
	}
}

func (b Business) clone() Business {
	b.LedgerAccounts = slices.Clone(b.LedgerAccounts)
	b.TaxRates = slices.Clone(b.TaxRates)
	b.Contacts = slices.Clone(b.Contacts)
	for i := range b.Contacts {
		b.Contacts[i] = b.Contacts[i].clone()
	}
	b.AnalysisTypes = slices.Clone(b.AnalysisTypes)
	for i := range b.AnalysisTypes {
		b.AnalysisTypes[i] = b.AnalysisTypes[i].clone()
	}
	if b.ExchangeRates != nil {
		m := make(map[string]string, len(b.ExchangeRates))
		for k, v := range b.ExchangeRates {
			m[k] = v
		}
		b.ExchangeRates = m
	}
	return b
}

func (j *Journal) clone() Journal {
	c := *j
	c.Lines = slices.Clone(j.Lines)
	for i := range c.Lines {
		c.Lines[i].Analysis = slices.Clone(c.Lines[i].Analysis)
	}
	return c
}
