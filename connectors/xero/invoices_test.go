package xero_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/sandboxkit"
	"github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/plan"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// codes binds configuration slots to the sandbox's default chart.
type codes struct {
	ids  map[string]string
	slot map[string]string
}

func (c codes) Account(section, key string) (mapping.Binding, bool) {
	code, ok := c.slot[section+"/"+key]
	if !ok {
		return mapping.Binding{}, false
	}
	return mapping.Binding{AccountID: c.ids[code], Code: code}, true
}

func (c codes) isBank(id string) bool { return id == c.ids["090"] || id == c.ids["091"] }

type invoiceEnv struct {
	x     *xeroSandbox
	clock *sandboxkit.Clock
	ctx   context.Context
	s     connectors.Session
	accts codes
	cust  string
}

func newInvoiceEnv(t *testing.T) *invoiceEnv {
	clock := sandboxkit.NewClock(connectortest.StartTime)
	x := startXero(t, clock)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, x.hc)
	cfg := x.conn.OAuthConfig(conformanceRedirect)
	loc, err := sandbox.Approve(ctx, x.hc, cfg.AuthCodeURL("st"), "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	ts := connectors.NewPersistingTokenSource(ctx, cfg, tok, func(context.Context, *oauth2.Token) error { return nil })
	org, _ := x.sb.Organisation(x.tenant)
	ids := map[string]string{}
	for _, a := range org.Accounts {
		ids[a.Code] = a.AccountID
	}
	return &invoiceEnv{x: x, clock: clock, ctx: ctx, s: connectors.Session{TenantID: x.tenant, Tokens: ts}, cust: org.Contacts[0].ContactID,
		accts: codes{ids: ids, slot: map[string]string{
			"sales/sales": "200", "sales/refund": "210", "sales/tax": "820", "sales/gratuity": "801", "sales/prepaid": "802",
			"payments/card": "610", "payments/cash": "611", "payments/unsettled": "612", "payments/payout": "090",
			"fees/paymentFee": "404", "fees/paymentFeeRefund": "405",
		}}}
}

// push sends a summary's documents in order, as the push worker does,
// filling in the ids of what each settles; it returns the references and
// the documents as sent.
func (e *invoiceEnv) push(t *testing.T, docs []mapping.Planned) ([]connectors.Reference, []string) {
	t.Helper()
	var refs []connectors.Reference
	var ids []string
	for _, p := range docs {
		doc := plan.DocumentProto(p.Document, e.accts.isBank)
		for _, i := range doc.GetAppliesTo() {
			doc.AppliesToExternalIds = append(doc.AppliesToExternalIds, ids[i])
		}
		ref := connectors.Reference{Value: p.Reference, IdempotencyKey: p.DocumentID + "-c1", Document: doc}
		res, err := e.x.conn.Push(e.ctx, e.s, doc, ref)
		if err != nil {
			t.Fatalf("push %s (%s): %v", p.Document.Type, p.Reference, err)
		}
		refs, ids = append(refs, ref), append(ids, res.ExternalID)
	}
	return refs, ids
}

func summaryOf(t *testing.T, d string, rev int, tot day.Totals) day.Summary {
	t.Helper()
	s, err := day.NewSummary(day.Header{CompanyID: "co-1", TenantID: "t-1", Day: d, Currency: "USD", Revision: rev, Zone: "Etc/UTC"}, tot)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func usd(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A day of every kind of money goes to Xero in invoice mode: each document
// on its route, validated against the official schema on the way, and the
// organisation's trial balance then moves every account exactly as the
// day's journal would, with receivables and payables back at zero. Pushing
// again with the same keys, and finding every document once the keys are
// forgotten, duplicates nothing.
func TestInvoiceModeMovesWhatTheJournalMoves(t *testing.T) {
	e := newInvoiceEnv(t)
	days := []day.Summary{
		summaryOf(t, "2026-07-14", 1, day.Totals{
			day.Sales: usd(t, "-1000"), day.Refunds: usd(t, "80"), day.Tax: usd(t, "-68"), day.Gratuity: usd(t, "-50"),
			day.PaymentFees: usd(t, "3.10"), day.PaymentFeeRefunds: usd(t, "-1"), day.Tender("Card"): usd(t, "700"),
			day.Tender("Cash"): usd(t, "200"), day.Payouts: usd(t, "500"), day.Unsettled: usd(t, "-364.10"),
		}),
		// Refunds exceed sales (a credit note, no invoice), and fees are
		// paid from a bank account (spend and receive money), which also
		// pays out to the bank (a bank transfer).
		summaryOf(t, "2026-07-15", 1, day.Totals{
			day.Refunds: usd(t, "120"), day.Sales: usd(t, "-20"), day.PaymentFees: usd(t, "2"), day.PaymentFeeRefunds: usd(t, "-0.50"),
			day.Payouts: usd(t, "30"), day.Tender("Card"): usd(t, "-131.50"),
		}),
	}
	want := map[string]money.Amount{}
	var all [][]mapping.Planned
	for i, s := range days {
		accts := e.accts
		opts := mapping.InvoiceOptions{Customer: e.cust, Supplier: e.cust, IsBank: accts.isBank}
		if i == 1 {
			accts = codes{ids: e.accts.ids, slot: map[string]string{}}
			for k, v := range e.accts.slot {
				accts.slot[k] = v
			}
			accts.slot["payments/card"] = "091"
		}
		journal, err := mapping.Journal(s, accts)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range journal[0].Document.Lines {
			want[l.Account.Code] += l.Amount
		}
		docs, err := mapping.Invoices(s, accts, opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, docs)
	}
	var refs []connectors.Reference
	var ids []string
	for _, docs := range all {
		r, i := e.push(t, docs)
		refs, ids = append(refs, r...), append(ids, i...)
	}
	check := func(when string) {
		t.Helper()
		got := e.x.sb.Balances(e.x.tenant, "")
		for code, w := range want {
			if g := got[code]; g.String() != w.Decimal().String() {
				t.Errorf("%s: account %s moved %s, the journal moves %s", when, code, g, w)
			}
			delete(got, code)
		}
		for code, g := range got {
			t.Errorf("%s: account %s moved %s, the journal moves nothing there (620 and 800 are receivables and payables)", when, code, g)
		}
	}
	check("after the push")

	// The same requests again, inside Xero's idempotency memory.
	for i, ref := range refs {
		res, err := e.x.conn.Push(e.ctx, e.s, ref.Document, ref)
		if err != nil || res.ExternalID != ids[i] {
			t.Fatalf("re-push %s: %v, %v (first %s)", ref.Value, res, err, ids[i])
		}
	}
	check("after pushing again")
	e.clock.Advance(sandbox.IdempotencyKeyTTL + time.Minute)
	for i, ref := range refs {
		res, found, err := e.x.conn.Find(e.ctx, e.s, ref)
		if err != nil || !found || res.ExternalID != ids[i] {
			t.Fatalf("find %s (%s): %v %t %v, want %s", ref.Document.GetType(), ref.Value, res, found, err, ids[i])
		}
	}
	types := map[string]bool{}
	for _, docs := range all {
		for _, d := range docs {
			types[d.Document.Type] = true
		}
	}
	for _, typ := range []string{"SalesInvoice", "SalesCreditNote", "Payment", "Refund", "CreditAllocation", "Bill", "BillPayment",
		"BillCreditNote", "BillRefund", "SpendMoney", "ReceiveMoney", "Transfer"} {
		if !types[typ] {
			t.Errorf("the days planned no %s; the test no longer covers it", typ)
		}
	}
	ops := e.x.spec.Operations()
	for _, op := range []string{"createInvoices", "createCreditNotes", "createPayments", "createCreditNoteAllocation", "createBankTransactions", "createBankTransfer"} {
		if ops[op] == 0 {
			t.Errorf("no %s request was validated against the spec (all: %v)", op, ops)
		}
	}
	if p := e.x.spec.Problems(); len(p) > 0 {
		t.Fatalf("requests that do not match the spec:\n%s", strings.Join(p, "\n"))
	}
}

// Xero refuses invoice-mode documents as it refuses journals, with its own
// messages, and the connector hands them to the merchant.
func TestInvoiceModeRefusals(t *testing.T) {
	e := newInvoiceEnv(t)
	invoice := func(currency, date, code string) *commercesyncv1.Document {
		return &commercesyncv1.Document{Type: "SalesInvoice", Date: date, Currency: currency, Contact: e.cust, Status: "Submitted",
			Narration: "Daily sales", Lines: []*commercesyncv1.DocumentLine{{AccountCode: code, Amount: "10.00", Description: "Sales"}}}
	}
	if err := e.x.sb.UpdateOrganisation(e.x.tenant, func(o *sandbox.Organisation) { o.PeriodLockDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		doc  *commercesyncv1.Document
		want string
	}{
		{"currency not enabled", invoice("JPY", "2026-07-14", "200"), "Organisation is not subscribed to currency JPY"},
		{"archived account", invoice("USD", "2026-07-14", "310"), "Account code '310' has been archived, or deleted."},
		{"locked period", invoice("USD", "2026-06-30", "200"), "The document date cannot be before the period lock date of 30 June 2026"},
	}
	for i, c := range cases {
		if c.name == "currency not enabled" {
			c.want += ". Add JPY under Settings > Currencies in Xero"
		}
		_, err := e.x.conn.Push(e.ctx, e.s, c.doc, connectors.Reference{Value: fmt.Sprintf("CS-REFUSED-%d", i), IdempotencyKey: fmt.Sprintf("k-%d", i)})
		ce := connectors.Classify(err)
		if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != 400 || !strings.Contains(ce.Message, c.want) {
			t.Errorf("%s: %v, want a merchant-actionable 400 saying %q", c.name, err, c.want)
		}
	}
	// A payment larger than what the invoice still owes.
	res, err := e.x.conn.Push(e.ctx, e.s, invoice("USD", "2026-07-14", "200"), connectors.Reference{Value: "CS-INV-1", IdempotencyKey: "inv-1"})
	if err != nil {
		t.Fatal(err)
	}
	pay := &commercesyncv1.Document{Type: "Payment", Date: "2026-07-14", Currency: "USD", AppliesTo: []int32{0}, AppliesToExternalIds: []string{res.ExternalID},
		Money: &commercesyncv1.DocumentLine{AccountCode: "610", Amount: "10.01"}}
	_, err = e.x.conn.Push(e.ctx, e.s, pay, connectors.Reference{Value: "CS-PAY-1", IdempotencyKey: "pay-1"})
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.MerchantActionable || !strings.Contains(ce.Message, "Payment amount exceeds the amount outstanding on this document") {
		t.Errorf("overpayment: %v", err)
	}
	// A payment into an account that takes none.
	pay.Money = &commercesyncv1.DocumentLine{AccountCode: "404", Amount: "10.00"}
	_, err = e.x.conn.Push(e.ctx, e.s, pay, connectors.Reference{Value: "CS-PAY-2", IdempotencyKey: "pay-2"})
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.MerchantActionable || ce.Field != "AccountCode" {
		t.Errorf("payment to an expense account: %v", err)
	}
}

// Xero's journals refuse bank accounts (§1.2): in journal mode a day whose
// cash lands in a bank account and whose payout goes to another bank
// account posts as a journal for the rest, receive money, spend money and
// a bank transfer, and the organisation's balances move as the day's
// journal says.
func TestJournalModeMovesBankAccountsThroughBankTransactions(t *testing.T) {
	e := newInvoiceEnv(t)
	accts := codes{ids: e.accts.ids, slot: map[string]string{}}
	for k, v := range e.accts.slot {
		accts.slot[k] = v
	}
	accts.slot["payments/cash"] = "091" // the till's takings are banked
	s := summaryOf(t, "2026-07-14", 1, day.Totals{
		day.Sales: usd(t, "-300"), day.Tax: usd(t, "-25.50"), day.Tender("Card"): usd(t, "-179.50"),
		day.Tender("Cash"): usd(t, "100"), day.Payouts: usd(t, "400"), day.PaymentFees: usd(t, "5"),
	})
	journal, err := mapping.Journal(s, accts)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := mapping.MoveBankLines(journal[0], s.ID, accts.isBank, e.cust)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, d := range docs {
		types = append(types, d.Document.Type)
	}
	if got := strings.Join(types, ","); got != "ManualJournal,ReceiveMoney,ReceiveMoney" {
		t.Fatalf("documents %s", got)
	}
	e.push(t, docs)
	got := e.x.sb.Balances(e.x.tenant, "")
	for _, l := range journal[0].Document.Lines {
		if g := got[l.Account.Code]; g.String() != l.Amount.Decimal().String() {
			t.Errorf("account %s moved %s, the journal moves %s", l.Account.Code, g, l.Amount)
		}
		delete(got, l.Account.Code)
	}
	for code, g := range got {
		t.Errorf("account %s moved %s, the journal moves nothing there", code, g)
	}
	// Money from one bank account to another is a bank transfer.
	s2 := summaryOf(t, "2026-07-15", 1, day.Totals{day.Tender("Cash"): usd(t, "-60"), day.Payouts: usd(t, "60")})
	journal2, _ := mapping.Journal(s2, accts)
	docs2, err := mapping.MoveBankLines(journal2[0], s2.ID, accts.isBank, e.cust)
	if err != nil || len(docs2) != 1 || docs2[0].Document.Type != "Transfer" {
		t.Fatalf("cash banked out to the payout account: %+v, %v", docs2, err)
	}
	e.push(t, docs2)
	if b := e.x.sb.Balances(e.x.tenant, "2026-07-15"); b["091"].String() != "-60" || b["090"].String() != "60" || len(b) != 2 {
		t.Fatalf("the transfer moved %v", b)
	}
	if e.x.spec.Operations()["createBankTransfer"] == 0 {
		t.Fatal("no bank transfer was validated against the spec")
	}
	if p := e.x.spec.Problems(); len(p) > 0 {
		t.Fatalf("requests that do not match the spec:\n%s", strings.Join(p, "\n"))
	}
}

// A document's tracking rides on every line, journal and invoice alike,
// validated against the official schema; an archived option is the
// merchant's to fix.
func TestTrackingOnLines(t *testing.T) {
	e := newInvoiceEnv(t)
	org, _ := e.x.sb.Organisation(e.x.tenant)
	region := org.TrackingCategories[0]
	north, closed := region.Options[0], region.Options[2]
	tracked := func(opt string) []*commercesyncv1.DocumentTracking {
		return []*commercesyncv1.DocumentTracking{{CategoryId: region.TrackingCategoryID, OptionId: opt}}
	}
	journal := &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "USD", Narration: "Shop north", Tracking: tracked(north.TrackingOptionID),
		Lines: []*commercesyncv1.DocumentLine{{AccountCode: "610", Amount: "10.00"}, {AccountCode: "200", Amount: "-10.00"}}}
	if _, err := e.x.conn.Push(e.ctx, e.s, journal, connectors.Reference{Value: "CS-TRACK-1", IdempotencyKey: "t-1"}); err != nil {
		t.Fatal(err)
	}
	js := e.x.sb.ManualJournals(e.x.tenant)
	if len(js) != 1 {
		t.Fatalf("%d journals", len(js))
	}
	for _, l := range js[0].Lines {
		if len(l.Tracking) != 1 || l.Tracking[0].Category != "Region" || l.Tracking[0].Option != "North" {
			t.Fatalf("line %s tracking %+v, want Region North", l.AccountCode, l.Tracking)
		}
	}
	invoice := &commercesyncv1.Document{Type: "SalesInvoice", Date: "2026-07-14", Currency: "USD", Contact: e.cust, Status: "Submitted",
		Tracking: tracked(north.TrackingOptionID), Lines: []*commercesyncv1.DocumentLine{{AccountCode: "200", Amount: "10.00"}}}
	if _, err := e.x.conn.Push(e.ctx, e.s, invoice, connectors.Reference{Value: "CS-TRACK-2", IdempotencyKey: "t-2"}); err != nil {
		t.Fatal(err)
	}
	if inv := e.x.sb.Invoices(e.x.tenant); len(inv) != 1 || len(inv[0].Lines[0].Tracking) != 1 || inv[0].Lines[0].Tracking[0].Option != "North" {
		t.Fatalf("invoice tracking %+v", inv)
	}
	journal.Tracking = tracked(closed.TrackingOptionID)
	_, err := e.x.conn.Push(e.ctx, e.s, journal, connectors.Reference{Value: "CS-TRACK-3", IdempotencyKey: "t-3"})
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.MerchantActionable || !strings.Contains(ce.Message, "is not an active option of 'Region'") {
		t.Fatalf("archived option: %v", err)
	}
	if p := e.x.spec.Problems(); len(p) > 0 {
		t.Fatalf("requests that do not match the spec:\n%s", strings.Join(p, "\n"))
	}
}
