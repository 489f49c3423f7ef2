package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Two connections waiting for their callbacks, as the link left them: each
// holds the hash of the state its browser's cookie carries. The committed
// corpus (testdata/fuzz/FuzzOAuthCallback) uses these states.
const (
	fuzzConnA  = "6f1d2c3e-0000-4000-8000-00000000000a"
	fuzzConnB  = "6f1d2c3e-0000-4000-8000-00000000000b"
	fuzzStateA = fuzzConnA + ".stateA-secret-0123456789abcdefghij"
	fuzzStateB = fuzzConnB + ".stateB-secret-0123456789abcdefghij"
)

var fuzzNow = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)

func fuzzConnections() map[string]*v1.Connection {
	pending := func(id, state string) *v1.Connection {
		return &v1.Connection{Id: id, Status: "PendingAuth", OauthStateSha256: sha256Hex(state),
			OauthStateExpiresUnixMs: fuzzNow.Add(DefaultStateTTL).UnixMilli()}
	}
	return map[string]*v1.Connection{fuzzConnA: pending(fuzzConnA, fuzzStateA), fuzzConnB: pending(fuzzConnB, fuzzStateB)}
}

// FuzzOAuthCallback drives the callback's checks (the query and the
// browser's cookies, then the connection's state) with arbitrary input.
// Whatever arrives, a callback goes on to the code exchange only when its
// one state is exactly the one its connection is waiting for and the
// browser's cookie for that connection holds that same state, with one
// code of bounded length; every refusal is a 4xx page of bounded size.
// Finding 5 (a code sent with another connection's state) seeds the
// committed corpus.
//
//	go test ./gateway -run '^$' -fuzz '^FuzzOAuthCallback$' -fuzztime 10s
func FuzzOAuthCallback(f *testing.F) {
	// The valid callback; the corpus in testdata/fuzz/FuzzOAuthCallback holds
	// finding 5's swapped states, missing parts and long values.
	f.Add("code=codeA&state="+url.QueryEscape(fuzzStateA), cookiePrefix+fuzzConnA+"="+fuzzStateA)
	conns := fuzzConnections()
	f.Fuzz(func(t *testing.T, rawQuery, cookieHeader string) {
		q, _ := url.ParseQuery(rawQuery) // as r.URL.Query() does: the pairs that parse
		req := &http.Request{Header: http.Header{"Cookie": {cookieHeader}}}
		cookies := req.Cookies()
		cb, ref := readCallback(q, cookies)
		if ref != nil && (ref.code < 400 || ref.code > 499 || len(ref.message) > 1000) {
			t.Fatalf("refusal %d with a %d-byte message", ref.code, len(ref.message))
		}
		if cb == nil {
			if ref == nil {
				t.Fatal("neither a callback nor a refusal")
			}
			return
		}
		// A callback is only ever the one state this browser holds.
		if states := q["state"]; len(states) != 1 || states[0] != cb.state || len(cb.state) > maxStateLen {
			t.Fatalf("callback state %q from states %q", cb.state, q["state"])
		}
		if id, _, _ := strings.Cut(cb.state, "."); id != cb.connID {
			t.Fatalf("callback for %q with state %q", cb.connID, cb.state)
		}
		held := false
		for _, c := range cookies {
			held = held || (c.Name == cookiePrefix+cb.connID && c.Value == cb.state)
		}
		if !held {
			t.Fatalf("state %q accepted without a cookie holding it (cookies %v)", cb.state, cookies)
		}
		if ref != nil {
			return
		}
		if codes := q["code"]; len(codes) != 1 || codes[0] != cb.code || cb.code == "" || len(cb.code) > maxCodeLen {
			t.Fatalf("callback code of %d bytes from %d codes", len(cb.code), len(q["code"]))
		}
		conn, ok := conns[cb.connID]
		if !ok {
			return // the handler answers "not valid" for an unknown connection
		}
		if checkState(conn, cb.state, fuzzNow) == nil {
			if want := map[string]string{fuzzConnA: fuzzStateA, fuzzConnB: fuzzStateB}[cb.connID]; cb.state != want {
				t.Fatalf("connection %s took state %q", cb.connID, cb.state)
			}
		}
		if checkState(conn, cb.state, fuzzNow.Add(DefaultStateTTL)) == nil {
			t.Fatal("a state was taken after its lifetime")
		}
	})
}
