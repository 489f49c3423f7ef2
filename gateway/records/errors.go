package records

import (
	"strconv"
	"strings"
	"unicode/utf8"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// maxErrors caps the errors reported for one record: past that point more
// detail only makes the response large, and a sender can fix and resend.
const maxErrors = 50

// errList collects a record's errors up to maxErrors.
type errList struct {
	errs []*commercesyncv1.FieldError
	full bool
}

func (l *errList) add(field, msg string) {
	if l.full {
		return
	}
	if len(l.errs) == maxErrors {
		l.full = true
		l.errs = append(l.errs, &commercesyncv1.FieldError{Message: "more errors were found but are not listed; fix these and send the record again"})
		return
	}
	l.errs = append(l.errs, &commercesyncv1.FieldError{Field: field, Message: msg})
}

// seg is one step of a JSON path: a field name, or an index when name is "".
type seg struct {
	name  string
	index int
}

// path is a JSON path kept as segments, rendered only when an error needs it.
type path []seg

func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.name == "" {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(segName(s.name))
	}
	return b.String()
}

// maxSegment bounds one name in a rendered path. Known field names are far
// shorter; an unknown key or a supplementalData key can be as long as the
// body, and the answer must not repeat it whole.
const maxSegment = 64

func segName(name string) string {
	if !utf8.ValidString(name) { // a key in a body that is not valid JSON
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	if len(name) <= maxSegment {
		return name
	}
	cut := maxSegment
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return strings.ToValidUTF8(name[:cut], "\uFFFD") + "…"
}

// join extends a rendered path by a field name.
func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
