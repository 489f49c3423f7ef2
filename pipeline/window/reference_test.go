package window

import (
	"bytes"
	"fmt"
	"strings"
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

func exDeletedProduct(id string, from time.Time) *v1.CommerceEvent {
	// A delete that still carries the product's last body: being deleted,
	// not the body, is what counts.
	ev := exProduct(id, from, "stale", true)
	ev.GetReference().Deleted = true
	return ev
}

// Which version of a product is in force at an instant: the latest from no
// later than it (a version from exactly then included), the earliest when
// every version is younger, none once a delete is in force; versions keep
// their order whatever order they arrive in, and a repeat changes nothing.
func TestProductVersionInForce(t *testing.T) {
	base := local(t, ldnZone, "2026-06-10 00:00:00")
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	e := newEx(t, ldnZone, 0, 0)
	// Out of order: 10:00 deleted, 12:00 books, 02:00 games (gift), 06:00 music.
	e.push(exDeletedProduct("p", h(10)), exProduct("p", h(12), "books", false), exProduct("p", h(2), "games", true), exProduct("p", h(6), "music", false))
	c := e.r.a.companies[exCompany]
	for _, tc := range []struct {
		at   time.Time
		cat  string
		gift bool
	}{
		{h(0), "games", true}, // before every version: the earliest
		{h(2).Add(-time.Millisecond), "games", true},
		{h(2), "games", true},
		{h(6).Add(-time.Millisecond), "games", true},
		{h(6), "music", false}, // from exactly then
		{h(9), "music", false},
		{h(10), "", false}, // deleted
		{h(12).Add(-time.Millisecond), "", false},
		{h(12), "books", false},
		{h(100), "books", false},
	} {
		if cat, gift := c.productAt("p", tc.at.UnixMilli()); cat != tc.cat || gift != tc.gift {
			t.Errorf("product p at %s: category %q gift %t, want %q %t", tc.at.Format("15:04:05.000"), cat, gift, tc.cat, tc.gift)
		}
	}
	if cat, gift := c.productAt("nobody", h(1).UnixMilli()); cat != "" || gift {
		t.Errorf("a product never pushed has category %q gift %t", cat, gift)
	}

	// A repeat of a version writes nothing; a second version from the same
	// instant with another hash is kept beside it, ordered by hash.
	e.r.apply(t, exProduct("p", h(6), "music", false))
	if out := pending(t, e.r.a); out != "" {
		t.Errorf("a repeated version changed something: %s", out)
	}
	e.r.a.Abort()
	e.push(exProduct("p", h(6), "film", false))
	// The same content from an earlier instant is another version.
	same := exProduct("p", h(11), "books", false)
	same.GetReference().ContentHash = exProduct("p", h(12), "books", false).GetReference().GetContentHash()
	e.push(same)
	vs := c.refs[refDataKey{v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "p"}].cur
	if len(vs) != 6 {
		t.Fatalf("%d versions kept, want 6", len(vs))
	}
	for i := 1; i < len(vs); i++ {
		if a, b := vs[i-1], vs[i]; a.from > b.from || a.from == b.from && bytes.Compare(a.hash, b.hash) >= 0 {
			t.Errorf("versions %d and %d out of order: from %d hash %x, from %d hash %x", i-1, i, a.from, a.hash, b.from, b.hash)
		}
	}
}

// A product keeps at most MaxReferenceVersions versions: the one past it is
// refused with the limit named, and the versions kept stay as they were.
func TestProductVersionsLimit(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	base := local(t, ldnZone, "2026-06-10 00:00:00")
	for i := range MaxReferenceVersions {
		e.r.apply(t, exProduct("p", base.Add(time.Duration(i)*time.Minute), fmt.Sprint("cat-", i), false))
	}
	e.r.commit(t)
	before := dumpState(e.r.a)
	err := e.r.a.Apply(0, exProduct("p", base.Add(-time.Minute), "one-too-many", false))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxReferenceVersions)) {
		t.Fatalf("version %d of a product: err %v, want it refused naming the limit %d", MaxReferenceVersions+1, err, MaxReferenceVersions)
	}
	if d := firstDiff(before, dumpState(e.r.a)); d != "" {
		t.Errorf("the refused version changed the state: %s", d)
	}
	// A repeat of a version kept is not a new version: accepted, unchanged.
	if err := e.r.a.Apply(0, exProduct("p", base, "cat-0", false)); err != nil {
		t.Errorf("a repeat at the limit was refused: %v", err)
	}
}

// A product in several categories sells in the first one listed.
func TestProductSellsInItsFirstCategory(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	p := exProduct("p", at.Add(-time.Hour), "books", false)
	p.GetReference().GetProduct().ProductCategoryRefs = append(p.GetReference().GetProduct().ProductCategoryRefs, &v1.Ref{Id: "games"})
	e.push(p, exOrderOf("o-1", at, 1, [2]string{"p", "4.00"}))
	sums := e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"unsettled": "4.00", "sales:books": "-4.00"})
}
