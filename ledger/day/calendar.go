package day

import (
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // zones resolve the same on hosts without a zoneinfo database
)

// DayLayout is the text form of a business day.
const DayLayout = "2006-01-02"

// Calendar maps instants to a merchant's business days. See the package doc
// for how daylight-saving gaps and repeats resolve.
type Calendar struct {
	Loc        *time.Location
	CutoffHour int
}

// NewCalendar builds a calendar for an IANA zone ("" means UTC) and a cutoff
// hour in 0..23; WithZones loads the zone through a shared cache.
func NewCalendar(zone string, cutoffHour int, opts ...CalendarOption) (Calendar, error) {
	if cutoffHour < 0 || cutoffHour > 23 {
		return Calendar{}, fmt.Errorf("day cutoff hour %d is outside 0..23", cutoffHour)
	}
	if zone == "Local" {
		// "Local" is the host's zone, which would make days depend on where
		// the process runs.
		return Calendar{}, errors.New(`time zone "Local" is not allowed; name an IANA zone such as Europe/London`)
	}
	loc, err := loadZone(zone, opts)
	if err != nil {
		return Calendar{}, fmt.Errorf("time zone %q is not a known IANA zone (such as Europe/London): %w", zone, err)
	}
	return Calendar{Loc: loc, CutoffHour: cutoffHour}, nil
}

func (c Calendar) loc() *time.Location {
	if c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// DayOf returns the business day that t falls in.
func (c Calendar) DayOf(t time.Time) string {
	l := t.In(c.loc())
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	// The local date is at most one day off (the cutoff, or a zone that
	// falls back across midnight); stepping settles it.
	for range 4 {
		switch {
		case t.Before(c.start(d)):
			d = d.AddDate(0, 0, -1)
		case !t.Before(c.start(d.AddDate(0, 0, 1))):
			d = d.AddDate(0, 0, 1)
		default:
			return d.Format(DayLayout)
		}
	}
	return d.Format(DayLayout)
}

// Bounds returns the half-open interval [start, end) of a business day, in
// the calendar's zone.
func (c Calendar) Bounds(day string) (start, end time.Time, err error) {
	d, err := time.Parse(DayLayout, day)
	if err != nil || d.Format(DayLayout) != day {
		return time.Time{}, time.Time{}, fmt.Errorf("business day %q is not a date in the form 2006-01-02", day)
	}
	return c.start(d), c.start(d.AddDate(0, 0, 1)), nil
}

// start returns the first instant at which the local clock reads the date of
// d (a UTC midnight) at the cutoff hour or later.
//
// It walks the zone's periods of constant offset from well before that wall
// time. Within a period the local clock runs with the instant, so the first
// period whose clock reaches the wall time holds the answer: the wall time
// itself when it exists there, or the period's start when a gap skipped it.
// Walking in order picks the first of two occurrences.
func (c Calendar) start(d time.Time) time.Time {
	loc := c.loc()
	wall := d.Add(time.Duration(c.CutoffHour) * time.Hour) // wall clock, read as UTC
	// No zone is more than 26 hours from UTC, so the clock reads earlier
	// than wall here.
	at := wall.Add(-27 * time.Hour).In(loc)
	for range 16 {
		_, off := at.Zone()
		cand := wall.Add(-time.Duration(off) * time.Second)
		if cand.Before(at) {
			cand = at // a gap: the period begins after the wall time
		}
		_, end := at.ZoneBounds()
		if end.IsZero() || cand.Before(end) {
			return cand.In(loc)
		}
		at = end.In(loc)
	}
	// Unreachable with real zone data; fall back to Go's own resolution.
	return time.Date(d.Year(), d.Month(), d.Day(), c.CutoffHour, 0, 0, 0, loc)
}
