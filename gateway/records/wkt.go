package records

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// isStructType reports the well-known types that hold free-form JSON
// (supplementalData.content), which take any JSON rather than fields.
func isStructType(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return true
	}
	return false
}

func (d *decoder) structField(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	v, ok, err := d.structValue(fd.Message())
	if ok {
		// Merge rather than Set, so that a dynamic message works as well as
		// the generated structpb types.
		proto.Merge(m.Mutable(fd).Message().Interface(), v.Message().Interface())
	}
	return err
}

// structValue reads free-form JSON as the well-known type md. Numbers become
// doubles, as Struct allows nothing else: supplemental data is carried for
// the merchant, never read as money.
func (d *decoder) structValue(md protoreflect.MessageDescriptor) (v protoreflect.Value, ok bool, err error) {
	c := d.peek()
	var msg proto.Message
	switch md.FullName() {
	case "google.protobuf.Struct":
		if c != '{' {
			return v, false, d.failSkip("must be an object, not %s", kindOf(c))
		}
		val, err := d.anyValue()
		if err != nil || val == nil {
			return v, false, err
		}
		msg = val.GetStructValue()
	case "google.protobuf.ListValue":
		if c != '[' {
			return v, false, d.failSkip("must be an array, not %s", kindOf(c))
		}
		val, err := d.anyValue()
		if err != nil || val == nil {
			return v, false, err
		}
		msg = val.GetListValue()
	default:
		val, err := d.anyValue()
		if err != nil || val == nil {
			return v, false, err
		}
		msg = val
	}
	return protoreflect.ValueOfMessage(msg.ProtoReflect()), true, nil
}

// anyValue reads any JSON value. It returns nil, with the error recorded,
// when part of the value cannot be represented.
func (d *decoder) anyValue() (*structpb.Value, error) {
	if d.depth >= maxDepth {
		return nil, d.failSkip("is nested more than %d levels deep", maxDepth)
	}
	d.depth++
	defer func() { d.depth-- }()

	switch c := d.peek(); {
	case c == '{':
		return d.anyObject()
	case c == '[':
		return d.anyArray()
	case c == '"':
		s, problem, err := d.str()
		if problem != "" {
			d.fail("%s", problem)
			return nil, err
		}
		return d.free.stringValue(s), err
	case c == 't':
		return d.free.boolValue(true), d.expect("true")
	case c == 'f':
		return d.free.boolValue(false), d.expect("false")
	case c == 'n':
		return d.free.nullValue(), d.expect("null")
	case isNumberStart(c):
		s, err := d.number()
		if err != nil {
			return nil, err
		}
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil || math.IsInf(f, 0) {
			d.fail("number %s is out of range", quote(s))
			return nil, nil
		}
		return d.free.numberValue(f), nil
	}
	return nil, errSyntax
}

func (d *decoder) anyObject() (*structpb.Value, error) {
	d.pos++ // '{'
	s := d.free.structOf()
	ok := true
	if d.consume('}') {
		return d.free.structValue(s), nil
	}
	for {
		key, problem, err := d.str()
		if err != nil || !d.consume(':') {
			return nil, errSyntax
		}
		d.push(key)
		if problem != "" {
			err = d.failSkip("this key %s", problem)
			ok = false
		} else if _, dup := s.Fields[key]; dup {
			err = d.failSkip("appears more than once; send each key once")
			ok = false
		} else {
			var v *structpb.Value
			v, err = d.anyValue()
			if v == nil {
				ok = false
			}
			s.Fields[key] = v
		}
		d.pop()
		if err != nil {
			return nil, err
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			break
		}
		return nil, errSyntax
	}
	if !ok {
		return nil, nil
	}
	return d.free.structValue(s), nil
}

func (d *decoder) anyArray() (*structpb.Value, error) {
	d.pos++ // '['
	l := d.free.listOf()
	ok := true
	if d.consume(']') {
		return d.free.listValue(l), nil
	}
	for i := 0; ; i++ {
		d.pushIndex(i)
		v, err := d.anyValue()
		d.pop()
		if err != nil {
			return nil, err
		}
		ok = ok && v != nil
		l.Values = append(l.Values, v)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			break
		}
		return nil, errSyntax
	}
	if !ok {
		return nil, nil
	}
	return d.free.listValue(l), nil
}

// freeParts hands out the parts of free-form JSON from chunks, as slab does
// for messages: a value is two small structs (the Value and its kind), and
// a record's supplementalData would otherwise be a dozen allocations. The
// zero value is ready to use.
type freeParts struct {
	values     []structpb.Value
	strings    []structpb.Value_StringValue
	numbers    []structpb.Value_NumberValue
	bools      []structpb.Value_BoolValue
	nulls      []structpb.Value_NullValue
	structs    []structpb.Struct
	structVals []structpb.Value_StructValue
	lists      []structpb.ListValue
	listVals   []structpb.Value_ListValue
}

// take hands out the next element of a chunk, making a chunk when it is used up.
func take[T any](chunk *[]T) *T {
	if len(*chunk) == 0 {
		*chunk = make([]T, 32)
	}
	p := &(*chunk)[0]
	*chunk = (*chunk)[1:]
	return p
}

func (f *freeParts) value(kind any) *structpb.Value {
	v := take(&f.values)
	switch k := kind.(type) {
	case *structpb.Value_StringValue:
		v.Kind = k
	case *structpb.Value_NumberValue:
		v.Kind = k
	case *structpb.Value_BoolValue:
		v.Kind = k
	case *structpb.Value_NullValue:
		v.Kind = k
	case *structpb.Value_StructValue:
		v.Kind = k
	case *structpb.Value_ListValue:
		v.Kind = k
	}
	return v
}

func (f *freeParts) stringValue(s string) *structpb.Value {
	k := take(&f.strings)
	k.StringValue = s
	return f.value(k)
}

func (f *freeParts) numberValue(n float64) *structpb.Value {
	k := take(&f.numbers)
	k.NumberValue = n
	return f.value(k)
}

func (f *freeParts) boolValue(b bool) *structpb.Value {
	k := take(&f.bools)
	k.BoolValue = b
	return f.value(k)
}

func (f *freeParts) nullValue() *structpb.Value { return f.value(take(&f.nulls)) }

func (f *freeParts) structOf() *structpb.Struct {
	s := take(&f.structs)
	s.Fields = map[string]*structpb.Value{}
	return s
}

func (f *freeParts) structValue(s *structpb.Struct) *structpb.Value {
	k := take(&f.structVals)
	k.StructValue = s
	return f.value(k)
}

func (f *freeParts) listOf() *structpb.ListValue { return take(&f.lists) }

func (f *freeParts) listValue(l *structpb.ListValue) *structpb.Value {
	k := take(&f.listVals)
	k.ListValue = l
	return f.value(k)
}
