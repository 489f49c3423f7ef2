package freeagent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/freeagent"
	"github.com/commercesync/commercesync/connectors/freeagent/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID     = "commercesync-test"
	clientSecret = "s3cret"
	redirectURL  = "https://app.commercesync.test/oauth/freeagent/callback"
	company      = sandbox.DefaultSubdomain
)

// start is the top of a minute, so FreeAgent's fixed rate windows are
// easy to reason about.
var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *sandbox.Clock
	sb      *sandbox.Server
	srv     *httptest.Server
	conn    *freeagent.Connector
	cfg     *oauth2.Config
	first   *oauth2.Token
	session connectors.Session

	mu     sync.Mutex
	saved  []*oauth2.Token
	agents map[string]int // User-Agent of API calls
}

func newFixture(t *testing.T, opts ...sandbox.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: sandbox.NewClock(start)}
	f.sb = sandbox.New(append([]sandbox.Option{
		sandbox.WithClock(f.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{redirectURL}}),
	}, opts...)...)
	h := f.sb.Handler()
	f.agents = map[string]int{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, sandbox.ApprovePath) && !strings.HasPrefix(r.URL.Path, sandbox.TokenPath) {
			f.mu.Lock()
			f.agents[r.UserAgent()]++
			f.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.conn = freeagent.New(
		freeagent.WithClientID(clientID), freeagent.WithClientSecret(clientSecret),
		freeagent.WithSandboxBase(f.srv.URL), freeagent.WithHTTPClient(f.srv.Client()), freeagent.WithClock(f.clock.Now),
		freeagent.WithLogger(slog.New(slog.DiscardHandler)),
	)
	f.cfg = f.conn.OAuthConfig(redirectURL)
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, f.srv.Client())
	return f
}

// connect runs the authorization-code flow through the approve page and
// returns the tenants the token sees.
func (f *fixture) connect() []connectors.Tenant {
	f.t.Helper()
	loc, err := sandbox.Approve(f.ctx, f.srv.Client(), f.cfg.AuthCodeURL("state-123"), "")
	if err != nil {
		f.t.Fatalf("approve: %v", err)
	}
	if loc.Query().Get("state") != "state-123" || !strings.HasPrefix(loc.String(), redirectURL+"?") {
		f.t.Fatalf("redirected to %s", loc)
	}
	tok, err := f.cfg.Exchange(f.ctx, loc.Query().Get("code"))
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	f.first = tok
	ts := connectors.NewPersistingTokenSource(f.ctx, f.cfg, tok, func(_ context.Context, t *oauth2.Token) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.saved = append(f.saved, t)
		return nil
	})
	tenants, err := f.conn.Tenants(f.ctx, ts)
	if err != nil {
		f.t.Fatalf("tenants: %v", err)
	}
	if len(tenants) == 0 {
		f.t.Fatal("no tenants")
	}
	f.session = connectors.Session{TenantID: tenants[0].ID, Tokens: ts}
	return tenants
}

func (f *fixture) savedTokens() []*oauth2.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*oauth2.Token(nil), f.saved...)
}

func (f *fixture) push(doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, *connectors.Error) {
	f.t.Helper()
	return classified(f.t, f.conn.Push)(f.ctx, f.session, doc, ref)
}

func classified(t *testing.T, push func(context.Context, connectors.Session, *commercesyncv1.Document, connectors.Reference) (connectors.Result, error)) func(context.Context, connectors.Session, *commercesyncv1.Document, connectors.Reference) (connectors.Result, *connectors.Error) {
	return func(ctx context.Context, s connectors.Session, d *commercesyncv1.Document, r connectors.Reference) (connectors.Result, *connectors.Error) {
		t.Helper()
		res, err := push(ctx, s, d, r)
		if err == nil {
			return res, nil
		}
		var ce *connectors.Error
		if !errors.As(err, &ce) {
			t.Fatalf("push returned an unclassified error: %v", err)
		}
		return res, ce
	}
}

func (f *fixture) creates() [][]byte { return f.sb.CreateRequests(company) }

// raw sends body to the sandbox as the connector would and returns the
// answer, so tests can assert FreeAgent's envelope for the very bytes the
// connector produced.
func (f *fixture) raw(method, path string, body []byte) (int, string) {
	f.t.Helper()
	tok, err := f.session.Tokens.Token()
	if err != nil {
		f.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(f.ctx, method, f.srv.URL+"/v2"+path, strings.NewReader(string(body)))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("User-Agent", "test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func journal(date string, lines ...[2]string) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: date, Currency: "GBP", Narration: "Daily summary " + date}
	for _, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{AccountCode: l[0], Amount: l[1], Description: "line " + l[0]})
	}
	return doc
}

func balanced() *commercesyncv1.Document {
	return journal("2026-07-14", [2]string{"671", "108.50"}, [2]string{"001", "-100.00"}, [2]string{"817", "-8.5"})
}

func ref(v string) connectors.Reference {
	return connectors.Reference{Value: v, IdempotencyKey: "ignored-" + v}
}

func TestOAuthTenantsAndSetup(t *testing.T) {
	f := newFixture(t)
	tenants := f.connect()
	if want := (connectors.Tenant{ID: company, Name: "Sandbox Bistro Ltd"}); len(tenants) != 1 || tenants[0] != want {
		t.Fatalf("tenants = %+v, want [%+v]", tenants, want)
	}
	// FreeAgent's lifetimes (apis.md §5.1).
	if got := f.first.Extra("expires_in"); got != float64(3600) {
		t.Fatalf("expires_in = %v, want 3600", got)
	}
	if f.first.RefreshToken == "" || f.first.Extra("refresh_token_expires_in") == nil {
		t.Fatalf("no refresh token with its lifetime: %+v", f.first)
	}
	if got := f.cfg.AuthCodeURL("s"); !strings.HasPrefix(got, f.srv.URL+"/v2/approve_app?") || !strings.Contains(got, "response_type=code") {
		t.Fatalf("auth URL %s", got)
	}

	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.BaseCurrency != "GBP" || setup.LockDate != "" {
		t.Fatalf("base %q lock %q", setup.BaseCurrency, setup.LockDate)
	}
	byCode, byID := map[string]connectors.Account{}, map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		byCode[a.Code], byID[a.ID] = a, a
	}
	checks := []struct {
		name string
		a    connectors.Account
		ok   func(connectors.Account) bool
	}{
		{"001", byCode["001"], func(a connectors.Account) bool {
			return a.ID == f.srv.URL+"/v2/categories/001" && a.Name == "Sales" && a.Type == "income" && a.Class == "REVENUE" && a.Status == "ACTIVE"
		}},
		{"363", byCode["363"], func(a connectors.Account) bool { return a.Type == "admin_expenses" && a.Class == "EXPENSE" }},
		{"671", byCode["671"], func(a connectors.Account) bool { return a.Type == "general" && a.Class == "ASSET" && !a.Bank }},
		{"817", byCode["817"], func(a connectors.Account) bool { return a.Class == "LIABILITY" }},
		{"bank 1", byID[f.srv.URL+"/v2/bank_accounts/1"], func(a connectors.Account) bool {
			return a.Bank && a.Status == "ACTIVE" && a.Currency == "GBP" && a.Name == "Business Current Account" && a.Type == "StandardBankAccount"
		}},
		{"bank 2", byID[f.srv.URL+"/v2/bank_accounts/2"], func(a connectors.Account) bool { return a.Bank && a.Status == "ARCHIVED" }},
	}
	for _, c := range checks {
		if !c.ok(c.a) {
			t.Errorf("account %s = %+v", c.name, c.a)
		}
	}
	if _, listed := byCode["369"]; listed {
		t.Error("the hidden category is in the setup")
	}
	if len(setup.Accounts) != 15 {
		t.Errorf("%d accounts, want 13 categories + 2 bank accounts", len(setup.Accounts))
	}
	if len(setup.TaxRates) != 3 || setup.TaxRates[0] != (connectors.TaxRate{ID: "20.0", Name: "Standard rate", Status: "ACTIVE", Rate: "20.0"}) {
		t.Errorf("tax rates = %+v", setup.TaxRates)
	}

	// The latest account lock binds.
	if err := f.sb.UpdateCompany(company, func(c *sandbox.Company) {
		c.AccountLocks = []sandbox.AccountLock{{LockedToDate: "2026-06-30", UserLock: true}, {LockedToDate: "2025-03-31"}}
	}); err != nil {
		t.Fatal(err)
	}
	if setup, err = f.conn.Setup(f.ctx, f.session); err != nil || setup.LockDate != "2026-06-30" {
		t.Fatalf("lock date = %q, %v; want 2026-06-30", setup.LockDate, err)
	}
	// A user without Full Access cannot read locks; the setup still works.
	if err := f.sb.UpdateCompany(company, func(c *sandbox.Company) { c.Users[0].PermissionLevel = 7 }); err != nil {
		t.Fatal(err)
	}
	if setup, err = f.conn.Setup(f.ctx, f.session); err != nil || setup.LockDate != "" {
		t.Fatalf("setup at level 7: lock %q, %v", setup.LockDate, err)
	}
}

func TestPushRePushAndFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-0123456789ABCDEF0123")

	if _, found, err := f.conn.Find(f.ctx, f.session, r); err != nil || found {
		t.Fatalf("find before push: found=%v err=%v", found, err)
	}
	first, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	sets := f.sb.JournalSets(company)
	if len(sets) != 1 || first.ExternalID != f.srv.URL+"/v2/journal_sets/1" {
		t.Fatalf("%d sets, external id %q", len(sets), first.ExternalID)
	}
	js := sets[0]
	if js.Tag != r.Value || js.DatedOn != "2026-07-14" || js.Description != "Daily summary 2026-07-14" || len(js.Entries) != 3 {
		t.Fatalf("journal set = %+v", js)
	}
	for i, want := range []struct{ code, value string }{{"671", "108.5"}, {"001", "-100"}, {"817", "-8.5"}} {
		e := js.Entries[i]
		if e.Category != want.code || e.CategoryURL != f.srv.URL+"/v2/categories/"+want.code || e.DebitValue.String() != want.value || e.Description != "line "+want.code {
			t.Errorf("entry %d = %+v, want %s %s", i, e, want.code, want.value)
		}
	}

	// A re-push finds the set first and creates nothing.
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != first.ExternalID {
		t.Fatalf("re-push: %+v %v", again, cerr)
	}
	if n, c := len(f.sb.JournalSets(company)), len(f.creates()); n != 1 || c != 1 {
		t.Fatalf("re-push: %d sets, %d create requests; want 1 and 1", n, c)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("find = %+v %v %v", found, ok, err)
	}
	if _, ok, err := f.conn.Find(f.ctx, f.session, ref("CS-0123456789ABCDEF012")); err != nil || ok {
		t.Fatalf("a prefix of a reference must not match: %v %v", ok, err)
	}
	// Deleted in FreeAgent: no longer found, so a push creates it again.
	if err := f.sb.DeleteJournalSet(company, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.conn.Find(f.ctx, f.session, r); ok {
		t.Fatal("a deleted set is still found")
	}
}

func TestEveryCallNamesTheApp(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatal(err)
	}
	if _, cerr := f.push(balanced(), ref("CS-UA")); cerr != nil {
		t.Fatal(cerr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// FreeAgent requires a User-Agent (apis.md §5.1); ours names the app.
	if len(f.agents) != 1 || f.agents[freeagent.DefaultUserAgent] < 6 {
		t.Fatalf("user agents of API calls: %v", f.agents)
	}
}

func TestBodyIsExactAndByteStable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-STABLE")
	if _, cerr := f.push(balanced(), r); cerr != nil {
		t.Fatal(cerr)
	}
	if err := f.sb.DeleteJournalSet(company, 1); err != nil {
		t.Fatal(err)
	}
	if _, cerr := f.push(balanced(), r); cerr != nil {
		t.Fatal(cerr)
	}
	bodies := f.creates()
	if len(bodies) != 2 || string(bodies[0]) != string(bodies[1]) {
		t.Fatalf("bodies differ:\n%s\n%s", bodies[0], bodies[1])
	}
	cat := f.srv.URL + "/v2/categories/"
	want := `{"journal_set":{"dated_on":"2026-07-14","description":"Daily summary 2026-07-14","tag":"CS-STABLE","journal_entries":[` +
		`{"category":"` + cat + `671","description":"line 671","debit_value":"108.50"},` +
		`{"category":"` + cat + `001","description":"line 001","debit_value":"-100.00"},` +
		`{"category":"` + cat + `817","description":"line 817","debit_value":"-8.50"}]}}`
	if string(bodies[0]) != want {
		t.Fatalf("body\n got %s\nwant %s", bodies[0], want)
	}
}

func TestDroppedResponseThenFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-DROPPED")
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journal_sets", DropResponse: true})
	_, cerr := f.push(balanced(), r)
	// No Idempotency-Key header, so Go's transport does not re-send the POST:
	// the outcome is unknown to the caller.
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("dropped response: %v, want retryable without status", cerr)
	}
	if n := len(f.sb.JournalSets(company)); n != 1 {
		t.Fatalf("%d sets after the drop, want 1 (committed)", n)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != f.srv.URL+"/v2/journal_sets/1" {
		t.Fatalf("find after the drop: %+v %v %v", found, ok, err)
	}
	// The worker's retry: Push looks up first and does not post again.
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != found.ExternalID {
		t.Fatalf("retry: %+v %v", again, cerr)
	}
	if n, c := len(f.sb.JournalSets(company)), len(f.creates()); n != 1 || c != 1 {
		t.Fatalf("%d sets and %d creates after the retry, want 1 and 1", n, c)
	}
}

// TestRejections covers the acceptance list: each refusal's exact
// envelope on the sandbox's raw answer to the connector's own bytes, and
// the connector's classification of it.
func TestRejections(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if err := f.sb.LockPeriodThrough(company, "2026-06-30"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		doc    *commercesyncv1.Document
		status int
		raw    string
		msg    string
		field  string
	}{
		{"unbalanced", journal("2026-07-14", [2]string{"671", "100.00"}, [2]string{"001", "-10.00"}), 422,
			`{"errors":[{"message":"Journal entries must balance (debits 100.00, credits -10.00)"}]}`,
			"Journal entries must balance (debits 100.00, credits -10.00)", "Lines"},
		{"archived account", journal("2026-07-14", [2]string{"369", "10.00"}, [2]string{"001", "-10.00"}), 404,
			`{"errors":{"error":{"message":"Resource not found"}}}`,
			"Resource not found: FreeAgent has no category 369 (deleted, or hidden, since it was mapped); map these lines to existing categories", "AccountCode"},
		{"locked period", journal("2026-06-30", [2]string{"671", "10.00"}, [2]string{"001", "-10.00"}), 422,
			`{"errors":[{"message":"dated_on is in a locked period"}]}`,
			"dated_on is in a locked period", "Date"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cerr := f.push(c.doc, ref("CS-BAD-"+string(rune('A'+i))))
			if cerr == nil {
				t.Fatal("push succeeded")
			}
			if cerr.Class != connectors.MerchantActionable || cerr.Status != c.status || cerr.Message != c.msg || cerr.Field != c.field {
				t.Fatalf("got %v (field %q)\nwant merchant-actionable %d %q field %q", cerr, cerr.Field, c.status, c.msg, c.field)
			}
			bodies := f.creates()
			status, raw := f.raw(http.MethodPost, "/journal_sets", bodies[len(bodies)-1])
			if status != c.status || raw != c.raw {
				t.Fatalf("raw answer %d %s\nwant %d %s", status, raw, c.status, c.raw)
			}
		})
	}

	// A currency that is not enabled: a journal set has no currency
	// (apis.md §5.2) and would be booked in GBP, so the connector refuses it
	// before sending anything.
	t.Run("currency not enabled", func(t *testing.T) {
		before := len(f.creates())
		doc := balanced()
		doc.Currency = "USD"
		_, cerr := f.push(doc, ref("CS-USD"))
		if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "Currency" ||
			!strings.Contains(cerr.Message, "company's currency (GBP)") || !strings.Contains(cerr.Message, "in USD") {
			t.Fatalf("got %v", cerr)
		}
		if len(f.creates()) != before {
			t.Fatal("a journal set in another currency was sent")
		}
	})
	if n := len(f.sb.JournalSets(company)); n != 0 {
		t.Fatalf("%d sets stored from refused pushes", n)
	}
}

func TestTheHundredAndTwentyFirstCallIsThrottled(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.clock.Set(start.Add(time.Minute)) // a fresh window: 09:01:00
	r := ref("CS-THROTTLE")
	for i := range 120 {
		if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	f.clock.Advance(15 * time.Second)
	_, _, err := f.conn.Find(f.ctx, f.session, r)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.Throttled || ce.Status != http.StatusTooManyRequests {
		t.Fatalf("121st call: %v, want throttled 429", err)
	}
	// No Retry-After: the wait is to the top of the next minute (apis.md §5.6).
	if ce.RetryAfter != 45*time.Second {
		t.Fatalf("RetryAfter = %s, want 45s", ce.RetryAfter)
	}
	if !strings.Contains(ce.Message, "You must not exceed 120 requests per 60 seconds") {
		t.Fatalf("message %q lacks FreeAgent's text", ce.Message)
	}
	f.clock.Advance(ce.RetryAfter)
	if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}

func TestHourLimitAndRetryAfter(t *testing.T) {
	f := newFixture(t, sandbox.WithLimits(sandbox.Limits{PerMinute: 120, PerHour: 4}))
	f.connect() // 1 call
	f.clock.Advance(10 * time.Minute)
	for range 3 {
		if _, _, err := f.conn.Find(f.ctx, f.session, ref("h")); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := f.conn.Find(f.ctx, f.session, ref("h"))
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Throttled || ce.RetryAfter != 50*time.Minute {
		t.Fatalf("hour limit: %v, want throttled for 50m", err)
	}

	g := newFixture(t, sandbox.WithRetryAfter(true))
	g.connect()
	if err := g.sb.ExhaustRateLimit(company); err != nil {
		t.Fatal(err)
	}
	g.clock.Advance(50 * time.Second)
	_, _, err = g.conn.Find(g.ctx, g.session, ref("h"))
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Throttled || ce.RetryAfter != 10*time.Second {
		t.Fatalf("with Retry-After: %v, want 10s", err)
	}
}

func TestExpiredAccessTokenRefreshedAndSaved(t *testing.T) {
	f := newFixture(t)
	f.connect()
	// The client still thinks its token is fresh (its own clock did not
	// move); FreeAgent's hour has passed, so the push meets a 401 and must
	// refresh once.
	f.clock.Advance(61 * time.Minute)
	if _, cerr := f.push(balanced(), ref("CS-AFTER-EXPIRY")); cerr != nil {
		t.Fatalf("push with an expired access token: %v", cerr)
	}
	saved := f.savedTokens()
	if len(saved) != 1 {
		t.Fatalf("%d tokens saved, want 1", len(saved))
	}
	if saved[0].RefreshToken == "" || saved[0].RefreshToken == f.first.RefreshToken || saved[0].AccessToken == f.first.AccessToken {
		t.Fatalf("saved token was not reissued: %+v", saved[0])
	}
	if saved[0].Extra("refresh_token_expires_in") == nil {
		t.Fatal("the reissued token lost refresh_token_expires_in")
	}
	// The used refresh token is dead; only the saved one works.
	_, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("old refresh token: %v, want invalid_grant", err)
	}
	if c := connectors.Classify(err); c.Class != connectors.MerchantActionable {
		t.Fatalf("refused refresh classified %v", c.Class)
	}
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token(); err != nil {
		t.Fatalf("saved refresh token: %v", err)
	}
}

func TestExpireAccessTokensFault(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.sb.ExpireAccessTokens()
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("setup after tokens were expired: %v", err)
	}
	if n := len(f.savedTokens()); n != 1 {
		t.Fatalf("%d tokens saved, want 1", n)
	}
}

func TestRevokedRefreshTokenNeedsReconnect(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.sb.RevokeRefreshTokens()
	f.sb.ExpireAccessTokens()
	_, cerr := f.push(balanced(), ref("CS-REVOKED"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || !cerr.Deauthorized {
		t.Fatalf("push with a revoked refresh token: %v (deauthorized %t), want merchant-actionable and deauthorized", cerr, cerr != nil && cerr.Deauthorized)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
		f.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journal_sets", Status: status})
		_, cerr := f.push(balanced(), ref("CS-5XX"))
		if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != status {
			t.Fatalf("status %d: %v, want retryable", status, cerr)
		}
	}
	if _, cerr := f.push(balanced(), ref("CS-5XX")); cerr != nil {
		t.Fatalf("after the faults: %v", cerr)
	}
	if n := len(f.sb.JournalSets(company)); n != 1 {
		t.Fatalf("%d sets, want 1", n)
	}
}

func TestSlowAnswerAbandoned(t *testing.T) {
	f := newFixture(t)
	f.connect()
	arrived, release := f.sb.Stall()
	defer release()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan *connectors.Error, 1)
	go func() {
		_, err := f.conn.Push(ctx, f.session, balanced(), ref("CS-SLOW"))
		done <- connectors.Classify(err)
	}()
	<-arrived // the look-up is held
	cancel()
	cerr := <-done
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 || !strings.Contains(cerr.Message, "outcome is unknown") {
		t.Fatalf("abandoned slow call: %v", cerr)
	}
	release()
	if _, cerr := f.push(balanced(), ref("CS-SLOW")); cerr != nil {
		t.Fatalf("after the stall: %v", cerr)
	}
	if n := len(f.sb.JournalSets(company)); n != 1 {
		t.Fatalf("%d sets, want 1", n)
	}
}

func TestForbiddenUserIsMerchantActionable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if err := f.sb.UpdateCompany(company, func(c *sandbox.Company) { c.Users[0].PermissionLevel = 6 }); err != nil {
		t.Fatal(err)
	}
	_, cerr := f.push(balanced(), ref("CS-FORBIDDEN"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != http.StatusForbidden || !strings.Contains(cerr.Message, "Tax, Accounting and Users") {
		t.Fatalf("push by a user without accounting access: %v", cerr)
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.srv.Close()
	_, cerr := f.push(balanced(), ref("CS-OFFLINE"))
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("push to a closed server: %v, want retryable without status", cerr)
	}
}

// TestFindPagesWithoutTheTagFilter: the tag filter is [UNVERIFIED]
// (apis.md §5.4). Without it every set is listed, and Find must page
// through the Link headers and check tags itself.
func TestFindPagesWithoutTheTagFilter(t *testing.T) {
	f := newFixture(t, sandbox.WithTagFilter(false), sandbox.WithMinuteLimit(1000))
	f.connect()
	for i := range 102 {
		if _, cerr := f.push(journal("2026-07-14", [2]string{"671", "1.00"}, [2]string{"001", "-1.00"}), ref(fmt.Sprintf("CS-P%03d", i))); cerr != nil {
			t.Fatalf("push %d: %v", i, cerr)
		}
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, ref("CS-P101")) // the 102nd set, on page 2
	if err != nil || !ok || found.ExternalID != f.srv.URL+"/v2/journal_sets/102" {
		t.Fatalf("find on page 2: %+v %v %v", found, ok, err)
	}
	if n := len(f.sb.JournalSets(company)); n != 102 {
		t.Fatalf("%d sets, want 102 (one per reference)", n)
	}
}

func TestDuplicateTagsResolveToTheOldest(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-TWICE")
	if _, cerr := f.push(balanced(), r); cerr != nil {
		t.Fatal(cerr)
	}
	// A second writer's set with the same tag (what the lease prevents).
	if status, body := f.raw(http.MethodPost, "/journal_sets", f.creates()[0]); status != http.StatusCreated {
		t.Fatalf("%d %s", status, body)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != f.srv.URL+"/v2/journal_sets/1" {
		t.Fatalf("find = %+v %v %v; want the oldest", found, ok, err)
	}
}

func TestInvalidDocumentsAreFatal(t *testing.T) {
	f := newFixture(t)
	f.connect()
	cases := map[string]struct {
		doc *commercesyncv1.Document
		ref connectors.Reference
	}{
		"three decimals":  {journal("2026-07-14", [2]string{"671", "1.005"}, [2]string{"001", "-1.005"}), ref("x")},
		"not a journal":   {&commercesyncv1.Document{Type: "Invoice", Date: "2026-07-14"}, ref("x")},
		"bad date":        {journal("14/07/2026", [2]string{"671", "1"}, [2]string{"001", "-1"}), ref("x")},
		"no such day":     {journal("2026-02-30", [2]string{"671", "1"}, [2]string{"001", "-1"}), ref("x")},
		"one line":        {journal("2026-07-14", [2]string{"671", "0"}), ref("x")},
		"no account":      {journal("2026-07-14", [2]string{"", "1"}, [2]string{"001", "-1"}), ref("x")},
		"bad code":        {journal("2026-07-14", [2]string{"6 71", "1"}, [2]string{"001", "-1"}), ref("x")},
		"not a number":    {journal("2026-07-14", [2]string{"671", "1,00"}, [2]string{"001", "-1"}), ref("x")},
		"empty reference": {balanced(), connectors.Reference{}},
		"long reference":  {balanced(), ref(strings.Repeat("r", freeagent.MaxReferenceLen+1))},
		"spaced ref":      {balanced(), ref(" x")},
	}
	for name, c := range cases {
		if _, cerr := f.push(c.doc, c.ref); cerr == nil || cerr.Class != connectors.Fatal {
			t.Errorf("%s: %v, want fatal", name, cerr)
		}
	}
	if n := len(f.creates()); n != 0 {
		t.Fatalf("%d create requests sent for invalid documents", n)
	}
}

// TestBankAccountLineIsAMappingProblem: journal sets cannot post to bank
// accounts (FreeAgent's journal sets page), so a line mapped to one is the
// merchant's to fix, and nothing is sent.
func TestBankAccountLineIsAMappingProblem(t *testing.T) {
	f := newFixture(t)
	f.connect()
	bank := f.srv.URL + "/v2/bank_accounts/2"
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "GBP", Lines: []*commercesyncv1.DocumentLine{
		{AccountId: bank, Amount: "1", SemanticAccount: "tender/card"}, {AccountCode: "001", Amount: "-1"}}}
	_, cerr := f.push(doc, ref("CS-BANK"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != 0 || cerr.Field != "Lines[0].AccountId" ||
		!strings.Contains(cerr.Message, bank) || !strings.Contains(cerr.Message, "tender/card") {
		t.Fatalf("bank account line: %v (field %q)", cerr, cerr.Field)
	}
	if n := len(f.creates()); n != 0 {
		t.Fatalf("%d create requests sent", n)
	}
}

func TestAccountIDForms(t *testing.T) {
	f := newFixture(t)
	f.connect()
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "GBP", Lines: []*commercesyncv1.DocumentLine{
		{AccountId: f.srv.URL + "/v2/categories/671", Amount: "5"}, // the URL from Setup
		{AccountId: "001", Amount: "-5"},                           // a bare nominal code
	}}
	if _, cerr := f.push(doc, ref("CS-IDS")); cerr != nil {
		t.Fatal(cerr)
	}
	js := f.sb.JournalSets(company)[0]
	if js.Entries[0].Category != "671" || js.Entries[1].Category != "001" || js.Description != "CS-IDS" {
		t.Fatalf("set = %+v", js)
	}
}

func TestCapabilities(t *testing.T) {
	c := freeagent.New().Capabilities()
	// 120/min and 3,600/h (apis.md §5.6); no tracking on journal entries
	// (§5.2 lists no project attribute); one journal set per POST (§5.2).
	want := connectors.Capabilities{JournalMode: true, JournalForbidsBankAccounts: true, MaxReferenceLen: 64,
		RequestsPerMinute: 120, RequestsPerHour: 3600, TrackingDimensions: 0, MaxBatch: 1}
	if c != want {
		t.Fatalf("capabilities = %+v, want %+v", c, want)
	}
	if k := freeagent.New().Key(); k != "freeagent" {
		t.Fatalf("key %q", k)
	}
	cfg := freeagent.New(freeagent.WithClientID("id")).OAuthConfig("https://x/cb")
	if cfg.Endpoint.TokenURL != "https://api.freeagent.com/v2/token_endpoint" || cfg.Endpoint.AuthURL != "https://api.freeagent.com/v2/approve_app" ||
		cfg.Endpoint.AuthStyle != oauth2.AuthStyleInHeader || len(cfg.Scopes) != 0 {
		t.Fatalf("oauth config %+v", cfg)
	}
}

// TestSetupContactsCurrenciesAndProjects reads the seeded contacts (an
// organisation and a person), the native currency and the projects (one
// Active, one Completed), then a company with more than a page of each, so
// the Link header must be followed (apis.md §5.7).
func TestSetupContactsCurrenciesAndProjects(t *testing.T) {
	f := newFixture(t)
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	base := f.srv.URL + "/v2"
	wantContacts := []connectors.Contact{
		{ID: base + "/contacts/1", Name: "Commerce provider", Customer: true, Supplier: true},
		{ID: base + "/contacts/2", Name: "Alex Morgan", Customer: true, Supplier: true},
	}
	if !slices.Equal(setup.Contacts, wantContacts) {
		t.Errorf("contacts = %+v\nwant %+v", setup.Contacts, wantContacts)
	}
	// Journal sets post only in the native currency (apis.md §5.2); the
	// sandbox's invoice currencies (EUR, USD) are not listed by any route.
	if !slices.Equal(setup.Currencies, []string{"GBP"}) {
		t.Errorf("currencies = %v, want [GBP]", setup.Currencies)
	}
	wantTracking := connectors.TrackingCategory{ID: "projects", Name: "Project",
		Options: []connectors.Option{{ID: base + "/projects/1", Name: "Private Dining Events"}}}
	if len(setup.Tracking) != 1 || !trackingEqual(setup.Tracking[0], wantTracking) {
		t.Errorf("tracking = %+v\nwant [%+v]", setup.Tracking, wantTracking)
	}

	// 150 contacts and 130 projects, every other one active: two pages each
	// at per_page=100.
	if err := f.sb.UpdateCompany(company, func(c *sandbox.Company) {
		c.Contacts, c.Projects = nil, nil
		for i := range 150 {
			// An organisation's contact person does not name it.
			ct := sandbox.Contact{Organisation: fmt.Sprintf("Org %03d", i), FirstName: "Contact", LastName: "Person"}
			if i%3 == 0 {
				ct = sandbox.Contact{FirstName: fmt.Sprintf("First%03d", i), LastName: "Last"}
			}
			c.Contacts = append(c.Contacts, ct)
		}
		statuses := []string{sandbox.ProjectActive, sandbox.ProjectCompleted, sandbox.ProjectActive, sandbox.ProjectHidden, sandbox.ProjectActive, sandbox.ProjectCancelled}
		for i := range 130 {
			c.Projects = append(c.Projects, sandbox.Project{Name: fmt.Sprintf("Project %03d", i), Status: statuses[i%len(statuses)]})
		}
	}); err != nil {
		t.Fatal(err)
	}
	if setup, err = f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("setup of a larger company: %v", err)
	}
	if n := len(setup.Contacts); n != 150 {
		t.Fatalf("%d contacts, want 150 over two pages", n)
	}
	if last := setup.Contacts[149]; last.ID != base+"/contacts/150" || last.Name != "Org 149" {
		t.Errorf("last contact %+v", last)
	}
	if c := setup.Contacts[147]; c.Name != "First147 Last" {
		t.Errorf("a person's name: %+v", c)
	}
	opts := setup.Tracking[0].Options
	if len(opts) != 65 {
		t.Fatalf("%d project options, want the 65 active of 130", len(opts))
	}
	if last := opts[len(opts)-1]; last.ID != base+"/projects/129" || last.Name != "Project 128" {
		t.Errorf("last active project %+v", last)
	}
}

// A list that fails fails the setup, classified as the call was.
func TestSetupFailsWithItsLists(t *testing.T) {
	f := newFixture(t)
	f.connect()
	for _, path := range []string{"/contacts", "/projects"} {
		f.sb.InjectFault(sandbox.Fault{Method: http.MethodGet, Path: path, Status: http.StatusServiceUnavailable})
		_, err := f.conn.Setup(f.ctx, f.session)
		if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Retryable || ce.Status != http.StatusServiceUnavailable ||
			!strings.Contains(err.Error(), "read "+path[1:]) {
			t.Fatalf("setup with %s failing: %v", path, err)
		}
	}
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("setup after the faults: %v", err)
	}
}

func trackingEqual(a, b connectors.TrackingCategory) bool {
	return a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Options, b.Options)
}
