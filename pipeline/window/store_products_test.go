package window

import (
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Found by TestPropertyDeterministicAcrossBatching: an order in the store
// that a company's first product read but did not move (it does not sell
// it), then a product it sells, in the same batch. The store's product index is only
// written at Commit, so the second product finds the order through the
// index of the records in memory; it must be there. The day ends as if each
// event were its own batch: the second product's gift card makes 5.00 of the
// order a gift-card liability.
func TestStoreSecondProductInTheFirstProductsBatchFindsItsOrders(t *testing.T) {
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	order := exOrderOf("ord-1", at, 1, [2]string{"p1", "10.00"}, [2]string{"p2", "5.00"})
	p1 := exProduct("p9", at.Add(-time.Hour), "food", false) // sold by no order here
	p2 := exProduct("p2", at.Add(-time.Hour), "cards", true)
	closeDay := closeEvent(exCompany, time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC).UnixMilli())

	together := newRun(t, map[string]int32{exCompany: 0})
	together.apply(t, storeSettings(), order)
	together.commit(t)
	together.apply(t, p1, p2, closeDay)
	together.commit(t)

	apart := newRun(t, map[string]int32{exCompany: 0})
	for _, ev := range []*v1.CommerceEvent{storeSettings(), order, p1, p2, closeDay} {
		apart.apply(t, ev)
		apart.commit(t)
	}
	sameSummaries(t, "first and second product in one batch vs apart", apart.summaries, together.summaries)
	if d := diffStates(apart.log.state(), together.log.state()); d != "" {
		t.Fatalf("changelogs differ:\n%s", d)
	}
	lines := netLines(t, together.summaries[len(together.summaries)-1])
	if lines["gift_card_liability"] != "-5.00" || lines["sales"] != "-10.00" {
		t.Fatalf("the day's lines are %v; want 10.00 sold and a 5.00 gift card", lines)
	}
}

// A payment id that another starts, followed by a zero byte, finds only its
// own fees in the store's index: the other's entries share its prefix but
// are none of its. Anything may write to commerce.events, so ids may hold a
// zero byte; reading such an entry must not stop the window.
func TestStoreIndexOfAnIdThatAnotherStarts(t *testing.T) {
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	r := newRun(t, map[string]int32{exCompany: 0})
	r.apply(t, storeSettings(),
		exFee("fee-1", "pay\x00x", at, 1, "GBP", "0.30"),
		exFee("fee-2", "pay", at, 1, "GBP", "0.20"))
	r.commit(t)
	r.apply(t, exPayment("pay", at, 1, "GBP", "10.00", "Card", "Paid"))
	r.commit(t)
	fee := r.a.companies[exCompany].rec(recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-2"})
	other := r.a.companies[exCompany].rec(recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-1"})
	if fee == nil || fee.tender != "Card" || other == nil || other.tender != "" {
		t.Fatalf("fee-2 (of pay) has tender %+v, fee-1 (of pay\\x00x) %+v; want Card and none", fee, other)
	}
}
