package sandbox

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultTenantID is the default organisation's tenant id (the identity
// spec's example tenantId).
const DefaultTenantID = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"

// Organisation is a seedable Xero organisation: its settings, chart of
// accounts and tax rates (accounting-platform-apis.md §1.3).
type Organisation struct {
	TenantID     string
	Name         string
	LegalName    string
	ShortCode    string
	CountryCode  string
	Version      string
	BaseCurrency string
	Timezone     string
	// Lock dates as YYYY-MM-DD, "" for none. Documents dated on or before
	// them are refused (accounting-platform-apis.md §1.5, §6.4).
	PeriodLockDate    string
	EndOfYearLockDate string
	Currencies        []Currency
	Accounts          []Account
	TaxRates          []TaxRate
	Contacts          []Contact
	// TrackingCategories: at most 2 active categories (accounting-platform-apis.md §1.3).
	TrackingCategories []TrackingCategory
}

// TrackingCategory is a tracking category and its options; ids are derived
// from the tenant and names when empty.
type TrackingCategory struct {
	TrackingCategoryID, Name, Status string
	Options                          []TrackingOption
}

// TrackingOption is one option of a tracking category.
type TrackingOption struct {
	TrackingOptionID, Name, Status string
}

// Currency is an enabled currency (GET /Currencies).
type Currency struct {
	Code, Description string
}

// Account is a chart-of-accounts entry with the fields of the spec's
// Account schema that matter to journals.
type Account struct {
	AccountID string // derived from tenant and code when empty
	Code      string
	Name      string
	// Type is an AccountType (BANK, CURRENT, CURRLIAB, SALES, ...).
	Type string
	// Class is derived from Type when empty.
	Class string
	// Status is ACTIVE (default), ARCHIVED or DELETED.
	Status                  string
	TaxType                 string
	SystemAccount           string // DEBTORS, CREDITORS, ROUNDING, ... or ""
	BankAccountType         string
	BankAccountNumber       string
	CurrencyCode            string
	Description             string
	EnablePaymentsToAccount bool
}

// TaxRate is a tax rate (GET /TaxRates); Rate is a decimal percentage.
type TaxRate struct {
	Name          string
	TaxType       string
	Status        string
	ReportTaxType string
	Rate          string
}

// Journal is a stored manual journal, for tests to read back.
type Journal struct {
	ID              string
	Narration       string
	Date            string // YYYY-MM-DD
	Status          string
	LineAmountTypes string
	URL             string
	ShowOnCashBasis bool
	Lines           []JournalLine
	Warnings        []string
	Updated         time.Time
}

// JournalLine is one stored line; Amount is exact (+ debit, - credit).
type JournalLine struct {
	AccountID   string
	AccountCode string
	Description string
	TaxType     string
	Amount      decimal.Decimal
	Tracking    []LineTracking
}

// LineTracking is the tracking option a line carries in one category.
type LineTracking struct {
	CategoryID, OptionID, Category, Option string
}

// DefaultOrganisation is a US demo company whose chart covers what a
// daily commerce summary posts to:
//
//	090 BANK      Business Bank Account       (bank: refused by journals)
//	091 BANK      Business Savings Account    (bank)
//	200 SALES     Sales
//	210 SALES     Sales refunds
//	220 SALES     Discounts given
//	230 SALES     Service charges
//	260 OTHERINCOME Other Revenue
//	310 DIRECTCOSTS Cost of Goods Sold        (ARCHIVED)
//	404 EXPENSE   Bank Fees                   (payment fees)
//	405 OTHERINCOME Payment fee refunds
//	610 CURRENT   Card clearing               (EnablePaymentsToAccount)
//	611 CURRENT   Cash clearing               (EnablePaymentsToAccount)
//	612 CURRENT   Unsettled sales
//	620 CURRENT   Accounts Receivable         (system DEBTORS)
//	630 INVENTORY Inventory                   (inventory: refused by journals)
//	800 CURRLIAB  Accounts Payable            (system CREDITORS)
//	801 CURRLIAB  Tips payable
//	802 CURRLIAB  Gift card liability
//	820 CURRLIAB  Sales Tax
//	860 CURRLIAB  Rounding                    (system ROUNDING)
//	960 EQUITY    Retained Earnings           (system RETAINEDEARNINGS)
//
// Base currency USD; currencies USD, EUR, GBP; no lock dates; tax rates
// NONE (0%), OUTPUT and INPUT (8.5%).
func DefaultOrganisation() Organisation {
	acct := func(code, name, typ string) Account { return Account{Code: code, Name: name, Type: typ} }
	bank := func(code, name, number string) Account {
		a := acct(code, name, "BANK")
		a.BankAccountType, a.BankAccountNumber, a.CurrencyCode, a.TaxType = "BANK", number, "USD", "NONE"
		return a
	}
	system := func(code, name, typ, sys string) Account {
		a := acct(code, name, typ)
		a.SystemAccount = sys
		return a
	}
	payable := func(a Account) Account { a.EnablePaymentsToAccount = true; return a }
	archived := func(a Account) Account { a.Status = "ARCHIVED"; return a }
	taxed := func(a Account, tt string) Account { a.TaxType = tt; return a }
	return Organisation{
		TenantID:     DefaultTenantID,
		Name:         "Demo Company (US)",
		LegalName:    "Demo Company (US) Inc.",
		ShortCode:    "!sbx01",
		CountryCode:  "US",
		Version:      "US",
		BaseCurrency: "USD",
		Timezone:     "EASTERNSTANDARDTIME",
		Currencies: []Currency{
			{Code: "USD", Description: "United States Dollar"},
			{Code: "EUR", Description: "Euro"},
			{Code: "GBP", Description: "British Pound"},
		},
		Accounts: []Account{
			bank("090", "Business Bank Account", "121000000001"),
			bank("091", "Business Savings Account", "121000000002"),
			taxed(acct("200", "Sales", "SALES"), "OUTPUT"),
			taxed(acct("210", "Sales refunds", "SALES"), "OUTPUT"),
			taxed(acct("220", "Discounts given", "SALES"), "OUTPUT"),
			taxed(acct("230", "Service charges", "SALES"), "OUTPUT"),
			acct("260", "Other Revenue", "OTHERINCOME"),
			archived(acct("310", "Cost of Goods Sold", "DIRECTCOSTS")),
			taxed(acct("404", "Bank Fees", "EXPENSE"), "NONE"),
			acct("405", "Payment fee refunds", "OTHERINCOME"),
			payable(acct("610", "Card clearing", "CURRENT")),
			payable(acct("611", "Cash clearing", "CURRENT")),
			payable(acct("612", "Unsettled sales", "CURRENT")),
			system("620", "Accounts Receivable", "CURRENT", "DEBTORS"),
			acct("630", "Inventory", "INVENTORY"),
			system("800", "Accounts Payable", "CURRLIAB", "CREDITORS"),
			acct("801", "Tips payable", "CURRLIAB"),
			acct("802", "Gift card liability", "CURRLIAB"),
			acct("820", "Sales Tax", "CURRLIAB"),
			system("860", "Rounding", "CURRLIAB", "ROUNDING"),
			system("960", "Retained Earnings", "EQUITY", "RETAINEDEARNINGS"),
		},
		TaxRates: []TaxRate{
			{Name: "Tax Exempt", TaxType: "NONE", ReportTaxType: "NONE", Rate: "0.0000"},
			{Name: "Tax on Sales", TaxType: "OUTPUT", ReportTaxType: "OUTPUT", Rate: "8.5000"},
			{Name: "Tax on Purchases", TaxType: "INPUT", ReportTaxType: "INPUT", Rate: "8.5000"},
		},
		// The commerce provider is both the customer of the daily sales
		// invoice and the supplier of the fees bill (codat-sync-for-commerce.md §3.1).
		Contacts: []Contact{
			{Name: "Commerce provider", IsCustomer: true, IsSupplier: true},
			{Name: "Walk-in customers", IsCustomer: true},
		},
		TrackingCategories: []TrackingCategory{
			{Name: "Region", Options: []TrackingOption{{Name: "North"}, {Name: "South"}, {Name: "Closed shop", Status: "ARCHIVED"}}},
			{Name: "Channel", Options: []TrackingOption{{Name: "In store"}, {Name: "Online"}}},
			{Name: "Old campaign", Status: "ARCHIVED", Options: []TrackingOption{{Name: "Spring"}}},
		},
	}
}

// accountClass maps AccountType to Class (spec Account.Class / AccountType).
var accountClass = map[string]string{
	"BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET",
	"NONCURRENT": "ASSET", "PREPAYMENT": "ASSET",
	"CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
	"PAYGLIABILITY": "LIABILITY", "SUPERANNUATIONLIABILITY": "LIABILITY", "WAGESPAYABLELIABILITY": "LIABILITY",
	"EQUITY":     "EQUITY",
	"DEPRECIATN": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE",
	"SUPERANNUATIONEXPENSE": "EXPENSE", "WAGESEXPENSE": "EXPENSE",
	"OTHERINCOME": "REVENUE", "REVENUE": "REVENUE", "SALES": "REVENUE",
}

// normalise fills derived fields so seeds can stay short.
func (o *Organisation) normalise() {
	if o.LegalName == "" {
		o.LegalName = o.Name
	}
	if o.BaseCurrency == "" {
		o.BaseCurrency = "USD"
	}
	if len(o.Currencies) == 0 {
		o.Currencies = []Currency{{Code: o.BaseCurrency}}
	}
	for i := range o.Accounts {
		a := &o.Accounts[i]
		if a.AccountID == "" {
			a.AccountID = nameUUID("account", o.TenantID, a.Code)
		}
		if a.Class == "" {
			a.Class = accountClass[a.Type]
		}
		if a.Status == "" {
			a.Status = "ACTIVE"
		}
	}
	for i := range o.TrackingCategories {
		tc := &o.TrackingCategories[i]
		if tc.TrackingCategoryID == "" {
			tc.TrackingCategoryID = nameUUID("tracking", o.TenantID, tc.Name)
		}
		if tc.Status == "" {
			tc.Status = "ACTIVE"
		}
		for j := range tc.Options {
			op := &tc.Options[j]
			if op.TrackingOptionID == "" {
				op.TrackingOptionID = nameUUID("tracking-option", o.TenantID, tc.Name, op.Name)
			}
			if op.Status == "" {
				op.Status = "ACTIVE"
			}
		}
	}
	for i := range o.Contacts {
		if o.Contacts[i].ContactID == "" {
			o.Contacts[i].ContactID = nameUUID("contact", o.TenantID, o.Contacts[i].Name)
		}
	}
	for i := range o.TaxRates {
		if o.TaxRates[i].Status == "" {
			o.TaxRates[i].Status = "ACTIVE"
		}
	}
}

func (o Organisation) clone() Organisation {
	o.Currencies = slices.Clone(o.Currencies)
	o.Accounts = slices.Clone(o.Accounts)
	o.TaxRates = slices.Clone(o.TaxRates)
	o.Contacts = slices.Clone(o.Contacts)
	o.TrackingCategories = slices.Clone(o.TrackingCategories)
	for i := range o.TrackingCategories {
		o.TrackingCategories[i].Options = slices.Clone(o.TrackingCategories[i].Options)
	}
	return o
}

func (j *Journal) clone() Journal {
	c := *j
	c.Lines = slices.Clone(j.Lines)
	c.Warnings = slices.Clone(j.Warnings)
	return c
}

// TenantID is the tenant id of the i-th organisation NumberedOrganisation
// makes: DefaultTenantID for 0, and ids of the same shape after it, so a
// client that knows how many a sandbox holds can pick one at consent.
func TenantID(i int) string {
	if i == 0 {
		return DefaultTenantID
	}
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
}

// NumberedOrganisation is DefaultOrganisation as the i-th of several, each
// with a tenant and its own limits: what a load of many merchants needs,
// since Xero counts its limits per organisation.
func NumberedOrganisation(i int) Organisation {
	o := DefaultOrganisation()
	if i > 0 {
		o.TenantID = TenantID(i)
		o.Name = fmt.Sprintf("Demo Company (US) %d", i)
		o.LegalName = fmt.Sprintf("Demo Company (US) %d Inc.", i)
		o.ShortCode = fmt.Sprintf("!%05d", i)
	}
	return o
}
