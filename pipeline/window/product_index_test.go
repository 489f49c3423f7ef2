package window

// The product index follows the orders' current versions: an order that
// stops selling a product leaves that product's entry, and the other orders
// selling it stay there, so a later change to the product still reaches
// them.

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// agIndexOf lists the product index as product → sorted record keys.
func agIndexOf(c *company) map[string]string {
	out := map[string]string{}
	for p, set := range c.ordersByProduct {
		var ks []string
		for k := range set {
			ks = append(ks, k.String())
		}
		slices.Sort(ks)
		out[p] = fmt.Sprint(ks)
	}
	return out
}

// agIndexFromRecords is the index the records' current versions call for.
func agIndexFromRecords(c *company) map[string]string {
	sets := map[string][]string{}
	for k, e := range c.records {
		for _, p := range e.cur.products() {
			if !slices.Contains(sets[p], k.String()) {
				sets[p] = append(sets[p], k.String())
			}
		}
	}
	out := map[string]string{}
	for p, ks := range sets {
		slices.Sort(ks)
		out[p] = fmt.Sprint(ks)
	}
	return out
}

func TestProductChangeReachesOrdersLeftSellingItAfterAnotherStops(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	before := local(t, ldnZone, "2026-06-01 00:00:00")
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	e.push(exProduct("latte", before, "drinks", false), exProduct("tea", before, "drinks", false))
	e.push(
		exOrderOf("o-a", at, 1, [2]string{"latte", "4.50"}),
		exOrderOf("o-b", at, 1, [2]string{"latte", "3.00"}),
	)
	// o-b's second version sells tea instead of latte.
	e.push(exOrderOf("o-b", at, 2, [2]string{"tea", "3.00"}))
	c := e.r.a.companies[exCompany]
	if got, want := agIndexOf(c), agIndexFromRecords(c); !maps.Equal(got, want) {
		t.Fatalf("product index after o-b stopped selling latte: %v, want %v", got, want)
	}

	sums := e.push(closeEvent(exCompany, local(t, ldnZone, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "7.50", "sales:drinks": "-7.50"})

	// Lattes re-filed as coffee from before the orders: o-a's money moves.
	e.push(exProduct("latte", local(t, ldnZone, "2026-06-05 00:00:00"), "coffee", false))
	sums = e.push(tickEvent(exCompany, local(t, ldnZone, "2026-06-11 00:00:00").UnixMilli()))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 2, ByClockTick, map[string]string{"sales:drinks": "4.50", "sales:coffee": "-4.50"})
}

// An order deleted leaves the index of every product it sold.
func TestProductIndexForgetsADeletedOrder(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	before := local(t, ldnZone, "2026-06-01 00:00:00")
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	e.push(exProduct("latte", before, "drinks", false))
	e.push(exOrderOf("o-a", at, 1, [2]string{"latte", "4.50"}), exOrderOf("o-b", at, 1, [2]string{"latte", "3.00"}, [2]string{"cake", "2.00"}))
	e.push(deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_ORDER, "", "o-b", at.UnixMilli()))
	c := e.r.a.companies[exCompany]
	if got, want := agIndexOf(c), agIndexFromRecords(c); !maps.Equal(got, want) {
		t.Fatalf("product index after o-b was deleted: %v, want %v", got, want)
	}
	if _, ok := c.ordersByProduct["cake"]; ok {
		t.Errorf("a product no current order sells keeps an index entry: %v", agIndexOf(c))
	}
}
