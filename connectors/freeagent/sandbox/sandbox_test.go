package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/freeagent/sandbox"
)

const (
	clientID     = "app"
	clientSecret = "secret"
	redirectURI  = "https://app.test/callback"
)

// start is the top of a minute, so rate windows are easy to reason about.
var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

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
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + sandbox.ApprovePath, TokenURL: e.srv.URL + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
	}
	return e
}

func (e *env) code() string {
	e.t.Helper()
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL("st"), "")
	if err != nil {
		e.t.Fatal(err)
	}
	if loc.Query().Get("error") != "" || loc.Query().Get("state") != "st" {
		e.t.Fatalf("approve redirect: %s", loc)
	}
	return loc.Query().Get("code")
}

func (e *env) login() *env {
	e.t.Helper()
	tok, err := e.cfg.Exchange(e.ctx, e.code())
	if err != nil {
		e.t.Fatal(err)
	}
	e.tok = tok
	return e
}

type result struct {
	status int
	header http.Header
	body   string
}

// api calls the API with the env's token; hdr are name/value pairs, an
// empty value deletes the header.
func (e *env) api(method, path, body string, hdr ...string) result {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+sandbox.APIPath+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	req.Header.Set("User-Agent", "sandbox-test")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header[http.CanonicalHeaderKey(hdr[i])] = []string{""}
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) cat(code string) string { return e.srv.URL + "/v2/categories/" + code }

// set builds a journal_set body with entries as category/debit_value pairs.
func (e *env) set(date, tag string, entries ...[2]string) string {
	var parts []string
	for _, en := range entries {
		parts = append(parts, fmt.Sprintf(`{"category":%q,"description":"line","debit_value":%q}`, e.cat(en[0]), en[1]))
	}
	return fmt.Sprintf(`{"journal_set":{"dated_on":%q,"description":"Daily summary","tag":%q,"journal_entries":[%s]}}`, date, tag, strings.Join(parts, ","))
}

func want(t *testing.T, r result, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

func TestOAuthLifetimesAndRotation(t *testing.T) {
	e := newEnv(t)
	code := e.code()
	tok, err := e.cfg.Exchange(e.ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	// apis.md §5.1: 1 hour access tokens, refresh_token_expires_in on every grant.
	if got := tok.Extra("expires_in"); got != float64(3600) {
		t.Fatalf("expires_in = %v, want 3600", got)
	}
	if got := tok.Extra("refresh_token_expires_in"); got != float64(20*24*3600) {
		t.Fatalf("refresh_token_expires_in = %v", got)
	}
	// Codes are single use.
	_, err = e.cfg.Exchange(e.ctx, code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("second exchange: %v, want invalid_grant", err)
	}
	// Codes live 15 minutes.
	late := e.code()
	e.clock.Advance(15 * time.Minute)
	if _, err := e.cfg.Exchange(e.ctx, late); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("code after 15 minutes: %v, want invalid_grant", err)
	}

	e.tok = tok
	if r := e.api("GET", "/company", ""); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Hour)
	want(t, e.api("GET", "/company", ""), http.StatusUnauthorized, `{"errors":{"error":{"message":"Access token not recognised"}}}`)

	// A refresh reissues the refresh token; the used one is refused
	// (apis.md §5.1, §6.1).
	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.Extra("refresh_token_expires_in") == nil {
		t.Fatalf("refresh did not reissue the refresh token: %+v", next)
	}
	e.tok = next
	if r := e.api("GET", "/company", ""); r.status != http.StatusOK {
		t.Fatalf("refreshed token: %d", r.status)
	}
	raw := e.tokenCall("grant_type=refresh_token&refresh_token=" + tok.RefreshToken)
	want(t, raw, http.StatusBadRequest, `{"error":"invalid_grant","error_description":"`+sandbox.DefaultMessages().InvalidGrant+`"}`)

	// Wrong client secret.
	bad := *e.cfg
	bad.ClientSecret = "nope"
	if _, err := bad.TokenSource(e.ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("wrong secret: %v, want invalid_client", err)
	}
	// Refresh tokens expire.
	e.clock.Advance(sandbox.DefaultRefreshTokenTTL)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("expired refresh token: %v, want invalid_grant", err)
	}
}

func (e *env) tokenCall(form string) result {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+sandbox.TokenPath, strings.NewReader(form))
	req.SetBasicAuth(clientID, clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

func TestApproveRefusals(t *testing.T) {
	e := newEnv(t)
	// Unknown redirect: an error page, never a redirect.
	cfg := *e.cfg
	cfg.RedirectURL = "https://evil.test/cb"
	if _, err := sandbox.Approve(e.ctx, e.srv.Client(), cfg.AuthCodeURL("s"), ""); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("unregistered redirect: %v", err)
	}
	if _, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL("s"), "no-such-company"); err == nil {
		t.Fatal("approving an unknown company worked")
	}
}

func TestTokenRefreshesAreLimited(t *testing.T) {
	e := newEnv(t).login()
	rt := e.tok.RefreshToken
	for i := range 5 {
		tok, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		rt = tok.RefreshToken
	}
	want(t, e.tokenCall("grant_type=refresh_token&refresh_token="+rt), http.StatusTooManyRequests,
		`{"errors":{"error":{"message":"You must not exceed 5 requests per 60 seconds"}}}`)
	e.clock.Advance(time.Minute)
	if r := e.tokenCall("grant_type=refresh_token&refresh_token=" + rt); r.status != http.StatusOK {
		t.Fatalf("refresh in the next minute: %d %s (a refused refresh must not spend the token)", r.status, r.body)
	}
}

func TestSetupReads(t *testing.T) {
	e := newEnv(t).login()
	r := e.api("GET", "/company", "")
	want(t, r, http.StatusOK, `{"company":{"url":"`+e.srv.URL+`/v2/company","name":"Sandbox Bistro Ltd","subdomain":"sandbox-bistro",`+
		`"type":"UkLimitedCompany","currency":"GBP","mileage_units":"miles","company_start_date":"2020-04-01","freeagent_start_date":"2024-04-01",`+
		`"first_accounting_year_end":"2021-03-31","sales_tax_registration_status":"Registered","sales_tax_registration_number":"GB123456789"}}`)

	r = e.api("GET", "/categories", "")
	var cats map[string][]map[string]any
	if err := json.Unmarshal([]byte(r.body), &cats); err != nil || r.status != http.StatusOK {
		t.Fatalf("categories: %d %s", r.status, r.body)
	}
	if len(cats) != 4 || len(cats["income_categories"]) != 5 || len(cats["admin_expenses_categories"]) != 1 || len(cats["general_categories"]) != 6 {
		t.Fatalf("category groups: %s", r.body)
	}
	if first := cats["income_categories"][0]; first["url"] != e.cat("001") || first["nominal_code"] != "001" || first["description"] != "Sales" {
		t.Fatalf("first income category: %v", first)
	}
	if strings.Contains(r.body, `"369"`) {
		t.Fatal("the hidden category is listed")
	}

	r = e.api("GET", "/bank_accounts", "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"url":"`+e.srv.URL+`/v2/bank_accounts/1"`) || !strings.Contains(r.body, `"status":"hidden"`) {
		t.Fatalf("bank accounts: %d %s", r.status, r.body)
	}
	want(t, e.api("GET", "/account_locks", ""), http.StatusOK, `{"account_locks":[]}`)
	if err := e.sb.LockPeriodThrough(sandbox.DefaultSubdomain, "2026-06-30"); err != nil {
		t.Fatal(err)
	}
	want(t, e.api("GET", "/account_locks", ""), http.StatusOK,
		`{"account_locks":[{"locked_to_date":"2026-06-30","user_lock":true,"locked_by_description":"Sandbox Owner"}]}`)

	// Account locks need Full Access; journal sets "Tax, Accounting and Users".
	if err := e.sb.UpdateCompany(sandbox.DefaultSubdomain, func(c *sandbox.Company) { c.Users[0].PermissionLevel = 7 }); err != nil {
		t.Fatal(err)
	}
	want(t, e.api("GET", "/account_locks", ""), http.StatusForbidden, `{"errors":{"error":{"message":"`+sandbox.DefaultMessages().Forbidden+`"}}}`)
	if r := e.api("GET", "/journal_sets", ""); r.status != http.StatusOK {
		t.Fatalf("journal sets at level 7: %d", r.status)
	}
	want(t, e.api("GET", "/no_such_thing", ""), http.StatusNotFound, `{"errors":{"error":{"message":"Resource not found"}}}`)
}

func TestCreateReadBackAndNoIdempotency(t *testing.T) {
	e := newEnv(t).login()
	body := e.set("2026-07-14", "CS-1", [2]string{"671", "108.50"}, [2]string{"001", "-100.00"}, [2]string{"817", "-8.50"})
	r := e.api("POST", "/journal_sets", body)
	if r.status != http.StatusCreated || r.header.Get("Location") != e.srv.URL+"/v2/journal_sets/1" {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	wantBody := `{"journal_set":{"url":"` + e.srv.URL + `/v2/journal_sets/1","dated_on":"2026-07-14","description":"Daily summary",` +
		`"updated_at":"2026-07-15T09:00:00.000Z","tag":"CS-1","journal_entries":[` +
		`{"url":"` + e.srv.URL + `/v2/journal_entries/1","category":"` + e.cat("671") + `","description":"line","debit_value":"108.50"},` +
		`{"url":"` + e.srv.URL + `/v2/journal_entries/2","category":"` + e.cat("001") + `","description":"line","debit_value":"-100.00"},` +
		`{"url":"` + e.srv.URL + `/v2/journal_entries/3","category":"` + e.cat("817") + `","description":"line","debit_value":"-8.50"}]}}`
	if r.body != wantBody {
		t.Fatalf("create answer\n got %s\nwant %s", r.body, wantBody)
	}
	if g := e.api("GET", "/journal_sets/1", ""); g.status != http.StatusOK || g.body != wantBody {
		t.Fatalf("get: %d %s", g.status, g.body)
	}
	// No idempotency (apis.md §5.4, §6.3): the same body makes a second set.
	if r := e.api("POST", "/journal_sets", body); r.status != http.StatusCreated {
		t.Fatalf("repeat: %d %s", r.status, r.body)
	}
	sets := e.sb.JournalSets(sandbox.DefaultSubdomain)
	if len(sets) != 2 || sets[0].Tag != "CS-1" || sets[1].Tag != "CS-1" || sets[1].ID != 2 {
		t.Fatalf("sets: %+v", sets)
	}
	if en := sets[0].Entries[2]; en.Category != "817" || en.DebitValue.String() != "-8.5" || en.CategoryURL != e.cat("817") {
		t.Fatalf("entry read back: %+v", en)
	}
	if n := len(e.sb.CreateRequests(sandbox.DefaultSubdomain)); n != 2 {
		t.Fatalf("%d create requests recorded", n)
	}
	// Numbers are accepted as JSON numbers too, exactly.
	num := strings.ReplaceAll(e.set("2026-07-14", "CS-2", [2]string{"671", "X"}, [2]string{"001", "Y"}), `"X"`, `0.1`)
	num = strings.ReplaceAll(num, `"Y"`, `-0.10`)
	if r := e.api("POST", "/journal_sets", num); r.status != http.StatusCreated {
		t.Fatalf("numeric debit values: %d %s", r.status, r.body)
	}
	// Deleting removes it from reads.
	if r := e.api("DELETE", "/journal_sets/1", ""); r.status != http.StatusOK {
		t.Fatalf("delete: %d", r.status)
	}
	want(t, e.api("GET", "/journal_sets/1", ""), http.StatusNotFound, `{"errors":{"error":{"message":"Resource not found"}}}`)
	if n := len(e.sb.JournalSets(sandbox.DefaultSubdomain)); n != 2 {
		t.Fatalf("%d sets after a delete, want 2", n)
	}
}

// TestRejections shows each refusal with its exact envelope (apis.md §5.5)
// and that nothing was stored.
func TestRejections(t *testing.T) {
	e := newEnv(t).login()
	if err := e.sb.LockPeriodThrough(sandbox.DefaultSubdomain, "2026-06-30"); err != nil {
		t.Fatal(err)
	}
	ok := [][2]string{{"671", "10.00"}, {"001", "-10.00"}}
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"unbalanced", e.set("2026-07-14", "t", [2]string{"671", "100.00"}, [2]string{"001", "-10.00"}),
			422, `{"errors":[{"message":"Journal entries must balance (debits 100.00, credits -10.00)"}]}`},
		{"archived (hidden) category", e.set("2026-07-14", "t", [2]string{"369", "10.00"}, [2]string{"001", "-10.00"}),
			404, `{"errors":{"error":{"message":"Resource not found"}}}`},
		{"unknown category", e.set("2026-07-14", "t", [2]string{"999", "10.00"}, [2]string{"001", "-10.00"}),
			404, `{"errors":{"error":{"message":"Resource not found"}}}`},
		{"category not a full URL", strings.Replace(e.set("2026-07-14", "t", ok...), e.cat("671"), "671", 1),
			404, `{"errors":{"error":{"message":"Resource not found"}}}`},
		{"locked period (on the lock date)", e.set("2026-06-30", "t", ok...),
			422, `{"errors":[{"message":"dated_on is in a locked period"}]}`},
		{"invalid date", e.set("2026-02-30", "t", ok...),
			422, `{"errors":{"dated_on":["is not a valid date"]}}`},
		{"three decimal places", e.set("2026-07-14", "t", [2]string{"671", "10.005"}, [2]string{"001", "-10.005"}),
			422, `{"errors":[{"message":"Journal entries debit value 10.005 must have at most 2 decimal places"},{"message":"Journal entries debit value -10.005 must have at most 2 decimal places"}]}`},
		{"required fields", `{"journal_set":{"dated_on":"","description":" ","journal_entries":[]}}`,
			422, `{"errors":[{"message":"Dated on can't be blank"},{"message":"Description can't be blank"},{"message":"Journal entries can't be blank"}]}`},
		{"entry fields", `{"journal_set":{"dated_on":"2026-07-14","description":"d","journal_entries":[{"debit_value":"1.00"},{"category":"` + e.cat("001") + `"}]}}`,
			422, `{"errors":[{"message":"Journal entries category can't be blank"},{"message":"Journal entries debit value can't be blank"}]}`},
		{"not a number", e.set("2026-07-14", "t", [2]string{"671", "1,00"}, [2]string{"001", "-1.00"}),
			422, `{"errors":[{"message":"Journal entries debit value \"1,00\" is not a number"}]}`},
		{"bank account", strings.Replace(e.set("2026-07-14", "t", ok...), `"description":"line"`, `"description":"line","bank_account":"`+e.srv.URL+`/v2/bank_accounts/1"`, 1),
			422, `{"errors":[{"message":"It is no longer possible to journal to/from bank accounts"}]}`},
		{"tag too long", e.set("2026-07-14", strings.Repeat("x", 256), ok...),
			422, `{"errors":[{"message":"Tag is too long (maximum is 255 characters)"}]}`},
		{"no root", `{"dated_on":"2026-07-14"}`,
			400, `{"errors":{"error":{"message":"The request must have a journal_set root element"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want(t, e.api("POST", "/journal_sets", c.body), c.status, c.want)
		})
	}
	if n := len(e.sb.JournalSets(sandbox.DefaultSubdomain)); n != 0 {
		t.Fatalf("%d journal sets stored from refused requests", n)
	}
	// The day after the lock is open.
	if r := e.api("POST", "/journal_sets", e.set("2026-07-01", "t", ok...)); r.status != http.StatusCreated {
		t.Fatalf("day after the lock: %d %s", r.status, r.body)
	}
}

// TestJournalSetsHaveNoCurrency documents why the connector checks the
// currency itself: a journal set has no currency attribute (apis.md §5.2),
// so FreeAgent, like the sandbox, books whatever is sent in the company's
// currency and ignores a currency attribute.
func TestJournalSetsHaveNoCurrency(t *testing.T) {
	e := newEnv(t).login()
	body := strings.Replace(e.set("2026-07-14", "usd", [2]string{"671", "10.00"}, [2]string{"001", "-10.00"}), `"dated_on"`, `"currency":"USD","dated_on"`, 1)
	if r := e.api("POST", "/journal_sets", body); r.status != http.StatusCreated || strings.Contains(r.body, "USD") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestTagFilterAndPaging(t *testing.T) {
	e := newEnv(t).login()
	for i := range 5 {
		tag := "even"
		if i%2 == 1 {
			tag = "odd"
		}
		if r := e.api("POST", "/journal_sets", e.set("2026-07-14", tag, [2]string{"671", "1.00"}, [2]string{"001", "-1.00"})); r.status != http.StatusCreated {
			t.Fatal(r.body)
		}
	}
	r := e.api("GET", "/journal_sets?tag=odd", "")
	if r.status != http.StatusOK || strings.Count(r.body, `"tag":"odd"`) != 2 || strings.Contains(r.body, `"even"`) {
		t.Fatalf("tag filter: %s", r.body)
	}
	r = e.api("GET", "/journal_sets?per_page=2&page=2", "")
	self := e.srv.URL + "/v2/journal_sets"
	wantLink := `<` + self + `?page=1&per_page=2>; rel="prev", <` + self + `?page=3&per_page=2>; rel="next", <` +
		self + `?page=1&per_page=2>; rel="first", <` + self + `?page=3&per_page=2>; rel="last"`
	if got := r.header.Get("Link"); got != wantLink {
		t.Fatalf("Link\n got %s\nwant %s", got, wantLink)
	}
	if strings.Count(r.body, `"dated_on"`) != 2 || !strings.Contains(r.body, "/journal_sets/3\"") {
		t.Fatalf("page 2: %s", r.body)
	}
	// per_page is capped at 100 (apis.md §5.7); the default is 25.
	if r := e.api("GET", "/journal_sets?per_page=500", ""); !strings.Contains(r.header.Get("Link"), "per_page=100") {
		t.Fatalf("per_page cap: %s", r.header.Get("Link"))
	}
	if r := e.api("GET", "/journal_sets", ""); !strings.Contains(r.header.Get("Link"), "per_page=25") {
		t.Fatalf("per_page default: %s", r.header.Get("Link"))
	}

	off := newEnv(t, sandbox.WithTagFilter(false)).login()
	off.api("POST", "/journal_sets", off.set("2026-07-14", "a", [2]string{"671", "1.00"}, [2]string{"001", "-1.00"}))
	if r := off.api("GET", "/journal_sets?tag=b", ""); !strings.Contains(r.body, `"tag":"a"`) {
		t.Fatalf("with the [UNVERIFIED] filter off, tag must be ignored: %s", r.body)
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t).login()
	e.clock.Advance(30 * time.Second) // 09:00:30
	for i := range 120 {
		if r := e.api("GET", "/company", ""); r.status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := e.api("GET", "/company", "")
	want(t, r, http.StatusTooManyRequests, `{"errors":{"error":{"message":"You must not exceed 120 requests per 60 seconds"}}}`)
	if r.header.Get("Retry-After") != "" {
		t.Fatal("Retry-After sent although the reference names none")
	}
	// Fixed windows: the top of the next minute resets the count.
	e.clock.Set(start.Add(time.Minute))
	if r := e.api("GET", "/company", ""); r.status != http.StatusOK {
		t.Fatalf("next minute: %d", r.status)
	}

	// The hour limit, and Retry-After when switched on.
	h := newEnv(t, sandbox.WithLimits(sandbox.Limits{PerHour: 3}), sandbox.WithRetryAfter(true)).login()
	h.clock.Advance(20 * time.Minute)
	for range 3 {
		h.api("GET", "/company", "")
	}
	r = h.api("GET", "/company", "")
	want(t, r, http.StatusTooManyRequests, `{"errors":{"error":{"message":"You must not exceed 3 requests per 3600 seconds"}}}`)
	if got := r.header.Get("Retry-After"); got != "2400" {
		t.Fatalf("Retry-After = %q, want 2400 (to the top of the hour)", got)
	}

	// X-RateLimit-Test lowers the minute limit to 5 (apis.md §5.6).
	x := newEnv(t).login()
	for range 5 {
		x.api("GET", "/company", "", "X-RateLimit-Test", "true")
	}
	want(t, x.api("GET", "/company", "", "X-RateLimit-Test", "true"), http.StatusTooManyRequests,
		`{"errors":{"error":{"message":"You must not exceed 5 requests per 60 seconds"}}}`)

	// ExhaustRateLimit spends the minute.
	y := newEnv(t).login()
	if err := y.sb.ExhaustRateLimit(sandbox.DefaultSubdomain); err != nil {
		t.Fatal(err)
	}
	if r := y.api("GET", "/company", ""); r.status != http.StatusTooManyRequests {
		t.Fatalf("after ExhaustRateLimit: %d", r.status)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t, sandbox.WithLimits(sandbox.Limits{Concurrent: 1})).login()
	arrived, release := e.sb.Stall()
	done := make(chan result, 1)
	go func() { done <- e.api("GET", "/company", "") }()
	<-arrived
	want(t, e.api("GET", "/company", ""), http.StatusTooManyRequests, `{"errors":{"error":{"message":"You must not exceed 1 concurrent requests"}}}`)
	release()
	if r := <-done; r.status != http.StatusOK {
		t.Fatalf("held call: %d", r.status)
	}
}

func TestUserAgentRequired(t *testing.T) {
	e := newEnv(t).login()
	want(t, e.api("GET", "/company", "", "User-Agent", ""), http.StatusBadRequest, `{"errors":{"error":{"message":"A User-Agent header is required"}}}`)
	off := newEnv(t, sandbox.WithUserAgentRequired(false)).login()
	if r := off.api("GET", "/company", "", "User-Agent", ""); r.status != http.StatusOK {
		t.Fatalf("with the check off: %d", r.status)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t).login()
	body := e.set("2026-07-14", "f", [2]string{"671", "1.00"}, [2]string{"001", "-1.00"})

	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/journal_sets", Status: http.StatusServiceUnavailable})
	if r := e.api("POST", "/journal_sets", body); r.status != http.StatusServiceUnavailable {
		t.Fatalf("injected 503: %d", r.status)
	}
	if n := len(e.sb.JournalSets(sandbox.DefaultSubdomain)); n != 0 {
		t.Fatalf("a 5xx committed %d sets", n)
	}

	// Dropped after commit: the client sees a broken connection, the set exists.
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/journal_sets", DropResponse: true})
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+"/v2/journal_sets", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	req.Header.Set("User-Agent", "t")
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped response answered %d", resp.StatusCode)
	}
	if n := len(e.sb.JournalSets(sandbox.DefaultSubdomain)); n != 1 {
		t.Fatalf("%d sets after a dropped response, want 1", n)
	}

	// Expired tokens.
	e.sb.ExpireAccessTokens()
	if r := e.api("GET", "/company", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("after ExpireAccessTokens: %d", r.status)
	}

	// A slow answer the client gives up on commits nothing.
	f := newEnv(t).login()
	arrived, release := f.sb.Stall()
	defer release()
	ctx, cancel := context.WithCancel(f.ctx)
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/v2/journal_sets", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
		req.Header.Set("User-Agent", "t")
		resp, err := f.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled slow call: %v", err)
	}
	release()
	if n := len(f.sb.JournalSets(sandbox.DefaultSubdomain)); n != 0 {
		t.Fatalf("an abandoned slow call committed %d sets", n)
	}
}

func TestMessagesAreConfigurable(t *testing.T) {
	e := newEnv(t, sandbox.WithMessages(sandbox.Messages{LockedPeriod: "Dated on is locked"})).login()
	if err := e.sb.LockPeriodThrough(sandbox.DefaultSubdomain, "2026-06-30"); err != nil {
		t.Fatal(err)
	}
	want(t, e.api("POST", "/journal_sets", e.set("2026-06-01", "m", [2]string{"671", "1.00"}, [2]string{"001", "-1.00"})),
		422, `{"errors":[{"message":"Dated on is locked"}]}`)
	// Unchanged fields keep their defaults.
	want(t, e.api("GET", "/nope", ""), 404, `{"errors":{"error":{"message":"Resource not found"}}}`)
}

func TestStartServesAlone(t *testing.T) {
	sb := sandbox.New(sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}))
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	cfg := &oauth2.Config{ClientID: clientID, RedirectURL: redirectURI, Endpoint: oauth2.Endpoint{AuthURL: base + sandbox.ApprovePath}}
	loc, err := sandbox.Approve(t.Context(), http.DefaultClient, cfg.AuthCodeURL("x"), "")
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("approve against Start's server: %v %v", loc, err)
	}
}

// An invoice names its currency (apis.md §5.7); one the company does not
// invoice in is refused in the 422 list form of apis.md §5.5, beside the
// reference's own "Contact is required" and "Dated on can't be blank".
func TestInvoiceCurrencyNotEnabled(t *testing.T) {
	e := newEnv(t).login()
	invoice := func(currency, contact string) string {
		return `{"invoice":{"contact":"` + contact + `","dated_on":"2026-07-14","reference":"CS-1","currency":"` + currency + `",` +
			`"invoice_items":[{"item_type":"Products","description":"Sales","quantity":"1.0","price":"10.00","category":"` + e.cat("001") + `"}]}}`
	}
	provider := e.srv.URL + "/v2/contacts/1"
	want(t, e.api("POST", "/invoices", invoice("JPY", provider)), 422, `{"errors":[{"message":"Currency JPY is not enabled for this company"}]}`)
	want(t, e.api("POST", "/invoices", invoice("EUR", e.srv.URL+"/v2/contacts/99")), 404, `{"errors":{"error":{"message":"Resource not found"}}}`)
	want(t, e.api("POST", "/invoices", `{"invoice":{"invoice_items":[]}}`), 422,
		`{"errors":[{"message":"Contact is required"},{"message":"Dated on can't be blank"},{"message":"Invoice items can't be blank"}]}`)
	if r := e.api("POST", "/invoices", invoice("EUR", provider)); r.status != http.StatusCreated || !strings.Contains(r.body, `"status":"Draft"`) {
		t.Fatalf("EUR invoice: %d %s", r.status, r.body)
	}
	if got := e.sb.Invoices(sandbox.DefaultSubdomain); len(got) != 1 || got[0].Currency != "EUR" || got[0].NetValue.String() != "10" {
		t.Fatalf("stored invoices %+v", got)
	}
}

// Contacts are referenced by URL (apis.md §5.2) and listed with FreeAgent's
// paging (apis.md §5.7); an unknown one is the nested 404 (apis.md §5.5).
func TestContacts(t *testing.T) {
	e := newEnv(t).login()
	v2 := e.srv.URL + "/v2"
	self := v2 + "/contacts"
	r := e.api("GET", "/contacts", "")
	want(t, r, http.StatusOK, `{"contacts":[{"url":"`+v2+`/contacts/1","organisation_name":"Commerce provider"},`+
		`{"url":"`+v2+`/contacts/2","first_name":"Alex","last_name":"Morgan"}]}`)
	if got, wantLink := r.header.Get("Link"), `<`+self+`?page=1&per_page=25>; rel="first", <`+self+`?page=1&per_page=25>; rel="last"`; got != wantLink {
		t.Fatalf("Link of one page\n got %s\nwant %s", got, wantLink)
	}

	r = e.api("GET", "/contacts?page=2&per_page=1", "")
	want(t, r, http.StatusOK, `{"contacts":[{"url":"`+v2+`/contacts/2","first_name":"Alex","last_name":"Morgan"}]}`)
	wantLink := `<` + self + `?page=1&per_page=1>; rel="prev", <` + self + `?page=1&per_page=1>; rel="first", <` + self + `?page=2&per_page=1>; rel="last"`
	if got := r.header.Get("Link"); got != wantLink {
		t.Fatalf("Link of the last page\n got %s\nwant %s", got, wantLink)
	}
	r = e.api("GET", "/contacts?per_page=1", "")
	if got := r.header.Get("Link"); !strings.Contains(got, `<`+self+`?page=2&per_page=1>; rel="next"`) {
		t.Fatalf("Link of the first page: %s", got)
	}
	want(t, e.api("GET", "/contacts?page=3&per_page=1", ""), http.StatusOK, `{"contacts":[]}`)
	want(t, e.api("GET", "/contacts?page=0", ""), http.StatusBadRequest, `{"errors":{"error":{"message":"page and per_page must be positive integers"}}}`)

	want(t, e.api("GET", "/contacts/1", ""), http.StatusOK, `{"contact":{"url":"`+v2+`/contacts/1","organisation_name":"Commerce provider"}}`)
	notFound := `{"errors":{"error":{"message":"Resource not found"}}}`
	want(t, e.api("GET", "/contacts/99", ""), http.StatusNotFound, notFound)
	want(t, e.api("GET", "/contacts/x", ""), http.StatusNotFound, notFound)
	want(t, e.api("POST", "/contacts", `{}`), http.StatusNotFound, notFound)

	// Seeds are the company's, so they can be replaced.
	seeded := newEnv(t, sandbox.WithCompany(sandbox.Company{Subdomain: sandbox.DefaultSubdomain,
		Contacts: []sandbox.Contact{{ID: 7, Organisation: "Acme Payments", FirstName: "Pat", LastName: "Lee"}}})).login()
	want(t, seeded.api("GET", "/contacts", ""), http.StatusOK,
		`{"contacts":[{"url":"`+seeded.srv.URL+`/v2/contacts/7","organisation_name":"Acme Payments","first_name":"Pat","last_name":"Lee"}]}`)
}

// Projects (apis.md §5.3) are listed whatever their status, with
// FreeAgent's paging (apis.md §5.7); an unknown one is the nested 404.
func TestProjects(t *testing.T) {
	e := newEnv(t).login()
	v2 := e.srv.URL + "/v2"
	self := v2 + "/projects"
	active := `{"url":"` + v2 + `/projects/1","name":"Private Dining Events","contact":"` + v2 + `/contacts/2","status":"Active","currency":"GBP"}`
	completed := `{"url":"` + v2 + `/projects/2","name":"Summer Festival Stall 2025","contact":"` + v2 + `/contacts/2","status":"Completed","currency":"GBP"}`
	want(t, e.api("GET", "/projects", ""), http.StatusOK, `{"projects":[`+active+`,`+completed+`]}`)

	r := e.api("GET", "/projects?per_page=1", "")
	want(t, r, http.StatusOK, `{"projects":[`+active+`]}`)
	wantLink := `<` + self + `?page=2&per_page=1>; rel="next", <` + self + `?page=1&per_page=1>; rel="first", <` + self + `?page=2&per_page=1>; rel="last"`
	if got := r.header.Get("Link"); got != wantLink {
		t.Fatalf("Link\n got %s\nwant %s", got, wantLink)
	}
	// The next link keeps the query it came with.
	r = e.api("GET", "/projects?per_page=1&page=2&view=all", "")
	want(t, r, http.StatusOK, `{"projects":[`+completed+`]}`)
	if got := r.header.Get("Link"); !strings.HasPrefix(got, `<`+self+`?page=1&per_page=1&view=all>; rel="prev"`) {
		t.Fatalf("Link keeps the query: %s", got)
	}

	want(t, e.api("GET", "/projects/2", ""), http.StatusOK, `{"project":`+completed+`}`)
	want(t, e.api("GET", "/projects/3", ""), http.StatusNotFound, `{"errors":{"error":{"message":"Resource not found"}}}`)

	// Defaults: the first contact, Active, the company's currency.
	if err := e.sb.UpdateCompany(sandbox.DefaultSubdomain, func(c *sandbox.Company) {
		c.Currency = "EUR"
		c.Projects = []sandbox.Project{{Name: "Terrace"}, {ID: 9, Name: "Old fit-out", Status: sandbox.ProjectHidden, Currency: "GBP"}}
	}); err != nil {
		t.Fatal(err)
	}
	want(t, e.api("GET", "/projects", ""), http.StatusOK, `{"projects":[`+
		`{"url":"`+v2+`/projects/1","name":"Terrace","contact":"`+v2+`/contacts/1","status":"Active","currency":"EUR"},`+
		`{"url":"`+v2+`/projects/9","name":"Old fit-out","contact":"`+v2+`/contacts/1","status":"Hidden","currency":"GBP"}]}`)
}
