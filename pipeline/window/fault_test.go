package window

// A fault test through the window job and the real broker: many healthy
// companies and a few poisoned ones. Poison stays with its company, nothing
// vanishes, nothing loops.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Poison reusable by other tests: a record id the apply hook fails on, and
// what the produce hook refuses.
const (
	panicRecord = "panic-me"
	errorRecord = "error-me"
)

// PoisonApply fails the Apply of records named panicRecord (with a panic)
// and errorRecord (with an error), at the step where the old contribution
// has left the day and the new one has not entered.
func poisonApply(p FaultPoint) error {
	re := p.Event.GetRecord()
	if re == nil || p.Where != "swap" {
		return nil
	}
	switch re.GetId() {
	case panicRecord:
		panic("poisoned record")
	case errorRecord:
		return errInjected
	}
	return nil
}

// refuseSummaries makes the broker refuse (MESSAGE_TOO_LARGE) every summary
// of one company's day.
func refuseSummaries(ledger, company, day string) func(*kgo.Record) error {
	return func(r *kgo.Record) error {
		if r.Topic != ledger || string(r.Key) != company {
			return nil
		}
		var s v1.DaySummary
		if err := proto.Unmarshal(r.Value, &s); err == nil && s.GetBusinessDay() == day {
			return kerr.MessageTooLarge
		}
		return nil
	}
}

// sleeper records the job's backoffs without waiting, and at each the data
// folder's size and the bytes aborted transactions produced so far.
type sleeper struct {
	mu      sync.Mutex
	dir     string
	t       testing.TB
	job     *Job
	waits   []time.Duration
	sizes   []int64
	aborted []int64
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	s.sizes = append(s.sizes, dirSize(s.t, s.dir))
	if s.job != nil {
		s.aborted = append(s.aborted, s.job.Stats().AbortedBytes)
	}
	return ctx.Err()
}

// healthyDay is what the test pushes for one company's day, and its sums.
type healthyDay struct {
	orders, taxes, payments int64 // cents
}

func (h healthyDay) lines() map[string]string {
	out := map[string]string{}
	put := func(acct string, cents int64) {
		if cents != 0 {
			out[acct] = money.Amount(cents * 100).String()
		}
	}
	put("sales", -(h.orders - h.taxes))
	put("tax", -h.taxes)
	put("tender:Card", h.payments)
	put("unsettled", h.orders-h.payments)
	return out
}

func taxedOrder(company, id string, at time.Time, total, tax int64) *v1.CommerceEvent {
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash(company, id),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: centsText(total), TotalTaxAmount: centsText(tax), TotalGratuity: "0"}},
	})
}

func cardPayment(company, id string, at time.Time, amount int64) *v1.CommerceEvent {
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash(company, id),
		Body: &v1.RecordEvent_Payment{Payment: &v1.Payment{Id: id, Amount: centsText(amount), Currency: "GBP", Type: "Card", Status: "Paid"}},
	})
}

// Many healthy companies and three poisoned ones share four partitions:
//   - p-max has a day at every limit's maximum (ids of 255 bytes, 1,000
//     accounts, 150 exceptions with the longest messages) plus an order
//     with a 256-byte id and one that would open a 1,001st account;
//   - p-apply has a record whose Apply panics and one whose Apply fails;
//   - p-write has a day whose summary the broker refuses.
//
// Every healthy company's summaries are produced exactly once with the
// totals the test sums itself; every poisoned record and day is on
// commerce.quarantine with its reason; records in = applied + quarantined;
// the refused day is tried 5 times with backoff (injected, not slept) and
// parked, and its company's other day seals; and while the poison is
// retried the data folder grows by less than the stated bound.
func TestFaultPoisonStaysWithItsCompany(t *testing.T) {
	h := startJobHarness(t, 4, true)
	const ldn = "Europe/London"
	day1, day2 := "2026-03-10", "2026-03-11"
	at1, at2 := local(t, ldn, day1+" 12:00:00"), local(t, ldn, day2+" 12:00:00")
	closeAt := local(t, ldn, "2026-03-12 00:00:00").UnixMilli()
	grace := &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1, GraceMs: int64(72 * time.Hour / time.Millisecond)}

	var evs []*v1.CommerceEvent
	want := map[dayCur]map[string]string{}
	healthy := func(c string, i int) {
		evs = append(evs, settingsEvent(c, exTenant, grace))
		for d, at := range []time.Time{at1, at2} {
			var hd healthyDay
			for o := range 5 {
				total, tax := int64(100*(i+1)+37*o+d), int64(10*(o+1))
				evs = append(evs, taxedOrder(c, fmt.Sprintf("o-%d-%d", d, o), at, total, tax))
				hd.orders += total
				hd.taxes += tax
				if o%2 == 0 {
					evs = append(evs, cardPayment(c, fmt.Sprintf("p-%d-%d", d, o), at, total))
					hd.payments += total
				}
			}
			want[dayCur{c, at.In(mustZone(ldn)).Format("2006-01-02"), "GBP", ""}] = hd.lines()
		}
		evs = append(evs, closeEvent(c, closeAt))
	}
	for i := range 24 {
		healthy(fmt.Sprintf("h-%02d", i), i)
	}
	// p-apply: healthy but for its two poisoned records.
	healthy("p-apply", 30)
	evs = append(evs[:len(evs)-1], taxedOrder("p-apply", panicRecord, at1, 999, 0), taxedOrder("p-apply", errorRecord, at2, 999, 0), evs[len(evs)-1])
	// p-write: day 1's summary is refused; day 2 must still seal.
	healthy("p-write", 40)
	delete(want, dayCur{"p-write", day1, "GBP", ""})
	// p-max: a company at every limit.
	pmax := pad("p-max-", MaxIDBytes)
	m := &maxima{company: pmax, tenant: pad("tenant-", MaxIDBytes), location: pad("shop-", MaxIDBytes), at: at1}
	evs = append(evs, settingsEvent(pmax, m.tenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1, GroupByLocation: true, GraceMs: grace.GraceMs}))
	for i := range MaxDayAccounts - 2 {
		evs = append(evs, m.order(pad(fmt.Sprintf("o-%04d-", i), MaxIDBytes), 1, "10.00", pad(fmt.Sprintf("tc-%04d-", i), MaxIDBytes)))
	}
	for i := range 150 {
		evs = append(evs, m.order(pad(fmt.Sprintf("x-%04d-", i), MaxIDBytes), 1, "-99999999999.9999", pad("tc-0000-", MaxIDBytes)))
	}
	evs = append(evs,
		m.order(pad("o-too-long-", MaxIDBytes+1), 1, "10.00", pad("tc-0000-", MaxIDBytes)),
		m.order(pad("one-more-", MaxIDBytes), 1, "10.00", pad("tc-new-", MaxIDBytes)),
		closeEvent(pmax, closeAt))
	h.push(evs...)

	sl := &sleeper{dir: h.dataDir, t: t}
	sl.mu.Lock() // the job waits for its first backoff until it is known
	before := dirSize(t, h.dataDir)
	j := h.runJob(WithApplyFault(poisonApply), WithProduceFault(refuseSummaries(h.topics.Ledger, "p-write", day1)), WithSleep(sl.sleep))
	sl.job = j
	sl.mu.Unlock()
	h.waitConsumed(2 * time.Minute)
	growth := dirSize(t, h.dataDir) - before

	// Healthy days: exactly once, with the test's own sums.
	got := map[dayCur][]*v1.DaySummary{}
	for _, s := range h.summaries() {
		k := dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}
		got[k] = append(got[k], s)
	}
	for k, lines := range want {
		ss := got[k]
		if len(ss) != 1 {
			t.Errorf("%s has %d summaries, want exactly one", k, len(ss))
			continue
		}
		if g := netLines(t, ss[0]); !mapsEqual(g, lines) {
			t.Errorf("%s lines %v, want %v", k, g, lines)
		}
	}
	if ss := got[dayCur{"p-write", day1, "GBP", ""}]; len(ss) != 0 {
		t.Errorf("the refused day has %d summaries on the ledger", len(ss))
	}
	maxDay := got[dayCur{pmax, day1, "GBP", m.location}]
	if len(maxDay) != 1 || len(maxDay[0].GetLines()) != MaxDayAccounts || maxDay[0].GetExceptionCount() != 150 || len(maxDay[0].GetExceptions()) != MaxExceptionsNamed {
		t.Errorf("p-max's day: %d summaries, want one of %d lines naming %d of 150 exceptions", len(maxDay), MaxDayAccounts, MaxExceptionsNamed)
	}
	exc := 0
	for _, r := range h.read(h.topics.Exceptions) {
		if strings.HasPrefix(string(r.Key), pmax+"\x00") && r.Value != nil {
			exc++
		}
	}
	if exc != 150 {
		t.Errorf("ledger.exceptions lists %d of p-max's exceptions, want 150", exc)
	}

	// Every poison on commerce.quarantine, with its reason.
	wantQ := map[string]string{
		"p-apply record RECORD_KIND_ORDER||" + panicRecord:                      "applying it panicked: poisoned record",
		"p-apply record RECORD_KIND_ORDER||" + errorRecord:                      "injected fault",
		pmax + " record RECORD_KIND_ORDER||" + pad("o-too-long-", MaxIDBytes+1): fmt.Sprintf("id is %d bytes; the limit is %d", MaxIDBytes+1, MaxIDBytes),
		pmax + " record RECORD_KIND_ORDER||" + pad("one-more-", MaxIDBytes):     fmt.Sprintf("would hold %d accounts; the limit is %d", MaxDayAccounts+1, MaxDayAccounts),
		"p-write day " + day1: "its summary could not be written after 5 tries: MESSAGE_TOO_LARGE",
	}
	gotQ := map[string]string{}
	for _, e := range h.quarantine() {
		k := e.GetCompanyId() + " " + e.GetKind() + " " + e.GetRecordId()
		if e.GetKind() == "day" {
			k = e.GetCompanyId() + " day " + e.GetBusinessDay()
		}
		gotQ[k] = e.GetReason()
	}
	for k, reason := range wantQ {
		if !strings.Contains(gotQ[k], reason) {
			t.Errorf("quarantine %q: reason %q, want it to say %q", k, gotQ[k], reason)
		}
	}
	if len(gotQ) != len(wantQ) {
		t.Errorf("%d quarantine entries, want %d: %v", len(gotQ), len(wantQ), gotQ)
	}

	// Counted, bounded, backed off.
	st := j.Stats()
	if st.Records != int64(len(evs)) || st.Applied+st.Quarantined != st.Records || st.Quarantined != 4 || st.DaysParked != 1 {
		t.Errorf("stats %+v: want %d records in = applied + 4 quarantined, 1 day parked", st, len(evs))
	}
	if st.Aborted != 5 || len(sl.waits) != 5 {
		t.Errorf("%d transactions aborted and %d backoffs; want the refused day tried 5 times", st.Aborted, len(sl.waits))
	}
	for _, w := range sl.waits {
		if w < 100*time.Millisecond || w > 10*time.Second {
			t.Errorf("backoff %s outside 100ms..10s", w)
		}
	}
	// The bound: the poison's first try writes one transaction's output
	// (at most 5,000 input records); each retry holds at most half the
	// input of the try before and stops short of the record that emitted
	// the refused day, so all the retries together rewrite less than the
	// first try did. On disk, the data folder grows by what the retries
	// and the healthy transactions committed meanwhile write, compressed.
	first := sl.aborted[0]
	retries := st.AbortedBytes - first
	onDisk := sl.sizes[len(sl.sizes)-1] - sl.sizes[0]
	t.Logf("data folder: %d bytes of input, grew %d bytes over the run and %d while the poison was retried; aborted transactions produced %d bytes: %d on the first try, %d on the retries; backoffs %v",
		before, growth, onDisk, st.AbortedBytes, first, retries, sl.waits)
	if retries >= first {
		t.Errorf("the retries produced %d bytes, not less than the first try's %d", retries, first)
	}
	const diskBound = 1 << 20
	if onDisk > diskBound {
		t.Errorf("while the poison was retried the data folder grew %d bytes; the bound is %d", onDisk, diskBound)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
