package window

import (
	"slices"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func exLinesOrder(id string, at time.Time, srcMod int64, total string, lines ...*v1.OrderLineItem) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod,
		ContentHash: exHash(id, srcMod, total),
		Body:        &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: total, OrderLineItems: lines}},
	})
}

// An order whose lines miss its total by more than a penny a line is named
// on its day's revision instead of posted; the same exception rides on the
// next revision (a late payment), and the version that corrects it posts
// the order and clears the exception.
func TestExampleOrderExceptionRidesUntilCorrected(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	line := &v1.OrderLineItem{TotalAmount: "12.00", TotalTaxAmount: "2.00", TaxPercentage: "20.00"}
	e := newEx(t, ldn, 0, 0)
	e.push(exLinesOrder("ord-1", at, 1, "12.50", line))
	sums := e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{})
	if ids := exceptionIDs(sums[0]); !slices.Equal(ids, []string{"ord-1"}) {
		t.Fatalf("revision 1 names %v, want [ord-1]", ids)
	}

	e.push(exPayment("pay-1", at, 1, "GBP", "12.00", "Card", "Paid"))
	sums = e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByCloseUpTo, map[string]string{"tender:Card": "12.00", "unsettled": "-12.00"})
	if ids := exceptionIDs(sums[0]); !slices.Equal(ids, []string{"ord-1"}) {
		t.Fatalf("revision 2 names %v, want the exception of revision 1 still", ids)
	}

	e.push(exLinesOrder("ord-1", at, 2, "12.01", line))
	sums = e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 3, ByCloseUpTo, map[string]string{
		"unsettled": "12.01", "sales": "-10.00", "tax:rate:20": "-2.00", "rounding": "-0.01",
	})
	if ids := exceptionIDs(sums[0]); len(ids) != 0 {
		t.Fatalf("revision 3 names %v, want no exceptions", ids)
	}
}

// A payout follows the payments it settles: settling a payment not pushed
// yet, it empties payout_clearing; once the payment arrives (after the
// payout's day sealed) a revision moves it to the payment's tender; a second
// payment of another type moves it back to payout_clearing.
func TestExamplePayoutFollowsLatePayments(t *testing.T) {
	const ldn = "Europe/London"
	d1, d2 := local(t, ldn, "2026-06-10 12:00:00"), local(t, ldn, "2026-06-11 12:00:00")
	e := newEx(t, ldn, 0, 0)
	sums := e.push(exPayout("Payout", "po-1", d2, "-30.00", "pay-1", "pay-2"), exPayment("pay-1", d1, 1, "GBP", "10.00", "Card", "Paid"), far(d2))
	var payoutDay []*v1.DaySummary
	for _, s := range sums {
		if s.GetBusinessDay() == "2026-06-11" {
			payoutDay = append(payoutDay, s)
		}
	}
	count(t, payoutDay, 1)
	wantSummary(t, payoutDay[0], "2026-06-11", "GBP", 1, ByCloseUpTo, map[string]string{"payouts": "30.00", "payout_clearing": "-30.00"})

	sums = e.push(exPayment("pay-2", d1, 1, "GBP", "20.00", "Card", "Pending"), far(d2))
	payoutDay = slices.DeleteFunc(sums, func(s *v1.DaySummary) bool { return s.GetBusinessDay() != "2026-06-11" })
	count(t, payoutDay, 1)
	wantSummary(t, payoutDay[0], "2026-06-11", "GBP", 2, ByCloseUpTo, map[string]string{"payout_clearing": "30.00", "tender:Card": "-30.00"})

	sums = e.push(exPayment("pay-2", d1, 2, "GBP", "20.00", "Cash", "Paid"), far(d2))
	payoutDay = slices.DeleteFunc(sums, func(s *v1.DaySummary) bool { return s.GetBusinessDay() != "2026-06-11" })
	count(t, payoutDay, 1)
	wantSummary(t, payoutDay[0], "2026-06-11", "GBP", 3, ByCloseUpTo, map[string]string{"payout_clearing": "-30.00", "tender:Card": "30.00"})
}
