package records

import (
	"fmt"
	"strings"
	"testing"
)

// realisticOrders renders n orders shaped like a busy café's: three lines
// with taxes, a discount, a card payment, a service charge and refs.
func realisticOrders(n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id":"ord-%06d","orderNumber":"%d","country":"GBR","currency":"GBP",`+
			`"createdDate":"2022-02-14T%02d:%02d:18Z","closedDate":"2022-02-14T%02d:%02d:40Z","modifiedDate":"2022-02-15T06:53:11Z",`+
			`"sourceModifiedDate":"2022-02-14T15:46:18.123Z","totalAmount":19.7,"totalRefund":0,"totalTaxAmount":3.28,`+
			`"totalDiscount":0.5,"totalGratuity":1,"orderLineItems":[`,
			i, 1000+i, 8+i%12, i%60, 8+i%12, i%60)
		for j := range 3 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"line-%06d-%d","quantity":%d,"taxPercentage":20,"totalAmount":"6.40","totalTaxAmount":1.07,`+
				`"unitPrice":5.75,"taxes":[{"taxComponentRef":{"id":"vat-std","name":"VAT 20%%"},"taxAmount":1.07}],`+
				`"productRef":{"id":"prod-%d","name":"Flat white"},"productVariantRef":{"id":"var-%d","name":"Oat"},`+
				`"discountAllocations":[{"name":"Loyalty","totalAmount":0.17}]}`, i, j, 1+j%2, j, j)
		}
		fmt.Fprintf(&b, `],"payments":[{"id":"pay-%06d","amount":20.7,"currency":"GBP","type":"Card","status":"Paid",`+
			`"createdDate":"2022-02-14T15:46:18Z"}],"serviceCharges":[{"description":"Table service","totalAmount":0.5,`+
			`"taxPercentage":20,"taxAmount":0.08,"quantity":1,"type":"Generic"}],"locationRef":{"id":"loc-1","name":"High St"},`+
			`"customerRef":{"id":"cust-%d","name":"A. Customer"},"supplementalData":{"content":{"till":"T%d","shift":"am"}}}`, i, i%97, i%4)
	}
	b.WriteString("]")
	return []byte(b.String())
}

func TestRealisticOrdersAreValid(t *testing.T) {
	items, err := DecodeBatch(realisticOrders(50), 0, newOrder)
	if err != nil {
		t.Fatal(err)
	}
	ValidateItems(items)
	for _, it := range items {
		if len(it.Errors) > 0 {
			t.Fatalf("order %d: %v", it.Index, render(it.Errors))
		}
	}
}

func BenchmarkDecodeBatch1000Orders(b *testing.B) {
	body := realisticOrders(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		items, err := DecodeBatch(body, 0, newOrder)
		if err != nil || len(items) != 1000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAndValidate1000Orders(b *testing.B) {
	body := realisticOrders(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		items, _ := DecodeBatch(body, 0, newOrder)
		ValidateItems(items)
	}
}
