package window

// Exact seal boundaries: each way a day seals is tested one millisecond
// before its instant and at it, so that an off-by-one in any comparison, or
// grace added where it should not be (or not added where it should), shows.

import (
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const ldnZone = "Europe/London"

// boundaryDay is 10 June 2026 in London (cutoff 0): it ends at midnight BST.
func boundaryDay(t *testing.T) (order *v1.CommerceEvent, end time.Time) {
	t.Helper()
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	return exOrder("ord-1", at, 1, "GBP", "10.00", "0"), local(t, ldnZone, "2026-06-11 00:00:00")
}

var boundaryLines = map[string]string{"unsettled": "10.00", "sales": "-10.00"}

// A day seals by watermark when a record's event time reaches its end plus
// grace exactly, not one millisecond before; the record that does it counts
// in the next day.
func TestWatermarkSealsAtEndPlusGraceExactly(t *testing.T) {
	for _, grace := range []int64{0, hourMs} {
		e := newEx(t, ldnZone, 0, grace)
		order, end := boundaryDay(t)
		count(t, e.push(order), 0)
		at := end.Add(time.Duration(grace)*time.Millisecond - time.Millisecond)
		if sums := e.push(exPayment("pay-1", at, 1, "GBP", "1.00", "Cash", "Paid")); len(sums) != 0 {
			t.Fatalf("grace %dms: a record 1ms before end+grace sealed the day: %v", grace, netLines(t, sums[0]))
		}
		sums := e.push(exPayment("pay-2", at.Add(time.Millisecond), 1, "GBP", "2.00", "Cash", "Paid"))
		count(t, sums, 1)
		want := boundaryLines
		if grace == 0 { // the first payment fell on the day's last millisecond
			want = map[string]string{"unsettled": "9.00", "sales": "-10.00", "tender:Cash": "1.00"}
		}
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, want)
		if got := sums[0].GetEndUnixMs(); got != end.UnixMilli() {
			t.Errorf("grace %dms: the day ends at %d, want %d: grace moves when it seals, not its bounds", grace, got, end.UnixMilli())
		}
	}
}

// The first watermark step of a day seals it at its boundary too, before
// any earlier step has worked out when the next seal is due.
func TestWatermarkSealsAtBoundaryInTheSameBatch(t *testing.T) {
	e := newEx(t, ldnZone, 0, hourMs)
	order, end := boundaryDay(t)
	sums := e.push(order, exPayment("pay-1", end.Add(time.Hour), 1, "GBP", "1.00", "Cash", "Paid"))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, boundaryLines)
}

// A record earlier than the watermark does not move it: a day seals by the
// latest event time seen, and a late record does not reopen the question.
func TestWatermarkIsTheLatestEventTime(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	order, end := boundaryDay(t)
	count(t, e.push(order), 0)
	count(t, e.push(exPayment("pay-1", end.Add(-time.Millisecond), 1, "GBP", "1.00", "Cash", "Paid")), 0)
	// An earlier record after a later one: the watermark stays at 23:59:59.999.
	count(t, e.push(exPayment("pay-0", end.Add(-time.Hour), 1, "GBP", "1.00", "Cash", "Paid")), 0)
	if wm := e.r.a.companies[exCompany].watermark; wm != end.UnixMilli()-1 {
		t.Errorf("watermark %d after a late record, want %d (the latest event time)", wm, end.UnixMilli()-1)
	}
	sums := e.push(exPayment("pay-2", end, 1, "GBP", "2.00", "Cash", "Paid"))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, map[string]string{
		"unsettled": "8.00", "sales": "-10.00", "tender:Cash": "2.00",
	})
}

// A clock tick seals a day at its end plus grace exactly, not one
// millisecond before.
func TestClockTickSealsAtEndPlusGraceExactly(t *testing.T) {
	for _, grace := range []int64{0, hourMs} {
		e := newEx(t, ldnZone, 0, grace)
		order, end := boundaryDay(t)
		e.push(order)
		due := end.Add(time.Duration(grace) * time.Millisecond)
		if sums := e.push(tickEvent(exCompany, due.UnixMilli()-1)); len(sums) != 0 {
			t.Fatalf("grace %dms: a tick 1ms before end+grace sealed the day", grace)
		}
		sums := e.push(tickEvent(exCompany, due.UnixMilli()))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByClockTick, boundaryLines)
	}
}

// Close-up-to seals every day ending no later than its instant, grace or no
// grace: a day ending exactly then seals, one ending a millisecond later
// does not.
func TestCloseUpToSealsAtTheDaysEndExactly(t *testing.T) {
	e := newEx(t, ldnZone, 0, hourMs)
	order, end := boundaryDay(t)
	e.push(order)
	count(t, e.push(closeEvent(exCompany, end.UnixMilli()-1)), 0)
	sums := e.push(closeEvent(exCompany, end.UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, boundaryLines)
}

// A settings change that shortens the grace seals, by watermark, the days
// the watermark has now passed: at end plus the new grace exactly, not one
// millisecond short of it.
func TestSettingsChangeSealsAtEndPlusNewGraceExactly(t *testing.T) {
	order, end := boundaryDay(t)
	wm := end.Add(30 * time.Minute) // the watermark: the payment's event time
	for _, tc := range []struct {
		graceMs int64
		seals   bool
	}{{30*60*1000 + 1, false}, {30 * 60 * 1000, true}} {
		e := newEx(t, ldnZone, 0, hourMs)
		e.push(order)
		count(t, e.push(exPayment("pay-1", wm, 1, "GBP", "1.00", "Cash", "Paid")), 0)
		sums := e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GraceMs: tc.graceMs, ConfigVersion: 2}))
		if !tc.seals {
			if len(sums) != 0 {
				t.Errorf("grace %dms: the day sealed with the watermark 1ms short of end+grace", tc.graceMs)
			}
			continue
		}
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, boundaryLines)
	}
}
