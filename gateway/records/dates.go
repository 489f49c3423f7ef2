package records

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// MinDate is the earliest instant any date of a record may name. Nothing a
// merchant sold predates it, and a date before it is a default value (0001-01-01)
// or an error, which would otherwise land in a day nobody syncs.
var MinDate = time.Unix(0, 0).UTC()

// DefaultModifiedSkew is how far ahead of the gateway's clock a modifiedDate
// or sourceModifiedDate may be: clocks of sending systems drift by seconds,
// rarely by minutes.
const DefaultModifiedSkew = 5 * time.Minute

// CheckDates checks every date of m, at any depth, against the moment it
// arrived: none may be before MinDate, and no modifiedDate or
// sourceModifiedDate may be later than now plus skew. A version dated in the
// future would win against every correction and delete sent before that
// date, freezing the record. loc reads dates without a zone. A date that does
// not parse is left to Validate, which says why.
func CheckDates(m proto.Message, loc *time.Location, now time.Time, skew time.Duration) []*commercesyncv1.FieldError {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil
	}
	c := dateChecker{loc: loc, latest: now.Add(skew), now: now, skew: skew}
	if rp := planOf(m); rp != nil {
		c.path = c.pathBuf[:0]
		rp.datesOf(&c, m)
		return c.errs.errs
	}
	c.message(m.ProtoReflect(), "")
	return c.errs.errs
}

// checkDatesReflect is CheckDates through protoreflect, for any message.
func checkDatesReflect(m proto.Message, loc *time.Location, now time.Time, skew time.Duration) []*commercesyncv1.FieldError {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil
	}
	c := dateChecker{loc: loc, latest: now.Add(skew), now: now, skew: skew}
	c.message(m.ProtoReflect(), "")
	return c.errs.errs
}

type dateChecker struct {
	loc         *time.Location
	now, latest time.Time
	skew        time.Duration
	errs        errList
	path        path // where the plans' walk is
	pathBuf     [8]seg
}

func (c *dateChecker) message(m protoreflect.Message, path string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		at := join(path, fd.JSONName())
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Message() != nil && !isStructType(fd.Message()):
			for i := range v.List().Len() {
				c.message(v.List().Get(i).Message(), index(at, i))
			}
		case fd.Message() != nil:
			if !isStructType(fd.Message()) {
				c.message(v.Message(), at)
			}
		case !fd.IsList() && isTimeField(fd):
			c.date(fd, v.String(), at)
		}
		return true
	})
}

func (c *dateChecker) date(fd protoreflect.FieldDescriptor, s, at string) {
	if s == "" {
		return
	}
	if problem := c.problem(fd.Name() == "modified_date" || fd.Name() == "source_modified_date", s); problem != "" {
		c.errs.add(at, problem)
	}
}
