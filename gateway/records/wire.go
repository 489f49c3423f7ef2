package records

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// WireDecoder reads the protobuf encoding of commerce records into their
// generated types through the plans, for the gRPC stream: protobuf-go's
// decoder copies every string into an allocation of its own, and the
// records of a message hold dozens each, so decoding them cost more than
// checking them. Here strings share the memory of the encoding they were
// read from, and nested messages come from slabs, as the JSON decoder's do.
//
// It reads only what protobuf-go would read without a second thought:
// every field known, of its declared wire type, strings valid UTF-8. On
// anything else Decode says so and the caller decodes the message again
// with proto.Unmarshal, whose result and errors are then the answer, so
// nothing that reaches the records differs from protobuf-go's decoding.
//
// The bytes given to Decode must never change afterwards, for as long as
// the decoded records (and any string taken from them) are in use.
type WireDecoder struct {
	slabs []ownedSlab
	// odd is set when the message being read is not in the form Encode
	// writes it: its fields out of order or repeated, a default value
	// written out, a varint or length longer than it need be, free-form
	// JSON (whose map protobuf-go sorts), or a country Normalize trims.
	odd bool
}

// Decode reads b, the encoding of a message of m's type, into m, a new
// message; ok is false when m has no plan or b holds anything protobuf-go's
// decoder might read otherwise, and then m is to be discarded. canonical
// says that b is, byte for byte, what Encode writes for m once Normalize
// has run on it: while m is not changed otherwise, b can stand for its
// encoding.
func (d *WireDecoder) Decode(b []byte, m proto.Message) (ok, canonical bool) {
	rp := planOf(m)
	if rp == nil {
		return false, false
	}
	d.odd = false
	ok = rp.wireRecord(d, b, m)
	return ok, ok && !d.odd
}

func (p *plan[M]) wire(d *WireDecoder, b []byte, m *M) bool {
	var last protowire.Number
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 || int(num) >= len(p.byNum) || p.byNum[num] == nil {
			return false
		}
		f := p.byNum[num]
		// Encode writes each field once, in number order, a list's elements
		// one after another; tags in their shortest form.
		if num < last || num == last && !f.repeats() || n != protowire.SizeTag(num) {
			d.odd = true
		}
		last = num
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
				// A length of one byte, as nearly all are.
				v, n = b[1:1+b[0]], 1+int(b[0])
			} else if v, n = protowire.ConsumeBytes(b); n >= 0 && n != protowire.SizeBytes(len(v)) {
				d.odd = true
			}
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
			if n >= 0 && n != protowire.SizeVarint(x) {
				d.odd = true
			}
		default:
			return false
		}
		if n < 0 || !f.wire(d, m, typ, v, x) {
			return false
		}
		b = b[n:]
	}
	return true
}

// consumeTag is protowire.ConsumeTag with the one-byte tag, the usual one,
// read inline.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if c := b[0]; c < 0x80 {
		return protowire.Number(c >> 3), protowire.Type(c & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// wireText is v as a string sharing its memory, when it is valid UTF-8 (which
// protobuf-go requires of proto3 strings).
func wireText(v []byte) (string, bool) {
	if !utf8.Valid(v) {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(v), len(v)), true
}

func (f *strField[M]) wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, _ uint64) bool {
	if typ != protowire.BytesType {
		return false
	}
	s, ok := wireText(v)
	*f.get(m) = s
	if s == "" || f.country && strings.TrimSpace(s) != s {
		d.odd = true
	}
	return ok
}

// A bool is written as the one byte 1, and false not at all.
func (f *boolField[M]) wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, x uint64) bool {
	if typ != protowire.VarintType {
		return false
	}
	*f.get(m) = x != 0
	if x != 1 {
		d.odd = true
	}
	return true
}

// A message field met twice is merged, as protobuf-go does.
func (f *msgField[M, C]) wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, _ uint64) bool {
	if typ != protowire.BytesType {
		return false
	}
	c := *f.get(m)
	if c == nil {
		c = slabIn(&d.slabs, f.plan).message()
		*f.get(m) = c
	}
	return f.plan.wire(d, v, c)
}

func (f *listField[M, C]) wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, _ uint64) bool {
	if typ != protowire.BytesType {
		return false
	}
	c := slabIn(&d.slabs, f.plan).message()
	*f.get(m) = append(*f.get(m), c)
	return f.plan.wire(d, v, c)
}

func (f *strListField[M]) wire(_ *WireDecoder, m *M, typ protowire.Type, v []byte, _ uint64) bool {
	if typ != protowire.BytesType {
		return false
	}
	s, ok := wireText(v)
	*f.get(m) = append(*f.get(m), s)
	return ok
}

// Free-form JSON is rare and of any shape: protobuf-go reads it, merging
// as it would. Its depth is bounded below protobuf-go's own limit by more
// than any record nests, so that a Struct too deep for protobuf-go fails
// here too and the message is decoded again by protobuf-go.
func (f *structField[M]) wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, _ uint64) bool {
	if typ != protowire.BytesType {
		return false
	}
	d.odd = true
	c := *f.get(m)
	if c == nil {
		c = new(structpb.Struct)
		*f.get(m) = c
	}
	return proto.UnmarshalOptions{Merge: true, RecursionLimit: protowire.DefaultRecursionLimit - 64}.Unmarshal(v, c) == nil
}

// repeats says whether a field may be met several times in a row in the
// encoding Encode writes: a list's elements are.
func (f *strField[M]) repeats() bool     { return false }
func (f *boolField[M]) repeats() bool    { return false }
func (f *msgField[M, C]) repeats() bool  { return false }
func (f *listField[M, C]) repeats() bool { return true }
func (f *strListField[M]) repeats() bool { return true }
func (f *structField[M]) repeats() bool  { return false }
