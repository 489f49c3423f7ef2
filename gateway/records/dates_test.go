package records

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Dates are checked against the moment a record arrives: modification dates
// may lead the server's clock by the skew and no more, and no date may be
// before 1970, at any depth and in any zone.
func TestCheckDates(t *testing.T) {
	now := time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)
	skew := 5 * time.Minute
	ny := mustLoad(t, "America/New_York")
	order := func(f func(o *commercesyncv1.Order)) proto.Message {
		o := &commercesyncv1.Order{Id: "o", CreatedDate: "2026-03-12T10:00:00Z"}
		f(o)
		return o
	}
	cases := []struct {
		name  string
		m     proto.Message
		loc   *time.Location
		field string // "" when the dates are fine
		want  string
	}{
		{"modified at the skew", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "2026-03-12T16:05:00Z" }), time.UTC, "", ""},
		{"modified past the skew", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "2026-03-12T16:05:00.001Z" }), time.UTC,
			"sourceModifiedDate", `"2026-03-12T16:05:00.001Z" is ahead of the server's clock (2026-03-12T16:00:00Z) by more than the 5m0s allowed`},
		{"modifiedDate too", order(func(o *commercesyncv1.Order) { o.ModifiedDate = "9999-12-31T23:59:59Z" }), time.UTC,
			"modifiedDate", "ahead of the server's clock"},
		{"an offset counts", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "2026-03-12T17:05:00+01:00" }), time.UTC, "", ""},
		{"local time in the zone, at the skew", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "2026-03-12T12:05:00" }), ny, "", ""},
		{"local time in the zone, past it", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "2026-03-12T12:05:01" }), ny,
			"sourceModifiedDate", "ahead of the server's clock"},
		{"nested payment", order(func(o *commercesyncv1.Order) {
			o.Payments = []*commercesyncv1.PaymentRef{{Id: "p"}, {Id: "q", ModifiedDate: "2027-01-01T00:00:00Z"}}
		}), time.UTC, "payments[1].modifiedDate", "ahead of the server's clock"},
		{"a future event date is the horizon's business", order(func(o *commercesyncv1.Order) { o.ClosedDate = "2026-03-14T00:00:00Z" }), time.UTC, "", ""},
		{"1970 is in range", order(func(o *commercesyncv1.Order) { o.CreatedDate = "1970-01-01T00:00:00Z" }), time.UTC, "", ""},
		{"before 1970", order(func(o *commercesyncv1.Order) { o.CreatedDate = "1969-12-31T23:59:59.999Z" }), time.UTC,
			"createdDate", `"1969-12-31T23:59:59.999Z" is out of range: dates before 1970-01-01T00:00:00Z are refused`},
		{"year one", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "0001-01-01T00:00:00Z" }), time.UTC,
			"sourceModifiedDate", "out of range"},
		{"before 1970 by its zone", order(func(o *commercesyncv1.Order) { o.ClosedDate = "1970-01-01T00:30:00+01:00" }), time.UTC,
			"closedDate", "out of range"},
		{"a due date", &commercesyncv1.Payment{Id: "p", DueDate: "0001-01-01T00:00:00Z"}, time.UTC, "dueDate", "out of range"},
		{"a transaction", &commercesyncv1.Transaction{Id: "t", SourceCreatedDate: "1900-01-01T00:00:00Z"}, time.UTC,
			"sourceCreatedDate", "out of range"},
		{"a variant", &commercesyncv1.Product{Id: "p", Variants: []*commercesyncv1.ProductVariant{{SourceModifiedDate: "2030-01-01T00:00:00Z"}}},
			time.UTC, "variants[0].sourceModifiedDate", "ahead of the server's clock"},
		{"a location", &commercesyncv1.Location{Id: "l", ModifiedDate: "2030-01-01T00:00:00Z"}, time.UTC, "modifiedDate", "ahead"},
		{"unparseable dates are Validate's", order(func(o *commercesyncv1.Order) { o.SourceModifiedDate = "tomorrow" }), time.UTC, "", ""},
	}
	for _, c := range cases {
		errs := CheckDates(c.m, c.loc, now, skew)
		switch {
		case c.field == "" && len(errs) > 0:
			t.Errorf("%s: %v", c.name, render(errs))
		case c.field != "" && (len(errs) != 1 || errs[0].Field != c.field || !strings.Contains(errs[0].Message, c.want)):
			t.Errorf("%s: %v, want %s: …%s…", c.name, render(errs), c.field, c.want)
		}
	}
}
