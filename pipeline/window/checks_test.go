package window

import (
	"strings"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Every input limit holds exactly: an event with a field at its limit is
// accepted, one byte or element past it is refused, naming the field and
// the limit.
func TestEventLimitsAreExact(t *testing.T) {
	s := func(n int) string { return strings.Repeat("a", n) }
	order := func(mut func(o *v1.Order)) *v1.CommerceEvent {
		o := &v1.Order{Id: "o", Currency: "GBP", TotalAmount: "1", TotalTaxAmount: "0", TotalGratuity: "0"}
		mut(o)
		return recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "o", ContentHash: []byte("h"), Body: &v1.RecordEvent_Order{Order: o}})
	}
	payment := func(mut func(p *v1.Payment)) *v1.CommerceEvent {
		p := &v1.Payment{Id: "p", Currency: "GBP", Amount: "1", Type: "Card", Status: "Paid"}
		mut(p)
		return recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: "p", ContentHash: []byte("h"), Body: &v1.RecordEvent_Payment{Payment: p}})
	}
	payout := func(ids []string) *v1.CommerceEvent {
		return recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payout", Id: "t", ContentHash: []byte("h"),
			Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{Id: "t", Currency: "GBP", TotalAmount: "1", Type: "Payout", SettledTransactionIds: ids}}})
	}
	lines := func(n int) []*v1.OrderLineItem {
		out := make([]*v1.OrderLineItem, n)
		for i := range out {
			out[i] = &v1.OrderLineItem{TotalAmount: "0", TotalTaxAmount: "0"}
		}
		return out
	}
	product := func(id, category string, hash []byte) *v1.CommerceEvent {
		return &v1.CommerceEvent{CompanyId: "co", TenantId: "tn", Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
			Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: id, ContentHash: hash,
			Body: &v1.ReferenceEvent_Product{Product: &v1.Product{Id: id, ProductCategoryRefs: []*v1.Ref{{Id: category}}}},
		}}}
	}
	for _, tc := range []struct {
		field string
		limit int
		ev    func(n int) *v1.CommerceEvent
	}{
		{"companyId", MaxIDBytes, func(n int) *v1.CommerceEvent { return closeEvent(s(n), 1) }},
		{"tenantId", MaxIDBytes, func(n int) *v1.CommerceEvent { ev := closeEvent("co", 1); ev.TenantId = s(n); return ev }},
		{"settings.timeZone", MaxCodeBytes, func(n int) *v1.CommerceEvent {
			return settingsEvent("co", "tn", &v1.WindowSettings{TimeZone: s(n)})
		}},
		{"settings.startDate", MaxCodeBytes, func(n int) *v1.CommerceEvent {
			return settingsEvent("co", "tn", &v1.WindowSettings{TimeZone: "UTC", StartDate: s(n)})
		}},
		{"reference.id", MaxIDBytes, func(n int) *v1.CommerceEvent { return product(s(n), "c", []byte("h")) }},
		{"reference.contentHash", MaxHashBytes, func(n int) *v1.CommerceEvent { return product("p", "c", []byte(s(n))) }},
		{"product.productCategoryRefs[0].id", MaxIDBytes, func(n int) *v1.CommerceEvent { return product("p", s(n), []byte("h")) }},
		{"id", MaxIDBytes, func(n int) *v1.CommerceEvent {
			ev := payment(func(*v1.Payment) {})
			ev.GetRecord().Id = s(n)
			return ev
		}},
		{"contentHash", MaxHashBytes, func(n int) *v1.CommerceEvent {
			ev := payment(func(*v1.Payment) {})
			ev.GetRecord().ContentHash = []byte(s(n))
			return ev
		}},
		{"currency", MaxCodeBytes, func(n int) *v1.CommerceEvent { return payment(func(p *v1.Payment) { p.Currency = s(n) }) }},
		{"status", MaxCodeBytes, func(n int) *v1.CommerceEvent { return payment(func(p *v1.Payment) { p.Status = s(n) }) }},
		{"amount", MaxNumberBytes, func(n int) *v1.CommerceEvent {
			return payment(func(p *v1.Payment) { p.Amount = "1." + strings.Repeat("0", n-2) })
		}},
		{"locationRef.id", MaxIDBytes, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) { o.LocationRef = &v1.Ref{Id: s(n)} })
		}},
		{"orderLineItems", MaxOrderLines, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) { o.OrderLineItems = lines(n) })
		}},
		{"serviceCharges", MaxServiceCharges, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) {
				for range n {
					o.ServiceCharges = append(o.ServiceCharges, &v1.ServiceCharge{TotalAmount: "0", TaxAmount: "0"})
				}
			})
		}},
		{"orderLineItems[0].taxes", MaxTaxesPerLine, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) {
				o.OrderLineItems = lines(1)
				for range n {
					o.OrderLineItems[0].Taxes = append(o.OrderLineItems[0].Taxes, &v1.TaxLine{TaxAmount: "0"})
				}
			})
		}},
		{"orderLineItems[0].discountAllocations", MaxDiscountsPerLine, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) {
				o.OrderLineItems = lines(1)
				for range n {
					o.OrderLineItems[0].DiscountAllocations = append(o.OrderLineItems[0].DiscountAllocations, &v1.DiscountAllocation{TotalAmount: "0"})
				}
			})
		}},
		{"orderLineItems[0].productRef.id", MaxIDBytes, func(n int) *v1.CommerceEvent {
			return order(func(o *v1.Order) {
				o.OrderLineItems = lines(1)
				o.OrderLineItems[0].ProductRef = &v1.Ref{Id: s(n)}
			})
		}},
		{"settledTransactionIds", MaxSettledIDs, func(n int) *v1.CommerceEvent {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = "p"
			}
			return payout(ids)
		}},
		{"settledTransactionIds[1]", MaxIDBytes, func(n int) *v1.CommerceEvent { return payout([]string{"p", s(n)}) }},
	} {
		if err := checkEvent(tc.ev(tc.limit)); err != nil {
			t.Errorf("%s at its limit of %d: refused: %v", tc.field, tc.limit, err)
		}
		err := checkEvent(tc.ev(tc.limit + 1))
		if err == nil {
			t.Errorf("%s one past its limit of %d: accepted", tc.field, tc.limit)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, tc.field+" ") || !strings.Contains(msg, "the limit is") {
			t.Errorf("%s one past its limit: %q, want the field named first and the limit stated", tc.field, msg)
		}
	}
}

// A number's exponent may be up to ±30; past it the number is refused with
// what to send instead.
func TestNumberExponentLimit(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"1e30", true}, {"1E+30", true}, {"1e-30", true}, {"12.34", true},
		{"1e31", false}, {"1e-31", false}, {"1e", false}, {"1ex", false},
	} {
		err := checkNumber(tc.s)
		if (err == nil) != tc.ok {
			t.Errorf("checkNumber(%q) = %v, want accepted %t", tc.s, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "plain decimal") {
			t.Errorf("checkNumber(%q) = %v: does not say what to send", tc.s, err)
		}
	}
}
