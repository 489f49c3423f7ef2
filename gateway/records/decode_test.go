package records

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// decodeOne decodes a single element and returns the message and its errors
// rendered as "path: message".
func decodeOne[T proto.Message](t *testing.T, elem string, newMsg func() T) (Item[T], []string) {
	t.Helper()
	items, err := DecodeBatch([]byte("["+elem+"]"), 10, newMsg)
	if err != nil {
		t.Fatalf("DecodeBatch(%s): %v", elem, err)
	}
	var errs []string
	for _, e := range items[0].Errors {
		errs = append(errs, e.Field+": "+e.Message)
	}
	return items[0], errs
}

func TestNumbersKeepTheirText(t *testing.T) {
	for _, n := range []string{"1e2", "0.10", "-1.49", "85", "0", "-0", "1E-2", "12345678901234567890.1234"} {
		it, errs := decodeOne(t, `{"totalAmount":`+n+`}`, newOrder)
		if len(errs) > 0 || it.Msg.TotalAmount != n {
			t.Errorf("%s: got %q, errors %v", n, it.Msg.TotalAmount, errs)
		}
	}
	// Strings are kept as sent too; checking them is validation's job.
	it, _ := decodeOne(t, `{"totalAmount":"0.10","orderNumber":1001}`, newOrder)
	if it.Msg.TotalAmount != "0.10" || it.Msg.OrderNumber != "1001" {
		t.Errorf("got %q %q", it.Msg.TotalAmount, it.Msg.OrderNumber)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ elem, want string }{
		{`{"id":5,"orderLineItems":{}}`, `orderLineItems: must be an array, not an object`},
		{`{"locationRef":"loc-1"}`, `locationRef: must be an object, not a string`},
		{`{"id":true}`, `id: must be a string, not true or false`},
		{`{"orderLineItems":[{"taxes":[{"taxAmount":[1]}]}]}`,
			`orderLineItems[0].taxes[0].taxAmount: must be a number or a string holding one, such as 12.34, not an array`},
		{`{"orderLineItems":[{"taxes":[{"taxAmmount":1}]}]}`,
			`orderLineItems[0].taxes[0].taxAmmount: unknown field "taxAmmount"; did you mean "taxAmount"?`},
		{`{"total_amount":1}`, `total_amount: unknown field "total_amount"; did you mean "totalAmount"?`},
		{`{"colour":"red"}`, `colour: unknown field "colour"; remove it`},
		{`{"id":"a","id":"b"}`, `id: appears more than once`},
		{`{"orderLineItems":[null]}`, `orderLineItems[0]: must not be null`},
		{`{"orderLineItems":[1]}`, `orderLineItems[0]: must be an object, not a number`},
		{"{\"id\":\"\xff\"}", `id: is not valid UTF-8 text`},
		{`{"supplementalData":{"content":[]}}`, `supplementalData.content: must be an object, not an array`},
		{`{"supplementalData":{"content":{"a":1e999}}}`, `supplementalData.content.a: number "1e999" is out of range`},
		{`[]`, `: each record must be a JSON object, not an array`},
		{`"x"`, `: each record must be a JSON object, not a string`},
	}
	for _, c := range cases {
		_, errs := decodeOne(t, c.elem, newOrder)
		if len(errs) == 0 || !strings.HasPrefix(errs[0], c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.elem, errs, c.want)
		}
	}
}

func TestDecodeNullsStructsAndBools(t *testing.T) {
	it, errs := decodeOne(t, `{"id":"p1","totalAmount":null,"orderLineItems":null,
		"supplementalData":{"content":{"a":[1,"x",true,null,{"b":{}}],"n":0.1}}}`, newOrder)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if it.Msg.TotalAmount != "" || it.Msg.OrderLineItems != nil {
		t.Error("null did not leave fields unset")
	}
	if it.Delete {
		t.Error("a record with more than an id is not a delete")
	}
	content := it.Msg.GetSupplementalData().GetContent().AsMap()
	if len(content) != 2 || content["n"] != 0.1 {
		t.Errorf("content = %v", content)
	}

	p, errs := decodeOne(t, `{"id":"v","variants":[{"isTaxEnabled":true,"shippingRequired":"yes"}]}`,
		func() *commercesyncv1.Product { return new(commercesyncv1.Product) })
	if len(errs) != 1 || errs[0] != `variants[0].shippingRequired: must be true or false, not a string` {
		t.Errorf("errors = %v", errs)
	}
	if !p.Msg.Variants[0].IsTaxEnabled {
		t.Error("isTaxEnabled not decoded alongside the error")
	}
}

func TestEveryRecordKindDecodes(t *testing.T) {
	check := func(name string, m proto.Message, elem string) {
		items, err := DecodeBatch([]byte("["+elem+"]"), 1, func() proto.Message { return proto.Clone(m) })
		if err != nil {
			t.Fatal(err)
		}
		ValidateItems(items)
		if len(items[0].Errors) > 0 {
			t.Errorf("%s: %v", name, items[0].Errors)
		}
	}
	check("location", &commercesyncv1.Location{}, `{"id":"l","name":"Shop","address":{"type":"Billing","country":"GB "}}`)
	check("product", &commercesyncv1.Product{}, `{"id":"p","name":"Latte","productCategoryRefs":[{"id":"c"}],
		"variants":[{"id":"v","vatPercentage":20,"prices":[{"currency":"GBP","unitPrice":9.99}],"status":"Published"}]}`)
	check("category", &commercesyncv1.ProductCategory{}, `{"id":"c","name":"Drinks","ancestorRefs":[{"id":"root"}],"hasChildren":false}`)
	check("tax", &commercesyncv1.TaxComponent{}, `{"id":"t","name":"NYC","rate":0.08875,"isCompound":false}`)
	check("method", &commercesyncv1.PaymentMethod{}, `{"id":"m","name":"Visa","status":"Active"}`)
}
