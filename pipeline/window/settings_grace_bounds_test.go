package window

// Settings: the grace they may give (0 to a year, both ends included), and
// the new bounds every open day takes, whether or not the days before it
// keep theirs.

import (
	"fmt"
	"strings"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func agSettingsWithGrace(g int64) *v1.CommerceEvent {
	return settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GraceMs: g, ConfigVersion: 2})
}

func TestSettingsGraceFromZeroToAYearIsAccepted(t *testing.T) {
	for _, g := range []int64{0, 1, maxGraceMs} {
		e := newEx(t, ldnZone, 0, 0)
		if err := e.r.a.Apply(0, agSettingsWithGrace(g)); err != nil {
			t.Errorf("settings with graceMs %d refused: %v", g, err)
		}
		if got := e.r.a.companies[exCompany].grace(); got != g {
			t.Errorf("settings with graceMs %d give a grace of %d", g, got)
		}
		e.r.commit(t)
	}
}

func TestSettingsGraceBelowZeroOrPastAYearIsRefusedNamingTheField(t *testing.T) {
	for _, g := range []int64{-1, maxGraceMs + 1, -maxGraceMs - 1} {
		e := newEx(t, ldnZone, 0, 0)
		err := e.r.a.Apply(0, agSettingsWithGrace(g))
		want := fmt.Sprintf("settings.graceMs is %d; it must be between 0 and %d (a year)", g, int64(maxGraceMs))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("settings with graceMs %d: error %v, want %q", g, err, want)
		}
		if got := e.r.a.companies[exCompany].grace(); got != 0 {
			t.Errorf("refused settings with graceMs %d left a grace of %d", g, got)
		}
		e.r.commit(t)
	}
}

// London and UTC+1 agree all summer: 24 October 2026 has the same bounds in
// both, and 25 October (London falls back at 02:00) starts at the same
// instant and ends an hour apart. With both days open, the change to UTC+1
// leaves 24 October as it was and still gives 25 October its new end.
func TestSettingsChangeGivesEveryOpenDayItsNewBoundsPastOneThatKeepsThem(t *testing.T) {
	const fixed = "Etc/GMT-1" // UTC+1 all year
	grace := int64(72 * 3600 * 1000)
	e := newEx(t, ldnZone, 0, grace)
	e.push(
		exOrder("ord-24", local(t, ldnZone, "2026-10-24 12:00:00"), 1, "GBP", "10.00", "0"),
		exOrder("ord-25", local(t, ldnZone, "2026-10-25 12:00:00"), 1, "GBP", "7.00", "0"),
	)
	count(t, e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: fixed, GraceMs: grace, ConfigVersion: 2})), 0)
	sums := e.push(closeEvent(exCompany, local(t, fixed, "2026-10-27 00:00:00").UnixMilli()))
	count(t, sums, 2)
	for i, tc := range []struct{ day, from, to, total string }{
		{"2026-10-24", "2026-10-24 00:00:00", "2026-10-25 00:00:00", "10.00"},
		{"2026-10-25", "2026-10-25 00:00:00", "2026-10-26 00:00:00", "7.00"},
	} {
		wantSummary(t, sums[i], tc.day, "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": tc.total, "sales": "-" + tc.total})
		wantSpan(t, sums[i], "", local(t, fixed, tc.from).UnixMilli(), local(t, fixed, tc.to).UnixMilli())
	}
	if a, b := local(t, ldnZone, "2026-10-25 00:00:00"), local(t, fixed, "2026-10-25 00:00:00"); !a.Equal(b) {
		t.Fatalf("the zones disagree at 25 October's start (%s, %s): the example does not hold", a, b)
	}
	if a, b := local(t, ldnZone, "2026-10-26 00:00:00"), local(t, fixed, "2026-10-26 00:00:00"); a.Equal(b) {
		t.Fatalf("the zones agree at 25 October's end (%s): the example does not hold", a)
	}
}
