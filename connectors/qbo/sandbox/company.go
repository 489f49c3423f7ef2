package sandbox

import (
	"slices"
	"strconv"
	"sync/atomic"
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
	// ClassTrackingPerTxn, ClassTrackingPerTxnLine and TrackDepartments are
	// Preferences.AccountingInfoPrefs' tracking switches: classes are in use
	// when either class switch is on, departments when TrackDepartments is
	// (§2.3).
	ClassTrackingPerTxn     bool
	ClassTrackingPerTxnLine bool
	TrackDepartments        bool
	// DepartmentTerminology is the merchant's word for departments;
	// "Location" when empty (§2.3: Department is "shown as Location in the
	// UI"; that the merchant may pick another word is not in the reference).
	DepartmentTerminology string
	Accounts              []Account
	TaxCodes              []TaxCode
	TaxRates              []TaxRate
	// Customers and Vendors are separate entities even when they share a
	// name (§2.2: A/R lines name a Customer, A/P lines a Vendor).
	Customers   []Entity
	Vendors     []Entity
	Classes     []Class
	Departments []Department
	Items       []Item
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
	// Currency is the one currency the name deals in (§2.7: "customers
	// each have one currency"); the home currency when empty.
	Currency string
}

// Class is a Class (§2.3: Id, Name, FullyQualifiedName, SubClass,
// ParentRef, Active); ParentID makes it a sub-class.
type Class struct {
	ID, Name, ParentID string
	Inactive           bool
}

// Department is a Department, "shown as Location in the UI" (§2.3). The
// reference lists no fields for it; it is given Class's shape (SubDepartment
// for SubClass), which is not in the reference.
type Department Class

// Item is a product or service. Every sales line names one by ItemRef, and
// the item carries the income account its sales post to (§2.2).
type Item struct {
	ID, Name string
	// Type is Service when empty; Inventory, NonInventory, Group and
	// Category are QBO's other types (not in the reference). A Category
	// only groups items and has no income account.
	Type string
	// IncomeAccountID is IncomeAccountRef.value (the field name is not in
	// the reference, only that items carry the income account).
	IncomeAccountID string
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
	// ClassID and DepartmentID are the line's ClassRef and DepartmentRef.
	ClassID      string
	DepartmentID string
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

// Default list ids of DefaultCompany. Customer and vendor ids do not
// overlap: QBO numbers customers, vendors and employees from one name list
// (as Intuit's sandbox companies show; not in the reference).
const (
	CustomerDailySales       = "1"
	CustomerCommerceProvider = "2"
	CustomerWalkIn           = "3"
	CustomerClosed           = "4"
	VendorPaymentProcessor   = "30"
	VendorCommerceProvider   = "31"
	VendorRetired            = "32"
	ClassOnline              = "5"
	ClassRetail              = "6"
	ClassDowntown            = "7"
	ClassPopUp               = "8"
	DepartmentMainStreet     = "1"
	DepartmentWarehouse      = "2"
	DepartmentAirport        = "3"
	ItemSales                = "1"
	ItemShipping             = "2"
	ItemServiceCharge        = "3"
	ItemDiscount             = "4"
	ItemRefund               = "5"
	ItemDiscontinued         = "6"
	ItemSalesTax             = "7"
	ItemTips                 = "8"
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
// (8.5% sales) and 3 Old county (inactive).
//
// Names and tracking (Id DisplayName / Name):
//
//	customers    1 Daily sales, 2 Commerce provider, 3 Walk-in customers, 4 Closed account (INACTIVE)
//	vendors     30 Payment processor, 31 Commerce provider, 32 Retired supplier (INACTIVE)
//	classes      5 Online, 6 Retail, 7 Retail:Downtown, 8 Pop-up (INACTIVE); tracked per line
//	departments  1 Main street, 2 Warehouse, 3 Airport kiosk (INACTIVE); tracked, called "Location"
//
// Items (Id Name → income account), one or more per Income account:
//
//	1 Sales → 79, 2 Shipping → 79, 3 Service charge → 80, 4 Discount → 81,
//	5 Refund → 82, 6 Discontinued product → 92 (item and account INACTIVE)
//
// "Commerce provider" is both a customer and a vendor: invoice mode sells
// to it and buys its fees from it. QBO is believed to refuse a display
// name a customer and a vendor share (6240 "Duplicate Name Exists Error";
// §2.5 quotes only "Another customer is already using this name", so the
// cross-list rule is not in the reference). The sandbox creates no names,
// so the seed keeps one name for both and tests can pick either by it.
func DefaultCompany() Company {
	c := defaultBooks()
	c.ClassTrackingPerTxnLine = true
	c.TrackDepartments = true
	c.DepartmentTerminology = "Location"
	c.Customers = []Entity{
		{ID: CustomerDailySales, DisplayName: "Daily sales"},
		{ID: CustomerCommerceProvider, DisplayName: "Commerce provider"},
		{ID: CustomerWalkIn, DisplayName: "Walk-in customers"},
		{ID: CustomerClosed, DisplayName: "Closed account", Inactive: true},
	}
	c.Vendors = []Entity{
		{ID: VendorPaymentProcessor, DisplayName: "Payment processor"},
		{ID: VendorCommerceProvider, DisplayName: "Commerce provider"},
		{ID: VendorRetired, DisplayName: "Retired supplier", Inactive: true},
	}
	c.Classes = []Class{
		{ID: ClassOnline, Name: "Online"},
		{ID: ClassRetail, Name: "Retail"},
		{ID: ClassDowntown, Name: "Downtown", ParentID: ClassRetail},
		{ID: ClassPopUp, Name: "Pop-up", Inactive: true},
	}
	c.Departments = []Department{
		{ID: DepartmentMainStreet, Name: "Main street"},
		{ID: DepartmentWarehouse, Name: "Warehouse"},
		{ID: DepartmentAirport, Name: "Airport kiosk", Inactive: true},
	}
	c.Items = []Item{
		{ID: ItemSales, Name: "Sales", Type: "NonInventory", IncomeAccountID: AccountSales},
		{ID: ItemShipping, Name: "Shipping", IncomeAccountID: AccountSales},
		{ID: ItemServiceCharge, Name: "Service charge", IncomeAccountID: AccountServiceCharges},
		{ID: ItemDiscount, Name: "Discount", IncomeAccountID: AccountDiscounts},
		{ID: ItemRefund, Name: "Refund", IncomeAccountID: AccountRefunds},
		{ID: ItemDiscontinued, Name: "Discontinued product", Type: "NonInventory", IncomeAccountID: AccountInactive, Inactive: true},
		// Tax collected and tips are lines of the daily invoice too
		// (codat-sync-for-commerce.md §3.1, §3.2), so each has a service
		// whose "income" account is the liability.
		{ID: ItemSalesTax, Name: "Sales tax collected", IncomeAccountID: AccountSalesTax},
		{ID: ItemTips, Name: "Tips", IncomeAccountID: AccountTips},
	}
	return c
}

// defaultBooks is DefaultCompany's settings, chart and tax.
func defaultBooks() Company {
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
	if c.DepartmentTerminology == "" {
		c.DepartmentTerminology = "Location"
	}
	c.normaliseLists()
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

// normaliseLists gives unnumbered list entries ids, from a range per list
// so that seeds mixing numbered and unnumbered entries rarely collide, and
// items their default type.
func (c *Company) normaliseLists() {
	for i := range c.Customers {
		c.Customers[i].ID = idOr(c.Customers[i].ID, 2000+i)
	}
	for i := range c.Vendors {
		c.Vendors[i].ID = idOr(c.Vendors[i].ID, 3000+i)
	}
	for i := range c.Classes {
		c.Classes[i].ID = idOr(c.Classes[i].ID, 4000+i)
	}
	for i := range c.Departments {
		c.Departments[i].ID = idOr(c.Departments[i].ID, 5000+i)
	}
	for i := range c.Items {
		it := &c.Items[i]
		it.ID = idOr(it.ID, 6000+i)
		if it.Type == "" {
			it.Type = "Service"
		}
	}
}

func idOr(id string, n int) string {
	if id != "" {
		return id
	}
	return strconv.Itoa(n)
}

// location is the company's zone, loaded once and kept with the name it was
// loaded for: rendering a transaction asks for it several times, and a
// test may change TimeZone (UpdateCompany), which loads the new one. A
// name that does not load is UTC.
func (co *company) location() *time.Location {
	if z := co.zone.Load(); z != nil && z.name == co.TimeZone {
		return z.loc
	}
	loc, err := time.LoadLocation(co.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	co.zone.Store(&loadedZone{name: co.TimeZone, loc: loc})
	return loc
}

type loadedZone struct {
	name string
	loc  *time.Location
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
	c.Classes = slices.Clone(c.Classes)
	c.Departments = slices.Clone(c.Departments)
	c.Items = slices.Clone(c.Items)
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
	txns     []*Txn
	// applied is what payments have applied of each transaction, and
	// appliedBy which payments, keyed by Link.key().
	applied   map[string]decimal.Decimal
	appliedBy map[string][]Link
	nextID    int
	requests  map[string]*idemEntry
	// zone is TimeZone loaded (location); atomic, as requests that read
	// the company may render at once.
	zone atomic.Pointer[loadedZone]
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
