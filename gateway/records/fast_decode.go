package records

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
)

// decodeFast is DecodeBatch in one pass over body, for records with a plan:
// the scanner checks the JSON grammar as it decodes each element, so there
// is no json.Valid pass before it, and strings are slices of one copy of the
// body. ok is false when it has no answer (the body is not a JSON array of
// valid JSON, or holds a record without a plan); DecodeBatch then decodes
// the body the two-pass way, which names the syntax error.
func decodeFast[T proto.Message](body []byte, limit int, newMsg func() T) (items []Item[T], err error, ok bool) {
	d := &decoder{scanner: scanner{data: body, text: string(body)}}
	if d.peek() != '[' {
		return nil, nil, false
	}
	d.pos++
	items = make([]Item[T], 0, min(limit, max(1, len(body)/512)))
	n := 0
	if !d.consume(']') {
		for {
			d.ws()
			if n++; n <= limit {
				msg := newMsg()
				rp := planOf(msg)
				if rp == nil {
					return nil, nil, false
				}
				it, err := decodeItem(d, n-1, msg, rp)
				if err != nil {
					return nil, nil, false
				}
				items = append(items, it)
			} else if err := d.skip(); err != nil {
				return nil, nil, false
			}
			if d.consume(',') {
				continue
			}
			if d.consume(']') {
				break
			}
			return nil, nil, false
		}
	}
	if d.ws(); d.pos != len(d.data) {
		return nil, nil, false
	}
	if n > limit {
		return nil, tooMany(n, limit), true
	}
	return items, nil, true
}

// sizeBoundOf bounds the encoded size of a record decoded from n bytes of
// JSON. Each byte of JSON becomes at most 5.5 bytes of protobuf: the worst
// is a number in free-form JSON's list, where "0," (two bytes) is a list
// entry holding a double (eleven); every other construct grows less, and
// strings, keys and brackets shrink or stay. Twice that leaves a margin the
// tests check against every body they send.
func sizeBoundOf(n int) int { return 11*n + 64 }

func tooMany(n, limit int) error {
	return fmt.Errorf("%w: %d records were sent and the limit is %d; split them into several requests", ErrTooMany, n, limit)
}

// decodeItem decodes the element at the cursor, as decodeElement does.
func decodeItem[T proto.Message](d *decoder, i int, msg T, rp recordPlan) (Item[T], error) {
	it := Item[T]{Index: i, Msg: msg}
	d.errs, d.path, d.depth = errList{}, d.path[:0], 0
	if c := d.peek(); c != '{' {
		d.fail("each record must be a JSON object, not %s", kindOf(c))
		it.Errors = d.errs.errs
		return it, d.skip()
	}
	start := d.pos
	keys, hasID, id, err := rp.decodeRecord(d, msg)
	if err != nil {
		return it, err
	}
	it.Errors, it.ID, it.sizeBound = d.errs.errs, id, sizeBoundOf(d.pos-start)
	it.Delete = keys == 1 && hasID && it.ID != "" && len(it.Errors) == 0
	return it, nil
}

// decode reads the object at the cursor into m, as decoder.object does, and
// returns how many keys it had and whether "id" was one of them.
func (p *plan[M]) decode(d *decoder, m *M) (keys int, hasID bool, err error) {
	if d.depth >= maxDepth {
		return 0, false, d.failSkip("is nested more than %d levels deep", maxDepth)
	}
	d.depth++
	keys, hasID, err = p.members(d, m)
	d.depth--
	return keys, hasID, err
}

func (p *plan[M]) members(d *decoder, m *M) (keys int, hasID bool, err error) {
	if !d.consume('{') {
		return 0, false, errSyntax
	}
	if d.consume('}') {
		return 0, false, nil
	}
	var seen uint64
	next := 0 // senders list fields in one order: try the one after the last first
	for {
		i, key, problem, err := p.key(d, next)
		if err != nil {
			return keys, hasID, err
		}
		if !d.consume(':') {
			return keys, hasID, errSyntax
		}
		keys++
		switch {
		case problem != "":
			err = d.failSkipIn(key, "this field name %s", problem)
		case i < 0:
			err = d.failSkipIn(key, "%s", unknownFieldOf(key, p.names))
		case seen&(1<<i) != 0:
			err = d.failSkipIn(p.names[i], "appears more than once; send each field once")
		default:
			// The field puts its name on the path when it has an error
			// or something nested to read, not for every value.
			seen |= 1 << i
			hasID = hasID || i == p.idIdx
			err = p.fields[i].decode(d, m)
			next = i + 1
		}
		if err != nil {
			return keys, hasID, err
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return keys, hasID, nil
		}
		return keys, hasID, errSyntax
	}
}

// key reads an object key and finds its field's index (-1 for none), as
// decoder.key does.
func (p *plan[M]) key(d *decoder, next int) (i int, key, problem string, err error) {
	// The field after the last is usually next, and a name that matches
	// byte for byte up to a quote is that key exactly: names hold no
	// escapes. It saves scanning for the key's end.
	if d.peek() == '"' && next < len(p.names) {
		name, at := p.names[next], d.pos+1
		if end := at + len(name); end < len(d.data) && d.data[end] == '"' && string(d.data[at:end]) == name {
			d.pos = end + 1
			return next, "", "", nil
		}
	}
	start := d.pos
	raw, escaped, plain, err := d.rawText()
	if err != nil {
		return -1, "", "", err
	}
	if !plain && (escaped || !utf8.Valid(raw)) {
		d.pos = start
		if key, problem, err = d.str(); err != nil || problem != "" {
			return -1, key, problem, err
		}
		for i, name := range p.names {
			if name == key {
				return i, "", "", nil
			}
		}
		return -1, key, "", nil
	}
	for i, name := range p.names {
		if name == string(raw) {
			return i, "", "", nil
		}
	}
	return -1, string(raw), "", nil
}

// The decode methods read the value at the cursor into their field, as
// decoder.field does for a field of their kind.

func (f *strField[M]) decode(d *decoder, m *M) error {
	switch c := d.peek(); {
	case c == '"':
		s, problem, err := d.str()
		if problem != "" {
			d.failIn(f.json, "%s", problem)
			return err
		}
		if err == nil {
			*f.get(m) = s
		}
		return err
	case isNumberStart(c):
		// The exact source text, so 0.10 stays "0.10" and 1e2 stays "1e2".
		s, err := d.number()
		if err == nil {
			*f.get(m) = s
		}
		return err
	case c == 'n':
		return d.expect("null")
	default:
		if f.dec != notDecimal {
			return d.failSkipIn(f.json, "must be a number or a string holding one, such as 12.34, not %s", kindOf(c))
		}
		return d.failSkipIn(f.json, "must be a string, not %s", kindOf(c))
	}
}

func (f *boolField[M]) decode(d *decoder, m *M) error {
	switch c := d.peek(); {
	case c == 'n':
		return d.expect("null")
	case c == 't' && d.literal("true"):
		*f.get(m) = true
		return nil
	case c == 'f' && d.literal("false"):
		*f.get(m) = false
		return nil
	default:
		return d.failSkipIn(f.json, "must be true or false, not %s", kindOf(c))
	}
}

func (f *msgField[M, C]) decode(d *decoder, m *M) error {
	switch c := d.peek(); c {
	case 'n':
		return d.expect("null")
	case '{':
	default:
		return d.failSkipIn(f.json, "must be an object, not %s", kindOf(c))
	}
	child := *f.get(m)
	if child == nil {
		child = slabOf(d, f.plan).message()
		*f.get(m) = child
	}
	d.push(f.json)
	_, _, err := f.plan.decode(d, child)
	d.pop()
	return err
}

func (f *listField[M, C]) decode(d *decoder, m *M) error {
	switch c := d.peek(); c {
	case 'n':
		return d.expect("null")
	case '[':
	default:
		return d.failSkipIn(f.json, "must be an array, not %s", kindOf(c))
	}
	d.push(f.json)
	err := f.elements(d, m)
	d.pop()
	return err
}

func (f *listField[M, C]) elements(d *decoder, m *M) error {
	d.pos++
	if d.consume(']') {
		return nil
	}
	slab := slabOf(d, f.plan)
	var buf [8]*C
	elems := buf[:0]
	for i := 0; ; i++ {
		d.pushIndex(i)
		var err error
		switch c := d.peek(); c {
		case 'n':
			err = d.failSkip("must not be null; leave the element out instead")
		case '{':
			elem := slab.message()
			if _, _, err = f.plan.decode(d, elem); err == nil {
				elems = append(elems, elem)
			}
		default:
			err = d.failSkip("must be an object, not %s", kindOf(c))
		}
		d.pop()
		if err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			if len(elems) > 0 {
				*f.get(m) = slab.list(elems)
			}
			return nil
		}
		return errSyntax
	}
}

func (f *strListField[M]) decode(d *decoder, m *M) error {
	switch c := d.peek(); c {
	case 'n':
		return d.expect("null")
	case '[':
	default:
		return d.failSkipIn(f.json, "must be an array, not %s", kindOf(c))
	}
	d.push(f.json)
	err := f.elements(d, m)
	d.pop()
	return err
}

func (f *strListField[M]) elements(d *decoder, m *M) error {
	d.pos++
	if d.consume(']') {
		return nil
	}
	elems := f.get(m)
	for i := 0; ; i++ {
		d.pushIndex(i)
		var err error
		switch c := d.peek(); {
		case c == 'n':
			err = d.failSkip("must not be null; leave the element out instead")
		case c == '"':
			var s, problem string
			if s, problem, err = d.str(); problem != "" {
				d.fail("%s", problem)
			} else if err == nil {
				*elems = append(*elems, s)
			}
		case isNumberStart(c):
			var s string
			if s, err = d.number(); err == nil {
				*elems = append(*elems, s)
			}
		default:
			err = d.failSkip("must be a string, not %s", kindOf(c))
		}
		d.pop()
		if err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return nil
		}
		return errSyntax
	}
}

func (f *structField[M]) decode(d *decoder, m *M) error {
	switch c := d.peek(); c {
	case 'n':
		return d.expect("null")
	case '{':
	default:
		return d.failSkipIn(f.json, "must be an object, not %s", kindOf(c))
	}
	d.push(f.json)
	val, err := d.anyValue()
	d.pop()
	if err != nil || val == nil {
		return err
	}
	*f.get(m) = val.GetStructValue()
	return nil
}

// slab hands out messages of type C and lists of them from chunks. A chunk
// lives as long as any message or list in it, which is as long as the
// batch's records.
type slab[C any] struct {
	messages []C
	lists    []*C
}

// ownedSlab is a slab with the plan it serves.
type ownedSlab struct {
	plan any
	slab any
}

// slabOf finds the decoder's slab for p's messages, making it on first use.
// A batch uses a handful of message types, so a scan beats a map.
func slabOf[C any](d *decoder, p *plan[C]) *slab[C] {
	return slabIn(&d.slabs, p)
}

func slabIn[C any](slabs *[]ownedSlab, p *plan[C]) *slab[C] {
	for _, s := range *slabs {
		if s.plan == any(p) {
			return s.slab.(*slab[C])
		}
	}
	s := &slab[C]{}
	*slabs = append(*slabs, ownedSlab{plan: p, slab: s})
	return s
}

// slabChunk is how many messages or list slots a chunk holds: enough for
// the records of a typical push in a few allocations, little enough to
// waste nothing that matters on a push of one record.
const slabChunk = 64

func (s *slab[C]) message() *C {
	if len(s.messages) == 0 {
		s.messages = make([]C, slabChunk)
	}
	c := &s.messages[0]
	s.messages = s.messages[1:]
	return c
}

// list returns a copy of elems in a slice of exactly their length, so that
// appending to it never reaches a neighbour's elements.
func (s *slab[C]) list(elems []*C) []*C {
	if len(s.lists) < len(elems) {
		s.lists = make([]*C, max(slabChunk, len(elems)))
	}
	l := s.lists[:len(elems):len(elems)]
	s.lists = s.lists[len(elems):]
	copy(l, elems)
	return l
}
