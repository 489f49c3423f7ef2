package system_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
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

// Days pushed, sealed and confirmed by the sandbox reconcile as matched,
// the records, the ledger and the platform's confirmed journals agreeing to
// the cent with the test's own sums; an open day is pending and says why.
func TestReconciliationMatchesSyncedDaysAcrossTheThreeSources(t *testing.T) {
	t.Parallel()
	tg := chtest.Start(t)
	sys, _ := start(t, newClock(testStart), system.WithReconciliation(system.Reconciliation{Addr: tg.Addr, Database: tg.Database,
		SinkOptions: []sink.Option{sink.WithBatch(10_000, 20*time.Millisecond)}}))
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
