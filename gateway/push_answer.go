package gateway

import (
	"io"
	"strconv"
	"unicode/utf8"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// appendPushAnswer writes a push's answer as protojson writes it with
// jsonOut (lowerCamelCase names, zero values left out), without going
// through reflection: a push of thousands of records is answered record by
// record, and protojson spent more on the answer than the broker on the
// records. The tests read it back with protojson.
func appendPushAnswer(b []byte, resp *v1.PushResponse) []byte {
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	if n := resp.GetAccepted(); n != 0 {
		sep()
		b = strconv.AppendInt(append(b, `"accepted":`...), int64(n), 10)
	}
	if n := resp.GetRejected(); n != 0 {
		sep()
		b = strconv.AppendInt(append(b, `"rejected":`...), int64(n), 10)
	}
	if len(resp.GetResults()) > 0 {
		sep()
		b = append(b, `"results":[`...)
		for i, r := range resp.GetResults() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResult(b, r)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendResult(b []byte, r *v1.RecordResult) []byte {
	b = append(b, '{')
	n := len(b)
	if r.GetIndex() != 0 {
		b = strconv.AppendInt(append(b, `"index":`...), int64(r.GetIndex()), 10)
	}
	b = appendStringMember(b, n, "id", r.GetId())
	b = appendStringMember(b, n, "status", r.GetStatus())
	if errs := r.GetErrors(); len(errs) > 0 {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"errors":[`...)
		for i, e := range errs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			m := len(b)
			b = appendStringMember(b, m, "field", e.GetField())
			b = appendStringMember(b, m, "message", e.GetMessage())
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendStringMember appends "name":value unless value is empty, with a
// comma when the object (which starts at start) has a member already.
func appendStringMember(b []byte, start int, name, value string) []byte {
	if value == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(append(append(b, '"'), name...), `":`...)
	return appendJSONString(b, value)
}

// appendJSONString quotes s as JSON: the quote, the backslash and control
// characters escaped, everything else as it is. Bytes that are not UTF-8,
// which the answers never hold, become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(append(b, s[start:i]...), "\ufffd"...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// readAll is io.ReadAll starting from room for size bytes (a request's
// declared length, or -1), so that a body is read into one buffer rather
// than copied through every power of two below it. A declaration is not
// data: no more than 1 MiB is set aside before it arrives.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, min(max(size, 0), 1<<20)+512)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
