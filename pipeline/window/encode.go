package window

import (
	"google.golang.org/protobuf/encoding/protowire"

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
	buf = protowire.AppendTag(buf, protowire.Number(recordChangeField), protowire.BytesType)
	buf = protowire.AppendBytes(buf, b)
	return buf, b
}

// recordChangeField is WindowChange.record's field number.
var recordChangeField = (&v1.WindowChange{}).ProtoReflect().Descriptor().Fields().ByName("record").Number()
