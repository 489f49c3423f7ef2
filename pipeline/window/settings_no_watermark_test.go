package window

// A settings change seals days by the watermark only once a record has set
// one: records dated at or before 1970-01-01 00:00 UTC leave it unset (0),
// and a day ending at that instant must then wait for a tick or a close.

import (
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestSettingsChangeWithNoWatermarkYetSealsNothing(t *testing.T) {
	e := newEx(t, "UTC", 0, 0)
	at := time.UnixMilli(-3600 * 1000) // 1969-12-31 23:00 UTC: its day ends at 0
	count(t, e.push(exOrder("ord-1", at, 1, "GBP", "10.00", "0")), 0)
	if wm := e.r.a.companies[exCompany].watermark; wm != 0 {
		t.Fatalf("an order dated before 1970 set the watermark to %d", wm)
	}
	count(t, e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: "UTC", ConfigVersion: 2})), 0)
	sums := e.push(closeEvent(exCompany, 0))
	count(t, sums, 1)
	wantSummary(t, sums[0], "1969-12-31", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
}
