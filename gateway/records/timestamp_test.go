package records

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zone files
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseTime(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	apia := mustLoad(t, "Pacific/Apia")
	cases := []struct {
		in    string
		loc   *time.Location
		utc   string // the instant, in UTC
		local bool
	}{
		{"2022-02-14T15:46:18Z", ny, "2022-02-14T15:46:18Z", false},
		{"2022-02-14T15:46:18+01:00", ny, "2022-02-14T14:46:18Z", false},
		{"2022-02-14T15:46:18-05:30", nil, "2022-02-14T21:16:18Z", false},
		{"2022-02-14T15:46:18.5Z", ny, "2022-02-14T15:46:18.5Z", false},
		{"2022-02-14T15:46:18.123456789+00:00", ny, "2022-02-14T15:46:18.123456789Z", false},
		{"2022-02-14T15:46:18", ny, "2022-02-14T20:46:18Z", true},       // EST
		{"2022-07-01T12:00:00.25", ny, "2022-07-01T16:00:00.25Z", true}, // EDT
		{"2022-02-14T15:46:18", nil, "2022-02-14T15:46:18Z", true},      // no zone given: UTC
		// Spring forward: 02:00-03:00 does not exist; 02:30 is read as 03:30 EDT.
		{"2022-03-13T02:30:00", ny, "2022-03-13T07:30:00Z", true},
		{"2022-03-13T01:59:59", ny, "2022-03-13T06:59:59Z", true},
		{"2022-03-13T03:00:00", ny, "2022-03-13T07:00:00Z", true},
		// Fall back: 01:00-02:00 happens twice; the first (EDT) is taken.
		{"2022-11-06T01:30:00", ny, "2022-11-06T05:30:00Z", true},
		{"2022-11-06T02:00:00", ny, "2022-11-06T07:00:00Z", true},
		// Samoa skipped 30 December 2011 entirely: a time that day moves a day on.
		{"2011-12-30T12:00:00", apia, "2011-12-30T22:00:00Z", true},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, c.loc)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", c.in, err)
			continue
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != c.utc {
			t.Errorf("ParseTime(%q) = %s, want %s", c.in, s, c.utc)
		}
		if IsLocal(c.in) != c.local {
			t.Errorf("IsLocal(%q) = %v", c.in, !c.local)
		}
		if c.local && c.loc != nil && got.Location() != c.loc {
			t.Errorf("ParseTime(%q) location = %v, want %v", c.in, got.Location(), c.loc)
		}
	}
	// The gap rule reads as "shifted forward by the gap" on the local clock.
	if got, _ := ParseTime("2022-03-13T02:30:00", ny); got.Format("15:04 MST") != "03:30 EDT" {
		t.Errorf("gap time reads %s", got.Format("15:04 MST"))
	}
}

func TestParseTimeRejects(t *testing.T) {
	cases := map[string]string{
		"2022-02-14 15:46:18":             `upper-case "T"`,
		"2022-02-14t15:46:18Z":            `upper-case "T"`,
		"2022-02-14":                      "no time of day",
		"2022-02-14T15:46Z":               "",
		"2022-02-14T15:46:18z":            `end it with "Z"`,
		"2022-02-14T15:46:18,5Z":          `end it with "Z"`,
		"2022-02-14T15:46:18.Z":           "fractional seconds",
		"2022-02-14T15:46:18+0100":        `end it with "Z"`,
		"2022-02-14T15:46:18+24:00":       "offset",
		"2022-02-30T00:00:00Z":            "that month has 28 days",
		"2024-13-01T00:00:00Z":            "month",
		"2022-02-14T24:00:00Z":            "hour",
		"2022-02-14T23:60:00Z":            "minute",
		"2016-12-31T23:59:60Z":            "second",
		"0000-01-01T00:00:00Z":            "year",
		"14/02/2022 15:46":                "",
		"":                                "is empty",
		"2022-02-14T15:46:18.1234567891Z": "fractional seconds",
	}
	for in, want := range cases {
		_, err := ParseTime(in, time.UTC)
		if err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "2022-02-14T15:46:18Z") {
			t.Errorf("ParseTime(%q) error %q lacks %q or the accepted forms", in, err, want)
		}
		if IsLocal(in) {
			t.Errorf("IsLocal(%q) = true for an invalid time", in)
		}
	}
}
