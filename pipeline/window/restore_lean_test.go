package window

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// restoredRecord is what Restore takes from a record's changelog entry, or
// the error it refuses the entry with.
type restoredRecord struct {
	err                                        string
	isRec, deleted                             bool
	day, currency, location, exception, linked string
	seen                                       int64
	links, products                            []string
}

// fullRecord reads an entry as restoreEntry does, whole.
func fullRecord(key, value []byte) restoredRecord {
	_, _, rest := splitKey(key)
	e, err := restoreEntry(nil, kindRecord, rest, key, value)
	if err != nil {
		return restoredRecord{err: err.Error()}
	}
	rs := e.rec
	if rs == nil {
		return restoredRecord{}
	}
	return restoredRecord{isRec: true, deleted: rs.deleted, day: rs.day, currency: rs.currency, location: rs.location, exception: rs.exception,
		linked: rs.linked, seen: rs.seen, links: rs.links(), products: rs.products()}
}

// leanRead reads an entry as Restore does.
func leanRead(key, value []byte) restoredRecord {
	_, _, rest := splitKey(key)
	var l leanRecord
	isRec, err := restoreRecord(&l, rest, key, value)
	if err != nil {
		return restoredRecord{err: err.Error()}
	}
	if !isRec {
		return restoredRecord{}
	}
	out := restoredRecord{isRec: true, deleted: l.deleted, day: string(l.day), currency: string(l.currency), location: string(l.location),
		exception: string(l.exception), linked: string(l.linked), seen: l.seen}
	for _, id := range l.links() {
		out.links = append(out.links, string(id))
	}
	for _, id := range l.products {
		out.products = append(out.products, string(id))
	}
	return out
}

func splitKey(key []byte) (company []byte, kind byte, rest []byte) {
	parts := slices.Collect(func(yield func([]byte) bool) {
		for i := 0; i < 2; i++ {
			j := slices.Index(key, 0)
			if j < 0 {
				break
			}
			if !yield(key[:j]) {
				return
			}
			key = key[j+1:]
		}
		yield(key)
	})
	return parts[0], parts[1][0], parts[2]
}

func sameRestored(a, b restoredRecord) bool {
	return a.err == b.err && a.isRec == b.isRec && a.deleted == b.deleted && a.day == b.day && a.currency == b.currency &&
		a.location == b.location && a.exception == b.exception && a.linked == b.linked && a.seen == b.seen &&
		slices.Equal(a.links, b.links) && slices.Equal(a.products, b.products)
}

func genWindowLine(t *rapid.T, label string) *v1.WindowLine {
	l := &v1.WindowLine{Product: rapid.SampledFrom([]string{"", "p1", "p2", "é"}).Draw(t, label+" product"), Total: rapid.Int64().Draw(t, label+" total"),
		TaxKey: rapid.String().Draw(t, label+" tax key"), Category: rapid.String().Draw(t, label+" category"), GiftCard: rapid.Bool().Draw(t, label+" gift")}
	for i := range rapid.IntRange(0, 2).Draw(t, label+" taxes") {
		l.Taxes = append(l.Taxes, &v1.WindowTaxPart{Key: rapid.String().Draw(t, fmt.Sprint(label, " tax ", i)), Amount: rapid.Int64().Draw(t, fmt.Sprint(label, " amount ", i))})
	}
	return l
}

func genWindowRecord(t *rapid.T) *v1.WindowRecord {
	w := &v1.WindowRecord{
		Kind: v1.RecordKind(rapid.Int32Range(0, 3).Draw(t, "kind")), TransactionType: rapid.String().Draw(t, "type"), Id: rapid.String().Draw(t, "id"),
		ContentHash: rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "hash"), Deleted: rapid.Bool().Draw(t, "deleted"),
		Currency: rapid.SampledFrom([]string{"", "GBP"}).Draw(t, "currency"), BusinessDay: rapid.SampledFrom([]string{"", "2026-01-05"}).Draw(t, "day"),
		Total: rapid.Int64().Draw(t, "total"), LinkedPaymentId: rapid.SampledFrom([]string{"", "pay-1"}).Draw(t, "linked"),
		MaxEventUnixMs: rapid.Int64().Draw(t, "seen"), Exception: rapid.SampledFrom([]string{"", "lines do not add up"}).Draw(t, "exception"),
		Settled:  rapid.SliceOfN(rapid.SampledFrom([]string{"", "pay-1", "pay-2"}), 0, 3).Draw(t, "settled"),
		Site:     rapid.String().Draw(t, "site"),
		Location: rapid.SampledFrom([]string{"", "loc-1"}).Draw(t, "location"),
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "lines") {
		w.Lines = append(w.Lines, genWindowLine(t, fmt.Sprint("line ", i)))
	}
	for i := range rapid.IntRange(0, 1).Draw(t, "charges") {
		w.Charges = append(w.Charges, genWindowLine(t, fmt.Sprint("charge ", i)))
	}
	return w
}

// corrupt changes b as a damaged or foreign entry might be: a byte
// changed, cut short, bytes put in, or a field of any number, wire type and
// content added.
func corrupt(t *rapid.T, label string, b []byte) []byte {
	switch rapid.IntRange(0, 4).Draw(t, label) {
	case 0:
		return b
	case 1:
		if len(b) == 0 {
			return b
		}
		i := rapid.IntRange(0, len(b)-1).Draw(t, label+" at")
		b = slices.Clone(b)
		b[i] = rapid.Byte().Draw(t, label+" byte")
		return b
	case 2:
		return b[:rapid.IntRange(0, len(b)).Draw(t, label+" cut")]
	case 3:
		i := rapid.IntRange(0, len(b)).Draw(t, label+" at")
		return slices.Insert(slices.Clone(b), i, rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(t, label+" bytes")...)
	default:
		num := protowire.Number(rapid.IntRange(1, 25).Draw(t, label+" field"))
		out := slices.Clone(b)
		switch rapid.IntRange(0, 5).Draw(t, label+" wire type") {
		case 0:
			out = protowire.AppendTag(out, num, protowire.VarintType)
			out = protowire.AppendVarint(out, rapid.Uint64().Draw(t, label+" varint"))
		case 1:
			out = protowire.AppendTag(out, num, protowire.Fixed32Type)
			out = protowire.AppendFixed32(out, 7)
		case 2:
			out = protowire.AppendTag(out, num, protowire.Fixed64Type)
			out = protowire.AppendFixed64(out, 7)
		case 3:
			out = protowire.AppendTag(out, num, protowire.StartGroupType)
			out = protowire.AppendTag(out, num, protowire.EndGroupType)
		default:
			out = protowire.AppendTag(out, num, protowire.BytesType)
			out = protowire.AppendBytes(out, rapid.SliceOfN(rapid.SampledFrom([]byte{'a', 0, 0x08, 0x12, 0x4a, 0xff, 0xc3, 0xa9}), 0, 6).Draw(t, label+" bytes"))
		}
		return out
	}
}

// Restore's reading of a record entry is the full decode's: for records
// the window writes, damaged ones, other kinds of entry and random bytes,
// it takes the same fields or refuses with the same error; and a record
// the window writes is read without proto.Unmarshal.
func TestLeanRecordIsTheFullDecodeProjected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := []byte(rapid.SampledFrom([]string{"co\x00r\x001\x00\x00o-1", "co\x00r\x00x\x00\x00o-1", "co\x00r\x001"}).Draw(t, "key"))
		w := genWindowRecord(t)
		body, err := proto.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Record{Record: w}})
		if err != nil {
			t.Fatal(err)
		}
		if err := new(leanRecord).read(whole); err != nil {
			t.Fatalf("a well-formed record entry goes to proto.Unmarshal: %v", err)
		}
		var value []byte
		switch rapid.IntRange(0, 5).Draw(t, "entry") {
		case 0:
			value = whole
		case 1: // the record's message damaged
			value = protowire.AppendBytes(protowire.AppendTag(nil, changeRecordField, protowire.BytesType), corrupt(t, "body", body))
		case 2: // the entry damaged
			value = corrupt(t, "entry bytes", whole)
		case 3: // another kind of entry, or one beside the record, or the record twice
			other, _ := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Day{Day: &v1.WindowDay{BusinessDay: "2026-01-05"}}})
			value = rapid.SampledFrom([][]byte{other, append(slices.Clone(whole), other...), append(slices.Clone(other), whole...), append(slices.Clone(whole), whole...)}).Draw(t, "mixed")
		case 4:
			value = rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "random")
		default:
			if rapid.Bool().Draw(t, "tombstone") {
				value = nil
			} else {
				value = []byte{}
			}
		}
		full, lean := fullRecord(key, value), leanRead(key, value)
		if !sameRestored(full, lean) {
			t.Fatalf("entry %x:\nfull %+v\nlean %+v", value, full, lean)
		}
	})
}

// The window's own record entries, as Flush writes them, are read without
// proto.Unmarshal, with every field Restore needs.
func TestLeanRecordReadsTheWindowsOwnEntries(t *testing.T) {
	rs := selling(1767600000000, "p1", "", "p2")
	rs.exception, rs.location, rs.linked, rs.settled = "lines do not add up", "loc-1", "pay-1", []string{"pay-2"}
	k := recordKey{v1.RecordKind_RECORD_KIND_ORDER, "", "o-1"}
	value, _ := appendRecordChange(nil, nil, k, rs)
	var l leanRecord
	if err := l.read(value); err != nil {
		t.Fatalf("the window's own entry goes to proto.Unmarshal: %v", err)
	}
	got := leanRead(appendRecordKey(nil, "co", k), value)
	want := restoredRecord{isRec: true, day: "2026-01-05", currency: "GBP", location: "loc-1", exception: "lines do not add up", linked: "pay-1",
		seen: 1767600000000, links: []string{"pay-1"}, products: []string{"p1", "p2"}}
	if !sameRestored(got, want) {
		t.Fatalf("read %+v, want %+v", got, want)
	}
	// Read again, the reader keeps nothing of the entry before.
	rs = selling(5)
	rs.deleted, rs.settled = true, []string{"pay-3"}
	value, _ = appendRecordChange(nil, nil, k, rs)
	got = leanRead(appendRecordKey(nil, "co", k), value)
	want = restoredRecord{isRec: true, deleted: true, day: "2026-01-05", currency: "GBP", seen: 5, links: []string{"pay-3"}}
	if !sameRestored(got, want) {
		t.Fatalf("read %+v, want %+v", got, want)
	}
}

func FuzzLeanRecord(f *testing.F) {
	for _, c := range changelogSeeds(f) {
		if _, kind, _ := splitKey(c.Key); kind == kindRecord {
			f.Add(c.Value)
		}
	}
	f.Add([]byte("\x0a\x00"))
	f.Fuzz(func(t *testing.T, value []byte) {
		key := []byte("co\x00r\x001\x00\x00o-1")
		if full, lean := fullRecord(key, value), leanRead(key, value); !sameRestored(full, lean) {
			t.Fatalf("entry %x:\nfull %+v\nlean %+v", value, full, lean)
		}
	})
}
