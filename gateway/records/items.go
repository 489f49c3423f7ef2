package records

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// IsDelete reports whether m is a sparse delete: its id is set and nothing
// else is.
func IsDelete(m proto.Message) bool {
	if m == nil {
		return false
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return false
	}
	id := r.Descriptor().Fields().ByName("id")
	if id == nil || id.Kind() != protoreflect.StringKind || id.IsList() || r.Get(id).String() == "" {
		return false
	}
	only := true
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		only = fd == id
		return only
	})
	return only && len(r.GetUnknown()) == 0
}

// ValidateItems normalizes and validates each decoded item that is not a
// delete, adding its validation errors after its decode errors. A path that
// already failed to decode is not reported again, and an element that was not
// an object at all gets no validation, since every field would be "missing".
func ValidateItems[T proto.Message](items []Item[T]) {
	for i := range items {
		it := &items[i]
		if it.Delete || wholeRecordFailed(it.Errors) {
			continue
		}
		Normalize(it.Msg)
		decodeErrs := it.Errors
		for _, e := range Validate(it.Msg) {
			if !covered(e.Field, decodeErrs) {
				it.Errors = append(it.Errors, e)
			}
		}
	}
}

func wholeRecordFailed(errs []*commercesyncv1.FieldError) bool {
	for _, e := range errs {
		if e.Field == "" {
			return true
		}
	}
	return false
}

// covered reports whether field is, or lies inside, a path already in errs.
func covered(field string, errs []*commercesyncv1.FieldError) bool {
	for _, e := range errs {
		p := e.Field
		if field == p || strings.HasPrefix(field, p) && len(field) > len(p) && (field[len(p)] == '.' || field[len(p)] == '[') {
			return true
		}
	}
	return false
}
