package records

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// idProblem holds ids to what can be matched exactly later: an id is compared
// byte for byte with the versions, deletes and refs that name it, so padding
// or an invisible character would make two ids of one record, or one id of
// two. They are refused rather than trimmed, because the sender's other
// records name the id as sent.
func idProblem(settled bool, s string) string {
	if printableASCII(s) && s[0] != ' ' && s[len(s)-1] != ' ' {
		return "" // the usual id, answered without decoding runes
	}
	if strings.TrimSpace(s) == "" {
		if settled {
			return "is empty; send the id of a transaction this payout settles"
		}
		return "is empty; send the id your platform keeps"
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Sprintf("must not start or end with spaces; %s was sent: send the id exactly as your platform keeps it", quote(s))
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("must not hold control characters, and holds %U at byte %d; send the id exactly as your platform keeps it", r, i)
		}
	}
	return ""
}

// printableASCII reports a non-empty s of bytes 0x20 to 0x7e only, in
// which the one space character is ' ' and nothing is a control character.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return s != ""
}

// textProblem says why the bytes of a JSON string, between its quotes and
// still escaped, are not text: invalid UTF-8, or an escaped UTF-16 surrogate
// without its other half. Such strings are refused, never repaired: replacing
// the bad part with U+FFFD made "S-\ud800" and "S-\udbff" one id. The JSON
// grammar (hex digits, known escapes) is already checked by json.Valid.
// It returns the decoded string when the text is valid.
func textProblem(raw []byte) (string, string) {
	var b []byte // allocated only when an escape changes the bytes
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				return "", fmt.Sprintf("is not valid UTF-8 text: byte %#02x at byte %d of it cannot start a character; send UTF-8", raw[i], i)
			}
			if b != nil {
				b = append(b, raw[i:i+n]...)
			}
			i += n
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(raw)), raw[:i]...)
		}
		if i+1 >= len(raw) {
			return "", "ends inside an escape"
		}
		switch e := raw[i+1]; e {
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", fmt.Sprintf("has a malformed escape %s", quote(string(raw[i:min(i+6, len(raw))])))
			}
			switch {
			case utf16High(r):
				lo, ok := rune(0), false
				if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
					lo, ok = hex4(raw[i+8:])
				}
				if !ok || !utf16Low(lo) {
					return "", fmt.Sprintf(`holds "\u%04x", the first half of a UTF-16 surrogate pair, without its second half (\udc00 to \udfff) after it; `+
						"send the character itself in UTF-8, or both halves of its pair", r)
				}
				b = utf8.AppendRune(b, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
				i += 12
				continue
			case utf16Low(r):
				return "", fmt.Sprintf(`holds "\u%04x", the second half of a UTF-16 surrogate pair, without its first half (\ud800 to \udbff) before it; `+
					"send the character itself in UTF-8, or both halves of its pair", r)
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		default:
			return "", fmt.Sprintf("has an invalid escape %s; JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX", quote(string(raw[i:i+2])))
		}
		i += 2
	}
	if b == nil {
		return string(raw), ""
	}
	return string(b), ""
}

func utf16High(r rune) bool { return r >= 0xd800 && r <= 0xdbff }
func utf16Low(r rune) bool  { return r >= 0xdc00 && r <= 0xdfff }

// hex4 reads four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
