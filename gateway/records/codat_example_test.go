package records

import (
	"testing"

	"google.golang.org/protobuf/proto"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Codat's linked example (reference §2.3), with the elided ids and dates
// filled in. Amounts are JSON numbers, as Codat's clients send them.
const (
	codatOrder = `[{"id":"1f463dc2-3d2b-4c1e-8b55-2b1f0d4a7c11","orderNumber":"1f463dc2-3d2b-4c1e-8b55-2b1f0d4a7c11",
	 "country":"GB ","currency":"GBP","createdDate":"2022-02-14T15:46:18Z","closedDate":"2022-02-14T15:46:18Z",
	 "totalAmount":85,"totalRefund":0,"totalTaxAmount":0,"totalDiscount":0,"totalGratuity":0,
	 "orderLineItems":[{"id":"01e1f4f6-8e8a-4a54-9c7a-5d2f3b1e0a22","quantity":1,"taxPercentage":0,"totalAmount":85,
	   "totalTaxAmount":0,"unitPrice":85,"discountAllocations":[]}],
	 "payments":[],"serviceCharges":[],"locationRef":{"id":"52a50627-6c1d-4b0e-9f3a-7e8d9c0b1a33"},
	 "sourceModifiedDate":"2022-02-14T15:46:18Z"}]`
	codatPayment = `[{"id":"0944c8e6-5f2a-4d3b-8c1e-9a0b7c6d5e44","amount":85,"currency":"GBP","type":"Card","status":"Paid",
	 "dueDate":"2022-02-14T15:46:17Z","createdDate":"2022-02-14T15:46:17Z","modifiedDate":"2022-02-15T06:53:11Z",
	 "sourceModifiedDate":"2022-02-14T15:46:20Z"}]`
	codatTransactions = `[
	 {"id":"0944c8e6-5f2a-4d3b-8c1e-9a0b7c6d5e44","totalAmount":85,"currency":"GBP","type":"Payment",
	  "transactionSourceRef":{"id":"1f463dc2-3d2b-4c1e-8b55-2b1f0d4a7c11","type":"Order"},
	  "createdDate":"2022-02-14T15:46:17Z","modifiedDate":"2022-02-15T06:53:11Z","sourceModifiedDate":"2022-02-14T15:46:20Z"},
	 {"id":"0944c8e6-5f2a-4d3b-8c1e-9a0b7c6d5e44","totalAmount":-1.49,"currency":"GBP","type":"PaymentFee",
	  "transactionSourceRef":{"id":"0944c8e6-5f2a-4d3b-8c1e-9a0b7c6d5e44","type":"Payment"},
	  "createdDate":"2022-02-14T15:46:17Z","modifiedDate":"2022-02-15T06:53:11Z","sourceModifiedDate":"2022-02-14T15:46:20Z"}]`
)

func decodeValid[T proto.Message](t *testing.T, body string, newMsg func() T) []Item[T] {
	t.Helper()
	items, err := DecodeBatch([]byte(body), 0, newMsg)
	if err != nil {
		t.Fatalf("DecodeBatch: %v", err)
	}
	ValidateItems(items)
	for _, it := range items {
		for _, e := range it.Errors {
			t.Errorf("item %d: %s: %s", it.Index, e.Field, e.Message)
		}
	}
	return items
}

func TestCodatLinkedExample(t *testing.T) {
	orders := decodeValid(t, codatOrder, func() *commercesyncv1.Order { return new(commercesyncv1.Order) })
	o := orders[0].Msg
	if o.TotalAmount != "85" || o.OrderLineItems[0].UnitPrice != "85" || o.TotalRefund != "0" {
		t.Errorf("order amounts not kept as sent: %q %q %q", o.TotalAmount, o.OrderLineItems[0].UnitPrice, o.TotalRefund)
	}
	if o.Country != "GB" {
		t.Errorf("country = %q, want trimmed GB", o.Country)
	}
	if orders[0].ID != "1f463dc2-3d2b-4c1e-8b55-2b1f0d4a7c11" || orders[0].Delete {
		t.Errorf("item id/delete = %q/%v", orders[0].ID, orders[0].Delete)
	}

	payments := decodeValid(t, codatPayment, func() *commercesyncv1.Payment { return new(commercesyncv1.Payment) })
	if p := payments[0].Msg; p.Amount != "85" || p.Type != "Card" || p.Status != "Paid" {
		t.Errorf("payment = %v", p)
	}

	txs := decodeValid(t, codatTransactions, func() *commercesyncv1.Transaction { return new(commercesyncv1.Transaction) })
	if got := txs[0].Msg; got.TotalAmount != "85" || got.TransactionSourceRef.GetType() != "Order" {
		t.Errorf("payment transaction = %v", got)
	}
	if got := txs[1].Msg; got.TotalAmount != "-1.49" || got.Type != "PaymentFee" {
		t.Errorf("fee transaction = %v", got)
	}
	// Same id, different type: the hash tells the two records apart.
	if string(ContentHash(txs[0].Msg)) == string(ContentHash(txs[1].Msg)) {
		t.Error("payment and fee transactions hash the same")
	}
}
