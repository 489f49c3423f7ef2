package window

import (
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The hand-written encoding must decode to exactly what recordProto says,
// for every value of every field, negative amounts and empty strings
// included.
func TestRecordEncodingMatchesProto(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := func(label string) string {
			return rapid.SampledFrom([]string{"", "Card", "2026-03-10", "pay-1", "é ü"}).Draw(t, label)
		}
		k := recordKey{v1.RecordKind(rapid.IntRange(0, 3).Draw(t, "kind")), str("typ"), str("id")}
		rs := &recState{
			srcMod: rapid.Int64().Draw(t, "srcMod"), hash: rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "hash"),
			deleted: rapid.Bool().Draw(t, "deleted"), event: rapid.Int64().Draw(t, "event"),
			currency: str("currency"), day: str("day"), site: str("site"), location: str("location"),
			total: money.Amount(rapid.Int64().Draw(t, "total")), tax: money.Amount(rapid.Int64().Draw(t, "tax")),
			gratuity: money.Amount(rapid.Int64().Draw(t, "gratuity")),
			payType:  str("payType"), status: str("status"), linked: str("linked"), tender: str("tender"),
			seen: rapid.Int64().Draw(t, "seen"), exception: str("exception"),
			settled: rapid.SliceOfN(rapid.SampledFrom([]string{"pay-1", "pay-2", "é"}), 0, 3).Draw(t, "settled"),
		}
		parts := func(label string) []day.TaxPart {
			var out []day.TaxPart
			for range rapid.IntRange(0, 2).Draw(t, label+" parts") {
				out = append(out, day.TaxPart{Key: str(label + " part"), Amount: money.Amount(rapid.Int64().Draw(t, label+" part amount"))})
			}
			return out
		}
		for range rapid.IntRange(0, 3).Draw(t, "lines") {
			rs.lines = append(rs.lines, day.OrderLine{Total: money.Amount(rapid.Int64().Draw(t, "line total")),
				Tax: money.Amount(rapid.Int64().Draw(t, "line tax")), Discount: money.Amount(rapid.Int64().Draw(t, "line discount")),
				TaxKey: str("line key"), Taxes: parts("line"), Category: str("line category"), GiftCard: rapid.Bool().Draw(t, "gift"),
				Product: str("line product")})
		}
		for range rapid.IntRange(0, 2).Draw(t, "charges") {
			rs.charges = append(rs.charges, day.Charge{Total: money.Amount(rapid.Int64().Draw(t, "charge total")),
				Tax: money.Amount(rapid.Int64().Draw(t, "charge tax")), TaxKey: str("charge key"), Taxes: parts("charge"),
				Shipping: rapid.Bool().Draw(t, "shipping")})
		}
		got, _ := appendRecordChange(nil, nil, k, rs)
		var dec v1.WindowChange
		if err := proto.Unmarshal(got, &dec); err != nil {
			t.Fatalf("hand encoding does not decode: %v", err)
		}
		if want := recordProto(k, rs); !proto.Equal(&dec, want) {
			t.Fatalf("hand encoding decodes to\n%v\nwant\n%v", &dec, want)
		}
	})
}

func TestDayEncodingMatchesProto(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := dayKey{rapid.SampledFrom([]string{"", "2026-03-10"}).Draw(t, "day"), rapid.SampledFrom([]string{"", "GBP"}).Draw(t, "currency"),
			rapid.SampledFrom([]string{"", "shop-1"}).Draw(t, "location")}
		totals := func(label string) acctTotals {
			var out acctTotals
			for i, a := range rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"sales", "tax", "tender:Card", "é"}), 0, 4, rapid.ID[string]).Draw(t, label) {
				out = append(out, acctAmt{day.Account(a), money.Amount(rapid.Int64().Draw(t, label+" amount") | int64(i+1))})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].acct < out[j].acct })
			return out
		}
		d := &dayState{totals: totals("totals"), posted: totals("posted"), revision: rapid.IntRange(0, 5).Draw(t, "revision"),
			sealed: rapid.Bool().Draw(t, "sealed"), records: rapid.IntRange(-2, 1000).Draw(t, "records"), dirty: rapid.Bool().Draw(t, "dirty"),
			start: rapid.Int64().Draw(t, "start"), end: rapid.Int64().Draw(t, "end"),
			parked: rapid.SampledFrom([]string{"", "its summary could not be written"}).Draw(t, "parked")}
		got, _ := appendDayChange(nil, nil, k, d)
		var dec v1.WindowChange
		if err := proto.Unmarshal(got, &dec); err != nil {
			t.Fatalf("hand encoding does not decode: %v", err)
		}
		want := &v1.WindowChange{Entry: &v1.WindowChange_Day{Day: dayProto(k, d)}}
		if !proto.Equal(&dec, want) {
			t.Fatalf("hand encoding decodes to\n%v\nwant\n%v", &dec, want)
		}
	})
}

func TestRecordKeyBytes(t *testing.T) {
	for _, k := range []recordKey{{v1.RecordKind_RECORD_KIND_ORDER, "", "o-1"}, {v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "p é"}, {v1.RecordKind(12), "", ""}} {
		want := changeKey("co", kindRecord, recKeyString(k))
		got := appendRecordKey([]byte("prefix"), "co", k)[len("prefix"):]
		if string(got) != string(want) || recordKeyLen("co", k) != len(want) {
			t.Errorf("key of %v = %q (len %d), want %q", k, got, recordKeyLen("co", k), want)
		}
	}
}
