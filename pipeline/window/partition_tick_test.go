package window

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// partitionTick is the clock's tick of a whole partition: no company, no
// tenant.
func partitionTick(now int64) *v1.CommerceEvent {
	return &v1.CommerceEvent{ReceivedUnixMs: now, Body: &v1.CommerceEvent_ClockTick{ClockTick: &v1.ClockTick{NowUnixMs: now}}}
}

// placed is an event and the partition it is read from.
type placed struct {
	p  int32
	ev *v1.CommerceEvent
}

// feedPlaced applies events at their partitions in batches of the given
// sizes (cycled), committing after each batch and once at the end.
func feedPlaced(f fataler, r *run, evs []placed, sizes []int) {
	for i, b := 0, 0; i < len(evs); b++ {
		j := min(i+sizes[b%len(sizes)], len(evs))
		for _, e := range evs[i:j] {
			if err := r.a.Apply(e.p, e.ev); err != nil {
				f.Fatalf("Apply %s at partition %d: %v", describe(e.ev), e.p, err)
			}
		}
		r.commit(f)
		i = j
	}
	r.commit(f)
}

// TestPartitionTickSealsEveryCompanyOfItsPartition: a tick naming no
// company seals the due days of every company of its partition that has
// settings, emits them in company-id order, and leaves the other
// partition's companies and the companies without settings alone. It
// creates no company of its own and writes nothing to the changelog for
// itself.
func TestPartitionTickSealsEveryCompanyOfItsPartition(t *testing.T) {
	const ldn = "Europe/London"
	part := map[string]int32{}
	var onZero []string
	for i := range 8 {
		// Ids whose map order is unlikely to be their sorted order.
		id := fmt.Sprintf("co-%c", "hcafgdbe"[i])
		part[id] = 0
		onZero = append(onZero, id)
	}
	part["co-other"] = 1
	part["co-unset"] = 0
	r := newRun(t, part)
	at := local(t, ldn, "2026-06-10 12:00:00")
	for _, id := range append(slices.Clone(onZero), "co-other") {
		r.apply(t, settingsEvent(id, exTenant, &v1.WindowSettings{TimeZone: ldn, GraceMs: hourMs, ConfigVersion: 1}))
		r.apply(t, goodOrder(id, "o-1", at, "10.00"))
	}
	r.apply(t, goodOrder("co-unset", "o-1", at, "10.00"))
	r.commit(t)

	due := local(t, ldn, "2026-06-11 00:00:00").UnixMilli() + hourMs
	if err := r.a.Apply(0, partitionTick(due-1)); err != nil {
		t.Fatal(err)
	}
	if out, err := r.a.Flush(); err != nil || len(out.Summaries) != 0 || len(out.Changes) != 0 {
		t.Fatalf("a tick 1ms before end+grace: %d summaries, %d changes, err %v; want nothing", len(out.Summaries), len(out.Changes), err)
	}
	r.a.Commit()

	if err := r.a.Apply(0, partitionTick(due)); err != nil {
		t.Fatal(err)
	}
	out, err := r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out.Changes {
		if bytes.HasPrefix(c.Key, []byte{0}) {
			t.Fatalf("the tick wrote changelog key %q, of no company", c.Key)
		}
	}
	r.log.write(out.Changes)
	r.summaries = append(r.summaries, out.Summaries...)
	r.a.Commit()
	var got []string
	for _, s := range out.Summaries {
		got = append(got, s.GetCompanyId())
		wantSummary(t, s, "2026-06-10", "GBP", 1, ByClockTick, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
	}
	want := slices.Sorted(slices.Values(onZero))
	if !slices.Equal(got, want) {
		t.Fatalf("partition 0's tick sealed the days of %v; want %v, in that order", got, want)
	}
	if _, ok := r.a.companies[""]; ok {
		t.Fatal("the tick made a company with no id")
	}
	if d := r.a.companies["co-unset"].days; len(d) != 0 {
		t.Fatalf("the company without settings has %d days", len(d))
	}

	sums := r.commit(t)
	if err := r.a.Apply(1, partitionTick(due)); err != nil {
		t.Fatal(err)
	}
	sums = r.commit(t)
	if len(sums) != 1 || sums[0].GetCompanyId() != "co-other" {
		t.Fatalf("partition 1's tick emitted %v; want co-other's day", sums)
	}
	checkSummaries(t, r.summaries)
}

// TestPartitionTickSameAsATickPerCompany: a partition's tick gives exactly
// what a tick of the same instant for each company of the partition with
// settings gives (in company-id order): the same summaries byte for byte,
// the same changelog and the same state, however the input is batched.
// Topics written before the change hold per-company ticks, and topics after
// it partition ticks; either way a replay seals the same days.
func TestPartitionTickSameAsATickPerCompany(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		parts := s.partitions()
		evs := s.closed(s.events)
		var perPartition, perCompany []placed
		settled := map[string]bool{}
		for i := 0; i <= len(evs); i++ {
			for range rapid.IntRange(0, 1).Draw(t, "partition ticks here") {
				p := int32(rapid.IntRange(0, 1).Draw(t, "tick partition"))
				now := spread(t, s.companies[0].from, 4, "partition tick at")
				perPartition = append(perPartition, placed{p, partitionTick(now)})
				var ids []string
				for id := range settled {
					if parts[id] == p {
						ids = append(ids, id)
					}
				}
				slices.Sort(ids)
				for _, id := range ids {
					perCompany = append(perCompany, placed{p, tickEvent(id, now)})
				}
			}
			if i == len(evs) {
				break
			}
			ev := evs[i]
			if ev.GetSettings() != nil {
				settled[ev.GetCompanyId()] = true
			}
			perPartition = append(perPartition, placed{parts[ev.GetCompanyId()], ev})
			perCompany = append(perCompany, placed{parts[ev.GetCompanyId()], ev})
		}
		one := newRun(t, parts)
		feedPlaced(t, one, perCompany, []int{len(perCompany) + 1})
		many := newRun(t, parts)
		feedPlaced(t, many, perPartition, genBatchSizes(t, "batches"))
		sameSummaries(t, "ticks per company vs per partition", one.summaries, many.summaries)
		checkSummaries(t, many.summaries)
		if d := diffStates(one.log.state(), many.log.state()); d != "" {
			t.Fatalf("compacted changelogs differ:\n%s", d)
		}
		if d := firstDiff(dumpState(one.a), dumpState(many.a)); d != "" {
			t.Fatalf("states differ: %s", d)
		}
	})
}

// TestPartitionTickRefusesATenant: a tick with no company may not name a
// tenant (it speaks for every company of its partition); the error names
// both fields and the fix, and the state is as before. A record with no
// company is still refused, and a tick of a partition holding no company
// does nothing.
func TestPartitionTickRefusesATenant(t *testing.T) {
	r := newRun(t, map[string]int32{"co-a": 0})
	r.apply(t, londonSettings("co-a"), goodOrder("co-a", "o-1", local(t, "Europe/London", "2026-06-10 12:00:00"), "10.00"))
	r.commit(t)
	before := dumpState(r.a)

	bad := partitionTick(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	bad.TenantId = exTenant
	err := r.a.Apply(0, bad)
	if err == nil || !strings.Contains(err.Error(), "tenantId is set on a clock tick with no companyId") || !strings.Contains(err.Error(), "clear tenantId") {
		t.Fatalf("err = %v; want the tenant refused, naming the fix", err)
	}
	noCompany := goodOrder("", "o-2", local(t, "Europe/London", "2026-06-10 13:00:00"), "1.00")
	if err := r.a.Apply(0, noCompany); err == nil || err.Error() != "companyId is empty" {
		t.Fatalf("a record with no company: err = %v", err)
	}
	if err := r.a.Apply(5, partitionTick(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli())); err != nil {
		t.Fatalf("a tick of an empty partition: %v", err)
	}
	out, err := r.a.Flush()
	if err != nil || len(out.Summaries) != 0 || len(out.Changes) != 0 {
		t.Fatalf("%d summaries, %d changes, err %v; want nothing", len(out.Summaries), len(out.Changes), err)
	}
	r.a.Commit()
	if st := r.a.Stats(); st.Refused != 2 || st.Applied != 3 {
		t.Fatalf("stats %+v; want 3 applied (settings, order, empty tick), 2 refused", st)
	}
	if d := firstDiff(before, dumpState(r.a)); d != "" {
		t.Fatalf("the state changed: %s", d)
	}
}

// TestPartitionTickAfterRestore: companies restored from the changelog by a
// new owner of the partition are the partition's, and its tick seals them.
func TestPartitionTickAfterRestore(t *testing.T) {
	const ldn = "Europe/London"
	r := newRun(t, map[string]int32{"co-a": 3, "co-b": 3})
	at := local(t, ldn, "2026-06-10 12:00:00")
	r.apply(t, londonSettings("co-a"), londonSettings("co-b"), goodOrder("co-a", "o-1", at, "10.00"), goodOrder("co-b", "o-1", at, "4.00"))
	r.commit(t)

	next := newRun(t, nil)
	next.log = r.log
	restorePartition(t, next.a, r.log, 3, false)
	if err := next.a.Apply(3, partitionTick(local(t, ldn, "2026-06-11 00:00:00").UnixMilli())); err != nil {
		t.Fatal(err)
	}
	sums := next.commit(t)
	if len(sums) != 2 || sums[0].GetCompanyId() != "co-a" || sums[1].GetCompanyId() != "co-b" {
		t.Fatalf("the tick after restore emitted %v; want co-a's and co-b's days", sums)
	}
	wantSummary(t, sums[1], "2026-06-10", "GBP", 1, ByClockTick, map[string]string{"unsettled": "4.00", "sales": "-4.00"})
}

// TestPartitionTickThroughTheJob: ticks the clock writes to one partition
// of commerce.events (no key, no company) seal the days of that partition's
// companies and no other's; a tick that names a tenant but no company is
// quarantined under its topic and partition, and the records around it
// count.
func TestPartitionTickThroughTheJob(t *testing.T) {
	h := startJobHarness(t, 2, false)
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-03-10 12:00:00")
	ids := []string{"co-1", "co-2", "co-3", "co-4", "co-5", "co-6"}
	for _, id := range ids {
		h.push(londonSettings(id), goodOrder(id, "o-1", at, "10.00"))
	}
	partOf := map[string]int32{}
	for _, r := range h.read(h.topics.Events) {
		partOf[string(r.Key)] = r.Partition
	}
	var p0, p1 []string
	for _, id := range ids {
		if partOf[id] == 0 {
			p0 = append(p0, id)
		} else {
			p1 = append(p1, id)
		}
	}
	if len(p0) == 0 || len(p1) == 0 {
		t.Fatalf("companies by partition: %v; the test needs both partitions used", partOf)
	}
	manual := h.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	due := local(t, ldn, "2026-03-11 00:00:00").UnixMilli()
	good, err := proto.Marshal(partitionTick(due))
	if err != nil {
		t.Fatal(err)
	}
	withTenant := partitionTick(due)
	withTenant.TenantId = exTenant
	bad, err := proto.Marshal(withTenant)
	if err != nil {
		t.Fatal(err)
	}
	if err := manual.ProduceSync(h.ctx(),
		&kgo.Record{Topic: h.topics.Events, Partition: 1, Value: bad},
		&kgo.Record{Topic: h.topics.Events, Partition: 0, Value: good},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	h.runJob()
	h.waitConsumed(time.Minute)

	var sealed []string
	for _, s := range h.summaries() {
		if s.GetSealedBy() != ByClockTick {
			t.Errorf("company %s's day sealed by %s", s.GetCompanyId(), s.GetSealedBy())
		}
		sealed = append(sealed, s.GetCompanyId())
	}
	if !slices.Equal(sealed, p0) {
		t.Fatalf("days sealed of %v; want those of partition 0's companies %v", sealed, p0)
	}
	q := h.quarantine()
	if len(q) != 1 || q[0].GetPartition() != 1 || q[0].GetCompanyId() != "" || !strings.Contains(q[0].GetReason(), "tenantId is set on a clock tick") {
		t.Fatalf("quarantine %v; want the tick with a tenant, of partition 1", q)
	}
	for _, r := range h.read(h.topics.Quarantine) {
		if want := h.topics.Events + "/1"; string(r.Key) != want {
			t.Fatalf("quarantine entry keyed %q; want %q", r.Key, want)
		}
	}
}

// TestPartitionTickCompanyTickStaysWithItsCompany: a tick naming a company
// (what topics written before partition ticks hold) seals that company's
// due days only, though others on its partition are due too; it makes the
// company if it is new, as before.
func TestPartitionTickCompanyTickStaysWithItsCompany(t *testing.T) {
	const ldn = "Europe/London"
	r := newRun(t, map[string]int32{"co-a": 0, "co-b": 0, "co-new": 0})
	at := local(t, ldn, "2026-06-10 12:00:00")
	r.apply(t, londonSettings("co-a"), londonSettings("co-b"), goodOrder("co-a", "o-1", at, "10.00"), goodOrder("co-b", "o-1", at, "4.00"))
	r.commit(t)
	due := local(t, ldn, "2026-06-11 00:00:00").UnixMilli()
	r.apply(t, tickEvent("co-b", due))
	sums := r.commit(t)
	if len(sums) != 1 || sums[0].GetCompanyId() != "co-b" {
		t.Fatalf("co-b's tick emitted %v; want co-b's day alone", sums)
	}
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByClockTick, map[string]string{"unsettled": "4.00", "sales": "-4.00"})
	r.apply(t, tickEvent("co-new", due))
	if sums := r.commit(t); len(sums) != 0 {
		t.Fatalf("a new company's tick emitted %v", sums)
	}
	if _, ok := r.a.companies["co-new"]; !ok {
		t.Fatal("a tick of a new company no longer makes it")
	}
	if sums := ofCompany(r.summaries, "co-a"); len(sums) != 0 {
		t.Fatalf("co-a's day sealed by other companies' ticks: %v", sums)
	}
}
