package window

// A parked day's reason is cut to MaxReasonBytes on a rune boundary, and
// the aggregator's statistics count each parked day once.

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// agParkWithReason parks 10 June (one order) with the given reason and
// returns the parked day the batch reported.
func agParkWithReason(t *testing.T, reason string) ParkedDay {
	t.Helper()
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	e.push(exOrder("ord-1", at, 1, "GBP", "10.00", "0"))
	e.r.a.ParkDay(DayRef{exCompany, "2026-06-10", "GBP", ""}, reason, 3)
	count(t, e.push(far(at)), 0)
	if len(e.r.parked) != 1 {
		t.Fatalf("parked %+v, want 10 June alone", e.r.parked)
	}
	p := e.r.parked[0]
	if p.Day != "2026-06-10" || p.Attempts != 3 || p.Revision != 1 {
		t.Fatalf("parked %+v, want 10 June revision 1 after 3 attempts", p)
	}
	return p
}

func TestParkedReasonWithinTheLimitIsKeptWhole(t *testing.T) {
	reason := strings.Repeat("r", MaxReasonBytes)
	if got := agParkWithReason(t, reason).Reason; got != reason {
		t.Errorf("a reason of exactly %d bytes became %d bytes %q…", MaxReasonBytes, len(got), got[:min(len(got), 20)])
	}
}

// A long ASCII reason keeps its first MaxReasonBytes-3 bytes and ends in
// "…" (3 bytes): exactly MaxReasonBytes.
func TestParkedReasonPastTheLimitKeepsItsLongestPrefixAndMarksTheCut(t *testing.T) {
	reason := strings.Repeat("abc", MaxReasonBytes)
	want := reason[:MaxReasonBytes-len("…")] + "…"
	if got := agParkWithReason(t, reason).Reason; got != want {
		t.Errorf("the parked reason is %d bytes ending %q, want %d bytes ending %q",
			len(got), got[max(0, len(got)-12):], len(want), want[len(want)-12:])
	}
}

// A cut that falls inside a two-byte rune drops the rune's first byte, so
// the reason stays valid UTF-8, one byte short of the limit.
func TestParkedReasonCutInsideARuneDropsThePartialRune(t *testing.T) {
	reason := strings.Repeat("é", MaxReasonBytes) // 2 bytes each; the cut at 4093 splits one
	got := agParkWithReason(t, reason).Reason
	want := strings.Repeat("é", (MaxReasonBytes-len("…"))/2) + "…"
	if got != want || !utf8.ValidString(got) {
		t.Errorf("the parked reason is %d bytes (valid UTF-8: %t) ending %q, want %d bytes ending %q",
			len(got), utf8.ValidString(got), got[max(0, len(got)-8):], len(want), want[len(want)-8:])
	}
}

// Stats count a parked day once, when its batch commits.
func TestStatsCountEachParkedDayOnce(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	e.push(exOrder("ord-1", at, 1, "GBP", "10.00", "0"), exOrder("ord-2", at.AddDate(0, 0, 1), 1, "GBP", "5.00", "0"))
	if n := e.r.a.Stats().DaysParked; n != 0 {
		t.Fatalf("DaysParked is %d before any day parked", n)
	}
	e.r.a.ParkDay(DayRef{exCompany, "2026-06-11", "GBP", ""}, "could not write", 1)
	count(t, e.push(far(at)), 0)
	if n := e.r.a.Stats().DaysParked; n != 1 || len(e.r.parked) != 1 {
		t.Errorf("after 11 June parked: DaysParked %d, %d parked days reported; want 1 and 1", n, len(e.r.parked))
	}
}
