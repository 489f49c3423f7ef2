package window

// Regression tests for bugs the property tests found: each pins the
// behaviour the aggregator now has.

import (
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/day"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// finalLines runs events in a fresh aggregator, closes far in the future
// and returns the per-account sum over all revisions of each day.
func finalLines(t *testing.T, evs ...*v1.CommerceEvent) accountSums {
	t.Helper()
	r := newRun(t, map[string]int32{exCompany: 0})
	r.apply(t, evs...)
	r.apply(t, closeEvent(exCompany, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()))
	r.commit(t)
	checkSummaries(t, r.summaries)
	return sumRevisions(t, r.summaries)
}

// A sparse delete is a version dated when the gateway received it, so the
// same records give the same days in any order: a delete that arrives
// before its record still removes it, and one between two versions removes
// both when both were modified at the source before it.
func TestDeleteIsOrderIndependent(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	settings := settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1})
	del := deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_ORDER, "", "ord-1", local(t, ldn, "2026-06-11 00:00:00").UnixMilli())
	v1e := exOrder("ord-1", at, 1, "GBP", "10.00", "0")
	v2e := exOrder("ord-1", at, 2, "GBP", "12.00", "0")

	t.Run("delete before the record", func(t *testing.T) {
		createThenDelete := finalLines(t, settings, v1e, del)
		deleteThenCreate := finalLines(t, settings, del, v1e)
		if len(createThenDelete) != 0 {
			t.Fatalf("create then delete left %v", createThenDelete)
		}
		if d := diffSums(createThenDelete, deleteThenCreate); d != "" {
			t.Errorf("the same records in another order give other days:\n%s", d)
		}
	})
	t.Run("delete between versions", func(t *testing.T) {
		a := finalLines(t, settings, v1e, v2e, del)
		b := finalLines(t, settings, v1e, del, v2e)
		if d := diffSums(a, b); d != "" {
			t.Errorf("the same records in another order give other days:\n%s", d)
		}
	})
}

// Deleting a payment moves its fees to tender:Unknown whether the fee
// arrived before or after the delete.
func TestPaymentDeleteRelinksFees(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	settings := settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1})
	pay := exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid")
	fee := exFee("fee-1", "pay-1", at, 1, "GBP", "-1.49")
	del := deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1", local(t, ldn, "2026-06-11 00:00:00").UnixMilli())

	feeLast := finalLines(t, settings, pay, del, fee)
	feeFirst := finalLines(t, settings, pay, fee, del)
	want := accountSums{}
	k := dayCur{exCompany, "2026-06-10", "GBP", ""}
	want.add(k, "payment_fees", 14900)
	want.add(k, "tender:Unknown", -14900)
	if d := diffSums(want, feeLast); d != "" {
		t.Fatalf("fee after the payment's delete:\n%s", d)
	}
	if d := diffSums(want, feeFirst); d != "" {
		t.Errorf("fee before the payment's delete keeps the deleted payment's tender:\n%s", d)
	}
}

// A settings change gives open days the new calendar's bounds: the summary
// states what it spans, and a record inside the new day does not seal the
// old one early.
func TestSettingsChangeMovesOpenDayBounds(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, 0)
	e.push(exOrder("ord-1", local(t, ldn, "2026-06-10 12:00:00"), 1, "GBP", "10.00", "0"))
	e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, CutoffHour: 6, ConfigVersion: 2}))
	sums := e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 12:00:00").UnixMilli()))
	count(t, sums, 1)
	cal, err := day.NewCalendar(ldn, 6)
	if err != nil {
		t.Fatal(err)
	}
	start, end, _ := cal.Bounds("2026-06-10")
	s := sums[0]
	if s.GetCutoffHour() != 6 || s.GetStartUnixMs() != start.UnixMilli() || s.GetEndUnixMs() != end.UnixMilli() {
		t.Errorf("summary of 2026-06-10 says cutoff %d and spans %s – %s; cutoff 6 spans %s – %s",
			s.GetCutoffHour(), time.UnixMilli(s.GetStartUnixMs()).In(mustZone(ldn)), time.UnixMilli(s.GetEndUnixMs()).In(mustZone(ldn)),
			start, end)
	}

	// The consequence for sealing: a record at 05:00 on 11 June belongs to
	// 10 June under cutoff 6, but the day sealed at midnight already.
	e2 := newEx(t, ldn, 0, 0)
	e2.push(exOrder("ord-1", local(t, ldn, "2026-06-10 12:00:00"), 1, "GBP", "10.00", "0"))
	e2.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, CutoffHour: 6, ConfigVersion: 2}))
	sums = e2.push(exOrder("ord-2", local(t, ldn, "2026-06-11 05:00:00"), 1, "GBP", "5.00", "0"))
	if len(sums) != 0 {
		t.Errorf("a record inside 10 June (cutoff 6) sealed 10 June by watermark: %v", netLines(t, sums[0]))
	}
}

// A day's record count includes every record counted in the day, with
// money or without (a Payment transaction, a Pending payment).
func TestRecordCountIncludesRecordsWithoutMoney(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	e := newEx(t, ldn, 0, 0)
	e.push(
		exOrder("ord-1", at, 1, "GBP", "85", "0"),
		exPayment("pay-1", at, 1, "GBP", "85", "Card", "Paid"),
		recordEvent(exCompany, exTenant, &v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payment", Id: "pay-1",
			EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash("ptx"),
			Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
				Id: "pay-1", TotalAmount: "85", Currency: "GBP", Type: "Payment",
				TransactionSourceRef: &v1.TransactionSourceRef{Id: "ord-1", Type: "Order"},
			}},
		}),
		exFee("pay-1", "pay-1", at, 1, "GBP", "-1.49"),
		exPayment("pay-2", at, 1, "GBP", "10", "Cash", "Pending"),
	)
	sums := e.push(far(at))
	count(t, sums, 1)
	if n := sums[0].GetRecordCount(); n != 5 {
		t.Errorf("the day holds 5 records (order, 2 payments, Payment transaction, fee); its summary says %d", n)
	}
}
