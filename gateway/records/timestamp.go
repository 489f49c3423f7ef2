package records

import (
	"errors"
	"fmt"
	"time"
)

const timeForms = `send RFC 3339 such as "2022-02-14T15:46:18Z" or "2022-02-14T15:46:18+01:00", ` +
	`or local time in the merchant's zone such as "2022-02-14T15:46:18"; fractional seconds are allowed`

// stamp is a parsed timestamp before it is placed in a zone.
type stamp struct {
	year, month, day, hour, min, sec, nsec int
	zoned                                  bool
	offset                                 int // seconds east of UTC, when zoned
}

// ParseTime accepts "2022-02-14T15:46:18Z", with an offset "…+01:00", with
// fractional seconds, or a local time without zone ("2022-02-14T15:46:18"),
// which is read in loc (UTC when loc is nil). Nothing else is accepted: not a
// space for the "T", not a missing seconds field, not a date alone, because a
// guessed reading of a timestamp moves money between days.
//
// A local time that does not exist in loc (the hour skipped when clocks go
// forward) is shifted forward by the length of the gap, as a wall clock would
// read it: 02:30 on the New York spring-forward day is 03:30 EDT. A local time
// that occurs twice (the hour repeated when clocks go back) is its first
// occurrence, the earlier instant. Both rules depend only on the input, so a
// replay resolves the same way.
//
// The result is in UTC for "Z", in a fixed zone for an offset, and in loc for
// local time.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	p, err := parseStamp(s)
	if err != nil {
		return time.Time{}, err
	}
	if p.zoned {
		zone := time.UTC
		if p.offset != 0 || s[len(s)-1] != 'Z' {
			zone = time.FixedZone("", p.offset)
		}
		return time.Date(p.year, time.Month(p.month), p.day, p.hour, p.min, p.sec, p.nsec, zone), nil
	}
	if loc == nil {
		loc = time.UTC
	}
	return resolveLocal(p, loc), nil
}

// IsLocal reports whether s is a valid timestamp without a zone, whose
// instant therefore depends on the merchant's zone.
func IsLocal(s string) bool {
	p, err := parseStamp(s)
	return err == nil && !p.zoned
}

// resolveLocal places a wall-clock time in loc by the rules in ParseTime.
func resolveLocal(p stamp, loc *time.Location) time.Time {
	wall := time.Date(p.year, time.Month(p.month), p.day, p.hour, p.min, p.sec, p.nsec, time.UTC)
	// The offsets in force a day either side cover any transition that can
	// affect this wall time: zone offsets stay within ±14h.
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	_, after := wall.Add(24 * time.Hour).In(loc).Zone()
	var found []time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second)
		if _, o := t.In(loc).Zone(); o == off && (len(found) == 0 || !found[0].Equal(t)) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0].In(loc)
	case 2: // repeated hour: the first occurrence
		if found[1].Before(found[0]) {
			return found[1].In(loc)
		}
		return found[0].In(loc)
	}
	// Skipped hour: read with the offset from before the transition, which
	// lands the same distance past it as the wall time is into the gap.
	return wall.Add(-time.Duration(before) * time.Second).In(loc)
}

// unix is a zoned stamp's instant: seconds and nanoseconds since the Unix
// epoch, as time.Date(...).Unix() and Nanosecond() give it.
func (p stamp) unix() (sec int64, nsec int) {
	return daysSinceEpoch(p.year, p.month, p.day)*86400 + int64(p.hour*3600+p.min*60+p.sec-p.offset), p.nsec
}

// daysSinceEpoch counts the days from 1970-01-01 to a date of the proleptic
// Gregorian calendar (negative before it), by whole 400-year eras of
// 146,097 days counted from a March 1.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 {
		era = (year - 399) / 400
	}
	yearOfEra := year - era*400
	dayOfYear := (153*((month+9)%12)+2)/5 + day - 1 // from March 1
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	return int64(era)*146097 + int64(dayOfEra) - 719468
}

// parseStamp checks the fixed-position layout by hand: time.Parse accepts
// forms (a comma before fractional seconds, for one) that we do not.
func parseStamp(s string) (stamp, error) {
	bad := func(why string) error {
		if why != "" {
			why = ": " + why
		}
		return fmt.Errorf("%s is not an accepted timestamp%s; %s", quote(s), why, timeForms)
	}
	var p stamp
	if s == "" {
		return p, errors.New("is empty; " + timeForms)
	}
	if len(s) == 10 && isDate(s) {
		return p, bad("it has no time of day")
	}
	if len(s) < 19 || !isDate(s[:10]) {
		return p, bad("")
	}
	switch s[10] {
	case 'T':
	case ' ', 't':
		return p, bad(`put an upper-case "T" between the date and the time`)
	default:
		return p, bad("")
	}
	if !isDigits(s[11:13]) || s[13] != ':' || !isDigits(s[14:16]) || s[16] != ':' || !isDigits(s[17:19]) {
		return p, bad("the time of day must be hh:mm:ss")
	}
	p.year, p.month, p.day = atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
	p.hour, p.min, p.sec = atoi(s[11:13]), atoi(s[14:16]), atoi(s[17:19])

	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		n := digits(rest[1:])
		if n == 0 || n > 9 {
			return p, bad("fractional seconds need 1 to 9 digits")
		}
		p.nsec = atoi(rest[1 : 1+n])
		for range 9 - n {
			p.nsec *= 10
		}
		rest = rest[1+n:]
	}
	switch {
	case rest == "":
	case rest == "Z":
		p.zoned = true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && isDigits(rest[1:3]) && rest[3] == ':' && isDigits(rest[4:6]):
		h, m := atoi(rest[1:3]), atoi(rest[4:6])
		if h > 23 || m > 59 {
			return p, bad("the offset must be between -23:59 and +23:59")
		}
		p.zoned, p.offset = true, (h*60+m)*60
		if rest[0] == '-' {
			p.offset = -p.offset
		}
	default:
		return p, bad(`end it with "Z", an offset such as "+01:00", or nothing for local time`)
	}

	switch {
	case p.year < 1:
		return p, bad("the year must be 0001 or later")
	case p.month < 1 || p.month > 12:
		return p, bad("the month must be 01 to 12")
	case p.day < 1 || p.day > daysIn(p.year, p.month):
		return p, bad(fmt.Sprintf("that month has %d days", daysIn(p.year, p.month)))
	case p.hour > 23:
		return p, bad("the hour must be 00 to 23")
	case p.min > 59:
		return p, bad("the minute must be 00 to 59")
	case p.sec > 59:
		return p, bad("the second must be 00 to 59")
	}
	return p, nil
}

func isDate(s string) bool {
	return len(s) == 10 && isDigits(s[0:4]) && s[4] == '-' && isDigits(s[5:7]) && s[7] == '-' && isDigits(s[8:10])
}

func isDigits(s string) bool { return len(s) > 0 && digits(s) == len(s) }

// atoi reads a short run of ASCII digits already checked by isDigits.
func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// daysIn is the length of a month of the proleptic Gregorian calendar, as
// time.Date counts it.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
