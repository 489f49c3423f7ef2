package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
)

const (
	clientID     = "app"
	clientSecret = "secret"
	redirectURI  = "https://app.test/callback"
	state        = "state-0123456789abcdefghij"
	acct         = sandbox.DefaultAccountID
	p            = "Error while accessing a resource. "
)

var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *sandbox.Clock
	sb    *sandbox.Server
	srv   *httptest.Server
	base  string
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
	e.base = sandbox.AccountBase(e.srv.URL, acct)
	e.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg = &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: []string{"rest_webservices"},
		Endpoint: oauth2.Endpoint{AuthURL: e.base + sandbox.AuthorizePath, TokenURL: e.base + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
	}
	return e
}

func (e *env) code(role string) string {
	e.t.Helper()
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL(state), role)
	if err != nil {
		e.t.Fatal(err)
	}
	if loc.Query().Get("error") != "" {
		e.t.Fatalf("consent error: %s", loc)
	}
	return loc.Query().Get("code")
}

func (e *env) login(role string) *env {
	e.t.Helper()
	tok, err := e.cfg.Exchange(e.ctx, e.code(role))
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

// api calls the REST API below /services/rest with the env's token.
func (e *env) api(method, path, body string, hdr ...string) result {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return e.raw(method, e.base+sandbox.RESTPath+path, body, h)
}

func (e *env) raw(method, u, body string, h http.Header) result {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, u, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

func (e *env) query(q string, params ...string) result {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"q": q})
	path := "/query/v1/suiteql"
	if len(params) > 0 {
		path += "?" + params[0]
	}
	return e.api("POST", path, string(b), "Prefer", "transient")
}

// userError is the exact 400 envelope of §4.5.
func userError(code, detail, path string) string {
	b, _ := json.Marshal(map[string]any{"detail": detail, "o:errorCode": code, "o:errorPath": path})
	if path == "" {
		b, _ = json.Marshal(map[string]any{"detail": detail, "o:errorCode": code})
	}
	// json.Marshal sorts map keys, which is the envelope's order here.
	return `{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1","title":"Bad Request","status":400,"o:errorDetails":[` + string(b) + `]}`
}

func expect(t *testing.T, r result, status int, body string) {
	t.Helper()
	if r.status != status || string(r.body) != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// The reference's journal entry example (§4.2), verbatim.
const referenceExample = `{ "externalId": "shop123-DS-20240314",
  "subsidiary": { "id": "1" }, "currency": { "id": "1" }, "exchangeRate": 1.0,
  "tranDate": "2024-03-14", "memo": "Daily sales summary",
  "line": { "items": [
    { "account": { "id": "58" }, "debit": 1150.00, "memo": "Clearing", "department": { "id": "5" }, "class": { "id": "3" }, "location": { "id": "2" } },
    { "account": { "id": "4" },  "credit": 1000.00, "memo": "Sales" },
    { "account": { "id": "61" }, "credit": 150.00,  "memo": "Sales tax" } ] } }`

func journalBody(date, currency string, lines ...string) string {
	return `{"subsidiary":{"id":"1"},"currency":{"id":"` + currency + `"},"tranDate":"` + date + `","line":{"items":[` + strings.Join(lines, ",") + `]}}`
}

func TestAuthorizeValidation(t *testing.T) {
	e := newEnv(t)
	noFollow := *e.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noFollow.Get(e.base + sandbox.AuthorizePath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	good := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI}, "scope": {"rest_webservices"}, "state": {state}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vs := range good {
			q[kk] = vs
		}
		q.Set(k, v)
		return q
	}
	if r := get(good); r.StatusCode != 200 {
		t.Fatalf("consent page: %d", r.StatusCode)
	}
	// Never redirect to an unknown client's or an unregistered URI.
	for _, q := range []url.Values{with("client_id", "nobody"), with("redirect_uri", "https://evil.test/cb")} {
		if r := get(q); r.StatusCode != 400 || r.Header.Get("Location") != "" {
			t.Fatalf("%v: %d %s", q, r.StatusCode, r.Header.Get("Location"))
		}
	}
	for _, c := range []struct {
		q    url.Values
		want string
	}{
		{with("state", strings.Repeat("s", 23)), "invalid_request"}, // §4.1: 24–1024
		{with("state", strings.Repeat("s", 1025)), "invalid_request"},
		{with("scope", "full_access"), "invalid_scope"},
		{with("response_type", "token"), "unsupported_response_type"},
	} {
		r := get(c.q)
		loc, _ := url.Parse(r.Header.Get("Location"))
		if r.StatusCode != 302 || loc.Query().Get("error") != c.want {
			t.Fatalf("%v: %d %s, want error=%s", c.q, r.StatusCode, loc, c.want)
		}
	}
	if r := get(with("state", strings.Repeat("s", 24))); r.StatusCode != 200 {
		t.Fatalf("24-character state: %d", r.StatusCode)
	}
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	code := e.code("")
	post := func(form url.Values, basic bool) result {
		t.Helper()
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if basic {
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret)))
		}
		return e.raw("POST", e.base+sandbox.TokenPath, form.Encode(), h)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	// §4.1: the client authenticates with HTTP Basic.
	withSecret := url.Values{"client_id": {clientID}, "client_secret": {clientSecret}}
	for k, v := range form {
		withSecret[k] = v
	}
	expect(t, post(withSecret, false), 401, `{"error":"invalid_client"}`)
	r := post(form, true)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    string `json:"expires_in"`
		TokenType    string `json:"token_type"`
	}
	if err := json.Unmarshal(r.body, &tok); r.status != 200 || err != nil || tok.ExpiresIn != "3600" || tok.TokenType != "Bearer" || tok.RefreshToken == "" {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	// A JWT: sub "role;entity", aud "app id;company", scope (§4.1).
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %s", tok.AccessToken)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Sub   string   `json:"sub"`
		Aud   string   `json:"aud"`
		Scope []string `json:"scope"`
		Exp   int64    `json:"exp"`
	}
	if err := json.Unmarshal(claims, &c); err != nil || c.Sub != sandbox.RoleIntegration+";-5" || c.Aud != clientID+";"+acct ||
		len(c.Scope) != 1 || c.Scope[0] != "rest_webservices" || c.Exp != start.Add(time.Hour).Unix() {
		t.Fatalf("claims %s", claims)
	}
	// Codes are single use.
	expect(t, post(form, true), 400, `{"error":"invalid_grant"}`)
	// Codes expire (10 minutes, not in the reference).
	late := url.Values{"grant_type": {"authorization_code"}, "code": {e.code("")}, "redirect_uri": {redirectURI}}
	e.clock.Advance(10 * time.Minute)
	expect(t, post(late, true), 400, `{"error":"invalid_grant"}`)

	// The access token lives 60 minutes (§4.1).
	e.tok = &oauth2.Token{AccessToken: tok.AccessToken}
	e.clock.Advance(49*time.Minute + 59*time.Second)
	if r := e.query("SELECT id FROM subsidiary"); r.status != 200 {
		t.Fatalf("at 59:59: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Second)
	if r := e.query("SELECT id FROM subsidiary"); r.status != 401 {
		t.Fatalf("at 60:00: %d", r.status)
	}
	// The refresh token lives 7 days from the grant and is not rotated by
	// default: each refresh answers no new refresh token.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	r = post(refresh, true)
	if r.status != 200 || strings.Contains(string(r.body), "refresh_token") {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	e.clock.Advance(7*24*time.Hour - time.Hour - time.Second) // an hour has passed since the grant
	if r := post(refresh, true); r.status != 200 {
		t.Fatalf("refresh one second before 7 days: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Second)
	expect(t, post(refresh, true), 400, `{"error":"invalid_grant"}`)
	expect(t, post(url.Values{"grant_type": {"client_credentials"}}, true), 400, `{"error":"unsupported_grant_type"}`)
}

func TestRotatedRefreshTokensKeepTheGrantsEnd(t *testing.T) {
	e := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.RotateRefreshTokens = true })).login("")
	first := e.tok.RefreshToken
	e.clock.Advance(6 * 24 * time.Hour)
	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: first}).Token()
	if err != nil || next.RefreshToken == first {
		t.Fatalf("rotation: %v %v", next, err)
	}
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: first}).Token(); err == nil {
		t.Fatal("the retired refresh token still works")
	}
	e.clock.Advance(24 * time.Hour)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
		t.Fatal("a rotated refresh token outlived the grant's 7 days")
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t).login("")
	want := `{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2","title":"Unauthorized","status":401,"o:errorDetails":[{"detail":` +
		`"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup \u003e Users/Roles \u003e User Management \u003e View Login Audit Trail.",` +
		`"o:errorCode":"INVALID_LOGIN"}]}`
	for _, tok := range []string{"", "not-a-token"} {
		r := e.raw("GET", e.base+sandbox.RecordPath+"/account/1", "", http.Header{"Authorization": {"Bearer " + tok}})
		expect(t, r, 401, want)
		if r.header.Get("Www-Authenticate") != `OAuth realm="1234567_SB1", error="token_rejected", error_description="Invalid login attempt."` {
			t.Fatalf("www-authenticate %q", r.header.Get("Www-Authenticate"))
		}
	}
	// A token is bound to its account.
	other := sandbox.DefaultCompany()
	other.AccountID = "7654321"
	e2 := newEnv(t, sandbox.WithCompany(sandbox.DefaultCompany()), sandbox.WithCompany(other)).login("")
	r := e2.raw("GET", sandbox.AccountBase(e2.srv.URL, "7654321")+sandbox.RecordPath+"/account/1", "", http.Header{"Authorization": {"Bearer " + e2.tok.AccessToken}})
	expect(t, r, 401, want)
	e.sb.ExpireAccessTokens()
	expect(t, e.api("GET", "/record/v1/account/1", ""), 401, want)
}

func TestSuiteQL(t *testing.T) {
	e := newEnv(t).login("")
	r := e.query("SELECT id, acctnumber, accttype, isinactive, currency FROM account WHERE accttype = 'Bank' ORDER BY id")
	expect(t, r, 200, `{"links":[{"rel":"first","href":"`+e.base+`/services/rest/query/v1/suiteql?limit=1000\u0026offset=0"},`+
		`{"rel":"last","href":"`+e.base+`/services/rest/query/v1/suiteql?limit=1000\u0026offset=0"},`+
		`{"rel":"self","href":"`+e.base+`/services/rest/query/v1/suiteql?limit=1000\u0026offset=0"}],`+
		`"count":1,"hasMore":false,"items":[{"links":[],"id":"1","acctnumber":"1000","accttype":"Bank","isinactive":"F","currency":"1"}],"offset":0,"totalResults":1}`)

	// Paging (§4.7) and ORDER BY on numeric ids; null columns are left out.
	r = e.query("SELECT id, currency FROM account ORDER BY id DESC", "limit=5&offset=5")
	var page struct {
		Links                       []struct{ Rel, Href string }
		Count, Offset, TotalResults int
		HasMore                     bool
		Items                       []map[string]any
	}
	if err := json.Unmarshal(r.body, &page); err != nil || page.Count != 5 || page.Offset != 5 || page.TotalResults != 17 || !page.HasMore {
		t.Fatalf("page: %d %s", r.status, r.body)
	}
	// Descending numerically: 63 … 58, then 11, 10, ….
	if page.Items[0]["id"] != "58" || page.Items[1]["id"] != "11" || page.Items[4]["id"] != "8" || page.Items[0]["currency"] != nil {
		t.Fatalf("order: %v", page.Items)
	}
	next := ""
	for _, l := range page.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	if !strings.HasSuffix(next, "limit=5&offset=10") {
		t.Fatalf("next link %q", next)
	}

	// Dates: raw in the user's format, ISO through TO_CHAR.
	r = e.query("SELECT startdate, TO_CHAR(enddate, 'YYYY-MM-DD') AS enddate FROM accountingperiod WHERE periodname = 'Feb 2026'")
	if !strings.Contains(string(r.body), `"items":[{"links":[],"startdate":"2/1/2026","enddate":"2026-02-28"}]`) {
		t.Fatalf("dates: %s", r.body)
	}
	r = e.query("SELECT * FROM currency WHERE symbol = 'CAD'")
	if !strings.Contains(string(r.body), `{"links":[],"id":"3","symbol":"CAD","name":"Canadian Dollar","currencyprecision":"2","isinactive":"T","isbasecurrency":"F"}`) {
		t.Fatalf("star: %s", r.body)
	}

	expect(t, e.query("SELECT colour FROM account"), 400, userError("INVALID_PARAMETER", "Invalid search query. Field 'colour' for record 'account' was not found.", ""))
	expect(t, e.query("DELETE FROM account"), 400, userError("INVALID_PARAMETER", "Invalid search query. the query must start with SELECT", ""))
	expect(t, e.query("SELECT id FROM account", "limit=1001"), 400, userError("INVALID_PARAMETER", "Invalid value for the query parameter limit: 1001. The limit must be between 1 and 1000.", ""))
	b, _ := json.Marshal(map[string]string{"q": "SELECT id FROM account"})
	expect(t, e.api("POST", "/query/v1/suiteql", string(b)), 400, userError("INVALID_PARAMETER", "SuiteQL queries need the header Prefer: transient.", ""))
}

func TestReferenceExampleCreateReadAndDuplicate(t *testing.T) {
	e := newEnv(t).login("")
	r := e.api("POST", "/record/v1/journalentry", referenceExample)
	if r.status != 204 || r.header.Get("Location") != e.base+sandbox.RecordPath+"/journalentry/1001" || len(r.body) != 0 {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	// §4.4: a taken externalId is refused on POST, in these words.
	expect(t, e.api("POST", "/record/v1/journalentry", referenceExample), 400, userError("USER_ERROR", p+"This entity already exists.", ""))
	// External ids compare without case (Rules.ExternalIDCaseSensitive).
	expect(t, e.api("POST", "/record/v1/journalentry", strings.Replace(referenceExample, "shop123-DS", "SHOP123-ds", 1)), 400, userError("USER_ERROR", p+"This entity already exists.", ""))

	r = e.api("GET", "/record/v1/journalentry/eid:shop123-DS-20240314?expandSubResources=true", "")
	var j struct {
		ID, ExternalID, TranDate, Memo string
		ExchangeRate                   json.Number
		Subsidiary, Currency           struct{ ID, RefName string }
		PostingPeriod                  struct{ ID, RefName string }
		Line                           struct {
			Items []struct {
				Account                struct{ ID string }
				Debit, Credit          json.Number
				Department, Class, Loc *struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.body, &j); r.status != 200 || err != nil {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if j.ID != "1001" || j.ExternalID != "shop123-DS-20240314" || j.TranDate != "2024-03-14" || j.ExchangeRate != "1.0" || j.Subsidiary.ID != "1" ||
		j.Currency.RefName != "US Dollar" || j.PostingPeriod.RefName != "Mar 2024" || len(j.Line.Items) != 3 ||
		j.Line.Items[0].Debit != "1150.00" || j.Line.Items[2].Credit != "150.00" || j.Line.Items[0].Department.ID != "5" || j.Line.Items[0].Class.ID != "3" {
		t.Fatalf("read back: %s", r.body)
	}
	if r := e.api("GET", "/record/v1/journalentry/1001", ""); r.status != 200 || !strings.Contains(string(r.body), `"line":{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/journalentry/1001/line"}]}`) {
		t.Fatalf("get by id: %s", r.body)
	}
	if r := e.api("GET", "/record/v1/journalentry/1001/line", ""); r.status != 200 || !strings.Contains(string(r.body), `"totalResults":3`) {
		t.Fatalf("lines: %s", r.body)
	}
	expect(t, e.api("GET", "/record/v1/journalentry/eid:nope", ""), 404,
		`{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5","title":"Not Found","status":404,"o:errorDetails":[{"detail":"The record instance does not exist. Provide a valid record instance ID.","o:errorCode":"NONEXISTENT_ID"}]}`)
	js := e.sb.Journals(acct)
	if len(js) != 1 || js[0].Lines[0].Department != "5" || js[0].Lines[0].Location != "2" {
		t.Fatalf("stored %+v", js)
	}
}

func TestUpsert(t *testing.T) {
	e := newEnv(t).login("")
	lines := []string{`{"account":{"id":"58"},"debit":10.00}`, `{"account":{"id":"4"},"credit":10.00}`}
	body := journalBody("2026-07-14", "1", lines...)
	for i := range 2 {
		r := e.api("PUT", "/record/v1/journalentry/eid:DOC-1?replace=line", body)
		if r.status != 204 || !strings.HasSuffix(r.header.Get("Location"), "/journalentry/1001") {
			t.Fatalf("upsert %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	if js := e.sb.Journals(acct); len(js) != 1 || len(js[0].Lines) != 2 || js[0].Updates != 1 {
		t.Fatalf("after two upserts with replace=line: %+v", js)
	}
	// Without ?replace=line an update appends the lines (non-keyed sublist).
	if r := e.api("PUT", "/record/v1/journalentry/eid:DOC-1", body); r.status != 204 {
		t.Fatalf("upsert without replace: %d %s", r.status, r.body)
	}
	if js := e.sb.Journals(acct); len(js) != 1 || len(js[0].Lines) != 4 {
		t.Fatalf("lines after an appending upsert: %d", len(js[0].Lines))
	}
	// An update is validated like a create, against the new and the old period.
	e.sb.LockPeriodsThrough(acct, "2026-07-01")
	expect(t, e.api("PUT", "/record/v1/journalentry/eid:DOC-1?replace=line", journalBody("2026-08-03", "1", lines...)), 400,
		userError("USER_ERROR", p+"The accounting period Jul 2026 for the transaction date 2026-08-03 is locked.", "tranDate"))
	expect(t, e.api("PUT", "/record/v1/journalentry/eid:bad%20id", body), 400,
		userError("USER_ERROR", p+"You have entered an Invalid Field Value bad id for the following field: externalId.", "externalId"))
	expect(t, e.api("PUT", "/record/v1/journalentry/1001", body), 400,
		userError("INVALID_PARAMETER", "The upsert operation requires an external ID in the request URL (eid:…).", ""))
}

func TestJournalValidation(t *testing.T) {
	card10 := `{"account":{"id":"58"},"debit":10.00}`
	sales10 := `{"account":{"id":"4"},"credit":10.00}`
	cases := []struct {
		name   string
		body   string
		hdr    []string
		status int
		want   string
	}{
		{"not JSON", `{"subsidiary":`, nil, 400, userError("INVALID_CONTENT", p+"Invalid content in the request body: unexpected EOF", "")},
		{"no subsidiary", `{"tranDate":"2026-07-14","line":{"items":[` + card10 + `,` + sales10 + `]}}`, nil, 400,
			userError("USER_ERROR", p+"You must enter a value for subsidiary.", "subsidiary")},
		{"unknown subsidiary", strings.Replace(journalBody("2026-07-14", "1", card10, sales10), `"subsidiary":{"id":"1"}`, `"subsidiary":{"id":"9"}`, 1), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 9 for the following field: subsidiary.", "subsidiary")},
		{"inactive currency", journalBody("2026-07-14", "3", card10, sales10), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 3 for the following field: currency.", "currency")},
		{"bad date", journalBody("14/07/2026", "1", card10, sales10), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 14/07/2026 for the following field: tranDate.", "tranDate")},
		{"no period", journalBody("2035-01-02", "1", card10, sales10), nil, 400,
			userError("USER_ERROR", p+"No open accounting period covers the transaction date 2035-01-02.", "tranDate")},
		{"no lines", journalBody("2026-07-14", "1"), nil, 400,
			userError("USER_ERROR", p+"You must enter at least one line item for this transaction.", "line")},
		{"unknown account", journalBody("2026-07-14", "1", `{"account":{"id":"999"},"debit":10.00}`, sales10), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 999 for the following field: account.", "line.items[0].account")},
		{"bank account in another currency", journalBody("2026-07-14", "4", `{"account":{"id":"1"},"debit":10.00}`, sales10), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 1 for the following field: account.", "line.items[0].account")},
		{"receivable without a customer", journalBody("2026-07-14", "1", card10, `{"account":{"id":"2"},"credit":10.00}`), nil, 400,
			userError("USER_ERROR", p+"You must enter a customer or vendor (entity) on lines that post to 1100 Accounts Receivable: line.items[1].entity.", "line.items[1].entity")},
		{"receivable with a customer", journalBody("2026-07-14", "1", card10, `{"account":{"id":"2"},"credit":10.00,"entity":{"id":"220"}}`), nil, 204, ""},
		{"debit and credit", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00,"credit":1}`, sales10), nil, 400,
			userError("USER_ERROR", p+"Enter either a debit or a credit amount of zero or more on each line: line.items[0].", "line.items[0].debit")},
		{"negative debit", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":-10.00}`, sales10), nil, 400,
			userError("USER_ERROR", p+"Enter either a debit or a credit amount of zero or more on each line: line.items[0].debit.", "line.items[0].debit")},
		{"amount as a string", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":"10.00"}`, sales10), nil, 400,
			userError("USER_ERROR", p+`You have entered an Invalid Field Value "10.00" for the following field: debit.`, "line.items[0].debit")},
		{"three decimals", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.001}`, `{"account":{"id":"4"},"credit":10.001}`), nil, 400,
			userError("USER_ERROR", p+"The amount 10.001 for the following field: debit has more than 2 decimal places.", "line.items[0].debit")},
		{"yen decimals", journalBody("2026-07-14", "5", `{"account":{"id":"58"},"debit":10.5}`, `{"account":{"id":"4"},"credit":10.5}`), nil, 400,
			userError("USER_ERROR", p+"The amount 10.5 for the following field: debit has more than 0 decimal places.", "line.items[0].debit")},
		{"yen whole", journalBody("2026-07-14", "5", `{"account":{"id":"58"},"debit":1000}`, `{"account":{"id":"4"},"credit":1000}`), nil, 204, ""},
		{"trailing zeros are fine", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.000}`, sales10), nil, 204, ""},
		{"unbalanced", journalBody("2026-07-14", "1", card10, `{"account":{"id":"4"},"credit":9.99}`), nil, 400,
			userError("USER_ERROR", p+"The transaction is out of balance: total debits 10.00 must equal total credits 9.99.", "line")},
		{"tax field", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00,"taxCode":{"id":"7"}}`, sales10), nil, 400,
			userError("USER_ERROR", p+"Tax-related fields are not supported in REST: line.items[0].taxCode.", "line.items[0].taxCode")},
		{"unknown property, strict", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00,"colour":"red"}`, sales10),
			[]string{"X-NetSuite-PropertyNameValidation", "Error"}, 400,
			userError("INVALID_CONTENT", p+"Invalid content in the request body: unknown property line.items[0].colour.", "line.items[0].colour")},
		{"unknown property, lenient", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00,"colour":"red"}`, sales10), nil, 204, ""},
		{"unknown department", journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00,"department":{"id":"6"}}`, sales10), nil, 400,
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 6 for the following field: department.", "line.items[0].department")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t).login("")
			r := e.api("POST", "/record/v1/journalentry", c.body, c.hdr...)
			expect(t, r, c.status, c.want)
			if n := len(e.sb.Journals(acct)); (c.status == 204) != (n == 1) {
				t.Fatalf("%d journals stored after %d", n, c.status)
			}
		})
	}
}

// TestLineSegments: a line's department, class and location (§4.2) must
// name an active record of a feature the account has on; what a line
// carried is stored and read back.
func TestLineSegments(t *testing.T) {
	sales := `{"account":{"id":"4"},"credit":10.00}`
	tagged := func(segs string) string { return `{"account":{"id":"58"},"debit":10.00,` + segs + `}` }
	all := `"department":{"id":"5"},"class":{"id":"8"},"location":{"id":"2"}`
	classOff := withInactives()
	classOff.Disabled = []string{"classification"}

	e := newEnv(t, sandbox.WithCompany(withInactives())).login("")
	expect(t, e.api("POST", "/record/v1/journalentry", journalBody("2026-07-14", "1", tagged(all), `{"account":{"id":"4"},"credit":10.00,`+all+`}`)), 204, "")
	js := e.sb.Journals(acct)
	if len(js) != 1 || len(js[0].Lines) != 2 {
		t.Fatalf("stored %+v", js)
	}
	for i, l := range js[0].Lines {
		if l.Department != sandbox.DepartmentRetail || l.Class != "8" || l.Location != sandbox.LocationMain {
			t.Fatalf("line %d stored %+v", i, l)
		}
	}
	r := e.api("GET", "/record/v1/journalentry/"+js[0].ID+"/line", "")
	for _, want := range []string{
		`"class":{"links":[{"rel":"self","href":"` + e.base + `/services/rest/record/v1/classification/8"}],"id":"8"}`,
		`"location":{"links":[{"rel":"self","href":"` + e.base + `/services/rest/record/v1/location/2"}],"id":"2"}`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("lines read back: %s\nwant %s", r.body, want)
		}
	}

	cases := []struct {
		name string
		co   sandbox.Company
		body string
		want string
	}{
		{"inactive class", withInactives(), journalBody("2026-07-14", "1", tagged(`"class":{"id":"7"}`), sales),
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 7 for the following field: class.", "line.items[0].class")},
		{"unknown location", withInactives(), journalBody("2026-07-14", "1", sales, tagged(`"location":{"id":"99"}`)),
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 99 for the following field: location.", "line.items[1].location")},
		{"unreadable department", withInactives(), journalBody("2026-07-14", "1", tagged(`"department":"5"`), sales),
			userError("USER_ERROR", p+`You have entered an Invalid Field Value "5" for the following field: department.`, "line.items[0].department")},
		{"classes turned off", classOff, journalBody("2026-07-14", "1", tagged(`"class":{"id":"3"}`), sales),
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 3 for the following field: class.", "line.items[0].class")},
		{"classes turned off, on the entry", classOff, strings.Replace(journalBody("2026-07-14", "1", tagged(`"location":{"id":"2"}`), sales), `{"subsidiary"`, `{"class":{"id":"3"},"subsidiary"`, 1),
			userError("USER_ERROR", p+"You have entered an Invalid Field Value 3 for the following field: class.", "class")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, sandbox.WithCompany(c.co)).login("")
			expect(t, e.api("PUT", "/record/v1/journalentry/eid:CS-SEG?replace=line", c.body), 400, c.want)
			if n := len(e.sb.Journals(acct)); n != 0 {
				t.Fatalf("%d journals stored", n)
			}
		})
	}
	// The other segments still work while classes are off.
	e = newEnv(t, sandbox.WithCompany(classOff)).login("")
	expect(t, e.api("POST", "/record/v1/journalentry", journalBody("2026-07-14", "1", tagged(`"department":{"id":"5"},"location":{"id":"2"}`), sales)), 204, "")
}

func TestPeriodsAndRoles(t *testing.T) {
	body := journalBody("2026-06-30", "1", `{"account":{"id":"58"},"debit":1.00}`, `{"account":{"id":"4"},"credit":1.00}`)
	e := newEnv(t).login("")
	e.sb.LockPeriodsThrough(acct, "2026-06-01")
	expect(t, e.api("POST", "/record/v1/journalentry", body), 400,
		userError("USER_ERROR", p+"The accounting period Jun 2026 for the transaction date 2026-06-30 is locked.", "tranDate"))
	// The administrator may override period restrictions; not closed ones.
	admin := newEnv(t).login(sandbox.RoleAdministrator)
	admin.sb.LockPeriodsThrough(acct, "2026-06-01")
	if r := admin.api("POST", "/record/v1/journalentry", body); r.status != 204 {
		t.Fatalf("administrator in a locked period: %d %s", r.status, r.body)
	}
	admin.sb.ClosePeriodsThrough(acct, "2026-06-01")
	expect(t, admin.api("POST", "/record/v1/journalentry", body), 400,
		userError("USER_ERROR", p+"The accounting period Jun 2026 for the transaction date 2026-06-30 is closed.", "tranDate"))
	// Rules and messages are configurable.
	lenient := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) {
		r.LockedPeriodsRefused = false
		r.Messages.ClosedPeriod = "Period {period} is closed."
	})).login("")
	lenient.sb.LockPeriodsThrough(acct, "2026-06-01")
	if r := lenient.api("POST", "/record/v1/journalentry", body); r.status != 204 {
		t.Fatalf("locked period with LockedPeriodsRefused off: %d %s", r.status, r.body)
	}
	lenient.sb.ClosePeriodsThrough(acct, "2026-06-01")
	expect(t, lenient.api("POST", "/record/v1/journalentry", body), 400, userError("USER_ERROR", "Period Jun 2026 is closed.", "tranDate"))
}

func TestSplitPeriod(t *testing.T) {
	e := newEnv(t).login("")
	if err := e.sb.SplitPeriod(acct, "2026-07-13"); err != nil {
		t.Fatal(err)
	}
	e.sb.LockPeriodsThrough(acct, "2026-07-13")
	r := e.query("SELECT id, periodname, TO_CHAR(startdate, 'YYYY-MM-DD') AS s, TO_CHAR(enddate, 'YYYY-MM-DD') AS e, alllocked FROM accountingperiod WHERE isyear = 'F' AND alllocked = 'T' ORDER BY e DESC", "limit=1")
	if !strings.Contains(string(r.body), `"items":[{"links":[],"id":"86","periodname":"Jul 2026","s":"2026-07-01","e":"2026-07-13","alllocked":"T"}]`) {
		t.Fatalf("latest locked period: %s", r.body)
	}
	r = e.query("SELECT id, periodname, TO_CHAR(startdate, 'YYYY-MM-DD') AS s, alllocked FROM accountingperiod WHERE id = 144")
	if !strings.Contains(string(r.body), `{"links":[],"id":"144","periodname":"Jul 2026 (from 14 Jul)","s":"2026-07-14","alllocked":"F"}`) {
		t.Fatalf("new period: %s", r.body)
	}
	line := func(d string) string {
		return journalBody(d, "1", `{"account":{"id":"58"},"debit":1.00}`, `{"account":{"id":"4"},"credit":1.00}`)
	}
	if r := e.api("POST", "/record/v1/journalentry", line("2026-07-13")); r.status != 400 {
		t.Fatalf("13 July: %d", r.status)
	}
	if r := e.api("POST", "/record/v1/journalentry", line("2026-07-14")); r.status != 204 {
		t.Fatalf("14 July: %d %s", r.status, r.body)
	}
	if j := e.sb.Journals(acct)[0]; j.PostingPeriod != "144" {
		t.Fatalf("posting period %s", j.PostingPeriod)
	}
	// Splitting at a period's end changes nothing.
	before, _ := e.sb.Company(acct)
	e.sb.SplitPeriod(acct, "2026-08-31")
	if after, _ := e.sb.Company(acct); len(after.Periods) != len(before.Periods) {
		t.Fatal("a split at a period's end added a period")
	}
}

func TestAsyncIdempotency(t *testing.T) {
	e := newEnv(t).login("")
	body := journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":1.00}`, `{"account":{"id":"4"},"credit":1.00}`)
	hdr := []string{"Prefer", "respond-async", "X-NetSuite-Idempotency-Key", "0b6f0b9e-7d6c-4c43-9d7e-1c0f4e2b5a11"}
	r := e.api("POST", "/record/v1/journalentry", body, hdr...)
	job := e.base + sandbox.AsyncJobPath + "/1"
	if r.status != 202 || r.header.Get("Location") != job {
		t.Fatalf("async: %d %v", r.status, r.header)
	}
	// §4.4, verbatim.
	r = e.api("POST", "/record/v1/journalentry", body, hdr...)
	expect(t, r, 400, `{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10","title":"Conflict","status":400,"o:errorDetails":[{"detail":`+
		`"A request with the same idempotency key is already submitted. See the \"Location\" header for a link to the previously submitted job","o:errorCode":"IDEMPOTENCY_ERROR"}]}`)
	if r.header.Get("Location") != job || len(e.sb.Journals(acct)) != 1 {
		t.Fatalf("conflict Location %q, %d journals", r.header.Get("Location"), len(e.sb.Journals(acct)))
	}
	if r := e.api("GET", "/async/v1/job/1", ""); r.status != 200 || !strings.Contains(string(r.body), `"completed":true,"progress":"succeeded"`) {
		t.Fatalf("job: %d %s", r.status, r.body)
	}
	// Ignored for synchronous execution (§4.4).
	if r := e.api("POST", "/record/v1/journalentry", body, "X-NetSuite-Idempotency-Key", hdr[3]); r.status != 204 || len(e.sb.Journals(acct)) != 2 {
		t.Fatalf("sync with a used key: %d", r.status)
	}
}

func TestConcurrencyLimitAndFaults(t *testing.T) {
	e := newEnv(t, sandbox.WithConcurrencyLimit(3)).login("")
	arrived, release := e.sb.Stall()
	defer release()
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.api("GET", "/record/v1/currency/1", "").status })
	}
	for range 3 {
		<-arrived
	}
	r := e.api("GET", "/record/v1/currency/1", "")
	expect(t, r, 429, `{"type":"https://www.rfc-editor.org/rfc/rfc6585.html#section-4","title":"Too Many Requests","status":429,`+
		`"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`)
	if r.header.Get("Retry-After") != "" {
		t.Fatal("NetSuite sends no Retry-After (§4.6)")
	}
	release()
	wg.Wait()
	for _, s := range statuses {
		if s != 200 {
			t.Fatalf("held calls: %v", statuses)
		}
	}
	e.sb.ExhaustConcurrency(acct, 5*time.Second)
	if r := e.api("GET", "/record/v1/currency/1", ""); r.status != 429 {
		t.Fatalf("exhausted: %d", r.status)
	}
	e.clock.Advance(5 * time.Second)
	if r := e.api("GET", "/record/v1/currency/1", ""); r.status != 200 {
		t.Fatalf("after the pretend requests ended: %d", r.status)
	}

	body := journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":1.00}`, `{"account":{"id":"4"},"credit":1.00}`)
	e.sb.InjectFault(sandbox.Fault{Method: "PUT", Path: "/record/v1/JOURNALENTRY", Status: 503, Times: 2})
	for range 2 {
		expect(t, e.api("PUT", "/record/v1/journalentry/eid:F1", body), 503,
			`{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4","title":"Service Unavailable","status":503,`+
				`"o:errorDetails":[{"detail":"An unexpected error occurred. Error ID: sandbox-injected-fault","o:errorCode":"UNEXPECTED_ERROR"}]}`)
	}
	if len(e.sb.Journals(acct)) != 0 {
		t.Fatal("a 5xx fault committed")
	}
	// A dropped answer: committed, but the client sees no response.
	e.sb.InjectFault(sandbox.Fault{Method: "PUT", DropResponse: true})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(e.ctx, "PUT", e.base+sandbox.RecordPath+"/journalentry/eid:F2", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped response arrived: %d", resp.StatusCode)
	}
	if _, ok := e.sb.JournalByExternalID(acct, "F2"); !ok {
		t.Fatal("the dropped call was not committed")
	}
	// A slow answer: committed, then held past the client's patience.
	e.sb.InjectFault(sandbox.Fault{Method: "PUT", Delay: time.Hour})
	ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "PUT", e.base+sandbox.RecordPath+"/journalentry/eid:F3", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("slow answer arrived: %d", resp.StatusCode)
	}
	if _, ok := e.sb.JournalByExternalID(acct, "F3"); !ok {
		t.Fatal("the slow call was not committed")
	}
}

func TestRecordReads(t *testing.T) {
	e := newEnv(t).login("")
	r := e.api("GET", "/record/v1/account?limit=5&offset=15", "")
	var page struct {
		Count, Offset, TotalResults int
		HasMore                     bool
		Items                       []struct{ ID string }
	}
	if err := json.Unmarshal(r.body, &page); err != nil || page.Count != 2 || page.HasMore || page.TotalResults != 17 || page.Items[1].ID != "10" {
		t.Fatalf("accounts page: %s", r.body)
	}
	expect(t, e.api("GET", "/record/v1/account/58", ""), 200, `{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/account/58"}],`+
		`"id":"58","acctNumber":"1200","acctName":"Card Clearing","acctType":{"links":[],"id":"OthCurrAsset","refName":"OthCurrAsset"},"isInactive":false}`)
	if r := e.api("GET", "/record/v1/accountingperiod/2", ""); !strings.Contains(string(r.body), `"periodName":"Jan 2020","startDate":"2020-01-01","endDate":"2020-01-31","isPosting":true,"closed":false,"allLocked":false`) {
		t.Fatalf("period: %s", r.body)
	}
	if r := e.api("GET", "/record/v1/account/404", ""); r.status != 404 {
		t.Fatalf("missing account: %d", r.status)
	}
	if r := e.api("GET", "/record/v1/widget/1", ""); r.status != 404 {
		t.Fatalf("unknown record type: %d", r.status)
	}
	if r := e.api("DELETE", "/record/v1/account/1", ""); r.status != 405 {
		t.Fatalf("DELETE: %d", r.status)
	}
	if r := e.api("GET", "/record/v1/account?q=isInactive%20IS%20false", ""); r.status != 400 {
		t.Fatalf("q= is refused, not ignored: %d", r.status)
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
	resp, err := http.Get(sandbox.AccountBase(base, acct) + sandbox.RecordPath + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET without a token: %d", resp.StatusCode)
	}
	if ids := sb.AccountIDs(); len(ids) != 1 || ids[0] != acct {
		t.Fatalf("accounts %v", ids)
	}
	if sandbox.HostForm("1234567_SB1") != "1234567-sb1" {
		t.Fatal("host form")
	}
}

// withInactives is the default account plus an inactive customer and an
// inactive class, which SuiteQL filters must leave out.
func withInactives() sandbox.Company {
	c := sandbox.DefaultCompany()
	c.Customers = append(c.Customers, sandbox.Entity{ID: "9", Name: "Former Customer", Inactive: true})
	c.Classes = append(c.Classes, sandbox.Segment{ID: "7", Name: "Wholesale", Inactive: true}, sandbox.Segment{ID: "8", Name: "Online"})
	return c
}

func TestCustomersVendorsAndSegments(t *testing.T) {
	seed := withInactives()
	e := newEnv(t, sandbox.WithCompany(seed)).login("")
	// The seed is the caller's: filling in entity defaults works on a copy.
	if seed.Customers[2].EntityID != "" || seed.Customers[2].Subsidiary != "" {
		t.Fatalf("the seed was modified: %+v", seed.Customers[2])
	}

	item := func(id, name string) string {
		return `{"links":[],"id":"` + id + `","entityid":"` + name + `","altname":"` + name + `","companyname":"` + name + `"}`
	}
	r := e.query("SELECT id, entityid, altname, companyname FROM customer WHERE isinactive = 'F' ORDER BY id")
	if !strings.Contains(string(r.body), `"count":2,"hasMore":false,"items":[`+item(sandbox.CustomerWalkIn, "Walk-in Customers")+","+
		item(sandbox.CustomerCommerceProvider, "Commerce provider")+`],"offset":0,"totalResults":2}`) {
		t.Fatalf("active customers: %d %s", r.status, r.body)
	}
	r = e.query("SELECT id FROM customer WHERE isinactive = 'T'")
	if !strings.Contains(string(r.body), `"items":[{"links":[],"id":"9"}]`) {
		t.Fatalf("inactive customers: %s", r.body)
	}
	r = e.query("SELECT * FROM vendor WHERE companyname = 'Commerce provider'")
	if !strings.Contains(string(r.body), `"items":[{"links":[],"id":"221","entityid":"Commerce provider","altname":"Commerce provider",`+
		`"companyname":"Commerce provider","isperson":"F","isinactive":"F","subsidiary":"1","currency":"1"}]`) {
		t.Fatalf("vendor: %s", r.body)
	}
	// Paging covers the new tables like the others (§4.7).
	r = e.query("SELECT id FROM vendor ORDER BY id", "limit=1&offset=1")
	if !strings.Contains(string(r.body), `"count":1,"hasMore":false,"items":[{"links":[],"id":"222"}],"offset":1,"totalResults":2`) {
		t.Fatalf("vendor page: %s", r.body)
	}
	r = e.query("SELECT id, name FROM classification WHERE isinactive = 'F' ORDER BY id")
	if !strings.Contains(string(r.body), `"items":[{"links":[],"id":"3","name":"Store"},{"links":[],"id":"8","name":"Online"}]`) {
		t.Fatalf("active classes: %s", r.body)
	}

	r = e.api("GET", "/record/v1/customer", "")
	if !strings.Contains(string(r.body), `"count":3,"hasMore":false,"items":[{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/customer/220"}],"id":"220"},`) {
		t.Fatalf("customer list: %s", r.body)
	}
	expect(t, e.api("GET", "/record/v1/customer/220", ""), 200, `{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/customer/220"}],`+
		`"id":"220","entityId":"Commerce provider","companyName":"Commerce provider","isPerson":false,"isInactive":false,`+
		`"subsidiary":{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/subsidiary/1"}],"id":"1","refName":"Commerce Demo Inc."},`+
		`"currency":{"links":[{"rel":"self","href":"`+e.base+`/services/rest/record/v1/currency/1"}],"id":"1","refName":"US Dollar"}}`)
	if r := e.api("GET", "/record/v1/customer/9", ""); !strings.Contains(string(r.body), `"isInactive":true`) {
		t.Fatalf("inactive customer: %s", r.body)
	}
	if r := e.api("GET", "/record/v1/vendor/222", ""); !strings.Contains(string(r.body), `"id":"222","entityId":"Packaging Supplies Inc."`) {
		t.Fatalf("vendor: %s", r.body)
	}
	// A vendor's id is no customer's.
	if r := e.api("GET", "/record/v1/customer/221", ""); r.status != 404 {
		t.Fatalf("vendor id as a customer: %d %s", r.status, r.body)
	}
	if r := e.api("POST", "/record/v1/vendor", `{"companyName":"x"}`); r.status != 405 {
		t.Fatalf("POST vendor: %d", r.status)
	}
}
