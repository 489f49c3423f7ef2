package records

import (
	"testing"
	"time"
)

// The steps of a push of 100 realistic orders on the plans, each on its
// own, to see where the time of BenchmarkRESTIngestGateway goes.

func BenchmarkRESTIngestDecode(b *testing.B) {
	body := realisticOrders(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if items, err := DecodeBatch(body, 0, newOrder); err != nil || len(items) != 100 {
			b.Fatal(err)
		}
	}
}

func BenchmarkRESTIngestValidate(b *testing.B) {
	items, _ := DecodeBatch(realisticOrders(100), 0, newOrder)
	b.ReportAllocs()
	for b.Loop() {
		ValidateItems(items)
	}
}

func BenchmarkRESTIngestCheckDates(b *testing.B) {
	items, _ := DecodeBatch(realisticOrders(100), 0, newOrder)
	b.ReportAllocs()
	for b.Loop() {
		for _, it := range items {
			CheckDates(it.Msg, time.UTC, fuzzNow, DefaultModifiedSkew)
		}
	}
}

func BenchmarkRESTIngestEncode(b *testing.B) {
	items, _ := DecodeBatch(realisticOrders(100), 0, newOrder)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		for _, it := range items {
			enc, err := Encode(buf[:0], it.Msg)
			if err != nil {
				b.Fatal(err)
			}
			buf = enc.Bytes
		}
	}
}
