package records

import (
	"crypto/sha256"
	"errors"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Encoded is a record's deterministic protobuf encoding and its content
// hash, made once: the hash is taken from the bytes that are written.
type Encoded struct {
	Bytes []byte
	Hash  []byte // ContentHash of the record
}

// deterministic is how records are encoded wherever their bytes are hashed.
var deterministic = proto.MarshalOptions{Deterministic: true}

// errNotText stops an encoding that proto.Marshal would refuse.
var errNotText = errors.New("a string field holds invalid UTF-8")

// Encode returns m's deterministic encoding, appended to buf (which may be
// nil), and its ContentHash. Records with a plan are encoded by it, to the
// bytes proto.Marshal gives; a message that cannot be encoded gets the error
// proto.Marshal gives.
func Encode(buf []byte, m proto.Message) (Encoded, error) {
	var b []byte
	var err error
	if rp := planOf(m); rp != nil {
		start := len(buf)
		b, err = rp.appendRecord(buf, m)
		if err == nil {
			sum := sha256.Sum256(b[start:])
			return Encoded{Bytes: b[start:], Hash: sum[:]}, nil
		}
		// Let proto.Marshal say why, in its own words.
		buf = buf[:start]
	}
	start := len(buf)
	if b, err = deterministic.MarshalAppend(buf, m); err != nil {
		return Encoded{}, err
	}
	sum := sha256.Sum256(b[start:])
	return Encoded{Bytes: b[start:], Hash: sum[:]}, nil
}

// EncodedAs is the Encoded of a record whose encoding b already is (such
// as Item.Wire): b itself and its hash.
func EncodedAs(b []byte) Encoded {
	sum := sha256.Sum256(b)
	return Encoded{Bytes: b, Hash: sum[:]}
}

// Size is proto.Size(m), computed by m's plan when it has one.
func Size(m proto.Message) int {
	if rp := planOf(m); rp != nil {
		return rp.sizeOf(m)
	}
	return proto.Size(m)
}

// sizeOf and encode follow protobuf-go's encoding: fields in number order,
// proto3 defaults left out, every element of a list written, unknown fields
// last. The tests hold them to proto.Marshal's bytes.

func (p *plan[M]) size(m *M) int {
	n := 0
	for _, f := range p.fields {
		n += f.size(m)
	}
	return n + len(p.unknown(m))
}

func (p *plan[M]) encode(b []byte, m *M) ([]byte, error) {
	var err error
	for _, f := range p.fields {
		if b, err = f.encode(b, m); err != nil {
			return b, err
		}
	}
	return append(b, p.unknown(m)...), nil
}

// appendNested appends a length-delimited message: its encoding goes where
// a one-byte length would leave it and moves on when the length needs more.
func appendNested[C any](b []byte, num protowire.Number, p *plan[C], c *C) ([]byte, error) {
	b = appendTag(b, num, protowire.BytesType)
	at := len(b)
	b = append(b, 0)
	b, err := p.encode(b, c)
	if err != nil {
		return b, err
	}
	return fixLength(b, at), nil
}

// fixLength writes the length of what follows the byte at at into it,
// moving what follows when the length takes more than that byte.
func fixLength(b []byte, at int) []byte {
	n := len(b) - at - 1
	if w := protowire.SizeVarint(uint64(n)); w > 1 {
		b = append(b, make([]byte, w-1)...)
		copy(b[at+w:], b[at+1:at+1+n])
	}
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

func sizeNested(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendString(b []byte, num protowire.Number, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, errNotText
	}
	b = appendVarint(appendTag(b, num, protowire.BytesType), uint64(len(s)))
	return append(b, s...), nil
}

// appendTag and appendVarint are protowire's, with the one-byte case, the
// usual one, inlined.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return appendVarint(b, protowire.EncodeTag(num, typ))
}

func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return protowire.AppendVarint(b, v)
}

func (f *strField[M]) size(m *M) int {
	if s := *f.get(m); s != "" {
		return sizeNested(f.num, len(s))
	}
	return 0
}

func (f *strField[M]) encode(b []byte, m *M) ([]byte, error) {
	if s := *f.get(m); s != "" {
		return appendString(b, f.num, s)
	}
	return b, nil
}

func (f *boolField[M]) size(m *M) int {
	if *f.get(m) {
		return protowire.SizeTag(f.num) + 1
	}
	return 0
}

func (f *boolField[M]) encode(b []byte, m *M) ([]byte, error) {
	if *f.get(m) {
		b = appendTag(b, f.num, protowire.VarintType)
		b = append(b, 1)
	}
	return b, nil
}

func (f *msgField[M, C]) size(m *M) int {
	if c := *f.get(m); c != nil {
		return sizeNested(f.num, f.plan.size(c))
	}
	return 0
}

func (f *msgField[M, C]) encode(b []byte, m *M) ([]byte, error) {
	if c := *f.get(m); c != nil {
		return appendNested(b, f.num, f.plan, c)
	}
	return b, nil
}

func (f *listField[M, C]) size(m *M) int {
	n := 0
	for _, c := range *f.get(m) {
		if c == nil {
			c = new(C)
		}
		n += sizeNested(f.num, f.plan.size(c))
	}
	return n
}

func (f *listField[M, C]) encode(b []byte, m *M) ([]byte, error) {
	var err error
	for _, c := range *f.get(m) {
		if c == nil { // protobuf-go writes a nil element as an empty message
			c = new(C)
		}
		if b, err = appendNested(b, f.num, f.plan, c); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (f *strListField[M]) size(m *M) int {
	n := 0
	for _, s := range *f.get(m) {
		n += sizeNested(f.num, len(s))
	}
	return n
}

func (f *strListField[M]) encode(b []byte, m *M) ([]byte, error) {
	var err error
	for _, s := range *f.get(m) {
		if b, err = appendString(b, f.num, s); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (f *structField[M]) size(m *M) int {
	if c := *f.get(m); c != nil {
		return sizeNested(f.num, freeFormSize(c))
	}
	return 0
}

func (f *structField[M]) encode(b []byte, m *M) ([]byte, error) {
	if c := *f.get(m); c != nil {
		return appendFreeForm(appendTag(b, f.num, protowire.BytesType), c)
	}
	return b, nil
}
