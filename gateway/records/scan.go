package records

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// errSyntax is the scanner's answer to text that is not JSON. The one-pass
// decoder (decodeFast) then gives the body up to the two-pass one, whose
// json.Valid names the error; in the two-pass decoder, which scans only
// text already known to be valid, it guards against a scanner bug.
var errSyntax = errors.New("malformed JSON")

// scanner walks JSON text, checking its grammar as it goes: every string,
// escape, number, literal and bracket it steps over is valid JSON or
// errSyntax. Working on the bytes directly, rather than through json.Decoder
// tokens, keeps each number's exact source text and avoids an allocation per
// token.
type scanner struct {
	data []byte
	pos  int
	// text, when set, is data as a string: strings and numbers read from it
	// are slices of it rather than copies, one allocation for a whole body.
	text string
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		if c := s.data[s.pos]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		s.pos++
	}
}

// peek returns the next significant byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.data[s.pos] // no whitespace: most JSON has none between tokens
	}
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c || s.peek() == c {
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
	raw, escaped, plain, err := s.rawText()
	if err != nil {
		return "", "", err
	}
	if plain || !escaped && utf8.Valid(raw) {
		end := s.pos - 1 // the closing quote
		return s.slice(end-len(raw), end), "", nil
	}
	if v, problem = textProblem(raw); problem != "" {
		v = strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return v, problem, nil
}

// slice returns data[start:end] as a string: a slice of text when there is
// one, else a copy.
func (s *scanner) slice(start, end int) string {
	if s.text == "" {
		return string(s.data[start:end])
	}
	return s.text[start:end]
}

// rawString steps over a string and returns its bytes between the quotes,
// still escaped, without allocating. Its escapes must be JSON's; whether its
// text is valid (UTF-8, surrogates in pairs) is for str to say. escaped
// reports escapes; plain reports neither escapes nor bytes past ASCII, text
// that needs no further look.
func (s *scanner) rawString() (raw []byte, escaped bool, err error) {
	raw, escaped, _, err = s.rawText()
	return raw, escaped, err
}

func (s *scanner) rawText() (raw []byte, escaped, plain bool, err error) {
	if s.peek() != '"' {
		return nil, false, false, errSyntax
	}
	s.pos++
	start, data := s.pos, s.data
	ascii := true
	i := start
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or past ASCII: most strings end here.
		for i+8 <= len(data) {
			if m := special(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3 // the first such byte
				break
			}
			i += 8
		}
		if i >= len(data) {
			return nil, false, false, errSyntax
		}
		switch c := data[i]; {
		case c == '"':
			s.pos = i + 1
			return data[start:i], escaped, ascii && !escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return nil, false, false, errSyntax
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(data[i+2:]); !ok {
					return nil, false, false, errSyntax
				}
				i += 6
			default:
				return nil, false, false, errSyntax
			}
		case c < 0x20:
			return nil, false, false, errSyntax
		default:
			ascii = ascii && c < 0x80
			i++
		}
	}
}

// special marks the bytes of x (read little-endian) that are a quote, a
// backslash, below 0x20 or from 0x80, the bytes rawText must look at one by
// one, with their high bit. A byte above a marked one may be marked without
// being such a byte (a borrow), so only the lowest mark is certain.
func special(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (x - ones*0x20) | x) & highs
}

// number reads a JSON number and returns its exact text. The usual
// number, digits with at most a point, is read in one pass.
func (s *scanner) number() (string, error) {
	s.ws()
	start, data := s.pos, s.data
	i := start
	if i < len(data) && data[i] == '-' {
		i++
	}
	whole := i
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	if n := i - whole; n > 0 && (n == 1 || data[whole] != '0') {
		if i < len(data) && data[i] == '.' {
			frac := i + 1
			for i = frac; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
			}
			if i == frac {
				return "", errSyntax
			}
		}
		if i == len(data) || !isNumberByte(data[i]) {
			s.pos = i
			return s.slice(start, i), nil
		}
	}
	for i = start; i < len(data) && isNumberByte(data[i]); i++ {
	}
	if !isJSONNumber(data[start:i]) {
		return "", errSyntax
	}
	s.pos = i
	return s.slice(start, i), nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// isJSONNumber checks the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func isJSONNumber[S ~string | ~[]byte](s S) bool {
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
func digits[S ~string | ~[]byte](s S) int {
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

// skip consumes one value of any kind, checking its grammar.
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
// nesting costs no stack, checking every comma, colon and key on the way.
func (s *scanner) skipComposite() error {
	var buf [32]byte
	open := buf[:0] // the brackets still open, innermost last
	for {
		// A value is expected at the cursor.
		switch c := s.peek(); {
		case c == '{':
			s.pos++
			if s.consume('}') {
				break
			}
			open = append(open, '{')
			if err := s.objectKey(); err != nil {
				return err
			}
			continue
		case c == '[':
			s.pos++
			if s.consume(']') {
				break
			}
			open = append(open, '[')
			continue
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
		// A value ended: close what it ends, or step to the next one.
		for {
			if len(open) == 0 {
				return nil
			}
			top := open[len(open)-1]
			if s.consume(',') {
				if top == '{' {
					if err := s.objectKey(); err != nil {
						return err
					}
				}
				break
			}
			if end := top + 2; !s.consume(end) { // '{'+2 is '}', '['+2 is ']'
				return errSyntax
			}
			open = open[:len(open)-1]
		}
	}
}

// objectKey steps over a key and its colon.
func (s *scanner) objectKey() error {
	if _, _, err := s.rawString(); err != nil {
		return err
	}
	if !s.consume(':') {
		return errSyntax
	}
	return nil
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
