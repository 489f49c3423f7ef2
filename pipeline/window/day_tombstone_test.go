package window

import (
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// An open day whose only record is deleted holds nothing: the batch writes
// its changelog tombstone and, once the batch commits, the aggregator keeps
// no entry for it (days that come and go do not pile up in memory). The day
// coming back later is a day like any other.
func TestOpenDayLeftEmptyIsWrittenAsATombstoneAndForgottenAtCommit(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	e := newEx(t, ldn, 0, 0)
	e.push(exOrder("ord-1", at, 1, "GBP", "5.00", "0"))
	c := e.r.a.companies[exCompany]
	k := dayKey{day: "2026-06-10", currency: "GBP"}
	if _, ok := c.days[k]; !ok {
		t.Fatalf("the order's day is not held")
	}

	e.r.apply(t, deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_ORDER, "", "ord-1", at.UnixMilli()+5000))
	out, err := e.r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	key := string(changeKey(exCompany, kindDay, "2026-06-10\x00GBP"))
	found := false
	for _, ch := range out.Changes {
		if string(ch.Key) == key {
			found = true
			if ch.Value != nil {
				t.Errorf("the emptied day is written with a value, want a tombstone")
			}
		}
	}
	if !found {
		t.Fatalf("the batch writes no entry for the emptied day %q", key)
	}
	e.r.log.write(out.Changes)
	e.r.a.Commit()
	if ent, ok := c.days[k]; ok {
		t.Fatalf("after the commit the emptied day is still held: %+v", ent)
	}

	sums := e.push(exOrder("ord-2", at, 1, "GBP", "3.00", "0"), far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "3.00", "sales": "-3.00"})
}
