package window

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// appendRecordChange appends the wire form of
// WindowChange{record: recordProto(k, rs)} to buf. It is the hot path of
// every batch, so it writes the fields directly rather than through
// reflection; TestRecordEncodingMatchesProto holds it to proto.Marshal.
// scratch is reused between calls.
func appendRecordChange(buf, scratch []byte, k recordKey, rs *recState) (out, scratchOut []byte) {
	b := scratch[:0]
	varint := func(num protowire.Number, v int64) {
		if v != 0 {
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	str := func(num protowire.Number, s string) {
		if s != "" {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	varint(1, int64(k.kind))
	str(2, k.typ)
	str(3, k.id)
	varint(4, rs.srcMod)
	if len(rs.hash) > 0 {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, rs.hash)
	}
	if rs.deleted {
		varint(6, 1)
	}
	varint(7, rs.event)
	str(8, rs.currency)
	str(9, rs.day)
	varint(10, int64(rs.total))
	varint(11, int64(rs.tax))
	varint(12, int64(rs.gratuity))
	str(13, rs.payType)
	str(14, rs.status)
	str(15, rs.linked)
	str(16, rs.tender)
	varint(17, rs.seen)
	for _, l := range rs.lines {
		b = appendLine(b, 18, l.Product, l.Total, l.Tax, l.Discount, l.TaxKey, l.Taxes, l.Category, l.GiftCard, false)
	}
	for _, c := range rs.charges {
		b = appendLine(b, 19, "", c.Total, c.Tax, 0, c.TaxKey, c.Taxes, "", false, c.Shipping)
	}
	str(20, rs.exception)
	for _, id := range rs.settled {
		b = protowire.AppendTag(b, 21, protowire.BytesType)
		b = protowire.AppendString(b, id)
	}
	str(22, rs.site)
	str(23, rs.location)
	buf = protowire.AppendTag(buf, protowire.Number(recordChangeField), protowire.BytesType)
	buf = protowire.AppendBytes(buf, b)
	return buf, b
}

// recordChangeField is WindowChange.record's field number.
var recordChangeField = (&v1.WindowChange{}).ProtoReflect().Descriptor().Fields().ByName("record").Number()

// appendLine appends one WindowLine as field num.
func appendLine(b []byte, num protowire.Number, product string, total, tax, discount money.Amount, taxKey string, taxes []day.TaxPart,
	category string, gift, shipping bool) []byte {
	var m []byte
	varint := func(n protowire.Number, v int64) {
		if v != 0 {
			m = protowire.AppendTag(m, n, protowire.VarintType)
			m = protowire.AppendVarint(m, uint64(v))
		}
	}
	str := func(n protowire.Number, s string) {
		if s != "" {
			m = protowire.AppendTag(m, n, protowire.BytesType)
			m = protowire.AppendString(m, s)
		}
	}
	varint(1, int64(total))
	varint(2, int64(tax))
	varint(3, int64(discount))
	str(4, taxKey)
	for _, t := range taxes {
		var p []byte
		if t.Key != "" {
			p = protowire.AppendTag(p, 1, protowire.BytesType)
			p = protowire.AppendString(p, t.Key)
		}
		if t.Amount != 0 {
			p = protowire.AppendTag(p, 2, protowire.VarintType)
			p = protowire.AppendVarint(p, uint64(t.Amount))
		}
		m = protowire.AppendTag(m, 5, protowire.BytesType)
		m = protowire.AppendBytes(m, p)
	}
	str(6, category)
	if gift {
		varint(7, 1)
	}
	if shipping {
		varint(8, 1)
	}
	str(9, product)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// appendDayChange appends the wire form of
// WindowChange{day: dayProto(k, d)}; TestDayEncodingMatchesProto holds it to
// proto.Marshal.
func appendDayChange(buf, scratch []byte, k dayKey, d *dayState) (out, scratchOut []byte) {
	b := scratch[:0]
	varint := func(num protowire.Number, v int64) {
		if v != 0 {
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	str := func(num protowire.Number, s string) {
		if s != "" {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	amounts := func(num protowire.Number, t acctTotals) {
		for _, x := range t {
			n := 0
			if x.acct != "" {
				n += protowire.SizeTag(1) + protowire.SizeBytes(len(x.acct))
			}
			if x.amt != 0 {
				n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(x.amt))
			}
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(n))
			if x.acct != "" {
				b = protowire.AppendTag(b, 1, protowire.BytesType)
				b = protowire.AppendString(b, string(x.acct))
			}
			if x.amt != 0 {
				b = protowire.AppendTag(b, 2, protowire.VarintType)
				b = protowire.AppendVarint(b, uint64(x.amt))
			}
		}
	}
	str(1, k.day)
	str(2, k.currency)
	amounts(3, d.totals)
	amounts(4, d.posted)
	varint(5, int64(d.revision))
	if d.sealed {
		varint(6, 1)
	}
	varint(7, int64(d.records))
	if d.dirty {
		varint(8, 1)
	}
	varint(9, d.start)
	varint(10, d.end)
	str(13, k.location)
	str(14, d.parked)
	buf = protowire.AppendTag(buf, protowire.Number(dayChangeField), protowire.BytesType)
	buf = protowire.AppendBytes(buf, b)
	return buf, b
}

// dayChangeField is WindowChange.day's field number.
var dayChangeField = (&v1.WindowChange{}).ProtoReflect().Descriptor().Fields().ByName("day").Number()
