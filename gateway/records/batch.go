package records

import (
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// DefaultMaxBatch is the batch limit used when DecodeBatch is given limit <= 0,
// so that a missing setting never means "unlimited".
const DefaultMaxBatch = 5000

// Errors that reject a body as a whole; wrapped with detail, test with errors.Is.
var (
	// ErrNotArray: the body is not valid JSON, or not a JSON array (HTTP 400).
	ErrNotArray = errors.New("request body must be a JSON array of records")
	// ErrTooMany: the array has more than the allowed elements (HTTP 413).
	ErrTooMany = errors.New("too many records in one request")
)

// Item is one element of a batch, answered on its own.
type Item[T proto.Message] struct {
	Index  int
	Msg    T      // decoded as far as possible
	ID     string // the "id" value if readable
	Delete bool   // the element was a sparse {"id": "..."} only
	Errors []*commercesyncv1.FieldError
	// Wire is Msg's encoding as Encode writes it once Normalize has run,
	// when the record arrived so (WireDecoder.Decode's canonical); nil
	// otherwise. Msg is not to change but by Normalize while it is set.
	Wire []byte
	// sizeBound is a size the encoded Msg cannot exceed, from its JSON
	// (sizeBoundOf); 0 when there is none.
	sizeBound int
}

// DecodeBatch splits a JSON array body into elements and decodes each on its
// own. It returns an error only when the body as a whole is unusable (not a
// JSON array, or more than limit elements; the error says how many were sent
// and the limit). A limit <= 0 means DefaultMaxBatch.
//
// The whole body must be valid JSON before any element is answered: once an
// element is truncated there is no telling where the next one starts, so
// guessing would attach data to the wrong record. Elements that are valid JSON
// but not objects are errors of that element only.
//
// Commerce records are decoded in one pass (decodeFast), checking the JSON
// as they go; any other message, and a body that is not valid JSON, are
// checked with json.Valid first and decoded element by element after it.
func DecodeBatch[T proto.Message](body []byte, limit int, newMsg func() T) ([]Item[T], error) {
	if limit <= 0 {
		limit = DefaultMaxBatch
	}
	if items, err, ok := decodeFast(body, limit, newMsg); ok {
		return items, err
	}
	return decodeTwoPass(body, limit, newMsg)
}

// decodeTwoPass is DecodeBatch for any message: json.Valid over the body,
// then each element decoded through protoreflect.
func decodeTwoPass[T proto.Message](body []byte, limit int, newMsg func() T) ([]Item[T], error) {
	elems, err := splitArray(body, limit)
	if err != nil {
		return nil, err
	}
	items := make([]Item[T], len(elems))
	for i, e := range elems {
		items[i] = decodeElement(i, e, newMsg())
	}
	return items, nil
}

// splitArray returns the elements of a JSON array as sub-slices of body,
// refusing arrays longer than limit but still counting them so the answer can
// say how many were sent.
func splitArray(body []byte, limit int) ([][]byte, error) {
	if !json.Valid(body) {
		var raw json.RawMessage
		err := json.Unmarshal(body, &raw) // only to get the syntax error's text
		var se *json.SyntaxError
		if errors.As(err, &se) {
			where := ""
			if p := pathAt(body, int(se.Offset)); p != "" {
				where = ", in " + p
			}
			return nil, fmt.Errorf("%w: the body is not valid JSON: %v at byte %d%s", ErrNotArray, err, se.Offset, where)
		}
		return nil, fmt.Errorf("%w: the body is not valid JSON: %v", ErrNotArray, err)
	}
	s := scanner{data: body}
	if c := s.peek(); c != '[' {
		return nil, fmt.Errorf("%w, not %s; wrap a single record in [ ]", ErrNotArray, kindOf(c))
	}
	s.pos++
	var elems [][]byte
	if s.consume(']') {
		return elems, nil
	}
	n := 0
	for {
		s.ws()
		start := s.pos
		if err := s.skip(); err != nil {
			return nil, fmt.Errorf("%w: the body is not valid JSON", ErrNotArray)
		}
		if n++; n <= limit {
			elems = append(elems, body[start:s.pos])
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			break
		}
		return nil, fmt.Errorf("%w: the body is not valid JSON", ErrNotArray)
	}
	if n > limit {
		return nil, tooMany(n, limit)
	}
	return elems, nil
}

func decodeElement[T proto.Message](i int, elem []byte, msg T) Item[T] {
	it := Item[T]{Index: i, Msg: msg}
	d := decoder{scanner: scanner{data: elem}}
	if c := d.peek(); c != '{' {
		d.fail("each record must be a JSON object, not %s", kindOf(c))
		it.Errors = d.errs.errs
		return it
	}
	m := msg.ProtoReflect()
	keys, hasID, err := d.object(m)
	if err != nil {
		d.path = d.path[:0]
		d.fail("the record is malformed JSON near byte %d of the element", d.pos)
	}
	it.Errors = d.errs.errs
	if fd := m.Descriptor().Fields().ByName("id"); fd != nil && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
		it.ID = m.Get(fd).String()
	}
	it.Delete = keys == 1 && hasID && it.ID != "" && len(it.Errors) == 0
	return it
}

// pathAt names the value of body that byte offset falls in, as a path from
// the array ("[3].orderLineItems[0].id"), so that a syntax error such as an
// invalid escape names its record and field. body is not valid JSON, so the
// walk trusts nothing past brackets, commas, colons and string quotes.
func pathAt(body []byte, offset int) string {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var st []frame
	for i := 0; i < len(body) && i < offset; {
		c := body[i]
		switch {
		case c == '{':
			st = append(st, frame{wantKey: true})
		case c == '[':
			st = append(st, frame{array: true})
		case (c == '}' || c == ']') && len(st) > 0:
			st = st[:len(st)-1]
		case c == ',' && len(st) > 0:
			top := &st[len(st)-1]
			top.index++
			top.key, top.wantKey = "", !top.array
		case c == ':' && len(st) > 0:
			st[len(st)-1].wantKey = false
		case c == '"':
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			if n := len(st); n > 0 && st[n-1].wantKey {
				st[n-1].key = string(body[i+1 : min(j, len(body))])
			}
			i = j + 1
			continue
		}
		i++
	}
	var p path
	for _, f := range st {
		switch {
		case f.array:
			p = append(p, seg{index: f.index})
		case f.key != "":
			p = append(p, seg{name: f.key})
		}
	}
	return p.String()
}
