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
	if rp := planOf(m); rp != nil {
		return rp.isDelete(m)
	}
	return isDeleteReflect(m)
}

// isDeleteReflect is IsDelete through protoreflect, for any message.
func isDeleteReflect(m proto.Message) bool {
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

// ValidateItems validates items within DefaultLimits; see ValidateItemsWithin.
func ValidateItems[T proto.Message](items []Item[T]) { ValidateItemsWithin(items, DefaultLimits()) }

// ValidateItemsWithin normalizes and validates each decoded item within lim,
// adding its validation errors after its decode errors. A path that already
// failed to decode is not reported again, and an element that was not an
// object at all gets no validation, since every field would be "missing". A
// delete has only its id checked; with a bad id it is no longer a delete but
// a rejected record. An id past the limit is not echoed in
// Item.ID, so that the answer stays small; the index names the record.
func ValidateItemsWithin[T proto.Message](items []Item[T], lim Limits) {
	validateItems(items, lim, planned{})
}

// checks are the steps of ValidateItemsWithin: planned{} takes each
// record's plan where it has one, reflective{} the protoreflect code always
// (the tests' reference).
type checks interface {
	checkID(l Limits, m proto.Message) []*commercesyncv1.FieldError
	normalize(m proto.Message)
	// validate may take bound, a size m cannot exceed (0 for none).
	validate(l Limits, m proto.Message, bound int) []*commercesyncv1.FieldError
}

type planned struct{}

func (planned) checkID(l Limits, m proto.Message) []*commercesyncv1.FieldError { return l.CheckID(m) }
func (planned) normalize(m proto.Message)                                      { Normalize(m) }
func (planned) validate(l Limits, m proto.Message, bound int) []*commercesyncv1.FieldError {
	return l.validate(m, bound)
}

type reflective struct{}

func (reflective) checkID(l Limits, m proto.Message) []*commercesyncv1.FieldError {
	if m == nil {
		return nil
	}
	return l.checkIDReflect(m)
}
func (reflective) normalize(m proto.Message) { normalizeReflect(m) }
func (reflective) validate(l Limits, m proto.Message, _ int) []*commercesyncv1.FieldError {
	if m == nil {
		return nil
	}
	return l.validateReflect(m)
}

func validateItems[T proto.Message](items []Item[T], lim Limits, c checks) {
	lim = lim.WithDefaults()
	for i := range items {
		it := &items[i]
		if len(it.ID) > lim.IDBytes {
			it.ID = ""
		}
		if wholeRecordFailed(it.Errors) {
			continue
		}
		if it.Delete {
			if errs := c.checkID(lim, it.Msg); len(errs) > 0 {
				it.Errors, it.Delete = append(it.Errors, errs...), false
			}
			continue
		}
		c.normalize(it.Msg)
		decodeErrs := it.Errors
		bound := it.sizeBound
		if it.Wire != nil {
			bound = len(it.Wire) // the size itself
		}
		for _, e := range c.validate(lim, it.Msg, bound) {
			if !covered(e.Field, decodeErrs) {
				it.Errors = append(it.Errors, e)
			}
		}
	}
}

// CheckID checks the id of a record, which is all a delete carries.
func (l Limits) CheckID(m proto.Message) []*commercesyncv1.FieldError {
	if m == nil {
		return nil
	}
	if rp := planOf(m); rp != nil {
		return rp.checkID(l, m)
	}
	return l.checkIDReflect(m)
}

// checkIDReflect is CheckID through protoreflect, for any message.
func (l Limits) checkIDReflect(m proto.Message) []*commercesyncv1.FieldError {
	if !m.ProtoReflect().IsValid() {
		return nil
	}
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("id")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return nil
	}
	v := validator{lim: l.WithDefaults()}
	// A blank id is an error of its own here: a delete has no required-field
	// check to say so.
	if p := v.stringProblem(r.Descriptor(), fd, r.Get(fd).String(), true); p != "" {
		return []*commercesyncv1.FieldError{{Field: fd.JSONName(), Message: p}}
	}
	return nil
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
