package records

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxDepth bounds nesting inside one record. Commerce records are a few
// levels deep; supplementalData is free-form and would otherwise be unbounded.
const maxDepth = 64

// decoder fills one message from one JSON element. It records an error and
// carries on, so that a record gets all of its errors in one answer rather
// than one per round trip.
type decoder struct {
	scanner
	path  path
	errs  errList
	depth int
	// slabs hand out the messages and lists of a batch decoded on the
	// plans, a few allocations for all its records instead of one each;
	// free does the same for free-form JSON.
	slabs []ownedSlab
	free  freeParts
}

func (d *decoder) fail(format string, args ...any) {
	d.errs.add(d.path.String(), fmt.Sprintf(format, args...))
}

// failSkip reports an error for the value at the cursor and steps over it.
func (d *decoder) failSkip(format string, args ...any) error {
	d.fail(format, args...)
	return d.skip()
}

// failIn and failSkipIn report for the field name, below the path.
func (d *decoder) failIn(name, format string, args ...any) {
	d.push(name)
	d.fail(format, args...)
	d.pop()
}

func (d *decoder) failSkipIn(name, format string, args ...any) error {
	d.push(name)
	err := d.failSkip(format, args...)
	d.pop()
	return err
}

func (d *decoder) push(name string) { d.path = append(d.path, seg{name: name}) }
func (d *decoder) pushIndex(i int)  { d.path = append(d.path, seg{index: i}) }
func (d *decoder) pop()             { d.path = d.path[:len(d.path)-1] }

// object reads the object at the cursor into m and returns how many keys it
// had and whether "id" was one of them (to recognise a sparse delete).
func (d *decoder) object(m protoreflect.Message) (keys int, hasID bool, err error) {
	if d.depth >= maxDepth {
		return 0, false, d.failSkip("is nested more than %d levels deep", maxDepth)
	}
	d.depth++
	defer func() { d.depth-- }()

	if !d.consume('{') {
		return 0, false, errSyntax
	}
	if d.consume('}') {
		return 0, false, nil
	}
	fields := m.Descriptor().Fields()
	var seenBuf [24]protoreflect.FieldNumber
	seen := seenBuf[:0]
	for {
		fd, key, problem, err := d.key(fields)
		if err != nil {
			return keys, hasID, err
		}
		if !d.consume(':') {
			return keys, hasID, errSyntax
		}
		keys++
		switch {
		case problem != "":
			d.push(key)
			err = d.failSkip("this field name %s", problem)
		case fd == nil:
			d.push(key)
			err = d.failSkip("%s", unknownField(key, fields))
		case contains(seen, fd.Number()):
			d.push(fd.JSONName())
			err = d.failSkip("appears more than once; send each field once")
		default:
			d.push(fd.JSONName())
			seen = append(seen, fd.Number())
			hasID = hasID || fd.JSONName() == "id"
			err = d.field(m, fd)
		}
		d.pop()
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

// key reads an object key and finds its field. Keys are matched as bytes so
// that the common case allocates nothing; key is only filled in when there is
// no such field, for the error. A key that is not valid text gets problem,
// and key is then its escaped source text, which names it readably.
func (d *decoder) key(fields protoreflect.FieldDescriptors) (fd protoreflect.FieldDescriptor, key, problem string, err error) {
	start := d.pos
	raw, escaped, err := d.rawString()
	if err != nil {
		return nil, "", "", err
	}
	if escaped || !utf8.Valid(raw) {
		d.pos = start
		if key, problem, err = d.str(); err != nil || problem != "" {
			return nil, key, problem, err
		}
		if fd = fields.ByJSONName(key); fd != nil {
			return fd, "", "", nil
		}
		return nil, key, "", nil
	}
	for i := range fields.Len() {
		if f := fields.Get(i); f.JSONName() == string(raw) {
			return f, "", "", nil
		}
	}
	return nil, string(raw), "", nil
}

func contains(s []protoreflect.FieldNumber, n protoreflect.FieldNumber) bool {
	for _, v := range s {
		if v == n {
			return true
		}
	}
	return false
}

func unknownField(key string, fields protoreflect.FieldDescriptors) string {
	names := make([]string, fields.Len())
	for i := range names {
		names[i] = fields.Get(i).JSONName()
	}
	return unknownFieldOf(key, names)
}

// unknownFieldOf answers a key that is none of names.
func unknownFieldOf(key string, names []string) string {
	if s := closest(key, names); s != "" {
		return fmt.Sprintf("unknown field %s; did you mean %q?", quote(key), s)
	}
	return fmt.Sprintf("unknown field %s; remove it (field names are case-sensitive lowerCamelCase)", quote(key))
}

// field reads the value at the cursor into field fd of m.
func (d *decoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	if d.peek() == 'n' {
		return d.expect("null") // null means "not sent": the field stays unset
	}
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if other := m.WhichOneof(od); other != nil && other != fd {
			return d.failSkip("cannot be sent together with %q; send only one", other.JSONName())
		}
	}
	switch {
	case fd.IsList():
		return d.list(m, fd)
	case fd.IsMap():
		return d.mapField(m, fd)
	case fd.Message() != nil:
		if isStructType(fd.Message()) {
			return d.structField(m, fd)
		}
		if c := d.peek(); c != '{' {
			return d.failSkip("must be an object, not %s", kindOf(c))
		}
		_, _, err := d.object(m.Mutable(fd).Message())
		return err
	}
	v, ok, err := d.scalar(fd)
	if ok {
		m.Set(fd, v)
	}
	return err
}

func (d *decoder) list(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	if c := d.peek(); c != '[' {
		return d.failSkip("must be an array, not %s", kindOf(c))
	}
	d.pos++
	list := m.Mutable(fd).List()
	if d.consume(']') {
		return nil
	}
	for i := 0; ; i++ {
		d.pushIndex(i)
		err := d.listElement(list, fd)
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

func (d *decoder) listElement(list protoreflect.List, fd protoreflect.FieldDescriptor) error {
	c := d.peek()
	if c == 'n' {
		return d.failSkip("must not be null; leave the element out instead")
	}
	if fd.Message() == nil {
		v, ok, err := d.scalar(fd)
		if ok {
			list.Append(v)
		}
		return err
	}
	if isStructType(fd.Message()) {
		v, ok, err := d.structValue(fd.Message())
		if ok {
			list.Append(v)
		}
		return err
	}
	if c != '{' {
		return d.failSkip("must be an object, not %s", kindOf(c))
	}
	elem := list.NewElement()
	if _, _, err := d.object(elem.Message()); err != nil {
		return err
	}
	list.Append(elem)
	return nil
}

// mapField reads a JSON object into a map field. commerce.proto has none; it
// is here so that the decoder handles any message.
func (d *decoder) mapField(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	if c := d.peek(); c != '{' {
		return d.failSkip("must be an object, not %s", kindOf(c))
	}
	d.pos++
	mp := m.Mutable(fd).Map()
	if d.consume('}') {
		return nil
	}
	for {
		key, problem, err := d.str()
		if err != nil || !d.consume(':') {
			return errSyntax
		}
		d.push(key)
		if problem != "" {
			err = d.failSkip("this key %s", problem)
		} else {
			err = d.mapEntry(mp, fd, key)
		}
		d.pop()
		if err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return nil
		}
		return errSyntax
	}
}

func (d *decoder) mapEntry(mp protoreflect.Map, fd protoreflect.FieldDescriptor, key string) error {
	k, ok := mapKey(fd.MapKey(), key)
	if !ok {
		return d.failSkip("key %s is not a valid %s", quote(key), fd.MapKey().Kind())
	}
	if d.peek() == 'n' {
		return d.failSkip("must not be null")
	}
	vd := fd.MapValue()
	if vd.Message() != nil {
		if isStructType(vd.Message()) {
			v, ok, err := d.structValue(vd.Message())
			if ok {
				mp.Set(k, v)
			}
			return err
		}
		if c := d.peek(); c != '{' {
			return d.failSkip("must be an object, not %s", kindOf(c))
		}
		v := mp.NewValue()
		if _, _, err := d.object(v.Message()); err != nil {
			return err
		}
		mp.Set(k, v)
		return nil
	}
	v, ok, err := d.scalar(vd)
	if ok {
		mp.Set(k, v)
	}
	return err
}

func mapKey(fd protoreflect.FieldDescriptor, s string) (protoreflect.MapKey, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s).MapKey(), true
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		return protoreflect.ValueOfBool(b).MapKey(), err == nil && (s == "true" || s == "false")
	}
	v, err := intValue(fd.Kind(), s)
	return v.MapKey(), err == nil
}

// scalar reads a non-message value. ok reports whether v should be stored.
func (d *decoder) scalar(fd protoreflect.FieldDescriptor) (v protoreflect.Value, ok bool, err error) {
	c := d.peek()
	switch fd.Kind() {
	case protoreflect.StringKind:
		switch {
		case c == '"':
			s, problem, err := d.str()
			if problem != "" {
				d.fail("%s", problem)
				return v, false, err
			}
			return protoreflect.ValueOfString(s), err == nil, err
		case isNumberStart(c):
			// The exact source text, so 0.10 stays "0.10" and 1e2 stays "1e2".
			s, err := d.number()
			return protoreflect.ValueOfString(s), err == nil, err
		}
		if decimalKindOf(fd) != notDecimal {
			return v, false, d.failSkip("must be a number or a string holding one, such as 12.34, not %s", kindOf(c))
		}
		return v, false, d.failSkip("must be a string, not %s", kindOf(c))

	case protoreflect.BoolKind:
		switch {
		case c == 't' && d.literal("true"):
			return protoreflect.ValueOfBool(true), true, nil
		case c == 'f' && d.literal("false"):
			return protoreflect.ValueOfBool(false), true, nil
		}
		return v, false, d.failSkip("must be true or false, not %s", kindOf(c))

	case protoreflect.EnumKind:
		return d.enumValue(fd)

	case protoreflect.BytesKind:
		if c != '"' {
			return v, false, d.failSkip("must be a base64 string, not %s", kindOf(c))
		}
		s, problem, err := d.str()
		if err != nil || problem != "" {
			if problem != "" {
				d.fail("%s", problem)
			}
			return v, false, err
		}
		b, derr := base64.StdEncoding.DecodeString(s)
		if derr != nil {
			if b, derr = base64.URLEncoding.DecodeString(s); derr != nil {
				d.fail("is not valid base64")
				return v, false, nil
			}
		}
		return protoreflect.ValueOfBytes(b), true, nil
	}
	return d.numberValue(fd)
}

// numberValue reads an integer or floating-point field, from a number or, as
// protojson allows, a string holding one.
func (d *decoder) numberValue(fd protoreflect.FieldDescriptor) (v protoreflect.Value, ok bool, err error) {
	var text string
	switch c := d.peek(); {
	case isNumberStart(c):
		text, err = d.number()
	case c == '"':
		var problem string
		if text, problem, err = d.str(); problem != "" {
			d.fail("%s", problem)
			return v, false, err
		}
	default:
		return v, false, d.failSkip("must be a number, not %s", kindOf(c))
	}
	if err != nil {
		return v, false, err
	}
	switch fd.Kind() {
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		f, perr := strconv.ParseFloat(text, bits)
		if perr != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			d.fail("%s is not a finite number", quote(text))
			return v, false, nil
		}
		if bits == 32 {
			return protoreflect.ValueOfFloat32(float32(f)), true, nil
		}
		return protoreflect.ValueOfFloat64(f), true, nil
	}
	v, perr := intValue(fd.Kind(), text)
	if perr != nil {
		d.fail("%s is not a whole number in range", quote(text))
		return v, false, nil
	}
	return v, true, nil
}

func intValue(k protoreflect.Kind, s string) (protoreflect.Value, error) {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported kind %s", k)
}

// enumValue reads a proto enum by name or number. commerce.proto keeps Codat's
// enums as strings instead; this serves other messages.
func (d *decoder) enumValue(fd protoreflect.FieldDescriptor) (v protoreflect.Value, ok bool, err error) {
	values := fd.Enum().Values()
	switch c := d.peek(); {
	case c == '"':
		s, problem, err := d.str()
		if err != nil || problem != "" {
			if problem != "" {
				d.fail("%s", problem)
			}
			return v, false, err
		}
		if ev := values.ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true, nil
		}
		names := make([]string, values.Len())
		for i := range names {
			names[i] = string(values.Get(i).Name())
		}
		if near := closest(s, names); near != "" {
			d.fail("%s is not a valid value; did you mean %q?", quote(s), near)
		} else {
			d.fail("%s is not a valid value", quote(s))
		}
		return v, false, nil
	case isNumberStart(c):
		s, err := d.number()
		if err != nil {
			return v, false, err
		}
		n, perr := strconv.ParseInt(s, 10, 32)
		if perr != nil {
			d.fail("%s is not a valid enum number", quote(s))
			return v, false, nil
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), true, nil
	default:
		return v, false, d.failSkip("must be a string, not %s", kindOf(c))
	}
}
