package sandbox

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultRealmID is the default company's realm id.
const DefaultRealmID = "9341455130166501"

// Company is a seedable QuickBooks Online company: its settings and
// lists (§2.3). Zero values are the common case: accounts, codes and
// currencies are active unless marked Inactive.
type Company struct {
	RealmID     string
	CompanyName string
	LegalName   string
	// Country is CompanyInfo.Country ("US", "GB", "CA", "AU", ...). Non-US
	// companies must send GlobalTaxCalculation (§2.2).
	Country string
	// TimeZone is an IANA zone; MetaData and "time" carry its offset (§2.7).
	TimeZone string
	// HomeCurrency is Preferences.CurrencyPrefs.HomeCurrency (§2.3).
	HomeCurrency string
	// MultiCurrencyEnabled is Preferences.CurrencyPrefs.MultiCurrencyEnabled.
	MultiCurrencyEnabled bool
	// Currencies are the CompanyCurrency list: the foreign currencies the
	// company has added (§2.3). Only active ones may be used, and only
	// with multicurrency on.
	Currencies []Currency
	// BookCloseDate is Preferences.AccountingInfoPrefs.BookCloseDate
	// (YYYY-MM-DD or ""); transactions dated on or before it are refused
	// with 6210 (§2.3, §2.5).
	BookCloseDate string
	// WarnDuplicateDocNumber refuses a second transaction with the same
	// DocNumber (6140; §2.4: "when the company preference for custom
	// transaction numbers / duplicate warnings is on").
	WarnDuplicateDocNumber bool
	Accounts               []Account
	TaxCodes               []TaxCode
	TaxRates               []TaxRate
	Customers              []Entity
	Vendors                []Entity
}

// Currency is one CompanyCurrency (Code, Name, Active; §2.3).
type Currency struct {
	Code, Name string
	Inactive   bool
}

// Account is a chart-of-accounts entry with the fields of §2.3.
type Account struct {
	ID      string
	Name    string
	AcctNum string
	// AccountType: Bank, Other Current Asset, Accounts Receivable, Income,
	// Other Income, Expense, Other Current Liability, Accounts Payable,
	// Credit Card, Cost of Goods Sold, Equity, ...
	AccountType    string
	AccountSubType string
	// Classification is derived from AccountType when empty.
	Classification string
	Inactive       bool
	// Currency defaults to the home currency (§2.7: "Accounts … each have
	// one currency").
	Currency  string
	TaxCodeID string
	ParentID  string
}

// TaxCode is a TaxCode (§2.3). SalesRates and PurchaseRates hold TaxRate
// ids; a code with no sales rates cannot be applied on Sales.
type TaxCode struct {
	ID, Name, Description string
	Inactive              bool
	Taxable               bool
	SalesRates            []string
	PurchaseRates         []string
}

// TaxRate is a TaxRate; RateValue is a decimal percentage ("8.5").
type TaxRate struct {
	ID, Name  string
	RateValue string
	AgencyID  string
	Inactive  bool
}

// Entity is a Customer or Vendor, referenced by A/R and A/P lines (§2.2).
type Entity struct {
	ID, DisplayName string
	Inactive        bool
}

// JournalEntry is a stored journal entry, for tests to read back.
type JournalEntry struct {
	ID, SyncToken        string
	TxnDate              string // YYYY-MM-DD
	DocNumber            string
	PrivateNote          string
	Currency             string
	ExchangeRate         string
	GlobalTaxCalculation string
	Adjustment           bool
	Lines                []JournalLine
	Created, Updated     time.Time
	// RequestID is the requestid the entry was created under, if any.
	RequestID string
}

// JournalLine is one stored line. Amount is exact and positive; the side
// is PostingType (§2.2).
type JournalLine struct {
	ID              string
	Description     string
	PostingType     string // Debit | Credit
	Amount          decimal.Decimal
	AccountID       string
	EntityType      string
	EntityID        string
	TaxCodeID       string
	TaxApplicableOn string
	TaxAmount       string
	ClassID         string
	DepartmentID    string
}

// Signed returns the amount as + debit, − credit.
func (l JournalLine) Signed() decimal.Decimal {
	if l.PostingType == "Credit" {
		return l.Amount.Neg()
	}
	return l.Amount
}

// Default account ids of DefaultCompany, for tests and harnesses.
const (
	AccountChecking        = "35"
	AccountCardClearing    = "87"
	AccountCashClearing    = "88"
	AccountUnsettled       = "89"
	AccountUndeposited     = "4"
	AccountReceivable      = "84"
	AccountPayable         = "33"
	AccountSalesTax        = "44"
	AccountTips            = "90"
	AccountGiftCards       = "91"
	AccountSales           = "79"
	AccountServiceCharges  = "80"
	AccountDiscounts       = "81"
	AccountRefunds         = "82"
	AccountFeeRefunds      = "83"
	AccountBankFees        = "54"
	AccountCostOfGoods     = "60"
	AccountRetainedEarning = "2"
	AccountInactive        = "92"
)

// DefaultCompany is a US company with multicurrency on whose chart covers
// what a daily commerce summary posts to (Id / AcctNum / AccountType):
//
//	35 1000 Bank                      Checking
//	87 1010 Other Current Asset       Card clearing
//	88 1020 Other Current Asset       Cash clearing
//	89 1030 Other Current Asset       Unsettled sales
//	 4 1040 Other Current Asset       Undeposited Funds
//	84 1100 Accounts Receivable       Accounts Receivable (A/R)   (needs a Customer)
//	33 2000 Accounts Payable          Accounts Payable (A/P)      (needs a Vendor)
//	44 2100 Other Current Liability   Sales Tax Payable
//	90 2200 Other Current Liability   Tips payable
//	91 2210 Other Current Liability   Gift card liability
//	 2 3000 Equity                    Retained Earnings
//	79 4000 Income                    Sales
//	80 4010 Income                    Service charges
//	81 4020 Income                    Discounts given
//	82 4030 Income                    Refunds
//	92 4090 Income                    Discontinued sales          (INACTIVE)
//	83 4100 Other Income              Payment fee refunds
//	60 5000 Cost of Goods Sold        Cost of Goods Sold
//	54 6000 Expense                   Bank fees
//
// Home currency USD; multicurrency on with EUR and GBP active and JPY
// inactive (CAD is not added); no book close date; duplicate DocNumber
// warnings on; tax codes TAX and NON (US pseudo-codes, §2.3), 2 California
// (8.5% sales) and 3 Old county (inactive); customer 1 and vendor 1.
func DefaultCompany() Company {
	acct := func(id, num, name, typ, sub string) Account {
		return Account{ID: id, AcctNum: num, Name: name, AccountType: typ, AccountSubType: sub}
	}
	inactive := func(a Account) Account { a.Inactive = true; return a }
	return Company{
		RealmID:                DefaultRealmID,
		CompanyName:            "Sandbox Company_US_1",
		LegalName:              "Sandbox Company US 1 Inc.",
		Country:                "US",
		TimeZone:               "America/Los_Angeles",
		HomeCurrency:           "USD",
		MultiCurrencyEnabled:   true,
		WarnDuplicateDocNumber: true,
		Currencies: []Currency{
			{Code: "EUR", Name: "Euro"},
			{Code: "GBP", Name: "British Pound Sterling"},
			{Code: "JPY", Name: "Japanese Yen", Inactive: true},
		},
		Accounts: []Account{
			acct(AccountChecking, "1000", "Checking", "Bank", "Checking"),
			acct(AccountCardClearing, "1010", "Card clearing", "Other Current Asset", "OtherCurrentAssets"),
			acct(AccountCashClearing, "1020", "Cash clearing", "Other Current Asset", "OtherCurrentAssets"),
			acct(AccountUnsettled, "1030", "Unsettled sales", "Other Current Asset", "OtherCurrentAssets"),
			acct(AccountUndeposited, "1040", "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
			acct(AccountReceivable, "1100", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
			acct(AccountPayable, "2000", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
			acct(AccountSalesTax, "2100", "Sales Tax Payable", "Other Current Liability", "SalesTaxPayable"),
			acct(AccountTips, "2200", "Tips payable", "Other Current Liability", "OtherCurrentLiabilities"),
			acct(AccountGiftCards, "2210", "Gift card liability", "Other Current Liability", "OtherCurrentLiabilities"),
			acct(AccountRetainedEarning, "3000", "Retained Earnings", "Equity", "RetainedEarnings"),
			acct(AccountSales, "4000", "Sales", "Income", "SalesOfProductIncome"),
			acct(AccountServiceCharges, "4010", "Service charges", "Income", "ServiceFeeIncome"),
			acct(AccountDiscounts, "4020", "Discounts given", "Income", "DiscountsRefundsGiven"),
			acct(AccountRefunds, "4030", "Refunds", "Income", "DiscountsRefundsGiven"),
			inactive(acct(AccountInactive, "4090", "Discontinued sales", "Income", "SalesOfProductIncome")),
			acct(AccountFeeRefunds, "4100", "Payment fee refunds", "Other Income", "OtherMiscellaneousIncome"),
			acct(AccountCostOfGoods, "5000", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
			acct(AccountBankFees, "6000", "Bank fees", "Expense", "BankCharges"),
		},
		TaxCodes: []TaxCode{
			{ID: "TAX", Name: "TAX", Description: "TAX", Taxable: true},
			{ID: "NON", Name: "NON", Description: "NON"},
			{ID: "2", Name: "California", Description: "California sales tax", Taxable: true, SalesRates: []string{"3"}},
			{ID: "3", Name: "Old county", Description: "Retired county tax", Taxable: true, SalesRates: []string{"4"}, Inactive: true},
		},
		TaxRates: []TaxRate{
			{ID: "3", Name: "California", RateValue: "8.5", AgencyID: "1"},
			{ID: "4", Name: "Old county", RateValue: "1.25", AgencyID: "1", Inactive: true},
		},
		Customers: []Entity{{ID: "1", DisplayName: "Daily sales"}},
		Vendors:   []Entity{{ID: "1", DisplayName: "Payment processor"}},
	}
}

// classification maps AccountType to Classification (§2.3).
var classification = map[string]string{
	"Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
	"Accounts Receivable": "Asset",
	"Equity":              "Equity",
	"Expense":             "Expense", "Other Expense": "Expense", "Cost of Goods Sold": "Expense",
	"Accounts Payable": "Liability", "Credit Card": "Liability", "Long Term Liability": "Liability",
	"Other Current Liability": "Liability",
	"Income":                  "Revenue", "Other Income": "Revenue",
}

// currencyNames name the CurrencyRef of the home currency.
var currencyNames = map[string]string{
	"USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound Sterling", "CAD": "Canadian Dollar",
	"AUD": "Australian Dollar", "JPY": "Japanese Yen", "NZD": "New Zealand Dollar",
}

// normalise fills derived fields so seeds can stay short.
func (c *Company) normalise() {
	if c.CompanyName == "" {
		c.CompanyName = "Sandbox Company " + c.RealmID
	}
	if c.LegalName == "" {
		c.LegalName = c.CompanyName
	}
	if c.Country == "" {
		c.Country = "US"
	}
	if c.TimeZone == "" {
		c.TimeZone = "America/Los_Angeles"
	}
	if c.HomeCurrency == "" {
		c.HomeCurrency = "USD"
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.ID == "" {
			a.ID = strconv.Itoa(1000 + i)
		}
		if a.Classification == "" {
			a.Classification = classification[a.AccountType]
		}
		if a.Currency == "" {
			a.Currency = c.HomeCurrency
		}
	}
}

func (c *Company) location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func (c *Company) account(id string) *Account {
	for i := range c.Accounts {
		if c.Accounts[i].ID == id {
			return &c.Accounts[i]
		}
	}
	return nil
}

func (c *Company) taxCode(id string) *TaxCode {
	for i := range c.TaxCodes {
		if c.TaxCodes[i].ID == id {
			return &c.TaxCodes[i]
		}
	}
	return nil
}

func (c *Company) taxRate(id string) *TaxRate {
	for i := range c.TaxRates {
		if c.TaxRates[i].ID == id {
			return &c.TaxRates[i]
		}
	}
	return nil
}

func (c *Company) currency(code string) *Currency {
	for i := range c.Currencies {
		if c.Currencies[i].Code == code {
			return &c.Currencies[i]
		}
	}
	return nil
}

func (c *Company) currencyName(code string) string {
	if cur := c.currency(code); cur != nil && cur.Name != "" {
		return cur.Name
	}
	return currencyNames[code]
}

func findEntity(list []Entity, id string) *Entity {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

func (c Company) clone() Company {
	c.Currencies = slices.Clone(c.Currencies)
	c.Accounts = slices.Clone(c.Accounts)
	c.TaxCodes = slices.Clone(c.TaxCodes)
	for i := range c.TaxCodes {
		c.TaxCodes[i].SalesRates = slices.Clone(c.TaxCodes[i].SalesRates)
		c.TaxCodes[i].PurchaseRates = slices.Clone(c.TaxCodes[i].PurchaseRates)
	}
	c.TaxRates = slices.Clone(c.TaxRates)
	c.Customers = slices.Clone(c.Customers)
	c.Vendors = slices.Clone(c.Vendors)
	return c
}

func (j *JournalEntry) clone() JournalEntry {
	c := *j
	c.Lines = slices.Clone(j.Lines)
	return c
}

// bump records an edit: SyncToken moves on (§2.2).
func (j *JournalEntry) bump(now time.Time) {
	n, _ := strconv.Atoi(j.SyncToken)
	j.SyncToken = strconv.Itoa(n + 1)
	j.Updated = now
}

// company is a seeded company with its transactions and requestid memory.
type company struct {
	Company
	journals []*JournalEntry
	nextID   int
	requests map[string]*idemEntry
}

func (c *company) journal(id string) *JournalEntry {
	for _, j := range c.journals {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// newTxnID hands out transaction ids above the list ids, as QBO's are.
func (c *company) newTxnID() string {
	c.nextID++
	return strconv.Itoa(140 + c.nextID)
}
