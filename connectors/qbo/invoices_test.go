package qbo_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/plan"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Accounts the invoice-mode tests add to the default company.
const (
	accountSavings = "36" // 1001, a second bank account
	accountCard    = "37" // 2300, a credit card
)

// invoiceMemory is how long the tests' sandbox remembers a requestid.
const invoiceMemory = time.Hour

// codes binds configuration slots to the default chart by account number.
type codes struct {
	ids  map[string]string // AcctNum → Id
	slot map[string]string // section/key → AcctNum
}

func (c codes) Account(section, key string) (mapping.Binding, bool) {
	num, ok := c.slot[section+"/"+key]
	if !ok {
		return mapping.Binding{}, false
	}
	return mapping.Binding{AccountID: c.ids[num], Code: num}, true
}

func (c codes) isBank(id string) bool { return id == sandbox.AccountChecking || id == accountSavings }

func (c codes) with(slot, num string) codes {
	out := codes{ids: c.ids, slot: map[string]string{}}
	for k, v := range c.slot {
		out.slot[k] = v
	}
	out.slot[slot] = num
	return out
}

type invoiceEnv struct {
	*fixture
	accts codes
}

// newInvoiceEnv is the default company with what a merchant selling
// through liability accounts has: products on the sales tax, tips and
// gift card accounts, a second bank account and a credit card. Rate
// limits are off: the clock stands still and the tests make many calls.
func newInvoiceEnv(t *testing.T) *invoiceEnv {
	t.Helper()
	f := newFixture(t, sandbox.WithLimits(sandbox.Limits{}), sandbox.WithRequestIDMemory(invoiceMemory))
	if err := f.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) {
		c.Items = append(c.Items,
			sandbox.Item{ID: "20", Name: "Sales tax collected", IncomeAccountID: sandbox.AccountSalesTax},
			sandbox.Item{ID: "21", Name: "Tips", IncomeAccountID: sandbox.AccountTips},
			sandbox.Item{ID: "22", Name: "Gift card", IncomeAccountID: sandbox.AccountGiftCards})
		c.Accounts = append(c.Accounts,
			sandbox.Account{ID: accountSavings, AcctNum: "1001", Name: "Savings", AccountType: "Bank", AccountSubType: "Savings"},
			sandbox.Account{ID: accountCard, AcctNum: "2300", Name: "Company card", AccountType: "Credit Card", AccountSubType: "CreditCard"})
	}); err != nil {
		t.Fatal(err)
	}
	f.connect()
	co, _ := f.sb.Company(sandbox.DefaultRealmID)
	ids := map[string]string{}
	for _, a := range co.Accounts {
		ids[a.AcctNum] = a.ID
	}
	return &invoiceEnv{fixture: f, accts: codes{ids: ids, slot: map[string]string{
		"sales/sales": "4000", "sales/refund": "4030", "sales/tax": "2100", "sales/gratuity": "2200", "sales/prepaid": "2210",
		"payments/card": "1010", "payments/cash": "1020", "payments/unsettled": "1030", "payments/payout": "1000",
		"fees/paymentFee": "6000", "fees/paymentFeeRefund": "4100",
	}}}
}

// pushAll sends a summary's documents in order, as the push worker does,
// filling in the ids of what each settles.
func (e *invoiceEnv) pushAll(t *testing.T, docs []mapping.Planned) ([]connectors.Reference, []string) {
	t.Helper()
	var refs []connectors.Reference
	var ids []string
	for _, p := range docs {
		doc := plan.DocumentProto(p.Document, e.accts.isBank)
		for _, i := range doc.GetAppliesTo() {
			doc.AppliesToExternalIds = append(doc.AppliesToExternalIds, ids[i])
		}
		r := connectors.Reference{Value: p.Reference, IdempotencyKey: p.DocumentID + "-c1", Document: doc}
		res, err := e.conn.Push(e.ctx, e.session, doc, r)
		if err != nil {
			t.Fatalf("push %s (%s): %v", p.Document.Type, p.Reference, err)
		}
		refs, ids = append(refs, r), append(ids, res.ExternalID)
	}
	return refs, ids
}

func summaryOf(t *testing.T, d string, tot day.Totals) day.Summary {
	t.Helper()
	s, err := day.NewSummary(day.Header{CompanyID: "co-1", TenantID: "t-1", Day: d, Currency: "USD", Revision: 1, Zone: "Etc/UTC"}, tot)
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

// The two days of Xero's invoice-mode test, on QuickBooks: every
// document type of mapping.Invoices, each on its route.
func invoiceDays(t *testing.T) []day.Summary {
	return []day.Summary{
		summaryOf(t, "2026-07-14", day.Totals{
			day.Sales: usd(t, "-1000"), day.Refunds: usd(t, "80"), day.Tax: usd(t, "-68"), day.Gratuity: usd(t, "-50"),
			day.PaymentFees: usd(t, "3.10"), day.PaymentFeeRefunds: usd(t, "-1"), day.Tender("Card"): usd(t, "700"),
			day.Tender("Cash"): usd(t, "200"), day.Payouts: usd(t, "500"), day.Unsettled: usd(t, "-364.10"),
		}),
		// Refunds exceed sales (a credit memo, no invoice), and the card
		// provider's balance is a bank account: fees are a purchase and a
		// deposit, the payout a transfer between banks.
		summaryOf(t, "2026-07-15", day.Totals{
			day.Refunds: usd(t, "120"), day.Sales: usd(t, "-20"), day.PaymentFees: usd(t, "2"), day.PaymentFeeRefunds: usd(t, "-0.50"),
			day.Payouts: usd(t, "30"), day.Tender("Card"): usd(t, "-131.50"),
		}),
	}
}

// A day of every kind of money goes to QuickBooks in invoice mode, and
// the company's trial balance then moves every account exactly as the
// day's journal would, with Accounts Receivable and Payable back at zero.
// Pushing again with the same requestids, and finding every document
// once QuickBooks has forgotten them (or from a restarted connector),
// duplicates nothing.
func TestInvoiceModeMovesWhatTheJournalMoves(t *testing.T) {
	e := newInvoiceEnv(t)
	want := map[string]money.Amount{}
	var all [][]mapping.Planned
	for i, s := range invoiceDays(t) {
		accts := e.accts
		if i == 1 {
			accts = accts.with("payments/card", "1001")
		}
		journal, err := mapping.Journal(s, accts)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range journal[0].Document.Lines {
			want[l.Account.Code] += l.Amount
		}
		docs, err := mapping.Invoices(s, accts, mapping.InvoiceOptions{
			Customer: sandbox.CustomerCommerceProvider, Supplier: sandbox.VendorCommerceProvider, IsBank: accts.isBank})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, docs)
	}
	var refs []connectors.Reference
	var ids []string
	for _, docs := range all {
		r, i := e.pushAll(t, docs)
		refs, ids = append(refs, r...), append(ids, i...)
	}
	check := func(when string) {
		t.Helper()
		got := e.sb.Balances(sandbox.DefaultRealmID, "")
		for num, w := range want {
			if g := got[num]; g.String() != w.Decimal().String() {
				t.Errorf("%s: account %s moved %s, the journal moves %s", when, num, g, w)
			}
			delete(got, num)
		}
		for num, g := range got {
			t.Errorf("%s: account %s moved %s, the journal moves nothing there (1100 is receivables, 2000 payables)", when, num, g)
		}
	}
	check("after the push")
	count := func() int { return len(e.sb.Transactions(sandbox.DefaultRealmID)) + len(e.entries()) }
	posted := count()

	// The same requests again, inside QuickBooks' requestid memory.
	for i, r := range refs {
		res, err := e.conn.Push(e.ctx, e.session, r.Document, r)
		if err != nil || res.ExternalID != ids[i] {
			t.Fatalf("re-push %s %s: %v, %v (first %s)", r.Document.GetType(), r.Value, res, err, ids[i])
		}
	}
	check("after pushing again")
	if n := count(); n != posted {
		t.Fatalf("pushing again posted %d more transactions", n-posted)
	}

	// Past the memory, and from a connector that knows nothing of the
	// pushes, every document is found where it stands.
	e.clock.Advance(invoiceMemory + time.Minute)
	fresh := qbo.New(qbo.WithClientID(clientID), qbo.WithClientSecret(clientSecret), qbo.WithSandboxBase(e.srv.URL),
		qbo.WithHTTPClient(&http.Client{Transport: e.rec}), qbo.WithClock(e.clock.Now), qbo.WithLogger(slog.New(slog.DiscardHandler)))
	for i, r := range refs {
		for name, c := range map[string]*qbo.Connector{"connector": e.conn, "restarted connector": fresh} {
			res, found, err := c.Find(e.ctx, e.session, r)
			if err != nil || !found || res.ExternalID != ids[i] {
				t.Fatalf("%s: find %s (%s): %v %t %v, want %s", name, r.Document.GetType(), r.Value, res, found, err, ids[i])
			}
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
	entities := map[string]int{"JournalEntry": len(e.entries())}
	for _, tx := range e.sb.Transactions(sandbox.DefaultRealmID) {
		entities[tx.Type]++
	}
	for _, ent := range []string{"Invoice", "CreditMemo", "Payment", "Bill", "VendorCredit", "BillPayment", "Purchase", "Deposit", "Transfer", "JournalEntry"} {
		if entities[ent] == 0 {
			t.Errorf("no %s was posted (posted %v)", ent, entities)
		}
	}
	settled(t, e.sb)
}

// settled checks that what the days' payments settle is closed: no
// invoice, credit memo or bill has anything left open.
func settled(t *testing.T, sb *sandbox.Server) {
	t.Helper()
	for _, tx := range sb.Transactions(sandbox.DefaultRealmID) {
		switch tx.Type {
		case "Invoice", "CreditMemo", "Bill":
			if !tx.Open.IsZero() {
				t.Errorf("%s %s (%s) still has %s open", tx.Type, tx.ID, tx.DocNumber, tx.Open)
			}
		}
	}
}

// doc builds an invoice-mode document by hand, as the planner would.
func doc(typ, date, contact string, lines ...line) *commercesyncv1.Document {
	d := &commercesyncv1.Document{Type: typ, Date: date, Currency: "USD", Contact: contact, Narration: "Daily sales summary " + date + " USD"}
	for _, l := range lines {
		d.Lines = append(d.Lines, &commercesyncv1.DocumentLine{AccountId: l[0], Amount: l[1], Description: "line " + l[0]})
	}
	return d
}

// settling is a payment-like document of amount through the money
// account, settling the documents with the given ids.
func settling(typ, date, contact, moneyAccount, amount string, settles ...string) *commercesyncv1.Document {
	d := doc(typ, date, contact)
	d.Money = &commercesyncv1.DocumentLine{AccountId: moneyAccount, Amount: amount, Description: "money " + moneyAccount}
	for i, id := range settles {
		d.AppliesTo = append(d.AppliesTo, int32(i))
		d.AppliesToExternalIds = append(d.AppliesToExternalIds, id)
	}
	return d
}

func (e *invoiceEnv) mustPush(t *testing.T, d *commercesyncv1.Document, r connectors.Reference) string {
	t.Helper()
	r.Document = d
	res, ce := e.fixture.push(d, r)
	if ce != nil {
		t.Fatalf("push %s %s: %v", d.GetType(), r.Value, ce)
	}
	return res.ExternalID
}

// QuickBooks refuses invoice-mode documents as it refuses journals, in
// its Fault envelope, and the connector hands the refusal to the
// merchant; a line whose account no product sells through is refused
// before anything is sent.
func TestInvoiceModeRefusals(t *testing.T) {
	e := newInvoiceEnv(t)
	if err := e.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	sale := func(date, account string) *commercesyncv1.Document {
		return doc("SalesInvoice", date, sandbox.CustomerCommerceProvider, line{account, "10.00"})
	}
	jpy := sale("2026-07-14", sandbox.AccountSales)
	jpy.Currency = "JPY"
	closed := sale("2026-07-14", sandbox.AccountSales)
	closed.Contact = sandbox.CustomerClosed
	cases := []struct {
		name, path, code, want string
		doc                    *commercesyncv1.Document
	}{
		{"inactive account", "/bill", "610", `Inactive in QuickBooks: account 4090 "Discontinued sales" (id 92).`,
			doc("Bill", "2026-07-14", sandbox.VendorCommerceProvider, line{sandbox.AccountInactive, "3.10"})},
		{"locked period", "/invoice", "6210", "The account period has closed and the account books cannot be updated through the QBO Services API.",
			sale("2026-06-30", sandbox.AccountSales)},
		{"currency not enabled", "/invoice", "6000", "Business Validation Error: The currency JPY is not enabled for this company.", jpy},
		{"inactive customer", "/invoice", "610", "Something you're trying to use has been made inactive", closed},
	}
	for i, c := range cases {
		_, ce := e.fixture.push(c.doc, connectors.Reference{Value: "CS-REFUSED-" + c.code + "-" + string(rune('a'+i)), IdempotencyKey: "refused-" + c.name, Document: c.doc})
		if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != 400 || !strings.Contains(ce.Message, c.want) {
			t.Errorf("%s: %v, want a merchant-actionable 400 saying %q", c.name, ce, c.want)
			continue
		}
		sent := e.rec.last(t, c.path+"?")
		if sent.status != 400 || !strings.HasPrefix(string(sent.respBody), `{"Fault":{"Error":[{"Message":`) ||
			!strings.Contains(string(sent.respBody), `"code":"`+c.code+`"`) || !strings.Contains(string(sent.respBody), `"type":"ValidationFault"`) {
			t.Errorf("%s: QuickBooks answered %d %s", c.name, sent.status, sent.respBody)
		}
	}

	// No product sells through 4100 Payment fee refunds: the merchant is
	// told to create one, and nothing reaches QuickBooks.
	before := len(e.rec.all("/invoice?"))
	_, ce := e.fixture.push(sale("2026-07-14", sandbox.AccountFeeRefunds), ref("CS-NO-ITEM"))
	if ce == nil || ce.Class != connectors.MerchantActionable || ce.Field != "Lines[0].AccountId" ||
		!strings.Contains(ce.Message, `4100 "Payment fee refunds" (id 83)`) || !strings.Contains(ce.Message, "create a product or service whose income account is") {
		t.Errorf("an account without a product: %v", ce)
	}
	if len(e.rec.all("/invoice?")) != before {
		t.Error("an invoice no product can carry was sent")
	}

	// A payment larger than what the invoice still owes.
	inv := e.mustPush(t, sale("2026-07-14", sandbox.AccountSales), ref("CS-INV-1"))
	over := settling("Payment", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountCardClearing, "10.01", inv)
	_, ce = e.fixture.push(over, ref("CS-PAY-OVER"))
	wantFault := `{"Fault":{"Error":[{"Message":"A business validation error has occurred while processing your request",` +
		`"Detail":"Business Validation Error: The amount applied to Invoice ` + inv + ` (10.01) is more than its open balance (10.00).","code":"6000","element":""}],` +
		`"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`
	if sent := e.rec.last(t, "/payment?"); ce == nil || ce.Class != connectors.MerchantActionable || string(sent.respBody) != wantFault {
		t.Errorf("overpayment: %v\n%s\nwant\n%s", ce, sent.respBody, wantFault)
	}
	e.mustPush(t, settling("Payment", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountCardClearing, "10.00", inv), ref("CS-PAY-1"))
	over.Money.Amount = "0.01"
	if _, ce = e.fixture.push(over, ref("CS-PAY-AGAIN")); ce == nil || ce.Class != connectors.MerchantActionable || !strings.Contains(ce.Message, "open balance (0.00)") {
		t.Errorf("paying a paid invoice: %v", ce)
	}
	// A payment into an account QuickBooks deposits nothing into.
	into := settling("Payment", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountBankFees, "1.00", inv)
	if _, ce = e.fixture.push(into, ref("CS-PAY-FEES")); ce == nil || ce.Class != connectors.MerchantActionable || !strings.Contains(ce.Message, "Bank fees is not one") {
		t.Errorf("a payment into an expense account: %v", ce)
	}
}

// Codat's QuickBooks refund (§3.2): a journal entry crediting the money
// account and debiting Accounts Receivable for the customer, linked to
// the credit memo by a payment of zero.
func TestRefundIsAJournalEntryLinkedByAZeroPayment(t *testing.T) {
	e := newInvoiceEnv(t)
	memo := e.mustPush(t, doc("SalesCreditNote", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountRefunds, "80.00"}), ref("CS-CM"))
	refund := settling("Refund", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountUnsettled, "80.00", memo)
	je := e.mustPush(t, refund, ref("CS-REFUND"))

	wantJE := `{"TxnDate":"2026-07-14","DocNumber":"CS-REFUND","PrivateNote":"Daily sales summary 2026-07-14 USD [CS-REFUND]","CurrencyRef":{"value":"USD"},"Line":[` +
		`{"Description":"money 89","Amount":80.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"84"},"Entity":{"Type":"Customer","EntityRef":{"value":"2"}}}},` +
		`{"Description":"money 89","Amount":80.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"89"}}}]}`
	if sent := e.rec.last(t, "/journalentry?"); string(sent.reqBody) != wantJE || !strings.Contains(sent.url, "requestid=key-CS-REFUND.je") {
		t.Errorf("journal entry %s\n%s\nwant\n%s", sent.url, sent.reqBody, wantJE)
	}
	wantLink := `{"TxnDate":"2026-07-14","PaymentRefNum":"CS-REFUND","PrivateNote":"Daily sales summary 2026-07-14 USD [CS-REFUND]","CustomerRef":{"value":"2"},` +
		`"CurrencyRef":{"value":"USD"},"TotalAmt":0.00,"Line":[{"Amount":80.00,"LinkedTxn":[{"TxnId":"` + je + `","TxnType":"JournalEntry"}]},` +
		`{"Amount":80.00,"LinkedTxn":[{"TxnId":"` + memo + `","TxnType":"CreditMemo"}]}]}`
	if sent := e.rec.last(t, "/payment?"); string(sent.reqBody) != wantLink || !strings.Contains(sent.url, "requestid=key-CS-REFUND.link") {
		t.Errorf("link %s\n%s\nwant\n%s", sent.url, sent.reqBody, wantLink)
	}
	if got := e.sb.Balances(sandbox.DefaultRealmID, ""); len(got) != 2 || got["1030"].String() != "-80" || got["4030"].String() != "80" {
		t.Errorf("balances %v, want 1030 -80 and 4030 80 with A/R at zero", got)
	}
	settled(t, e.sb)
}

// A bill paid from a bank account is a BillPayment by check, and from a
// credit card a BillPayment by card: one transaction, found by its
// number.
func TestBillPaidFromABankOrCardAccount(t *testing.T) {
	e := newInvoiceEnv(t)
	for i, acct := range []string{sandbox.AccountChecking, accountCard} {
		suffix := string(rune('1' + i))
		bill := e.mustPush(t, doc("Bill", "2026-07-14", sandbox.VendorCommerceProvider, line{sandbox.AccountBankFees, "3.10"}), ref("CS-BILL-"+suffix))
		pay := settling("BillPayment", "2026-07-14", sandbox.VendorCommerceProvider, acct, "3.10", bill)
		r := ref("CS-BILLPAY-" + suffix)
		r.Document = pay
		id := e.mustPush(t, pay, r)
		sent := e.rec.last(t, "/billpayment?")
		wantPay := `"PayType":"Check","CheckPayment":{"BankAccountRef":{"value":"35"}}`
		if acct == accountCard {
			wantPay = `"PayType":"CreditCard","CreditCardPayment":{"CCAccountRef":{"value":"37"}}`
		}
		if !strings.Contains(string(sent.reqBody), `"DocNumber":"CS-BILLPAY-`+suffix+`"`) || !strings.Contains(string(sent.reqBody), wantPay) ||
			!strings.Contains(string(sent.reqBody), `"TotalAmt":3.10`) {
			t.Errorf("bill payment from %s: %s", acct, sent.reqBody)
		}
		if res, found, err := e.conn.Find(e.ctx, e.session, r); err != nil || !found || res.ExternalID != id {
			t.Errorf("find the bill payment from %s: %v %t %v, want %s", acct, res, found, err, id)
		}
	}
	if len(e.entries()) != 0 {
		t.Error("a bill paid from a bank or card account went through a journal entry")
	}
	got := e.sb.Balances(sandbox.DefaultRealmID, "")
	if len(got) != 3 || got["1000"].String() != "-3.1" || got["2300"].String() != "-3.1" || got["6000"].String() != "6.2" {
		t.Errorf("balances %v", got)
	}
	settled(t, e.sb)
}

// QuickBooks' bill payment names a bank or card account even when it
// moves nothing; a company with neither is told to add one.
func TestBillPaidFromClearingNeedsABankAccount(t *testing.T) {
	e := newInvoiceEnv(t)
	bill := e.mustPush(t, doc("Bill", "2026-07-14", sandbox.VendorCommerceProvider, line{sandbox.AccountBankFees, "3.10"}), ref("CS-BILL"))
	if err := e.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) {
		for i := range c.Accounts {
			if t := c.Accounts[i].AccountType; t == "Bank" || t == "Credit Card" {
				c.Accounts[i].Inactive = true
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	_, ce := e.fixture.push(settling("BillPayment", "2026-07-14", sandbox.VendorCommerceProvider, sandbox.AccountCardClearing, "3.10", bill), ref("CS-BILLPAY"))
	if ce == nil || ce.Class != connectors.MerchantActionable || !strings.Contains(ce.Message, "no active bank or credit card account") {
		t.Fatalf("bill payment without a bank account: %v", ce)
	}
	if len(e.entries()) != 0 {
		t.Fatal("the journal entry was posted without its link")
	}
}

// A transfer touching an account that is not an asset (a credit card) is
// a journal entry; between assets it is a Transfer.
func TestTransferOutsideAssetsIsAJournalEntry(t *testing.T) {
	e := newInvoiceEnv(t)
	tr := doc("Transfer", "2026-07-14", sandbox.CustomerCommerceProvider)
	tr.Money = &commercesyncv1.DocumentLine{AccountId: accountCard, Amount: "25.00", Description: "Company card"}
	tr.To = &commercesyncv1.DocumentLine{AccountId: sandbox.AccountChecking, Amount: "25.00", Description: "Checking"}
	r := ref("CS-TRANSFER")
	r.Document = tr
	id := e.mustPush(t, tr, r)
	if es := e.entries(); len(es) != 1 || es[0].ID != id || es[0].DocNumber != "CS-TRANSFER" {
		t.Fatalf("entries %+v", es)
	}
	if got := e.sb.Balances(sandbox.DefaultRealmID, ""); len(got) != 2 || got["2300"].String() != "-25" || got["1000"].String() != "25" {
		t.Errorf("balances %v", got)
	}
	if res, found, err := e.conn.Find(e.ctx, e.session, r); err != nil || !found || res.ExternalID != id {
		t.Errorf("find: %v %t %v", res, found, err)
	}
}

// A two-transaction document whose link failed is not found until the
// link exists, and pushing it again (after QuickBooks forgot the
// requestids) completes it without posting the journal entry twice. A
// lost answer after both committed is found, and pushing again adds
// nothing.
func TestTwoStepDocumentsRecoverWithoutDuplicates(t *testing.T) {
	e := newInvoiceEnv(t)
	memo := e.mustPush(t, doc("SalesCreditNote", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountRefunds, "80.00"}), ref("CS-CM"))
	refund := settling("Refund", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountUnsettled, "30.00", memo)
	r := ref("CS-REFUND-1")
	r.Document = refund

	e.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/payment", Status: http.StatusInternalServerError})
	if _, ce := e.fixture.push(refund, r); ce == nil || ce.Class != connectors.Retryable {
		t.Fatalf("link failed: %v", ce)
	}
	if _, found, err := e.conn.Find(e.ctx, e.session, r); err != nil || found {
		t.Fatalf("a refund without its link was found: %t %v", found, err)
	}
	e.clock.Advance(invoiceMemory + time.Minute)
	id := e.mustPush(t, refund, r)
	if es := e.entries(); len(es) != 1 || es[0].ID != id {
		t.Fatalf("entries after the retry %+v, want the one journal entry %s", es, id)
	}

	r2 := ref("CS-REFUND-2")
	r2.Document = refund
	e.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/payment", DropResponse: true})
	if _, ce := e.fixture.push(refund, r2); ce == nil || ce.Class != connectors.Retryable {
		t.Fatalf("dropped answer: %v", ce)
	}
	res, found, err := e.conn.Find(e.ctx, e.session, r2)
	if err != nil || !found {
		t.Fatalf("find after a lost answer: %v %t %v", res, found, err)
	}
	posted := len(e.sb.Transactions(sandbox.DefaultRealmID)) + len(e.entries())
	e.clock.Advance(invoiceMemory + time.Minute)
	if again := e.mustPush(t, refund, r2); again != res.ExternalID {
		t.Fatalf("pushed again: %s, found %s", again, res.ExternalID)
	}
	if n := len(e.sb.Transactions(sandbox.DefaultRealmID)) + len(e.entries()); n != posted {
		t.Fatalf("pushing again posted %d more", n-posted)
	}
	// Refunded twice 30 against the credit memo of 80: 20 stays owed to
	// the customer.
	if got := e.sb.Balances(sandbox.DefaultRealmID, ""); got["1030"].String() != "-60" || got["4030"].String() != "80" || got["1100"].String() != "-20" {
		t.Errorf("balances %v", got)
	}

	// An invoice pushed again once its requestid is forgotten resolves to
	// the one QuickBooks holds under its number (6140).
	sale := doc("SalesInvoice", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountSales, "10.00"})
	inv := e.mustPush(t, sale, ref("CS-INV"))
	e.clock.Advance(invoiceMemory + time.Minute)
	if again := e.mustPush(t, sale, ref("CS-INV")); again != inv {
		t.Fatalf("invoice pushed again: %s, first %s", again, inv)
	}
}
