package system_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/kafka"

	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/ledger/reconcile"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// reconciliation is GET …/reconciliation, decoded as the API's message.
func (m *merchant) reconciliation(from, to string) *v1.Reconciliation {
	m.t.Helper()
	code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation?from="+from+"&to="+to, nil)
	if code != http.StatusOK {
		m.t.Fatalf("reconciliation: %d %s", code, raw)
	}
	var out v1.Reconciliation
	if err := protojson.Unmarshal(raw, &out); err != nil {
		m.t.Fatalf("reconciliation: %v: %s", err, raw)
	}
	return &out
}

func categoryTotals(t testing.TB, d *v1.ReconciliationDay, source func(*v1.ReconciliationLine) string) map[string]money.Amount {
	out := map[string]money.Amount{}
	for _, l := range d.GetLines() {
		a, err := money.Parse(source(l))
		if err != nil {
			t.Fatalf("line %s: %v", l.GetAccount(), err)
		}
		out[l.GetCategory()] += a
	}
	return out
}

// startReconciled starts a system whose sink writes to a ClickHouse server
// of the test's own, in batches that wait 20 ms for more.
func startReconciled(t *testing.T) (*system.System, chtest.Target) {
	t.Helper()
	tg := chtest.Start(t)
	sys, _ := start(t, newClock(testStart), system.WithReconciliation(system.Reconciliation{Addr: tg.Addr, Database: tg.Database,
		SinkOptions: []sink.Option{sink.WithBatch(10_000, 20*time.Millisecond)}}))
	return sys, tg
}

// Days pushed, sealed and confirmed by the sandbox reconcile as matched,
// the records, the ledger and the platform's confirmed journals agreeing to
// the cent with the test's own sums; an open day is pending and says why.
func TestReconciliationMatchesSyncedDaysAcrossTheThreeSources(t *testing.T) {
	t.Parallel()
	sys, _ := startReconciled(t)
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)

	var open *v1.Reconciliation
	eventually(t, time.Minute, "the open days in the reconciliation", func() bool {
		open = m.reconciliation(day1, day2)
		return len(open.GetDays()) == 2 && open.GetDays()[1].GetRecords() == 4
	})
	for _, d := range open.GetDays() {
		if d.GetStatus() != "pending" || !strings.Contains(d.GetReason(), "the day is open") {
			t.Fatalf("open day %s: %s (%s); want pending, open", d.GetBusinessDay(), d.GetStatus(), d.GetReason())
		}
	}

	m.seal(day2)
	m.waitConfirmed(day1, time.Minute)
	m.waitConfirmed(day2, time.Minute)
	var rec *v1.Reconciliation
	eventually(t, time.Minute, "both days matched", func() bool {
		rec = m.reconciliation(day1, day2)
		return len(rec.GetDays()) == 2 && rec.GetDays()[0].GetStatus() == "matched" && rec.GetDays()[1].GetStatus() == "matched"
	})
	// Orders of 10.00 + i with tax of 0.85 + 0.08 i, paid by card.
	want := map[string]map[string]money.Amount{
		day1: {"gross_sales": 330000, "tax": 27900, "tenders": 357900},
		day2: {"gross_sales": 210000, "tax": 17800, "tenders": 227800},
	}
	for _, d := range rec.GetDays() {
		for name, src := range map[string]func(*v1.ReconciliationLine) string{
			"records":  (*v1.ReconciliationLine).GetCommerce,
			"ledger":   (*v1.ReconciliationLine).GetLedger,
			"platform": (*v1.ReconciliationLine).GetPlatform,
		} {
			got := categoryTotals(t, d, src)
			for cat, w := range want[d.GetBusinessDay()] {
				if got[cat] != w {
					t.Errorf("%s %s from the %s: %s; the test pushed %s", d.GetBusinessDay(), cat, name, got[cat], w)
				}
			}
		}
		if d.GetRecords() != d.GetLedgerRecords() || d.GetDocumentsConfirmed() != 1 || d.GetRevisions() != 1 {
			t.Errorf("%s: %d records, ledger %d, %d confirmed documents, %d revisions", d.GetBusinessDay(), d.GetRecords(),
				d.GetLedgerRecords(), d.GetDocumentsConfirmed(), d.GetRevisions())
		}
	}

	// The CSV download holds the API's answer, row for row.
	code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation.csv?from="+day1+"&to="+day2, nil)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if code != http.StatusOK || err != nil || len(rows) == 0 {
		t.Fatalf("reconciliation.csv: %d %v %s", code, err, raw)
	}
	var want2 [][]string
	for _, d := range rec.GetDays() {
		for _, l := range d.GetLines() {
			want2 = append(want2, []string{d.GetBusinessDay(), d.GetCurrency(), d.GetLocation(), d.GetStatus(), d.GetReason(), l.GetCategory(),
				l.GetAccount(), l.GetCommerce(), l.GetLedger(), l.GetPlatform(), l.GetDifference(), l.GetStatus()})
		}
	}
	if rows[0][0] != "business_day" || fmt.Sprint(rows[1:]) != fmt.Sprint(want2) {
		t.Errorf("reconciliation.csv rows:\n%v\nthe API's:\n%v", rows, want2)
	}
	m.key = "csk_wrong"
	if code, _ := m.do("GET", "/v1/companies/"+m.company+"/reconciliation.csv?from="+day1+"&to="+day2, nil); code != http.StatusUnauthorized {
		t.Errorf("reconciliation.csv with a wrong key: %d; want 401", code)
	}
	m.key = sys.DevKey

	for _, c := range []struct {
		query string
		code  int
		want  string
	}{
		{"from=2026-03-10", http.StatusBadRequest, `to \"\": send a date as YYYY-MM-DD`},
		{"from=2026-03-11&to=2026-03-10", http.StatusBadRequest, "to 2026-03-10 is before from 2026-03-11"},
		{"from=2025-01-01&to=2026-03-10", http.StatusBadRequest, "the limit is 366"},
	} {
		code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation?"+c.query, nil)
		if code != c.code || !strings.Contains(string(raw), c.want) {
			t.Errorf("?%s: %d %s; want %d naming %q", c.query, code, raw, c.code, c.want)
		}
	}
	if code, raw := m.do("GET", "/v1/companies/no-such-company/reconciliation?from="+day1+"&to="+day2, nil); code != http.StatusNotFound {
		t.Errorf("an unknown company: %d %s; want 404", code, raw)
	}
}

// A system without a reconciliation store says so, and why.
func TestReconciliationOffSaysWhy(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.createCompany()
	code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation?from="+day1+"&to="+day2, nil)
	var e struct{ Message string }
	_ = json.Unmarshal(raw, &e)
	if code != http.StatusServiceUnavailable || !strings.Contains(e.Message, "reconciliation is off") {
		t.Fatalf("%d %s; want 503 saying reconciliation is off", code, raw)
	}
}

// exceptions is GET /v1/reconciliation/exceptions, every page.
func (m *merchant) exceptions(query string) []*v1.ReconciliationException {
	m.t.Helper()
	var out []*v1.ReconciliationException
	token := ""
	for range 100 {
		code, raw := m.do("GET", "/v1/reconciliation/exceptions?pageSize=2&"+query+"&pageToken="+token, nil)
		if code != http.StatusOK {
			m.t.Fatalf("exceptions: %d %s", code, raw)
		}
		var page v1.ListReconciliationExceptionsResponse
		if err := protojson.Unmarshal(raw, &page); err != nil {
			m.t.Fatalf("exceptions: %v: %s", err, raw)
		}
		out = append(out, page.GetExceptions()...)
		if token = page.GetNextPageToken(); token == "" {
			return out
		}
	}
	m.t.Fatal("exceptions: more than 100 pages")
	return nil
}

func refundPayment(id string, at time.Time, amount string) map[string]any {
	when := at.UTC().Format(time.RFC3339)
	return map[string]any{"id": id, "amount": amount, "currency": "USD", "type": "Card", "status": "Paid",
		"createdDate": when, "sourceModifiedDate": when}
}

// refundOrder returns in full the one-line order cardOrder made with net
// and tax, and its negative payment.
func refundOrder(id string, at time.Time, net, tax int64) (order, payment map[string]any) {
	order, payment = cardOrder(id, at, net, tax)
	neg := func(m map[string]any, keys ...string) {
		for _, k := range keys {
			m[k] = "-" + m[k].(string)
		}
	}
	neg(order, "totalAmount", "totalTaxAmount")
	line := order["orderLineItems"].([]map[string]any)[0]
	neg(line, "totalAmount", "totalTaxAmount")
	line["quantity"] = -1
	neg(order["payments"].([]map[string]any)[0], "amount")
	neg(payment, "amount")
	return order, payment
}

// withPayouts saves the merchant's configuration again with payouts mapped
// to the bank account 090: Xero takes money into a bank account as a bank
// transaction, with the commerce provider as its contact.
func (m *merchant) withPayouts() {
	m.t.Helper()
	var cfg map[string]any
	m.must("GET", "/v1/companies/"+m.company+"/sync/commerce/config", nil, &cfg)
	org, _ := m.sys.Xero.Organisation(m.tenantID())
	conf := cfg["configuration"].(map[string]any)
	conf["sales"].(map[string]any)["salesCustomer"] = map[string]any{"selectedCustomerId": org.Contacts[0].ContactID}
	var bank map[string]any
	for _, a := range org.Accounts {
		if a.Code == "090" {
			bank = map[string]any{"selectedAccountId": a.AccountID, "required": true,
				"accountOptions": []map[string]any{{"id": a.AccountID, "name": a.Name, "nominalCode": a.Code}}}
		}
	}
	conf["payments"].(map[string]any)["accounts"].(map[string]any)["payout"] = bank
	m.must("PUT", "/v1/companies/"+m.company+"/sync/commerce/config", cfg, nil)
}

// Planted cases each show up where a finance team looks, named exactly: a
// refund whose order never arrives parks its money on unsettled; a refund
// pushed after its day was posted makes a revision after posting; a record
// the window refuses is quarantined; a day the platform refuses is
// unsynced with the platform's words. Every other day is matched, and the
// totals are the test's own, to the cent.
func TestReconciliationNamesEachPlantedCase(t *testing.T) {
	t.Parallel()
	sys, tg := startReconciled(t)
	m := newMerchant(t, sys)
	m.onboard()
	m.withPayouts()
	days := []string{"2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"}
	noon := func(d string) time.Time {
		at, err := time.ParseInLocation(time.DateOnly, d, ny)
		if err != nil {
			t.Fatal(err)
		}
		return at.Add(12 * time.Hour)
	}
	// Days seal by watermark as later ones arrive (two days' grace), so
	// each day's records go in before the days two after it.
	for i, d := range days[:2] {
		m.pushDay(d, 2+i)
	}
	// A refund of 12.34 whose refunded order never arrives.
	m.pushRecords("commerce-payments", []map[string]any{refundPayment("refund-lost", noon(days[1]).Add(3*time.Hour), "-12.34")})
	// A fee of 0.30 on day 1's first payment; a payout on day 2 of day 1's
	// payments short by 1.37, and one on day 3 of day 2's, exact.
	tx := func(id, typ, amount string, at time.Time, extra map[string]any) map[string]any {
		r := map[string]any{"id": id, "totalAmount": amount, "currency": "USD", "type": typ,
			"createdDate": at.UTC().Format(time.RFC3339), "sourceModifiedDate": at.UTC().Format(time.RFC3339)}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	pay := func(d string, i int) string { return fmt.Sprintf("pay-ord-%s-%d", d, i) }
	m.pushRecords("commerce-transactions", []map[string]any{
		tx("fee-1", "PaymentFee", "-0.30", noon(days[0]).Add(time.Hour), map[string]any{"transactionSourceRef": map[string]any{"id": pay(days[0], 0), "type": "Payment"}}),
		tx("po-short", "Payout", "21.11", noon(days[1]).Add(5*time.Hour), map[string]any{"settledTransactionIds": []string{pay(days[0], 0), pay(days[0], 1)}}),
		tx("po-exact", "Payout", "35.79", noon(days[2]).Add(5*time.Hour), map[string]any{"settledTransactionIds": []string{pay(days[1], 0), pay(days[1], 1), pay(days[1], 2)}}),
	})
	for i, d := range days[2:4] {
		m.pushDay(d, 4+i)
	}
	// A record the gateway would refuse, written straight to the topic.
	broken := &v1.CommerceEvent{CompanyId: m.company, TenantId: sys.TenantID, ReceivedUnixMs: testStart.UnixMilli(),
		Body: &v1.CommerceEvent_Record{Record: &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "ord-broken",
			EventUnixMs: noon(days[2]).UnixMilli(), Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: "ord-broken", Currency: "USD", TotalAmount: "12.3.4"}}}}}
	raw, err := proto.Marshal(broken)
	if err != nil {
		t.Fatal(err)
	}
	produceRaw(t, sys, &kgo.Record{Topic: kafka.DefaultTopics().Events, Key: []byte(m.company), Value: raw})
	m.seal(days[3])
	for _, d := range days[:4] {
		m.waitConfirmed(d, time.Minute)
	}

	// A refund of day 4's first order, after day 4 was posted.
	ro, rp := refundOrder("ord-"+days[3]+"-0-refund", noon(days[3]).Add(2*time.Hour), 1000, 85)
	m.pushRecords("commerce-orders", []map[string]any{ro})
	m.pushRecords("commerce-payments", []map[string]any{rp})
	m.seal(days[3])
	eventually(t, time.Minute, "day 4's revision 2 confirmed", func() bool {
		for _, d := range m.status().GetDocuments() {
			if d.GetBusinessDay() == days[3] && d.GetRevision() == 2 && d.GetState() == "Confirmed" {
				return true
			}
		}
		return false
	})

	// Day 5: the merchant archived the sales account; Xero refuses it.
	err = sys.Xero.UpdateOrganisation(tenant, func(o *xerosandbox.Organisation) {
		for i := range o.Accounts {
			if o.Accounts[i].Code == "200" {
				o.Accounts[i].Status = "ARCHIVED"
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	m.pushDay(days[4], 2)
	m.seal(days[4])
	m.waitDoc(days[4], time.Minute, "failed", isState("Failed"))

	const xeroSays = "Account code '200' has been archived, or deleted."
	var rec *v1.Reconciliation
	eventually(t, time.Minute, "the sink caught up", func() bool {
		rec = m.reconciliation(days[0], days[4])
		if len(rec.GetDays()) != 5 {
			return false
		}
		for _, d := range rec.GetDays() {
			if d.GetStatus() == "pending" {
				return false
			}
		}
		return rec.GetDays()[4].GetDocumentsFailed() == 1 && rec.GetDays()[3].GetRevisions() == 2
	})
	for i, d := range rec.GetDays() {
		want := "matched"
		if i == 4 {
			want = "unsynced"
			if !strings.Contains(d.GetReason(), xeroSays) {
				t.Errorf("day %s: reason %q; want Xero's words %q", d.GetBusinessDay(), d.GetReason(), xeroSays)
			}
		}
		if d.GetStatus() != want {
			t.Errorf("day %s: %s (%s); want %s", d.GetBusinessDay(), d.GetStatus(), d.GetReason(), want)
		}
	}
	// The test's own sums: n orders of 10.00 + i, tax 0.85 + 0.08 i, by
	// card; day 2 less the lost refund; day 4 less its refund.
	wantTotals := func(n int) map[string]money.Amount {
		var net, tax money.Amount
		for i := range n {
			net += money.Amount(100000 + 10000*i)
			tax += money.Amount(8500 + 800*i)
		}
		return map[string]money.Amount{"gross_sales": net, "tax": tax, "tenders": net + tax, "refunds": 0, "unsettled": 0, "fees": 0, "payouts": 0}
	}
	want := map[string]map[string]money.Amount{days[0]: wantTotals(2), days[1]: wantTotals(3), days[2]: wantTotals(4), days[3]: wantTotals(5), days[4]: wantTotals(2)}
	want[days[0]]["tenders"] -= 3000
	want[days[0]]["fees"] = 3000
	want[days[1]]["tenders"] -= 211100
	want[days[1]]["payouts"] = 211100
	want[days[2]]["tenders"] -= 357900
	want[days[2]]["payouts"] = 357900
	want[days[1]]["tenders"] -= 123400
	want[days[1]]["unsettled"] = 123400
	want[days[3]]["tenders"] -= 108500
	want[days[3]]["refunds"] = 100000
	want[days[3]]["tax"] -= 8500
	for _, d := range rec.GetDays() {
		sources := map[string]func(*v1.ReconciliationLine) string{"records": (*v1.ReconciliationLine).GetCommerce, "ledger": (*v1.ReconciliationLine).GetLedger}
		if d.GetBusinessDay() != days[4] {
			sources["platform"] = (*v1.ReconciliationLine).GetPlatform
		}
		for name, src := range sources {
			got := categoryTotals(t, d, src)
			for cat, w := range want[d.GetBusinessDay()] {
				if got[cat] != w {
					t.Errorf("%s %s from the %s: %s; the test's sum is %s", d.GetBusinessDay(), cat, name, got[cat], w)
				}
			}
		}
	}

	code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation/payouts?from="+days[0]+"&to="+days[4], nil)
	var po v1.PayoutReconciliation
	if code != http.StatusOK || protojson.Unmarshal(raw, &po) != nil {
		t.Fatalf("payouts: %d %s", code, raw)
	}
	var gotPo []string
	for _, p := range po.GetPayouts() {
		gotPo = append(gotPo, fmt.Sprintf("%s %s paid %s payments %s refunds %s fees %s expected %s difference %s settled %d %s",
			p.GetPayoutId(), p.GetBusinessDay(), p.GetPaidOut(), p.GetPayments(), p.GetRefunds(), p.GetFees(), p.GetExpected(),
			p.GetDifference(), p.GetSettled(), p.GetStatus()))
	}
	wantPo := []string{
		"po-short " + days[1] + " paid 21.11 payments 22.78 refunds 0.00 fees 0.30 expected 22.48 difference -1.37 settled 2 mismatch",
		"po-exact " + days[2] + " paid 35.79 payments 35.79 refunds 0.00 fees 0.00 expected 35.79 difference 0.00 settled 3 matched",
	}
	if strings.Join(gotPo, "\n") != strings.Join(wantPo, "\n") {
		t.Errorf("payouts:\n%s\nwant:\n%s", strings.Join(gotPo, "\n"), strings.Join(wantPo, "\n"))
	}

	checkReadmeQuery(t, tg, m.company, rec)

	// The drill-down from day 2 to its records, three a page: its three
	// orders and their payments, the lost refund and the short payout.
	var recs []*v1.ReconciledRecord
	for token := "first"; token != ""; {
		q := "?currency=USD&pageSize=3"
		if token != "first" {
			q += "&pageToken=" + token
		}
		code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation/days/"+days[1]+"/records"+q, nil)
		var page v1.ListReconciliationRecordsResponse
		if code != http.StatusOK || protojson.Unmarshal(raw, &page) != nil {
			t.Fatalf("day records: %d %s", code, raw)
		}
		recs = append(recs, page.GetRecords()...)
		token = page.GetNextPageToken()
	}
	byID := map[string]*v1.ReconciledRecord{}
	for _, r := range recs {
		byID[r.GetRecordId()] = r
	}
	if len(recs) != 8 || len(byID) != 8 || byID["refund-lost"] == nil || byID["po-short"] == nil || byID[pay(days[1], 2)] == nil {
		t.Fatalf("day 2's records: %v; want its 3 orders, 3 payments, the lost refund and the short payout", byID)
	}
	lost := map[string]string{}
	for _, l := range byID["refund-lost"].GetLines() {
		lost[l.GetCategory()+" "+l.GetAccount()] = l.GetAmount()
	}
	if lost["tenders tender:Card"] != "-12.34" || lost["unsettled unsettled"] != "12.34" || len(lost) != 2 {
		t.Errorf("the lost refund moves %v; want -12.34 on the card tender and 12.34 on unsettled", lost)
	}
	if code, raw := m.do("GET", "/v1/companies/"+m.company+"/reconciliation/days/"+days[1]+"/records", nil); code != http.StatusBadRequest || !strings.Contains(string(raw), "currency") {
		t.Errorf("records without a currency: %d %s; want 400 naming currency", code, raw)
	}

	var exc []*v1.ReconciliationException
	eventually(t, time.Minute, "every planted case among the exceptions", func() bool {
		exc = m.exceptions("unsettledOlderThanDays=1")
		return len(exc) >= 4
	})
	wantExc := []struct{ kind, day, record, amount, says string }{
		{"quarantined", "", "RECORD_KIND_ORDER||ord-broken", "", "record quarantined by window: totalAmount"},
		{"failed_document", days[4], "", "", xeroSays},
		{"revision_after_posting", days[3], "", "", "revision 2 changed the day after the platform confirmed it"},
		{"unsettled", days[1], "refund-lost", "12.34", "refund of 12.34 with no refund order to match it"},
	}
	var got []string
	for _, e := range exc {
		got = append(got, fmt.Sprintf("%s %s %s %s: %s", e.GetKind(), e.GetBusinessDay(), e.GetRecordId(), e.GetAmount(), e.GetMessage()))
	}
	if len(exc) != len(wantExc) {
		t.Fatalf("exceptions:\n%s\nwant one of each planted case", strings.Join(got, "\n"))
	}
	for i, w := range wantExc {
		e := exc[i]
		if e.GetKind() != w.kind || e.GetBusinessDay() != w.day || e.GetRecordId() != w.record || e.GetAmount() != w.amount ||
			!strings.Contains(e.GetMessage(), w.says) || e.GetCompanyId() != m.company {
			t.Errorf("exception %d: %s; want %+v of company %s", i, got[i], w, m.company)
		}
	}
}

// readmeQuery is the README's example query for company, as written there.
func readmeQuery(t testing.TB, company string) string {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- reconciliation-query:begin -->")
	block, _, ok2 := strings.Cut(rest, "<!-- reconciliation-query:end -->")
	if !ok || !ok2 {
		t.Fatal("the README has no reconciliation-query block")
	}
	block = strings.TrimSpace(block)
	block = strings.TrimSuffix(strings.TrimPrefix(block, "```sql"), "```")
	return strings.ReplaceAll(block, "'COMPANY'", "'"+company+"'")
}

// checkReadmeQuery runs the README's example query with clickhouse-client,
// a client this project did not write, and finds the API's numbers: per
// day and account, the records, the ledger and the platform.
func checkReadmeQuery(t *testing.T, tg chtest.Target, company string, rec *v1.Reconciliation) {
	t.Helper()
	host, port, err := net.SplitHostPort(tg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	client, err := exec.LookPath("clickhouse-client")
	if err != nil {
		t.Fatalf("clickhouse-client, Debian's client for ClickHouse, is not installed (apt-get install -y clickhouse-client): %v", err)
	}
	out, err := exec.Command(client, "--host", host, "--port", port, "--database", tg.Database, "--query", readmeQuery(t, company)).CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client: %v\n%s", err, out)
	}
	parse := func(s string) money.Amount {
		a, err := money.Parse(s)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return a
	}
	got := map[string][3]money.Amount{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("clickhouse-client printed %q; want day, account and three amounts", line)
		}
		got[f[0]+" "+f[1]] = [3]money.Amount{parse(f[2]), parse(f[3]), parse(f[4])}
	}
	want := map[string][3]money.Amount{}
	for _, d := range rec.GetDays() {
		for _, l := range d.GetLines() {
			c := reconcile.Classify(l.GetAccount())
			net := func(s string) money.Amount { return reconcile.Reported(c, parse(s)) }
			want[d.GetBusinessDay()+" "+l.GetAccount()] = [3]money.Amount{net(l.GetCommerce()), net(l.GetLedger()), net(l.GetPlatform())}
		}
	}
	if len(want) == 0 {
		t.Fatal("the API answered no lines to compare")
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: clickhouse-client says %v; the API %v", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: clickhouse-client says %v; the API lists nothing", k, g)
		}
	}
}
