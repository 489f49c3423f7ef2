package records

import (
	"fmt"
	"strings"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
)

// checker is the validator of the plans: the same rules, in the same order,
// with the same answers, on the Go values. The path is kept as segments and
// rendered only for an error.
type checker struct {
	lim     Limits
	errs    errList
	path    path
	pathBuf [8]seg // commerce records nest less deep than this
}

func (v *checker) push(name string) { v.path = append(v.path, seg{name: name}) }
func (v *checker) pushIndex(i int)  { v.path = append(v.path, seg{index: i}) }
func (v *checker) pop()             { v.path = v.path[:len(v.path)-1] }

// add reports msg for the field name at the current path.
func (v *checker) add(name, msg string) {
	v.push(name)
	v.errs.add(v.path.String(), msg)
	v.pop()
}

// validate is validator.message on the plan.
func (p *plan[M]) validate(v *checker, m *M) {
	for _, f := range p.required {
		if !f.present(m) {
			v.add(f.meta().json, f.meta().required)
		}
	}
	if p.extra != nil {
		p.extra(v, m)
	}
	for _, f := range p.fields {
		f.validate(v, m)
	}
}

// stringProblem is validator.stringProblem with the field's rule resolved.
func (v *checker) stringProblem(f *fieldMeta, s string, blankIsError bool) string {
	if limit, advice := v.lim.bytesFor(f.class); limit > 0 && len(s) > limit {
		return fmt.Sprintf("is %d bytes; the limit is %d; "+advice, len(s), limit, limit)
	}
	if !blankIsError && isBlank(s) {
		return ""
	}
	switch f.rule {
	case ruleID:
		return idProblem(f.name == "settled_transaction_ids", s)
	case ruleDecimal:
		if decimalOK(s, f.dec) {
			return ""
		}
		return decimalProblem(s, f.dec)
	case ruleTime:
		// As stringProblem: validity does not depend on the zone.
		if _, err := parseStamp(s); err != nil {
			return err.Error()
		}
	case ruleCurrency:
		return currencyProblem(s)
	case ruleEnum:
		return enumProblem(f.enum, s)
	}
	return ""
}

// isBlank is strings.TrimSpace(s) == "", answered at the first byte for the
// usual value.
func isBlank(s string) bool {
	if s == "" {
		return true
	}
	if c := s[0]; c > ' ' && c < 0x80 {
		return false
	}
	return strings.TrimSpace(s) == ""
}

// decimalOK accepts the usual decimal, a sign, digits and a point, exactly
// when decimalProblem would; anything else is for decimalProblem to judge.
func decimalOK(s string, k decimalKind) bool {
	if len(s) > 64 {
		return false
	}
	i := 0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		i++
	}
	whole := digits(s[i:])
	if whole == 0 {
		return false
	}
	i += whole
	frac := 0
	if i < len(s) && s[i] == '.' {
		if frac = digits(s[i+1:]); frac == 0 {
			return false
		}
		i += 1 + frac
	}
	if i != len(s) {
		return false
	}
	if k == moneyDecimal {
		// decimalProblem says "" exactly when money.Parse succeeds, which
		// it does for up to 11 whole digits (below money.MaxAbs) and up to
		// money.Scale places.
		if whole <= 11 && frac <= money.Scale {
			return true
		}
		_, err := money.Parse(s)
		return err == nil
	}
	// At most 12 places and 12 whole digits: exact at plainScale and
	// below plainMax.
	return frac <= plainScale && whole <= 12
}

func (f *strField[M]) has(m *M) bool     { return *f.get(m) != "" }
func (f *strField[M]) present(m *M) bool { return !isBlank(*f.get(m)) }
func (f *strField[M]) validate(v *checker, m *M) {
	if s := *f.get(m); s != "" {
		if problem := v.stringProblem(&f.fieldMeta, s, false); problem != "" {
			v.add(f.json, problem)
		}
	}
}

func (f *boolField[M]) has(m *M) bool           { return *f.get(m) }
func (f *boolField[M]) present(m *M) bool       { return *f.get(m) }
func (f *boolField[M]) validate(*checker, *M)   {}
func (f *structField[M]) has(m *M) bool         { return *f.get(m) != nil }
func (f *structField[M]) present(m *M) bool     { return *f.get(m) != nil }
func (f *structField[M]) validate(*checker, *M) {}

func (f *msgField[M, C]) has(m *M) bool     { return *f.get(m) != nil }
func (f *msgField[M, C]) present(m *M) bool { return *f.get(m) != nil }
func (f *msgField[M, C]) validate(v *checker, m *M) {
	if c := *f.get(m); c != nil {
		v.push(f.json)
		f.plan.validate(v, c)
		v.pop()
	}
}

func (f *listField[M, C]) has(m *M) bool     { return len(*f.get(m)) > 0 }
func (f *listField[M, C]) present(m *M) bool { return len(*f.get(m)) > 0 }
func (f *listField[M, C]) validate(v *checker, m *M) {
	elems := *f.get(m)
	if len(elems) == 0 {
		return
	}
	if limit, advice := v.lim.listLimitOf(f.name); len(elems) > limit {
		v.add(f.json, fmt.Sprintf("has %d elements; the limit is %d; %s", len(elems), limit, advice))
		return
	}
	v.push(f.json)
	for j, c := range elems {
		v.pushIndex(j)
		if c == nil { // as protoreflect reads it: an empty message
			c = new(C)
		}
		f.plan.validate(v, c)
		v.pop()
	}
	v.pop()
}

func (f *strListField[M]) has(m *M) bool     { return len(*f.get(m)) > 0 }
func (f *strListField[M]) present(m *M) bool { return len(*f.get(m)) > 0 }
func (f *strListField[M]) validate(v *checker, m *M) {
	elems := *f.get(m)
	if len(elems) == 0 {
		return
	}
	if limit, advice := v.lim.listLimitOf(f.name); len(elems) > limit {
		v.add(f.json, fmt.Sprintf("has %d elements; the limit is %d; %s", len(elems), limit, advice))
		return
	}
	v.push(f.json)
	for j, s := range elems {
		if problem := v.stringProblem(&f.fieldMeta, s, true); problem != "" {
			v.pushIndex(j)
			v.errs.add(v.path.String(), problem)
			v.pop()
		}
	}
	v.pop()
}

// dates is dateChecker.message on the plan, where there are dates.
func (p *plan[M]) dates(c *dateChecker, m *M) {
	for _, f := range p.dated {
		f.dates(c, m)
	}
}

func (f *strField[M]) dates(c *dateChecker, m *M) {
	if s := *f.get(m); f.time && s != "" {
		if problem := c.problem(f.modified, s); problem != "" {
			c.path = append(c.path, seg{name: f.json})
			c.errs.add(c.path.String(), problem)
			c.path = c.path[:len(c.path)-1]
		}
	}
}

func (f *msgField[M, C]) dates(c *dateChecker, m *M) {
	if child := *f.get(m); child != nil {
		c.path = append(c.path, seg{name: f.json})
		f.plan.dates(c, child)
		c.path = c.path[:len(c.path)-1]
	}
}

func (f *listField[M, C]) dates(c *dateChecker, m *M) {
	elems := *f.get(m)
	if len(elems) == 0 {
		return
	}
	c.path = append(c.path, seg{name: f.json})
	for j, child := range elems {
		if child != nil {
			c.path = append(c.path, seg{index: j})
			f.plan.dates(c, child)
			c.path = c.path[:len(c.path)-1]
		}
	}
	c.path = c.path[:len(c.path)-1]
}

func (f *boolField[M]) dates(*dateChecker, *M)    {}
func (f *strListField[M]) dates(*dateChecker, *M) {}
func (f *structField[M]) dates(*dateChecker, *M)  {}

// normalize is Normalize on the plan: it goes only where a country can be.
func (p *plan[M]) normalize(m *M) {
	if !p.normalizes {
		return
	}
	for _, f := range p.fields {
		f.normalize(m)
	}
}

func (f *strField[M]) normalize(m *M) {
	if f.country {
		if s := f.get(m); *s != "" {
			*s = strings.TrimSpace(*s)
		}
	}
}

func (f *msgField[M, C]) normalize(m *M) {
	if c := *f.get(m); c != nil {
		f.plan.normalize(c)
	}
}

func (f *listField[M, C]) normalize(m *M) {
	if !f.plan.normalizes {
		return
	}
	for _, c := range *f.get(m) {
		if c != nil {
			f.plan.normalize(c)
		}
	}
}

func (f *boolField[M]) normalize(*M)    {}
func (f *strListField[M]) normalize(*M) {}
func (f *structField[M]) normalize(*M)  {}

// problem is what dateChecker.date says of one date, or "". A date with a
// zone or offset is placed by arithmetic; a local one in the zone.
func (c *dateChecker) problem(modified bool, s string) string {
	p, err := parseStamp(s)
	if err != nil {
		return ""
	}
	var before, after bool
	if p.zoned {
		sec, nsec := p.unix()
		before = sec < 0 // MinDate is the epoch
		lsec, lnsec := c.latest.Unix(), c.latest.Nanosecond()
		after = sec > lsec || sec == lsec && nsec > lnsec
	} else {
		loc := c.loc
		if loc == nil {
			loc = time.UTC
		}
		t := resolveLocal(p, loc)
		before, after = t.Before(MinDate), t.After(c.latest)
	}
	switch {
	case before:
		return fmt.Sprintf("%s is out of range: dates before %s are refused; send the real date (a date that is not known is left out, where the field is optional)",
			quote(s), MinDate.Format(time.RFC3339))
	case modified && after:
		return fmt.Sprintf("%s is ahead of the server's clock (%s) by more than the %s allowed for clock differences; "+
			"a record cannot have been modified after it arrives: check the date, and the sending system's clock and time zone",
			quote(s), c.now.UTC().Format(time.RFC3339), c.skew)
	}
	return ""
}
