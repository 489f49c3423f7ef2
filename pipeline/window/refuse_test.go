package window

// Applying a record is all or nothing: tests of refusals and the fault hook.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

var errInjected = errors.New("injected fault")

// injector fails the Apply of one chosen event at its at-th fault point,
// with an error or a panic.
type injector struct {
	target *v1.CommerceEvent
	at     int
	panic  bool
	fired  string // where it fired, "" when it did not
}

func (in *injector) hook(p FaultPoint) error {
	if p.Event != in.target || p.N != in.at {
		return nil
	}
	in.fired = p.Where
	if in.panic {
		panic(fmt.Sprintf("injected panic at %s", p.Where))
	}
	return fmt.Errorf("at %s: %w", p.Where, errInjected)
}

// pending renders what the open batch would write, for comparing the batch
// before and after a refused record.
func pending(f fataler, a *Aggregator) string {
	out, err := a.Flush()
	if err != nil {
		f.Fatalf("Flush: %v", err)
	}
	var lines []string
	for _, c := range out.Changes {
		lines = append(lines, fmt.Sprintf("change %d %q %x", c.Partition, c.Key, c.Value))
	}
	for _, s := range marshalSummaries(f, out.Summaries) {
		lines = append(lines, fmt.Sprintf("summary %x", s))
	}
	for _, e := range out.Exceptions {
		lines = append(lines, fmt.Sprintf("exception %q %x", e.Key, e.Value))
	}
	for _, p := range out.Parked {
		lines = append(lines, fmt.Sprintf("parked %+v", p))
	}
	for _, c := range out.Contributions {
		lines = append(lines, fmt.Sprintf("contribution %d %q %x", c.Partition, c.Key, c.Value))
	}
	return strings.Join(lines, "\n")
}

// A failure at a random point inside Apply (an error or a panic) leaves the
// state exactly as it was before the record, the open batch's output too,
// and Apply says why: comparing white-box dumps of the state and of what the
// batch would write, before and after. A fault inside the sealing of a day
// parks that day instead. A run with the refused records left out gives
// byte-identical summaries and changelog (when no day was parked).
func TestPropertyRefusedRecordLeavesNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		in := &injector{}
		r := newRun(t, s.partitions(), WithFaultHook(in.hook))
		clean := newRun(t, s.partitions())
		sizes := genBatchSizes(t, "batches")
		parked, refused, applied := false, 0, 0
		for i, b := 0, 0; i < len(evs); b++ {
			j := min(i+sizes[b%len(sizes)], len(evs))
			for _, ev := range evs[i:j] {
				in.target, in.fired = nil, ""
				if rapid.IntRange(0, 2).Draw(t, "fault this record?") == 0 {
					in.target, in.at, in.panic = ev, rapid.IntRange(1, 12).Draw(t, "at step"), rapid.Bool().Draw(t, "panic?")
				}
				before, beforeOut := dumpState(r.a), pending(t, r.a)
				parkedBefore := len(r.a.b.parked)
				err := r.a.Apply(r.part[ev.GetCompanyId()], ev)
				switch {
				case in.fired == "":
					if err != nil {
						t.Fatalf("%s: refused with no fault: %v", describe(ev), err)
					}
					applied++
					clean.apply(t, ev)
				case err != nil:
					refused++
					if !errors.Is(err, errInjected) && !strings.Contains(err.Error(), "injected panic") {
						t.Fatalf("%s: refused with %v, not the injected fault", describe(ev), err)
					}
					if d := firstDiff(before, dumpState(r.a)); d != "" {
						t.Fatalf("%s refused at %s left the state changed: %s", describe(ev), in.fired, d)
					}
					if d := firstDiff(beforeOut, pending(t, r.a)); d != "" {
						t.Fatalf("%s refused at %s left the batch's output changed: %s", describe(ev), in.fired, d)
					}
				default:
					if in.fired != "seal" && in.fired != "emit" || len(r.a.b.parked) == parkedBefore {
						t.Fatalf("%s: a fault at %s was absorbed without parking a day", describe(ev), in.fired)
					}
					applied++
					parked = true
				}
			}
			r.commit(t)
			clean.commit(t)
			i = j
		}
		if st := r.a.Stats(); st.Applied != int64(applied) || st.Refused != int64(refused) {
			t.Fatalf("stats %+v, want %d applied and %d refused", st, applied, refused)
		}
		checkSummaries(t, r.summaries)
		if parked {
			return
		}
		sameSummaries(t, "refused records vs left out", clean.summaries, r.summaries)
		if d := diffSums(clean.contribs, r.contribs); d != "" {
			t.Fatalf("contributions differ:\n%s", d)
		}
		if d := diffStates(clean.log.state(), r.log.state()); d != "" {
			t.Fatalf("compacted changelogs differ:\n%s", d)
		}
		if d := firstDiff(dumpState(clean.a), dumpState(r.a)); d != "" {
			t.Fatalf("states differ: %s", d)
		}
	})
}

// A day whose sealing fails is parked with the reason, and no revision of
// it is emitted; the company's other day seals, and records that arrive for
// the parked day keep counting in its state.
func TestSealFailureParksTheDayAlone(t *testing.T) {
	const ldn = "Europe/London"
	d1, d2 := local(t, ldn, "2026-06-10 12:00:00"), local(t, ldn, "2026-06-11 12:00:00")
	in := &injector{}
	r := newRun(t, map[string]int32{exCompany: 0}, WithFaultHook(func(p FaultPoint) error {
		if p.Where == "emit" && p.Event == in.target && in.fired == "" {
			in.fired = p.Where
			return errInjected
		}
		return nil
	}))
	grace := int64(72 * time.Hour / time.Millisecond)
	r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1, GraceMs: grace}),
		exOrder("a", d1, 1, "GBP", "10.00", "0"), exOrder("b", d2, 1, "GBP", "20.00", "0"))
	closing := far(d2)
	in.target = closing
	r.apply(t, closing)
	sums := r.commit(t)
	if len(sums) != 1 || sums[0].GetBusinessDay() != "2026-06-11" {
		t.Fatalf("summaries %v, want 2026-06-11's only", sums)
	}
	if len(r.parked) != 1 || r.parked[0].Day != "2026-06-10" || !strings.Contains(r.parked[0].Reason, "injected fault") || r.parked[0].Revision != 1 {
		t.Fatalf("parked %+v, want 2026-06-10 revision 1 with the fault", r.parked)
	}
	r.apply(t, exOrder("c", d1, 1, "GBP", "5.00", "0"), tickEvent(exCompany, d2.AddDate(0, 1, 0).UnixMilli()))
	if sums := r.commit(t); len(sums) != 0 {
		t.Fatalf("a parked day emitted %v", sums)
	}
	d := r.a.companies[exCompany].dayState(dayKey{day: "2026-06-10", currency: "GBP"})
	if d.parked == "" || d.records != 2 || d.totals.get("unsettled") != 150000 {
		t.Fatalf("parked day %+v, want it parked with both orders counted", d)
	}
	// The park survives a restore.
	a := testAggregator(t)
	restorePartition(t, a, r.log, 0, false)
	if d := a.companies[exCompany].dayState(dayKey{day: "2026-06-10", currency: "GBP"}); d.parked != r.parked[0].Reason {
		t.Fatalf("restored day parked %q, want %q", d.parked, r.parked[0].Reason)
	}
}

// Finding 2, as reported: a record that failed halfway through Apply was
// logged ("event not applied") and its offset committed, with what it had
// done so far: a new version of an order whose Apply failed after the old
// version's money left the day made the order's money vanish. Through the
// job: the failure is injected between the old contribution leaving and the
// new one entering; the day keeps version 1, and version 2 is on
// commerce.quarantine with why, in the transaction that moved past it.
func TestFindingHalfAppliedRecordIsCommitted(t *testing.T) {
	h := startJobHarness(t, 1, false)
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-03-10 12:00:00")
	v1Order := goodOrder("c", "o-1", at, "10.00")
	v2Order := goodOrder("c", "o-1", at, "12.00")
	v2Order.GetRecord().SourceModifiedUnixMs = 2
	v2Order.GetRecord().ContentHash = exHash("v2")
	h.push(londonSettings("c"), v1Order, v2Order, goodOrder("c", "o-2", at, "1.00"),
		closeEvent("c", local(t, ldn, "2026-03-11 00:00:00").UnixMilli()))
	j := h.runJob(WithApplyFault(func(p FaultPoint) error {
		if re := p.Event.GetRecord(); re != nil && re.GetId() == "o-1" && re.GetSourceModifiedUnixMs() == 2 && p.Where == "swap" {
			return errInjected
		}
		return nil
	}))
	h.waitConsumed(time.Minute)
	sums := ofCompany(h.summaries(), "c")
	if len(sums) != 1 {
		t.Fatalf("summaries %v, want one", sums)
	}
	if got := netLines(t, sums[0]); got["sales"] != "-11.00" || got["unsettled"] != "11.00" || sums[0].GetRecordCount() != 2 {
		t.Errorf("the day holds %v over %d records; want version 1 of o-1 (10.00) and o-2 (1.00)", got, sums[0].GetRecordCount())
	}
	q := h.quarantine()
	if len(q) != 1 || q[0].GetRecordId() != "RECORD_KIND_ORDER||o-1" || !strings.Contains(q[0].GetReason(), "injected fault") || q[0].GetOffset() != 2 {
		t.Fatalf("quarantine %v, want version 2 of o-1 (offset 2) with the injected fault", q)
	}
	var back v1.CommerceEvent
	if err := proto.Unmarshal(q[0].GetRecord(), &back); err != nil || !proto.Equal(&back, v2Order) || q[0].GetRecordTruncated() {
		t.Errorf("the quarantined bytes are not the record: %v", err)
	}
	if st := j.Stats(); st.Records != 5 || st.Applied != 4 || st.Quarantined != 1 {
		t.Errorf("stats %+v, want 5 records: 4 applied, 1 quarantined", st)
	}
}

// The other silent paths of finding 2: an event that does not decode, a
// record whose amount cannot be read (once "record skipped"), settings with
// an unknown time zone (once "settings refused") and an event without a
// company were dropped with a log line. Each is on commerce.quarantine now,
// keyed by its company (or its topic and partition when it names none), and
// the records around them count.
func TestFindingSkippedRecordsAreQuarantined(t *testing.T) {
	h := startJobHarness(t, 1, false)
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-03-10 12:00:00")
	bad := goodOrder("c", "o-bad", at, "12,00")
	zone := settingsEvent("c", exTenant, &v1.WindowSettings{TimeZone: "Mars/Olympus", ConfigVersion: 2})
	noCompany := goodOrder("", "o-nobody", at, "1.00")
	h.push(londonSettings("c"), goodOrder("c", "o-1", at, "10.00"), bad, zone, noCompany)
	h.pushRaw(&kgo.Record{Topic: h.topics.Events, Key: []byte("c"), Value: []byte{0xff, 0xff, 0xff}})
	h.push(closeEvent("c", local(t, ldn, "2026-03-11 00:00:00").UnixMilli()))
	j := h.runJob()
	h.waitConsumed(time.Minute)
	if sums := ofCompany(h.summaries(), "c"); len(sums) != 1 || netLines(t, sums[0])["sales"] != "-10.00" {
		t.Fatalf("summaries %v, want the day with o-1", sums)
	}
	got := map[int64]string{}
	keys := map[int64]string{}
	for _, r := range h.read(h.topics.Quarantine) {
		var e v1.QuarantineEntry
		if err := proto.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		got[e.GetOffset()] = e.GetReason()
		keys[e.GetOffset()] = string(r.Key)
	}
	want := map[int64]string{
		2: `totalAmount: "12,00" is not a decimal number`,
		3: "settings: ",
		4: "companyId is empty",
		5: "cannot be decoded as a CommerceEvent",
	}
	var offsets []int64
	for o := range got {
		offsets = append(offsets, o)
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	if !slices.Equal(offsets, []int64{2, 3, 4, 5}) {
		t.Fatalf("quarantined offsets %v (%v), want 2, 3, 4 and 5", offsets, got)
	}
	for o, w := range want {
		if !strings.Contains(got[o], w) {
			t.Errorf("offset %d quarantined with %q, want it to say %q", o, got[o], w)
		}
	}
	if keys[2] != "c" || keys[4] != h.topics.Events+"/0" || keys[5] != h.topics.Events+"/0" {
		t.Errorf("quarantine keys %v, want the company, or the topic and partition", keys)
	}
	if st := j.Stats(); st.Records != 7 || st.Applied != 3 || st.Quarantined != 4 {
		t.Errorf("stats %+v, want 7 records: 3 applied, 4 quarantined", st)
	}
}

// A record whose own output the broker refuses (here its changelog entry,
// which names no day) is found by narrowing the transaction down to it,
// tried 5 times with backoff, and quarantined; the records around it commit
// and count, and nothing is retried forever.
func TestUnwritableOutputQuarantinesItsRecord(t *testing.T) {
	h := startJobHarness(t, 1, false)
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-03-10 12:00:00")
	evs := []*v1.CommerceEvent{londonSettings("c")}
	for i := range 20 {
		id := fmt.Sprintf("o-%02d", i)
		if i == 10 {
			id = "o-poison"
		}
		evs = append(evs, goodOrder("c", id, at, "1.00"))
	}
	evs = append(evs, closeEvent("c", local(t, ldn, "2026-03-11 00:00:00").UnixMilli()))
	h.push(evs...)
	sl := &sleeper{dir: t.TempDir(), t: t}
	j := h.runJob(WithSleep(sl.sleep), WithProduceFault(func(r *kgo.Record) error {
		if r.Topic == h.topics.Changelog && strings.HasSuffix(string(r.Key), "\x00o-poison") {
			return kerr.MessageTooLarge
		}
		return nil
	}))
	h.waitConsumed(time.Minute)
	sums := ofCompany(h.summaries(), "c")
	if len(sums) != 1 || netLines(t, sums[0])["sales"] != "-19.00" {
		t.Fatalf("summaries %v, want the day with the 19 orders around the poison", sums)
	}
	q := h.quarantine()
	if len(q) != 1 || q[0].GetOffset() != 11 || q[0].GetCompanyId() != "c" || q[0].GetAttempts() != 5 ||
		!strings.Contains(q[0].GetReason(), "its output could not be written after 5 tries: MESSAGE_TOO_LARGE") {
		t.Fatalf("quarantine %v, want o-poison (offset 11) after 5 tries", q)
	}
	st := j.Stats()
	if st.Records != int64(len(evs)) || st.Applied != int64(len(evs)-1) || st.Quarantined != 1 {
		t.Errorf("stats %+v, want %d records: all applied but the poison", st, len(evs))
	}
	t.Logf("stats %+v, backoffs %v", st, sl.waits)
	// Narrowing 22 records down to one takes a few halvings, then 5 tries.
	if st.Aborted < 5 || st.Aborted > 5+5 || len(sl.waits) != int(st.Aborted) {
		t.Errorf("%d transactions aborted and %d backoffs; want 5 tries after at most 5 halvings", st.Aborted, len(sl.waits))
	}
}
