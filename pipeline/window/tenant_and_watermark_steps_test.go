package window

// Two things each record application decides besides its money: the tenant
// a company's summaries carry, and whether the record is a watermark step.

import (
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A company's summaries carry the tenant of the first event that names one:
// an earlier event naming none (a clock tick) leaves the company without a
// tenant rather than fixing it empty, and a later event naming another
// tenant does not take the company over.
func TestSummaryCarriesTheFirstTenantNamedForTheCompany(t *testing.T) {
	r := newRun(t, map[string]int32{exCompany: 0})
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	r.apply(t, tickEvent(exCompany, at.UnixMilli()))
	if got := r.a.companies[exCompany].tenant; got != "" {
		t.Fatalf("a tick naming no tenant gave the company tenant %q", got)
	}
	r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, ConfigVersion: 1}))
	order := exOrder("ord-1", at, 1, "GBP", "10.00", "0")
	order.TenantId = "tenant-other"
	r.apply(t, order, far(at))
	sums := r.commit(t)
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
	if got := sums[0].GetTenantId(); got != exTenant {
		t.Errorf("summary carries tenant %q, want %q (the first tenant named for the company)", got, exTenant)
	}
}

// A record dated exactly at the watermark does not move it, so it is no
// watermark step: a day a late record opened behind the watermark waits
// for a later event time (or a tick or close-up-to), and then seals whole.
func TestRecordAtTheWatermarkDoesNotSealALateDay(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	wm := local(t, ldnZone, "2026-06-11 10:00:00")
	count(t, e.push(exOrder("ord-2", wm, 1, "GBP", "20.00", "0")), 0)
	late := local(t, ldnZone, "2026-06-10 12:00:00")
	count(t, e.push(exOrder("ord-1", late, 1, "GBP", "10.00", "0")), 0)
	if sums := e.push(exPayment("pay-1", wm, 1, "GBP", "5.00", "Cash", "Paid")); len(sums) != 0 {
		t.Fatalf("a record at the watermark sealed %s", sums[0].GetBusinessDay())
	}
	count(t, e.push(exPayment("pay-0", late.Add(time.Hour), 1, "GBP", "4.00", "Cash", "Paid")), 0)
	sums := e.push(exPayment("pay-2", wm.Add(time.Millisecond), 1, "GBP", "6.00", "Cash", "Paid"))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, map[string]string{
		"unsettled": "6.00", "sales": "-10.00", "tender:Cash": "4.00",
	})
}
