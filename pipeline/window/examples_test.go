package window

// Worked examples: small, hand-written inputs with the exact summaries they
// must produce.

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const exCompany, exTenant = "co-example", "tenant-example"

// ex drives one company through an aggregator, committing after each push.
type ex struct {
	t *testing.T
	r *run
}

func newEx(t *testing.T, zone string, cutoff int, graceMs int64) *ex {
	t.Helper()
	e := &ex{t: t, r: newRun(t, map[string]int32{exCompany: 0})}
	e.push(settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: zone, CutoffHour: int32(cutoff), GraceMs: graceMs, ConfigVersion: 1}))
	return e
}

// push applies events as one batch and returns the summaries it emitted.
func (e *ex) push(evs ...*v1.CommerceEvent) []*v1.DaySummary {
	e.t.Helper()
	e.r.apply(e.t, evs...)
	sums := e.r.commit(e.t)
	checkSummaries(e.t, e.r.summaries)
	return sums
}

func exHash(parts ...any) []byte {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return h[:]
}

func local(t *testing.T, zone, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, mustZone(zone))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func exOrder(id string, at time.Time, srcMod int64, cur, total, tax string) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod,
		ContentHash: exHash(id, srcMod, total, tax, at.UnixMilli()),
		Body:        &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: cur, TotalAmount: total, TotalTaxAmount: tax, TotalGratuity: "0"}},
	})
}

func exPayment(id string, at time.Time, srcMod int64, cur, amount, typ, status string) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod,
		ContentHash: exHash(id, srcMod, amount, typ, status),
		Body:        &v1.RecordEvent_Payment{Payment: &v1.Payment{Id: id, Amount: amount, Currency: cur, Type: typ, Status: status}},
	})
}

func exFee(id, paymentID string, at time.Time, srcMod int64, cur, amount string) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "PaymentFee", Id: id,
		EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod, ContentHash: exHash(id, paymentID, srcMod, amount),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
			Id: id, TotalAmount: amount, Currency: cur, Type: "PaymentFee",
			TransactionSourceRef: &v1.TransactionSourceRef{Id: paymentID, Type: "Payment"},
		}},
	})
}

func far(at time.Time) *v1.CommerceEvent {
	return closeEvent(exCompany, at.AddDate(1, 0, 0).UnixMilli())
}

// wantSummary checks a summary's day, currency, revision, sealing reason and
// lines (account → net amount, debit positive).
func wantSummary(t *testing.T, s *v1.DaySummary, dayStr, cur string, rev int32, by string, lines map[string]string) {
	t.Helper()
	if s.GetBusinessDay() != dayStr || s.GetCurrency() != cur || s.GetRevision() != rev || s.GetSealedBy() != by {
		t.Errorf("summary is %s %s revision %d sealed by %s, want %s %s revision %d sealed by %s",
			s.GetBusinessDay(), s.GetCurrency(), s.GetRevision(), s.GetSealedBy(), dayStr, cur, rev, by)
	}
	if got := netLines(t, s); !maps.Equal(got, lines) {
		t.Errorf("%s %s revision %d lines = %v, want %v", dayStr, cur, rev, got, lines)
	}
}

func count(t *testing.T, sums []*v1.DaySummary, n int) {
	t.Helper()
	if len(sums) != n {
		t.Fatalf("%d summaries emitted, want %d: %v", len(sums), n, sums)
	}
}

// An order one second before midnight in New York and its payment two
// seconds later fall on different days; unsettled carries the order over.
// The second day is 8 March 2026, which is 23 hours long.
func TestExampleOrderAndPaymentAcrossMidnightNewYork(t *testing.T) {
	const ny = "America/New_York"
	e := newEx(t, ny, 0, 0)
	orderAt := local(t, ny, "2026-03-07 23:59:59")
	payAt := local(t, ny, "2026-03-08 00:00:01")
	count(t, e.push(exOrder("ord-1", orderAt, 1, "USD", "108.00", "18.00")), 0)

	// The payment's event time moves the watermark past the first day's
	// end (grace 0), so that day seals now; the payment is in the next day.
	sums := e.push(exPayment("pay-1", payAt, 1, "USD", "108.00", "Card", "Paid"))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-03-07", "USD", 1, ByWatermark, map[string]string{
		"unsettled": "108.00", "sales": "-90.00", "tax": "-18.00",
	})

	sums = e.push(far(payAt))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-03-08", "USD", 1, ByCloseUpTo, map[string]string{
		"tender:Card": "108.00", "unsettled": "-108.00",
	})
	start, end := time.UnixMilli(sums[0].GetStartUnixMs()).UTC(), time.UnixMilli(sums[0].GetEndUnixMs()).UTC()
	if want := time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("2026-03-08 starts %s, want %s (midnight EST)", start, want)
	}
	if want := time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC); !end.Equal(want) {
		t.Errorf("2026-03-08 ends %s, want %s (midnight EDT: a 23-hour day)", end, want)
	}
}

// A fee pushed before its payment takes the payment's tender once the
// payment arrives, and the day reads the same as when the payment came
// first. If the day sealed in between, the next revision moves the fee from
// tender:Unknown to the payment's tender.
func TestExampleFeeBeforePaymentGetsPaymentTender(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 10:00:00")
	fee := exFee("fee-1", "pay-1", at, 1, "GBP", "-1.49")
	pay := exPayment("pay-1", at.Add(5*time.Minute), 1, "GBP", "50.00", "Card", "Paid")
	want := map[string]string{"payment_fees": "1.49", "tender:Card": "48.51", "unsettled": "-50.00"}

	for _, order := range [][]*v1.CommerceEvent{{fee, pay}, {pay, fee}} {
		e := newEx(t, ldn, 0, 0)
		e.push(order[0])
		e.push(order[1])
		sums := e.push(far(at))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, want)
	}

	t.Run("sealed in between", func(t *testing.T) {
		e := newEx(t, ldn, 0, 0)
		e.push(fee)
		sums := e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"payment_fees": "1.49", "tender:Unknown": "-1.49"})
		count(t, e.push(pay), 0) // late: waits for the next tick or close
		sums = e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 00:00:01").UnixMilli()))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{
			"tender:Unknown": "1.49", "tender:Card": "48.51", "unsettled": "-50.00",
		})
	})
}

// Codat's linked example (reference §2.3), pushed verbatim: an order of 85,
// its Paid Card payment of 85, the Payment transaction of 85 and the
// PaymentFee of -1.49 that reuses the payment's id. 85 counts once (the
// Payment record; Order.payments[] and the Payment transaction carry no
// money) and the fee once.
func TestExampleCodatLinkedExampleCountsOnce(t *testing.T) {
	const orderID, paymentID = "1f463dc2-…", "0944c8e6-…"
	ms := func(s string) int64 {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMilli()
	}
	rec := func(re *v1.RecordEvent) *v1.CommerceEvent {
		re.ContentHash = exHash(re.String())
		return recordEvent(exCompany, exTenant, re)
	}
	order := rec(&v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: orderID,
		EventUnixMs: ms("2022-02-14T15:46:18Z"), SourceModifiedUnixMs: ms("2022-02-14T15:46:18Z"),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{
			Id: orderID, OrderNumber: orderID, Country: "GB ", Currency: "GBP",
			CreatedDate: "2022-02-14T15:46:18Z", ClosedDate: "2022-02-14T15:46:18Z",
			TotalAmount: "85", TotalRefund: "0", TotalTaxAmount: "0", TotalDiscount: "0", TotalGratuity: "0",
			OrderLineItems: []*v1.OrderLineItem{{
				Id: "01e1f4f6-…", Quantity: "1", TaxPercentage: "0", TotalAmount: "85", TotalTaxAmount: "0", UnitPrice: "85",
			}},
			LocationRef:        &v1.Ref{Id: "52a50627-…"},
			SourceModifiedDate: "2022-02-14T15:46:18Z",
		}},
	})
	payment := rec(&v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: paymentID,
		EventUnixMs: ms("2022-02-14T15:46:17Z"), SourceModifiedUnixMs: ms("2022-02-14T15:46:20Z"),
		Body: &v1.RecordEvent_Payment{Payment: &v1.Payment{
			Id: paymentID, Amount: "85", Currency: "GBP", Type: "Card", Status: "Paid",
			DueDate: "2022-02-14T15:46:17Z", CreatedDate: "2022-02-14T15:46:17Z",
			ModifiedDate: "2022-02-15T06:53:11Z", SourceModifiedDate: "2022-02-14T15:46:20Z",
		}},
	})
	paymentTx := rec(&v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payment", Id: paymentID,
		EventUnixMs: ms("2022-02-14T15:46:17Z"), SourceModifiedUnixMs: ms("2022-02-14T15:46:20Z"),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
			Id: paymentID, TotalAmount: "85", Currency: "GBP", Type: "Payment",
			TransactionSourceRef: &v1.TransactionSourceRef{Id: orderID, Type: "Order"},
		}},
	})
	fee := rec(&v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "PaymentFee", Id: paymentID,
		EventUnixMs: ms("2022-02-14T15:46:17Z"), SourceModifiedUnixMs: ms("2022-02-14T15:46:20Z"),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
			Id: paymentID, TotalAmount: "-1.49", Currency: "GBP", Type: "PaymentFee",
			TransactionSourceRef: &v1.TransactionSourceRef{Id: paymentID, Type: "Payment"},
		}},
	})
	all := []*v1.CommerceEvent{order, payment, paymentTx, fee}
	want := map[string]string{"sales": "-85.00", "tender:Card": "83.51", "payment_fees": "1.49"}

	// In the published order, and with the fee first.
	for _, evs := range [][]*v1.CommerceEvent{all, {fee, paymentTx, payment, order}} {
		e := newEx(t, "Europe/London", 0, 0)
		count(t, e.push(evs...), 0)
		sums := e.push(closeEvent(exCompany, ms("2022-02-15T00:00:00Z")))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2022-02-14", "GBP", 1, ByCloseUpTo, want)
		// Pushed again, verbatim: nothing changes.
		count(t, e.push(all...), 0)
		count(t, e.push(far(time.UnixMilli(ms("2022-02-15T00:00:00Z")))), 0)
	}
}

// A record arriving after its day sealed makes revision 2, holding only the
// difference, chained after revision 1. It is not emitted by the late
// record itself but by the next clock tick (or close-up-to), so a burst of
// late records becomes one revision.
func TestExampleLateRecordMakesDifferenceRevision(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, hourMs)
	e.push(exOrder("ord-a", local(t, ldn, "2026-06-10 12:00:00"), 1, "GBP", "10.00", "0"))
	// The day ends at midnight; with an hour of grace a tick at 00:59:59
	// does not seal it and one at 01:00 does.
	count(t, e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 00:59:59").UnixMilli())), 0)
	sums := e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 01:00:00").UnixMilli()))
	count(t, sums, 1)
	rev1 := sums[0]
	wantSummary(t, rev1, "2026-06-10", "GBP", 1, ByClockTick, map[string]string{"unsettled": "10.00", "sales": "-10.00"})

	// Late, and later than the watermark: still nothing until the tick.
	count(t, e.push(exOrder("ord-b", local(t, ldn, "2026-06-10 18:00:00"), 1, "GBP", "2.50", "0.50")), 0)
	count(t, e.push(exOrder("ord-c", local(t, ldn, "2026-06-10 18:30:00"), 1, "GBP", "1.00", "0")), 0)
	sums = e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 02:00:00").UnixMilli()))
	count(t, sums, 1)
	rev2 := sums[0]
	wantSummary(t, rev2, "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"unsettled": "3.50", "sales": "-3.00", "tax": "-0.50"})
	if rev2.GetSequence() != rev1.GetSequence()+1 || rev2.GetPrevHash() != rev1.GetHash() {
		t.Errorf("revision 2 is sequence %d after %q, want %d after %q", rev2.GetSequence(), rev2.GetPrevHash(), rev1.GetSequence()+1, rev1.GetHash())
	}
	if rev2.GetRecordCount() != 3 {
		t.Errorf("revision 2 record count %d, want 3 (records now in the day)", rev2.GetRecordCount())
	}

	// And a late change emitted by a close-up-to: the order's new version
	// replaces its old contribution.
	count(t, e.push(exOrder("ord-a", local(t, ldn, "2026-06-10 12:00:00"), 2, "GBP", "12.00", "2.00")), 0)
	sums = e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 3, ByCloseUpTo, map[string]string{"unsettled": "2.00", "tax": "-2.00"})
}

// A change to a sealed day that is reverted before the next tick nets to
// zero: no revision is emitted. So does a change that only an older or
// duplicate version would have made.
func TestExampleChangeThenRevertEmitsNothing(t *testing.T) {
	const tokyo = "Asia/Tokyo"
	e := newEx(t, tokyo, 4, 0)
	at := local(t, tokyo, "2026-06-11 03:00:00") // before the 04:00 cutoff: business day 10 June
	e.push(exOrder("ord-1", at, 100, "JPY", "1000", "91"))
	sums := e.push(tickEvent(exCompany, local(t, tokyo, "2026-06-11 04:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "JPY", 1, ByClockTick, map[string]string{"unsettled": "1000.00", "sales": "-909.00", "tax": "-91.00"})

	e.push(exOrder("ord-1", at, 101, "JPY", "1200", "109"))
	e.push(exOrder("ord-1", at, 102, "JPY", "1000", "91"))
	e.push(exOrder("ord-1", at, 99, "JPY", "5000", "0")) // older: ignored
	count(t, e.push(tickEvent(exCompany, local(t, tokyo, "2026-06-12 05:00:00").UnixMilli())), 0)
	count(t, e.push(far(at)), 0)
}

// A payment's status moves its money in and out of its day: Pending counts
// nothing, Paid counts, Failed takes it out again, each after sealing as a
// new revision.
func TestExamplePaymentStatusMovesMoney(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 09:00:00")
	tick := func(h int) *v1.CommerceEvent {
		return tickEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").Add(time.Duration(h)*time.Hour).UnixMilli())
	}
	e := newEx(t, ldn, 0, 0)
	e.push(exPayment("pay-1", at, 1, "GBP", "20.00", "Cash", "Pending"))
	count(t, e.push(tick(0)), 0) // sealed, but nothing to post
	e.push(exPayment("pay-1", at, 2, "GBP", "20.00", "Cash", "Paid"))
	sums := e.push(tick(1))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByClockTick, map[string]string{"tender:Cash": "20.00", "unsettled": "-20.00"})
	e.push(exPayment("pay-1", at, 3, "GBP", "20.00", "Cash", "Failed"))
	sums = e.push(tick(2))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"tender:Cash": "-20.00", "unsettled": "20.00"})
	// A sparse delete of the failed payment changes no money: nothing.
	e.push(deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1", local(t, ldn, "2026-06-12 00:00:00").UnixMilli()))
	count(t, e.push(tick(3)), 0)
}

// Deleting a record of a sealed day posts its reversal as the next
// revision; a sparse transaction delete {id} removes the fee that shares
// the id too.
func TestExampleDeleteAfterSealReverses(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 09:00:00")
	e := newEx(t, ldn, 0, 0)
	e.push(
		exOrder("ord-1", at, 1, "GBP", "30.00", "5.00"),
		exPayment("pay-1", at, 1, "GBP", "30.00", "Card", "Paid"),
		exFee("pay-1", "pay-1", at, 1, "GBP", "-0.45"),
	)
	sums := e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
		"sales": "-25.00", "tax": "-5.00", "tender:Card": "29.55", "payment_fees": "0.45",
	})
	e.push(deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_TRANSACTION, "", "pay-1", local(t, ldn, "2026-06-12 00:00:00").UnixMilli()))
	sums = e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"tender:Card": "0.45", "payment_fees": "-0.45"})
}

// A version the day cannot hold (its total would overflow int64) is refused:
// Apply returns why, counts it refused, and the day keeps the old version's
// contribution, so the next version replaces it exactly once. (Regression
// test: before d838350 swap removed the old contribution first and returned
// the error half-done; the job commits after an Apply error, so the day was
// left one record short for good.)
func TestRefusedVersionLeavesDayIntact(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	r := newRun(t, map[string]int32{exCompany: 0})
	r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1}))
	const maxAmount = "100000000000" // money.MaxAbs
	// 9,223 orders of 10^11 bring unsettled to 9.223e18 of int64's 9.2234e18.
	for i := range 9222 {
		r.apply(t, exOrder(fmt.Sprintf("big-%d", i), at, 1, "USD", maxAmount, "0"))
	}
	r.apply(t, exOrder("x", at, 1, "USD", maxAmount, "0"))
	// Version 2 of x owes twice as much (gratuity): the day cannot hold it.
	v2 := exOrder("x", at, 2, "USD", maxAmount, "0")
	v2.GetRecord().GetOrder().TotalGratuity = maxAmount
	before := dumpState(r.a)
	if err := r.a.Apply(0, v2); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("Apply of a version the day cannot hold: err %v, want an overflow refused", err)
	}
	if d := firstDiff(before, dumpState(r.a)); d != "" {
		t.Errorf("the refused version changed the state: %s", d)
	}
	// Version 3 is small; afterwards the day must hold 9,222 big orders and
	// x v3. (Checked on the day's state: a summary line this large is
	// beyond what money.Parse accepts back, see the report.)
	r.apply(t, exOrder("x", at, 3, "USD", "1", "0"))
	r.commit(t)
	d := r.a.companies[exCompany].dayState(dayKey{day: "2026-06-10", currency: "USD"})
	want := money.Amount(9222*100_000_000_000*10000 + 10000)
	if got := d.totals.get(day.Unsettled); got != want {
		t.Errorf("a refused version corrupted the day: unsettled %s, want %s (short by %s)", got, want, want-got)
	}
	if d.records != 9223 {
		t.Errorf("the day counts %d records, want 9223", d.records)
	}
	if st := r.a.Stats(); st.Refused != 1 || st.Applied != 9225 {
		t.Errorf("stats %+v, want 9225 applied (settings and 9,224 orders) and 1 refused", st)
	}
}
