package sandbox_test

import (
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

const inactiveDetail = "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees."

func unknownRef(list, id string) string {
	return fault("Invalid Reference Id", "Invalid Reference Id : "+list+" element id "+id+" not found", "2500", "")
}

func unsupportedProperty(name string) string {
	return fault("Request has invalid or unsupported property", "Property Name:"+name+" specified is unsupported or invalid", "2010", name)
}

// Journal entry lines carry ClassRef and DepartmentRef (§2.2): stored,
// answered with their full names, kept by a sparse update, and refused
// when unknown (2500) or inactive (610).
func TestJournalLineTracking(t *testing.T) {
	e := newEnv(t, many).login()
	ln := func(side, acct, amount, tracking string) string {
		return `{"Amount":` + amount + `,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"` + side + `","AccountRef":{"value":"` + acct + `"}` + tracking + `}}`
	}
	je := func(tracking string) string {
		return `{"TxnDate":"2026-07-14","CurrencyRef":{"value":"USD"},"Line":[` + ln("Debit", "87", "10", tracking) + `,` + ln("Credit", "79", "10", tracking) + `]}`
	}
	for _, c := range []struct{ name, tracking, want string }{
		{"unknown class", `,"ClassRef":{"value":"99"}`, unknownRef("Class", "99")},
		{"inactive class", `,"ClassRef":{"value":"` + sandbox.ClassPopUp + `"}`, fault("Object Not Found", inactiveDetail, "610", "")},
		{"unknown department", `,"DepartmentRef":{"value":"98"}`, unknownRef("Department", "98")},
		{"inactive department", `,"DepartmentRef":{"value":"` + sandbox.DepartmentAirport + `"}`, fault("Object Not Found", inactiveDetail, "610", "")},
	} {
		if r := e.api("POST", "/journalentry", je(c.tracking)); r.status != 400 || r.String() != c.want {
			t.Errorf("%s: %d\n%s\nwant\n%s", c.name, r.status, r, c.want)
		}
	}
	if n := len(e.sb.JournalEntries(realm)); n != 0 {
		t.Fatalf("%d entries stored from refusals", n)
	}
	r := e.api("POST", "/journalentry", je(`,"ClassRef":{"value":"`+sandbox.ClassDowntown+`"},"DepartmentRef":{"value":"`+sandbox.DepartmentWarehouse+`"}`))
	id := idOf(t, r)
	if n := strings.Count(r.String(), `"ClassRef":{"value":"7","name":"Retail:Downtown"},"DepartmentRef":{"value":"2","name":"Warehouse"}`); n != 2 {
		t.Errorf("answer names the tracking on %d lines, want 2: %s", n, r)
	}
	js := e.sb.JournalEntries(realm)
	if len(js) != 1 {
		t.Fatalf("entries %+v", js)
	}
	for i, l := range js[0].Lines {
		if l.ClassID != sandbox.ClassDowntown || l.DepartmentID != sandbox.DepartmentWarehouse {
			t.Errorf("line %d stored class %q department %q", i, l.ClassID, l.DepartmentID)
		}
	}
	// A sparse update that leaves the lines out keeps their tracking.
	if r := e.api("POST", "/journalentry", `{"Id":"`+id+`","SyncToken":"0","sparse":true,"PrivateNote":"edited"}`); r.status != 200 {
		t.Fatalf("sparse update: %s", r)
	}
	if l := e.sb.JournalEntries(realm)[0].Lines[1]; l.ClassID != sandbox.ClassDowntown || l.DepartmentID != sandbox.DepartmentWarehouse {
		t.Errorf("after a sparse update line 1 has class %q department %q", l.ClassID, l.DepartmentID)
	}
	if got := e.sb.Balances(realm, ""); len(got) != 2 || got["1010"].String() != "10" || got["4000"].String() != "-10" {
		t.Errorf("balances %v", got)
	}
}

// Sales, expense and deposit forms take a ClassRef on each line and a
// DepartmentRef of their own, a sales form a ClassRef of its own too;
// payments and transfers take neither. What each line carried is stored
// and answered, references are checked as accounts are, and the trial
// balance does not depend on them.
func TestTransactionTracking(t *testing.T) {
	e := newEnv(t, many).login()
	cls := func(id string) string { return `,"ClassRef":{"value":"` + id + `"}` }
	dept := func(id string) string { return `"DepartmentRef":{"value":"` + id + `"},` }
	itemLn := func(item, amount, tracking string) string {
		return `{"Amount":` + amount + `,"DetailType":"SalesItemLineDetail","SalesItemLineDetail":{"ItemRef":{"value":"` + item + `"}` + tracking + `}}`
	}
	expenseLn := func(acct, amount, tracking string) string {
		return `{"Amount":` + amount + `,"DetailType":"AccountBasedExpenseLineDetail","AccountBasedExpenseLineDetail":{"AccountRef":{"value":"` + acct + `"}` + tracking + `}}`
	}
	depositLn := func(acct, amount, tracking string) string {
		return `{"Amount":` + amount + `,"DetailType":"DepositLineDetail","DepositLineDetail":{"AccountRef":{"value":"` + acct + `"}` + tracking + `}}`
	}
	invoice := func(header string, lines ...string) string {
		return `{"TxnDate":"2026-07-14",` + header + `"CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},"Line":[` + strings.Join(lines, ",") + `]}`
	}
	purchase := func(header string, lines ...string) string {
		return `{"TxnDate":"2026-07-14",` + header + `"PaymentType":"Cash","AccountRef":{"value":"35"},"CurrencyRef":{"value":"USD"},"Line":[` + strings.Join(lines, ",") + `]}`
	}
	deposit := func(header string, lines ...string) string {
		return `{"TxnDate":"2026-07-14",` + header + `"DepositToAccountRef":{"value":"87"},"CurrencyRef":{"value":"USD"},"Line":[` + strings.Join(lines, ",") + `]}`
	}
	inactive := fault("Object Not Found", inactiveDetail, "610", "")
	cases := []struct {
		name, path, body, want string
	}{
		{"unknown class on an item line", "/invoice", invoice("", itemLn("1", "10", cls("99"))), unknownRef("Class", "99")},
		{"inactive class on a credit memo", "/creditmemo", invoice(`"ClassRef":{"value":"`+sandbox.ClassPopUp+`"},`, itemLn("5", "10", "")), inactive},
		{"inactive department on an invoice", "/invoice", invoice(dept(sandbox.DepartmentAirport), itemLn("1", "10", "")), inactive},
		{"a department on an item line", "/invoice", invoice("", itemLn("1", "10", `,"DepartmentRef":{"value":"1"}`)), unsupportedProperty("DepartmentRef")},
		{"inactive class on an expense line", "/purchase", purchase("", expenseLn("54", "3", cls(sandbox.ClassPopUp))), inactive},
		{"unknown department on a bill", "/bill", `{"TxnDate":"2026-07-14",` + dept("98") + `"VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[` +
			expenseLn("54", "3", "") + `]}`, unknownRef("Department", "98")},
		{"a class on a bill", "/bill", `{"TxnDate":"2026-07-14","ClassRef":{"value":"5"},"VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[` +
			expenseLn("54", "3", "") + `]}`, unsupportedProperty("ClassRef")},
		{"unknown class on a deposit line", "/deposit", deposit("", depositLn("83", "1", cls("97"))), unknownRef("Class", "97")},
		{"a department on a payment", "/payment", `{"TxnDate":"2026-07-14",` + dept("1") + `"CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},"TotalAmt":0}`,
			unsupportedProperty("DepartmentRef")},
		{"a class on a transfer", "/transfer", `{"TxnDate":"2026-07-14","ClassRef":{"value":"5"},"FromAccountRef":{"value":"87"},"ToAccountRef":{"value":"35"},"Amount":1}`,
			unsupportedProperty("ClassRef")},
	}
	for _, c := range cases {
		if r := e.api("POST", c.path, c.body); r.status != 400 || r.String() != c.want {
			t.Errorf("%s: %d\n%s\nwant\n%s", c.name, r.status, r, c.want)
		}
	}
	if n := len(e.sb.Transactions(realm)); n != 0 {
		t.Fatalf("%d transactions stored from refusals", n)
	}

	inv := e.api("POST", "/invoice", invoice(dept(sandbox.DepartmentMainStreet), itemLn("1", "100.00", cls(sandbox.ClassOnline)), itemLn("3", "8.50", cls(sandbox.ClassDowntown))))
	idOf(t, inv)
	for _, want := range []string{`"DepartmentRef":{"value":"1","name":"Main street"}`, `"ClassRef":{"value":"5","name":"Online"}`, `"ClassRef":{"value":"7","name":"Retail:Downtown"}`} {
		if !strings.Contains(inv.String(), want) {
			t.Errorf("invoice answer lacks %s: %s", want, inv)
		}
	}
	whole := e.api("POST", "/creditmemo", invoice(`"ClassRef":{"value":"6"},`, itemLn("5", "20.00", "")))
	if !strings.Contains(whole.String(), `"ClassRef":{"value":"6","name":"Retail"}`) {
		t.Errorf("credit memo answer: %s", whole)
	}
	idOf(t, e.api("POST", "/purchase", purchase(dept(sandbox.DepartmentWarehouse), expenseLn("54", "3.10", cls(sandbox.ClassRetail)))))
	dep := e.api("POST", "/deposit", deposit(dept(sandbox.DepartmentWarehouse), depositLn("83", "1.00", cls(sandbox.ClassRetail))))
	if !strings.Contains(dep.String(), `"DepositLineDetail":{"AccountRef":{"value":"83","name":"Payment fee refunds"},"ClassRef":{"value":"6","name":"Retail"}}`) {
		t.Errorf("deposit answer: %s", dep)
	}
	want := []struct {
		typ, class, department string
		lines                  []string
	}{
		{"Invoice", "", sandbox.DepartmentMainStreet, []string{sandbox.ClassOnline, sandbox.ClassDowntown}},
		{"CreditMemo", sandbox.ClassRetail, "", []string{""}},
		{"Purchase", "", sandbox.DepartmentWarehouse, []string{sandbox.ClassRetail}},
		{"Deposit", "", sandbox.DepartmentWarehouse, []string{sandbox.ClassRetail}},
	}
	txns := e.sb.Transactions(realm)
	if len(txns) != len(want) {
		t.Fatalf("%d transactions, want %d", len(txns), len(want))
	}
	for i, w := range want {
		tx := txns[i]
		if tx.Type != w.typ || tx.ClassID != w.class || tx.DepartmentID != w.department || len(tx.Lines) != len(w.lines) {
			t.Errorf("%s stored %+v", w.typ, tx)
			continue
		}
		for j, c := range w.lines {
			if tx.Lines[j].ClassID != c {
				t.Errorf("%s line %d stored class %q, want %q", w.typ, j, tx.Lines[j].ClassID, c)
			}
		}
	}
	got := e.sb.Balances(realm, "")
	wantBal := map[string]string{"1100": "88.5", "4000": "-100", "4010": "-8.5", "4030": "20", "1000": "-3.1", "6000": "3.1", "1010": "1", "4100": "-1"}
	if len(got) != len(wantBal) {
		t.Errorf("balances %v, want %v", got, wantBal)
	}
	for num, w := range wantBal {
		if got[num].String() != w {
			t.Errorf("account %s moved %s, want %s", num, got[num], w)
		}
	}
}
