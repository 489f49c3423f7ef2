package gateway_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Every event a push writes is what proto.Marshal writes for it (in its
// deterministic form, so that free-form JSON's keys keep one order), and
// its content hash is ContentHash of its record: encoding each record once,
// and hashing those bytes, changes nothing a reader of commerce.events sees.
func TestRESTFastEventsAreWhatProtoWrites(t *testing.T) {
	h := newHarness(t)
	if _, err := h.store.PutConfig(context.Background(), h.company, &v1.SyncConfiguration{Configured: true,
		Schedule: &v1.Schedule{TimeZone: "America/New_York"}}); err != nil {
		t.Fatal(err)
	}
	f := h.front()
	pushes := []struct{ method, route, body string }{
		{"POST", "/data/commerce-orders", `[` + benchOrdersJSON(t) + `,{"id":"gone"},` +
			`{"id":"local","currency":"USD","totalAmount":"-0.5","createdDate":"2026-03-10T23:30:00","country":" US",` +
			`"supplementalData":{"content":{"z":1,"a":[true,null,{"b":"\u00e9"}],"":"empty key"}}}]`},
		{"POST", "/data/commerce-payments", `[{"id":"p1","amount":85,"currency":"GBP","type":"Card","status":"Paid",` +
			`"createdDate":"2026-03-10T15:46:17Z","sourceModifiedDate":"2026-03-10T15:46:20Z","paymentMethodRef":{"id":"visa"}}]`},
		{"POST", "/data/commerce-transactions", `[{"id":"t1","totalAmount":-1.49,"currency":"GBP","type":"PaymentFee",` +
			`"transactionSourceRef":{"id":"p1","type":"Payment"},"sourceCreatedDate":"2026-03-10T15:46:17Z"},` +
			`{"id":"po","totalAmount":100,"currency":"GBP","type":"Payout","createdDate":"2026-03-11T09:00:00Z","settledTransactionIds":["t1","t2"]}]`},
		{"PUT", "/data/commerce-locations", `[{"id":"l","name":"Shop","address":{"type":"Billing","country":"GB "},"modifiedDate":"2026-03-01T00:00:00Z"},{"id":"old"}]`},
		{"PUT", "/data/commerce-products", `[{"id":"p","name":"Latte","isGiftCard":true,"variants":[{"id":"v","prices":[{"currency":"GBP","unitPrice":3.2}]}]}]`},
		{"PUT", "/data/commerce-productCategories", `{"ProductCategories":[{"id":"c","name":"Drinks","hasChildren":true}]}`},
		{"PUT", "/data/commerce-taxComponents", `[{"id":"vat","name":"VAT","rate":0.2}]`},
		{"PUT", "/data/commerce-paymentMethods", `[{"id":"visa","name":"Visa","status":"Active"}]`},
	}
	sent := 0
	for _, p := range pushes {
		code, resp, raw := f.post(p.method, p.route, strings.NewReader(p.body))
		if code != 200 || resp.Rejected != 0 {
			t.Fatalf("%s %s: %d %s", p.method, p.route, code, raw)
		}
		sent += int(resp.Accepted)
	}

	seen := 0
	err := kafka.ReadPartition(context.Background(), h.brokers, h.topics.Events, 0, nil, func(r *kgo.Record) error {
		var ev v1.CommerceEvent
		if err := proto.Unmarshal(r.Value, &ev); err != nil {
			return err
		}
		var body proto.Message
		var hash []byte
		switch {
		case ev.GetRecord() != nil:
			rec := ev.GetRecord()
			hash = rec.GetContentHash()
			switch {
			case rec.GetOrder() != nil:
				body = rec.GetOrder()
			case rec.GetPayment() != nil:
				body = rec.GetPayment()
			case rec.GetTransaction() != nil:
				body = rec.GetTransaction()
			}
		case ev.GetReference() != nil:
			ref := ev.GetReference()
			hash = ref.GetContentHash()
			for _, m := range []proto.Message{ref.GetLocation(), ref.GetProduct(), ref.GetProductCategory(), ref.GetTaxComponent(), ref.GetPaymentMethod()} {
				if m.ProtoReflect().IsValid() {
					body = m
				}
			}
		default:
			return nil // not a record
		}
		seen++
		if want, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(&ev); !bytes.Equal(r.Value, want) {
			t.Errorf("event %d is not what proto.Marshal writes:\n%x\n%x", seen, r.Value, want)
		}
		if body == nil {
			if len(hash) != 0 {
				t.Errorf("event %d: a delete with a content hash", seen)
			}
			return nil
		}
		if !bytes.Equal(hash, records.ContentHash(body)) {
			t.Errorf("event %d: content hash %x, ContentHash of its record %x", seen, hash, records.ContentHash(body))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != sent {
		t.Errorf("%d record events for %d records accepted", seen, sent)
	}
}

// benchOrdersJSON is three of the benchmark's orders, without the array.
func benchOrdersJSON(t *testing.T) string {
	t.Helper()
	b := benchOrders(0, 3)
	return string(b[1 : len(b)-1])
}
