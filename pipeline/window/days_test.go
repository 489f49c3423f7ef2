package window

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The days the product must get right, one test each. A week's grace keeps
// sealing to the explicit close-up-to, as a sync/latest would.

const week = int64(7 * 24 * time.Hour / time.Millisecond)

func byDay(sums []*v1.DaySummary) map[string]*v1.DaySummary {
	out := map[string]*v1.DaySummary{}
	for _, s := range sums {
		out[s.GetBusinessDay()+" "+s.GetCurrency()] = s
	}
	return out
}

func exPay(id string, at time.Time, cur, amount, typ string) *v1.CommerceEvent {
	return exPayment(id, at, 1, cur, amount, typ, "Paid")
}

// London's clocks change on 29 March and 25 October 2026: those business
// days are 23 and 25 hours long, and a record at 00:30 on the next morning
// falls on the next day either way.
func TestLondonDaysOf23And25Hours(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, week)
	sums := e.push(
		exOrder("spring", local(t, ldn, "2026-03-29 23:30:00"), 1, "GBP", "10.00", "0"),
		exOrder("autumn", local(t, ldn, "2026-10-25 23:30:00"), 1, "GBP", "20.00", "0"),
		exOrder("after", local(t, ldn, "2026-10-26 00:30:00"), 1, "GBP", "5.00", "0"),
	)
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ldn, "2026-10-27 00:00:00").UnixMilli()))...))
	for d, hours := range map[string]int64{"2026-03-29 GBP": 23, "2026-10-25 GBP": 25, "2026-10-26 GBP": 24} {
		s := days[d]
		if s == nil {
			t.Fatalf("no summary for %s", d)
		}
		if got := (s.GetEndUnixMs() - s.GetStartUnixMs()) / 3_600_000; got != hours {
			t.Errorf("%s is %d hours long, want %d", d, got, hours)
		}
	}
	wantSummary(t, days["2026-10-25 GBP"], "2026-10-25", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "20.00", "sales": "-20.00"})
}

// A cutoff at 02:00 in New York falls in the spring-forward gap on 8 March
// 2026: that business day starts at 03:00, the first instant after the gap.
func TestCutoffHourInADSTGap(t *testing.T) {
	const ny = "America/New_York"
	e := newEx(t, ny, 2, week)
	sums := e.push(
		exOrder("before", local(t, ny, "2026-03-08 01:59:00"), 1, "USD", "1.00", "0"),
		exOrder("after", local(t, ny, "2026-03-08 03:00:00"), 1, "USD", "2.00", "0"),
	)
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ny, "2026-03-10 00:00:00").UnixMilli()))...))
	if s := days["2026-03-07 USD"]; s == nil || netLines(t, s)["sales"] != "-1.00" {
		t.Errorf("01:59 should belong to 7 March: %v", days)
	}
	s := days["2026-03-08 USD"]
	if s == nil || netLines(t, s)["sales"] != "-2.00" {
		t.Fatalf("03:00 should open 8 March: %v", days)
	}
	if start := time.UnixMilli(s.GetStartUnixMs()).In(mustZone(ny)); start.Hour() != 3 {
		t.Errorf("8 March starts at %s, want 03:00 (the end of the gap)", start)
	}
}

// An order at 23:59:59.999 local and its refund after midnight: the sale
// stays on its day, the refund lands on the next.
func TestOrderAtTheLastMillisecondRefundedAfterMidnight(t *testing.T) {
	const ny = "America/New_York"
	e := newEx(t, ny, 0, week)
	last := local(t, ny, "2026-06-10 23:59:59").Add(999 * time.Millisecond)
	next := local(t, ny, "2026-06-11 00:00:01")
	sums := e.push(
		exOrder("o-1", last, 1, "USD", "12.00", "2.00"),
		exPay("p-1", last, "USD", "12.00", "Card"),
		exOrder("r-1", next, 1, "USD", "-12.00", "-2.00"),
		exPay("p-r-1", next, "USD", "-12.00", "Card"),
	)
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ny, "2026-06-12 00:00:00").UnixMilli()))...))
	wantSummary(t, days["2026-06-10 USD"], "2026-06-10", "USD", 1, ByCloseUpTo, map[string]string{"tender:Card": "12.00", "sales": "-10.00", "tax": "-2.00"})
	wantSummary(t, days["2026-06-11 USD"], "2026-06-11", "USD", 1, ByCloseUpTo, map[string]string{"tender:Card": "-12.00", "sales": "10.00", "tax": "2.00"})
}

// A JPY day is in whole yen: amounts pushed with decimals round per record,
// the remainder on rounding.
func TestJPYDay(t *testing.T) {
	const tokyo = "Asia/Tokyo"
	e := newEx(t, tokyo, 0, week)
	at := local(t, tokyo, "2026-06-10 12:00:00")
	sums := e.push(exOrder("o-1", at, 1, "JPY", "1100.4", "100.0"), exPay("p-1", at, "JPY", "1100.4", "Cash"))
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, tokyo, "2026-06-11 00:00:00").UnixMilli()))...))
	s := days["2026-06-10 JPY"]
	if s == nil {
		t.Fatal("no JPY summary")
	}
	for acct, v := range netLines(t, s) {
		if a, _ := money.Parse(v); !a.FitsDecimals(0) {
			t.Errorf("%s = %s is not whole yen", acct, v)
		}
	}
	wantSummary(t, s, "2026-06-10", "JPY", 1, ByCloseUpTo, map[string]string{"tender:Cash": "1100.00", "sales": "-1000.00", "tax": "-100.00"})
}

// Three currencies in a day are three summaries, each balanced on its own.
func TestThreeCurrencyDay(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, week)
	at := local(t, ldn, "2026-06-10 12:00:00")
	sums := e.push(
		exOrder("g", at, 1, "GBP", "10.00", "0"), exPay("pg", at, "GBP", "10.00", "Card"),
		exOrder("u", at, 1, "USD", "20.00", "0"), exPay("pu", at, "USD", "20.00", "Card"),
		exOrder("j", at, 1, "JPY", "3000", "0"), exPay("pj", at, "JPY", "3000", "Card"),
	)
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))...))
	for cur, total := range map[string]string{"GBP": "10.00", "USD": "20.00", "JPY": "3000.00"} {
		wantSummary(t, days["2026-06-10 "+cur], "2026-06-10", cur, 1, ByCloseUpTo, map[string]string{"tender:Card": total, "sales": "-" + total})
	}
}

// A day with only refunds posts them alone.
func TestRefundsOnlyDay(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, week)
	at := local(t, ldn, "2026-06-10 12:00:00")
	sums := e.push(exOrderOf("r-1", at, 1, [2]string{"x", "-6.00"}), exPay("p-1", at, "GBP", "-6.00", "Card"))
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))...))
	wantSummary(t, days["2026-06-10 GBP"], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"refunds": "6.00", "tender:Card": "-6.00"})
}

// A gift card sold is owed to its holder; spending it later is a tender of
// type Prepaid, which the merchant maps to that liability.
func TestGiftCardSaleAndRedemption(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, week)
	d1, d2 := local(t, ldn, "2026-06-10 12:00:00"), local(t, ldn, "2026-06-11 12:00:00")
	sums := e.push(
		exProduct("gift", local(t, ldn, "2026-01-01 00:00:00"), "", true),
		exOrderOf("sale", d1, 1, [2]string{"gift", "50.00"}), exPay("p-sale", d1, "GBP", "50.00", "Card"),
		exOrderOf("spend", d2, 1, [2]string{"x", "30.00"}), exPay("p-spend", d2, "GBP", "30.00", "Prepaid"),
	)
	days := byDay(append(sums, e.push(closeEvent(exCompany, local(t, ldn, "2026-06-12 00:00:00").UnixMilli()))...))
	wantSummary(t, days["2026-06-10 GBP"], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"tender:Card": "50.00", "gift_card_liability": "-50.00"})
	wantSummary(t, days["2026-06-11 GBP"], "2026-06-11", "GBP", 1, ByCloseUpTo, map[string]string{"tender:Prepaid": "30.00", "sales": "-30.00"})
}

// A day of many orders pushed with four-decimal line amounts: each order is
// rounded to pence on its own, and the day's totals are the sums of what
// each order rounds to.
func TestManyOrderDayRoundsPerOrder(t *testing.T) {
	n := 20_000
	if os.Getenv("COMMERCESYNC_LONG") != "" {
		n = 100_000
	}
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, week)
	at := local(t, ldn, "2026-06-10 12:00:00")
	var wantSales, wantOwed, wantRounding int64 // in pence
	var batch []*v1.CommerceEvent
	for i := range n {
		// Three lines of x.xxx5-ish amounts whose sum is the order total.
		a, b, c := int64(10000+i%997*7), int64(2345+i%13), int64(1+i%5) // ten-thousandths
		total := a + b + c
		o := &v1.Order{Id: fmt.Sprint("o-", i), Currency: "GBP", TotalAmount: money.Amount(total).String(), TotalTaxAmount: "0"}
		for j, v := range []int64{a, b, c} {
			o.OrderLineItems = append(o.OrderLineItems, &v1.OrderLineItem{Id: fmt.Sprint(j), TotalAmount: money.Amount(v).String(), TotalTaxAmount: "0"})
		}
		batch = append(batch, recordEvent(exCompany, exTenant, &v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: o.Id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1,
			ContentHash: exHash(o.Id), Body: &v1.RecordEvent_Order{Order: o},
		}))
		owed := roundHalfAway(total)
		sales := roundHalfAway(a + b + c)
		wantOwed += owed
		wantSales += sales
		wantRounding += owed - sales
		if len(batch) == 5000 {
			e.push(batch...)
			batch = batch[:0]
		}
	}
	e.push(batch...)
	days := byDay(e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli())))
	got := netLines(t, days["2026-06-10 GBP"])
	if got["unsettled"] != money.FromMinor(wantOwed, 2).String() || got["sales"] != money.FromMinor(-wantSales, 2).String() {
		t.Errorf("%d orders: unsettled %s, sales %s; want %s and %s (per-order rounding)", n, got["unsettled"], got["sales"],
			money.FromMinor(wantOwed, 2), money.FromMinor(-wantSales, 2))
	}
	if wantRounding == 0 && got["rounding"] != "" {
		t.Errorf("rounding %s, want none", got["rounding"])
	}
}

// roundHalfAway rounds ten-thousandths to pence, half away from zero.
func roundHalfAway(v int64) int64 {
	q, r := v/100, v%100
	if r >= 50 {
		q++
	}
	return q
}
