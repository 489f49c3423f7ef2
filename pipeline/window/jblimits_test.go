package window

import (
	"strings"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The fields inside an order's lists (each line, discount, service charge
// and tax) hold their limits exactly, as the top-level fields do: at its
// limit a field is accepted, one byte past it the event is refused naming
// the field by its place in the list, and a number with an exponent past
// ±30 is refused naming the field too.
func TestOrderListItemLimitsAreExactAndNamedByPlace(t *testing.T) {
	s := func(n int) string { return strings.Repeat("a", n) }
	num := func(n int) string { return "1." + strings.Repeat("0", n-2) }
	order := func(mut func(o *v1.Order)) *v1.CommerceEvent {
		o := &v1.Order{Id: "o", Currency: "GBP", TotalAmount: "1", TotalTaxAmount: "0", TotalGratuity: "0",
			OrderLineItems: []*v1.OrderLineItem{{TotalAmount: "0", TotalTaxAmount: "0"}, {TotalAmount: "0", TotalTaxAmount: "0",
				DiscountAllocations: []*v1.DiscountAllocation{{TotalAmount: "0"}, {TotalAmount: "0"}},
				Taxes:               []*v1.TaxLine{{TaxAmount: "0"}, {TaxAmount: "0"}}}},
			ServiceCharges: []*v1.ServiceCharge{{TotalAmount: "0", TaxAmount: "0"}, {TotalAmount: "0", TaxAmount: "0",
				Taxes: []*v1.TaxLine{{TaxAmount: "0"}, {TaxAmount: "0"}}}},
		}
		mut(o)
		return recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "o", ContentHash: []byte("h"), Body: &v1.RecordEvent_Order{Order: o}})
	}
	line := func(o *v1.Order) *v1.OrderLineItem { return o.OrderLineItems[1] }
	charge := func(o *v1.Order) *v1.ServiceCharge { return o.ServiceCharges[1] }
	for _, tc := range []struct {
		field string
		limit int
		set   func(o *v1.Order, v string)
		value func(n int) string
	}{
		{"orderLineItems[1].totalAmount", MaxNumberBytes, func(o *v1.Order, v string) { line(o).TotalAmount = v }, num},
		{"orderLineItems[1].totalTaxAmount", MaxNumberBytes, func(o *v1.Order, v string) { line(o).TotalTaxAmount = v }, num},
		{"orderLineItems[1].taxPercentage", MaxNumberBytes, func(o *v1.Order, v string) { line(o).TaxPercentage = v }, num},
		{"orderLineItems[1].discountAllocations[1].totalAmount", MaxNumberBytes, func(o *v1.Order, v string) { line(o).DiscountAllocations[1].TotalAmount = v }, num},
		{"orderLineItems[1].taxes[1].taxComponentRef.id", MaxIDBytes, func(o *v1.Order, v string) { line(o).Taxes[1].TaxComponentRef = &v1.Ref{Id: v} }, s},
		{"orderLineItems[1].taxes[1].taxAmount", MaxNumberBytes, func(o *v1.Order, v string) { line(o).Taxes[1].TaxAmount = v }, num},
		{"serviceCharges[1].type", MaxCodeBytes, func(o *v1.Order, v string) { charge(o).Type = v }, s},
		{"serviceCharges[1].totalAmount", MaxNumberBytes, func(o *v1.Order, v string) { charge(o).TotalAmount = v }, num},
		{"serviceCharges[1].taxAmount", MaxNumberBytes, func(o *v1.Order, v string) { charge(o).TaxAmount = v }, num},
		{"serviceCharges[1].taxPercentage", MaxNumberBytes, func(o *v1.Order, v string) { charge(o).TaxPercentage = v }, num},
		{"serviceCharges[1].taxes", MaxTaxesPerLine, func(o *v1.Order, v string) {
			for range len(v) - len(charge(o).Taxes) {
				charge(o).Taxes = append(charge(o).Taxes, &v1.TaxLine{TaxAmount: "0"})
			}
		}, s},
		{"serviceCharges[1].taxes[1].taxComponentRef.id", MaxIDBytes, func(o *v1.Order, v string) { charge(o).Taxes[1].TaxComponentRef = &v1.Ref{Id: v} }, s},
		{"serviceCharges[1].taxes[1].taxAmount", MaxNumberBytes, func(o *v1.Order, v string) { charge(o).Taxes[1].TaxAmount = v }, num},
	} {
		at := order(func(o *v1.Order) { tc.set(o, tc.value(tc.limit)) })
		if err := checkEvent(at); err != nil {
			t.Errorf("%s at its limit of %d: refused: %v", tc.field, tc.limit, err)
		}
		err := checkEvent(order(func(o *v1.Order) { tc.set(o, tc.value(tc.limit+1)) }))
		if err == nil {
			t.Errorf("%s one past its limit of %d: accepted", tc.field, tc.limit)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, tc.field+" ") || !strings.Contains(msg, "the limit is") {
			t.Errorf("%s one past its limit: %q, want the field named first and the limit stated", tc.field, msg)
		}
		if tc.limit != MaxNumberBytes {
			continue
		}
		err = checkEvent(order(func(o *v1.Order) { tc.set(o, "1e31") }))
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+" ") || !strings.Contains(err.Error(), "plain decimal") {
			t.Errorf("%s of 1e31: %v, want it refused by name, saying what to send", tc.field, err)
		}
	}
}

// A number that is an exponent alone ("e99") is held to the exponent limit
// as any other: refused, saying what to send.
func TestNumberOfAnExponentAloneIsHeldToTheExponentLimit(t *testing.T) {
	if err := checkNumber("e99"); err == nil || !strings.Contains(err.Error(), "plain decimal") {
		t.Errorf("checkNumber(%q) = %v, want the exponent refused", "e99", err)
	}
	if err := checkNumber("e30"); err != nil {
		t.Errorf("checkNumber(%q) = %v, want it within the exponent limit", "e30", err)
	}
}

// A deleted record carries no body, and its kind must be a known one: an
// order, a payment or a transaction; a kind below or above those is refused
// naming the record.
func TestDeletedRecordOfUnknownKindIsRefused(t *testing.T) {
	for _, tc := range []struct {
		kind v1.RecordKind
		ok   bool
	}{
		{v1.RecordKind_RECORD_KIND_UNSPECIFIED, false},
		{v1.RecordKind_RECORD_KIND_ORDER, true},
		{v1.RecordKind_RECORD_KIND_PAYMENT, true},
		{v1.RecordKind_RECORD_KIND_TRANSACTION, true},
		{v1.RecordKind_RECORD_KIND_TRANSACTION + 1, false},
	} {
		err := checkEvent(deleteEvent("co", "tn", tc.kind, "", "r-1", 1))
		if tc.ok && err != nil {
			t.Errorf("a deleted record of kind %v: refused: %v", tc.kind, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "record r-1 is of unknown kind")) {
			t.Errorf("a deleted record of kind %v: %v, want it refused as of unknown kind", tc.kind, err)
		}
	}
}
