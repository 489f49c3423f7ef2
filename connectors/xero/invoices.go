package xero

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Invoice mode, after Codat's Xero specification (codat-sync-for-commerce.md
// §3.1) on Xero's create routes (accounting-platform-apis.md §1.2). Every
// document carries its reference where Xero can search for it once the
// idempotency key is forgotten: InvoiceNumber and CreditNoteNumber
// (unique for sales invoices, "Invoice # must be unique."), and Reference
// on payments, bank transactions and transfers. An allocation has no
// reference field; it is found on its credit note by invoice and amount.

// route is where one invoice-mode document goes.
type route struct {
	path    string // below the API base
	wrapper string // the request's and response's array
	idField string // the created element's id
	body    any
	// find looks the document up again; nil means a manual journal.
	find func(ctx context.Context, c *Connector, s connectors.Session, ref connectors.Reference) (string, bool, error)
}

type xeroRef struct {
	ContactID    string `json:"ContactID,omitempty"`
	InvoiceID    string `json:"InvoiceID,omitempty"`
	CreditNoteID string `json:"CreditNoteID,omitempty"`
	Code         string `json:"Code,omitempty"`
	AccountID    string `json:"AccountID,omitempty"`
}

type lineItem struct {
	Description string          `json:"Description,omitempty"`
	Quantity    json.RawMessage `json:"Quantity"`
	UnitAmount  json.RawMessage `json:"UnitAmount"`
	AccountCode string          `json:"AccountCode,omitempty"`
	AccountID   string          `json:"AccountID,omitempty"`
	// NONE: tax arrives as lines of its own, as the orders gave it, so
	// Xero computes none.
	TaxType  string        `json:"TaxType"`
	Tracking []trackingRef `json:"Tracking,omitempty"`
}

type invoiceBody struct {
	Type             string     `json:"Type"`
	Contact          xeroRef    `json:"Contact"`
	Date             string     `json:"Date"`
	DueDate          string     `json:"DueDate,omitempty"`
	InvoiceNumber    string     `json:"InvoiceNumber,omitempty"`
	CreditNoteNumber string     `json:"CreditNoteNumber,omitempty"`
	Reference        string     `json:"Reference,omitempty"`
	Status           string     `json:"Status"`
	LineAmountTypes  string     `json:"LineAmountTypes"`
	CurrencyCode     string     `json:"CurrencyCode"`
	LineItems        []lineItem `json:"LineItems"`
}

type paymentBody struct {
	Invoice    *xeroRef        `json:"Invoice,omitempty"`
	CreditNote *xeroRef        `json:"CreditNote,omitempty"`
	Account    xeroRef         `json:"Account"`
	Date       string          `json:"Date"`
	Amount     json.RawMessage `json:"Amount"`
	Reference  string          `json:"Reference"`
}

type allocationBody struct {
	Invoice xeroRef         `json:"Invoice"`
	Amount  json.RawMessage `json:"Amount"`
	Date    string          `json:"Date"`
}

type bankTransactionBody struct {
	Type            string     `json:"Type"`
	Contact         xeroRef    `json:"Contact"`
	BankAccount     xeroRef    `json:"BankAccount"`
	Date            string     `json:"Date"`
	Reference       string     `json:"Reference"`
	LineAmountTypes string     `json:"LineAmountTypes"`
	CurrencyCode    string     `json:"CurrencyCode"`
	LineItems       []lineItem `json:"LineItems"`
}

type bankTransferBody struct {
	FromBankAccount xeroRef         `json:"FromBankAccount"`
	ToBankAccount   xeroRef         `json:"ToBankAccount"`
	Amount          json.RawMessage `json:"Amount"`
	Date            string          `json:"Date"`
	Reference       string          `json:"Reference"`
}

func account(l *commercesyncv1.DocumentLine) xeroRef {
	if l.GetAccountCode() != "" {
		return xeroRef{Code: l.GetAccountCode()}
	}
	return xeroRef{AccountID: l.GetAccountId()}
}

func fatal(field, format string, args ...any) error {
	return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "xero: " + fmt.Sprintf(format, args...)}
}

// positive renders a document amount, which must be above zero.
func positive(field, s string) (json.RawMessage, error) {
	amt, err := lineAmount(s)
	if err != nil {
		return nil, fatal(field, "%v", err)
	}
	if d, _ := decimal.NewFromString(s); !d.IsPositive() {
		return nil, fatal(field, "amount %s is not positive", s)
	}
	return amt, nil
}

func lineItems(doc *commercesyncv1.Document, lines []*commercesyncv1.DocumentLine) ([]lineItem, error) {
	if len(lines) == 0 {
		return nil, fatal("Lines", "%s has no lines", doc.GetType())
	}
	out := make([]lineItem, 0, len(lines))
	for i, l := range lines {
		amt, err := lineAmount(l.GetAmount())
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].Amount", i), "%v", err)
		}
		if l.GetAccountCode() == "" && l.GetAccountId() == "" {
			return nil, fatal(fmt.Sprintf("Lines[%d].AccountCode", i), "line %d has no account", i)
		}
		a := account(l)
		out = append(out, lineItem{Description: l.GetDescription(), Quantity: json.RawMessage("1"), UnitAmount: amt,
			AccountCode: a.Code, AccountID: a.AccountID, TaxType: "NONE", Tracking: tracking(doc)})
	}
	return out, nil
}

// status maps Codat's invoice status to Xero's: Submitted means approved
// and payable, which is AUTHORISED; only AUTHORISED takes payments (§1.2).
func status(s string) string {
	if s == "Draft" {
		return "DRAFT"
	}
	return "AUTHORISED"
}

// settles returns the platform id of the i-th document doc settles.
func settles(doc *commercesyncv1.Document, i int) (string, error) {
	ids := doc.GetAppliesToExternalIds()
	if i >= len(ids) || ids[i] == "" {
		return "", fatal("AppliesTo", "%s needs the id of the document it settles", doc.GetType())
	}
	return ids[i], nil
}

// routeOf builds the request for an invoice-mode document.
func routeOf(doc *commercesyncv1.Document, ref connectors.Reference) (route, error) {
	if !isoDate.MatchString(doc.GetDate()) {
		return route{}, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	byRef := func(path, wrapper, idField, filter string) func(context.Context, *Connector, connectors.Session, connectors.Reference) (string, bool, error) {
		return func(ctx context.Context, c *Connector, s connectors.Session, ref connectors.Reference) (string, bool, error) {
			q := url.Values{"where": {fmt.Sprintf(`%s=="%s"`, filter, ref.Value)}}
			return c.findIn(ctx, s, path+"?"+q.Encode(), wrapper, idField)
		}
	}
	switch doc.GetType() {
	case "SalesInvoice", "Bill", "SalesCreditNote", "BillCreditNote":
		items, err := lineItems(doc, doc.GetLines())
		if err != nil {
			return route{}, err
		}
		b := invoiceBody{Contact: xeroRef{ContactID: doc.GetContact()}, Date: doc.GetDate(), Status: status(doc.GetStatus()),
			LineAmountTypes: "NoTax", CurrencyCode: doc.GetCurrency(), LineItems: items}
		if doc.GetContact() == "" {
			return route{}, fatal("Contact", "%s has no contact", doc.GetType())
		}
		switch doc.GetType() {
		case "SalesInvoice", "Bill":
			b.Type, b.InvoiceNumber, b.DueDate = "ACCPAY", ref.Value, doc.GetDate()
			if doc.GetType() == "SalesInvoice" {
				b.Type, b.Reference = "ACCREC", narrationText(doc)
			} else {
				b.Status = "AUTHORISED"
			}
			return route{path: "/Invoices", wrapper: "Invoices", idField: "InvoiceID", body: b,
				find: func(ctx context.Context, c *Connector, s connectors.Session, ref connectors.Reference) (string, bool, error) {
					return c.findIn(ctx, s, "/Invoices?"+url.Values{"InvoiceNumbers": {ref.Value}}.Encode(), "Invoices", "InvoiceID")
				}}, nil
		default:
			b.Type, b.CreditNoteNumber = "ACCPAYCREDIT", ref.Value
			if doc.GetType() == "SalesCreditNote" {
				b.Type, b.Reference = "ACCRECCREDIT", narrationText(doc)
			} else {
				b.Status = "AUTHORISED"
			}
			return route{path: "/CreditNotes", wrapper: "CreditNotes", idField: "CreditNoteID", body: b,
				find: byRef("/CreditNotes", "CreditNotes", "CreditNoteID", "CreditNoteNumber")}, nil
		}
	case "Payment", "BillPayment", "Refund", "BillRefund":
		amt, err := positive("Money.Amount", doc.GetMoney().GetAmount())
		if err != nil {
			return route{}, err
		}
		id, err := settles(doc, 0)
		if err != nil {
			return route{}, err
		}
		b := paymentBody{Account: account(doc.GetMoney()), Date: doc.GetDate(), Amount: amt, Reference: ref.Value}
		if doc.GetType() == "Payment" || doc.GetType() == "BillPayment" {
			b.Invoice = &xeroRef{InvoiceID: id}
		} else {
			b.CreditNote = &xeroRef{CreditNoteID: id}
		}
		return route{path: "/Payments", wrapper: "Payments", idField: "PaymentID", body: b,
			find: byRef("/Payments", "Payments", "PaymentID", "Reference")}, nil
	case "CreditAllocation":
		amt, err := positive("Money.Amount", doc.GetMoney().GetAmount())
		if err != nil {
			return route{}, err
		}
		cn, err := settles(doc, 0)
		if err != nil {
			return route{}, err
		}
		inv, err := settles(doc, 1)
		if err != nil {
			return route{}, err
		}
		return route{path: "/CreditNotes/" + url.PathEscape(cn) + "/Allocations", wrapper: "Allocations", idField: "AllocationID",
			body: allocationBody{Invoice: xeroRef{InvoiceID: inv}, Amount: amt, Date: doc.GetDate()},
			find: func(ctx context.Context, c *Connector, s connectors.Session, _ connectors.Reference) (string, bool, error) {
				return c.findAllocation(ctx, s, cn, inv, string(amt))
			}}, nil
	case "SpendMoney", "ReceiveMoney":
		items, err := lineItems(doc, doc.GetLines())
		if err != nil {
			return route{}, err
		}
		typ := "SPEND"
		if doc.GetType() == "ReceiveMoney" {
			typ = "RECEIVE"
		}
		return route{path: "/BankTransactions", wrapper: "BankTransactions", idField: "BankTransactionID",
			body: bankTransactionBody{Type: typ, Contact: xeroRef{ContactID: doc.GetContact()}, BankAccount: account(doc.GetMoney()),
				Date: doc.GetDate(), Reference: ref.Value, LineAmountTypes: "NoTax", CurrencyCode: doc.GetCurrency(), LineItems: items},
			find: byRef("/BankTransactions", "BankTransactions", "BankTransactionID", "Reference")}, nil
	case "Transfer":
		return transferRoute(doc, ref, byRef)
	}
	return route{}, fatal("Type", "document type %q is not supported", doc.GetType())
}

// transferRoute picks Xero's document for a transfer by the accounts'
// kinds: a bank transfer between two bank accounts (both must be BANK,
// §1.2), spend or receive money when one side is a bank account, and a
// manual journal between two other accounts (journals refuse bank
// accounts, §1.2).
func transferRoute(doc *commercesyncv1.Document, ref connectors.Reference,
	byRef func(path, wrapper, idField, filter string) func(context.Context, *Connector, connectors.Session, connectors.Reference) (string, bool, error)) (route, error) {
	from, to := doc.GetMoney(), doc.GetTo()
	amt, err := positive("Money.Amount", from.GetAmount())
	if err != nil {
		return route{}, err
	}
	if to.GetAmount() != from.GetAmount() {
		return route{}, fatal("To.Amount", "transfer out %s and in %s differ", from.GetAmount(), to.GetAmount())
	}
	switch {
	case from.GetBank() && to.GetBank():
		return route{path: "/BankTransfers", wrapper: "BankTransfers", idField: "BankTransferID",
			body: bankTransferBody{FromBankAccount: account(from), ToBankAccount: account(to), Amount: amt, Date: doc.GetDate(), Reference: ref.Value},
			find: byRef("/BankTransfers", "BankTransfers", "BankTransferID", "Reference")}, nil
	case from.GetBank() || to.GetBank():
		typ, bank, other := "SPEND", from, to
		if to.GetBank() {
			typ, bank, other = "RECEIVE", to, from
		}
		if doc.GetContact() == "" {
			return route{}, fatal("Contact", "a transfer through %s needs a contact", typ)
		}
		o := account(other)
		return route{path: "/BankTransactions", wrapper: "BankTransactions", idField: "BankTransactionID",
			body: bankTransactionBody{Type: typ, Contact: xeroRef{ContactID: doc.GetContact()}, BankAccount: account(bank), Date: doc.GetDate(),
				Reference: ref.Value, LineAmountTypes: "NoTax", CurrencyCode: doc.GetCurrency(),
				LineItems: []lineItem{{Description: other.GetDescription(), Quantity: json.RawMessage("1"), UnitAmount: amt,
					AccountCode: o.Code, AccountID: o.AccountID, TaxType: "NONE", Tracking: tracking(doc)}}},
			find: byRef("/BankTransactions", "BankTransactions", "BankTransactionID", "Reference")}, nil
	}
	neg := "-" + from.GetAmount()
	journal := &commercesyncv1.Document{Type: "ManualJournal", Date: doc.GetDate(), Currency: doc.GetCurrency(), Narration: doc.GetNarration(), Tracking: doc.GetTracking(),
		Lines: []*commercesyncv1.DocumentLine{
			{AccountId: to.GetAccountId(), AccountCode: to.GetAccountCode(), Description: to.GetDescription(), Amount: to.GetAmount()},
			{AccountId: from.GetAccountId(), AccountCode: from.GetAccountCode(), Description: from.GetDescription(), Amount: neg},
		}}
	return route{body: journal}, nil
}

// narrationText is what the merchant reads on a sales document.
func narrationText(doc *commercesyncv1.Document) string {
	t := strings.TrimSpace(doc.GetNarration())
	if len(t) > 255 {
		t = t[:255]
	}
	return t
}

// pushRoute sends an invoice-mode document and returns the created id.
func (c *Connector) pushRoute(ctx context.Context, s connectors.Session, r route, ref connectors.Reference) (connectors.Result, error) {
	b, err := json.Marshal(map[string]any{r.wrapper: []any{r.body}})
	if err != nil {
		return connectors.Result{}, fatal("", "encode %s: %v", r.wrapper, err)
	}
	resp, respBody, err := c.call(ctx, s.Tokens, s.TenantID, http.MethodPut, c.apiBase+r.path, b, ref.IdempotencyKey)
	if err != nil {
		return connectors.Result{}, fmt.Errorf("xero: push %s %s: %w", r.wrapper, ref.Value, err)
	}
	var env map[string]json.RawMessage
	var els []map[string]json.RawMessage
	err = json.Unmarshal(respBody, &env)
	if err == nil {
		err = json.Unmarshal(env[r.wrapper], &els)
	}
	if err != nil || len(els) == 0 {
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: fmt.Sprintf("xero: unreadable %s response; look the document up before retrying", r.wrapper), Err: err}
	}
	el := els[0]
	var errs, warns []xeroMessage
	_ = json.Unmarshal(el["ValidationErrors"], &errs)
	_ = json.Unmarshal(el["Warnings"], &warns)
	if len(errs) > 0 {
		return connectors.Result{}, validationError(resp.StatusCode, errs[0].Message, warns)
	}
	var id string
	if err := json.Unmarshal(el[r.idField], &id); err != nil || id == "" {
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: fmt.Sprintf("xero: %s response has no %s; look the document up before retrying", r.wrapper, r.idField)}
	}
	return connectors.Result{ExternalID: id}, nil
}

// findIn lists u and returns the id of the first element that still
// stands in the books (not DELETED or VOIDED).
func (c *Connector) findIn(ctx context.Context, s connectors.Session, u, wrapper, idField string) (string, bool, error) {
	var env map[string]json.RawMessage
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+u, &env); err != nil {
		return "", false, fmt.Errorf("xero: find in %s: %w", wrapper, err)
	}
	var els []map[string]any
	if err := json.Unmarshal(env[wrapper], &els); err != nil && env[wrapper] != nil {
		return "", false, &connectors.Error{Class: connectors.Fatal, Message: "xero: unreadable " + wrapper + " list", Err: err}
	}
	for _, el := range els {
		if st, _ := el["Status"].(string); st == "DELETED" || st == "VOIDED" {
			continue
		}
		if id, _ := el[idField].(string); id != "" {
			return id, true, nil
		}
	}
	return "", false, nil
}

// findAllocation finds an allocation of amount from the credit note to the
// invoice: allocations carry no reference, and one summary allocates its
// credit note to its invoice once.
func (c *Connector) findAllocation(ctx context.Context, s connectors.Session, creditNoteID, invoiceID, amount string) (string, bool, error) {
	var out struct {
		CreditNotes []struct {
			Allocations []struct {
				AllocationID string
				Amount       json.Number
				Invoice      struct{ InvoiceID string }
			}
		}
	}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/CreditNotes/"+url.PathEscape(creditNoteID), &out); err != nil {
		return "", false, fmt.Errorf("xero: find allocation on credit note %s: %w", creditNoteID, err)
	}
	want, _ := decimal.NewFromString(amount)
	for _, cn := range out.CreditNotes {
		for _, a := range cn.Allocations {
			got, err := decimal.NewFromString(a.Amount.String())
			if err == nil && got.Equal(want) && strings.EqualFold(a.Invoice.InvoiceID, invoiceID) {
				return a.AllocationID, true, nil
			}
		}
	}
	return "", false, nil
}
