package window

import (
	"slices"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestRecordKeysSortTheSameWhateverTheirArrivalOrder pins the order a batch
// re-applies and writes records in: it must not depend on the order a map
// hands keys over. Types and ids may hold the separator of a key's text, so
// two different keys can print the same; they still sort by their fields.
func TestRecordKeysSortTheSameWhateverTheirArrivalOrder(t *testing.T) {
	tx := v1.RecordKind_RECORD_KIND_TRANSACTION
	a := recordKey{kind: tx, typ: "a|b", id: "c"}
	b := recordKey{kind: tx, typ: "a", id: "b|c"}
	if a.String() != b.String() {
		t.Fatalf("the keys were meant to print alike: %q and %q", a, b)
	}
	pay := recordKey{kind: v1.RecordKind_RECORD_KIND_PAYMENT, id: "p1"}
	fee := recordKey{kind: tx, typ: "PaymentFee", id: "f1"}
	want := []recordKey{pay, fee, b, a}
	for _, in := range [][]recordKey{{a, b, fee, pay}, {b, a, pay, fee}, {pay, a, fee, b}, {fee, b, a, pay}} {
		got := slices.Clone(in)
		sortKeys(got)
		if !slices.Equal(got, want) {
			t.Errorf("sortKeys(%+v)\n = %+v\nwant %+v", in, got, want)
		}
	}
}
