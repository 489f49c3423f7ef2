package records

import (
	"encoding/binary"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Free-form JSON (supplementalData.content) is a google.protobuf.Struct: a
// map, which protobuf-go sizes and encodes through reflection, keys sorted
// for the deterministic form. These do the same on the Go values, for the
// shapes the decoder makes; anything else (a nil value, unknown fields)
// reports !ok and goes to protobuf-go. The tests hold them to its bytes.

// Field numbers of struct.proto.
const (
	structFields     protowire.Number = 1 // Struct.fields, and a map entry's key
	entryValue       protowire.Number = 2 // a map entry's value
	valueNull        protowire.Number = 1
	valueNumber      protowire.Number = 2
	valueString      protowire.Number = 3
	valueBool        protowire.Number = 4
	valueStruct      protowire.Number = 5
	valueList        protowire.Number = 6
	listValuesNumber protowire.Number = 1
)

func structSize(s *structpb.Struct) (int, bool) {
	if s == nil || len(s.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	n := 0
	for k, v := range s.Fields {
		vn, ok := valueSize(v)
		if !ok {
			return 0, false
		}
		entry := sizeNested(structFields, len(k)) + sizeNested(entryValue, vn)
		n += sizeNested(structFields, entry)
	}
	return n, true
}

func valueSize(v *structpb.Value) (int, bool) {
	if v == nil || len(v.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	switch k := v.Kind.(type) {
	case nil:
		return 0, true
	case *structpb.Value_NullValue:
		return protowire.SizeTag(valueNull) + protowire.SizeVarint(uint64(k.NullValue)), true
	case *structpb.Value_NumberValue:
		return protowire.SizeTag(valueNumber) + protowire.SizeFixed64(), true
	case *structpb.Value_StringValue:
		return sizeNested(valueString, len(k.StringValue)), true
	case *structpb.Value_BoolValue:
		return protowire.SizeTag(valueBool) + 1, true
	case *structpb.Value_StructValue:
		n, ok := structSize(k.StructValue)
		return sizeNested(valueStruct, n), ok
	case *structpb.Value_ListValue:
		n, ok := listSize(k.ListValue)
		return sizeNested(valueList, n), ok
	}
	return 0, false
}

func listSize(l *structpb.ListValue) (int, bool) {
	if l == nil || len(l.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	n := 0
	for _, v := range l.Values {
		vn, ok := valueSize(v)
		if !ok {
			return 0, false
		}
		n += sizeNested(listValuesNumber, vn)
	}
	return n, true
}

// appendStruct appends s's fields (not its tag and length), keys in order.
// It is only called on a Struct that structSize took.
func appendStruct(b []byte, s *structpb.Struct) ([]byte, error) {
	var buf [16]string
	keys := buf[:0]
	for k := range s.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return b, errNotText
		}
		v := s.Fields[k]
		vn, _ := valueSize(v)
		b = appendTag(b, structFields, protowire.BytesType)
		b = appendVarint(b, uint64(sizeNested(structFields, len(k))+sizeNested(entryValue, vn)))
		b = appendTag(b, structFields, protowire.BytesType)
		b = append(appendVarint(b, uint64(len(k))), k...)
		b = appendTag(b, entryValue, protowire.BytesType)
		b = appendVarint(b, uint64(vn))
		if b, err = appendValue(b, v); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendValue(b []byte, v *structpb.Value) ([]byte, error) {
	switch k := v.Kind.(type) {
	case *structpb.Value_NullValue:
		b = appendTag(b, valueNull, protowire.VarintType)
		return appendVarint(b, uint64(k.NullValue)), nil
	case *structpb.Value_NumberValue:
		b = appendTag(b, valueNumber, protowire.Fixed64Type)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(k.NumberValue)), nil
	case *structpb.Value_StringValue:
		return appendString(b, valueString, k.StringValue)
	case *structpb.Value_BoolValue:
		b = appendTag(b, valueBool, protowire.VarintType)
		return appendVarint(b, protowire.EncodeBool(k.BoolValue)), nil
	case *structpb.Value_StructValue:
		n, _ := structSize(k.StructValue)
		b = appendTag(b, valueStruct, protowire.BytesType)
		return appendStruct(appendVarint(b, uint64(n)), k.StructValue)
	case *structpb.Value_ListValue:
		n, _ := listSize(k.ListValue)
		b = appendTag(b, valueList, protowire.BytesType)
		b = appendVarint(b, uint64(n))
		var err error
		for _, e := range k.ListValue.Values {
			en, _ := valueSize(e)
			b = appendTag(b, listValuesNumber, protowire.BytesType)
			b = appendVarint(b, uint64(en))
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
	}
	return b, nil
}

// freeFormSize is proto.Size of s.
func freeFormSize(s *structpb.Struct) int {
	if n, ok := structSize(s); ok {
		return n
	}
	return proto.Size(s)
}

// appendFreeForm appends s's deterministic encoding, length first.
func appendFreeForm(b []byte, s *structpb.Struct) ([]byte, error) {
	n, ok := structSize(s)
	if !ok {
		at := len(b)
		b, err := deterministic.MarshalAppend(append(b, 0), s)
		if err != nil {
			return b, err
		}
		return fixLength(b, at), nil
	}
	return appendStruct(appendVarint(b, uint64(n)), s)
}
