package window

// Settings changes after a day sealed: the sealed day keeps the bounds and
// the location grouping it was posted with, and records of open days move
// to the days the new settings give them.

import (
	"testing"

	"github.com/commercesync/commercesync/ledger/day"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func exOrderAt(t *testing.T, id, when, site, total string) *v1.CommerceEvent {
	t.Helper()
	ev := exOrder(id, local(t, ldnZone, when), 1, "GBP", total, "0")
	ev.GetRecord().GetOrder().LocationRef = &v1.Ref{Id: site}
	return ev
}

func bounds(t *testing.T, cutoff int, d string) (int64, int64) {
	t.Helper()
	cal, err := day.NewCalendar(ldnZone, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	start, end, err := cal.Bounds(d)
	if err != nil {
		t.Fatal(err)
	}
	return start.UnixMilli(), end.UnixMilli()
}

func wantSpan(t *testing.T, s *v1.DaySummary, loc string, start, end int64) {
	t.Helper()
	if s.GetLocation() != loc || s.GetStartUnixMs() != start || s.GetEndUnixMs() != end {
		t.Errorf("%s revision %d is location %q spanning %d – %d, want location %q spanning %d – %d",
			s.GetBusinessDay(), s.GetRevision(), s.GetLocation(), s.GetStartUnixMs(), s.GetEndUnixMs(), loc, start, end)
	}
}

// 10 June seals under cutoff 0 without location grouping. The merchant then
// moves the cutoff to 04:00 and groups days by location. 10 June, sealed,
// keeps its midnight bounds and its one ungrouped day: deleting its order
// reverses it there. An order at 02:00 on 11 June, in an open day, moves to
// 10 June at its shop under the new settings, which spans 04:00 to 04:00
// and seals at once (the watermark is past it); an order later on 11 June moves to its shop's 11 June.
func TestSettingsChangeAfterSealKeepsSealedDayAndMovesOpenRecords(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	// The order on 11 June moves the watermark past 10 June's end.
	sums := e.push(
		exOrderAt(t, "ord-a", "2026-06-10 12:00:00", "shop-1", "10.00"),
		exOrderAt(t, "ord-b", "2026-06-11 02:00:00", "shop-1", "4.00"),
		exOrderAt(t, "ord-c", "2026-06-11 12:00:00", "shop-2", "3.00"),
	)
	count(t, sums, 1)
	oldStart, oldEnd := bounds(t, 0, "2026-06-10")
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
	wantSpan(t, sums[0], "", oldStart, oldEnd)

	// ord-b's new day, 10 June at shop-1, ends at 04:00 on 11 June: the
	// watermark (12:00) is past it, so it seals at once.
	sums = e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{
		TimeZone: ldnZone, CutoffHour: 4, GroupByLocation: true, ConfigVersion: 2,
	}))
	count(t, sums, 1)
	newStart, newEnd := bounds(t, 4, "2026-06-10")
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, map[string]string{"unsettled": "4.00", "sales": "-4.00"})
	wantSpan(t, sums[0], "shop-1", newStart, newEnd)
	c := e.r.a.companies[exCompany]
	if d := c.dayState(dayKey{"2026-06-10", "GBP", ""}); d == nil || d.start != oldStart || d.end != oldEnd || !d.sealed || d.records != 1 {
		t.Fatalf("sealed 10 June after the settings change: %+v, want sealed, 1 record, spanning %d – %d", d, oldStart, oldEnd)
	}
	if rs := c.rec(recordKey{v1.RecordKind_RECORD_KIND_ORDER, "", "ord-a"}); rs.day != "2026-06-10" || rs.location != "" {
		t.Errorf("the sealed day's order moved to %s %q", rs.day, rs.location)
	}
	if d := c.dayState(dayKey{"2026-06-11", "GBP", ""}); d != nil {
		t.Errorf("the ungrouped open 11 June is still there after its records moved: %+v", d)
	}
	for _, tc := range []struct{ id, day, loc string }{{"ord-b", "2026-06-10", "shop-1"}, {"ord-c", "2026-06-11", "shop-2"}} {
		if rs := c.rec(recordKey{v1.RecordKind_RECORD_KIND_ORDER, "", tc.id}); rs.day != tc.day || rs.location != tc.loc {
			t.Errorf("%s counts in %s %q, want %s %q", tc.id, rs.day, rs.location, tc.day, tc.loc)
		}
	}

	e.push(deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_ORDER, "", "ord-a", local(t, ldnZone, "2026-06-11 03:00:00").UnixMilli()))
	sums = e.push(tickEvent(exCompany, local(t, ldnZone, "2026-06-11 04:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"unsettled": "-10.00", "sales": "10.00"})
	wantSpan(t, sums[0], "", oldStart, oldEnd)
	if sums[0].GetCutoffHour() != 4 || sums[0].GetConfigVersion() != 2 {
		t.Errorf("revision 2 of 10 June states cutoff %d, config version %d; want the settings in force when it was made (4, 2)",
			sums[0].GetCutoffHour(), sums[0].GetConfigVersion())
	}

	sums = e.push(far(local(t, ldnZone, "2026-06-11 12:00:00")))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-11", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "3.00", "sales": "-3.00"})
	s11, e11 := bounds(t, 4, "2026-06-11")
	wantSpan(t, sums[0], "shop-2", s11, e11)
}

// A settings change that leaves an open day's calendar as it was keeps its
// records where they are and writes nothing for them: only the head (the
// settings themselves) changes.
func TestSettingsChangeWithSameCalendarMovesNothing(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	e.push(exOrderAt(t, "ord-a", "2026-06-10 12:00:00", "shop-1", "10.00"))
	e.r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GraceMs: 1000, ConfigVersion: 2}))
	out, err := e.r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range out.Changes {
		if k := string(ch.Key); k != string(changeKey(exCompany, kindHead, "")) {
			t.Errorf("a settings change keeping the calendar wrote %q", k)
		}
	}
	e.r.a.Commit()
}

// A new zone that agrees with the old one at an open day's start but not at
// its end still gives the day its new end. London and UTC+1 agree all
// summer; on 25 October 2026 London falls back to UTC at 02:00, so the day
// starts at the same instant in both and ends an hour apart.
func TestSettingsChangeMovesAnOpenDaysEndAlone(t *testing.T) {
	const fixed = "Etc/GMT-1" // UTC+1 all year (POSIX signs are inverted)
	e := newEx(t, ldnZone, 0, 0)
	e.push(exOrder("ord-1", local(t, ldnZone, "2026-10-25 12:00:00"), 1, "GBP", "10.00", "0"))
	e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: fixed, ConfigVersion: 2}))
	sums := e.push(closeEvent(exCompany, local(t, fixed, "2026-10-27 00:00:00").UnixMilli()))
	count(t, sums, 1)
	start, end := local(t, fixed, "2026-10-25 00:00:00"), local(t, fixed, "2026-10-26 00:00:00")
	if ls := local(t, ldnZone, "2026-10-25 00:00:00"); !ls.Equal(start) {
		t.Fatalf("the zones disagree at the day's start (%s, %s): the example does not hold", ls, start)
	}
	wantSummary(t, sums[0], "2026-10-25", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
	wantSpan(t, sums[0], "", start.UnixMilli(), end.UnixMilli())
}
