package connectors_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestClassify(t *testing.T) {
	platform := &connectors.Error{Class: connectors.Throttled, Status: 429, RetryAfter: time.Second}
	var dns net.Error = &net.DNSError{Err: "timeout", IsTimeout: true}
	cases := []struct {
		name string
		err  error
		want connectors.Class
	}{
		{"wrapped platform error keeps its class", fmt.Errorf("push: %w", platform), connectors.Throttled},
		{"deadline", context.DeadlineExceeded, connectors.Retryable},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), connectors.Retryable},
		{"network timeout", dns, connectors.Retryable},
		{"anything else", errors.New("connection reset"), connectors.Retryable},
		{"refresh refused", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_grant"}, connectors.MerchantActionable},
		{"bad client credentials", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_client"}, connectors.Fatal},
		{"token endpoint down", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 502}}, connectors.Retryable},
		{"token endpoint throttled", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 429}, ErrorCode: "invalid_grant"}, connectors.Throttled},
		{"malformed refresh", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_request"}, connectors.MerchantActionable},
	}
	for _, c := range cases {
		got := connectors.Classify(c.err)
		if got == nil || got.Class != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if !errors.Is(got, c.err) && got != platform {
			t.Errorf("%s: classified error does not wrap the cause", c.name)
		}
	}
	if connectors.Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	// Only a refused grant says the connection itself is gone; a token
	// endpoint that is down or rate limiting says nothing about it.
	deauthorized := map[string]bool{"refresh refused": true}
	for _, c := range cases {
		if got := connectors.Classify(c.err).Deauthorized; got != deauthorized[c.name] {
			t.Errorf("%s: deauthorized %t, want %t", c.name, got, deauthorized[c.name])
		}
	}
	if connectors.Classify(fmt.Errorf("push: %w", platform)) != platform {
		t.Error("Classify did not return the wrapped *Error itself")
	}
}

func TestClassProto(t *testing.T) {
	want := map[connectors.Class]commercesyncv1.ErrorClass{
		connectors.Retryable:          commercesyncv1.ErrorClass_ERROR_CLASS_RETRYABLE,
		connectors.Throttled:          commercesyncv1.ErrorClass_ERROR_CLASS_THROTTLED,
		connectors.MerchantActionable: commercesyncv1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE,
		connectors.Fatal:              commercesyncv1.ErrorClass_ERROR_CLASS_FATAL,
		connectors.Class(0):           commercesyncv1.ErrorClass_ERROR_CLASS_UNSPECIFIED,
	}
	for c, p := range want {
		if c.Proto() != p {
			t.Errorf("%v.Proto() = %v, want %v", c, c.Proto(), p)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"42", 42 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
	}
	for _, c := range cases {
		got, ok := connectors.ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestTransientStatusError(t *testing.T) {
	now := time.Now()
	resp := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	if e := connectors.TransientStatusError(resp(429, "7"), "minute", now); e.Class != connectors.Throttled || e.RetryAfter != 7*time.Second || !strings.Contains(e.Message, "minute") {
		t.Errorf("429: %v", e)
	}
	if e := connectors.TransientStatusError(resp(429, ""), "", now); e.RetryAfter != time.Minute {
		t.Errorf("429 without Retry-After waits %v, want 1m", e.RetryAfter)
	}
	if e := connectors.TransientStatusError(resp(503, "2"), "", now); e.Class != connectors.Retryable || e.RetryAfter != 2*time.Second {
		t.Errorf("503: %v", e)
	}
	if e := connectors.TransientStatusError(resp(400, ""), "", now); e != nil {
		t.Errorf("400 is not transient: %v", e)
	}
}

// tokenEndpoint is a minimal OAuth token endpoint that rotates refresh
// tokens; it counts refreshes and can hold them to provoke concurrency.
type tokenEndpoint struct {
	refreshes atomic.Int32
	gate      chan struct{}
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if te.gate != nil {
		<-te.gate
	}
	n := te.refreshes.Add(1)
	if r.FormValue("grant_type") != "refresh_token" {
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("access-%d", n), "refresh_token": fmt.Sprintf("refresh-%d", n),
		"token_type": "Bearer", "expires_in": 1800,
	})
}

func newTokenSource(t *testing.T, te *tokenEndpoint, save func(context.Context, *oauth2.Token) error) oauth2.TokenSource {
	srv := httptest.NewServer(te)
	t.Cleanup(srv.Close)
	cfg := &oauth2.Config{ClientID: "c", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.Client())
	expired := &oauth2.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: time.Now().Add(-time.Minute)}
	return connectors.NewPersistingTokenSource(ctx, cfg, expired, save)
}

func TestPersistingTokenSourceSingleFlightAndSavesFirst(t *testing.T) {
	te := &tokenEndpoint{gate: make(chan struct{})}
	var mu sync.Mutex
	var saved []string
	ts := newTokenSource(t, te, func(_ context.Context, tok *oauth2.Token) error {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, tok.RefreshToken)
		return nil
	})
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	close(te.gate)
	wg.Wait()
	if n := te.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes for concurrent callers, want 1", n)
	}
	for _, a := range got {
		if a != "access-1" {
			t.Fatalf("tokens handed out: %v", got)
		}
	}
	if len(saved) != 1 || saved[0] != "refresh-1" {
		t.Fatalf("saved %v, want [refresh-1]", saved)
	}

	// A rejected token is refreshed once, however many callers saw the 401.
	inv := ts.(connectors.Invalidator)
	inv.Invalidate(&oauth2.Token{AccessToken: "access-1"})
	inv.Invalidate(&oauth2.Token{AccessToken: "access-1"})
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "access-2" || te.refreshes.Load() != 2 {
		t.Fatalf("after invalidate: %v %v, %d refreshes", tok, err, te.refreshes.Load())
	}
	inv.Invalidate(&oauth2.Token{AccessToken: "access-1"}) // stale: ignored
	if tok, _ := ts.Token(); tok.AccessToken != "access-2" {
		t.Fatalf("a stale invalidation dropped the current token")
	}
}

func TestPersistingTokenSourceNeverHandsOutUnsavedTokens(t *testing.T) {
	te := &tokenEndpoint{}
	fail := true
	var saved []string
	ts := newTokenSource(t, te, func(_ context.Context, tok *oauth2.Token) error {
		if fail {
			return errors.New("store down")
		}
		saved = append(saved, tok.RefreshToken)
		return nil
	})
	if tok, err := ts.Token(); err == nil || tok != nil {
		t.Fatalf("token returned although it could not be saved: %v", tok)
	}
	fail = false
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	// The rotated token is saved on the retry, without a second refresh
	// that would have burnt refresh-1.
	if tok.RefreshToken != "refresh-1" || te.refreshes.Load() != 1 || len(saved) != 1 || saved[0] != "refresh-1" {
		t.Fatalf("token %v saved %v refreshes %d", tok, saved, te.refreshes.Load())
	}
}

// An expired grant with no refresh token can only be renewed by the
// merchant: the error says so and marks the connection deauthorized, rather
// than reading as a network failure to back off from.
func TestExpiredTokenWithoutRefreshTokenDeauthorizes(t *testing.T) {
	cfg := &oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/token"}}
	expired := &oauth2.Token{AccessToken: "access-0", Expiry: time.Now().Add(-time.Minute)}
	ts := connectors.NewPersistingTokenSource(t.Context(), cfg, expired, func(context.Context, *oauth2.Token) error { return nil })
	_, err := ts.Token()
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.MerchantActionable || !ce.Deauthorized || !strings.Contains(ce.Message, "reconnect") {
		t.Fatalf("expired token without a refresh token: %v, want merchant-actionable, deauthorized, asking to reconnect", err)
	}
}

type countingGate struct {
	n   int
	err error
}

func (g *countingGate) Wait(context.Context) error { g.n++; return g.err }

// Every request built under WithGate waits on the gate first, so a caller
// paces HTTP requests, not calls to Push; a gate that gives up makes the
// request retryable without reaching the platform.
func TestRequestsWaitOnTheGate(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a"})
	g := &countingGate{}
	ctx := connectors.WithGate(context.Background(), g)
	for range 3 {
		if _, _, err := connectors.NewAuthorizedRequest(ctx, ts, "GET", "https://platform.test/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := connectors.NewAuthorizedRequest(context.Background(), ts, "GET", "https://platform.test/x", nil); err != nil || g.n != 3 {
		t.Fatalf("gate waited %d times for 3 gated requests (err %v)", g.n, err)
	}
	g.err = context.DeadlineExceeded
	_, _, ce := connectors.NewAuthorizedRequest(ctx, ts, "GET", "https://platform.test/x", nil)
	if ce == nil || ce.Class != connectors.Retryable {
		t.Fatalf("a gate that gives up: %v, want retryable", ce)
	}
}
