package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Invoice mode's transactions (§2.2; Codat's QuickBooks specification,
// codat-sync-for-commerce.md §3.2): Invoice, CreditMemo, Payment, Bill,
// VendorCredit, BillPayment, Purchase, Deposit and Transfer, created with
// POST /{entity}. The sandbox serves creates only; updates and deletes of
// these entities answer 500 Unsupported Operation. The sandbox computes
// no tax: TxnTaxDetail and line TaxCodeRefs are accepted and ignored,
// since invoice mode sends tax as lines of its own. Fault codes are §2.5's;
// the Detail of each 6000 refusal here, and the list names in 2500
// details other than Accounts, are the sandbox's wording (not in the
// reference).

// Txn is a stored transaction, for tests to read back.
type Txn struct {
	// Type is the entity: Invoice, CreditMemo, Payment, Bill, VendorCredit,
	// BillPayment, Purchase, Deposit or Transfer.
	Type, ID, SyncToken             string
	TxnDate, DocNumber, PrivateNote string
	Currency, ExchangeRate          string
	GlobalTaxCalculation            string
	// EntityType and EntityID name the customer or vendor: CustomerRef,
	// VendorRef, or a Purchase's EntityRef.
	EntityType, EntityID string
	// AccountID is where the money moves: a Payment's or Deposit's
	// DepositToAccountRef, a BillPayment's bank or card account, a
	// Purchase's AccountRef, a Transfer's FromAccountRef.
	AccountID string
	// ToAccountID is a Transfer's ToAccountRef.
	ToAccountID string
	// ControlID is the Accounts Receivable or Accounts Payable account the
	// transaction posts to, when it posts to one.
	ControlID string
	// ClassID and DepartmentID are the transaction's ClassRef and
	// DepartmentRef; a line's class is TxnLine.ClassID.
	ClassID, DepartmentID            string
	PayType, PaymentType, PaymentRef string
	DueDate                          string
	Lines                            []TxnLine
	// Total is TotalAmt: the sum of the lines, a payment's TotalAmt, a
	// transfer's Amount.
	Total            decimal.Decimal
	Created, Updated time.Time
	RequestID        string
	// Open is what payments have not yet applied of an invoice, credit
	// memo, bill or vendor credit (QuickBooks' Balance); Transactions fills
	// it in.
	Open decimal.Decimal
	// unapplied is what a Payment receives beyond what its lines apply.
	unapplied decimal.Decimal
}

// TxnLine is one stored line. Amount is exact, signed as sent.
type TxnLine struct {
	ID, Description string
	Amount          decimal.Decimal
	// AccountID is where the line posts: the item's income account on
	// sales lines, the line's AccountRef on expense and deposit lines; ""
	// on payment lines.
	AccountID string
	ItemID    string
	Qty       string
	UnitPrice string
	// EntityType and EntityID name a deposit line's customer or vendor.
	EntityType, EntityID string
	// ClassID is the line detail's ClassRef.
	ClassID string
	// Link is what a payment or bill payment line applies (§2.2
	// Line[].LinkedTxn).
	Link *Link
}

// Link names a transaction by type and id.
type Link struct {
	TxnID, TxnType string
}

func (l Link) key() string { return l.TxnType + "/" + l.TxnID }

// Request shapes. One union type is decoded with unknown properties
// refused (QBO's 2010, as for journal entries; not in the reference);
// which top-level properties an entity takes is checked first, from
// txnKind.fields.

type txnIn struct {
	ID                   string          `json:"Id"`
	SyncToken            *string         `json:"SyncToken"`
	Sparse               bool            `json:"sparse"`
	Domain               string          `json:"domain"`
	MetaData             json.RawMessage `json:"MetaData"`
	TxnDate              *string         `json:"TxnDate"`
	DocNumber            *string         `json:"DocNumber"`
	PrivateNote          *string         `json:"PrivateNote"`
	CurrencyRef          *refIn          `json:"CurrencyRef"`
	ExchangeRate         json.Number     `json:"ExchangeRate"`
	GlobalTaxCalculation *string         `json:"GlobalTaxCalculation"`
	TxnTaxDetail         json.RawMessage `json:"TxnTaxDetail"`
	TotalAmt             json.Number     `json:"TotalAmt"`
	Line                 *[]txnLineIn    `json:"Line"`
	CustomerRef          *refIn          `json:"CustomerRef"`
	CustomerMemo         json.RawMessage `json:"CustomerMemo"`
	VendorRef            *refIn          `json:"VendorRef"`
	DueDate              *string         `json:"DueDate"`
	DepositToAccountRef  *refIn          `json:"DepositToAccountRef"`
	PaymentRefNum        *string         `json:"PaymentRefNum"`
	PayType              string          `json:"PayType"`
	CheckPayment         *struct {
		BankAccountRef *refIn `json:"BankAccountRef"`
		PrintStatus    string `json:"PrintStatus"`
	} `json:"CheckPayment"`
	CreditCardPayment *struct {
		CCAccountRef *refIn `json:"CCAccountRef"`
	} `json:"CreditCardPayment"`
	PaymentType    string      `json:"PaymentType"`
	AccountRef     *refIn      `json:"AccountRef"`
	EntityRef      *refIn      `json:"EntityRef"`
	FromAccountRef *refIn      `json:"FromAccountRef"`
	ToAccountRef   *refIn      `json:"ToAccountRef"`
	Amount         json.Number `json:"Amount"`
	ClassRef       *refIn      `json:"ClassRef"`
	DepartmentRef  *refIn      `json:"DepartmentRef"`
}

type txnLineIn struct {
	ID                  string      `json:"Id"`
	LineNum             json.Number `json:"LineNum"`
	Description         *string     `json:"Description"`
	Amount              json.Number `json:"Amount"`
	DetailType          string      `json:"DetailType"`
	SalesItemLineDetail *struct {
		ItemRef     *refIn      `json:"ItemRef"`
		Qty         json.Number `json:"Qty"`
		UnitPrice   json.Number `json:"UnitPrice"`
		TaxCodeRef  *refIn      `json:"TaxCodeRef"`
		ServiceDate string      `json:"ServiceDate"`
		ClassRef    *refIn      `json:"ClassRef"`
	} `json:"SalesItemLineDetail"`
	AccountBasedExpenseLineDetail *struct {
		AccountRef     *refIn `json:"AccountRef"`
		TaxCodeRef     *refIn `json:"TaxCodeRef"`
		BillableStatus string `json:"BillableStatus"`
		CustomerRef    *refIn `json:"CustomerRef"`
		ClassRef       *refIn `json:"ClassRef"`
	} `json:"AccountBasedExpenseLineDetail"`
	DepositLineDetail *struct {
		AccountRef *refIn `json:"AccountRef"`
		Entity     *refIn `json:"Entity"`
		TaxCodeRef *refIn `json:"TaxCodeRef"`
		ClassRef   *refIn `json:"ClassRef"`
	} `json:"DepositLineDetail"`
	LinkedTxn []struct {
		TxnID     string `json:"TxnId"`
		TxnType   string `json:"TxnType"`
		TxnLineID string `json:"TxnLineId"`
	} `json:"LinkedTxn"`
}

// txnCommon are the properties every transaction takes.
var txnCommon = []string{"Id", "SyncToken", "sparse", "domain", "MetaData", "TxnDate", "PrivateNote", "CurrencyRef", "ExchangeRate", "TotalAmt"}

// txnKind is one transaction entity: the properties it takes, whether
// DocNumber is one a query can filter on, and its own checks.
type txnKind struct {
	name   string
	fields []string
	// numbered: DocNumber is queryable, so a client finds the transaction
	// by it (§2.4 "query before create"). Payment has a DocNumber but
	// Intuit does not filter on it (Intuit's Payment reference: "Filter
	// support not provided for Payment"); Deposit and Transfer carry none.
	// Neither is in the reference. Those are found by TxnDate and
	// PrivateNote.
	numbered bool
	// parse checks the entity's shape and references and fills t; settle,
	// when set, checks the transactions a payment applies, once the
	// currency is known, and returns what it applies to each.
	parse  func(s *Server, co *company, in *txnIn, t *Txn) *faultError
	settle func(co *company, t *Txn) (map[string]decimal.Decimal, *faultError)
}

// Tracking (§2.2, §2.3): journal entry lines take ClassRef and
// DepartmentRef; sales, expense and deposit lines take ClassRef (§2.2
// shows it on SalesItemLineDetail and AccountBasedExpenseLineDetail; on
// DepositLineDetail it is not in the reference). The department of a
// sales, expense or deposit form is the transaction's DepartmentRef, and a
// sales form also takes a ClassRef of its own for companies that class
// whole transactions; neither is in the reference. Payments, bill
// payments and transfers take neither (not in the reference), so their
// ClassRef or DepartmentRef is refused with 2010 like any property the
// entity does not take.
var txnKinds = map[string]txnKind{
	"invoice": {name: "Invoice", numbered: true, parse: parseSales,
		fields: []string{"DocNumber", "CustomerRef", "Line", "DueDate", "GlobalTaxCalculation", "TxnTaxDetail", "CustomerMemo", "ClassRef", "DepartmentRef"}},
	"creditmemo": {name: "CreditMemo", numbered: true, parse: parseSales,
		fields: []string{"DocNumber", "CustomerRef", "Line", "GlobalTaxCalculation", "TxnTaxDetail", "CustomerMemo", "ClassRef", "DepartmentRef"}},
	"payment": {name: "Payment", parse: parsePayment, settle: settleCustomer,
		fields: []string{"DocNumber", "CustomerRef", "DepositToAccountRef", "PaymentRefNum", "Line"}},
	"bill": {name: "Bill", numbered: true, parse: parseBill,
		fields: []string{"DocNumber", "VendorRef", "DueDate", "Line", "GlobalTaxCalculation", "TxnTaxDetail", "DepartmentRef"}},
	"vendorcredit": {name: "VendorCredit", numbered: true, parse: parseBill,
		fields: []string{"DocNumber", "VendorRef", "Line", "GlobalTaxCalculation", "TxnTaxDetail", "DepartmentRef"}},
	"billpayment": {name: "BillPayment", numbered: true, parse: parseBillPayment, settle: settleVendor,
		fields: []string{"DocNumber", "VendorRef", "PayType", "CheckPayment", "CreditCardPayment", "Line"}},
	"purchase": {name: "Purchase", numbered: true, parse: parsePurchase,
		fields: []string{"DocNumber", "PaymentType", "AccountRef", "EntityRef", "Line", "GlobalTaxCalculation", "TxnTaxDetail", "DepartmentRef"}},
	"deposit": {name: "Deposit", parse: parseDeposit,
		fields: []string{"DepositToAccountRef", "Line", "GlobalTaxCalculation", "TxnTaxDetail", "DepartmentRef"}},
	"transfer": {name: "Transfer", parse: parseTransfer,
		fields: []string{"FromAccountRef", "ToAccountRef", "Amount"}},
}

// writeTxn handles POST /{entity} for the entities of txnKinds. Caller
// holds s.mu.
func (s *Server) writeTxn(co *company, req *apiRequest, k txnKind) apiResponse {
	if op := strings.ToLower(req.query.Get("operation")); op != "" && op != "create" {
		return unsupported(co, req.now, "operation="+op, req.entity)
	}
	in, fe := decodeTxn(req.body, k)
	if fe != nil {
		return validationFault(co, req.now, *fe)
	}
	if in.ID != "" {
		return unsupported(co, req.now, "update", req.entity)
	}
	t, applies, fe := s.checkTxn(co, k, in, req.now)
	if fe != nil {
		return validationFault(co, req.now, *fe)
	}
	t.ID, t.SyncToken, t.Created, t.Updated = co.newTxnID(), "0", req.now, req.now
	t.RequestID = req.query.Get("requestid")
	for i := range t.Lines {
		t.Lines[i].ID = strconv.Itoa(i + 1)
	}
	for key, amt := range applies {
		co.apply(key, amt, Link{TxnID: t.ID, TxnType: t.Type})
	}
	co.txns = append(co.txns, t)
	return entityResponse(co, req.now, t.Type, co.txnJSON(t))
}

// decodeTxn refuses a property the entity does not take, then decodes the
// body strictly.
func decodeTxn(body []byte, k txnKind) (*txnIn, *faultError) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		fe := invalidProperty(decodeProblem(err))
		return nil, &fe
	}
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(txnCommon, name) && !slices.Contains(k.fields, name) {
			fe := invalidProperty(name)
			return nil, &fe
		}
	}
	var in txnIn
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fe := invalidProperty(decodeProblem(err))
		return nil, &fe
	}
	return &in, nil
}

// checkTxn validates a transaction and returns what would be stored and
// what it applies, or the first fault, in the journal's order: request
// shape and references, currency, date, amounts, duplicate number.
// Caller holds s.mu.
func (s *Server) checkTxn(co *company, k txnKind, in *txnIn, now time.Time) (*Txn, map[string]decimal.Decimal, *faultError) {
	fail := func(fe *faultError) (*Txn, map[string]decimal.Decimal, *faultError) { return nil, nil, fe }
	t := &Txn{Type: k.name}
	if fe := header(in, t); fe != nil {
		return fail(fe)
	}
	if fe := k.parse(s, co, in, t); fe != nil {
		return fail(fe)
	}
	if fe := co.txnTracking(in, t); fe != nil {
		return fail(fe)
	}
	if fe := s.txnCurrency(co, in, t); fe != nil {
		return fail(fe)
	}
	if fe := co.setControl(t); fe != nil {
		return fail(fe)
	}
	if fe := txnDate(co, in, t, now); fe != nil {
		return fail(fe)
	}
	var applies map[string]decimal.Decimal
	if k.settle != nil {
		var fe *faultError
		if applies, fe = k.settle(co, t); fe != nil {
			return fail(fe)
		}
	} else if t.Total.IsNegative() {
		// Not in the reference: QuickBooks keeps transaction totals at or
		// above zero (a negative sale is a credit memo).
		return fail(ptr(business(fmt.Sprintf("Transaction total %s cannot be negative.", t.Total.StringFixed(2)))))
	}
	if fe := co.duplicateNumber(t); fe != nil {
		return fail(fe)
	}
	return t, applies, nil
}

func ptr(fe faultError) *faultError { return &fe }

// header reads the properties every transaction shares: DocNumber and
// PrivateNote within their lengths (§2.2), GlobalTaxCalculation's values
// (§2.2).
func header(in *txnIn, t *Txn) *faultError {
	if in.DocNumber != nil {
		t.DocNumber = *in.DocNumber
	}
	if in.PrivateNote != nil {
		t.PrivateNote = *in.PrivateNote
	}
	if n := utf8.RuneCountInString(t.DocNumber); n > MaxDocNumberLen {
		return ptr(stringLength("DocNumber", MaxDocNumberLen, n))
	}
	if n := utf8.RuneCountInString(t.PrivateNote); n > MaxPrivateNoteLen {
		return ptr(stringLength("PrivateNote", MaxPrivateNoteLen, n))
	}
	if in.GlobalTaxCalculation != nil {
		switch g := *in.GlobalTaxCalculation; g {
		case "TaxExcluded", "TaxInclusive", "NotApplicable":
			t.GlobalTaxCalculation = g
		default:
			return ptr(invalidEnum("GlobalTaxCalculation", g))
		}
	}
	return nil
}

// txnCurrency applies the journal's currency rules (§2.2 CurrencyRef
// "required if multicurrency enabled"; §2.3 CompanyCurrency; §2.7
// "CurrencyRef is required on transactions when MC is on", "Accounts and
// customers each have one currency"): the home currency or an active
// company currency; accounts in the home currency or the transaction's;
// the customer or vendor in the transaction's. A transfer moves money in
// its accounts' currency and carries none (§2.2's Transfer has no
// CurrencyRef). Caller holds s.mu.
func (s *Server) txnCurrency(co *company, in *txnIn, t *Txn) *faultError {
	if t.Type == "Transfer" {
		t.Currency = co.account(t.AccountID).Currency
		return nil
	}
	t.Currency = co.HomeCurrency
	switch {
	case in.CurrencyRef != nil && in.CurrencyRef.Value != "":
		t.Currency = in.CurrencyRef.Value
	case co.MultiCurrencyEnabled:
		return ptr(requiredParam("CurrencyRef"))
	}
	if t.Currency != co.HomeCurrency {
		cur := co.currency(t.Currency)
		if !co.MultiCurrencyEnabled || cur == nil || cur.Inactive {
			return ptr(fill(s.rules.CurrencyNotEnabled, "{currency}", t.Currency))
		}
		t.ExchangeRate = in.ExchangeRate.String()
	}
	for _, id := range t.accountIDs() {
		a := co.account(id)
		if a.Currency != co.HomeCurrency && a.Currency != t.Currency {
			return ptr(business(fmt.Sprintf("The account %s is in %s; a transaction in %s cannot use it.", a.Name, a.Currency, t.Currency)))
		}
	}
	if e := co.entity(t.EntityType, t.EntityID); e != nil && co.entityCurrency(e) != t.Currency {
		// The wording is not in the reference.
		return ptr(business(fmt.Sprintf("%s %s is in %s; a transaction with it must be in %s, not %s.",
			t.EntityType, e.DisplayName, co.entityCurrency(e), co.entityCurrency(e), t.Currency)))
	}
	return nil
}

// accountIDs are the accounts the transaction names.
func (t *Txn) accountIDs() []string {
	var out []string
	for _, id := range []string{t.AccountID, t.ToAccountID, t.ControlID} {
		if id != "" {
			out = append(out, id)
		}
	}
	for _, l := range t.Lines {
		if l.AccountID != "" {
			out = append(out, l.AccountID)
		}
	}
	return out
}

// txnDate is §2.7's TxnDate (YYYY-MM-DD, today on the server when absent)
// and §2.5's 6210 on or before the book close date.
func txnDate(co *company, in *txnIn, t *Txn, now time.Time) *faultError {
	if in.TxnDate == nil || *in.TxnDate == "" {
		t.TxnDate = now.In(co.location()).Format(time.DateOnly)
	} else {
		d, err := time.Parse(time.DateOnly, *in.TxnDate)
		if err != nil {
			return ptr(invalidProperty("TxnDate"))
		}
		t.TxnDate = d.Format(time.DateOnly)
	}
	if co.lockedAt(t.TxnDate) {
		return ptr(periodClosed())
	}
	return nil
}

// duplicateNumber is §2.4/§2.5's 6140 when the company warns on
// duplicates. That numbers are compared within one entity type (invoice
// numbers among invoices) is not in the reference.
func (co *company) duplicateNumber(t *Txn) *faultError {
	if !co.WarnDuplicateDocNumber || t.DocNumber == "" {
		return nil
	}
	for _, other := range co.txns {
		if other.Type == t.Type && other.DocNumber == t.DocNumber {
			return &faultError{Message: "Duplicate Document Number Error",
				Detail: fmt.Sprintf("Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=%s is assigned to TxnType=%s with TxnId=%s", t.DocNumber, spaced(t.Type), other.ID),
				Code:   "6140"}
		}
	}
	return nil
}

// spaced writes an entity name as QuickBooks' messages do ("Credit Memo").
func spaced(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Reference checks shared by the entities. Caller holds s.mu.

// activeAccount resolves a required account reference: 2020 when
// missing, 2500 when unknown, 610 when inactive (§2.5).
func (co *company) activeAccount(ref *refIn, field string) (*Account, *faultError) {
	if ref == nil || ref.Value == "" {
		return nil, ptr(requiredParam(field))
	}
	a := co.account(ref.Value)
	if a == nil {
		return nil, ptr(invalidReference("Accounts", ref.Value))
	}
	if a.Inactive {
		return nil, ptr(inactiveObject())
	}
	return a, nil
}

// activeName resolves a required customer or vendor reference the same
// way; "Names" is the list the journal path names too.
func (co *company) activeName(typ string, ref *refIn, field string) (*Entity, *faultError) {
	if ref == nil || ref.Value == "" {
		return nil, ptr(requiredParam(field))
	}
	e := co.entity(typ, ref.Value)
	if e == nil {
		return nil, ptr(invalidReference("Names", ref.Value))
	}
	if e.Inactive {
		return nil, ptr(inactiveObject())
	}
	return e, nil
}

// The tracking lists as 2500's detail names them (not in the reference).
const (
	classList      = "Class"
	departmentList = "Department"
)

// trackingRef resolves an optional ClassRef or DepartmentRef as account
// references are resolved: 2500 when unknown, 610 when inactive (§2.5;
// that 610 covers classes and departments too is not in the reference,
// whose Detail lists "accounts, customers, items, vendors or employees").
// Whether the company has class or department tracking turned on is not
// checked: what QuickBooks does with a reference it does not track is not
// in the reference. Caller holds s.mu.
func (co *company) trackingRef(list string, ref *refIn) (string, *faultError) {
	if ref == nil || ref.Value == "" {
		return "", nil
	}
	c := findClass(co.trackingList(list), ref.Value)
	if c == nil {
		return "", ptr(invalidReference(list, ref.Value))
	}
	if c.Inactive {
		return "", ptr(inactiveObject())
	}
	return c.ID, nil
}

// trackingList is the Class or the Department list; departments have
// Class's shape.
func (co *company) trackingList(list string) []Class {
	if list == classList {
		return co.Classes
	}
	out := make([]Class, len(co.Departments))
	for i, d := range co.Departments {
		out[i] = Class(d)
	}
	return out
}

func findClass(list []Class, id string) *Class {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

// txnTracking resolves a transaction's own ClassRef and DepartmentRef;
// decodeTxn has already refused them on entities that do not take them.
func (co *company) txnTracking(in *txnIn, t *Txn) *faultError {
	var fe *faultError
	if t.ClassID, fe = co.trackingRef(classList, in.ClassRef); fe != nil {
		return fe
	}
	t.DepartmentID, fe = co.trackingRef(departmentList, in.DepartmentRef)
	return fe
}

func (co *company) entity(typ, id string) *Entity {
	switch typ {
	case "Customer":
		return findEntity(co.Customers, id)
	case "Vendor":
		return findEntity(co.Vendors, id)
	}
	return nil
}

func (co *company) entityCurrency(e *Entity) string {
	if e.Currency != "" {
		return e.Currency
	}
	return co.HomeCurrency
}

// controlTypes are the control accounts transactions post through:
// sales and payments through receivables, bills and bill payments
// through payables (§2.2: A/R lines name a customer, A/P lines a vendor).
var controlTypes = map[string]string{
	"Invoice": "Accounts Receivable", "CreditMemo": "Accounts Receivable", "Payment": "Accounts Receivable",
	"Bill": "Accounts Payable", "VendorCredit": "Accounts Payable", "BillPayment": "Accounts Payable",
}

// setControl picks the control account the transaction posts through. A
// chart without one cannot take the transaction (the wording is not in
// the reference).
func (co *company) setControl(t *Txn) *faultError {
	typ, ok := controlTypes[t.Type]
	if !ok {
		return nil
	}
	if t.ControlID = co.control(typ, t.Currency); t.ControlID == "" {
		return ptr(business(fmt.Sprintf("The company has no active %s account.", typ)))
	}
	return nil
}

// control is the company's Accounts Receivable or Accounts Payable
// account for a currency: the one in that currency, else the first.
// QuickBooks keeps one per currency in use (not in the reference); the
// sandbox's charts have one.
func (co *company) control(accountType, currency string) string {
	first := ""
	for _, a := range co.Accounts {
		if a.AccountType != accountType || a.Inactive {
			continue
		}
		if a.Currency == currency {
			return a.ID
		}
		if first == "" {
			first = a.ID
		}
	}
	return first
}

// amountOf reads a line or total amount: required (2020), a number
// (2010), at most 2 decimal places (§2.7, Rules.TooManyDecimals).
func (s *Server) amountOf(n json.Number, field string) (decimal.Decimal, *faultError) {
	if n == "" {
		return decimal.Zero, ptr(requiredParam(field))
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return decimal.Zero, ptr(invalidProperty(field))
	}
	if !d.Equal(d.Round(2)) {
		return decimal.Zero, ptr(fill(s.rules.TooManyDecimals, "{amount}", n.String()))
	}
	return d, nil
}

func describe(l txnLineIn) string {
	if l.Description == nil {
		return ""
	}
	return *l.Description
}

// lines checks that a transaction has lines, each of the one DetailType
// the entity takes here (2020 missing, 2170 another), and reads them
// with read.
func (s *Server) lines(in *txnIn, detail string, read func(l txnLineIn) (TxnLine, *faultError)) ([]TxnLine, decimal.Decimal, *faultError) {
	if in.Line == nil || len(*in.Line) == 0 {
		return nil, decimal.Zero, ptr(requiredParam("Line"))
	}
	var out []TxnLine
	total := decimal.Zero
	for _, l := range *in.Line {
		switch {
		case l.DetailType == "":
			return nil, decimal.Zero, ptr(requiredParam("Line.DetailType"))
		case l.DetailType != detail:
			// QuickBooks has other line types (sub-totals, discounts, item
			// lines on bills); the sandbox serves one per entity and
			// answers the others with 2170 (not in the reference).
			return nil, decimal.Zero, ptr(invalidEnum("Line.DetailType", l.DetailType))
		}
		amt, fe := s.amountOf(l.Amount, "Line.Amount")
		if fe != nil {
			return nil, decimal.Zero, fe
		}
		tl, fe := read(l)
		if fe != nil {
			return nil, decimal.Zero, fe
		}
		tl.Description, tl.Amount = describe(l), amt
		if tl.Qty != "" && tl.UnitPrice != "" {
			if fe := qtyTimesPrice(tl, l.Amount); fe != nil {
				return nil, decimal.Zero, fe
			}
		}
		out = append(out, tl)
		total = total.Add(amt)
	}
	return out, total, nil
}

// qtyTimesPrice is §2.5's 6070: "QBO rounds half-up" and rejects
// Amount ≠ round(Qty × UnitPrice) (§2.7).
func qtyTimesPrice(l TxnLine, given json.Number) *faultError {
	qty, err1 := decimal.NewFromString(l.Qty)
	price, err2 := decimal.NewFromString(l.UnitPrice)
	if err1 != nil || err2 != nil {
		return ptr(invalidProperty("Line.SalesItemLineDetail.UnitPrice"))
	}
	if !qty.Mul(price).Round(2).Equal(l.Amount) {
		return &faultError{Message: "Amount is not equal to UnitPrice * Qty",
			Detail: "Amount is not equal to UnitPrice * Qty. Supplied value:" + given.String(), Code: "6070"}
	}
	return nil
}

// parseSales reads an Invoice or a CreditMemo (§2.2: CustomerRef plus
// SalesItemLineDetail lines; "Every sales line needs an Item (ItemRef)
// … Items carry the income account"). A line posts to its item's income
// account, whatever that account's type: items on liability accounts
// (tax, tips, gift cards) are QuickBooks' own and not in the reference.
func parseSales(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	c, fe := co.activeName("Customer", in.CustomerRef, "CustomerRef")
	if fe != nil {
		return fe
	}
	t.EntityType, t.EntityID = "Customer", c.ID
	if in.DueDate != nil {
		t.DueDate = *in.DueDate
	}
	t.Lines, t.Total, fe = s.lines(in, "SalesItemLineDetail", func(l txnLineIn) (TxnLine, *faultError) {
		d := l.SalesItemLineDetail
		if d == nil {
			return TxnLine{}, ptr(requiredParam("Line.SalesItemLineDetail"))
		}
		it, fe := co.activeItem(d.ItemRef)
		if fe != nil {
			return TxnLine{}, fe
		}
		class, fe := co.trackingRef(classList, d.ClassRef)
		if fe != nil {
			return TxnLine{}, fe
		}
		return TxnLine{ItemID: it.ID, AccountID: it.IncomeAccountID, Qty: d.Qty.String(), UnitPrice: d.UnitPrice.String(), ClassID: class}, nil
	})
	if fe != nil {
		return fe
	}
	return nil
}

// activeItem resolves an ItemRef to an active item whose income account
// exists and is active (§2.2 items carry the income account; §2.5 610
// for an inactive item or account). An item without an income account
// (a Category) cannot be sold; the wording is not in the reference.
func (co *company) activeItem(ref *refIn) (*Item, *faultError) {
	if ref == nil || ref.Value == "" {
		return nil, ptr(requiredParam("Line.SalesItemLineDetail.ItemRef"))
	}
	var it *Item
	for i := range co.Items {
		if co.Items[i].ID == ref.Value {
			it = &co.Items[i]
		}
	}
	switch {
	case it == nil:
		return nil, ptr(invalidReference("Item", ref.Value))
	case it.Inactive:
		return nil, ptr(inactiveObject())
	case it.IncomeAccountID == "":
		return nil, ptr(business(fmt.Sprintf("Item %s has no income account and cannot be sold.", it.Name)))
	}
	a := co.account(it.IncomeAccountID)
	if a == nil {
		return nil, ptr(invalidReference("Accounts", it.IncomeAccountID))
	}
	if a.Inactive {
		return nil, ptr(inactiveObject())
	}
	return it, nil
}

// expenseLine reads an AccountBasedExpenseLineDetail (§2.2 Purchase,
// Bill). A line on Accounts Receivable or Accounts Payable would move a
// control account without a name; refusing it is not in the reference.
func expenseLine(co *company) func(l txnLineIn) (TxnLine, *faultError) {
	return func(l txnLineIn) (TxnLine, *faultError) {
		d := l.AccountBasedExpenseLineDetail
		if d == nil {
			return TxnLine{}, ptr(requiredParam("Line.AccountBasedExpenseLineDetail"))
		}
		a, fe := co.activeAccount(d.AccountRef, "Line.AccountBasedExpenseLineDetail.AccountRef")
		if fe != nil {
			return TxnLine{}, fe
		}
		if a.AccountType == "Accounts Receivable" || a.AccountType == "Accounts Payable" {
			return TxnLine{}, ptr(business(fmt.Sprintf("The account %s cannot be used on an expense line.", a.Name)))
		}
		class, fe := co.trackingRef(classList, d.ClassRef)
		if fe != nil {
			return TxnLine{}, fe
		}
		return TxnLine{AccountID: a.ID, ClassID: class}, nil
	}
}

// parseBill reads a Bill or a VendorCredit (§2.2: "POST /bill for a
// payable from a vendor (fields similar: VendorRef plus
// AccountBasedExpenseLineDetail)"; VendorCredit, its reverse, is not in
// the reference and takes the same shape).
func parseBill(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	v, fe := co.activeName("Vendor", in.VendorRef, "VendorRef")
	if fe != nil {
		return fe
	}
	t.EntityType, t.EntityID = "Vendor", v.ID
	if in.DueDate != nil {
		t.DueDate = *in.DueDate
	}
	if t.Lines, t.Total, fe = s.lines(in, "AccountBasedExpenseLineDetail", expenseLine(co)); fe != nil {
		return fe
	}
	return nil
}

// parsePurchase reads a Purchase (§2.2: PaymentType, AccountRef "bank/
// clearing the money leaves; CreditCard type needs a credit-card
// account", EntityRef, AccountBasedExpenseLineDetail lines). Which
// account types Cash and Check take beyond Bank and Other Current Asset
// is not in the reference.
func parsePurchase(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	switch in.PaymentType {
	case "":
		return ptr(requiredParam("PaymentType"))
	case "Cash", "Check", "CreditCard":
		t.PaymentType = in.PaymentType
	default:
		return ptr(invalidEnum("PaymentType", in.PaymentType))
	}
	a, fe := co.activeAccount(in.AccountRef, "AccountRef")
	if fe != nil {
		return fe
	}
	if in.PaymentType == "CreditCard" && a.AccountType != "Credit Card" {
		return ptr(business(fmt.Sprintf("A credit card purchase needs a credit card account; %s is not one.", a.Name)))
	}
	if in.PaymentType != "CreditCard" && !moneyAccount(a) {
		return ptr(business(fmt.Sprintf("A %s purchase is paid from a bank or other current asset account; %s is not one.", strings.ToLower(in.PaymentType), a.Name)))
	}
	t.AccountID = a.ID
	if in.EntityRef != nil {
		typ := in.EntityRef.Type
		if typ != "Vendor" && typ != "Customer" {
			return ptr(invalidEnum("EntityRef.type", typ))
		}
		e, fe := co.activeName(typ, in.EntityRef, "EntityRef")
		if fe != nil {
			return fe
		}
		t.EntityType, t.EntityID = typ, e.ID
	}
	t.Lines, t.Total, fe = s.lines(in, "AccountBasedExpenseLineDetail", expenseLine(co))
	return fe
}

// moneyAccount: the accounts money is received into and paid from
// outside bills: "Bank or Other Current Asset" (§2.2 RefundReceipt and
// SalesReceipt DepositToAccountRef; Codat's payment accounts are "Cash
// at bank and in hand" Asset accounts, codat-sync-for-commerce.md §3.2).
func moneyAccount(a *Account) bool {
	return a.AccountType == "Bank" || a.AccountType == "Other Current Asset"
}

// parseDeposit reads a Deposit with direct lines (§2.2: DepositToAccountRef,
// lines with DepositLineDetail {AccountRef, Entity}, each crediting its
// account). Lines that deposit linked payments from Undeposited Funds
// are not served. A line on Accounts Receivable names a customer and one
// on Accounts Payable a vendor, as journal lines must (§2.2); that
// deposits require it too is not in the reference.
func parseDeposit(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	a, fe := co.activeAccount(in.DepositToAccountRef, "DepositToAccountRef")
	if fe != nil {
		return fe
	}
	if !moneyAccount(a) {
		return ptr(business(fmt.Sprintf("Money is deposited into a bank or other current asset account; %s is not one.", a.Name)))
	}
	t.AccountID = a.ID
	if in.Line != nil {
		for _, l := range *in.Line {
			if len(l.LinkedTxn) > 0 {
				return ptr(faultError{Message: "Unsupported Operation", Detail: "Deposit lines linking transactions are not supported by the sandbox.", Code: "500"})
			}
		}
	}
	t.Lines, t.Total, fe = s.lines(in, "DepositLineDetail", func(l txnLineIn) (TxnLine, *faultError) {
		d := l.DepositLineDetail
		if d == nil {
			return TxnLine{}, ptr(requiredParam("Line.DepositLineDetail"))
		}
		acct, fe := co.activeAccount(d.AccountRef, "Line.DepositLineDetail.AccountRef")
		if fe != nil {
			return TxnLine{}, fe
		}
		class, fe := co.trackingRef(classList, d.ClassRef)
		if fe != nil {
			return TxnLine{}, fe
		}
		tl := TxnLine{AccountID: acct.ID, ClassID: class}
		if d.Entity != nil {
			if d.Entity.Type != "Customer" && d.Entity.Type != "Vendor" {
				return TxnLine{}, ptr(invalidEnum("Line.DepositLineDetail.Entity.type", d.Entity.Type))
			}
			e, fe := co.activeName(d.Entity.Type, d.Entity, "Line.DepositLineDetail.Entity")
			if fe != nil {
				return TxnLine{}, fe
			}
			tl.EntityType, tl.EntityID = d.Entity.Type, e.ID
		}
		return tl, controlNamed(acct, tl.EntityType)
	})
	return fe
}

// controlNamed is §2.2's rule for lines on the control accounts: A/R
// needs a customer, A/P a vendor (wording as the journal path's).
func controlNamed(a *Account, entityType string) *faultError {
	switch {
	case a.AccountType == "Accounts Receivable" && entityType != "Customer":
		return ptr(business("When you use Accounts Receivable, you must choose a customer in the Name field."))
	case a.AccountType == "Accounts Payable" && entityType != "Vendor":
		return ptr(business("When you use Accounts Payable, you must select a vendor in the Name field."))
	}
	return nil
}

// parseTransfer reads a Transfer (§2.2: FromAccountRef, ToAccountRef and
// Amount all required; "both accounts must be Asset classification",
// [SECONDARY]). Two different accounts in one currency, and a positive
// amount, are not in the reference.
func parseTransfer(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	from, fe := co.activeAccount(in.FromAccountRef, "FromAccountRef")
	if fe != nil {
		return fe
	}
	to, fe := co.activeAccount(in.ToAccountRef, "ToAccountRef")
	if fe != nil {
		return fe
	}
	amt, fe := s.amountOf(in.Amount, "Amount")
	if fe != nil {
		return fe
	}
	switch {
	case from.Classification != "Asset" || to.Classification != "Asset":
		return ptr(business(fmt.Sprintf("A transfer moves money between asset accounts; %s (%s) and %s (%s) are not both assets.",
			from.Name, from.Classification, to.Name, to.Classification)))
	case from.ID == to.ID:
		return ptr(business("A transfer needs two different accounts."))
	case from.Currency != to.Currency:
		return ptr(business(fmt.Sprintf("A transfer between %s (%s) and %s (%s) needs accounts in one currency.", from.Name, from.Currency, to.Name, to.Currency)))
	case !amt.IsPositive():
		return ptr(business("The amount of a transfer must be greater than zero."))
	}
	t.AccountID, t.ToAccountID, t.Total = from.ID, to.ID, amt
	return nil
}
