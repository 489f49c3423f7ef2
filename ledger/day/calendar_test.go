package day

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// fataler is what the helpers need from *testing.T and *rapid.T alike.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

func mustCalendar(t fataler, zone string, cutoff int) Calendar {
	t.Helper()
	c, err := NewCalendar(zone, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBoundsAcrossDaylightSaving(t *testing.T) {
	cases := []struct {
		name, zone string
		cutoff     int
		day        string
		start, end string // UTC
		hours      float64
	}{
		{"London spring forward", "Europe/London", 0, "2026-03-29", "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 23},
		{"London ordinary day", "Europe/London", 0, "2026-06-15", "2026-06-14T23:00:00Z", "2026-06-15T23:00:00Z", 24},
		{"London fall back", "Europe/London", 0, "2026-10-25", "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 25},
		// 02:00 does not exist on 2026-03-08: the day starts at 03:00 EDT.
		{"New York cutoff in gap", "America/New_York", 2, "2026-03-08", "2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", 23},
		{"New York day before gap", "America/New_York", 2, "2026-03-07", "2026-03-07T07:00:00Z", "2026-03-08T07:00:00Z", 24},
		// Clocks fall back from 02:00 EDT to 01:00 EST, so 02:00 itself
		// occurs once (as EST) and the long day is the one before.
		{"New York cutoff 2 on fall back", "America/New_York", 2, "2026-11-01", "2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z", 24},
		{"New York cutoff 2 day before fall back", "America/New_York", 2, "2026-10-31", "2026-10-31T06:00:00Z", "2026-11-01T07:00:00Z", 25},
		// 01:00 occurs twice on 2026-11-01: the first (EDT) one wins.
		{"New York cutoff in repeat", "America/New_York", 1, "2026-11-01", "2026-11-01T05:00:00Z", "2026-11-02T06:00:00Z", 25},
		{"New York day before repeat", "America/New_York", 1, "2026-10-31", "2026-10-31T05:00:00Z", "2026-11-01T05:00:00Z", 24},
		{"UTC", "", 0, "2026-01-01", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 24},
		// Lord Howe moves its clocks by half an hour.
		{"Lord Howe spring forward", "Australia/Lord_Howe", 2, "2026-10-04", "2026-10-03T15:30:00Z", "2026-10-04T15:00:00Z", 23.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCalendar(t, tc.zone, tc.cutoff)
			start, end, err := c.Bounds(tc.day)
			if err != nil {
				t.Fatal(err)
			}
			if !start.Equal(utc(t, tc.start)) || !end.Equal(utc(t, tc.end)) {
				t.Fatalf("Bounds(%s) = [%s, %s), want [%s, %s)", tc.day, start.UTC(), end.UTC(), tc.start, tc.end)
			}
			if h := end.Sub(start).Hours(); h != tc.hours {
				t.Fatalf("day is %v hours, want %v", h, tc.hours)
			}
			if got := c.DayOf(start); got != tc.day {
				t.Errorf("DayOf(start) = %s, want %s", got, tc.day)
			}
			if got := c.DayOf(end.Add(-time.Nanosecond)); got != tc.day {
				t.Errorf("DayOf(end-1ns) = %s, want %s", got, tc.day)
			}
			if got := c.DayOf(end); got == tc.day {
				t.Errorf("DayOf(end) = %s, want the next day", got)
			}
		})
	}
}

func TestDayOf(t *testing.T) {
	london := mustCalendar(t, "Europe/London", 0)
	ny := mustCalendar(t, "America/New_York", 4)
	nyRepeat := mustCalendar(t, "America/New_York", 1)
	cases := []struct {
		name string
		c    Calendar
		at   string
		want string
	}{
		{"last millisecond of the day", london, "2026-06-30T23:59:59.999+01:00", "2026-06-30"},
		{"first millisecond of the day", london, "2026-07-01T00:00:00.001+01:00", "2026-07-01"},
		{"cutoff 4 keeps 03:00 on the 2nd in the 1st", ny, "2026-06-02T03:00:00-04:00", "2026-06-01"},
		{"cutoff 4 at 03:59:59.999", ny, "2026-06-02T03:59:59.999-04:00", "2026-06-01"},
		{"cutoff 4 at 04:00", ny, "2026-06-02T04:00:00-04:00", "2026-06-02"},
		{"same instant given in UTC", ny, "2026-06-02T07:00:00Z", "2026-06-01"},
		{"first 01:30 of a repeated hour", nyRepeat, "2026-11-01T01:30:00-04:00", "2026-11-01"},
		{"second 01:30 of a repeated hour", nyRepeat, "2026-11-01T01:30:00-05:00", "2026-11-01"},
		{"00:59 EDT before the repeat", nyRepeat, "2026-11-01T00:59:59-04:00", "2026-10-31"},
	}
	for _, tc := range cases {
		if got := tc.c.DayOf(utc(t, tc.at)); got != tc.want {
			t.Errorf("%s: DayOf(%s) = %s, want %s", tc.name, tc.at, got, tc.want)
		}
	}
}

func TestNewCalendarErrors(t *testing.T) {
	for _, tc := range []struct {
		zone   string
		cutoff int
	}{{"Mars/Olympus_Mons", 0}, {"Local", 0}, {"Europe/London", -1}, {"Europe/London", 24}} {
		if _, err := NewCalendar(tc.zone, tc.cutoff); err == nil {
			t.Errorf("NewCalendar(%q, %d) accepted", tc.zone, tc.cutoff)
		} else {
			t.Logf("NewCalendar(%q, %d): %v", tc.zone, tc.cutoff, err)
		}
	}
	// The cutoff's range is inclusive at both ends.
	for _, cutoff := range []int{0, 23} {
		if _, err := NewCalendar("Europe/London", cutoff); err != nil {
			t.Errorf("NewCalendar(Europe/London, %d): %v", cutoff, err)
		}
	}
	c := mustCalendar(t, "", 0)
	if c.Loc != time.UTC {
		t.Errorf(`zone "" gave %v, want UTC`, c.Loc)
	}
	for _, d := range []string{"", "2026-2-01", "2026-02-30", "01/02/2026", "2026-02-01T00:00:00Z"} {
		if _, _, err := c.Bounds(d); err == nil {
			t.Errorf("Bounds(%q) accepted", d)
		}
	}
}

// Zones with awkward rules: half-hour DST, two-hour DST, transitions at
// midnight, a skipped calendar day (Apia, 2011-12-30) and no DST at all.
var awkwardZones = []string{
	"Europe/London", "America/New_York", "Australia/Lord_Howe", "Antarctica/Troll",
	"America/Havana", "America/Santiago", "America/Sao_Paulo", "Pacific/Apia",
	"Asia/Kolkata", "Asia/Tehran", "Europe/Dublin", "UTC",
}

func TestPropertyDayOfWithinBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := mustCalendar(t, rapid.SampledFrom(awkwardZones).Draw(t, "zone"), rapid.IntRange(0, 23).Draw(t, "cutoff"))
		base := time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)
		at := base.Add(time.Duration(rapid.Int64Range(0, int64(30*365*24*time.Hour)).Draw(t, "offset")))

		day := c.DayOf(at)
		start, end, err := c.Bounds(day)
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(start) || !at.Before(end) {
			t.Fatalf("%s is in day %s but outside [%s, %s)", at, day, start, end)
		}
		// Usually 23 to 25 hours; Troll's two-hour shift and Apia's skipped
		// date make longer and shorter days.
		if l := end.Sub(start); l <= 0 || l > 26*time.Hour {
			t.Fatalf("day %s lasts %s", day, l)
		}
		next := mustDate(t, day).AddDate(0, 0, 1).Format(DayLayout)
		if nextStart, _, _ := c.Bounds(next); !nextStart.Equal(end) {
			t.Fatalf("day %s ends %s but %s starts %s", day, end, next, nextStart)
		}
		// The start is where the local clock first reaches the cutoff.
		wall := mustDate(t, day).Add(time.Duration(c.CutoffHour) * time.Hour)
		if clock(start).Before(wall) || !clock(start.Add(-time.Nanosecond)).Before(wall) {
			t.Fatalf("day %s starts %s, where the clock reads %s; before it %s; cutoff %s",
				day, start, clock(start), clock(start.Add(-time.Nanosecond)), wall)
		}
	})
}

// Samoa skipped 2011-12-30. With a cutoff of 05:00 the clock first reads
// "30 December 05:00 or later" at 31 December 00:00, so the 29th is cut
// short and the 30th holds the first five hours of the 31st: nothing is
// lost and nothing is counted twice.
func TestSkippedDate(t *testing.T) {
	c := mustCalendar(t, "Pacific/Apia", 5)
	want := map[string][2]string{
		"2011-12-29": {"2011-12-29T15:00:00Z", "2011-12-30T10:00:00Z"},
		"2011-12-30": {"2011-12-30T10:00:00Z", "2011-12-30T15:00:00Z"},
		"2011-12-31": {"2011-12-30T15:00:00Z", "2011-12-31T15:00:00Z"},
	}
	for day, w := range want {
		start, end, err := c.Bounds(day)
		if err != nil {
			t.Fatal(err)
		}
		if !start.Equal(utc(t, w[0])) || !end.Equal(utc(t, w[1])) {
			t.Errorf("Bounds(%s) = [%s, %s), want [%s, %s)", day, start.UTC(), end.UTC(), w[0], w[1])
		}
	}
	if got := c.DayOf(utc(t, "2011-12-30T12:00:00Z")); got != "2011-12-30" {
		t.Errorf("DayOf(31 Dec 02:00 local) = %s, want 2011-12-30", got)
	}
}

func mustDate(t fataler, day string) time.Time {
	t.Helper()
	d, err := time.Parse(DayLayout, day)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// clock is the local wall-clock reading of t, expressed as a UTC time.
func clock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
