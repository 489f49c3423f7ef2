package sandbox

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultSubdomain is the default company's subdomain, which the
// connector uses as its tenant id (one token = one user in one company,
// apis.md §5.1).
const DefaultSubdomain = "sandbox-bistro"

// Category groups: GET /v2/categories answers four arrays (apis.md §5.3).
const (
	GroupIncome        = "income"
	GroupCostOfSales   = "cost_of_sales"
	GroupAdminExpenses = "admin_expenses"
	GroupGeneral       = "general"
)

// Company is a seedable FreeAgent company: its settings (GET /v2/company,
// apis.md §5.3), users, chart (categories and bank accounts), account
// locks, contacts and projects.
type Company struct {
	// Subdomain identifies the company (the tenant id).
	Subdomain string
	Name      string
	// Type is FreeAgent's company type (UkLimitedCompany, UkSoleTrader, ...).
	Type string
	// Currency is the native currency (apis.md §5.3 "GET /v2/company
	// (currency, ...)"). Journal sets carry no currency: they are always in
	// it (apis.md §5.2 lists no currency attribute).
	Currency               string
	MileageUnits           string
	CompanyStartDate       string
	FreeAgentStartDate     string
	FirstAccountingYearEnd string
	// SalesTaxRegistrationStatus is "Registered" or "Not Registered".
	SalesTaxRegistrationStatus string
	SalesTaxRegistrationNumber string
	Users                      []User
	Categories                 []Category
	BankAccounts               []BankAccount
	AccountLocks               []AccountLock
	Contacts                   []Contact
	// Projects are what GET /v2/projects lists, "the closest thing to
	// tracking" (apis.md §5.3).
	Projects []Project
	// InvoiceCurrencies are the foreign currencies the company invoices in.
	// Which currencies FreeAgent refuses is not in the reference (apis.md
	// §5.7 only says invoices take currency and exchange_rate), so this is
	// the sandbox's setting; the native currency is always accepted.
	InvoiceCurrencies []string
}

// User is a FreeAgent user of the company. Tokens belong to one user in one
// company and rate limits count per user (apis.md §5.1, §5.6).
type User struct {
	ID        int
	FirstName string
	LastName  string
	Email     string
	Role      string
	// PermissionLevel is FreeAgent's access level, 0 to 8 (8 = Full
	// Access). Journal sets need "Tax, Accounting and Users" (7) and
	// account locks "Full Access" (8), per FreeAgent's journal sets and
	// account locks pages; the numbers are not in the reference.
	PermissionLevel int
}

// Category is an accounting category (FreeAgent's chart of accounts entry),
// with the attributes of apis.md §5.3.
type Category struct {
	NominalCode string
	Description string
	// Group is one of the Group constants; derived from the nominal code
	// when empty (001-049 income, 100-199 cost of sales, 200-399 admin
	// expenses, the rest general).
	Group            string
	AllowableForTax  bool
	AutoSalesTaxRate string
	TaxReportingName string
	// Hidden models a category the merchant removed from the chart after a
	// mapping pointed at it: it is left out of GET /v2/categories and a
	// journal entry that names it is refused as "Resource not found"
	// (apis.md §5.2, §5.5). FreeAgent's category attributes carry no status
	// (apis.md §5.3), so this is how an "archived account" looks through the
	// API.
	Hidden bool
}

// BankAccount is a bank account (GET /v2/bank_accounts, apis.md §5.3).
type BankAccount struct {
	ID int
	// Type is StandardBankAccount, CreditCardAccount or PaypalAccount.
	Type     string
	Name     string
	Currency string
	// Status is "active" or "hidden".
	Status         string
	IsPrimary      bool
	BankName       string
	OpeningBalance string
	AccountNumber  string
	SortCode       string
}

// AccountLock is one of the company's account locks (GET
// /v2/account_locks, FreeAgent's account locks page). The reference gives
// only the rule: refuse dates on or before the lock date (apis.md §6.4).
type AccountLock struct {
	LockedToDate        string // YYYY-MM-DD
	UserLock            bool
	LockedByDescription string
}

// JournalSet is a stored journal set, for tests to read back.
type JournalSet struct {
	ID          int
	DatedOn     string
	Description string
	Tag         string
	Entries     []JournalEntry
	CreatedAt   time.Time
	UpdatedAt   time.Time
	deleted     bool
}

// JournalEntry is one stored entry; DebitValue is exact (negative = credit,
// apis.md §5.2).
type JournalEntry struct {
	ID int
	// Category is the nominal code the entry's category URL named;
	// CategoryURL is the URL as sent.
	Category    string
	CategoryURL string
	Description string
	DebitValue  decimal.Decimal
	User        string
}

// DefaultCompany is a VAT-registered UK limited company whose chart covers
// what a daily commerce summary posts to. Category URLs are
// <base>/v2/categories/<code>; bank account URLs <base>/v2/bank_accounts/<id>.
//
//	001 income          Sales
//	002 income          Food Sales
//	003 income          Drink Sales
//	004 income          Service Charges
//	040 income          Payment Fee Refunds
//	101 cost of sales   Cost of Sales
//	363 admin expenses  Bank/Finance Charges       (payment fees)
//	369 admin expenses  Card Terminal Rental       (hidden: refused, not listed)
//	671 general         Card Clearing              (current asset)
//	672 general         Cash Clearing              (current asset)
//	673 general         Unsettled Sales            (current asset)
//	817 general         Sales Tax Control          (liability)
//	818 general         Tips Payable               (liability)
//	819 general         Gift Card Liability        (liability)
//	bank account 1      Business Current Account   (GBP, active)
//	bank account 2      Old Savings Account        (GBP, hidden)
//	contact 1           Commerce provider          (an organisation)
//	contact 2           Alex Morgan                (a person, no organisation)
//	project 1           Private Dining Events      (Active, for contact 2)
//	project 2           Summer Festival Stall 2025 (Completed, for contact 2)
//
// Currency GBP, invoices also in EUR and USD; no account locks; one Full
// Access user (id 1).
func DefaultCompany() Company {
	cat := func(code, name string) Category { return Category{NominalCode: code, Description: name} }
	sales := func(code, name string) Category {
		c := cat(code, name)
		c.AutoSalesTaxRate, c.TaxReportingName = "Standard rate", "Sales"
		return c
	}
	expense := func(code, name string) Category {
		c := cat(code, name)
		c.AllowableForTax, c.AutoSalesTaxRate, c.TaxReportingName = true, "Exempt", "Interest and bank charges"
		return c
	}
	hidden := func(c Category) Category { c.Hidden = true; return c }
	return Company{
		Subdomain:                  DefaultSubdomain,
		Name:                       "Sandbox Bistro Ltd",
		Type:                       "UkLimitedCompany",
		Currency:                   "GBP",
		MileageUnits:               "miles",
		CompanyStartDate:           "2020-04-01",
		FreeAgentStartDate:         "2024-04-01",
		FirstAccountingYearEnd:     "2021-03-31",
		SalesTaxRegistrationStatus: "Registered",
		SalesTaxRegistrationNumber: "GB123456789",
		Users:                      []User{{ID: 1, FirstName: "Sandbox", LastName: "Owner", Email: "owner@sandbox-bistro.test", Role: "Owner", PermissionLevel: 8}},
		Categories: []Category{
			sales("001", "Sales"),
			sales("002", "Food Sales"),
			sales("003", "Drink Sales"),
			sales("004", "Service Charges"),
			cat("040", "Payment Fee Refunds"),
			cat("101", "Cost of Sales"),
			expense("363", "Bank/Finance Charges"),
			hidden(expense("369", "Card Terminal Rental")),
			cat("671", "Card Clearing"),
			cat("672", "Cash Clearing"),
			cat("673", "Unsettled Sales"),
			cat("817", "Sales Tax Control"),
			cat("818", "Tips Payable"),
			cat("819", "Gift Card Liability"),
		},
		BankAccounts: []BankAccount{
			{ID: 1, Type: "StandardBankAccount", Name: "Business Current Account", Currency: "GBP", Status: "active", IsPrimary: true,
				BankName: "Sandbox Bank", OpeningBalance: "0.0", AccountNumber: "12345678", SortCode: "12-34-56"},
			{ID: 2, Type: "StandardBankAccount", Name: "Old Savings Account", Currency: "GBP", Status: "hidden",
				BankName: "Sandbox Bank", OpeningBalance: "0.0", AccountNumber: "87654321", SortCode: "12-34-56"},
		},
		Contacts: []Contact{{Organisation: "Commerce provider"}, {FirstName: "Alex", LastName: "Morgan"}},
		Projects: []Project{
			{Name: "Private Dining Events", ContactID: 2, Status: ProjectActive},
			{Name: "Summer Festival Stall 2025", ContactID: 2, Status: ProjectCompleted},
		},
		InvoiceCurrencies: []string{"EUR", "USD"},
	}
}

// groupOf derives a category's group from its nominal code.
func groupOf(code string) string {
	n, err := strconv.Atoi(code)
	switch {
	case err != nil:
		return GroupGeneral
	case n < 50:
		return GroupIncome
	case n >= 100 && n < 200:
		return GroupCostOfSales
	case n >= 200 && n < 400:
		return GroupAdminExpenses
	}
	return GroupGeneral
}

// normalise fills derived fields so seeds can stay short.
func (c *Company) normalise() {
	if c.Name == "" {
		c.Name = c.Subdomain
	}
	if c.Type == "" {
		c.Type = "UkLimitedCompany"
	}
	if c.Currency == "" {
		c.Currency = "GBP"
	}
	if len(c.Users) == 0 {
		c.Users = []User{{ID: 1, FirstName: "Sandbox", LastName: "Owner", Role: "Owner", PermissionLevel: 8}}
	}
	for i := range c.Categories {
		if c.Categories[i].Group == "" {
			c.Categories[i].Group = groupOf(c.Categories[i].NominalCode)
		}
	}
	for i := range c.Contacts {
		if c.Contacts[i].ID == 0 {
			c.Contacts[i].ID = i + 1
		}
	}
	for i := range c.Projects {
		p := &c.Projects[i]
		if p.ID == 0 {
			p.ID = i + 1
		}
		if p.ContactID == 0 && len(c.Contacts) > 0 {
			p.ContactID = c.Contacts[0].ID
		}
		if p.Status == "" {
			p.Status = ProjectActive
		}
		if p.Currency == "" {
			p.Currency = c.Currency
		}
	}
	for i := range c.BankAccounts {
		b := &c.BankAccounts[i]
		if b.ID == 0 {
			b.ID = i + 1
		}
		if b.Type == "" {
			b.Type = "StandardBankAccount"
		}
		if b.Currency == "" {
			b.Currency = c.Currency
		}
		if b.Status == "" {
			b.Status = "active"
		}
	}
}

func (c *Company) category(code string) *Category {
	for i := range c.Categories {
		if c.Categories[i].NominalCode == code {
			return &c.Categories[i]
		}
	}
	return nil
}

func (c *Company) user(id int) *User {
	for i := range c.Users {
		if c.Users[i].ID == id {
			return &c.Users[i]
		}
	}
	return nil
}

// lockedTo is the latest account lock date, "" without locks.
func (c *Company) lockedTo() string {
	latest := ""
	for _, l := range c.AccountLocks {
		if l.LockedToDate > latest {
			latest = l.LockedToDate
		}
	}
	return latest
}

func (c Company) clone() Company {
	c.Users = slices.Clone(c.Users)
	c.Categories = slices.Clone(c.Categories)
	c.BankAccounts = slices.Clone(c.BankAccounts)
	c.AccountLocks = slices.Clone(c.AccountLocks)
	c.Contacts = slices.Clone(c.Contacts)
	c.Projects = slices.Clone(c.Projects)
	c.InvoiceCurrencies = slices.Clone(c.InvoiceCurrencies)
	return c
}

func (j *JournalSet) clone() JournalSet {
	c := *j
	c.Entries = slices.Clone(j.Entries)
	return c
}
