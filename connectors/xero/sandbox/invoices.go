package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The documents of invoice mode (accounting-platform-apis.md §1.2): sales
// invoices and bills (/Invoices), credit notes (/CreditNotes) and their
// allocations, payments against either (/Payments), spend and receive
// money (/BankTransactions) and transfers (/BankTransfers). Wording marked
// "not in the reference" is the sandbox's own; every other message is
// quoted from it.

// Contact is a customer or supplier of the organisation.
type Contact struct {
	ContactID  string // derived from tenant and name when empty
	Name       string
	IsCustomer bool
	IsSupplier bool
}

// Invoice is a stored invoice (ACCREC), bill (ACCPAY) or credit note
// (ACCRECCREDIT, ACCPAYCREDIT).
type Invoice struct {
	ID, Type, Number, Reference, ContactID, Status, Date, Currency string
	Lines                                                          []LineItem
	Total, Due                                                     decimal.Decimal
	Updated                                                        time.Time
}

// LineItem is one line of an invoice, credit note or bank transaction.
type LineItem struct {
	Description, AccountID, AccountCode string
	Amount                              decimal.Decimal
	Tracking                            []LineTracking
}

// Payment is money paid against an invoice or a credit note.
type Payment struct {
	ID, DocumentID, DocumentType, AccountID, AccountCode, Reference, Date string
	Amount                                                                decimal.Decimal
}

// Allocation sets part of a credit note against an invoice.
type Allocation struct {
	ID, CreditNoteID, InvoiceID, Date string
	Amount                            decimal.Decimal
}

// BankTransaction is spend (SPEND) or receive (RECEIVE) money.
type BankTransaction struct {
	ID, Type, ContactID, BankAccountID, BankAccountCode, Reference, Date, Currency string
	Lines                                                                          []LineItem
	Total                                                                          decimal.Decimal
}

// BankTransfer moves money between two bank accounts.
type BankTransfer struct {
	ID, FromAccountID, ToAccountID, Reference, Date string
	Amount                                          decimal.Decimal
}

// books holds an organisation's invoice-mode documents.
type books struct {
	invoices    []*Invoice
	payments    []*Payment
	allocations []*Allocation
	bankTxns    []*BankTransaction
	transfers   []*BankTransfer
}

// Request shapes (spec schemas Invoice, CreditNote, LineItem, Payment,
// Allocation, BankTransaction, BankTransfer); only the fields the sandbox
// acts on.
type idRef struct {
	ContactID    string `json:"ContactID,omitempty"`
	InvoiceID    string `json:"InvoiceID,omitempty"`
	CreditNoteID string `json:"CreditNoteID,omitempty"`
	AccountID    string `json:"AccountID,omitempty"`
	Code         string `json:"Code,omitempty"`
}

type lineItemIn struct {
	Description string          `json:"Description"`
	Quantity    json.Number     `json:"Quantity"`
	UnitAmount  json.Number     `json:"UnitAmount"`
	AccountCode string          `json:"AccountCode"`
	AccountID   string          `json:"AccountID"`
	TaxType     string          `json:"TaxType"`
	Tracking    json.RawMessage `json:"Tracking"`
}

type invoiceIn struct {
	Type             string       `json:"Type"`
	Contact          *idRef       `json:"Contact"`
	Date             string       `json:"Date"`
	DueDate          string       `json:"DueDate"`
	InvoiceNumber    string       `json:"InvoiceNumber"`
	CreditNoteNumber string       `json:"CreditNoteNumber"`
	Reference        string       `json:"Reference"`
	Status           string       `json:"Status"`
	LineAmountTypes  string       `json:"LineAmountTypes"`
	CurrencyCode     string       `json:"CurrencyCode"`
	LineItems        []lineItemIn `json:"LineItems"`
}

type paymentIn struct {
	Invoice    *idRef      `json:"Invoice"`
	CreditNote *idRef      `json:"CreditNote"`
	Account    *idRef      `json:"Account"`
	Date       string      `json:"Date"`
	Amount     json.Number `json:"Amount"`
	Reference  string      `json:"Reference"`
}

type allocationIn struct {
	Invoice *idRef      `json:"Invoice"`
	Amount  json.Number `json:"Amount"`
	Date    string      `json:"Date"`
}

type bankTxnIn struct {
	Type            string       `json:"Type"`
	Contact         *idRef       `json:"Contact"`
	BankAccount     *idRef       `json:"BankAccount"`
	Date            string       `json:"Date"`
	Reference       string       `json:"Reference"`
	LineAmountTypes string       `json:"LineAmountTypes"`
	CurrencyCode    string       `json:"CurrencyCode"`
	LineItems       []lineItemIn `json:"LineItems"`
}

type transferIn struct {
	FromBankAccount *idRef      `json:"FromBankAccount"`
	ToBankAccount   *idRef      `json:"ToBankAccount"`
	Amount          json.Number `json:"Amount"`
	Date            string      `json:"Date"`
	Reference       string      `json:"Reference"`
}

// element is one checked element of a create request: its errors, and the
// commit that stores it once the whole request is valid.
type element struct {
	errors []string
	commit func() any // returns the stored element's rendering
	echo   any        // the input, echoed with its errors
}

// createDocs runs a create route: schema gate, decode, check every element
// (collecting all errors, as Xero does), then store all or none. Only
// Xero's default summarizeErrors=true is emulated for these routes.
func (s *Server) createDocs(req *apiRequest, specPath, wrapper string, check func(o *org, raw json.RawMessage) element) apiResponse {
	if resp, ok := s.checkSchema(req, specPath); !ok {
		return resp
	}
	var in map[string][]json.RawMessage
	if err := json.Unmarshal(req.body, &in); err != nil {
		return validationOnly("The request body could not be read: " + err.Error()) // not in the reference
	}
	items := in[wrapper]
	if len(items) == 0 {
		return validationOnly(fmt.Sprintf("No %s were found in the request.", wrapper)) // not in the reference
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(req.tenantID)
	els := make([]element, len(items))
	failed := false
	for i, raw := range items {
		els[i] = check(o, raw)
		failed = failed || len(els[i].errors) > 0
	}
	if failed {
		elements := make([]json.RawMessage, len(els))
		for i, e := range els {
			m := map[string]any{}
			b, _ := json.Marshal(e.echo)
			_ = json.Unmarshal(b, &m)
			var ve []validationError
			for _, msg := range e.errors {
				ve = append(ve, validationError{msg})
			}
			m["ValidationErrors"] = ve
			elements[i], _ = json.Marshal(m)
		}
		return validationException(elements)
	}
	out := make([]any, len(els))
	for i, e := range els {
		out[i] = e.commit()
	}
	return okEnvelope(req, field{wrapper, out})
}

func decodeNumbers(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// docDate parses a document date and refuses one on or before a lock date
// (accounting-platform-apis.md §1.5, §6.4).
func (o *org) docDate(raw string, now time.Time) (string, []string) {
	var c checked
	c.checkDate(raw, o, now)
	return c.journal.Date, c.errors
}

// currency defaults to the base currency and must be one the organisation
// uses: "Organisation is not subscribed to currency EUR" (accounting-platform-apis.md §1.5).
func (o *org) currency(code string) (string, []string) {
	if code == "" {
		return o.BaseCurrency, nil
	}
	for _, c := range o.Currencies {
		if strings.EqualFold(c.Code, code) {
			return c.Code, nil
		}
	}
	return code, []string{fmt.Sprintf("Organisation is not subscribed to currency %s", code)}
}

func (o *org) contact(ref *idRef) (*Contact, []string) {
	if ref == nil || ref.ContactID == "" {
		return nil, []string{"A Contact must be specified for this type of transaction"} // not in the reference
	}
	for i := range o.Contacts {
		if strings.EqualFold(o.Contacts[i].ContactID, ref.ContactID) {
			return &o.Contacts[i], nil
		}
	}
	return nil, []string{fmt.Sprintf("The contact with the ID '%s' could not be found.", ref.ContactID)} // not in the reference
}

// account resolves an account by code or id; archived ones are refused
// with "Account code '310' has been archived, or deleted." (accounting-platform-apis.md §1.5).
func (o *org) account(code, id string) (*Account, []string) {
	for i := range o.Accounts {
		a := &o.Accounts[i]
		if (code != "" && strings.EqualFold(a.Code, code)) || (code == "" && id != "" && strings.EqualFold(a.AccountID, id)) {
			if a.Status == "ARCHIVED" || a.Status == "DELETED" {
				return a, []string{fmt.Sprintf("Account code '%s' has been archived, or deleted.", a.Code)}
			}
			return a, nil
		}
	}
	if code == "" && id == "" {
		return nil, []string{"Account code must be specified."} // not in the reference
	}
	return nil, []string{fmt.Sprintf("Account code '%s' is not a valid code for this document.", code+id)} // not in the reference
}

// lineItems checks the lines of an invoice, credit note or bank
// transaction: 2 decimal places (4 with unitdp=4, §1.7), accounts that are
// neither bank nor system accounts. The sandbox computes no tax: with
// NoTax a line is its quantity times its unit amount.
func (o *org) lineItems(in []lineItemIn, unitdp int32) ([]LineItem, decimal.Decimal, []string) {
	var errs []string
	var out []LineItem
	total := decimal.Zero
	if len(in) == 0 {
		errs = append(errs, "At least one line item must be specified.") // not in the reference
	}
	for _, l := range in {
		qty := decimal.NewFromInt(1)
		if l.Quantity != "" {
			q, err := decimal.NewFromString(l.Quantity.String())
			if err != nil {
				errs = append(errs, fmt.Sprintf("Quantity '%s' is not a number.", l.Quantity)) // not in the reference
				continue
			}
			qty = q
		}
		unit, err := decimal.NewFromString(l.UnitAmount.String())
		if err != nil {
			errs = append(errs, fmt.Sprintf("UnitAmount '%s' is not a number.", l.UnitAmount)) // not in the reference
			continue
		}
		if !unit.Equal(unit.Round(unitdp)) {
			errs = append(errs, fmt.Sprintf("UnitAmount %s has more than %d decimal places.", l.UnitAmount, unitdp)) // not in the reference
		}
		a, aerrs := o.account(l.AccountCode, l.AccountID)
		errs = append(errs, aerrs...)
		if a != nil && len(aerrs) == 0 {
			switch {
			case a.Type == "BANK":
				errs = append(errs, fmt.Sprintf("Account code '%s' is a bank account and cannot be used on a line item.", a.Code)) // not in the reference
			case a.SystemAccount != "" && a.SystemAccount != "ROUNDING":
				errs = append(errs, fmt.Sprintf("Account code '%s' is a system account and cannot be used on a line item.", a.Code)) // not in the reference
			}
		}
		amt := qty.Mul(unit).Round(2)
		total = total.Add(amt)
		li := LineItem{Description: l.Description, Amount: amt}
		var terrs []string
		li.Tracking, terrs = o.tracking(l.Tracking)
		errs = append(errs, terrs...)
		if a != nil {
			li.AccountID, li.AccountCode = a.AccountID, a.Code
		}
		out = append(out, li)
	}
	return out, total, errs
}

func unitDP(req *apiRequest) int32 {
	if req.query.Get("unitdp") == "4" {
		return 4
	}
	return 2
}

// createInvoices handles PUT /Invoices (ACCREC and ACCPAY) and PUT
// /CreditNotes (ACCRECCREDIT and ACCPAYCREDIT).
func (s *Server) createInvoices(req *apiRequest, credit bool) apiResponse {
	specPath, wrapper := "/Invoices", "Invoices"
	types := []string{"ACCREC", "ACCPAY"}
	if credit {
		specPath, wrapper = "/CreditNotes", "CreditNotes"
		types = []string{"ACCRECCREDIT", "ACCPAYCREDIT"}
	}
	return s.createDocs(req, specPath, wrapper, func(o *org, raw json.RawMessage) element {
		var in invoiceIn
		if err := decodeNumbers(raw, &in); err != nil {
			return element{errors: []string{"The element could not be read: " + err.Error()}, echo: json.RawMessage(raw)}
		}
		var errs []string
		inv := &Invoice{Type: in.Type, Number: in.InvoiceNumber, Reference: in.Reference, Status: strings.ToUpper(in.Status)}
		if credit {
			inv.Number = in.CreditNoteNumber
		}
		if !slices.Contains(types, in.Type) {
			errs = append(errs, fmt.Sprintf("Type must be one of %s.", strings.Join(types, ", "))) // not in the reference
		}
		c, cerrs := o.contact(in.Contact)
		errs = append(errs, cerrs...)
		if c != nil {
			inv.ContactID = c.ContactID
		}
		switch inv.Status {
		case "":
			inv.Status = "DRAFT"
		case "DRAFT", "SUBMITTED", "AUTHORISED":
		default:
			errs = append(errs, fmt.Sprintf("A new document cannot have the status %s.", inv.Status)) // not in the reference
		}
		if lt := in.LineAmountTypes; lt != "" && lt != "NoTax" && lt != "Exclusive" && lt != "Inclusive" {
			errs = append(errs, fmt.Sprintf("LineAmountTypes %s is not valid.", lt)) // not in the reference
		}
		var derrs, uerrs, lerrs []string
		inv.Date, derrs = o.docDate(in.Date, req.now)
		inv.Currency, uerrs = o.currency(in.CurrencyCode)
		inv.Lines, inv.Total, lerrs = o.lineItems(in.LineItems, unitDP(req))
		errs = append(append(append(errs, derrs...), uerrs...), lerrs...)
		if inv.Total.IsNegative() {
			// Xero does not allow negative-total invoices (codat-sync-for-commerce.md §3.4).
			errs = append(errs, "The total of the document cannot be negative.") // wording not in the reference
		}
		if in.Type == "ACCREC" && inv.Number != "" {
			// "Invoice # must be unique." (accounting-platform-apis.md §1.4, §1.5)
			for _, other := range o.invoices {
				if other.Type == "ACCREC" && strings.EqualFold(other.Number, inv.Number) && other.Status != "DELETED" && other.Status != "VOIDED" {
					errs = append(errs, "Invoice # must be unique.")
					break
				}
			}
		}
		inv.Due = inv.Total
		return element{errors: errs, echo: in, commit: func() any {
			inv.ID, inv.Updated = newUUID(), req.now
			if inv.Number == "" && !strings.HasPrefix(inv.Type, "ACCPAY") {
				inv.Number = fmt.Sprintf("INV-%04d", len(o.invoices)+1)
			}
			if inv.Status == "AUTHORISED" && inv.Due.IsZero() {
				inv.Status = "PAID"
			}
			o.invoices = append(o.invoices, inv)
			return inv.render(o)
		}}
	})
}

func (inv *Invoice) credit() bool { return strings.HasSuffix(inv.Type, "CREDIT") }

func (inv *Invoice) render(o *org) map[string]any {
	idKey, numKey := "InvoiceID", "InvoiceNumber"
	if inv.credit() {
		idKey, numKey = "CreditNoteID", "CreditNoteNumber"
	}
	lines := make([]map[string]any, 0, len(inv.Lines))
	for _, l := range inv.Lines {
		lines = append(lines, map[string]any{
			"Description": l.Description, "Quantity": json.RawMessage("1.0000"), "UnitAmount": json.RawMessage(l.Amount.StringFixed(2)),
			"AccountCode": l.AccountCode, "TaxType": "NONE", "TaxAmount": json.RawMessage("0.00"), "LineAmount": json.RawMessage(l.Amount.StringFixed(2)),
		})
	}
	out := map[string]any{
		"Type": inv.Type, idKey: inv.ID, numKey: inv.Number, "Reference": inv.Reference, "Status": inv.Status,
		"Contact":      map[string]any{"ContactID": inv.ContactID, "Name": o.contactName(inv.ContactID)},
		"CurrencyCode": inv.Currency, "LineAmountTypes": "NoTax", "LineItems": lines,
		"SubTotal": json.RawMessage(inv.Total.StringFixed(2)), "TotalTax": json.RawMessage("0.00"),
		"Total": json.RawMessage(inv.Total.StringFixed(2)), "UpdatedDateUTC": msDate(inv.Updated),
	}
	if d, err := time.Parse(time.DateOnly, inv.Date); err == nil {
		out["Date"] = msDate(d)
	}
	if inv.credit() {
		out["RemainingCredit"] = json.RawMessage(inv.Due.StringFixed(2))
	} else {
		out["AmountDue"] = json.RawMessage(inv.Due.StringFixed(2))
		out["AmountPaid"] = json.RawMessage(inv.Total.Sub(inv.Due).StringFixed(2))
	}
	return out
}

func (o *org) contactName(id string) string {
	for _, c := range o.Contacts {
		if c.ContactID == id {
			return c.Name
		}
	}
	return ""
}

func (o *org) findInvoice(id string, credit bool) *Invoice {
	for _, inv := range o.invoices {
		if strings.EqualFold(inv.ID, id) && inv.credit() == credit {
			return inv
		}
	}
	return nil
}

// amount parses a positive money amount with 2 decimal places.
func amount(n json.Number) (decimal.Decimal, []string) {
	d, err := decimal.NewFromString(n.String())
	switch {
	case err != nil:
		return d, []string{fmt.Sprintf("Amount '%s' is not a number.", n)} // not in the reference
	case !d.Equal(d.Round(2)):
		return d, []string{fmt.Sprintf("Amount %s has more than 2 decimal places.", n)} // not in the reference
	case !d.IsPositive():
		return d, []string{"Amount must be greater than zero."} // not in the reference
	}
	return d, nil
}

// settle checks that amt may be paid or allocated against doc: it must be
// AUTHORISED, and amt may not exceed what is outstanding ("Payment amount
// exceeds the amount outstanding on this document", accounting-platform-apis.md §1.5).
func settle(doc *Invoice, amt decimal.Decimal) []string {
	if doc.Status != "AUTHORISED" && doc.Status != "PAID" {
		return []string{fmt.Sprintf("Payments can only be made against Authorised documents; this one is %s.", doc.Status)} // not in the reference
	}
	if amt.GreaterThan(doc.Due) {
		return []string{"Payment amount exceeds the amount outstanding on this document"}
	}
	return nil
}

func pay(doc *Invoice, amt decimal.Decimal) {
	doc.Due = doc.Due.Sub(amt)
	if doc.Due.IsZero() {
		doc.Status = "PAID"
	}
}

// createPayments handles PUT /Payments against an invoice or a credit
// note. The account must be a bank account or one with "Enable payments to
// this account" (codat-sync-for-commerce.md §3.1; accounting-platform-apis.md §1.2).
func (s *Server) createPayments(req *apiRequest) apiResponse {
	return s.createDocs(req, "/Payments", "Payments", func(o *org, raw json.RawMessage) element {
		var in paymentIn
		if err := decodeNumbers(raw, &in); err != nil {
			return element{errors: []string{"The element could not be read: " + err.Error()}, echo: json.RawMessage(raw)}
		}
		var errs []string
		p := &Payment{Reference: in.Reference}
		var doc *Invoice
		switch {
		case in.Invoice != nil && in.Invoice.InvoiceID != "" && in.CreditNote == nil:
			if doc = o.findInvoice(in.Invoice.InvoiceID, false); doc == nil {
				errs = append(errs, fmt.Sprintf("Invoice with ID '%s' could not be found.", in.Invoice.InvoiceID)) // not in the reference
			}
			p.DocumentType = "Invoice"
		case in.CreditNote != nil && in.CreditNote.CreditNoteID != "" && in.Invoice == nil:
			if doc = o.findInvoice(in.CreditNote.CreditNoteID, true); doc == nil {
				errs = append(errs, fmt.Sprintf("Credit note with ID '%s' could not be found.", in.CreditNote.CreditNoteID)) // not in the reference
			}
			p.DocumentType = "CreditNote"
		default:
			errs = append(errs, "A payment must be against exactly one Invoice or CreditNote.") // not in the reference
		}
		amt, aerrs := amount(in.Amount)
		errs = append(errs, aerrs...)
		if in.Account == nil {
			errs = append(errs, "Account must be specified.") // not in the reference
		} else {
			a, accErrs := o.account(in.Account.Code, in.Account.AccountID)
			errs = append(errs, accErrs...)
			if a != nil && len(accErrs) == 0 {
				if a.Type != "BANK" && !a.EnablePaymentsToAccount {
					errs = append(errs, fmt.Sprintf("Account code '%s' is not a bank account and does not have payments enabled.", a.Code)) // not in the reference
				}
				p.AccountID, p.AccountCode = a.AccountID, a.Code
			}
		}
		var derrs []string
		p.Date, derrs = o.docDate(in.Date, req.now)
		errs = append(errs, derrs...)
		if doc != nil && len(aerrs) == 0 {
			errs = append(errs, settle(doc, amt)...)
		}
		p.Amount = amt
		return element{errors: errs, echo: in, commit: func() any {
			p.ID, p.DocumentID = newUUID(), doc.ID
			pay(doc, amt)
			o.payments = append(o.payments, p)
			return p.render()
		}}
	})
}

func (p *Payment) render() map[string]any {
	out := map[string]any{
		"PaymentID": p.ID, "Amount": json.RawMessage(p.Amount.StringFixed(2)), "Reference": p.Reference, "Status": "AUTHORISED",
		"Account": map[string]any{"AccountID": p.AccountID, "Code": p.AccountCode},
	}
	if p.DocumentType == "CreditNote" {
		out["CreditNote"] = map[string]any{"CreditNoteID": p.DocumentID}
	} else {
		out["Invoice"] = map[string]any{"InvoiceID": p.DocumentID}
	}
	if d, err := time.Parse(time.DateOnly, p.Date); err == nil {
		out["Date"] = msDate(d)
	}
	return out
}

// createAllocations handles PUT /CreditNotes/{CreditNoteID}/Allocations
// (required Amount, Invoice, Date; accounting-platform-apis.md §1.2).
func (s *Server) createAllocations(req *apiRequest, creditNoteID string) apiResponse {
	return s.createDocs(req, "/CreditNotes/{CreditNoteID}/Allocations", "Allocations", func(o *org, raw json.RawMessage) element {
		var in allocationIn
		if err := decodeNumbers(raw, &in); err != nil {
			return element{errors: []string{"The element could not be read: " + err.Error()}, echo: json.RawMessage(raw)}
		}
		var errs []string
		cn := o.findInvoice(creditNoteID, true)
		if cn == nil {
			errs = append(errs, fmt.Sprintf("Credit note with ID '%s' could not be found.", creditNoteID)) // not in the reference
		}
		var inv *Invoice
		if in.Invoice == nil || in.Invoice.InvoiceID == "" {
			errs = append(errs, "Invoice must be specified.") // not in the reference
		} else if inv = o.findInvoice(in.Invoice.InvoiceID, false); inv == nil {
			errs = append(errs, fmt.Sprintf("Invoice with ID '%s' could not be found.", in.Invoice.InvoiceID)) // not in the reference
		}
		amt, aerrs := amount(in.Amount)
		errs = append(errs, aerrs...)
		date, derrs := o.docDate(in.Date, req.now)
		errs = append(errs, derrs...)
		if cn != nil && inv != nil && len(aerrs) == 0 {
			if cn.ContactID != inv.ContactID || cn.Currency != inv.Currency || strings.TrimSuffix(cn.Type, "CREDIT") != inv.Type {
				errs = append(errs, "A credit note can only be allocated to an invoice of the same contact, type and currency.") // not in the reference
			}
			errs = append(errs, settle(cn, amt)...)
			errs = append(errs, settle(inv, amt)...)
		}
		return element{errors: errs, echo: in, commit: func() any {
			a := &Allocation{ID: newUUID(), CreditNoteID: cn.ID, InvoiceID: inv.ID, Date: date, Amount: amt}
			pay(cn, amt)
			pay(inv, amt)
			o.allocations = append(o.allocations, a)
			return a.render()
		}}
	})
}

func (a *Allocation) render() map[string]any {
	out := map[string]any{
		"AllocationID": a.ID, "Amount": json.RawMessage(a.Amount.StringFixed(2)),
		"Invoice": map[string]any{"InvoiceID": a.InvoiceID}, "CreditNote": map[string]any{"CreditNoteID": a.CreditNoteID},
	}
	if d, err := time.Parse(time.DateOnly, a.Date); err == nil {
		out["Date"] = msDate(d)
	}
	return out
}

// bankAccount resolves an account that must be of type BANK (bank
// transactions' BankAccount, both sides of a transfer; accounting-platform-apis.md §1.2).
func (o *org) bankAccount(ref *idRef, what string) (*Account, []string) {
	if ref == nil {
		return nil, []string{what + " must be specified."} // not in the reference
	}
	a, errs := o.account(ref.Code, ref.AccountID)
	if a != nil && len(errs) == 0 && a.Type != "BANK" {
		errs = append(errs, fmt.Sprintf("%s: account code '%s' is not a bank account.", what, a.Code)) // not in the reference
	}
	return a, errs
}

// createBankTransactions handles PUT /BankTransactions, SPEND and RECEIVE
// (required Type, LineItems, BankAccount; Xero also requires a Contact;
// accounting-platform-apis.md §1.2).
func (s *Server) createBankTransactions(req *apiRequest) apiResponse {
	return s.createDocs(req, "/BankTransactions", "BankTransactions", func(o *org, raw json.RawMessage) element {
		var in bankTxnIn
		if err := decodeNumbers(raw, &in); err != nil {
			return element{errors: []string{"The element could not be read: " + err.Error()}, echo: json.RawMessage(raw)}
		}
		var errs []string
		t := &BankTransaction{Type: in.Type, Reference: in.Reference}
		if in.Type != "SPEND" && in.Type != "RECEIVE" {
			errs = append(errs, "Type must be SPEND or RECEIVE.") // the sandbox emulates these two; wording not in the reference
		}
		c, cerrs := o.contact(in.Contact)
		errs = append(errs, cerrs...)
		if c != nil {
			t.ContactID = c.ContactID
		}
		a, berrs := o.bankAccount(in.BankAccount, "BankAccount")
		errs = append(errs, berrs...)
		if a != nil {
			t.BankAccountID, t.BankAccountCode = a.AccountID, a.Code
		}
		var derrs, uerrs, lerrs []string
		t.Date, derrs = o.docDate(in.Date, req.now)
		t.Currency, uerrs = o.currency(in.CurrencyCode)
		t.Lines, t.Total, lerrs = o.lineItems(in.LineItems, unitDP(req))
		errs = append(append(append(errs, derrs...), uerrs...), lerrs...)
		if !t.Total.IsPositive() && len(lerrs) == 0 {
			errs = append(errs, "The total of the transaction must be greater than zero.") // not in the reference
		}
		return element{errors: errs, echo: in, commit: func() any {
			t.ID = newUUID()
			o.bankTxns = append(o.bankTxns, t)
			return t.render()
		}}
	})
}

func (t *BankTransaction) render() map[string]any {
	lines := make([]map[string]any, 0, len(t.Lines))
	for _, l := range t.Lines {
		lines = append(lines, map[string]any{"Description": l.Description, "AccountCode": l.AccountCode,
			"UnitAmount": json.RawMessage(l.Amount.StringFixed(2)), "LineAmount": json.RawMessage(l.Amount.StringFixed(2))})
	}
	out := map[string]any{
		"BankTransactionID": t.ID, "Type": t.Type, "Reference": t.Reference, "Status": "AUTHORISED",
		"Contact": map[string]any{"ContactID": t.ContactID}, "BankAccount": map[string]any{"AccountID": t.BankAccountID, "Code": t.BankAccountCode},
		"CurrencyCode": t.Currency, "LineAmountTypes": "NoTax", "LineItems": lines, "Total": json.RawMessage(t.Total.StringFixed(2)),
	}
	if d, err := time.Parse(time.DateOnly, t.Date); err == nil {
		out["Date"] = msDate(d)
	}
	return out
}

// createBankTransfers handles PUT /BankTransfers: both accounts BANK
// (accounting-platform-apis.md §1.2).
func (s *Server) createBankTransfers(req *apiRequest) apiResponse {
	return s.createDocs(req, "/BankTransfers", "BankTransfers", func(o *org, raw json.RawMessage) element {
		var in transferIn
		if err := decodeNumbers(raw, &in); err != nil {
			return element{errors: []string{"The element could not be read: " + err.Error()}, echo: json.RawMessage(raw)}
		}
		var errs []string
		from, ferrs := o.bankAccount(in.FromBankAccount, "FromBankAccount")
		to, terrs := o.bankAccount(in.ToBankAccount, "ToBankAccount")
		errs = append(append(errs, ferrs...), terrs...)
		if from != nil && to != nil && from.AccountID == to.AccountID {
			errs = append(errs, "The from and to bank accounts must be different.") // not in the reference
		}
		amt, aerrs := amount(in.Amount)
		date, derrs := o.docDate(in.Date, req.now)
		errs = append(append(errs, aerrs...), derrs...)
		return element{errors: errs, echo: in, commit: func() any {
			t := &BankTransfer{ID: newUUID(), FromAccountID: from.AccountID, ToAccountID: to.AccountID, Reference: in.Reference, Date: date, Amount: amt}
			o.transfers = append(o.transfers, t)
			return t.render(o)
		}}
	})
}

func (t *BankTransfer) render(o *org) map[string]any {
	code := func(id string) string {
		for _, a := range o.Accounts {
			if a.AccountID == id {
				return a.Code
			}
		}
		return ""
	}
	out := map[string]any{
		"BankTransferID": t.ID, "Amount": json.RawMessage(t.Amount.StringFixed(2)), "Reference": t.Reference,
		"FromBankAccount": map[string]any{"AccountID": t.FromAccountID, "Code": code(t.FromAccountID)},
		"ToBankAccount":   map[string]any{"AccountID": t.ToAccountID, "Code": code(t.ToAccountID)},
		"CurrencyRate":    json.RawMessage("1.000000"), "Status": "AUTHORISED",
	}
	if d, err := time.Parse(time.DateOnly, t.Date); err == nil {
		out["Date"] = msDate(d)
	}
	return out
}

// list answers a GET of a collection filtered by where= (and, for
// invoices, InvoiceNumbers=), as the spec's list operations do.
func (s *Server) list(req *apiRequest, wrapper string, rows func(o *org) []listRow) apiResponse {
	w, err := parseWhere(req.query.Get("where"))
	if err != nil {
		return queryParseException(err)
	}
	numbers := map[string]bool{}
	for _, n := range strings.Split(req.query.Get("InvoiceNumbers"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			numbers[strings.ToLower(n)] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, r := range rows(s.org(req.tenantID)) {
		ok, err := w.match(r.fields)
		if err != nil {
			return queryParseException(err)
		}
		if ok && (len(numbers) == 0 || numbers[strings.ToLower(r.fields["invoicenumber"])]) {
			out = append(out, r.render())
		}
	}
	return okEnvelope(req, field{wrapper, out})
}

type listRow struct {
	fields map[string]string
	render func() any
}

func (s *Server) listInvoices(req *apiRequest, credit bool) apiResponse {
	wrapper := "Invoices"
	if credit {
		wrapper = "CreditNotes"
	}
	return s.list(req, wrapper, func(o *org) []listRow {
		var rows []listRow
		for _, inv := range o.invoices {
			if inv.credit() != credit {
				continue
			}
			f := map[string]string{"type": inv.Type, "status": inv.Status, "reference": inv.Reference, "date": inv.Date, "contact.contactid": inv.ContactID}
			if credit {
				f["creditnoteid"], f["creditnotenumber"] = inv.ID, inv.Number
			} else {
				f["invoiceid"], f["invoicenumber"] = inv.ID, inv.Number
			}
			rows = append(rows, listRow{fields: f, render: func() any { return inv.render(o) }})
		}
		return rows
	})
}

func (s *Server) listPayments(req *apiRequest) apiResponse {
	return s.list(req, "Payments", func(o *org) []listRow {
		var rows []listRow
		for _, p := range o.payments {
			rows = append(rows, listRow{fields: map[string]string{"paymentid": p.ID, "reference": p.Reference, "status": "AUTHORISED", "date": p.Date},
				render: func() any { return p.render() }})
		}
		return rows
	})
}

func (s *Server) listBankTransactions(req *apiRequest) apiResponse {
	return s.list(req, "BankTransactions", func(o *org) []listRow {
		var rows []listRow
		for _, t := range o.bankTxns {
			rows = append(rows, listRow{fields: map[string]string{"banktransactionid": t.ID, "reference": t.Reference, "type": t.Type, "status": "AUTHORISED", "date": t.Date},
				render: func() any { return t.render() }})
		}
		return rows
	})
}

func (s *Server) listBankTransfers(req *apiRequest) apiResponse {
	return s.list(req, "BankTransfers", func(o *org) []listRow {
		var rows []listRow
		for _, t := range o.transfers {
			rows = append(rows, listRow{fields: map[string]string{"banktransferid": t.ID, "reference": t.Reference, "date": t.Date},
				render: func() any { return t.render(o) }})
		}
		return rows
	})
}

// getCreditNote answers GET /CreditNotes/{id} with its allocations, which
// is how a client finds an allocation again.
func (s *Server) getCreditNote(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(req.tenantID)
	cn := o.findInvoice(id, true)
	if cn == nil {
		return notFound()
	}
	out := cn.render(o)
	allocs := []any{}
	for _, a := range o.allocations {
		if a.CreditNoteID == cn.ID {
			allocs = append(allocs, a.render())
		}
	}
	out["Allocations"] = allocs
	return okEnvelope(req, field{"CreditNotes", []any{out}})
}

func (s *Server) listContacts(req *apiRequest) apiResponse {
	return s.list(req, "Contacts", func(o *org) []listRow {
		var rows []listRow
		for _, c := range o.Contacts {
			rows = append(rows, listRow{fields: map[string]string{"contactid": c.ContactID, "name": c.Name, "contactstatus": "ACTIVE"},
				render: func() any {
					return map[string]any{"ContactID": c.ContactID, "Name": c.Name, "ContactStatus": "ACTIVE", "IsCustomer": c.IsCustomer, "IsSupplier": c.IsSupplier}
				}})
		}
		return rows
	})
}

// Balances returns what the organisation's posted documents move on each
// account, by account code, debit positive: journals, and authorised
// invoices, credit notes, payments, allocations, bank transactions and
// transfers, with receivables on the DEBTORS account and payables on the
// CREDITORS account. It is the trial balance of what was pushed, for
// documents dated on date, or all when date is "".
func (s *Server) Balances(tenantID, date string) map[string]decimal.Decimal {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[tenantID]
	out := map[string]decimal.Decimal{}
	if o == nil {
		return out
	}
	code := func(id string) string {
		for _, a := range o.Accounts {
			if a.AccountID == id {
				return a.Code
			}
		}
		return id
	}
	system := func(sys string) string {
		for _, a := range o.Accounts {
			if a.SystemAccount == sys {
				return a.Code
			}
		}
		return sys
	}
	add := func(acct string, d decimal.Decimal) { out[acct] = out[acct].Add(d) }
	on := func(d string) bool { return date == "" || d == date }
	for _, j := range o.journals {
		if j.Status != "POSTED" || !on(j.Date) {
			continue
		}
		for _, l := range j.Lines {
			add(l.AccountCode, l.Amount)
		}
	}
	control := map[string]string{"ACCREC": system("DEBTORS"), "ACCRECCREDIT": system("DEBTORS"), "ACCPAY": system("CREDITORS"), "ACCPAYCREDIT": system("CREDITORS")}
	// sign is the direction of a document's lines: sales credit revenue,
	// bills debit expenses, credit notes the reverse.
	sign := map[string]int64{"ACCREC": -1, "ACCRECCREDIT": 1, "ACCPAY": 1, "ACCPAYCREDIT": -1}
	docs := map[string]*Invoice{}
	for _, inv := range o.invoices {
		docs[inv.ID] = inv
		if inv.Status != "AUTHORISED" && inv.Status != "PAID" || !on(inv.Date) {
			continue
		}
		sg := decimal.NewFromInt(sign[inv.Type])
		for _, l := range inv.Lines {
			add(l.AccountCode, l.Amount.Mul(sg))
		}
		add(control[inv.Type], inv.Total.Mul(sg).Neg())
	}
	for _, p := range o.payments {
		if !on(p.Date) {
			continue
		}
		doc := docs[p.DocumentID]
		// Paying a document moves its control account back by the amount
		// and the payment account the other way.
		sg := decimal.NewFromInt(sign[doc.Type])
		add(p.AccountCode, p.Amount.Mul(sg).Neg())
		add(control[doc.Type], p.Amount.Mul(sg))
	}
	for _, t := range o.bankTxns {
		if !on(t.Date) {
			continue
		}
		sg := decimal.NewFromInt(1)
		if t.Type == "RECEIVE" {
			sg = sg.Neg()
		}
		for _, l := range t.Lines {
			add(l.AccountCode, l.Amount.Mul(sg))
		}
		add(t.BankAccountCode, t.Total.Mul(sg).Neg())
	}
	for _, t := range o.transfers {
		if !on(t.Date) {
			continue
		}
		add(code(t.FromAccountID), t.Amount.Neg())
		add(code(t.ToAccountID), t.Amount)
	}
	for k, v := range out {
		if v.IsZero() {
			delete(out, k)
		}
	}
	return out
}

// Invoices returns copies of the organisation's invoices, bills and credit
// notes, for tests.
func (s *Server) Invoices(tenantID string) []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	if o := s.orgs[tenantID]; o != nil {
		for _, inv := range o.invoices {
			c := *inv
			c.Lines = slices.Clone(inv.Lines)
			out = append(out, c)
		}
	}
	return out
}

// Payments returns copies of the organisation's payments, for tests.
func (s *Server) Payments(tenantID string) []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Payment
	if o := s.orgs[tenantID]; o != nil {
		for _, p := range o.payments {
			out = append(out, *p)
		}
	}
	return out
}

// tracking resolves a line's Tracking: each element names an active
// category and one of its active options, by ids or by Name and Option,
// at most 2 per line ("Any JournalLine can have a maximum of 2
// <TrackingCategory> elements", spec ManualJournalLine.Tracking;
// accounting-platform-apis.md §1.2 "max 2 tracking categories per line").
// The messages are not in the reference.
func (o *org) tracking(raw json.RawMessage) ([]LineTracking, []string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var in []struct{ TrackingCategoryID, TrackingOptionID, Name, Option string }
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, []string{"Tracking could not be read: " + err.Error()}
	}
	if len(in) > 2 {
		return nil, []string{"A line can have at most 2 tracking categories."}
	}
	var out []LineTracking
	var errs []string
	for _, t := range in {
		var cat *TrackingCategory
		for i := range o.TrackingCategories {
			c := &o.TrackingCategories[i]
			if (t.TrackingCategoryID != "" && strings.EqualFold(c.TrackingCategoryID, t.TrackingCategoryID)) || (t.TrackingCategoryID == "" && c.Name == t.Name) {
				cat = c
			}
		}
		if cat == nil || cat.Status != "ACTIVE" {
			errs = append(errs, fmt.Sprintf("The tracking category '%s' is not an active tracking category.", t.TrackingCategoryID+t.Name))
			continue
		}
		var opt *TrackingOption
		for i := range cat.Options {
			op := &cat.Options[i]
			if (t.TrackingOptionID != "" && strings.EqualFold(op.TrackingOptionID, t.TrackingOptionID)) || (t.TrackingOptionID == "" && op.Name == t.Option) {
				opt = op
			}
		}
		if opt == nil || opt.Status != "ACTIVE" {
			errs = append(errs, fmt.Sprintf("The tracking option '%s' is not an active option of '%s'.", t.TrackingOptionID+t.Option, cat.Name))
			continue
		}
		for _, prev := range out {
			if prev.CategoryID == cat.TrackingCategoryID {
				errs = append(errs, fmt.Sprintf("The tracking category '%s' is given twice on one line.", cat.Name))
			}
		}
		out = append(out, LineTracking{CategoryID: cat.TrackingCategoryID, OptionID: opt.TrackingOptionID, Category: cat.Name, Option: opt.Name})
	}
	return out, errs
}
