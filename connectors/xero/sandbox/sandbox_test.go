package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/xero/sandbox"
)

const (
	clientID     = "app"
	clientSecret = "secret"
	redirectURI  = "https://app.test/callback"
)

var (
	start  = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)
	scopes = []string{"offline_access", "accounting.transactions", "accounting.settings"}
)

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *sandbox.Clock
	sb    *sandbox.Server
	srv   *httptest.Server
	cfg   *oauth2.Config
	tok   *oauth2.Token
}

func newEnv(t *testing.T, opts ...sandbox.Option) *env {
	t.Helper()
	e := &env{t: t, clock: sandbox.NewClock(start)}
	e.sb = sandbox.New(append([]sandbox.Option{
		sandbox.WithClock(e.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "Test App", RedirectURIs: []string{redirectURI}}),
	}, opts...)...)
	e.srv = httptest.NewServer(e.sb.Handler())
	t.Cleanup(e.srv.Close)
	e.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg = &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + sandbox.AuthorizePath, TokenURL: e.srv.URL + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
	}
	return e
}

func (e *env) code(cfg *oauth2.Config) string {
	e.t.Helper()
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), cfg.AuthCodeURL("st"), "")
	if err != nil {
		e.t.Fatal(err)
	}
	if loc.Query().Get("error") != "" {
		e.t.Fatalf("consent error: %s", loc)
	}
	return loc.Query().Get("code")
}

func (e *env) login() *env {
	e.t.Helper()
	tok, err := e.cfg.Exchange(e.ctx, e.code(e.cfg))
	if err != nil {
		e.t.Fatal(err)
	}
	e.tok = tok
	return e
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// api calls the Accounting API with the env's token for the default tenant.
func (e *env) api(method, path, body string, hdr ...string) result {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}, "Xero-Tenant-Id": {sandbox.DefaultTenantID}}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			h.Del(hdr[i])
		} else {
			h.Set(hdr[i], hdr[i+1])
		}
	}
	return e.raw(e.srv.Client(), method, e.srv.URL+sandbox.APIPath+path, body, h)
}

func (e *env) raw(hc *http.Client, method, u, body string, h http.Header) result {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, u, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

func TestAuthorizeRefusesUnknownClientsAndRedirects(t *testing.T) {
	e := newEnv(t)
	get := func(q url.Values) *http.Response {
		t.Helper()
		hc := *e.srv.Client()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.Get(e.srv.URL + sandbox.AuthorizePath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	base := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI}, "scope": {"offline_access"}, "state": {"s"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range base {
			q[kk] = vv
		}
		q.Set(k, v)
		return q
	}
	if r := get(with("client_id", "stranger")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown client: %d, want 400", r.StatusCode)
	}
	if r := get(with("redirect_uri", "https://evil.test/cb")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect: %d, want 400", r.StatusCode)
	}
	if r := get(with("response_type", "token")); r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "error=unsupported_response_type") {
		t.Errorf("implicit flow: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(base); r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("consent page: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	// Cancel on the consent page.
	form := with("consent", "deny")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(e.srv.URL+sandbox.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "error=access_denied") || !strings.Contains(loc, "state=s") {
		t.Errorf("deny: %d %s", resp.StatusCode, loc)
	}
}

func TestAuthorizationCodesAreSingleUseAndShortLived(t *testing.T) {
	e := newEnv(t)
	code := e.code(e.cfg)
	if _, err := e.cfg.Exchange(e.ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cfg.Exchange(e.ctx, code); !isInvalidGrant(err) {
		t.Fatalf("second use of a code: %v, want invalid_grant", err)
	}
	code = e.code(e.cfg)
	e.clock.Advance(5 * time.Minute)
	if _, err := e.cfg.Exchange(e.ctx, code); !isInvalidGrant(err) {
		t.Fatalf("code after 5 minutes: %v, want invalid_grant", err)
	}
}

// TestPKCEBindsTheCodeToItsVerifier: a code asked for with an S256
// challenge is exchanged only with the verifier behind it (accounting-
// platform-apis.md §1.1, RFC 7636); any other verifier, or none, gets
// Xero's invalid_grant body, and the code is spent either way.
func TestPKCEBindsTheCodeToItsVerifier(t *testing.T) {
	e := newEnv(t)
	codeFor := func(verifier string) string {
		t.Helper()
		loc, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "")
		if err != nil {
			t.Fatal(err)
		}
		return loc.Query().Get("code")
	}
	verifier := oauth2.GenerateVerifier()
	for what, opts := range map[string][]oauth2.AuthCodeOption{
		"another verifier": {oauth2.VerifierOption(oauth2.GenerateVerifier())},
		"no verifier":      nil,
	} {
		code := codeFor(verifier)
		if _, err := e.cfg.Exchange(e.ctx, code, opts...); !isInvalidGrant(err) {
			t.Fatalf("%s: %v, want invalid_grant", what, err)
		}
		if _, err := e.cfg.Exchange(e.ctx, code, oauth2.VerifierOption(verifier)); !isInvalidGrant(err) {
			t.Fatalf("%s: the code was not spent by the refused exchange: %v", what, err)
		}
	}
	tok, err := e.cfg.Exchange(e.ctx, codeFor(verifier), oauth2.VerifierOption(verifier))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("the code's own verifier: %v", err)
	}
}

func TestClientAuthenticationAndOfflineAccess(t *testing.T) {
	e := newEnv(t)
	// Form-encoded client credentials work as well as HTTP Basic.
	cfg := *e.cfg
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	cfg.Scopes = []string{"accounting.transactions"}
	tok, err := cfg.Exchange(e.ctx, e.code(&cfg))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Fatal("refresh token issued without offline_access")
	}
	if tok.Extra("scope") != "accounting.transactions" {
		t.Fatalf("scope = %v", tok.Extra("scope"))
	}
	bad := *e.cfg
	bad.ClientSecret = "wrong"
	var re *oauth2.RetrieveError
	if _, err := bad.Exchange(e.ctx, e.code(e.cfg)); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("wrong secret: %v, want invalid_client", err)
	}
}

func TestRefreshTokensExpireAfterSixtyDaysUnused(t *testing.T) {
	e := newEnv(t).login()
	e.clock.Advance(59 * 24 * time.Hour)
	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh after 59 days: %v", err)
	}
	if next.RefreshToken == e.tok.RefreshToken {
		t.Fatal("refresh token did not rotate")
	}
	e.clock.Advance(60 * 24 * time.Hour)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); !isInvalidGrant(err) {
		t.Fatalf("refresh after 60 unused days: %v, want invalid_grant", err)
	}
}

func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant" && re.ErrorDescription == "Token has been expired or revoked."
}

func TestUnauthorizedAndForbidden(t *testing.T) {
	e := newEnv(t).login()
	r := e.api("GET", "/Accounts", "", "Authorization", "")
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "Bearer error=invalid_token" {
		t.Fatalf("no token: %d %v", r.status, r.header)
	}
	e.clock.Advance(30 * time.Minute)
	r = e.api("GET", "/Accounts", "")
	m := r.json(t)
	if r.status != 401 || m["Title"] != "Unauthorized" || m["Status"] != float64(401) || m["Type"] != nil ||
		m["Detail"] != "TokenExpired: token expired at 07/15/2026 09:30:00" || m["Instance"] == "" {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
	if ext, ok := m["Extensions"].(map[string]any); !ok || len(ext) != 0 {
		t.Fatalf("Extensions = %v, want {}", m["Extensions"])
	}

	e.login()
	for name, tenant := range map[string]string{"missing": "", "unknown": "00000000-0000-0000-0000-000000000001"} {
		r := e.api("GET", "/Accounts", "", "Xero-Tenant-Id", tenant)
		if m := r.json(t); r.status != http.StatusForbidden || m["Title"] != "Forbidden" || m["Detail"] != "AuthenticationUnsuccessful" {
			t.Errorf("%s tenant: %d %s", name, r.status, r.body)
		}
	}
}

func TestConnections(t *testing.T) {
	second := sandbox.Organisation{TenantID: "3f0d0b5e-0000-4000-8000-000000000002", Name: "Second Shop Ltd", BaseCurrency: "NZD"}
	e := newEnv(t, sandbox.WithOrganisation(sandbox.DefaultOrganisation()), sandbox.WithOrganisation(second))
	e.login()
	// Connect the second organisation too, in a later consent.
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL("st"), second.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cfg.Exchange(e.ctx, loc.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}}
	r := e.raw(e.srv.Client(), "GET", e.srv.URL+sandbox.ConnectionsPath, "", h)
	var conns []map[string]string
	if err := json.Unmarshal(r.body, &conns); err != nil || r.status != 200 || len(conns) != 2 {
		t.Fatalf("connections: %d %s", r.status, r.body)
	}
	c := conns[0]
	if c["tenantId"] != sandbox.DefaultTenantID || c["tenantName"] != "Demo Company (US)" || c["tenantType"] != "ORGANISATION" ||
		c["id"] == "" || c["authEventId"] == "" || c["createdDateUtc"] != "2026-07-15T09:00:00.0000000" {
		t.Fatalf("connection = %v", c)
	}
	// Tenantless calls carry only the app limit header.
	if r.header.Get("X-AppMinLimit-Remaining") == "" || r.header.Get("X-MinLimit-Remaining") != "" {
		t.Fatalf("headers: %v", r.header)
	}
	r = e.raw(e.srv.Client(), "GET", e.srv.URL+sandbox.ConnectionsPath+"?authEventId="+conns[1]["authEventId"], "", h)
	if err := json.Unmarshal(r.body, &conns); err != nil || len(conns) != 1 || conns[0]["tenantId"] != second.TenantID {
		t.Fatalf("filtered connections: %s", r.body)
	}
	// The token from the first consent reaches the second tenant as well.
	if r := e.api("GET", "/Organisation", "", "Xero-Tenant-Id", second.TenantID); r.status != 200 || !strings.Contains(string(r.body), `"BaseCurrency":"NZD"`) {
		t.Fatalf("second tenant: %d %s", r.status, r.body)
	}
}

func TestRateLimitHeadersAndDayLimit(t *testing.T) {
	e := newEnv(t, sandbox.WithLimits(sandbox.Limits{PerMinute: 10, PerDay: 3, AppPerMinute: 100})).login()
	for i, want := range []string{"2", "1", "0"} {
		r := e.api("GET", "/Currencies", "")
		if r.status != 200 || r.header.Get("X-DayLimit-Remaining") != want || r.header.Get("X-MinLimit-Remaining") != []string{"9", "8", "7"}[i] ||
			r.header.Get("X-AppMinLimit-Remaining") == "" {
			t.Fatalf("call %d: %d %v", i+1, r.status, r.header)
		}
	}
	e.clock.Advance(time.Hour)
	e.login() // the access token lives 30 minutes; token calls are not counted
	r := e.api("GET", "/Currencies", "")
	if r.status != 429 || r.header.Get("X-Rate-Limit-Problem") != "day" || r.header.Get("Retry-After") != "82800" || json.Valid(r.body) {
		t.Fatalf("4th call: %d %v %s", r.status, r.header, r.body)
	}
	if got := e.sb.Refused(sandbox.DefaultTenantID); len(got) != 1 || got["day"] != 1 {
		t.Fatalf("refusals %v, want the one for the day", got)
	}
	e.clock.Advance(23 * time.Hour)
	e.login()
	if r := e.api("GET", "/Currencies", ""); r.status != 200 {
		t.Fatalf("after a day: %d", r.status)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t).login()
	arrived, release := e.sb.Stall()
	defer release()
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.api("GET", "/Currencies", "").status })
	}
	for range 5 {
		<-arrived
	}
	r := e.api("GET", "/Currencies", "")
	if r.status != 429 || r.header.Get("X-Rate-Limit-Problem") != "concurrent" || r.header.Get("Retry-After") == "" {
		t.Fatalf("6th concurrent call: %d %v", r.status, r.header)
	}
	if got := e.sb.Refused(sandbox.DefaultTenantID); got["concurrent"] != 1 {
		t.Fatalf("refusals %v, want one for concurrency", got)
	}
	release()
	wg.Wait()
	for _, s := range statuses {
		if s != 200 {
			t.Fatalf("held calls: %v", statuses)
		}
	}
	if r := e.api("GET", "/Currencies", ""); r.status != 200 {
		t.Fatalf("after release: %d", r.status)
	}
}

func TestSettingsEndpoints(t *testing.T) {
	e := newEnv(t).login()
	r := e.api("GET", "/Accounts?where="+url.QueryEscape(`Status=="ACTIVE" AND Type=="BANK"`), "")
	var accts struct {
		Accounts []struct{ Code, Type, Status, AccountID string }
	}
	if err := json.Unmarshal(r.body, &accts); err != nil || len(accts.Accounts) != 2 || accts.Accounts[0].Code != "090" || accts.Accounts[1].Code != "091" {
		t.Fatalf("bank accounts: %s", r.body)
	}
	m := r.json(t)
	if m["Status"] != "OK" || !strings.HasPrefix(m["DateTimeUTC"].(string), "/Date(1784106000000)/") || m["ProviderName"] != "Test App" {
		t.Fatalf("envelope: %v", m)
	}
	if r := e.api("GET", "/Accounts?where="+url.QueryEscape(`Colour=="red"`), ""); r.status != 400 || !strings.Contains(string(r.body), "QueryParseException") {
		t.Fatalf("bad filter: %d %s", r.status, r.body)
	}
	if err := e.sb.UpdateOrganisation(sandbox.DefaultTenantID, func(o *sandbox.Organisation) { o.PeriodLockDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	r = e.api("GET", "/organisation", "") // routes are case-insensitive
	if !strings.Contains(string(r.body), `"PeriodLockDate":"/Date(1782777600000+0000)/"`) || !strings.Contains(string(r.body), `"BaseCurrency":"USD"`) {
		t.Fatalf("organisation: %s", r.body)
	}
	if r := e.api("GET", "/TaxRates", ""); !strings.Contains(string(r.body), `"EffectiveRate":8.5000`) {
		t.Fatalf("tax rates: %s", r.body)
	}
	if r := e.api("GET", "/Currencies", ""); !strings.Contains(string(r.body), `{"Code":"EUR","Description":"Euro"}`) {
		t.Fatalf("currencies: %s", r.body)
	}
	if r := e.api("GET", "/PurchaseOrders", ""); r.status != 404 || string(r.body) != "The resource you're looking for cannot be found" {
		t.Fatalf("unknown route: %d %s", r.status, r.body)
	}
}

const goodJournal = `{"ManualJournals":[{"Narration":"Day [ref-1]","Date":"2026-07-14","Status":"POSTED","JournalLines":[` +
	`{"LineAmount":100.00,"AccountCode":"610","Description":"card"},{"LineAmount":-100.00,"AccountCode":"200"}]}]}`

func TestIdempotencyKeys(t *testing.T) {
	e := newEnv(t).login()
	first := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "k1")
	if first.status != 200 {
		t.Fatalf("create: %d %s", first.status, first.body)
	}
	// The replay is byte-identical, envelope Id and timestamps included.
	e.clock.Advance(5*time.Minute + 59*time.Second)
	replay := e.api("PUT", "/ManualJournals", goodJournal, "idempotency-key", "k1")
	if replay.status != 200 || !bytes.Equal(replay.body, first.body) {
		t.Fatalf("replay differs:\n%s\n%s", first.body, replay.body)
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 1 {
		t.Fatalf("%d journals after replay", n)
	}
	other := strings.Replace(goodJournal, "card", "cards", 1)
	r := e.api("PUT", "/ManualJournals", other, "Idempotency-Key", "k1")
	if r.status != 400 || r.json(t)["Message"] != "Idempotency Key k1 is used with a different request." {
		t.Fatalf("different body: %d %s", r.status, r.body)
	}
	r = e.api("POST", "/ManualJournals", goodJournal, "Idempotency-Key", "k1")
	if r.status != 400 {
		t.Fatalf("different method: %d %s", r.status, r.body)
	}
	if r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", strings.Repeat("k", 129)); r.status != 400 {
		t.Fatalf("129-character key: %d", r.status)
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 1 {
		t.Fatalf("%d journals after refused requests", n)
	}
	// Six minutes after first use the key is forgotten.
	e.clock.Advance(time.Second)
	if r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "k1"); r.status != 200 || bytes.Equal(r.body, first.body) {
		t.Fatalf("after 6 minutes: %d", r.status)
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 2 {
		t.Fatalf("%d journals, want 2", n)
	}
}

func TestValidationErrorsAreCollected(t *testing.T) {
	e := newEnv(t).login()
	if err := e.sb.UpdateOrganisation(sandbox.DefaultTenantID, func(o *sandbox.Organisation) { o.EndOfYearLockDate = "2026-03-31" }); err != nil {
		t.Fatal(err)
	}
	body := `{"ManualJournals":[{"Date":"2026-03-31","JournalLines":[{"LineAmount":10.005,"AccountCode":"630"}]}]}`
	r := e.api("PUT", "/ManualJournals", body)
	var xe struct {
		ErrorNumber int
		Type        string
		Elements    []struct {
			ValidationErrors []struct{ Message string }
		}
	}
	if err := json.Unmarshal(r.body, &xe); err != nil || r.status != 400 || xe.ErrorNumber != 10 || xe.Type != "ValidationException" || len(xe.Elements) != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var msgs []string
	for _, v := range xe.Elements[0].ValidationErrors {
		msgs = append(msgs, v.Message)
	}
	want := []string{
		"Narration must be specified.",
		"The document date cannot be before the end of year lock date of 31 March 2026",
		"LineAmount 10.005 has more than 2 decimal places.",
		"Account code '630' is an inventory account and cannot be used in manual journals.",
		"A manual journal must have at least two journal lines.",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("messages:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnknownCodeIsRemovedWithAWarning(t *testing.T) {
	e := newEnv(t).login()
	body := `{"ManualJournals":[{"Narration":"n","Date":"2026-07-14","JournalLines":[` +
		`{"LineAmount":5,"AccountCode":"610"},{"LineAmount":-5,"AccountCode":"200"},{"LineAmount":0,"AccountCode":"476"}]}]}`
	r := e.api("PUT", "/ManualJournals", body)
	if r.status != 200 || !strings.Contains(string(r.body), `"Warnings":[{"Message":"Account code '476' has been removed as it does not match a recognised account."}]`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	j := e.sb.ManualJournals(sandbox.DefaultTenantID)[0]
	// Sent without Status, a journal is a DRAFT (accounting-platform-apis.md §1.2).
	if len(j.Lines) != 2 || j.Status != "DRAFT" || !strings.Contains(string(r.body), `"LineAmount":5.00`) {
		t.Fatalf("journal %+v", j)
	}
}

func TestSummarizeErrorsFalse(t *testing.T) {
	e := newEnv(t).login()
	body := `{"ManualJournals":[{"Narration":"ok","Date":"2026-07-14","JournalLines":[{"LineAmount":1,"AccountCode":"610"},{"LineAmount":-1,"AccountCode":"200"}]},` +
		`{"Narration":"bad","Date":"2026-07-14","JournalLines":[{"LineAmount":1,"AccountCode":"610"},{"LineAmount":-2,"AccountCode":"200"}]}]}`
	r := e.api("PUT", "/ManualJournals?summarizeErrors=false", body)
	if r.status != 200 || !strings.Contains(string(r.body), `"StatusAttributeString":"OK"`) || !strings.Contains(string(r.body), `"StatusAttributeString":"ERROR"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if js := e.sb.ManualJournals(sandbox.DefaultTenantID); len(js) != 1 || js[0].Narration != "ok" {
		t.Fatalf("stored %+v", js)
	}
	// The default summarises: one bad journal fails the request and nothing is stored.
	if r := e.api("PUT", "/ManualJournals", body); r.status != 400 || len(e.sb.ManualJournals(sandbox.DefaultTenantID)) != 1 {
		t.Fatalf("summarised: %d", r.status)
	}
}

func TestListAndGetManualJournals(t *testing.T) {
	e := newEnv(t).login()
	for _, n := range []string{"Day [ref-1]", "Day [ref-10]", "Other"} {
		if r := e.api("PUT", "/ManualJournals", strings.Replace(goodJournal, "Day [ref-1]", n, 1)); r.status != 200 {
			t.Fatalf("create %s: %d %s", n, r.status, r.body)
		}
	}
	type list struct {
		Pagination     *struct{ Page, PageSize, PageCount, ItemCount int }
		ManualJournals []struct {
			ManualJournalID, Narration, Date string
			JournalLines                     []struct{ AccountCode string }
		}
	}
	get := func(q string) list {
		t.Helper()
		r := e.api("GET", "/ManualJournals"+q, "")
		var l list
		if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		return l
	}
	if l := get("?where=" + url.QueryEscape(`Narration.Contains("[ref-1]")`)); len(l.ManualJournals) != 1 || l.ManualJournals[0].Narration != "Day [ref-1]" ||
		len(l.ManualJournals[0].JournalLines) != 0 || l.ManualJournals[0].Date != "/Date(1783987200000+0000)/" {
		t.Fatalf("contains: %+v", l)
	}
	if l := get("?where=" + url.QueryEscape(`Narration=="Other"`)); len(l.ManualJournals) != 1 {
		t.Fatalf("equals: %+v", l)
	}
	l := get("?page=2&pageSize=2")
	if l.Pagination == nil || l.Pagination.PageCount != 2 || l.Pagination.ItemCount != 3 || len(l.ManualJournals) != 1 || len(l.ManualJournals[0].JournalLines) != 2 {
		t.Fatalf("page 2: %+v", l)
	}
	id := l.ManualJournals[0].ManualJournalID
	if one := get("/" + id); len(one.ManualJournals) != 1 || one.ManualJournals[0].Narration != "Other" {
		t.Fatalf("by id: %+v", one)
	}
	if r := e.api("GET", "/ManualJournals/"+"00000000-0000-0000-0000-000000000000", ""); r.status != 404 {
		t.Fatalf("unknown id: %d", r.status)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t).login()
	e.sb.InjectFault(sandbox.Fault{Method: "PUT", Status: 500})
	if r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "f1"); r.status != 500 {
		t.Fatalf("injected 500: %d", r.status)
	}
	// Not remembered under the key: the retry is processed.
	if r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "f1"); r.status != 200 {
		t.Fatalf("after 500: %d %s", r.status, r.body)
	}

	// A dropped answer: a client without keep-alive cannot re-send by itself.
	e.sb.InjectFault(sandbox.Fault{Path: "/manualjournals", DropResponse: true})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}, "Xero-Tenant-Id": {sandbox.DefaultTenantID}, "Idempotency-Key": {"f2"}}
	req, _ := http.NewRequestWithContext(e.ctx, "PUT", e.srv.URL+sandbox.APIPath+"/ManualJournals", strings.NewReader(goodJournal))
	req.Header = h
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped response arrived: %d", resp.StatusCode)
	}
	js := e.sb.ManualJournals(sandbox.DefaultTenantID)
	if len(js) != 2 {
		t.Fatalf("the dropped call was not committed: %d journals", len(js))
	}
	r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "f2")
	if r.status != 200 || !strings.Contains(string(r.body), js[1].ID) || len(e.sb.ManualJournals(sandbox.DefaultTenantID)) != 2 {
		t.Fatalf("retry after drop: %d %s", r.status, r.body)
	}

	e.sb.InjectFault(sandbox.Fault{Status: 503, Times: 2})
	for range 2 {
		if r := e.api("GET", "/Accounts", ""); r.status != 503 || string(r.body) != "The Xero API is currently offline for maintenance" {
			t.Fatalf("503: %d %s", r.status, r.body)
		}
	}
	if r := e.api("GET", "/Accounts", ""); r.status != 200 {
		t.Fatalf("after faults: %d", r.status)
	}
	e.sb.ExpireAccessTokens()
	if r := e.api("GET", "/Accounts", ""); r.status != 401 {
		t.Fatalf("after ExpireAccessTokens: %d", r.status)
	}
}

func TestStart(t *testing.T) {
	sb := sandbox.New()
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	resp, err := http.Get(base + sandbox.ConnectionsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /connections without a token: %d", resp.StatusCode)
	}
	if ids := sb.TenantIDs(); len(ids) != 1 || ids[0] != sandbox.DefaultTenantID {
		t.Fatalf("tenants %v", ids)
	}
}

// GET /TrackingCategories lists active categories and options; archived
// ones come back with includeArchived=true (accounting-platform-apis.md §1.3).
func TestTrackingCategories(t *testing.T) {
	e := newEnv(t).login()
	r := e.api("GET", "/TrackingCategories", "")
	if r.status != 200 || strings.Contains(string(r.body), "ARCHIVED") || !strings.Contains(string(r.body), `"Name":"Region"`) ||
		!strings.Contains(string(r.body), `"Name":"North"`) {
		t.Fatalf("active: %d %s", r.status, r.body)
	}
	r = e.api("GET", "/TrackingCategories?includeArchived=true", "")
	if !strings.Contains(string(r.body), `"Name":"Old campaign","Status":"ARCHIVED"`) || !strings.Contains(string(r.body), `"Name":"Closed shop","Status":"ARCHIVED"`) {
		t.Fatalf("with archived: %s", r.body)
	}
}

// The inspection route shows a developer what was posted, without a token,
// as the Accounting API's own read routes answer it; it takes no writes.
func TestInspectionShowsWhatWasPosted(t *testing.T) {
	e := newEnv(t).login()
	if r := e.api("PUT", "/ManualJournals", goodJournal); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	look := func(method, path string) result {
		return e.raw(http.DefaultClient, method, e.srv.URL+sandbox.InspectPath+sandbox.APIPath+path, "", http.Header{})
	}
	r := look("GET", "/ManualJournals?page=1")
	var l struct {
		ManualJournals []struct {
			Narration    string
			JournalLines []struct{ AccountCode, LineAmount json.Number }
		}
	}
	if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 {
		t.Fatalf("inspect journals: %d %s", r.status, r.body)
	}
	if len(l.ManualJournals) != 1 || l.ManualJournals[0].Narration != "Day [ref-1]" || len(l.ManualJournals[0].JournalLines) != 2 {
		t.Fatalf("inspect journals: %+v, want the one journal with its lines", l)
	}
	if r := look("GET", "/ManualJournals?tenantId="+sandbox.DefaultTenantID); r.status != 200 || !strings.Contains(string(r.body), "Day [ref-1]") {
		t.Fatalf("inspect by tenant: %d %s", r.status, r.body)
	}
	if r := look("GET", "/ManualJournals?tenantId=unknown"); r.status != http.StatusNotFound {
		t.Fatalf("inspect an unknown tenant: %d, want 404", r.status)
	}
	if r := look("PUT", "/ManualJournals"); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("a write through inspection: %d, want 405", r.status)
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 1 {
		t.Fatalf("%d journals after inspection, want 1", n)
	}
}
