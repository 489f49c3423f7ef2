package qbo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// tracking is a document's tracking as Setup names QuickBooks'
// categories: "Class" and "Department", options by id.
func tracking(class, department string) []*commercesyncv1.DocumentTracking {
	var out []*commercesyncv1.DocumentTracking
	if class != "" {
		out = append(out, &commercesyncv1.DocumentTracking{CategoryId: "Class", OptionId: class})
	}
	if department != "" {
		out = append(out, &commercesyncv1.DocumentTracking{CategoryId: "Department", OptionId: department})
	}
	return out
}

// The categories the tests send are the ones Setup gives.
func TestTrackingCategoriesAreSetups(t *testing.T) {
	e := newInvoiceEnv(t)
	setup, err := e.conn.Setup(e.ctx, e.session)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range setup.Tracking {
		ids[c.ID] = true
	}
	if len(ids) != 2 || !ids["Class"] || !ids["Department"] {
		t.Fatalf("setup tracking %+v, want the categories Class and Department", setup.Tracking)
	}
}

// A journal entry carries the class and the department on every line; an
// invoice carries the class on every item line and the department on the
// transaction; QuickBooks stores them and answers them with their names,
// and the trial balance is what it would be without them.
func TestTrackingOnJournalAndInvoiceLines(t *testing.T) {
	e := newInvoiceEnv(t)
	je := balanced()
	je.Tracking = tracking(sandbox.ClassDowntown, sandbox.DepartmentMainStreet)
	id := e.mustPush(t, je, ref("CS-TRACK-JE"))

	sent := e.rec.last(t, "/journalentry?")
	for _, l := range []string{
		`"JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"87"},"ClassRef":{"value":"7"},"DepartmentRef":{"value":"1"}}`,
		`"JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"79"},"ClassRef":{"value":"7"},"DepartmentRef":{"value":"1"}}`,
		`"JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"44"},"ClassRef":{"value":"7"},"DepartmentRef":{"value":"1"}}`,
	} {
		if !strings.Contains(string(sent.reqBody), l) {
			t.Errorf("journal entry body lacks %s:\n%s", l, sent.reqBody)
		}
	}
	if !strings.Contains(string(sent.respBody), `"ClassRef":{"value":"7","name":"Retail:Downtown"},"DepartmentRef":{"value":"1","name":"Main street"}`) {
		t.Errorf("QuickBooks' answer does not name the class and location: %s", sent.respBody)
	}
	es := e.entries()
	if len(es) != 1 || es[0].ID != id || len(es[0].Lines) != 3 {
		t.Fatalf("entries %+v", es)
	}
	for i, l := range es[0].Lines {
		if l.ClassID != sandbox.ClassDowntown || l.DepartmentID != sandbox.DepartmentMainStreet {
			t.Errorf("journal line %d stored class %q department %q", i, l.ClassID, l.DepartmentID)
		}
	}

	inv := doc("SalesInvoice", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountSales, "100.00"}, line{sandbox.AccountSalesTax, "8.50"})
	inv.Tracking = tracking(sandbox.ClassOnline, sandbox.DepartmentWarehouse)
	invID := e.mustPush(t, inv, ref("CS-TRACK-INV"))
	sent = e.rec.last(t, "/invoice?")
	body := string(sent.reqBody)
	if !strings.Contains(body, `"CurrencyRef":{"value":"USD"},"DepartmentRef":{"value":"2"},"Line":[`) || strings.Count(body, `"ClassRef":{"value":"5"}`) != 2 ||
		strings.Contains(body, `"ClassRef":{"value":"5"},"DepartmentRef"`) {
		t.Errorf("invoice body: the department goes on the invoice, the class on each line:\n%s", body)
	}
	txns := e.sb.Transactions(sandbox.DefaultRealmID)
	if len(txns) != 1 || txns[0].ID != invID || txns[0].DepartmentID != sandbox.DepartmentWarehouse || txns[0].ClassID != "" || len(txns[0].Lines) != 2 {
		t.Fatalf("stored invoice %+v", txns)
	}
	for i, l := range txns[0].Lines {
		if l.ClassID != sandbox.ClassOnline {
			t.Errorf("invoice line %d stored class %q", i, l.ClassID)
		}
	}
	got := e.sb.Balances(sandbox.DefaultRealmID, "")
	want := map[string]string{"1010": "108.5", "4000": "-200", "2100": "-17", "1100": "108.5"}
	if len(got) != len(want) {
		t.Errorf("balances %v, want %v", got, want)
	}
	for num, w := range want {
		if got[num].String() != w {
			t.Errorf("account %s moved %s, want %s", num, got[num], w)
		}
	}
}

// Every document of a tracked day carries the location's class and
// department on each QuickBooks transaction that takes them, the trial
// balance is still the day's journal, and payments, which take neither,
// cost no read of the preferences.
func TestTrackingOnEveryInvoiceModeTransaction(t *testing.T) {
	e := newInvoiceEnv(t)
	loc := []mapping.Tracking{{CategoryID: "Class", OptionID: sandbox.ClassRetail}, {CategoryID: "Department", OptionID: sandbox.DepartmentMainStreet}}
	want := map[string]money.Amount{}
	tracked := 0
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
		docs = mapping.Track(docs, loc)
		for _, d := range docs {
			if d.Document.Type != "Payment" && d.Document.Type != "CreditAllocation" {
				tracked++
			}
		}
		e.pushAll(t, docs)
	}
	got := e.sb.Balances(sandbox.DefaultRealmID, "")
	for num, w := range want {
		if g := got[num]; g.String() != w.Decimal().String() {
			t.Errorf("account %s moved %s, the journal moves %s", num, g, w)
		}
		delete(got, num)
	}
	for num, g := range got {
		t.Errorf("account %s moved %s, the journal moves nothing there", num, g)
	}
	for _, j := range e.entries() {
		for i, l := range j.Lines {
			if l.ClassID != sandbox.ClassRetail || l.DepartmentID != sandbox.DepartmentMainStreet {
				t.Errorf("journal entry %s line %d: class %q department %q", j.DocNumber, i, l.ClassID, l.DepartmentID)
			}
		}
	}
	seen := map[string]bool{}
	for _, tx := range e.sb.Transactions(sandbox.DefaultRealmID) {
		seen[tx.Type] = true
		switch tx.Type {
		case "Invoice", "CreditMemo", "Bill", "VendorCredit", "Purchase", "Deposit":
			if tx.DepartmentID != sandbox.DepartmentMainStreet {
				t.Errorf("%s %s: department %q", tx.Type, tx.ID, tx.DepartmentID)
			}
			for i, l := range tx.Lines {
				if l.ClassID != sandbox.ClassRetail {
					t.Errorf("%s %s line %d: class %q", tx.Type, tx.ID, i, l.ClassID)
				}
			}
		default:
			if tx.DepartmentID != "" || tx.ClassID != "" {
				t.Errorf("%s %s carries tracking: class %q department %q", tx.Type, tx.ID, tx.ClassID, tx.DepartmentID)
			}
		}
	}
	for _, typ := range []string{"Invoice", "CreditMemo", "Bill", "VendorCredit", "Purchase", "Deposit", "Payment", "Transfer"} {
		if !seen[typ] {
			t.Errorf("the days posted no %s; the test no longer covers it", typ)
		}
	}
	if n := len(e.rec.all("/preferences?")); n == 0 || n > tracked {
		t.Errorf("%d reads of the preferences for %d documents whose transactions carry tracking", n, tracked)
	}
	settled(t, e.sb)
}

// An inactive class or location is QuickBooks' 610, which the connector
// completes with what is inactive; an unknown one is 2500. Both are the
// merchant's to fix, and nothing is stored.
func TestInactiveOrUnknownTrackingIsRefusedNamingIt(t *testing.T) {
	e := newInvoiceEnv(t)
	const inactive = `{"Fault":{"Error":[{"Message":"Object Not Found","Detail":"Object Not Found : Something you're trying to use has been made inactive. ` +
		`Check the fields with accounts, customers, items, vendors or employees.","code":"610","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`
	withTracking := func(d *commercesyncv1.Document, class, department string) *commercesyncv1.Document {
		d.Tracking = tracking(class, department)
		return d
	}
	cases := []struct {
		name, path, field, envelope, message string
		doc                                  *commercesyncv1.Document
	}{
		{"inactive class on a journal entry", "/journalentry?", "Tracking", inactive,
			`Inactive in QuickBooks: class "Pop-up" (id 8).`, withTracking(balanced(), sandbox.ClassPopUp, sandbox.DepartmentMainStreet)},
		{"inactive location on an invoice", "/invoice?", "Tracking", inactive,
			`Inactive in QuickBooks: location "Airport kiosk" (id 3).`,
			withTracking(doc("SalesInvoice", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountSales, "10.00"}), sandbox.ClassOnline, sandbox.DepartmentAirport)},
		{"inactive account and class on a bill", "/bill?", "AccountId", inactive,
			`Inactive in QuickBooks: account 4090 "Discontinued sales" (id 92), class "Pop-up" (id 8).`,
			withTracking(doc("Bill", "2026-07-14", sandbox.VendorCommerceProvider, line{sandbox.AccountInactive, "3.10"}), sandbox.ClassPopUp, "")},
		{"unknown class on a journal entry", "/journalentry?", "Tracking",
			`{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Class element id 999 not found","code":"2500","element":""}],` +
				`"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			"Invalid Reference Id : Class element id 999 not found", withTracking(balanced(), "999", "")},
		{"unknown location on a purchase", "/purchase?", "Tracking",
			`{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Department element id 998 not found","code":"2500","element":""}],` +
				`"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			"Invalid Reference Id : Department element id 998 not found",
			withTracking(settling("SpendMoney", "2026-07-14", "", sandbox.AccountChecking, "3.10"), "", "998")},
	}
	cases[4].doc.Lines = []*commercesyncv1.DocumentLine{{AccountId: sandbox.AccountBankFees, Amount: "3.10"}}
	for i, c := range cases {
		r := connectors.Reference{Value: "CS-TRACK-BAD-" + string(rune('a'+i)), IdempotencyKey: "track-bad-" + string(rune('a'+i)), Document: c.doc}
		_, ce := e.fixture.push(c.doc, r)
		if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != http.StatusBadRequest || ce.Field != c.field || !strings.HasSuffix(ce.Message, c.message) {
			t.Errorf("%s: %v (field %q), want a merchant-actionable 400 on %s ending %q", c.name, ce, fieldOf(ce), c.field, c.message)
			continue
		}
		if sent := e.rec.last(t, c.path); sent.status != http.StatusBadRequest || string(sent.respBody) != c.envelope {
			t.Errorf("%s: QuickBooks answered %d\n%s\nwant\n%s", c.name, sent.status, sent.respBody, c.envelope)
		}
	}
	if n := len(e.entries()) + len(e.sb.Transactions(sandbox.DefaultRealmID)); n != 0 {
		t.Fatalf("%d transactions stored from refused pushes", n)
	}
}

func fieldOf(ce *connectors.Error) string {
	if ce == nil {
		return ""
	}
	return ce.Field
}

// Tracking QuickBooks cannot take is the merchant's to fix, and is
// refused before anything is sent: a category QuickBooks does not have,
// two classes, an id QuickBooks cannot have issued, and a class or
// location the company has stopped tracking. A payment carries no
// tracking, so it goes through whatever the company tracks.
func TestTrackingTheCompanyCannotTakeIsRefusedBeforeSending(t *testing.T) {
	e := newInvoiceEnv(t)
	inv := e.mustPush(t, doc("SalesInvoice", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountSales, "10.00"}), ref("CS-INV"))
	if err := e.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) {
		c.ClassTrackingPerTxnLine, c.ClassTrackingPerTxn = false, false
	}); err != nil {
		t.Fatal(err)
	}
	region := balanced()
	region.Tracking = []*commercesyncv1.DocumentTracking{{CategoryId: "Region", OptionId: "5"}}
	two := balanced()
	two.Tracking = append(tracking(sandbox.ClassOnline, ""), tracking(sandbox.ClassRetail, "")...)
	named := balanced()
	named.Tracking = tracking("Online", "")
	classOff := balanced()
	classOff.Tracking = tracking(sandbox.ClassOnline, sandbox.DepartmentMainStreet)
	cases := []struct {
		name, field, want string
		doc               *commercesyncv1.Document
	}{
		{"a category QuickBooks does not have", "Tracking[0]", `names the category "Region", which QuickBooks does not have`, region},
		{"two classes", "Tracking[1]", "gives two QuickBooks classes (ids 5 and 6), but a QuickBooks line takes one class", two},
		{"an option that is not an id", "Tracking[0]", `QuickBooks has no class with id "Online"`, named},
		{"class tracking turned off", "Tracking", "class tracking is turned off in QuickBooks", classOff},
	}
	before := len(e.rec.all("/journalentry?"))
	for i, c := range cases {
		_, ce := e.fixture.push(c.doc, ref("CS-TRACK-OFF-"+string(rune('a'+i))))
		if ce == nil || ce.Class != connectors.MerchantActionable || ce.Field != c.field || !strings.Contains(ce.Message, c.want) {
			t.Errorf("%s: %v (field %q), want a merchant-actionable refusal on %s saying %q", c.name, ce, fieldOf(ce), c.field, c.want)
		}
	}
	if err := e.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) {
		c.ClassTrackingPerTxnLine, c.TrackDepartments = true, false
	}); err != nil {
		t.Fatal(err)
	}
	if _, ce := e.fixture.push(classOff, ref("CS-TRACK-OFF-LOC")); ce == nil || ce.Class != connectors.MerchantActionable ||
		!strings.Contains(ce.Message, "location tracking is turned off in QuickBooks") {
		t.Errorf("location tracking turned off: %v", ce)
	}
	if n := len(e.rec.all("/journalentry?")); n != before {
		t.Fatalf("%d journal entries were sent with tracking QuickBooks cannot take", n-before)
	}

	pay := settling("Payment", "2026-07-14", sandbox.CustomerCommerceProvider, sandbox.AccountCardClearing, "10.00", inv)
	pay.Tracking = tracking(sandbox.ClassOnline, sandbox.DepartmentMainStreet)
	reads := len(e.rec.all("/preferences?"))
	e.mustPush(t, pay, ref("CS-PAY"))
	if body := string(e.rec.last(t, "/payment?").reqBody); strings.Contains(body, "ClassRef") || strings.Contains(body, "DepartmentRef") {
		t.Errorf("payment body %s", body)
	}
	if n := len(e.rec.all("/preferences?")); n != reads {
		t.Errorf("a payment read the preferences %d times", n-reads)
	}
}

// A company that assigns one class to each transaction takes a sales
// form's class in its header; journal entry and expense lines still carry
// it, the only place they take one.
func TestClassPerTransactionGoesInTheSalesFormsHeader(t *testing.T) {
	e := newInvoiceEnv(t)
	if err := e.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) {
		c.ClassTrackingPerTxnLine, c.ClassTrackingPerTxn = false, true
	}); err != nil {
		t.Fatal(err)
	}
	inv := doc("SalesInvoice", "2026-07-14", sandbox.CustomerCommerceProvider, line{sandbox.AccountSales, "10.00"})
	inv.Tracking = tracking(sandbox.ClassRetail, sandbox.DepartmentMainStreet)
	e.mustPush(t, inv, ref("CS-INV"))
	body := string(e.rec.last(t, "/invoice?").reqBody)
	if !strings.Contains(body, `"ClassRef":{"value":"6"},"DepartmentRef":{"value":"1"},"Line":[`) || strings.Count(body, "ClassRef") != 1 {
		t.Errorf("invoice body %s", body)
	}
	bill := doc("Bill", "2026-07-14", sandbox.VendorCommerceProvider, line{sandbox.AccountBankFees, "3.10"})
	bill.Tracking = inv.Tracking
	e.mustPush(t, bill, ref("CS-BILL"))
	if body := string(e.rec.last(t, "/bill?").reqBody); !strings.Contains(body, `"AccountRef":{"value":"54"},"ClassRef":{"value":"6"}`) {
		t.Errorf("bill body %s", body)
	}
	je := balanced()
	je.Tracking = inv.Tracking
	e.mustPush(t, je, ref("CS-JE"))
	if body := string(e.rec.last(t, "/journalentry?").reqBody); strings.Count(body, `"ClassRef":{"value":"6"}`) != 3 {
		t.Errorf("journal entry body %s", body)
	}
	txns := e.sb.Transactions(sandbox.DefaultRealmID)
	if len(txns) != 2 || txns[0].ClassID != sandbox.ClassRetail || txns[0].Lines[0].ClassID != "" || txns[1].Lines[0].ClassID != sandbox.ClassRetail {
		t.Errorf("stored %+v", txns)
	}
}
