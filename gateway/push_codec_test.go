package gateway

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The stream's codec must give exactly what protobuf-go gives: the same
// request, or an error where protobuf-go has one.

// fillMessage sets random values in m's fields, nested messages to depth.
func fillMessage(t *rapid.T, m protoreflect.Message, depth int) {
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if !rapid.Bool().Draw(t, "set") {
			continue
		}
		switch {
		case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Struct":
			s, err := structpb.NewStruct(map[string]any{
				rapid.StringN(0, 5, -1).Draw(t, "key"): rapid.StringN(0, 5, -1).Draw(t, "value"),
				"n":                                    rapid.Float64().Draw(t, "num"),
			})
			if err != nil {
				t.Fatal(err)
			}
			m.Set(fd, protoreflect.ValueOfMessage(s.ProtoReflect()))
		case fd.IsList() && fd.Message() != nil:
			if depth == 0 {
				continue
			}
			l := m.Mutable(fd).List()
			for range rapid.IntRange(0, 3).Draw(t, "elems") {
				e := l.NewElement()
				fillMessage(t, e.Message(), depth-1)
				l.Append(e)
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range rapid.IntRange(0, 3).Draw(t, "strs") {
				l.Append(protoreflect.ValueOfString(rapid.StringN(0, 6, -1).Draw(t, "s")))
			}
		case fd.Message() != nil:
			if depth > 0 {
				fillMessage(t, m.Mutable(fd).Message(), depth-1)
			}
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(rapid.OneOf(rapid.Just(""), rapid.StringN(0, 12, -1)).Draw(t, "str")))
		case fd.Kind() == protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(rapid.Bool().Draw(t, "bool")))
		case fd.Kind() == protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(protoreflect.EnumNumber(rapid.Int32().Draw(t, "enum"))))
		default:
			t.Fatalf("%s: no generator for %s", fd.FullName(), fd.Kind())
		}
	}
}

func drawRequest(t *rapid.T) *v1.PushRecordsRequest {
	req := &v1.PushRecordsRequest{CompanyId: rapid.StringN(0, 8, -1).Draw(t, "company")}
	for range rapid.IntRange(0, 4).Draw(t, "records") {
		var r v1.StreamRecord
		switch rapid.IntRange(0, 4).Draw(t, "kind") {
		case 0:
			o := new(v1.Order)
			fillMessage(t, o.ProtoReflect(), 3)
			r.Record = &v1.StreamRecord_Order{Order: o}
		case 1:
			p := new(v1.Payment)
			fillMessage(t, p.ProtoReflect(), 3)
			r.Record = &v1.StreamRecord_Payment{Payment: p}
		case 2:
			x := new(v1.Transaction)
			fillMessage(t, x.ProtoReflect(), 3)
			r.Record = &v1.StreamRecord_Transaction{Transaction: x}
		case 3:
			d := new(v1.RecordDelete)
			fillMessage(t, d.ProtoReflect(), 1)
			r.Record = &v1.StreamRecord_Delete{Delete: d}
		}
		req.Records = append(req.Records, &r)
	}
	return req
}

// unmarshalBoth decodes b with pushCodec and with gRPC's protobuf codec.
func unmarshalBoth(b []byte) (got, want *v1.PushRecordsRequest, gotErr, wantErr error) {
	got, want, _, gotErr, wantErr = unmarshalBothWire(b)
	return got, want, gotErr, wantErr
}

func unmarshalBothWire(b []byte) (got, want *v1.PushRecordsRequest, wire [][]byte, gotErr, wantErr error) {
	c := newPushCodec()
	got, want = new(v1.PushRecordsRequest), new(v1.PushRecordsRequest)
	sr := &sizedRequest{PushRecordsRequest: got}
	gotErr = c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, sr)
	wantErr = c.base.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, want)
	return got, want, sr.wire, gotErr, wantErr
}

func checkSame(t *rapid.T, b []byte) {
	got, want, wire, gotErr, wantErr := unmarshalBothWire(b)
	if wire != nil {
		checkWire(t, got, wire)
	}
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("errors differ: pushCodec %v, protobuf-go %v", gotErr, wantErr)
	}
	if gotErr == nil && !proto.Equal(got, want) {
		t.Fatalf("decoded differently:\n pushCodec   %v\n protobuf-go %v", got, want)
	}
}

// A request as protobuf-go writes it is read by the plans, not handed back.
func TestPushCodecReadsMarshalledRequests(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		req := drawRequest(t)
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got := new(v1.PushRecordsRequest)
		wire, ok := decodePushRequest(b, got)
		hasStruct := false
		for _, r := range req.GetRecords() {
			hasStruct = hasStruct || r.GetOrder().GetSupplementalData() != nil || r.GetPayment().GetSupplementalData() != nil ||
				r.GetTransaction().GetSupplementalData() != nil
		}
		if !ok {
			t.Fatalf("the plans refused protobuf-go's encoding (supplemental data %v) of %v", hasStruct, req)
		}
		want := new(v1.PushRecordsRequest)
		if err := proto.Unmarshal(b, want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("decoded differently:\n plans       %v\n protobuf-go %v", got, want)
		}
		checkWire(t, got, wire)
		// protobuf-go's encoding is Encode's unless free-form JSON or a
		// country to trim is in it.
		for i, r := range got.GetRecords() {
			if m := recordOf(r); m != nil && wire[i] == nil && !hasStruct && !hasPaddedCountry(m) {
				t.Fatalf("record %d not taken as encoded: %v", i, m)
			}
		}
		checkSame(t, b)
	})
}

func recordOf(r *v1.StreamRecord) proto.Message {
	switch x := r.GetRecord().(type) {
	case *v1.StreamRecord_Order:
		return x.Order
	case *v1.StreamRecord_Payment:
		return x.Payment
	case *v1.StreamRecord_Transaction:
		return x.Transaction
	}
	return nil
}

func hasPaddedCountry(m proto.Message) bool {
	c := proto.Clone(m)
	records.Normalize(c)
	return !proto.Equal(c, m)
}

// checkWire holds each record's wire encoding, where the codec kept one, to
// the bytes ingest would otherwise write: Encode's after Normalize.
func checkWire(t *rapid.T, req *v1.PushRecordsRequest, wire [][]byte) {
	if len(wire) != len(req.GetRecords()) {
		t.Fatalf("%d wire encodings for %d records", len(wire), len(req.GetRecords()))
	}
	for i, r := range req.GetRecords() {
		m := recordOf(r)
		if wire[i] == nil {
			continue
		}
		if m == nil {
			t.Fatalf("record %d (%v) has a wire encoding", i, r)
		}
		c := proto.Clone(m)
		records.Normalize(c)
		enc, err := records.Encode(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc.Bytes, wire[i]) {
			t.Fatalf("record %d kept as encoded\n %x\nand Encode writes\n %x", i, wire[i], enc.Bytes)
		}
	}
}

// Bytes changed anywhere, or fields added, repeated or misplaced, decode
// as protobuf-go decodes them, or fail as it fails.
func TestPushCodecMatchesProtobufOnAnyBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b, err := proto.Marshal(drawRequest(t))
		if err != nil {
			t.Fatal(err)
		}
		for range rapid.IntRange(1, 4).Draw(t, "edits") {
			switch rapid.IntRange(0, 3).Draw(t, "edit") {
			case 0: // flip a byte
				if len(b) > 0 {
					i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
					b[i] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
				}
			case 1: // cut
				b = b[:rapid.IntRange(0, len(b)).Draw(t, "cut")]
			case 2: // append a field of any number and type
				num := protowire.Number(rapid.IntRange(1, 40).Draw(t, "num"))
				if rapid.Bool().Draw(t, "varint") {
					b = protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), rapid.Uint64().Draw(t, "v"))
				} else {
					b = protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "bytes"))
				}
			case 3: // the encoding twice: every field repeated, records merged
				b = append(b, b...)
			}
		}
		checkSame(t, b)
	})
}

// Each way a request leaves the plans' path is decoded by protobuf-go.
func TestPushCodecHandsBackWhatThePlansDoNotRead(t *testing.T) {
	order := func(b []byte) []byte {
		rec := protowire.AppendBytes(protowire.AppendTag(nil, streamOrder, protowire.BytesType), b)
		return protowire.AppendBytes(protowire.AppendTag(nil, pushRecords, protowire.BytesType), rec)
	}
	idTag := protowire.AppendTag(nil, 1, protowire.BytesType)
	member := func(num protowire.Number, id string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), protowire.AppendString(idTag, id))
	}
	twice := protowire.AppendBytes(protowire.AppendTag(nil, pushRecords, protowire.BytesType),
		append(member(streamOrder, "a"), member(streamPayment, "b")...))
	cases := map[string][]byte{
		"unknown field in a record":      order(protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 1)),
		"unknown field in the request":   protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 1),
		"string sent as a varint":        order(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)),
		"invalid UTF-8":                  order(protowire.AppendBytes(idTag, []byte{0xff, 'a'})),
		"company id of invalid UTF-8":    protowire.AppendBytes(protowire.AppendTag(nil, pushCompanyID, protowire.BytesType), []byte{0xc3}),
		"two members of the oneof":       twice,
		"a truncated record":             order(protowire.AppendString(idTag, "abc"))[:6],
		"a delete with an unknown field": protowire.AppendBytes(protowire.AppendTag(nil, pushRecords, protowire.BytesType), protowire.AppendBytes(protowire.AppendTag(nil, streamDelete, protowire.BytesType), protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1))),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, ok := decodePushRequest(b, new(v1.PushRecordsRequest)); ok {
				t.Fatalf("the plans read %x", b)
			}
			got, want, gotErr, wantErr := unmarshalBoth(b)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !proto.Equal(got, want) {
				t.Fatalf("pushCodec %v (%v), protobuf-go %v (%v)", got, gotErr, want, wantErr)
			}
		})
	}
}

// The wire size, not a second measure of the decoded request, weighs a
// message in flight.
func TestPushCodecRecordsTheWireSize(t *testing.T) {
	b, err := proto.Marshal(&v1.PushRecordsRequest{CompanyId: "c", Records: []*v1.StreamRecord{{Record: &v1.StreamRecord_Delete{Delete: &v1.RecordDelete{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "x"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &sizedRequest{PushRecordsRequest: new(v1.PushRecordsRequest), size: -1}
	if err := newPushCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, r); err != nil {
		t.Fatal(err)
	}
	if r.size != len(b) || r.size != proto.Size(r.PushRecordsRequest) {
		t.Fatalf("size %d, want %d", r.size, len(b))
	}
}
