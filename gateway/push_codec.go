package gateway

import (
	"unicode/utf8"
	"unsafe"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// pushCodec is gRPC's protobuf codec, but for the stream's requests: those
// are read by the records' plans (records.WireDecoder) from one copy of
// the message, whose strings the records share, instead of into an
// allocation per string. A request the plans do not read as protobuf-go
// would without question is decoded by protobuf-go after all, so the
// result, and any error, is protobuf-go's.
type pushCodec struct {
	base encoding.CodecV2
}

func newPushCodec() pushCodec {
	return pushCodec{base: encoding.GetCodecV2(protocodec.Name)}
}

func (c pushCodec) Name() string { return protocodec.Name }

func (c pushCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c pushCodec) Unmarshal(data mem.BufferSlice, v any) error {
	var req *v1.PushRecordsRequest
	switch m := v.(type) {
	case *sizedRequest:
		m.size = data.Len()
		req = m.PushRecordsRequest
	case *v1.PushRecordsRequest:
		req = m
	default:
		return c.base.Unmarshal(data, v)
	}
	// The copy is the records' own: gRPC reuses data's buffers.
	wire, ok := decodePushRequest(data.Materialize(), req)
	if ok {
		if m, sized := v.(*sizedRequest); sized {
			m.wire = wire
		}
		return nil
	}
	proto.Reset(req)
	return c.base.Unmarshal(data, req)
}

// sizedRequest is a request with the size it had on the wire, which bounds
// the bytes of a stream in flight without measuring the decoded message
// again. size is -1 when the codec that read it was not pushCodec.
type sizedRequest struct {
	*v1.PushRecordsRequest
	size int
	// wire is each record's encoding where ingest can write it as it
	// came (decodePushRequest); nil when the codec read none so.
	wire [][]byte
}

// Field numbers of stream.proto that decodePushRequest reads.
const (
	pushCompanyID  protowire.Number = 1
	pushRecords    protowire.Number = 2
	streamOrder    protowire.Number = 1
	streamPayment  protowire.Number = 2
	streamTrans    protowire.Number = 3
	streamDelete   protowire.Number = 4
	deleteKind     protowire.Number = 1
	deleteRecordID protowire.Number = 2
)

// decodePushRequest reads b into req, a new request whose strings then
// share b's memory; false when b holds anything but known fields of their
// declared types, each record's one of the oneof once, and valid UTF-8.
// wire holds, for each record, its encoding when that is already what
// ingest would write (records.WireDecoder), else nil. b must not change
// afterwards.
func decodePushRequest(b []byte, req *v1.PushRecordsRequest) (wire [][]byte, ok bool) {
	n := 0
	for rest := b; len(rest) > 0; {
		num, typ, k := protowire.ConsumeTag(rest)
		if k < 0 {
			return nil, false
		}
		rest = rest[k:]
		if k = protowire.ConsumeFieldValue(num, typ, rest); k < 0 {
			return nil, false
		}
		rest = rest[k:]
		if num == pushRecords {
			n++
		}
	}
	slab := make([]v1.StreamRecord, n)
	req.Records = make([]*v1.StreamRecord, 0, n)
	wire = make([][]byte, n)
	var d records.WireDecoder
	for len(b) > 0 {
		num, typ, v, k := consumeBytesField(b)
		if k < 0 || typ != protowire.BytesType {
			return nil, false
		}
		b = b[k:]
		switch num {
		case pushCompanyID:
			s, ok := wireString(v)
			if !ok {
				return nil, false
			}
			req.CompanyId = s
		case pushRecords:
			i := len(req.Records)
			req.Records = append(req.Records, &slab[i])
			if !decodeStreamRecord(&d, v, &slab[i], &wire[i]) {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return wire, true
}

// decodeRecord reads a record, setting *wire to its encoding when that is
// the encoding ingest writes.
func decodeRecord(d *records.WireDecoder, b []byte, m proto.Message, wire *[]byte) bool {
	ok, canonical := d.Decode(b, m)
	if canonical {
		*wire = b
	}
	return ok
}

func decodeStreamRecord(d *records.WireDecoder, b []byte, r *v1.StreamRecord, wire *[]byte) bool {
	for len(b) > 0 {
		num, typ, v, k := consumeBytesField(b)
		// A second member of the oneof is merged or replaces the first in
		// protobuf-go; that is left to it.
		if k < 0 || typ != protowire.BytesType || r.Record != nil {
			return false
		}
		b = b[k:]
		switch num {
		case streamOrder:
			m := new(v1.Order)
			r.Record = &v1.StreamRecord_Order{Order: m}
			if !decodeRecord(d, v, m, wire) {
				return false
			}
		case streamPayment:
			m := new(v1.Payment)
			r.Record = &v1.StreamRecord_Payment{Payment: m}
			if !decodeRecord(d, v, m, wire) {
				return false
			}
		case streamTrans:
			m := new(v1.Transaction)
			r.Record = &v1.StreamRecord_Transaction{Transaction: m}
			if !decodeRecord(d, v, m, wire) {
				return false
			}
		case streamDelete:
			m := new(v1.RecordDelete)
			r.Record = &v1.StreamRecord_Delete{Delete: m}
			if !decodeRecordDelete(v, m) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func decodeRecordDelete(b []byte, m *v1.RecordDelete) bool {
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return false
		}
		b = b[k:]
		switch {
		case num == deleteKind && typ == protowire.VarintType:
			x, k := protowire.ConsumeVarint(b)
			if k < 0 {
				return false
			}
			b = b[k:]
			m.Kind = v1.RecordKind(int32(x)) // protobuf-go keeps an enum's low 32 bits
		case num == deleteRecordID && typ == protowire.BytesType:
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return false
			}
			b = b[k:]
			s, ok := wireString(v)
			if !ok {
				return false
			}
			m.Id = s
		default:
			return false
		}
	}
	return true
}

// consumeBytesField reads a field's tag and, when it is length-delimited,
// its value; k is what it took, negative when b is malformed there.
func consumeBytesField(b []byte) (num protowire.Number, typ protowire.Type, v []byte, k int) {
	num, typ, k = protowire.ConsumeTag(b)
	if k < 0 || typ != protowire.BytesType {
		return num, typ, nil, k
	}
	v, n := protowire.ConsumeBytes(b[k:])
	if n < 0 {
		return num, typ, nil, n
	}
	return num, typ, v, k + n
}

// wireString is v as a string sharing its memory, when it is valid UTF-8,
// as protobuf-go requires of proto3 strings.
func wireString(v []byte) (string, bool) {
	if !utf8.Valid(v) {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(v), len(v)), true
}
