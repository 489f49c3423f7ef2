package system_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/system"
	"github.com/commercesync/commercesync/pipeline/window"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// poisons is what the window's injected faults act on: the record ids whose
// Apply fails, and the company whose day-1 summaries the broker refuses.
type poisons struct {
	mu         sync.Mutex
	writeCo    string
	kafkaDir   string
	retrySizes []int64 // the broker's data folder at each retry of the refused day
}

func (p *poisons) apply(fp window.FaultPoint) error {
	re := fp.Event.GetRecord()
	if re == nil || fp.Where != "swap" {
		return nil
	}
	switch re.GetId() {
	case "panic-me":
		panic("poisoned record")
	case "error-me":
		return fmt.Errorf("poisoned record")
	}
	return nil
}

func (p *poisons) produce(r *kgo.Record) error {
	p.mu.Lock()
	co := p.writeCo
	p.mu.Unlock()
	if co == "" || r.Topic != kafka.DefaultTopics().Ledger || string(r.Key) != co {
		return nil
	}
	var s v1.DaySummary
	if proto.Unmarshal(r.Value, &s) == nil && s.GetBusinessDay() == day1 {
		return kerr.MessageTooLarge
	}
	return nil
}

// sleep stands in for the window's back-off: it waits for nothing and
// notes the broker's data folder at each retry.
func (p *poisons) sleep(ctx context.Context, _ time.Duration) error {
	size := int64(0)
	_ = filepath.WalkDir(p.kafkaDir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	p.mu.Lock()
	p.retrySizes = append(p.retrySizes, size)
	p.mu.Unlock()
	return ctx.Err()
}

// maxRetryGrowth is the bound on what the broker's data folder may grow
// while a refused day is retried: the retries of a poison write less than
// its first try, and a day's summary is far below a megabyte.
const maxRetryGrowth = 1 << 20

// Fifty healthy companies and three poisoned ones go through the window, the
// planner and push to their own Xero organisations:
//   - p-apply: two records whose Apply panics and fails (injected), beside
//     three healthy orders;
//   - p-write: a day whose summary the broker refuses (injected), and a
//     healthy next day;
//   - p-max: a day at the limits' maxima: ids of 255 bytes, an order of 20
//     lines carrying 997 tax components (with sales, unsettled and the card
//     tender, the 1,000 accounts a day holds), and one more order that would
//     open a 1,001st account.
//
// Every healthy company's day posts exactly once with the totals the test
// sums itself; every poisoned record and day is in its company's quarantine
// and status with its reason; the window's records in equal records applied
// plus quarantined; and the broker's data folder grows by less than
// maxRetryGrowth while the refused day is retried.
func TestFiftyHealthyThreePoisonedCompanies(t *testing.T) {
	const healthy = 50
	clk := newClock(testStart)
	dir := t.TempDir()
	p := &poisons{kafkaDir: filepath.Join(dir, "kafka")}
	orgs := []xerosandbox.Option{xerosandbox.WithOrganisation(xerosandbox.DefaultOrganisation())}
	orgOf := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }
	for i := range healthy + 3 {
		o := xerosandbox.DefaultOrganisation()
		o.TenantID, o.Name, o.ShortCode = orgOf(i), fmt.Sprintf("Shop %02d", i), fmt.Sprintf("!s%03d", i)
		orgs = append(orgs, xerosandbox.WithOrganisation(o))
	}
	sys, _ := start(t, clk, system.WithDataDir(dir), system.WithSandboxOptions(orgs...), system.WithWindowOptions(
		window.WithApplyFault(p.apply), window.WithProduceFault(p.produce), window.WithSleep(p.sleep)))

	merchants := make([]*merchant, healthy+3)
	for i := range merchants {
		m := newMerchant(t, sys)
		m.org = orgOf(i)
		m.onboard()
		merchants[i] = m
	}
	pApply, pWrite, pMax := merchants[healthy], merchants[healthy+1], merchants[healthy+2]
	p.mu.Lock()
	p.writeCo = pWrite.company
	p.mu.Unlock()

	// What each company's day 1 journal must hold, in cents: sales (200)
	// and tax (820) credited, the card tender (610) debited with what was
	// paid, and unsettled (612) with what the orders owe beyond it.
	type sums struct{ net, tax, paid int64 }
	want := map[*merchant]sums{}
	addCardOrders := func(m *merchant, n int) {
		s := want[m]
		for i := range n {
			s.net += int64(1000 + 100*i)
			s.tax += int64(85 + 8*i)
		}
		s.paid = s.net + s.tax
		want[m] = s
	}
	for i, m := range merchants[:healthy] {
		m.pushDay(day1, i%3+1)
		addCardOrders(m, i%3+1)
	}
	pApply.pushDay(day1, 3)
	addCardOrders(pApply, 3)
	noon := dayEnd(day1).Add(-12 * time.Hour)
	// The poisoned orders are quarantined; their payments are not, and
	// count as money received for sales not (yet) known.
	for _, id := range []string{"panic-me", "error-me"} {
		o, pay := cardOrder(id, noon, 5000, 425)
		pApply.pushRecords("commerce-orders", []map[string]any{o})
		pApply.pushRecords("commerce-payments", []map[string]any{pay})
	}
	if s := want[pApply]; true {
		s.paid += 2 * (5000 + 425)
		want[pApply] = s
	}
	pWrite.pushDay(day1, 2)
	pWrite.pushDay(day2, 2)

	pad := func(prefix string) string { return prefix + strings.Repeat("x", 255-len(prefix)) }
	maxOrder, maxNet, maxTax := maxedOrder(pad("order-max-"), noon, 997, pad)
	pMax.pushRecords("commerce-orders", []map[string]any{maxOrder})
	maxPay := map[string]any{"id": pad("pay-max-"), "amount": maxOrder["totalAmount"], "currency": "USD", "type": "Card", "status": "Paid",
		"createdDate": maxOrder["createdDate"], "sourceModifiedDate": maxOrder["createdDate"]}
	pMax.pushRecords("commerce-payments", []map[string]any{maxPay})
	// Its line and payment ids add to its own, so it is 4 bytes shorter.
	oneMore, _ := cardOrder(pad("order-one-more-")[4:], noon, 1000, 85)
	oneMore["orderLineItems"].([]map[string]any)[0]["taxes"] = []map[string]any{{"taxComponentRef": map[string]any{"id": pad("tc-new-")}, "taxAmount": "0.85"}}
	pMax.pushRecords("commerce-orders", []map[string]any{oneMore})

	for _, m := range merchants {
		m.seal(day2)
	}

	// Every healthy company's day, and the healthy parts of the poisoned
	// ones, post once, with the test's sums.
	checkJournal := func(m *merchant, d string, w sums) {
		t.Helper()
		ds := m.waitConfirmed(d, 3*time.Minute)
		var found []xerosandbox.Journal
		for _, j := range m.sys.Xero.ManualJournals(m.tenantID()) {
			if strings.HasSuffix(j.Narration, "["+ds.GetReference()+"]") {
				found = append(found, j)
			}
		}
		if len(found) != 1 {
			t.Errorf("company %s day %s: %d journals with reference %s, want exactly 1", m.company, d, len(found), ds.GetReference())
			return
		}
		got := map[string]decimal.Decimal{}
		for _, l := range found[0].Lines {
			got[l.AccountCode] = got[l.AccountCode].Add(l.Amount)
		}
		cents := func(c int64) decimal.Decimal { return decimal.New(c, -2) }
		for code, amt := range map[string]decimal.Decimal{"200": cents(-w.net), "820": cents(-w.tax), "610": cents(w.paid), "612": cents(w.net + w.tax - w.paid)} {
			if !got[code].Equal(amt) {
				t.Errorf("company %s day %s: account %s holds %s, want %s (all lines %v)", m.company, d, code, got[code], amt, got)
			}
		}
	}
	for _, m := range merchants[:healthy] {
		checkJournal(m, day1, want[m])
		if st := m.status(); st.GetSyncStatusCode() != 2000 || st.GetQuarantined() != 0 {
			t.Errorf("healthy company %s: status %d with %d quarantined, want 2000 and none", m.company, st.GetSyncStatusCode(), st.GetQuarantined())
		}
	}
	checkJournal(pApply, day1, want[pApply])
	checkJournal(pWrite, day2, sums{net: 1000 + 1100, tax: 85 + 93, paid: 1000 + 1100 + 85 + 93})
	checkJournal(pMax, day1, sums{net: maxNet, tax: maxTax, paid: maxNet + maxTax})

	// Every poison is in its company's quarantine and status, with why.
	wantQ := map[*merchant][]string{
		pApply: {"panic-me", "error-me"},
		pWrite: {day1},
		pMax:   {"r-one-more-", "would hold 1001 accounts; the limit is 1000"},
	}
	for m, words := range wantQ {
		var q []*v1.QuarantineEntry
		eventually(t, 30*time.Second, "company "+m.company+"'s quarantine", func() bool {
			q = m.quarantine()
			return len(q) >= len(words)/2+len(words)%2
		})
		all := ""
		for _, e := range q {
			if e.GetStage() != "window" || e.GetReason() == "" {
				t.Errorf("company %s: quarantine entry %+v, want stage window with a reason", m.company, e)
			}
			all += e.GetRecordId() + " " + e.GetBusinessDay() + " " + e.GetReason() + "\n"
		}
		for _, w := range words {
			if !strings.Contains(all, w) {
				t.Errorf("company %s: the quarantine does not name %q:\n%s", m.company, w, all)
			}
		}
		st := m.status()
		if st.GetQuarantined() != int32(len(q)) || len(st.GetErrors()) != len(q) || st.GetSyncStatusCode() != 5120 {
			t.Errorf("company %s: status %d with %d quarantined and %d errors, want 5120 naming all %d", m.company,
				st.GetSyncStatusCode(), st.GetQuarantined(), len(st.GetErrors()), len(q))
		}
	}
	if n := len(pApply.quarantine()); n != 2 {
		t.Errorf("p-apply has %d quarantine entries, want its 2 poisoned records", n)
	}

	// Nothing vanished: every record the window read was applied or
	// quarantined.
	stats := sys.WindowStats()
	if stats.Records != stats.Applied+stats.Quarantined || stats.Quarantined < 3 || stats.DaysParked != 1 {
		t.Errorf("window stats %+v: want records = applied + quarantined, at least 3 quarantined and 1 day parked", stats)
	}
	p.mu.Lock()
	sizes := append([]int64(nil), p.retrySizes...)
	p.mu.Unlock()
	if len(sizes) == 0 {
		t.Fatal("the refused day was never retried")
	}
	if grew := sizes[len(sizes)-1] - sizes[0]; grew >= maxRetryGrowth {
		t.Errorf("the broker's data folder grew %d bytes over %d retries, want under %d", grew, len(sizes), maxRetryGrowth)
	} else {
		t.Logf("%d retries of the refused day; the broker's data folder grew %d bytes meanwhile (bound %d); window %+v", len(sizes), grew, maxRetryGrowth, stats)
	}
}

// maxedOrder is a card-paid order at the limits: a 255-byte id, lines
// whose taxes name that many distinct tax components of 255-byte ids
// (50 to a line, the most a line takes) of 0.01 each, each line 1.00 before
// tax. It returns the order and its net and tax in cents.
func maxedOrder(id string, at time.Time, components int, pad func(string) string) (order map[string]any, net, tax int64) {
	when := at.UTC().Format(time.RFC3339)
	var lines []map[string]any
	for c, l := 0, 0; c < components; l++ {
		var taxes []map[string]any
		for ; c < components && len(taxes) < 50; c++ {
			taxes = append(taxes, map[string]any{"taxComponentRef": map[string]any{"id": pad(fmt.Sprintf("tc-%04d-", c))}, "taxAmount": "0.01"})
		}
		lineTax := int64(len(taxes))
		lines = append(lines, map[string]any{"id": pad(fmt.Sprintf("line-%02d-", l)), "quantity": 1,
			"totalAmount": fmt.Sprintf("%d.%02d", (100+lineTax)/100, (100+lineTax)%100), "totalTaxAmount": fmt.Sprintf("0.%02d", lineTax),
			"unitPrice": "1.00", "taxes": taxes})
		net += 100
		tax += lineTax
	}
	total := fmt.Sprintf("%d.%02d", (net+tax)/100, (net+tax)%100)
	return map[string]any{
		"id": id, "orderNumber": id, "country": "USA", "currency": "USD",
		"createdDate": when, "closedDate": when, "sourceModifiedDate": when,
		"totalAmount": total, "totalRefund": 0, "totalTaxAmount": fmt.Sprintf("%d.%02d", tax/100, tax%100),
		"totalDiscount": 0, "totalGratuity": 0, "orderLineItems": lines,
	}, net, tax
}
