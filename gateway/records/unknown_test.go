package records

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Every plan reads unknown fields where protobuf-go keeps them, without
// ProtoReflect, and reads them right: alone in a message they are its whole
// size and encoding, and a message without any reads none.
func TestPlansReadUnknownFieldsInPlace(t *testing.T) {
	unknown := protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), "from a newer schema")
	check := func(name string, unknownAt int, read func(m proto.Message) []byte, m proto.Message) {
		t.Helper()
		if unknownAt < 0 {
			t.Errorf("%s: the plan does not find unknownFields", name)
		}
		if got := read(m); len(got) != 0 {
			t.Errorf("%s: an empty message reads unknown fields %x", name, got)
		}
		m.ProtoReflect().SetUnknown(unknown)
		if got := read(m); !bytes.Equal(got, unknown) {
			t.Errorf("%s: unknown fields read as %x; set %x", name, got, unknown)
		}
		enc, err := Encode(nil, m)
		if err != nil || !bytes.Equal(enc.Bytes, unknown) || Size(m) != len(unknown) {
			t.Errorf("%s: Encode %x (%v), Size %d; want %x", name, enc.Bytes, err, Size(m), unknown)
		}
	}
	checkPlan(check, "Ref", refPlan)
	checkPlan(check, "TransactionSourceRef", transactionSourceRefPlan)
	checkPlan(check, "SupplementalData", supplementalDataPlan)
	checkPlan(check, "TaxLine", taxLinePlan)
	checkPlan(check, "DiscountAllocation", discountAllocationPlan)
	checkPlan(check, "OrderLineItem", orderLineItemPlan)
	checkPlan(check, "PaymentRef", paymentRefPlan)
	checkPlan(check, "ServiceCharge", serviceChargePlan)
	checkPlan(check, "Order", orderPlan)
	checkPlan(check, "Payment", paymentPlan)
	checkPlan(check, "Transaction", transactionPlan)
	checkPlan(check, "Address", addressPlan)
	checkPlan(check, "Location", locationPlan)
	checkPlan(check, "ProductPrice", productPricePlan)
	checkPlan(check, "ProductVariant", productVariantPlan)
	checkPlan(check, "Product", productPlan)
	checkPlan(check, "ProductCategory", productCategoryPlan)
	checkPlan(check, "TaxComponent", taxComponentPlan)
	checkPlan(check, "PaymentMethod", paymentMethodPlan)

	type noUnknown struct{ unknownFields string }
	if at := unknownFieldsAt[noUnknown](); at != -1 {
		t.Errorf("a field of another type is taken for unknown fields, at %d", at)
	}
	if at := unknownFieldsAt[struct{ x int }](); at != -1 {
		t.Errorf("a type without unknownFields has them at %d", at)
	}
}

func checkPlan[M any](check func(string, int, func(proto.Message) []byte, proto.Message), name string, p *plan[M]) {
	m := new(M)
	check(name, p.unknownAt, func(pm proto.Message) []byte { return p.unknown(any(pm).(*M)) }, any(m).(proto.Message))
}
