package sandbox

import (
	"fmt"
	"strings"
	"unicode"
)

// condition is one clause of a where= filter (accounting-platform-apis.md §1.8: `where=`
// grammar such as `Status=="ACTIVE" AND Type=="BANK"`). Only what the
// connector and tests need is parsed: Field=="v", Field!="v",
// Field==true|false, Field.Contains("v"), Field.StartsWith("v") and
// Field.EndsWith("v"), joined by AND.
type condition struct {
	field, op, value string
}

// where is a parsed filter; the empty filter matches everything.
type where []condition

func parseWhere(s string) (where, error) {
	p := &whereParser{s: s}
	var out where
	p.space()
	if p.done() {
		return nil, nil
	}
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		p.space()
		if p.done() {
			return out, nil
		}
		if !p.keyword("AND") && !p.literal("&&") {
			return nil, fmt.Errorf("expected AND at position %d", p.i)
		}
		p.space()
	}
}

// match reports whether the object's fields (lower-case names) satisfy
// every clause. Unknown fields are an error so a typo cannot match all.
func (w where) match(fields map[string]string) (bool, error) {
	for _, c := range w {
		v, ok := fields[strings.ToLower(c.field)]
		if !ok {
			return false, fmt.Errorf("no property or field '%s' exists", c.field)
		}
		var hit bool
		switch c.op {
		case "==":
			hit = strings.EqualFold(v, c.value)
		case "!=":
			hit = !strings.EqualFold(v, c.value)
		case "contains":
			hit = strings.Contains(v, c.value)
		case "startswith":
			hit = strings.HasPrefix(v, c.value)
		case "endswith":
			hit = strings.HasSuffix(v, c.value)
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

type whereParser struct {
	s string
	i int
}

func (p *whereParser) done() bool { return p.i >= len(p.s) }

func (p *whereParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *whereParser) literal(l string) bool {
	if strings.HasPrefix(p.s[p.i:], l) {
		p.i += len(l)
		return true
	}
	return false
}

func (p *whereParser) keyword(k string) bool {
	if len(p.s)-p.i >= len(k) && strings.EqualFold(p.s[p.i:p.i+len(k)], k) {
		p.i += len(k)
		return true
	}
	return false
}

func (p *whereParser) ident() string {
	start := p.i
	for p.i < len(p.s) {
		r := rune(p.s[p.i])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *whereParser) str() (string, error) {
	if !p.literal(`"`) {
		return "", fmt.Errorf("expected a quoted string at position %d", p.i)
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated string")
}

func (p *whereParser) clause() (condition, error) {
	field := p.ident()
	if field == "" {
		return condition{}, fmt.Errorf("expected a field name at position %d", p.i)
	}
	if p.literal(".") {
		method := strings.ToLower(p.ident())
		if method != "contains" && method != "startswith" && method != "endswith" {
			return condition{}, fmt.Errorf("unsupported method %q", method)
		}
		if !p.literal("(") {
			return condition{}, fmt.Errorf("expected ( at position %d", p.i)
		}
		v, err := p.str()
		if err != nil {
			return condition{}, err
		}
		if !p.literal(")") {
			return condition{}, fmt.Errorf("expected ) at position %d", p.i)
		}
		return condition{field: field, op: method, value: v}, nil
	}
	p.space()
	var op string
	switch {
	case p.literal("=="):
		op = "=="
	case p.literal("!="):
		op = "!="
	default:
		return condition{}, fmt.Errorf("expected == or != at position %d", p.i)
	}
	p.space()
	switch {
	case p.keyword("true"):
		return condition{field: field, op: op, value: "true"}, nil
	case p.keyword("false"):
		return condition{field: field, op: op, value: "false"}, nil
	}
	v, err := p.str()
	if err != nil {
		return condition{}, err
	}
	return condition{field: field, op: op, value: v}, nil
}
