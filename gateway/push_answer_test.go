package gateway

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A push's answer reads back, with protojson, as the answer it was made
// from: every count, index, id, status and error, whatever text they hold.
func TestRESTFastAnswerReadsBackWithProtojson(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	texts := []string{"", "x", "ord-1", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f", "é €\u2028\u2029😀",
		`orderLineItems[2].taxes[0].taxAmount`, strings.Repeat("long ", 60), "</script>&<"}
	pick := func() string { return texts[r.IntN(len(texts))] }
	for range 500 {
		resp := &v1.PushResponse{Accepted: int32(r.IntN(3) * r.IntN(5000)), Rejected: int32(r.IntN(2) * r.IntN(5000))}
		for i := range r.IntN(6) {
			res := &v1.RecordResult{Index: int32(i * r.IntN(2)), Id: pick(), Status: []string{"", "Accepted", "Rejected"}[r.IntN(3)]}
			for range r.IntN(3) {
				res.Errors = append(res.Errors, &v1.FieldError{Field: pick(), Message: pick()})
			}
			resp.Results = append(resp.Results, res)
		}
		b := appendPushAnswer(nil, resp)
		var got v1.PushResponse
		if err := protojson.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !proto.Equal(&got, resp) {
			t.Fatalf("%s reads back as %v, made from %v", b, &got, resp)
		}
		// protojson's own answer reads back the same.
		want, err := jsonOut.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var again v1.PushResponse
		if err := protojson.Unmarshal(want, &again); err != nil || !proto.Equal(&again, &got) {
			t.Fatalf("protojson wrote %s", want)
		}
	}
	if got := string(appendPushAnswer(nil, &v1.PushResponse{})); got != "{}" {
		t.Errorf("an empty answer is %s", got)
	}
	if got := string(appendJSONString(nil, "a\xffb")); got != `"a`+"\ufffd"+`b"` {
		t.Errorf("bytes that are not UTF-8 are written as %s", got)
	}
}

// readAll reads what io.ReadAll reads, and fails where it fails, whatever
// length the request declared.
func TestRESTFastReadAllMatchesIOReadAll(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 300_000} {
		body := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
		for _, declared := range []int64{-1, 0, int64(n), int64(n) + 7, int64(n) / 2, 64 << 20} {
			for _, reader := range []func() io.Reader{
				func() io.Reader { return bytes.NewReader(body) },
				func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) },
				func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
			} {
				got, err := readAll(reader(), declared)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("%d bytes declared as %d: %d bytes, %v", n, declared, len(got), err)
				}
			}
		}
	}
	broken := errors.New("connection reset")
	if _, err := readAll(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)), 3); !errors.Is(err, broken) {
		t.Errorf("a failed read answers %v", err)
	}
	w := httptest.NewRecorder()
	_, err := readAll(http.MaxBytesReader(w, io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), 10), 5)
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		t.Errorf("a body past the limit answers %v", err)
	}
}
