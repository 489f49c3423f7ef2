package records

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func render(errs []*commercesyncv1.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Message)
	}
	return out
}

// expect checks that errs are exactly the wanted fields, each message holding
// the wanted text.
func expect(t *testing.T, name string, errs []*commercesyncv1.FieldError, want map[string]string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Errorf("%s: got %d errors %q, want %d", name, len(errs), render(errs), len(want))
	}
	for _, e := range errs {
		w, ok := want[e.Field]
		if !ok || !strings.Contains(e.Message, w) {
			t.Errorf("%s: unexpected %s: %s", name, e.Field, e.Message)
		}
	}
}

func validPayment() *commercesyncv1.Payment {
	return &commercesyncv1.Payment{Id: "p1", Amount: "85", Currency: "GBP", Type: "Card", Status: "Paid",
		CreatedDate: "2022-02-14T15:46:17Z", PaymentMethodRef: &commercesyncv1.Ref{Id: "visa"}}
}

func validTransaction() *commercesyncv1.Transaction {
	return &commercesyncv1.Transaction{Id: "t1", TotalAmount: "-1.49", Currency: "GBP", Type: "PaymentFee",
		CreatedDate: "2022-02-14T15:46:17", TransactionSourceRef: &commercesyncv1.TransactionSourceRef{Id: "p1", Type: "Payment"}}
}

func TestValidateTypedMessages(t *testing.T) {
	expect(t, "valid payment", ValidatePayment(validPayment()), nil)
	expect(t, "valid transaction", ValidateTransaction(validTransaction()), nil)

	expect(t, "empty payment", ValidatePayment(&commercesyncv1.Payment{PaymentMethodRef: &commercesyncv1.Ref{Name: "Visa"}}),
		map[string]string{
			"id": "id is required", "amount": "send a decimal", "currency": "such as GBP",
			"type": "send one of Cash, Card,", "status": "send one of Pending,", "createdDate": "is required",
			"paymentMethodRef.id": "refers to",
		})

	p := validPayment()
	p.Type, p.Status, p.Amount, p.DueDate = "card", "paid", "85.00001", "tomorrow"
	expect(t, "payment near misses", ValidatePayment(p), map[string]string{
		"type":    `"card" is not a payment type; did you mean "Card"?`,
		"status":  `"paid" is not a payment status; did you mean "Paid"?`,
		"amount":  "more than 4 decimal places",
		"dueDate": `"tomorrow" is not an accepted timestamp`,
	})

	tx := validTransaction()
	tx.CreatedDate, tx.SourceCreatedDate = "", "2022-02-14T15:46:17Z"
	expect(t, "sourceCreatedDate is enough", ValidateTransaction(tx), nil)
	tx.SourceCreatedDate = ""
	tx.Type = "payout"
	tx.TransactionSourceRef.Type = "order"
	tx.SettledTransactionIds = []string{"a", " "}
	expect(t, "transaction rules", ValidateTransaction(tx), map[string]string{
		"createdDate":               "or sourceCreatedDate",
		"type":                      `did you mean "Payout"?`,
		"transactionSourceRef.type": `did you mean "Order"?`,
		"settledTransactionIds":     "only Payout and FailedPayout",
		"settledTransactionIds[1]":  "is empty",
	})
	tx.Type = "Payout"
	tx.TransactionSourceRef = nil
	tx.CreatedDate = "2022-02-14T15:46:17Z"
	tx.SettledTransactionIds = []string{"a", "b"}
	expect(t, "payout", ValidateTransaction(tx), nil)
}

func TestValidateOrderNested(t *testing.T) {
	o := &commercesyncv1.Order{
		Id: "o1", Currency: "USD", TotalAmount: "108.88", CreatedDate: "2022-02-14T15:46:18-05:00", Country: "USA ",
		OrderLineItems: []*commercesyncv1.OrderLineItem{{
			Quantity: "0.125", TaxPercentage: "8.875", TotalAmount: "108.88", UnitPrice: "800",
			Taxes: []*commercesyncv1.TaxLine{{TaxComponentRef: &commercesyncv1.Ref{Id: "nyc"}, Rate: "0.08875", TaxAmount: "8.88"}},
		}},
		Payments:       []*commercesyncv1.PaymentRef{{Id: "p1", Amount: "108.88", Currency: "USD", Type: "Card", Status: "Paid"}},
		ServiceCharges: []*commercesyncv1.ServiceCharge{{TotalAmount: "5", Quantity: "1", Type: "Shipping"}},
	}
	expect(t, "valid order", ValidateOrder(o), nil)

	o.Payments[0].Currency = "usd"
	o.Payments = append(o.Payments, &commercesyncv1.PaymentRef{Amount: "1"})
	o.ServiceCharges[0].Type = "shipping"
	o.OrderLineItems[0].Taxes[0].Rate = "8,875%"
	o.ClosedDate = "2022-02-14T25:00:00Z"
	expect(t, "nested errors", ValidateOrder(o), map[string]string{
		"payments[0].currency":            `did you mean "USD"?`,
		"payments[1].id":                  "id is required",
		"serviceCharges[0].type":          `"shipping" is not a service charge type; did you mean "Shipping"?`,
		"orderLineItems[0].taxes[0].rate": "use a dot",
		"closedDate":                      "the hour must be 00 to 23",
	})
}

func TestNormalizeAndDelete(t *testing.T) {
	loc := &commercesyncv1.Location{Id: "l", Address: &commercesyncv1.Address{Country: " GB "}}
	Normalize(loc)
	if loc.Address.Country != "GB" {
		t.Errorf("country = %q", loc.Address.Country)
	}
	o := &commercesyncv1.Order{Country: "GB "}
	Normalize(o)
	if o.Country != "GB" {
		t.Errorf("country = %q", o.Country)
	}
	Normalize(nil)

	for m, want := range map[proto.Message]bool{
		&commercesyncv1.Order{Id: "x"}:                                             true,
		&commercesyncv1.Transaction{Id: "x"}:                                       true,
		&commercesyncv1.Order{Id: "x", Currency: "GBP"}:                            false,
		&commercesyncv1.Order{}:                                                    false,
		&commercesyncv1.Order{Id: "x", Payments: []*commercesyncv1.PaymentRef{{}}}: false,
		(*commercesyncv1.Order)(nil):                                               false,
	} {
		if IsDelete(m) != want {
			t.Errorf("IsDelete(%v) = %v", m, !want)
		}
	}
	if IsDelete(nil) {
		t.Error("IsDelete(nil)")
	}
}

func TestContentHash(t *testing.T) {
	build := func() *commercesyncv1.Order {
		content, _ := structpb.NewStruct(map[string]any{"a": 1, "b": "x", "c": true, "d": []any{1, 2}, "e": map[string]any{"f": nil}})
		return &commercesyncv1.Order{Id: "o1", TotalAmount: "85", SupplementalData: &commercesyncv1.SupplementalData{Content: content}}
	}
	h := ContentHash(build())
	if len(h) != 32 {
		t.Fatalf("hash is %d bytes", len(h))
	}
	for range 20 { // map order must not leak into the hash
		if !bytes.Equal(ContentHash(build()), h) {
			t.Fatal("equal messages hash differently")
		}
	}
	other := build()
	other.TotalAmount = "85.00" // same amount, different text: a different version
	if bytes.Equal(ContentHash(other), h) {
		t.Error("different content, same hash")
	}
	if !bytes.Equal(ContentHash(&commercesyncv1.Order{Id: "\xff"}), ContentHash(&commercesyncv1.Order{Id: "\xff"})) {
		t.Error("unencodable message hashes are not deterministic")
	}
}

// The rule tables name messages by string; this catches a rename in the proto.
func TestRuleTablesMatchProto(t *testing.T) {
	msgs := map[protoreflect.FullName]proto.Message{
		nameOrder: &commercesyncv1.Order{}, namePayment: &commercesyncv1.Payment{}, nameTransaction: &commercesyncv1.Transaction{},
		namePaymentRef: &commercesyncv1.PaymentRef{}, nameRef: &commercesyncv1.Ref{},
		nameTransactionSourceRef: &commercesyncv1.TransactionSourceRef{}, nameServiceCharge: &commercesyncv1.ServiceCharge{},
		nameAddress: &commercesyncv1.Address{}, nameProductVariant: &commercesyncv1.ProductVariant{},
		namePaymentMethod: &commercesyncv1.PaymentMethod{}, nameLocation: &commercesyncv1.Location{},
		nameProduct: &commercesyncv1.Product{}, nameProductCategory: &commercesyncv1.ProductCategory{},
		nameTaxComponent: &commercesyncv1.TaxComponent{},
	}
	for name, m := range msgs {
		md := m.ProtoReflect().Descriptor()
		if md.FullName() != name {
			t.Errorf("%s is now %s", name, md.FullName())
		}
		for _, f := range requiredFields(name) {
			if md.Fields().ByName(f) == nil {
				t.Errorf("%s has no required field %s", name, f)
			}
		}
	}
	// Every field the decimal table knows is a string in some commerce message.
	if fd := (&commercesyncv1.TaxLine{}).ProtoReflect().Descriptor().Fields().ByName("rate"); decimalKindOf(fd) != plainDecimal {
		t.Error("TaxLine.rate is not a plain decimal")
	}
}
