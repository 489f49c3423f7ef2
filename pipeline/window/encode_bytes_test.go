package window

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The hand-written record encoding writes the very bytes proto.Marshal
// writes, not only bytes that decode alike: a field at its zero value (an
// empty content hash, an empty string, a zero amount, false) is left out,
// so changelog values stay as short as the generated code makes them.
func TestRecordEncodingIsByteForByteProtoMarshal(t *testing.T) {
	cases := map[string]*recState{
		"empty": {},
		"no content hash": {srcMod: 7, event: 1781092800000, currency: "GBP", day: "2026-06-10", total: 120000, tax: -20000,
			payType: "Card", status: "Paid", seen: 1781092800000, settled: []string{"pay-1"}, site: "s", location: "l"},
		"hash and lines": {hash: []byte{0, 1, 2}, deleted: true, total: 10,
			lines:   []day.OrderLine{{Product: "latte", Total: 45000, Tax: 7500, TaxKey: "rate:20", Taxes: []day.TaxPart{{Key: "vat", Amount: 7500}, {}}, Category: "drinks", GiftCard: true}, {}},
			charges: []day.Charge{{Total: 500, Shipping: true}, {}}, exception: "Order o-1: off by 0.50"},
	}
	for name, rs := range cases {
		for _, k := range []recordKey{{}, {v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-1"}} {
			got, _ := appendRecordChange(nil, nil, k, rs)
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(recordProto(k, rs))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, key %v: hand encoding\n%x\nproto.Marshal\n%x", name, k, got, want)
			}
		}
	}
}

// The same for days: accounts with and without amounts, a grouped day's
// location and a parked day.
func TestDayEncodingIsByteForByteProtoMarshal(t *testing.T) {
	cases := map[string]*dayState{
		"empty": {},
		"open":  {totals: acctTotals{{"sales", -120000}, {"unsettled", 120000}}, records: 2, start: 1781046000000, end: 1781132400000},
		"parked": {totals: acctTotals{{"", 5}, {"tax", 0}}, posted: acctTotals{{"sales", 1}}, revision: 3, sealed: true, dirty: true,
			records: -1, parked: "its summary could not be written"},
	}
	for name, d := range cases {
		for _, k := range []dayKey{{}, {day: "2026-06-10", currency: "GBP", location: "shop-1"}} {
			got, _ := appendDayChange(nil, nil, k, d)
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Day{Day: dayProto(k, d)}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, key %v: hand encoding\n%x\nproto.Marshal\n%x", name, k, got, want)
			}
		}
	}
}
