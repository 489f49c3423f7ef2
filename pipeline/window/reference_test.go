package window

import (
	"fmt"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func exProduct(id string, from time.Time, category string, gift bool) *v1.CommerceEvent {
	return &v1.CommerceEvent{CompanyId: exCompany, TenantId: exTenant, Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
		Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: id, ValidFromUnixMs: from.UnixMilli(), ContentHash: exHash(id, category, gift, from.UnixMilli()),
		Body: &v1.ReferenceEvent_Product{Product: &v1.Product{Id: id, Name: id, IsGiftCard: gift, ProductCategoryRefs: []*v1.Ref{{Id: category}}}},
	}}}
}

func exOrderOf(id string, at time.Time, srcMod int64, lines ...[2]string) *v1.CommerceEvent {
	o := &v1.Order{Id: id, Currency: "GBP", TotalTaxAmount: "0", TotalGratuity: "0"}
	var total int64
	for _, l := range lines {
		o.OrderLineItems = append(o.OrderLineItems, &v1.OrderLineItem{Id: id + l[0], TotalAmount: l[1], TotalTaxAmount: "0", ProductRef: &v1.Ref{Id: l[0]}})
		total += mustCents(l[1])
	}
	o.TotalAmount = centsText(total)
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod,
		ContentHash: exHash(id, srcMod, o.TotalAmount), Body: &v1.RecordEvent_Order{Order: o},
	})
}

func mustCents(s string) int64 {
	a, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return int64(a) / 100
}

func centsText(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// An order's lines go to the sales of their product's category as the
// product's reference data stood at the order's time; a gift card sold is a
// liability; a category change pushed later, in force before the order,
// moves the money in the day's next revision.
func TestSalesByProductCategoryAndGiftCards(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, 0)
	before := local(t, ldn, "2026-06-01 00:00:00")
	at := local(t, ldn, "2026-06-10 12:00:00")
	e.push(
		exProduct("latte", before, "drinks", false),
		exProduct("gift", before, "cards", true),
		// A version in force only after the order changes nothing for it.
		exProduct("latte", local(t, ldn, "2026-06-20 00:00:00"), "food", false),
		exOrderOf("o-1", at, 1, [2]string{"latte", "4.50"}, [2]string{"gift", "25.00"}, [2]string{"unknown", "1.00"}),
	)
	sums := e.push(closeEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
		"unsettled": "30.50", "sales:drinks": "-4.50", "gift_card_liability": "-25.00", "sales": "-1.00",
	})

	// The merchant re-files lattes as coffee from before the order.
	e.push(exProduct("latte", local(t, ldn, "2026-06-05 00:00:00"), "coffee", false))
	sums = e.push(tickEvent(exCompany, local(t, ldn, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{
		"sales:drinks": "4.50", "sales:coffee": "-4.50",
	})
}
