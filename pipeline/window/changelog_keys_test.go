package window

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A changelog key is company, a one-byte kind and the rest, split by zero
// bytes. Restore refuses a key with a kind of any other length, or without
// the rest, naming the key, whatever its value holds, and leaves the state
// as it was.
func TestRestoreRefusesAKeyWithoutAOneByteKind(t *testing.T) {
	head, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Company{Company: &v1.WindowCompany{CompanyId: "co", TenantId: "tenant"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The value is a good company head: under its proper key it restores.
	if err := testAggregator(t).Restore(0, changeKey("co", kindHead, ""), head); err != nil {
		t.Fatalf("the well-formed head key is refused: %v", err)
	}
	for _, key := range []string{"co\x00mm\x00", "co\x00\x00", "co\x00\x00\x00", "co\x00m", "co"} {
		a := testAggregator(t)
		err := a.Restore(0, []byte(key), head)
		if err == nil || !strings.Contains(err.Error(), "malformed changelog key") || !strings.Contains(err.Error(), "co") {
			t.Errorf("Restore of key %q: %v, want it refused as a malformed changelog key", key, err)
		}
		if len(a.companies) != 0 {
			t.Errorf("a refused key %q left %d companies", key, len(a.companies))
		}
	}
}

// A record's changelog key, built in place on the hot path, has the length
// its kind's decimal text gives: every digit counted (9, 10, 99, 100 and
// more) and a minus sign for a negative kind, none for kind 0.
func TestRecordKeyLengthCountsEveryDigitOfTheKind(t *testing.T) {
	for _, kind := range []int32{0, 1, 9, 10, 11, 99, 100, 101, 1000, -1, -9, -10, -100} {
		k := recordKey{v1.RecordKind(kind), "PaymentFee", "id-1"}
		want := changeKey("company", kindRecord, recKeyString(k))
		if n := recordKeyLen("company", k); n != len(want) {
			t.Errorf("kind %d: key length %d, want %d (%q)", kind, n, len(want), want)
		}
		if got := appendRecordKey(nil, "company", k); string(got) != string(want) {
			t.Errorf("kind %d: key %q, want %q", kind, got, want)
		}
	}
}
