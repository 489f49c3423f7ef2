package window

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// entry is one changelog entry for a restore test.
type changeEntry struct{ key, value []byte }

func orderEntry(company, id string, rs *recState) changeEntry {
	k := recordKey{v1.RecordKind_RECORD_KIND_ORDER, "", id}
	return recordEntry(company, k, rs)
}

func recordEntry(company string, k recordKey, rs *recState) changeEntry {
	e := changeEntry{key: appendRecordKey(nil, company, k)}
	if rs != nil {
		e.value, _ = appendRecordChange(nil, nil, k, rs)
	}
	return e
}

func refChange(company string, kind v1.ReferenceKind, id string, deleted bool) changeEntry {
	k := refDataKey{kind, id}
	e := changeEntry{key: appendRefKey(nil, company, k)}
	if !deleted {
		e.value = appendReferenceChange(nil, k, []refVersion{{from: 1, hash: []byte{1}, category: "food"}})
	}
	return e
}

func selling(seen int64, products ...string) *recState {
	rs := &recState{srcMod: 1, hash: []byte{1}, event: seen, seen: seen, currency: "GBP", day: "2026-01-05", total: money.FromMinor(1000, 2)}
	for _, p := range products {
		rs.lines = append(rs.lines, day.OrderLine{Product: p, Total: money.FromMinor(500, 2)})
	}
	return rs
}

// derivedKeys lists the keys of partition 0's sections E, P, O and W, each
// as section, then the rest after the partition, with W's value appended.
func derivedKeys(t *testing.T, st *Store) []string {
	t.Helper()
	var out []string
	for _, sec := range []byte{secExc, secFees, secProducts, secWatermark} {
		err := st.scan(changePrefix(nil, sec, 0), func(k, v []byte) error {
			s := string(k[:1]) + " " + strings.ReplaceAll(string(k[5:]), "\x00", "|")
			if sec == secWatermark {
				s += " " + time.UnixMilli(int64(binary.BigEndian.Uint64(v))).UTC().Format(time.RFC3339)
			} else if len(v) > 0 {
				s += " = " + strings.ReplaceAll(string(v), "\x00", "|")
			}
			out = append(out, s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A restore writes each record's derived keys as Commit would: its
// exception, its links to payments and, for companies with product reference
// data only, its products, whether that data comes before or after the
// orders in the changelog. Ops counts what the batch holds before
// RestoreDone beyond the wipe and the entries themselves: the orders of a
// company whose product data was read first are indexed as they come.
func TestRestoreWritesEachRecordsDerivedKeys(t *testing.T) {
	at := int64(1767600000000) // 2026-01-05T08:00:00Z
	stamp := "2026-01-05T08:00:00Z"
	product := v1.ReferenceKind_REFERENCE_KIND_PRODUCT
	fee := recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-1"}
	payout := recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "Payout", "po-1"}
	withExc := func(rs *recState, deleted bool) *recState {
		rs.exception, rs.deleted = "lines do not add up", deleted
		return rs
	}
	for _, tc := range []struct {
		name      string
		entries   []changeEntry
		ops       int
		unindexed []string
		want      []string
	}{
		{"orders of a company without product data", []changeEntry{orderEntry("co", "o-1", selling(at, "p1", "", "p2"))}, 0, []string{"co"},
			[]string{"W co " + stamp}},
		{"an order selling nothing", []changeEntry{orderEntry("co", "o-1", selling(at, "", ""))}, 0, nil,
			[]string{"W co " + stamp}},
		{"product data first", []changeEntry{refChange("co", product, "p1", false), orderEntry("co", "o-1", selling(at, "p1", "", "p2"))}, 2, nil,
			[]string{"O co|p1|1||o-1", "O co|p2|1||o-1", "W co " + stamp}},
		{"product data after the orders", []changeEntry{orderEntry("co", "o-1", selling(at, "p1", "", "p2")), refChange("co", product, "p9", false)}, 0, []string{"co"},
			[]string{"O co|p1|1||o-1", "O co|p2|1||o-1", "W co " + stamp}},
		{"a product's tombstone first", []changeEntry{refChange("co", product, "p1", true), orderEntry("co", "o-1", selling(at, "p1"))}, 0, []string{"co"},
			[]string{"W co " + stamp}},
		{"other reference data after the orders", []changeEntry{orderEntry("co", "o-1", selling(at, "p1")), refChange("co", v1.ReferenceKind_REFERENCE_KIND_PRODUCT_CATEGORY, "2", false)}, 0, []string{"co"},
			[]string{"W co " + stamp}},
		{"another company's product data", []changeEntry{refChange("cx", product, "p1", false), orderEntry("co", "o-1", selling(at, "p1")), refChange("co2", product, "p1", false)}, 0, []string{"co"},
			[]string{"W co " + stamp}},
		{"a fee linked to a payment", []changeEntry{recordEntry("co", fee, &recState{linked: "pay-1", settled: []string{"pay-9"}, seen: at})}, 1, nil,
			[]string{"P co|pay-1|3|PaymentFee|fee-1", "W co " + stamp}},
		{"a payout settling payments", []changeEntry{recordEntry("co", payout, &recState{settled: []string{"pay-1", "pay-2"}, seen: at})}, 2, nil,
			[]string{"P co|pay-1|3|Payout|po-1", "P co|pay-2|3|Payout|po-1", "W co " + stamp}},
		{"an exception", []changeEntry{orderEntry("co", "o-1", withExc(selling(at), false))}, 1, nil,
			[]string{"E co|1||o-1 = 2026-01-05|GBP||lines do not add up", "W co " + stamp}},
		{"an exception of a deleted record", []changeEntry{orderEntry("co", "o-1", withExc(selling(at), true))}, 0, nil,
			[]string{"W co " + stamp}},
		{"an exception of a record of no day", []changeEntry{orderEntry("co", "o-1", func() *recState { rs := withExc(selling(at), false); rs.day = ""; return rs }())}, 0, nil,
			[]string{"W co " + stamp}},
		{"an exception, then the record without", []changeEntry{orderEntry("co", "o-1", withExc(selling(at), false)), orderEntry("co", "o-1", selling(at))}, 2, nil,
			[]string{"W co " + stamp}},
		{"an exception, then the record's tombstone", []changeEntry{orderEntry("co", "o-1", withExc(selling(at), false)), orderEntry("co", "o-1", nil)}, 2, nil,
			[]string{"W co " + stamp}},
		{"a tombstone", []changeEntry{orderEntry("co", "o-1", nil)}, 0, nil, nil},
		{"the latest event time, whatever the order", []changeEntry{orderEntry("co", "o-2", selling(at)), orderEntry("co", "o-1", selling(at-1000)), orderEntry("co", "o-3", selling(at))}, 0, nil,
			[]string{"W co " + stamp}},
		{"an event time not after 1970", []changeEntry{orderEntry("co", "o-1", selling(0))}, 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openTestStore(t)
			a := testAggregator(t, WithStore(st))
			for _, e := range tc.entries {
				if err := a.Restore(0, e.key, e.value); err != nil {
					t.Fatalf("Restore %q: %v", e.key, err)
				}
			}
			rs := a.restoring[0]
			if ops := int(rs.b.Count()) - len(sections) - len(tc.entries); ops != tc.ops {
				t.Errorf("the batch holds %d derived keys before RestoreDone, want %d", ops, tc.ops)
			}
			var unindexed []string
			for c := range rs.unindexed {
				unindexed = append(unindexed, c)
			}
			slices.Sort(unindexed)
			if !slices.Equal(unindexed, tc.unindexed) {
				t.Errorf("companies left to index %q, want %q", unindexed, tc.unindexed)
			}
			if err := a.RestoreDone(0); err != nil {
				t.Fatal(err)
			}
			if got := derivedKeys(t, st); !slices.Equal(got, tc.want) {
				t.Errorf("derived keys\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// A restore that continues a store (resumed from its checkpoint) indexes by
// product the orders it reads of a company whose product data the store
// held before, and deletes the exception of a record whose new value has
// none: it does not know the old one.
func TestRestoreResumedIndexesOrdersOfACompanyWithProductDataInTheStore(t *testing.T) {
	at := int64(1767600000000)
	st := openTestStore(t)
	a := testAggregator(t, WithStore(st))
	now := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	first := []changeEntry{refChange("co", v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "p1", false), orderEntry("cy", "o-0", func() *recState { rs := selling(at, "p1"); rs.exception = "lines do not add up"; return rs }())}
	if _, _, err := a.ResumeFrom(0, 0, 2, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, e := range first {
		if err := a.Restore(0, e.key, e.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RestoreDone(0); err != nil {
		t.Fatal(err)
	}
	if got := derivedKeys(t, st); !slices.Contains(got, "E cy|1||o-0 = 2026-01-05|GBP||lines do not add up") {
		t.Fatalf("the first restore wrote %q, without the exception", got)
	}
	b := testAggregator(t, WithStore(st))
	from, resumed, err := b.ResumeFrom(0, 0, 4, now, time.Hour)
	if err != nil || !resumed || from != 2 {
		t.Fatalf("ResumeFrom = %d, %v, %v; want the checkpoint 2", from, resumed, err)
	}
	for _, e := range []changeEntry{orderEntry("co", "o-1", selling(at+1000, "p1")), orderEntry("cy", "o-0", selling(at-1000))} {
		if err := b.Restore(0, e.key, e.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.RestoreDone(0); err != nil {
		t.Fatal(err)
	}
	want := []string{"O co|p1|1||o-1", "W co 2026-01-05T08:00:01Z", "W cy 2026-01-05T08:00:00Z"}
	if got := derivedKeys(t, st); !slices.Equal(got, want) {
		t.Errorf("derived keys\n%q\nwant\n%q", got, want)
	}
	if !b.companies["co"].products {
		t.Error("the company with product data in the store is loaded without it")
	}
}

// productRef reads a reference entry's kind as restoreEntry does
// (strconv.Atoi): a product's, however written, and nothing else.
func TestProductRefReadsTheKindAsRestoreDoes(t *testing.T) {
	for rest, want := range map[string]bool{"2\x00p": true, "02\x00p": true, "+2\x00p": true, "2": true, "3\x00p": false, "1\x00p": false,
		"x\x00p": false, "\x00p": false, "": false, "2x\x00p": false} {
		if got := productRef([]byte(rest)); got != want {
			t.Errorf("productRef(%q) = %v, want %v", rest, got, want)
		}
	}
}

// parseRecKey reads a record key's kind as fmt's %d into an int32 would,
// whatever the text: the window's own keys take a shorter way, which must
// agree with it.
func TestParseRecKeyReadsTheKindAsScanfDoes(t *testing.T) {
	scanf := func(s string) (recordKey, bool) {
		parts := strings.SplitN(s, "\x00", 3)
		if len(parts) != 3 {
			return recordKey{}, false
		}
		var kind int32
		if _, err := fmt.Sscanf(parts[0], "%d", &kind); err != nil {
			return recordKey{}, false
		}
		return recordKey{v1.RecordKind(kind), parts[1], parts[2]}, true
	}
	check := func(t interface{ Fatalf(string, ...any) }, s string) {
		want, wantOK := scanf(s)
		got, err := parseRecKey(s)
		if (err == nil) != wantOK || got != want {
			t.Fatalf("parseRecKey(%q) = %v, %v; want %v, ok %v", s, got, err, want, wantOK)
		}
	}
	for _, s := range []string{"1\x00\x00o", "0\x00t\x00id", "007\x00t\x00id", "9\x00a\x00b\x00c", "123456789\x00t\x00i", "1234567890\x00t\x00i",
		"2147483647\x00t\x00i", "2147483648\x00t\x00i", "-1\x00t\x00i", "+1\x00t\x00i", "1x\x00t\x00i", "/\x00t\x00i", ":\x00t\x00i", "\x00t\x00i",
		" 1\x00t\x00i", "1\x00t", "1", "", "9\x00\x00"} {
		check(t, s)
	}
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.StringMatching(`[-+ 0-9a:/]{0,11}`).Draw(t, "kind")
		check(t, kind+"\x00"+rapid.String().Draw(t, "type")+"\x00"+rapid.String().Draw(t, "id"))
	})
}

// smallDecimal takes one to nine digits and nothing else: the rest is left
// to fmt.
func TestSmallDecimalTakesOneToNineDigits(t *testing.T) {
	for _, tc := range []struct {
		s  string
		n  int32
		ok bool
	}{{"0", 0, true}, {"9", 9, true}, {"10", 10, true}, {"09", 9, true}, {"123456789", 123456789, true}, {"999999999", 999999999, true},
		{"1234567890", 0, false}, {"", 0, false}, {"/", 0, false}, {":", 0, false}, {"1:", 0, false}, {"-1", 0, false}, {"+1", 0, false}} {
		if n, ok := smallDecimal(tc.s); n != tc.n || ok != tc.ok {
			t.Errorf("smallDecimal(%q) = %d, %v; want %d, %v", tc.s, n, ok, tc.n, tc.ok)
		}
	}
}

// restoreFrom runs one restore of entries on a: ResumeFrom with the
// partition's offsets start and end, each entry, RestoreDone; it says
// whether the store's checkpoint was resumed.
func restoreFrom(t *testing.T, a *Aggregator, start, end int64, entries ...changeEntry) bool {
	t.Helper()
	now := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	_, resumed, err := a.ResumeFrom(0, start, end, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := a.Restore(0, e.key, e.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RestoreDone(0); err != nil {
		t.Fatal(err)
	}
	return resumed
}

// A resumed restore learns from the store that a company has product data,
// asking once, and indexes only the orders it reads: it does not read the
// company's other orders again, however many the store holds. The index
// key of an order the tail does not bring is taken out by hand here; a
// restore that re-read the company's orders would put it back.
func TestRestoreResumedDoesNotReadACompanysOrdersAgain(t *testing.T) {
	at := int64(1767600000000)
	st := openTestStore(t)
	if restoreFrom(t, testAggregator(t, WithStore(st)), 0, 2,
		refChange("co", v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "p1", false), orderEntry("co", "o-0", selling(at, "p1"))) {
		t.Fatal("the first restore resumed an empty store")
	}
	old := appendDerivedKey(nil, secProducts, 0, []byte("co"), []byte("p1"), []byte("1\x00\x00o-0"))
	if got := derivedKeys(t, st); !slices.Contains(got, "O co|p1|1||o-0") {
		t.Fatalf("the first restore wrote %q, without o-0's index key", got)
	}
	if err := st.db.Delete(old, pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if !restoreFrom(t, testAggregator(t, WithStore(st)), 0, 4,
		orderEntry("co", "o-1", selling(at+1000, "p1")), orderEntry("co", "o-2", selling(at+2000, "p1"))) {
		t.Fatal("the second restore did not resume the store")
	}
	want := []string{"O co|p1|1||o-1", "O co|p1|1||o-2", "W co 2026-01-05T08:00:02Z"}
	if got := derivedKeys(t, st); !slices.Equal(got, want) {
		t.Errorf("derived keys\n%q\nwant\n%q", got, want)
	}
}

// A restore from nothing does not ask the store about product data: what
// the store held is wiped, and a company whose changelog has none gets no
// product index.
func TestRestoreRebuiltIgnoresProductDataTheStoreHeldBefore(t *testing.T) {
	at := int64(1767600000000)
	st := openTestStore(t)
	restoreFrom(t, testAggregator(t, WithStore(st)), 0, 2,
		refChange("co", v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "p1", false), orderEntry("co", "o-0", selling(at, "p1")))
	// The checkpoint names offset 2; a changelog starting at 5 cannot
	// continue it, so the partition is rebuilt.
	if restoreFrom(t, testAggregator(t, WithStore(st)), 5, 6, orderEntry("co", "o-1", selling(at+1000, "p1"))) {
		t.Fatal("the store was resumed; the test needs a rebuild")
	}
	want := []string{"W co 2026-01-05T08:00:01Z"}
	if got := derivedKeys(t, st); !slices.Equal(got, want) {
		t.Errorf("derived keys\n%q\nwant\n%q", got, want)
	}
}
