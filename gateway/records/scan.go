package records

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// errSyntax aborts an element. Bodies are checked with json.Valid before they
// are scanned, so it only guards against a scanner bug turning into a panic.
var errSyntax = errors.New("malformed JSON")

// scanner walks JSON text that is already known to be valid. Working on the
// bytes directly, rather than through json.Decoder tokens, keeps each number's
// exact source text and avoids an allocation per token.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// str reads a string strictly. When its text is not valid (invalid UTF-8, a
// lone surrogate) it says what is wrong in problem, so that the caller can
// name the field instead of failing the element, and v is then the string's
// source with its escapes as sent, fit to name a key in a path but never to
// be stored.
func (s *scanner) str() (v, problem string, err error) {
	raw, escaped, err := s.rawString()
	if err != nil {
		return "", "", err
	}
	if !escaped && utf8.Valid(raw) {
		return string(raw), "", nil
	}
	if v, problem = textProblem(raw); problem != "" {
		v = strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return v, problem, nil
}

// rawString steps over a string and returns its bytes between the quotes,
// still escaped, without allocating.
func (s *scanner) rawString() (raw []byte, escaped bool, err error) {
	if s.peek() != '"' {
		return nil, false, errSyntax
	}
	s.pos++
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c == '\\':
			escaped = true
			s.pos += 2
		case c == '"':
			s.pos++
			return s.data[start : s.pos-1], escaped, nil
		case c < 0x20:
			return nil, false, errSyntax
		default:
			s.pos++
		}
	}
	return nil, false, errSyntax
}

// number reads a JSON number and returns its exact text.
func (s *scanner) number() (string, error) {
	s.ws()
	start := s.pos
	for s.pos < len(s.data) && isNumberByte(s.data[s.pos]) {
		s.pos++
	}
	text := string(s.data[start:s.pos])
	if !isJSONNumber(text) {
		return "", errSyntax
	}
	return text, nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// isJSONNumber checks the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		n := digits(s[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := digits(s[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	return i == len(s)
}

// digits counts the leading ASCII digits of s.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) bool {
	s.ws()
	if bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		s.pos += len(word)
		return true
	}
	return false
}

// skip consumes one value of any kind.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == '{' || c == '[':
		return s.skipComposite()
	case c == 't':
		return s.expect("true")
	case c == 'f':
		return s.expect("false")
	case c == 'n':
		return s.expect("null")
	case isNumberStart(c):
		_, err := s.number()
		return err
	}
	return errSyntax
}

func (s *scanner) expect(word string) error {
	if !s.literal(word) {
		return errSyntax
	}
	return nil
}

// skipComposite skips an object or array without recursion, so that deep
// nesting costs no stack.
func (s *scanner) skipComposite() error {
	depth := 0
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			if _, _, err := s.rawString(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.pos++
				return nil
			}
		}
		s.pos++
	}
	return errSyntax
}

// kindOf names the kind of value starting with c, for "must be X, not Y".
func kindOf(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "true or false"
	case c == 'n':
		return "null"
	case isNumberStart(c):
		return "a number"
	}
	return "malformed JSON"
}
