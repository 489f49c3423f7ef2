package window

import (
	"testing"
)

// After an aborted batch the next batch starts afresh: a day it changes
// that an earlier committed batch wrote is written again to the changelog
// (a restored aggregator holds the new money), and when that batch aborts
// too, the day goes back to what the last commit left.
func TestBatchAfterAnAbortWritesAndRollsBackTheDaysItChanges(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	next := local(t, ldn, "2026-06-11 12:00:00")
	e := newEx(t, ldn, 0, 0)
	e.push(exOrder("ord-1", at, 1, "GBP", "5.00", "0"))

	// A batch that touches another day and aborts.
	e.r.apply(t, exOrder("ord-2", next, 1, "GBP", "7.00", "0"))
	e.r.a.Abort()

	// The next batch adds to the first day and commits.
	e.push(exOrder("ord-3", at, 1, "GBP", "3.00", "0"))
	k := dayKey{day: "2026-06-10", currency: "GBP"}
	if d := e.r.a.companies[exCompany].dayState(k); d == nil || d.totals.get("unsettled") != parseAmount(t, "8.00") {
		t.Fatalf("live day after the batch: %+v, want unsettled 8.00", d)
	}
	b := testAggregator(t)
	restorePartition(t, b, e.r.log, 0, true)
	if live, restored := dumpState(e.r.a), dumpState(b); live != restored {
		t.Fatalf("the changelog misses what the batch after an abort changed: %s", firstDiff(live, restored))
	}

	// Another abort, then a batch that changes the day and aborts: the day
	// is as the last commit left it.
	e.r.apply(t, exOrder("ord-4", next, 1, "GBP", "1.00", "0"))
	e.r.a.Abort()
	before := dumpState(e.r.a)
	e.r.apply(t, exOrder("ord-5", at, 1, "GBP", "2.00", "0"))
	e.r.a.Abort()
	if after := dumpState(e.r.a); after != before {
		t.Fatalf("an aborted batch left changes behind: %s", firstDiff(before, after))
	}
	if d := e.r.a.companies[exCompany].dayState(k); d == nil || d.totals.get("unsettled") != parseAmount(t, "8.00") {
		t.Fatalf("day after the aborted batch: %+v, want unsettled 8.00", d)
	}
}
