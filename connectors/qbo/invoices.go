package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Invoice mode, after Codat's QuickBooks Online specification
// (codat-sync-for-commerce.md §3.2) on QuickBooks' create routes
// (accounting-platform-apis.md §2.2). Each document becomes one
// transaction, or two where QuickBooks needs a journal entry to move the
// money and a zero-total payment to link it (a refund, and a bill paid
// from an account QuickBooks cannot pay bills from). Every transaction
// carries the reference in PrivateNote's "[reference]" ending; those with
// a queryable DocNumber carry DocNumber(reference) too and are found by
// it, the rest (Payment, Deposit, Transfer) by TxnDate and the tag.

// entity is a QuickBooks transaction entity: its URL path segment and
// its name in queries and answers.
type entity struct{ path, name string }

var (
	invoiceEntity      = entity{"invoice", "Invoice"}
	creditMemoEntity   = entity{"creditmemo", "CreditMemo"}
	paymentEntity      = entity{"payment", "Payment"}
	billEntity         = entity{"bill", "Bill"}
	vendorCreditEntity = entity{"vendorcredit", "VendorCredit"}
	billPaymentEntity  = entity{"billpayment", "BillPayment"}
	purchaseEntity     = entity{"purchase", "Purchase"}
	depositEntity      = entity{"deposit", "Deposit"}
	transferEntity     = entity{"transfer", "Transfer"}
	journalEntity      = entity{"journalentry", "JournalEntry"}
)

// lookup is how one transaction of a document is found again: by
// DocNumber (numbered), or by TxnDate and the PrivateNote tag.
type lookup struct {
	ent      entity
	numbered bool
}

// step is one transaction a document becomes.
type step struct {
	lookup
	// suffix tells a document's transactions apart in their requestids.
	suffix string
	// body builds the request from the ids of the steps before it.
	body func(ids []string) any
}

// lookups are the ways each document type may stand in QuickBooks, in
// the order Find tries them; a way counts only when all its transactions
// are there. They mirror what draft.steps sends.
var lookups = map[string][][]lookup{
	"SalesInvoice":     {{{invoiceEntity, true}}},
	"SalesCreditNote":  {{{creditMemoEntity, true}}},
	"Payment":          {{{paymentEntity, false}}},
	"CreditAllocation": {{{paymentEntity, false}}},
	"Refund":           {{{journalEntity, true}, {paymentEntity, false}}},
	"Bill":             {{{billEntity, true}}},
	"BillPayment":      {{{billPaymentEntity, true}}, {{journalEntity, true}, {billPaymentEntity, false}}},
	"BillCreditNote":   {{{vendorCreditEntity, true}}},
	"BillRefund":       {{{depositEntity, false}}},
	"SpendMoney":       {{{purchaseEntity, true}}},
	"ReceiveMoney":     {{{depositEntity, false}}},
	"Transfer":         {{{transferEntity, false}}, {{journalEntity, true}}},
}

// draft is one invoice-mode document on its way to QuickBooks, with what
// its route reads from the company: the active items, the chart, and the
// tracking preferences when a transaction carries the tracking.
type draft struct {
	c     *Connector
	ctx   context.Context
	s     connectors.Session
	doc   *commercesyncv1.Document
	ref   connectors.Reference
	co    company
	items []itemRow
	chart []accountRow
	// tracked: co.track has been read.
	tracked bool
}

// tracking is the document's class and department, read once and only
// by routes whose transactions carry them, so a payment costs no read of
// the preferences.
func (d *draft) tracking() (lineTracking, error) {
	if !d.tracked {
		t, err := d.c.tracking(d.ctx, d.s, d.doc)
		if err != nil {
			return lineTracking{}, err
		}
		d.co.track, d.tracked = t, true
	}
	return d.co.track, nil
}

// pushInvoice sends an invoice-mode document. One transaction goes with
// the document's requestid, as a journal does. A document of two
// transactions looks each one up before creating it, under requestids of
// their own: a retry after QuickBooks forgot the requestids then finds
// what the first attempt created and does not post it twice.
func (c *Connector) pushInvoice(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkInvoiceDoc(doc); err != nil {
		return connectors.Result{}, err
	}
	country, err := c.country(ctx, s)
	if err != nil {
		return connectors.Result{}, err
	}
	byCode, err := c.resolveCodes(ctx, s, doc)
	if err != nil {
		return connectors.Result{}, err
	}
	d := &draft{c: c, ctx: ctx, s: s, doc: doc, ref: ref, co: company{country: country, accountByCode: byCode}}
	steps, err := d.steps()
	if err != nil {
		return connectors.Result{}, err
	}
	if len(steps) == 1 {
		return c.pushOne(ctx, s, d, steps[0])
	}
	var ids []string
	for _, st := range steps {
		id, found, err := c.lookUp(ctx, s, st.lookup, ref, doc.GetDate())
		if err != nil {
			return connectors.Result{}, err
		}
		if !found {
			if id, err = c.create(ctx, s, st.ent, st.body(ids), RequestID(ref.IdempotencyKey+"."+st.suffix)); err != nil {
				return connectors.Result{}, fmt.Errorf("qbo: push %s %s (%s): %w", doc.GetType(), ref.Value, st.ent.name, d.named(err))
			}
		}
		ids = append(ids, id)
	}
	c.log.DebugContext(ctx, "qbo document created", "reference", ref.Value, "type", doc.GetType(), "ids", ids)
	return connectors.Result{ExternalID: ids[0]}, nil
}

// pushOne sends a one-transaction document. When the company refuses
// duplicate numbers (6140) and the holder of the number is this
// document, the push resolves to it.
func (c *Connector) pushOne(ctx context.Context, s connectors.Session, d *draft, st step) (connectors.Result, error) {
	id, err := c.create(ctx, s, st.ent, st.body(nil), RequestID(d.ref.IdempotencyKey))
	if err != nil {
		if faultCode(err) == "6140" && st.numbered {
			if found, ok, ferr := c.lookUp(ctx, s, st.lookup, d.ref, d.doc.GetDate()); ferr == nil && ok {
				return connectors.Result{ExternalID: found}, nil
			}
		}
		return connectors.Result{}, fmt.Errorf("qbo: push %s %s (%s): %w", d.doc.GetType(), d.ref.Value, st.ent.name, d.named(err))
	}
	c.log.DebugContext(ctx, "qbo document created", "reference", d.ref.Value, "entity", st.ent.name, "id", id)
	return connectors.Result{ExternalID: id}, nil
}

// named adds to a 610 refusal which of the document's accounts, class
// and department are inactive.
func (d *draft) named(err error) error {
	if faultCode(err) != "610" {
		return err
	}
	return d.c.nameInactive(d.ctx, d.s, d.doc, d.co.accountByCode, d.co.track, err)
}

// findInvoice looks an invoice-mode document up in each way it may
// stand in QuickBooks.
func (c *Connector) findInvoice(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	doc := ref.Document
	ways, ok := lookups[doc.GetType()]
	if !ok {
		return connectors.Result{}, false, unsupportedType(doc.GetType())
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return connectors.Result{}, false, invoiceFatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	for _, way := range ways {
		var ids []string
		for _, l := range way {
			id, found, err := c.lookUp(ctx, s, l, ref, doc.GetDate())
			if err != nil {
				return connectors.Result{}, false, err
			}
			if !found {
				break
			}
			ids = append(ids, id)
		}
		if len(ids) == len(way) {
			return connectors.Result{ExternalID: ids[0]}, true, nil
		}
	}
	return connectors.Result{}, false, nil
}

// lookUp finds a transaction carrying the reference: by DocNumber, a
// queryable field (§2.4 "query before create"), confirmed by the
// PrivateNote tag; or, for entities QuickBooks does not filter by
// DocNumber, among the transactions of the document's date by the tag.
// A numbered transaction whose note the merchant rewrote loses the tag;
// its number alone then decides, unless the note carries another
// reference.
func (c *Connector) lookUp(ctx context.Context, s connectors.Session, l lookup, ref connectors.Reference, date string) (string, bool, error) {
	var hits []struct {
		ID          string `json:"Id"`
		PrivateNote string
	}
	where := fmt.Sprintf("where TxnDate = '%s'", date)
	if l.numbered {
		where = fmt.Sprintf("where DocNumber = '%s'", DocNumber(ref.Value))
	}
	if err := c.queryAll(ctx, s, l.ent.name, where, &hits); err != nil {
		return "", false, fmt.Errorf("qbo: find %s %s: %w", l.ent.name, ref.Value, err)
	}
	tag := referenceTag(ref.Value)
	for _, h := range hits {
		if strings.HasSuffix(h.PrivateNote, tag) || (l.numbered && !strings.HasSuffix(h.PrivateNote, "]")) {
			return h.ID, true, nil
		}
	}
	return "", false, nil
}

// create POSTs one transaction under requestid (§2.4) and returns its id.
func (c *Connector) create(ctx context.Context, s connectors.Session, e entity, body any, requestID string) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", invoiceFatal("", "encode %s: %v", e.name, err)
	}
	q := url.Values{"minorversion": {MinorVersion}, "requestid": {requestID}}
	_, respBody, err := c.call(ctx, s, http.MethodPost, c.entityURL(s.TenantID, e.path)+"?"+q.Encode(), b, "application/json")
	if err != nil {
		return "", err
	}
	var out map[string]json.RawMessage
	var ent struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal(respBody, &out); err != nil || json.Unmarshal(out[e.name], &ent) != nil || ent.ID == "" {
		// A 200 we cannot read leaves the outcome unknown: Find decides.
		return "", &connectors.Error{Class: connectors.Retryable, Status: http.StatusOK,
			Message: "qbo: unreadable " + e.name + " response; look the document up before retrying", Err: err}
	}
	return ent.ID, nil
}

func invoiceFatal(field, format string, args ...any) error {
	return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "qbo: " + fmt.Sprintf(format, args...)}
}

func unsupportedType(typ string) error {
	return invoiceFatal("Type", "document type %q is not supported", typ)
}

// checkInvoiceDoc refuses what only a planner bug produces.
func checkInvoiceDoc(doc *commercesyncv1.Document) error {
	if _, ok := lookups[doc.GetType()]; !ok {
		return unsupportedType(doc.GetType())
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return invoiceFatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if len(doc.GetCurrency()) != 3 {
		return invoiceFatal("Currency", "currency %q is not an ISO 4217 code", doc.GetCurrency())
	}
	return nil
}
