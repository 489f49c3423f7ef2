package window

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// leanRecord is what Restore reads of a record's changelog entry: what the
// record's derived keys and its company's watermark follow from. Its byte
// slices are the entry's own, valid while Restore reads it.
//
// A restore reads every record of a partition, and proto.Unmarshal built
// each whole (its lines, charges and tax parts) for these few fields: a
// quarter of a restore's time. So an entry is read here field by field, the
// rest checked as proto.Unmarshal checks it (eventDecoder's fields and
// skippers) and skipped; anything the reader does not handle itself (a
// field of another entry kind or none it knows, a record met twice, which
// proto would merge, a packed or mistyped field, a malformed value) goes to
// proto.Unmarshal, which decides. TestLeanRecordIsTheFullDecodeProjected
// and FuzzLeanRecord hold it to that.
type leanRecord struct {
	deleted                                    bool
	day, currency, location, exception, linked []byte
	seen                                       int64
	settled, products                          [][]byte
}

var (
	skipWindowRecord = skipperOf(&v1.WindowRecord{})
	skipWindowLine   = skipperOf(&v1.WindowLine{})
)

// The fields of WindowChange and WindowRecord the reader builds.
const (
	changeRecordField = 1
	recDeletedField   = 6
	recCurrencyField  = 8
	recDayField       = 9
	recLinkedField    = 15
	recSeenField      = 17
	recLinesField     = 18
	recExceptionField = 20
	recSettledField   = 21
	recLocationField  = 23
	lineProductField  = 9
)

func (l *leanRecord) reset() {
	*l = leanRecord{settled: l.settled[:0], products: l.products[:0]}
}

// counts is counts(recState) of the record.
func (l *leanRecord) counts() bool { return !l.deleted && len(l.day) > 0 }

// links is recState.links of the record.
func (l *leanRecord) links() [][]byte {
	if len(l.linked) > 0 {
		return [][]byte{l.linked}
	}
	return l.settled
}

// read reads a changelog entry's value holding a record: errLean for one it
// leaves to proto.Unmarshal.
func (l *leanRecord) read(value []byte) error {
	l.reset()
	r := fields{b: value}
	var f field
	seen := false
	for r.next(&f) {
		if f.num != changeRecordField {
			return errLean
		}
		body := r.msg(&f, seen)
		seen = true
		if r.err == nil {
			r.err = l.record(body)
		}
	}
	if r.err == nil && !seen {
		return errLean // proto decides: no record
	}
	return r.err
}

func (l *leanRecord) record(b []byte) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case recDeletedField:
			l.deleted = r.varint(&f) != 0
		case recCurrencyField:
			l.currency = r.utf8(&f)
		case recDayField:
			l.day = r.utf8(&f)
		case recLinkedField:
			l.linked = r.utf8(&f)
		case recSeenField:
			l.seen = int64(r.varint(&f))
		case recLinesField:
			if line := r.msg(&f, false); r.err == nil {
				r.err = l.line(line)
			}
		case recExceptionField:
			l.exception = r.utf8(&f)
		case recSettledField:
			l.settled = append(l.settled, r.utf8(&f))
		case recLocationField:
			l.location = r.utf8(&f)
		default:
			r.skip(skipWindowRecord, &f, 1)
		}
	}
	return r.err
}

// line reads an order line for its product: the last one written, as proto
// keeps.
func (l *leanRecord) line(b []byte) error {
	r := fields{b: b}
	var f field
	var product []byte
	for r.next(&f) {
		if f.num == lineProductField {
			product = r.utf8(&f)
		} else {
			r.skip(skipWindowLine, &f, 2)
		}
	}
	if len(product) > 0 {
		l.products = append(l.products, product)
	}
	return r.err
}

// utf8 reads a string field's bytes; proto3 strings must be UTF-8.
func (r *fields) utf8(f *field) []byte {
	if f.typ != protowire.BytesType || !utf8.Valid(f.val) {
		r.err = errLean
		return nil
	}
	return f.val
}

// full reads the record of a changelog entry proto.Unmarshal decoded.
func (l *leanRecord) full(w *v1.WindowRecord) {
	l.reset()
	l.deleted, l.seen = w.GetDeleted(), w.GetMaxEventUnixMs()
	l.day, l.currency, l.location = []byte(w.GetBusinessDay()), []byte(w.GetCurrency()), []byte(w.GetLocation())
	l.exception, l.linked = []byte(w.GetException()), []byte(w.GetLinkedPaymentId())
	for _, s := range w.GetSettled() {
		l.settled = append(l.settled, []byte(s))
	}
	for _, line := range w.GetLines() {
		if line.GetProduct() != "" {
			l.products = append(l.products, []byte(line.GetProduct()))
		}
	}
}

// restoreRecord reads a record's changelog entry into l, refusing what
// restoreEntry refuses; false for a tombstone.
func restoreRecord(l *leanRecord, rest, key, value []byte) (bool, error) {
	if value != nil && l.read(value) != nil {
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return false, fmt.Errorf("decode changelog entry %q: %w", key, err)
		}
		if _, err := parseRecKey(string(rest)); err != nil {
			return false, err
		}
		if wc.GetRecord() == nil {
			return false, fmt.Errorf("changelog entry %q holds no record", key)
		}
		l.full(wc.GetRecord())
		return true, nil
	}
	if _, err := parseRecKey(string(rest)); err != nil {
		return false, err
	}
	return value != nil, nil
}
