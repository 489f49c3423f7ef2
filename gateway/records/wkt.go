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
		return structpb.NewStringValue(s), err
	case c == 't':
		return structpb.NewBoolValue(true), d.expect("true")
	case c == 'f':
		return structpb.NewBoolValue(false), d.expect("false")
	case c == 'n':
		return structpb.NewNullValue(), d.expect("null")
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
		return structpb.NewNumberValue(f), nil
	}
	return nil, errSyntax
}

func (d *decoder) anyObject() (*structpb.Value, error) {
	d.pos++ // '{'
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	ok := true
	if d.consume('}') {
		return structpb.NewStructValue(s), nil
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
	return structpb.NewStructValue(s), nil
}

func (d *decoder) anyArray() (*structpb.Value, error) {
	d.pos++ // '['
	l := &structpb.ListValue{}
	ok := true
	if d.consume(']') {
		return structpb.NewListValue(l), nil
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
	return structpb.NewListValue(l), nil
}
