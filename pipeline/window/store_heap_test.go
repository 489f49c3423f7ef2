package window

import (
	"reflect"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A company's day map is made anew, holding only its live days, once it
// holds a quarter or less of the most it held, and only past 64: a map
// keeps the room it once needed, and a clock tick ranges over it.
func TestStoreDayMapIsMadeAnewOnlyWhenMostlyEmpty(t *testing.T) {
	cases := []struct {
		peak, days int
		anew       bool
	}{
		{64, 0, false},  // 64 days at most: never worth it
		{65, 0, true},   // past 64, empty
		{65, 16, false}, // a quarter of 65 is 16: not fewer
		{65, 15, true},
		{100, 24, true},
		{100, 25, false},
		{100, 30, false},
		{100, 100, false},
	}
	for _, c := range cases {
		co := newCompany(nil, "co", 0)
		for i := range c.days {
			co.days[dayKey{day: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)}] = &dayEntry{cur: &dayState{}}
		}
		co.daysPeak = c.peak
		before := reflect.ValueOf(co.days).UnsafePointer()
		co.shrinkDays()
		anew := reflect.ValueOf(co.days).UnsafePointer() != before
		if anew != c.anew {
			t.Errorf("peak %d, %d days: made anew = %v, want %v", c.peak, c.days, anew, c.anew)
		}
		if len(co.days) != c.days {
			t.Errorf("peak %d: %d days after, want %d", c.peak, len(co.days), c.days)
		}
		if anew && co.daysPeak != c.days {
			t.Errorf("peak %d, %d days: the peak is %d after the map was made anew; want %d", c.peak, c.days, co.daysPeak, c.days)
		}
	}
}

// Between batches the heap holds a company's live days: open ones, and
// sealed ones with a revision due unless parked. A sealed day with nothing
// due, or a parked one, is read back from the store when needed.
func TestStoreHeapHoldsOnlyLiveDays(t *testing.T) {
	for _, c := range []struct {
		d    dayState
		live bool
	}{
		{dayState{}, true},
		{dayState{dirty: true}, true},
		{dayState{sealed: true}, false},
		{dayState{sealed: true, dirty: true}, true},
		{dayState{sealed: true, dirty: true, parked: "refused"}, false},
		{dayState{sealed: true, parked: "refused"}, false},
	} {
		if got := live(&c.d); got != c.live {
			t.Errorf("live(%+v) = %v, want %v", c.d, got, c.live)
		}
	}
	if live(nil) {
		t.Error("live(nil) = true; a day that is gone is not live")
	}

	r := newRun(t, map[string]int32{exCompany: 0})
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	r.apply(t, storeSettings(), exOrder("ord-1", at, 1, "GBP", "10.00", "0"), exOrder("ord-2", at.AddDate(0, 0, 1), 1, "GBP", "4.00", "0"))
	r.apply(t, closeEvent(exCompany, time.Date(2026, 6, 10, 23, 0, 0, 0, time.UTC).UnixMilli()))
	r.commit(t)
	c := r.a.companies[exCompany]
	if len(c.days) != 1 || len(c.records) != 0 {
		t.Fatalf("after the commit the heap holds %d days and %d records; want the open day and no record", len(c.days), len(c.records))
	}
	// A late change to the sealed day brings it back, with its revision due.
	r.apply(t, exOrder("ord-1", at, 2, "GBP", "12.00", "0"))
	r.commit(t)
	if len(c.days) != 2 {
		t.Fatalf("the heap holds %d days after a late change; want the open day and the sealed one with a revision due", len(c.days))
	}
}

// A record's exception leaves the store when a later batch corrects the
// record: a process that restarts on the store names no exception.
func TestStoreCorrectedExceptionLeavesTheStore(t *testing.T) {
	st := openTestStore(t)
	r := newRun(t, map[string]int32{exCompany: 0}, WithStore(st))
	r.now = storeClock
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	r.apply(t, storeSettings(), missOrder(exCompany, "ord-1", at))
	r.commitAt(t, false)
	if n := len(r.a.companies[exCompany].excs); n != 1 {
		t.Fatalf("%d days with exceptions; want the order's", n)
	}
	fixed := goodOrder(exCompany, "ord-1", at, "10.00")
	fixed.GetRecord().SourceModifiedUnixMs = 2 // later than the first version
	r.apply(t, fixed, goodOrder(exCompany, "ord-2", at, "10.00"))
	r.commitAt(t, false)
	a := NewAggregator(nil, WithStore(st))
	resumeStore(t, a, r.log, 0, storeClock)
	if d := firstDiff(dumpState(r.a), dumpState(a)); d != "" {
		t.Fatalf("restarted state differs: %s", d)
	}
	if n := len(a.companies[exCompany].excs); n != 0 {
		t.Fatalf("the restarted window has %d days with exceptions; the order was corrected", n)
	}
}

// Commit without a Flush first still writes the batch to the store.
func TestStoreCommitWithoutFlushWritesTheBatch(t *testing.T) {
	st := openTestStore(t)
	a := NewAggregator(nil, WithStore(st))
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	for _, ev := range []*v1.CommerceEvent{storeSettings(), exOrder("ord-1", at, 1, "GBP", "10.00", "0")} {
		if err := a.Apply(0, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CommitAt(map[int32]int64{0: 3}, storeClock); err != nil {
		t.Fatal(err)
	}
	b := NewAggregator(nil, WithStore(st))
	if from, resumed, err := b.ResumeFrom(0, 0, 3, storeClock, time.Hour); err != nil || !resumed || from != 3 {
		t.Fatalf("ResumeFrom = %d, %v, %v; want the checkpoint 3", from, resumed, err)
	}
	if err := b.RestoreDone(0); err != nil {
		t.Fatal(err)
	}
	if got := b.companies[exCompany].rec(recordKey{kind: v1.RecordKind_RECORD_KIND_ORDER, id: "ord-1"}); got == nil {
		t.Fatal("the order is not in the store")
	}
}
