package records

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// text returns n bytes of text, mostly two-byte characters, so that a limit
// counted in characters instead of bytes would let it through.
func text(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("a", n%2) }

// repeat joins n copies of elem, each given its index, into a JSON array.
func repeat(n int, elem func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = elem(i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func q(s string) string { return fmt.Sprintf("%q", s) }

// Valid records of each kind, with extra fields spliced in.
func orderWith(extra string) string {
	return `{"id":"o-1","currency":"GBP","createdDate":"2022-02-14T15:46:18Z","totalAmount":10` + extra + `}`
}

func paymentWith(extra string) string {
	return `{"id":"p-1","amount":10,"currency":"GBP","type":"Card","status":"Paid","createdDate":"2022-02-14T15:46:18Z"` + extra + `}`
}

func transactionWith(extra string) string {
	return `{"id":"t-1","totalAmount":10,"currency":"GBP","type":"Payout","createdDate":"2022-02-14T15:46:18Z"` + extra + `}`
}

func namedWith(extra string) string { return `{"id":"r-1","name":"Thing"` + extra + `}` }

type kindOfRecord struct {
	name   string
	newMsg func() proto.Message
}

var (
	kOrder       = kindOfRecord{"order", func() proto.Message { return new(commercesyncv1.Order) }}
	kPayment     = kindOfRecord{"payment", func() proto.Message { return new(commercesyncv1.Payment) }}
	kTransaction = kindOfRecord{"transaction", func() proto.Message { return new(commercesyncv1.Transaction) }}
	kLocation    = kindOfRecord{"location", func() proto.Message { return new(commercesyncv1.Location) }}
	kProduct     = kindOfRecord{"product", func() proto.Message { return new(commercesyncv1.Product) }}
	kCategory    = kindOfRecord{"category", func() proto.Message { return new(commercesyncv1.ProductCategory) }}
	kTax         = kindOfRecord{"tax component", func() proto.Message { return new(commercesyncv1.TaxComponent) }}
	kMethod      = kindOfRecord{"payment method", func() proto.Message { return new(commercesyncv1.PaymentMethod) }}
)

// checkOne decodes and validates one element within lim.
func checkOne(t *testing.T, k kindOfRecord, elem string, lim Limits) Item[proto.Message] {
	t.Helper()
	items, err := DecodeBatch([]byte("["+elem+"]"), 1, k.newMsg)
	if err != nil {
		t.Fatalf("DecodeBatch: %v", err)
	}
	ValidateItemsWithin(items, lim)
	return items[0]
}

// Each limit of DefaultLimits: a record exactly at it is accepted, and one
// past it is rejected on the field, saying the size and the limit.
func TestEveryLimitAtAndPastIt(t *testing.T) {
	L := DefaultLimits()
	line := func(extra string) string { return `{"id":"l","totalAmount":1` + extra + `}` }
	cases := []struct {
		name  string
		kind  kindOfRecord
		limit int
		field string
		unit  string // "bytes" or "elements"
		elem  func(n int) string
	}{
		{"order id", kOrder, L.IDBytes, "id", "bytes", func(n int) string {
			return strings.Replace(orderWith(""), `"o-1"`, q(text(n)), 1)
		}},
		{"line item id", kOrder, L.IDBytes, "orderLineItems[3].id", "bytes", func(n int) string {
			return orderWith(`,"orderLineItems":` + repeat(4, func(i int) string {
				if i == 3 {
					return `{"id":` + q(text(n)) + `}`
				}
				return line("")
			}))
		}},
		{"location ref id", kOrder, L.IDBytes, "locationRef.id", "bytes", func(n int) string {
			return orderWith(`,"locationRef":{"id":` + q(text(n)) + `}`)
		}},
		{"customer ref id", kOrder, L.IDBytes, "customerRef.id", "bytes", func(n int) string {
			return orderWith(`,"customerRef":{"id":` + q(text(n)) + `}`)
		}},
		{"product ref id", kOrder, L.IDBytes, "orderLineItems[0].productRef.id", "bytes", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"productRef":{"id":`+q(text(n))+`}`) + `]`)
		}},
		{"variant ref id", kOrder, L.IDBytes, "orderLineItems[0].productVariantRef.id", "bytes", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"productVariantRef":{"id":`+q(text(n))+`}`) + `]`)
		}},
		{"tax component ref id", kOrder, L.IDBytes, "orderLineItems[0].taxes[0].taxComponentRef.id", "bytes", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"taxes":[{"taxComponentRef":{"id":`+q(text(n))+`},"taxAmount":0}]`) + `]`)
		}},
		{"order payment id", kOrder, L.IDBytes, "payments[0].id", "bytes", func(n int) string {
			return orderWith(`,"payments":[{"id":` + q(text(n)) + `,"amount":1}]`)
		}},
		{"payment id", kPayment, L.IDBytes, "id", "bytes", func(n int) string {
			return strings.Replace(paymentWith(""), `"p-1"`, q(text(n)), 1)
		}},
		{"payment method ref id", kPayment, L.IDBytes, "paymentMethodRef.id", "bytes", func(n int) string {
			return paymentWith(`,"paymentMethodRef":{"id":` + q(text(n)) + `}`)
		}},
		{"transaction id", kTransaction, L.IDBytes, "id", "bytes", func(n int) string {
			return strings.Replace(transactionWith(""), `"t-1"`, q(text(n)), 1)
		}},
		{"transaction source ref id", kTransaction, L.IDBytes, "transactionSourceRef.id", "bytes", func(n int) string {
			return transactionWith(`,"transactionSourceRef":{"id":` + q(text(n)) + `,"type":"Payment"}`)
		}},
		{"settled transaction id", kTransaction, L.IDBytes, "settledTransactionIds[2]", "bytes", func(n int) string {
			return transactionWith(`,"settledTransactionIds":["a","b",` + q(text(n)) + `]`)
		}},
		{"orderNumber", kOrder, L.CodeBytes, "orderNumber", "bytes", func(n int) string {
			return orderWith(`,"orderNumber":` + q(text(n)))
		}},
		{"country", kOrder, L.CodeBytes, "country", "bytes", func(n int) string {
			return orderWith(`,"country":` + q(text(n)))
		}},
		{"paymentProvider", kPayment, L.CodeBytes, "paymentProvider", "bytes", func(n int) string {
			return paymentWith(`,"paymentProvider":` + q(text(n)))
		}},
		{"subType", kTransaction, L.CodeBytes, "subType", "bytes", func(n int) string {
			return transactionWith(`,"subType":` + q(text(n)))
		}},
		{"ref name", kOrder, L.NameBytes, "locationRef.name", "bytes", func(n int) string {
			return orderWith(`,"locationRef":{"id":"l","name":` + q(text(n)) + `}`)
		}},
		{"discount name", kOrder, L.NameBytes, "orderLineItems[0].discountAllocations[0].name", "bytes", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"discountAllocations":[{"name":`+q(text(n))+`,"totalAmount":0}]`) + `]`)
		}},
		{"service charge description", kOrder, L.TextBytes, "serviceCharges[0].description", "bytes", func(n int) string {
			return orderWith(`,"serviceCharges":[{"description":` + q(text(n)) + `,"totalAmount":0}]`)
		}},
		{"line items", kOrder, L.LineItems, "orderLineItems", "elements", func(n int) string {
			return orderWith(`,"orderLineItems":` + repeat(n, func(int) string { return `{"totalAmount":0}` }))
		}},
		{"taxes per line", kOrder, L.TaxesPerLine, "orderLineItems[0].taxes", "elements", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"taxes":`+repeat(n, func(int) string { return `{"taxAmount":0}` })) + `]`)
		}},
		{"discounts per line", kOrder, L.DiscountsPerLine, "orderLineItems[0].discountAllocations", "elements", func(n int) string {
			return orderWith(`,"orderLineItems":[` + line(`,"discountAllocations":`+repeat(n, func(int) string { return `{"totalAmount":0}` })) + `]`)
		}},
		{"service charges", kOrder, L.ServiceCharges, "serviceCharges", "elements", func(n int) string {
			return orderWith(`,"serviceCharges":` + repeat(n, func(int) string { return `{"totalAmount":0}` }))
		}},
		{"taxes per service charge", kOrder, L.TaxesPerLine, "serviceCharges[0].taxes", "elements", func(n int) string {
			return orderWith(`,"serviceCharges":[{"totalAmount":0,"taxes":` + repeat(n, func(int) string { return `{"taxAmount":0}` }) + `}]`)
		}},
		{"payments on an order", kOrder, L.Payments, "payments", "elements", func(n int) string {
			return orderWith(`,"payments":` + repeat(n, func(i int) string { return fmt.Sprintf(`{"id":"p%d"}`, i) }))
		}},
		{"settled transactions", kTransaction, L.SettledTransactions, "settledTransactionIds", "elements", func(n int) string {
			return transactionWith(`,"settledTransactionIds":` + repeat(n, func(i int) string { return fmt.Sprintf(`"t%d"`, i) }))
		}},
		{"location id", kLocation, L.IDBytes, "id", "bytes", func(n int) string {
			return strings.Replace(namedWith(""), `"r-1"`, q(text(n)), 1)
		}},
		{"location name", kLocation, L.NameBytes, "name", "bytes", func(n int) string {
			return strings.Replace(namedWith(""), `"Thing"`, q(text(n)), 1)
		}},
		{"address line", kLocation, L.TextBytes, "address.line1", "bytes", func(n int) string {
			return namedWith(`,"address":{"line1":` + q(text(n)) + `}`)
		}},
		{"address city", kLocation, L.NameBytes, "address.city", "bytes", func(n int) string {
			return namedWith(`,"address":{"city":` + q(text(n)) + `}`)
		}},
		{"postal code", kLocation, L.CodeBytes, "address.postalCode", "bytes", func(n int) string {
			return namedWith(`,"address":{"postalCode":` + q(text(n)) + `}`)
		}},
		{"product description", kProduct, L.TextBytes, "description", "bytes", func(n int) string {
			return namedWith(`,"description":` + q(text(n)))
		}},
		{"product categorization", kProduct, L.NameBytes, "categorization", "bytes", func(n int) string {
			return namedWith(`,"categorization":` + q(text(n)))
		}},
		{"variant sku", kProduct, L.CodeBytes, "variants[0].sku", "bytes", func(n int) string {
			return namedWith(`,"variants":[{"id":"v","sku":` + q(text(n)) + `}]`)
		}},
		{"variants", kProduct, L.Variants, "variants", "elements", func(n int) string {
			return namedWith(`,"variants":` + repeat(n, func(i int) string { return fmt.Sprintf(`{"id":"v%d"}`, i) }))
		}},
		{"prices per variant", kProduct, L.PricesPerVariant, "variants[0].prices", "elements", func(n int) string {
			return namedWith(`,"variants":[{"id":"v","prices":` + repeat(n, func(int) string { return `{"currency":"GBP","unitPrice":1}` }) + `}]`)
		}},
		{"product category refs", kProduct, L.CategoryRefs, "productCategoryRefs", "elements", func(n int) string {
			return namedWith(`,"productCategoryRefs":` + repeat(n, func(i int) string { return fmt.Sprintf(`{"id":"c%d"}`, i) }))
		}},
		{"ancestor refs", kCategory, L.CategoryRefs, "ancestorRefs", "elements", func(n int) string {
			return namedWith(`,"ancestorRefs":` + repeat(n, func(i int) string { return fmt.Sprintf(`{"id":"c%d"}`, i) }))
		}},
		{"category ancestor id", kCategory, L.IDBytes, "ancestorRefs[0].id", "bytes", func(n int) string {
			return namedWith(`,"ancestorRefs":[{"id":` + q(text(n)) + `}]`)
		}},
		{"tax component name", kTax, L.NameBytes, "name", "bytes", func(n int) string {
			return strings.Replace(namedWith(`,"rate":0.2`), `"Thing"`, q(text(n)), 1)
		}},
		{"payment method id", kMethod, L.IDBytes, "id", "bytes", func(n int) string {
			return strings.Replace(namedWith(""), `"r-1"`, q(text(n)), 1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if it := checkOne(t, c.kind, c.elem(c.limit), L); len(it.Errors) > 0 {
				t.Errorf("at the limit of %d %s: %v", c.limit, c.unit, render(it.Errors))
			}
			it := checkOne(t, c.kind, c.elem(c.limit+1), L)
			want := fmt.Sprintf("is %d bytes; the limit is %d", c.limit+1, c.limit)
			if c.unit == "elements" {
				want = fmt.Sprintf("has %d elements; the limit is %d", c.limit+1, c.limit)
			}
			if len(it.Errors) != 1 || it.Errors[0].Field != c.field || !strings.Contains(it.Errors[0].Message, want) {
				t.Errorf("one past the limit: %v, want one error on %s saying %q", render(it.Errors), c.field, want)
			}
		})
	}
}

// The whole record is bounded too: at RecordBytes encoded it is accepted,
// one byte more is rejected naming the field that takes most of it.
func TestRecordSizeAtAndPastTheLimit(t *testing.T) {
	L := DefaultLimits()
	// sized returns an order whose encoding is exactly size bytes, its
	// supplementalData padded to fit.
	sized := func(size int) string {
		pad := size - 200
		for range 5 { // each step closes the gap; varint lengths may move it a byte or two
			elem := orderWith(`,"supplementalData":{"content":{"note":` + q(strings.Repeat("x", pad)) + `}}`)
			items, err := DecodeBatch([]byte("["+elem+"]"), 1, newOrder)
			if err != nil {
				t.Fatal(err)
			}
			n := proto.Size(items[0].Msg)
			if n == size {
				return elem
			}
			pad += size - n
		}
		t.Fatalf("no padding gives an order of exactly %d bytes", size)
		return ""
	}
	if it := checkOne(t, kOrder, sized(L.RecordBytes), L); len(it.Errors) > 0 {
		t.Errorf("at the limit: %v", render(it.Errors))
	}
	it := checkOne(t, kOrder, sized(L.RecordBytes+1), L)
	want := fmt.Sprintf("the record is %d bytes encoded and the limit for one record is %d; supplementalData takes", L.RecordBytes+1, L.RecordBytes)
	if len(it.Errors) != 1 || it.Errors[0].Field != "supplementalData" || !strings.Contains(it.Errors[0].Message, want) {
		t.Errorf("past the limit: %v, want supplementalData: %s", render(it.Errors), want)
	}
}

// Configured limits replace the defaults, and unset ones keep them.
func TestConfiguredLimits(t *testing.T) {
	lim := Limits{IDBytes: 8, LineItems: 2}
	if err := lim.Check(); err != nil {
		t.Fatal(err)
	}
	it := checkOne(t, kOrder, strings.Replace(orderWith(`,"orderLineItems":[{},{},{}],"orderNumber":`+q(text(255))), `"o-1"`, `"123456789"`, 1), lim)
	expect(t, "tight limits", it.Errors, map[string]string{
		"id":             "is 9 bytes; the limit is 8",
		"orderLineItems": "has 3 elements; the limit is 2",
	})
	// The field named for a record past RecordBytes may be a list.
	it = checkOne(t, kOrder, orderWith(`,"orderLineItems":`+repeat(20, func(i int) string { return fmt.Sprintf(`{"id":"line-%d","totalAmount":0}`, i) })),
		Limits{RecordBytes: 300})
	expect(t, "a record of many lines", it.Errors, map[string]string{"orderLineItems": "the limit for one record is 300; orderLineItems takes"})
	if got := lim.WithDefaults(); got.CodeBytes != 255 || got.IDBytes != 8 || got.BodyBytes != 64<<20 {
		t.Errorf("WithDefaults = %+v", got)
	}
	for _, bad := range []Limits{{IDBytes: -1}, {RecordBytes: MaxRecordBytes + 1}, {BodyBytes: -5}} {
		if err := bad.Check(); err == nil {
			t.Errorf("%+v passed Check", bad)
		}
	}
}

// Every string and list field of the pushed model has a limit of its own
// class, so a field added to commerce.proto cannot arrive unbounded; this
// lists them so that a new one is classified on purpose.
func TestEveryFieldIsBounded(t *testing.T) {
	L := DefaultLimits()
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || isStructType(md) {
			return
		}
		seen[md.FullName()] = true
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if fd.IsList() {
				if _, advice := L.listLimit(md, fd); advice == "send fewer elements" {
					t.Errorf("%s has no list limit of its own", fd.FullName())
				}
			}
			switch {
			case fd.Message() != nil:
				walk(fd.Message())
			case fd.Kind() == protoreflect.StringKind:
				class := classOf(md, fd)
				if class == classCode && !codeFields[fd.Name()] {
					t.Errorf("%s falls to the code limit unnamed; classify it in classOf or list it here", fd.FullName())
				}
			}
		}
	}
	for _, m := range []proto.Message{&commercesyncv1.Order{}, &commercesyncv1.Payment{}, &commercesyncv1.Transaction{},
		&commercesyncv1.Location{}, &commercesyncv1.Product{}, &commercesyncv1.ProductCategory{},
		&commercesyncv1.TaxComponent{}, &commercesyncv1.PaymentMethod{}} {
		walk(m.ProtoReflect().Descriptor())
	}
}

// codeFields are the fields meant to be held to CodeBytes.
var codeFields = map[protoreflect.Name]bool{
	"order_number": true, "country": true, "payment_provider": true, "sub_type": true, "sku": true, "barcode": true,
	"unit_of_measure": true, "postal_code": true, "status": true,
}
