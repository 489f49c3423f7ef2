package records

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Normalize repairs the one harmless flaw Codat's own data has: country codes
// padded with spaces ("GB " in Codat's example orders) are trimmed, at any
// depth. Nothing else changes, so the record stays as pushed. Call it before
// Validate and ContentHash, so that "GB " and "GB" are the same record.
func Normalize(m proto.Message) {
	if rp := planOf(m); rp != nil {
		rp.normalizeRecord(m)
		return
	}
	normalizeReflect(m)
}

// normalizeReflect is Normalize through protoreflect, for any message.
func normalizeReflect(m proto.Message) {
	if m != nil && m.ProtoReflect().IsValid() {
		normalize(m.ProtoReflect())
	}
}

func normalize(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				normalize(v.List().Get(i).Message())
			}
		case fd.Message() != nil:
			if !isStructType(fd.Message()) {
				normalize(v.Message())
			}
		case fd.Kind() == protoreflect.StringKind && !fd.IsList() && fd.Name() == "country":
			if t := strings.TrimSpace(v.String()); t != v.String() {
				m.Set(fd, protoreflect.ValueOfString(t))
			}
		}
		return true
	})
}
