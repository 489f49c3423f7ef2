package xero_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/xero"
	"github.com/commercesync/commercesync/connectors/xero/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID     = "commercesync-test"
	clientSecret = "s3cret"
	redirectURL  = "https://app.commercesync.test/oauth/xero/callback"
)

var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *sandbox.Clock
	sb      *sandbox.Server
	srv     *httptest.Server
	conn    *xero.Connector
	cfg     *oauth2.Config
	first   *oauth2.Token
	session connectors.Session

	mu    sync.Mutex
	saved []*oauth2.Token
}

func newFixture(t *testing.T, opts ...sandbox.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: sandbox.NewClock(start)}
	opts = append([]sandbox.Option{
		sandbox.WithClock(f.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{redirectURL}}),
	}, opts...)
	f.sb = sandbox.New(opts...)
	f.srv = httptest.NewServer(f.sb.Handler())
	t.Cleanup(f.srv.Close)
	f.conn = xero.New(
		xero.WithClientID(clientID), xero.WithClientSecret(clientSecret),
		xero.WithSandboxBase(f.srv.URL), xero.WithHTTPClient(f.srv.Client()), xero.WithClock(f.clock.Now),
	)
	f.cfg = f.conn.OAuthConfig(redirectURL)
	// The oauth2 package takes its HTTP client from the context.
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, f.srv.Client())
	return f
}

// connect runs the authorization-code flow through the consent page and
// returns the tenants the connection sees.
func (f *fixture) connect() []connectors.Tenant {
	f.t.Helper()
	authURL := f.cfg.AuthCodeURL("state-123")
	loc, err := sandbox.Approve(f.ctx, f.srv.Client(), authURL, "")
	if err != nil {
		f.t.Fatalf("consent: %v", err)
	}
	if got := loc.Query().Get("state"); got != "state-123" {
		f.t.Fatalf("state = %q, want state-123", got)
	}
	if !strings.HasPrefix(loc.String(), redirectURL+"?") {
		f.t.Fatalf("redirected to %s, want %s", loc, redirectURL)
	}
	tok, err := f.cfg.Exchange(f.ctx, loc.Query().Get("code"))
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		f.t.Fatal("no refresh token although offline_access was requested")
	}
	if got, ok := tok.Extra("expires_in").(float64); !ok || got != 1800 {
		f.t.Fatalf("expires_in = %v, want 1800", tok.Extra("expires_in"))
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
	res, err := f.conn.Push(f.ctx, f.session, doc, ref)
	if err == nil {
		return res, nil
	}
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		f.t.Fatalf("push returned an unclassified error: %v", err)
	}
	return res, ce
}

func journal(date string, lines ...[2]string) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: date, Currency: "USD", Narration: "Daily summary " + date}
	for _, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{AccountCode: l[0], Amount: l[1], Description: "line " + l[0]})
	}
	return doc
}

func balanced() *commercesyncv1.Document {
	return journal("2026-07-14", [2]string{"610", "108.50"}, [2]string{"200", "-100.00"}, [2]string{"820", "-8.5"})
}

func ref(v string) connectors.Reference {
	return connectors.Reference{Value: v, IdempotencyKey: "key-" + v}
}

func TestOAuthTenantsAndSetup(t *testing.T) {
	f := newFixture(t)
	tenants := f.connect()
	want := connectors.Tenant{ID: sandbox.DefaultTenantID, Name: "Demo Company (US)"}
	if len(tenants) != 1 || tenants[0] != want {
		t.Fatalf("tenants = %+v, want [%+v]", tenants, want)
	}

	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.BaseCurrency != "USD" || setup.LockDate != "" {
		t.Fatalf("base %q lock %q, want USD and no lock", setup.BaseCurrency, setup.LockDate)
	}
	byCode := map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		byCode[a.Code] = a
	}
	checks := []struct {
		code string
		ok   func(connectors.Account) bool
	}{
		{"090", func(a connectors.Account) bool {
			return a.Bank && a.Type == "BANK" && a.Class == "ASSET" && a.Currency == "USD"
		}},
		{"800", func(a connectors.Account) bool { return a.System && !a.Bank }},
		{"610", func(a connectors.Account) bool { return a.EnablePayments && a.Name == "Card clearing" }},
		{"310", func(a connectors.Account) bool { return a.Status == "ARCHIVED" }},
		{"200", func(a connectors.Account) bool { return a.Class == "REVENUE" && a.ID != "" }},
	}
	for _, c := range checks {
		if a, found := byCode[c.code]; !found || !c.ok(a) {
			t.Errorf("account %s = %+v", c.code, a)
		}
	}
	var sales connectors.TaxRate
	for _, r := range setup.TaxRates {
		if r.ID == "OUTPUT" {
			sales = r
		}
	}
	if sales.Rate != "8.5000" || sales.Status != "ACTIVE" {
		t.Errorf("OUTPUT tax rate = %+v, want rate 8.5000 exactly", sales)
	}
	if got := strings.Join(setup.Currencies, ","); got != "USD,EUR,GBP" {
		t.Errorf("currencies = %s, want the base first, then the organisation's others", got)
	}
	// Active categories and options only: the archived category and the
	// archived Region option are left out.
	var tracking []string
	for _, tc := range setup.Tracking {
		var opts []string
		for _, o := range tc.Options {
			opts = append(opts, o.Name)
			if o.ID == "" {
				t.Errorf("option %s of %s has no id", o.Name, tc.Name)
			}
		}
		tracking = append(tracking, tc.Name+":"+strings.Join(opts, "/"))
	}
	if got := strings.Join(tracking, " "); got != "Region:North/South Channel:In store/Online" {
		t.Errorf("tracking = %s", got)
	}
	if len(setup.Contacts) != 2 || setup.Contacts[0].Name != "Commerce provider" || !setup.Contacts[0].Customer || !setup.Contacts[0].Supplier {
		t.Errorf("contacts = %+v", setup.Contacts)
	}

	// The later of the two lock dates binds a push.
	if err := f.sb.UpdateOrganisation(sandbox.DefaultTenantID, func(o *sandbox.Organisation) {
		o.PeriodLockDate, o.EndOfYearLockDate = "2026-06-30", "2025-12-31"
	}); err != nil {
		t.Fatal(err)
	}
	setup, err = f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.LockDate != "2026-06-30" {
		t.Fatalf("lock date = %q, want 2026-06-30", setup.LockDate)
	}
}

func TestPushReadBackIdempotencyAndFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("acme/2026-07-14/USD/r1/c3/0")

	if _, found, err := f.conn.Find(f.ctx, f.session, r); err != nil || found {
		t.Fatalf("find before push: found=%v err=%v", found, err)
	}
	first, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	js := f.sb.ManualJournals(sandbox.DefaultTenantID)
	if len(js) != 1 {
		t.Fatalf("%d journals, want 1", len(js))
	}
	j := js[0]
	if j.ID != first.ExternalID || j.Status != "POSTED" || j.Date != "2026-07-14" || j.LineAmountTypes != "NoTax" {
		t.Fatalf("journal = %+v", j)
	}
	if j.Narration != "Daily summary 2026-07-14 ["+r.Value+"]" {
		t.Fatalf("narration = %q", j.Narration)
	}
	wantLines := map[string]string{"610": "108.5", "200": "-100", "820": "-8.5"}
	for _, l := range j.Lines {
		if !l.Amount.Equal(decimal.RequireFromString(wantLines[l.AccountCode])) {
			t.Errorf("line %s amount %s, want %s", l.AccountCode, l.Amount, wantLines[l.AccountCode])
		}
	}
	if len(j.Lines) != 3 {
		t.Fatalf("%d lines, want 3", len(j.Lines))
	}

	// Within 6 minutes the same key replays the first answer.
	f.clock.Advance(5 * time.Minute)
	again, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("re-push: %v", cerr)
	}
	if again.ExternalID != first.ExternalID || len(f.sb.ManualJournals(sandbox.DefaultTenantID)) != 1 {
		t.Fatalf("re-push with the same key duplicated: %s vs %s", again.ExternalID, first.ExternalID)
	}

	// Past 6 minutes Xero has forgotten the key: Find must see the journal
	// first, because a blind re-push would post it twice.
	f.clock.Advance(2 * time.Minute)
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("find = %+v, %v, %v; want %s", found, ok, err, first.ExternalID)
	}
	if _, ok, err := f.conn.Find(f.ctx, f.session, ref("acme/2026-07-14/USD/r1/c3")); err != nil || ok {
		t.Fatalf("a reference that is a prefix of another must not match: found=%v err=%v", ok, err)
	}
	dup, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("blind re-push: %v", cerr)
	}
	if dup.ExternalID == first.ExternalID || len(f.sb.ManualJournals(sandbox.DefaultTenantID)) != 2 {
		t.Fatalf("the sandbox should have forgotten the key after 6 minutes")
	}
}

func TestPushMerchantActionable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if err := f.sb.UpdateOrganisation(sandbox.DefaultTenantID, func(o *sandbox.Organisation) { o.PeriodLockDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		doc   *commercesyncv1.Document
		msg   string
		field string
	}{
		{"unbalanced", journal("2026-07-14", [2]string{"610", "100.00"}, [2]string{"200", "-10.00"}),
			"The total debits (100.00) must equal total credits (-10.00)", "Lines"},
		{"archived account", journal("2026-07-14", [2]string{"310", "10.00"}, [2]string{"200", "-10.00"}),
			"Account code '310' has been archived, or deleted.", "AccountCode"},
		{"bank account", journal("2026-07-14", [2]string{"090", "10.00"}, [2]string{"200", "-10.00"}),
			"Account code '090' is a bank account; bank accounts cannot be used in manual journals.", "AccountCode"},
		{"system account", journal("2026-07-14", [2]string{"610", "10.00"}, [2]string{"800", "-10.00"}),
			"Account code '800' is a system account (CREDITORS) and cannot be used in manual journals.", "AccountCode"},
		{"locked period", journal("2026-06-30", [2]string{"610", "10.00"}, [2]string{"200", "-10.00"}),
			"The document date cannot be before the period lock date of 30 June 2026", "Date"},
		{"unknown code removed, then unbalanced",
			journal("2026-07-14", [2]string{"610", "100.00"}, [2]string{"200", "-90.00"}, [2]string{"476", "-10.00"}),
			"The total debits (100.00) must equal total credits (-90.00) (Account code '476' has been removed as it does not match a recognised account.)", "Lines"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cerr := f.push(c.doc, ref("bad/"+string(rune('a'+i))))
			if cerr == nil {
				t.Fatal("push succeeded")
			}
			if cerr.Class != connectors.MerchantActionable || cerr.Status != http.StatusBadRequest {
				t.Fatalf("class %v status %d, want merchant-actionable 400: %v", cerr.Class, cerr.Status, cerr)
			}
			if cerr.Message != c.msg || cerr.Field != c.field {
				t.Fatalf("message %q field %q\nwant    %q field %q", cerr.Message, cerr.Field, c.msg, c.field)
			}
			if cerr.Class.Proto() != commercesyncv1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE {
				t.Fatalf("proto class %v", cerr.Class.Proto())
			}
		})
	}
	if n := len(f.sb.ManualJournals(sandbox.DefaultTenantID)); n != 0 {
		t.Fatalf("%d journals stored from invalid pushes", n)
	}
}

func TestSixtyFirstCallIsThrottled(t *testing.T) {
	f := newFixture(t)
	f.connect() // /connections is tenantless and does not count
	r := ref("throttle")
	for i := range 60 {
		if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, _, err := f.conn.Find(f.ctx, f.session, r)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.Throttled || ce.Status != http.StatusTooManyRequests {
		t.Fatalf("61st call: %v, want throttled 429", err)
	}
	if ce.RetryAfter != time.Minute {
		t.Fatalf("RetryAfter = %s, want 1m0s (all calls at one instant)", ce.RetryAfter)
	}
	if !strings.Contains(ce.Message, "minute") {
		t.Fatalf("message %q does not name the limit", ce.Message)
	}
	f.clock.Advance(ce.RetryAfter)
	if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
		t.Fatalf("after waiting Retry-After: %v", err)
	}
}

func TestExpiredAccessTokenRefreshesAndPersists(t *testing.T) {
	f := newFixture(t)
	f.connect()

	// The client still believes its token is fresh (its own clock did not
	// move); Xero's did, so the push meets a 401 and must refresh once.
	f.clock.Advance(31 * time.Minute)
	if _, cerr := f.push(balanced(), ref("after-expiry")); cerr != nil {
		t.Fatalf("push with an expired access token: %v", cerr)
	}
	saved := f.savedTokens()
	if len(saved) != 1 {
		t.Fatalf("%d tokens saved, want 1 rotated token", len(saved))
	}
	if saved[0].RefreshToken == "" || saved[0].RefreshToken == f.first.RefreshToken {
		t.Fatalf("saved refresh token %q was not rotated", saved[0].RefreshToken)
	}
	if saved[0].AccessToken == f.first.AccessToken {
		t.Fatal("saved access token was not renewed")
	}

	// The previous refresh token stays usable for 30 minutes after rotation.
	f.clock.Advance(29 * time.Minute)
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token(); err != nil {
		t.Fatalf("previous refresh token within 30 minutes: %v", err)
	}
	f.clock.Advance(2 * time.Minute)
	_, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Token has been expired or revoked." {
		t.Fatalf("previous refresh token after 31 minutes: %v, want invalid_grant", err)
	}
	if c := connectors.Classify(err); c.Class != connectors.MerchantActionable {
		t.Fatalf("refused refresh classified %v, want merchant-actionable", c.Class)
	}
	// The rotated token is unaffected.
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token(); err != nil {
		t.Fatalf("rotated refresh token: %v", err)
	}
}

func TestRevokedAccessTokensRefresh(t *testing.T) {
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

func TestExpiredRefreshTokenNeedsReconnect(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.clock.Advance(61 * 24 * time.Hour)
	_, cerr := f.push(balanced(), ref("too-late"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable {
		t.Fatalf("push with an expired refresh token: %v, want merchant-actionable", cerr)
	}
}

func TestSameKeyDifferentBody(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("same-key")
	if _, cerr := f.push(balanced(), r); cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	other := journal("2026-07-14", [2]string{"610", "1.00"}, [2]string{"200", "-1.00"})
	_, cerr := f.push(other, r)
	if cerr == nil {
		t.Fatal("a different body under the same key was accepted")
	}
	want := "Idempotency Key " + r.IdempotencyKey + " is used with a different request."
	// A changing body under one key is our bug, not the merchant's.
	if cerr.Status != http.StatusBadRequest || cerr.Class != connectors.Fatal || cerr.Message != want {
		t.Fatalf("got %v, want fatal 400 %q", cerr, want)
	}
}

func TestDroppedResponseIsNotDuplicated(t *testing.T) {
	f := newFixture(t)
	f.connect()

	// One drop: Go's transport re-sends a request that carries an
	// Idempotency-Key when a reused connection dies, and the sandbox replays
	// the committed answer, so the push succeeds once.
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Path: "/ManualJournals", DropResponse: true})
	if _, cerr := f.push(balanced(), ref("dropped-once")); cerr != nil && cerr.Class != connectors.Retryable {
		t.Fatalf("dropped response classified %v, want retryable: %v", cerr.Class, cerr)
	}
	// Two drops outlast the transport's single re-send: the outcome is
	// unknown to the caller, who retries with the same key.
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Path: "/ManualJournals", DropResponse: true, Times: 2})
	r := ref("dropped-twice")
	if _, cerr := f.push(balanced(), r); cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("twice dropped response: %v, want retryable without status", cerr)
	}
	f.sb.ClearFaults()
	again, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("retry: %v", cerr)
	}
	js := f.sb.ManualJournals(sandbox.DefaultTenantID)
	if len(js) != 2 || js[1].ID != again.ExternalID {
		t.Fatalf("%d journals (want one per reference); retry got %s", len(js), again.ExternalID)
	}
	if found, ok, err := f.conn.Find(f.ctx, f.session, r); err != nil || !ok || found.ExternalID != again.ExternalID {
		t.Fatalf("find = %+v %v %v", found, ok, err)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		f.sb.InjectFault(sandbox.Fault{Status: status})
		_, cerr := f.push(balanced(), ref("five-hundred"))
		if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != status {
			t.Fatalf("status %d: %v, want retryable", status, cerr)
		}
	}
	// The failures happened before the idempotency store: the same key now works.
	if _, cerr := f.push(balanced(), ref("five-hundred")); cerr != nil {
		t.Fatalf("after faults: %v", cerr)
	}
}

func TestForbiddenTenantNeedsReconnect(t *testing.T) {
	f := newFixture(t)
	f.connect()
	s := f.session
	s.TenantID = "00000000-0000-0000-0000-000000000000"
	_, err := f.conn.Setup(f.ctx, s)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != http.StatusForbidden || !ce.Deauthorized {
		t.Fatalf("setup for a tenant not connected: %v (deauthorized %t), want a merchant-actionable 403 that deauthorizes", err, ce != nil && ce.Deauthorized)
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.srv.Close()
	_, cerr := f.push(balanced(), ref("offline"))
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("push to a closed server: %v, want retryable without status", cerr)
	}
}

func TestInvalidDocumentsAreFatal(t *testing.T) {
	f := newFixture(t)
	f.connect()
	long := connectors.Reference{Value: "ok", IdempotencyKey: strings.Repeat("k", 129)}
	cases := map[string]struct {
		doc *commercesyncv1.Document
		ref connectors.Reference
	}{
		"three decimals":  {journal("2026-07-14", [2]string{"610", "1.005"}, [2]string{"200", "-1.005"}), ref("x")},
		"not a journal":   {&commercesyncv1.Document{Type: "Invoice"}, ref("x")},
		"bad date":        {journal("14/07/2026", [2]string{"610", "1"}, [2]string{"200", "-1"}), ref("x")},
		"key too long":    {balanced(), long},
		"quote in ref":    {balanced(), ref(`a"b`)},
		"one line":        {journal("2026-07-14", [2]string{"610", "0"}), ref("x")},
		"no account":      {journal("2026-07-14", [2]string{"", "1"}, [2]string{"200", "-1"}), ref("x")},
		"not a number":    {journal("2026-07-14", [2]string{"610", "1,00"}, [2]string{"200", "-1"}), ref("x")},
		"beyond the max":  {journal("2026-07-14", [2]string{"610", "10000000000.00"}, [2]string{"200", "-10000000000.00"}), ref("x")},
		"empty reference": {balanced(), connectors.Reference{IdempotencyKey: "k"}},
	}
	for name, c := range cases {
		_, cerr := f.push(c.doc, c.ref)
		if cerr == nil || cerr.Class != connectors.Fatal {
			t.Errorf("%s: %v, want fatal", name, cerr)
		}
	}
	if n := len(f.sb.ManualJournals(sandbox.DefaultTenantID)); n != 0 {
		t.Fatalf("%d journals stored", n)
	}
}
