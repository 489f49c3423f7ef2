package window

import (
	"testing"
)

// Stats count the days parked by committed batches, summed over them: a
// batch that parks a day adds one, a batch that parks none adds nothing, and
// an aborted batch's parking does not count (it parks again when its input
// is read again).
func TestStatsCountDaysParkedByEveryCommittedBatch(t *testing.T) {
	const ldn = "Europe/London"
	d1 := local(t, ldn, "2026-06-10 12:00:00")
	d2 := local(t, ldn, "2026-06-11 12:00:00")
	e := newEx(t, ldn, 0, 0)
	const reason = "its summary could not be written"
	e.r.a.ParkDay(DayRef{exCompany, "2026-06-10", "GBP", ""}, reason, 3)
	e.push(exOrder("ord-1", d1, 1, "GBP", "5.00", "0"), far(d1))
	if len(e.r.parked) != 1 || e.r.parked[0].Day != "2026-06-10" || e.r.parked[0].Attempts != 3 {
		t.Fatalf("parked %+v, want 2026-06-10 parked after 3 attempts", e.r.parked)
	}
	if got := e.r.a.Stats().DaysParked; got != 1 {
		t.Fatalf("after one day parked Stats say %d days parked, want 1", got)
	}

	// A batch parking nothing keeps the count.
	e.push(exOrder("ord-2", d1, 1, "GBP", "2.00", "0"))
	if got := e.r.a.Stats().DaysParked; got != 1 {
		t.Fatalf("after a batch parking nothing Stats say %d days parked, want 1", got)
	}

	// A batch that parks a day and aborts adds nothing; read again and
	// committed, it adds one.
	e.r.a.ParkDay(DayRef{exCompany, "2026-06-11", "GBP", ""}, reason, 2)
	e.r.apply(t, exOrder("ord-3", d2, 1, "GBP", "4.00", "0"), far(d2))
	e.r.a.Abort()
	if got := e.r.a.Stats().DaysParked; got != 1 {
		t.Fatalf("after an aborted batch Stats say %d days parked, want 1", got)
	}
	e.push(exOrder("ord-3", d2, 1, "GBP", "4.00", "0"), far(d2))
	if len(e.r.parked) != 2 || e.r.parked[1].Day != "2026-06-11" {
		t.Fatalf("parked %+v, want 2026-06-11 parked second", e.r.parked)
	}
	if got := e.r.a.Stats().DaysParked; got != 2 {
		t.Fatalf("after two committed batches parking a day each Stats say %d days parked, want 2", got)
	}
}
