package window

// Days sealed together are summarised in order of day, currency and
// location, and chained in that order.

import (
	"bytes"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestLocationsOfOneDaySealTogetherInLocationOrder(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GroupByLocation: true, ConfigVersion: 2}))
	e.push(
		exOrderAt(t, "ord-c", "2026-06-10 09:00:00", "shop-c", "3.00"),
		exOrderAt(t, "ord-a", "2026-06-10 10:00:00", "shop-a", "1.00"),
		exOrderAt(t, "ord-b", "2026-06-10 11:00:00", "shop-b", "2.00"),
	)
	sums := e.push(far(local(t, ldnZone, "2026-06-10 12:00:00")))
	count(t, sums, 3)
	for i, tc := range []struct{ loc, total string }{{"shop-a", "1.00"}, {"shop-b", "2.00"}, {"shop-c", "3.00"}} {
		s := sums[i]
		if s.GetLocation() != tc.loc {
			t.Errorf("summary %d is of location %q, want %q", i, s.GetLocation(), tc.loc)
		}
		wantSummary(t, s, "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": tc.total, "sales": "-" + tc.total})
		if i > 0 && (s.GetSequence() != sums[i-1].GetSequence()+1 || !bytes.Equal([]byte(s.GetPrevHash()), []byte(sums[i-1].GetHash()))) {
			t.Errorf("summary %d (%s) has sequence %d after %d and does not chain to it", i, s.GetLocation(), s.GetSequence(), sums[i-1].GetSequence())
		}
	}
}
