package loadgen

import (
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

func spec() Spec {
	return Spec{Merchants: 12, Days: 3, OrdersPerDay: 200, Start: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Seed: 7,
		Late: 0.05, Updated: 0.05, Deleted: 0.02}
}

// Every order adds up: its lines' totals and taxes make its own, each line
// is its quantity times its price plus tax at the merchant's rate, and its
// payment carries the same amount.
func TestOrdersAddUp(t *testing.T) {
	s := spec()
	for mi := range s.Merchants {
		m := s.Merchant(mi)
		for d := range s.Days {
			day := s.Day(m, d)
			for _, recs := range []Records{day.On, day.Late} {
				pays := map[string]string{}
				for _, p := range recs.Payments {
					pays[p.GetId()] = p.GetAmount()
				}
				for _, o := range recs.Orders {
					var total, tax int64
					for _, l := range o.GetOrderLineItems() {
						lt, _ := parseCents(l.GetTotalAmount())
						lx, _ := parseCents(l.GetTotalTaxAmount())
						unit, _ := parseCents(l.GetUnitPrice())
						qty, _ := parseCents(l.GetQuantity() + ".00")
						if net := qty / 100 * unit; lx != roundHalfUp(net*m.TaxRate, 10000) || lt != net+lx {
							t.Fatalf("%s line %s: %s with tax %s for %s × %s at %d bp", o.GetId(), l.GetId(), l.GetTotalAmount(),
								l.GetTotalTaxAmount(), l.GetQuantity(), l.GetUnitPrice(), m.TaxRate)
						}
						total += lt
						tax += lx
					}
					if cents(total) != o.GetTotalAmount() || cents(tax) != o.GetTotalTaxAmount() {
						t.Fatalf("%s: totals %s/%s, lines %s/%s", o.GetId(), o.GetTotalAmount(), o.GetTotalTaxAmount(), cents(total), cents(tax))
					}
					if pays["pay-"+o.GetId()] != o.GetTotalAmount() || o.GetCurrency() != m.Currency {
						t.Fatalf("%s: payment %q for %s %s", o.GetId(), pays["pay-"+o.GetId()], o.GetTotalAmount(), o.GetCurrency())
					}
				}
			}
		}
	}
}

// A day is the same however often and in whatever order it is made, and
// the shares of late, updated and deleted orders are about as asked.
func TestDaysAreDeterministicAndShared(t *testing.T) {
	s := spec()
	m := s.Merchant(5)
	a, b := s.Day(m, 2), s.Day(m, 2)
	if !reflect.DeepEqual(len(a.On.Orders), len(b.On.Orders)) {
		t.Fatal("two makings of a day differ in size")
	}
	for i := range a.On.Orders {
		if !proto.Equal(a.On.Orders[i], b.On.Orders[i]) {
			t.Fatalf("order %d differs between two makings", i)
		}
	}
	var late, updated, deletes, on int
	for mi := range s.Merchants {
		for d := 1; d < s.Days; d++ {
			day := s.Day(s.Merchant(mi), d)
			on += len(day.On.Orders)
			deletes += len(day.Late.Deletes)
			for _, o := range day.Late.Orders {
				if o.GetSourceModifiedDate() != o.GetCreatedDate() {
					updated++
				} else {
					late++
				}
			}
		}
	}
	n := float64(s.Merchants * (s.Days - 1) * s.OrdersPerDay)
	for name, got := range map[string]float64{"late": float64(late) / n, "updated": float64(updated) / n} {
		if got < 0.03 || got > 0.07 {
			t.Errorf("%s share %.3f, want about 0.05", name, got)
		}
	}
	if deletes == 0 || on == 0 {
		t.Errorf("%d deletes and %d on-time orders", deletes, on)
	}
}

func TestCheck(t *testing.T) {
	if err := spec().Check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Spec{{Merchants: 0, Days: 1, OrdersPerDay: 1}, {Merchants: 1, Days: 0, OrdersPerDay: 1},
		{Merchants: 1, Days: 1, OrdersPerDay: 1, Late: 0.6, Updated: 0.6}} {
		if bad.Check() == nil {
			t.Errorf("%+v passed Check", bad)
		}
	}
}
