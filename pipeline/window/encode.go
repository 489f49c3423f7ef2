package window

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The changelog's values are written here field by field, straight into the
// batch's output buffer: no proto message is built and no nested message
// has a buffer of its own, so encoding an entry allocates nothing once the
// buffer has grown to the batch's size. Each encoder writes the very bytes
// proto.Marshal writes for the message the matching *Proto function builds
// (fields in number order, zero values left out); the encoding tests hold
// them to it, and TestHotPathEncodersKnowEveryField fails when a message
// gains a field no encoder writes.

// openField appends the tag of the length-delimited field num and one byte
// for its length, and returns where the field's body starts. closeField
// then writes the length: most bodies are under 128 bytes and fit the byte
// kept for it; a longer one moves up by the extra bytes its length takes.
func openField(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

func closeField(b []byte, body int) []byte {
	n := len(b) - body
	if n < 0x80 {
		b[body-1] = byte(n)
		return b
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	b = append(b, make([]byte, extra)...)
	copy(b[body+extra:], b[body:body+n])
	protowire.AppendVarint(b[:body-1], uint64(n)) // in place: b has the room
	return b
}

func appendVarintField(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendBoolField(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return append(protowire.AppendTag(b, num, protowire.VarintType), 1)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// WindowChange's field numbers, one per kind of entry.
var (
	recordChangeField    = changeField("record")
	dayChangeField       = changeField("day")
	companyChangeField   = changeField("company")
	referenceChangeField = changeField("reference")
	postedChangeField    = changeField("posted_exception")
)

func changeField(name string) protowire.Number {
	return (&v1.WindowChange{}).ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name)).Number()
}

// appendRecordChange appends the wire form of
// WindowChange{record: recordProto(k, rs)} to buf. It is the hot path of
// every batch. scratch is no longer used (the record is written in place)
// and is handed back as it came, so callers keep their shape.
func appendRecordChange(buf, scratch []byte, k recordKey, rs *recState) (out, scratchOut []byte) {
	b, body := openField(buf, recordChangeField)
	b = appendVarintField(b, 1, int64(k.kind))
	b = appendStringField(b, 2, k.typ)
	b = appendStringField(b, 3, k.id)
	b = appendVarintField(b, 4, rs.srcMod)
	b = appendBytesField(b, 5, rs.hash)
	b = appendBoolField(b, 6, rs.deleted)
	b = appendVarintField(b, 7, rs.event)
	b = appendStringField(b, 8, rs.currency)
	b = appendStringField(b, 9, rs.day)
	b = appendVarintField(b, 10, int64(rs.total))
	b = appendVarintField(b, 11, int64(rs.tax))
	b = appendVarintField(b, 12, int64(rs.gratuity))
	b = appendStringField(b, 13, rs.payType)
	b = appendStringField(b, 14, rs.status)
	b = appendStringField(b, 15, rs.linked)
	b = appendStringField(b, 16, rs.tender)
	b = appendVarintField(b, 17, rs.seen)
	for i := range rs.lines {
		l := &rs.lines[i]
		b = appendLine(b, 18, l.Product, l.Total, l.Tax, l.Discount, l.TaxKey, l.Taxes, l.Category, l.GiftCard, false)
	}
	for i := range rs.charges {
		c := &rs.charges[i]
		b = appendLine(b, 19, "", c.Total, c.Tax, 0, c.TaxKey, c.Taxes, "", false, c.Shipping)
	}
	b = appendStringField(b, 20, rs.exception)
	for _, id := range rs.settled {
		b = protowire.AppendTag(b, 21, protowire.BytesType)
		b = protowire.AppendString(b, id)
	}
	b = appendStringField(b, 22, rs.site)
	b = appendStringField(b, 23, rs.location)
	return closeField(b, body), scratch
}

// appendLine appends one WindowLine as field num.
func appendLine(b []byte, num protowire.Number, product string, total, tax, discount money.Amount, taxKey string, taxes []day.TaxPart,
	category string, gift, shipping bool) []byte {
	b, body := openField(b, num)
	b = appendVarintField(b, 1, int64(total))
	b = appendVarintField(b, 2, int64(tax))
	b = appendVarintField(b, 3, int64(discount))
	b = appendStringField(b, 4, taxKey)
	for _, t := range taxes {
		var part int
		b, part = openField(b, 5)
		b = appendStringField(b, 1, t.Key)
		b = appendVarintField(b, 2, int64(t.Amount))
		b = closeField(b, part)
	}
	b = appendStringField(b, 6, category)
	b = appendBoolField(b, 7, gift)
	b = appendBoolField(b, 8, shipping)
	b = appendStringField(b, 9, product)
	return closeField(b, body)
}

// appendDayChange appends the wire form of
// WindowChange{day: dayProto(k, d)}; scratch is handed back as it came.
func appendDayChange(buf, scratch []byte, k dayKey, d *dayState) (out, scratchOut []byte) {
	b, body := openField(buf, dayChangeField)
	b = appendStringField(b, 1, k.day)
	b = appendStringField(b, 2, k.currency)
	b = appendAmounts(b, 3, d.totals)
	b = appendAmounts(b, 4, d.posted)
	b = appendVarintField(b, 5, int64(d.revision))
	b = appendBoolField(b, 6, d.sealed)
	b = appendVarintField(b, 7, int64(d.records))
	b = appendBoolField(b, 8, d.dirty)
	b = appendVarintField(b, 9, d.start)
	b = appendVarintField(b, 10, d.end)
	b = appendStringField(b, 13, k.location)
	b = appendStringField(b, 14, d.parked)
	return closeField(b, body), scratch
}

// appendAmounts appends each account amount as an AccountAmount, field num.
func appendAmounts(b []byte, num protowire.Number, t acctTotals) []byte {
	for _, x := range t {
		var body int
		b, body = openField(b, num)
		b = appendStringField(b, 1, string(x.acct))
		b = appendVarintField(b, 2, int64(x.amt))
		b = closeField(b, body)
	}
	return b
}

// appendCompanyChange appends the wire form of a company's head entry. The
// watermark is left out: Restore derives it from the records, so it need
// not be rewritten each time it moves. The settings are a message the
// window does not interpret field by field, and a head is written once per
// company per batch at most, so they go through proto: whatever fields
// they gain are kept.
func appendCompanyChange(buf []byte, c *company) ([]byte, error) {
	b, body := openField(buf, companyChangeField)
	b = appendStringField(b, 1, c.id)
	b = appendStringField(b, 2, c.tenant)
	if c.settings != nil {
		var s int
		b, s = openField(b, 3)
		var err error
		if b, err = (proto.MarshalOptions{}).MarshalAppend(b, c.settings); err != nil {
			return buf, fmt.Errorf("encode settings of company %s: %w", c.id, err)
		}
		b = closeField(b, s)
	}
	b = appendVarintField(b, 5, c.sequence)
	b = appendStringField(b, 6, c.lastHash)
	return closeField(b, body), nil
}

// appendReferenceChange appends the wire form of
// WindowChange{reference: refProto(k, vs)}.
func appendReferenceChange(buf []byte, k refDataKey, vs []refVersion) []byte {
	b, body := openField(buf, referenceChangeField)
	b = appendVarintField(b, 1, int64(k.kind))
	b = appendStringField(b, 2, k.id)
	for i := range vs {
		v := &vs[i]
		var ver int
		b, ver = openField(b, 3)
		b = appendVarintField(b, 1, v.from)
		b = appendBytesField(b, 2, v.hash)
		b = appendBoolField(b, 3, v.deleted)
		b = appendStringField(b, 4, v.category)
		b = appendBoolField(b, 5, v.gift)
		b = closeField(b, ver)
	}
	return closeField(b, body)
}

// appendPostedChange appends the wire form of a posted exception's entry.
func appendPostedChange(buf []byte, k dayKey, id, msg string) []byte {
	b, body := openField(buf, postedChangeField)
	b = appendStringField(b, 1, k.day)
	b = appendStringField(b, 2, k.currency)
	b = appendStringField(b, 3, k.location)
	b = appendStringField(b, 4, id)
	b = appendStringField(b, 5, msg)
	return closeField(b, body)
}
