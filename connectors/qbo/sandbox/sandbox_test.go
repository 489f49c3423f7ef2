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

	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

const (
	clientID     = "app"
	clientSecret = "secret"
	redirectURI  = "https://app.test/callback"
	realm        = sandbox.DefaultRealmID
	// at is the "time" of answers at start: 09:00 UTC in Los Angeles.
	at = "2026-07-15T02:00:00.000-07:00"
)

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
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: []string{sandbox.AccountingScope},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + sandbox.AuthorizePath, TokenURL: e.srv.URL + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
	}
	return e
}

func (e *env) consent(cfg *oauth2.Config, realmID string) *url.URL {
	e.t.Helper()
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), cfg.AuthCodeURL("st"), realmID)
	if err != nil {
		e.t.Fatal(err)
	}
	if loc.Query().Get("error") != "" {
		e.t.Fatalf("consent error: %s", loc)
	}
	return loc
}

func (e *env) login() *env {
	e.t.Helper()
	tok, err := e.cfg.Exchange(e.ctx, e.consent(e.cfg, "").Query().Get("code"))
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

func (r result) String() string { return string(r.body) }

// api calls the Accounting API of the default realm: path is below
// /v3/company/{realm}.
func (e *env) api(method, path, body string, hdr ...string) result {
	e.t.Helper()
	return e.apiRealm(realm, method, path, body, hdr...)
}

func (e *env) apiRealm(realmID, method, path, body string, hdr ...string) result {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}, "Accept": {"application/json"}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			h.Del(hdr[i])
		} else {
			h.Set(hdr[i], hdr[i+1])
		}
	}
	return e.raw(e.srv.Client(), method, e.srv.URL+sandbox.APIPath+realmID+path, body, h)
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

func (e *env) query(q string) result {
	e.t.Helper()
	return e.api("GET", "/query?minorversion=75&query="+url.QueryEscape(q), "")
}

// fault is the exact ValidationFault envelope for one error at the start time.
// Field order as in §2.5: Message, Detail, code, element.
func fault(message, detail, code, element string) string {
	return `{"Fault":{"Error":[{"Message":` + q(message) + `,"Detail":` + q(detail) + `,"code":` + q(code) + `,"element":` + q(element) + `}],"type":"ValidationFault"},"time":"` + at + `"}`
}

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant" && re.Response.StatusCode == 400 && string(re.Body) == `{"error":"invalid_grant"}`
}

func TestConsentRedirectCarriesRealmID(t *testing.T) {
	second := sandbox.Company{RealmID: "4620816365000000002", CompanyName: "Second Shop"}
	e := newEnv(t, sandbox.WithCompany(sandbox.DefaultCompany()), sandbox.WithCompany(second))
	loc := e.consent(e.cfg, "")
	if !strings.HasPrefix(loc.String(), redirectURI+"?") || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" || loc.Query().Get("realmId") != realm {
		t.Fatalf("redirect %s", loc)
	}
	if got := e.consent(e.cfg, second.RealmID).Query().Get("realmId"); got != second.RealmID {
		t.Fatalf("chosen company: realmId %s", got)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(mod func(url.Values)) *http.Response {
		t.Helper()
		v := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {sandbox.AccountingScope}, "redirect_uri": {redirectURI}, "state": {"s"}}
		mod(v)
		resp, err := noFollow.Get(e.srv.URL + sandbox.AuthorizePath + "?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(func(v url.Values) { v.Set("client_id", "stranger") }); r.StatusCode != 400 {
		t.Errorf("unknown client: %d", r.StatusCode)
	}
	if r := get(func(v url.Values) { v.Set("redirect_uri", "https://evil.test/cb") }); r.StatusCode != 400 {
		t.Errorf("unregistered redirect: %d", r.StatusCode)
	}
	if r := get(func(v url.Values) { v.Set("scope", "com.intuit.quickbooks.everything") }); r.StatusCode != 302 || !strings.Contains(r.Header.Get("Location"), "error=invalid_scope") {
		t.Errorf("unknown scope: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(func(v url.Values) { v.Set("response_type", "token") }); r.StatusCode != 302 || !strings.Contains(r.Header.Get("Location"), "error=unsupported_response_type") {
		t.Errorf("implicit flow: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	form := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {sandbox.AccountingScope}, "redirect_uri": {redirectURI}, "state": {"s"}, "consent": {"deny"}}
	resp, err := noFollow.PostForm(e.srv.URL+sandbox.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if l := resp.Header.Get("Location"); !strings.Contains(l, "error=access_denied") || strings.Contains(l, "realmId") {
		t.Errorf("deny: %s", l)
	}
}

func TestTokenEndpointLifetimesAndCodes(t *testing.T) {
	e := newEnv(t)
	code := e.consent(e.cfg, "").Query().Get("code")
	// The raw answer, to check §2.1's field set.
	req, _ := http.NewRequestWithContext(e.ctx, "POST", e.srv.URL+sandbox.TokenPath,
		strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}.Encode()))
	req.SetBasicAuth(clientID, clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tr map[string]any
	if err := json.Unmarshal(raw, &tr); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if tr["token_type"] != "bearer" || tr["expires_in"] != float64(3600) || tr["x_refresh_token_expires_in"] != float64(8726400) ||
		!strings.HasPrefix(tr["access_token"].(string), "eyJ") || !strings.HasPrefix(tr["refresh_token"].(string), "AB11") || len(tr) != 5 {
		t.Fatalf("token response %s", raw)
	}
	// Codes are single use ("send only one code-exchange request", §2.1).
	if _, err := e.cfg.Exchange(e.ctx, code); !isInvalidGrant(err) {
		t.Fatalf("second exchange: %v", err)
	}
	// Expired codes are refused (Rules.AuthCodeTTL, 5 minutes by default).
	code = e.consent(e.cfg, "").Query().Get("code")
	e.clock.Advance(5 * time.Minute)
	if _, err := e.cfg.Exchange(e.ctx, code); !isInvalidGrant(err) {
		t.Fatalf("late exchange: %v", err)
	}
	// Client credentials go by HTTP Basic only (§2.1).
	params := *e.cfg
	params.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	var re *oauth2.RetrieveError
	if _, err := params.Exchange(e.ctx, e.consent(e.cfg, "").Query().Get("code")); !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Fatalf("form credentials: %v", err)
	}
	// openid adds an id_token.
	oid := *e.cfg
	oid.Scopes = []string{sandbox.AccountingScope, "openid"}
	tok, err := oid.Exchange(e.ctx, e.consent(&oid, "").Query().Get("code"))
	if err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("openid: %v", err)
	}
}

func TestAccessTokenLivesAnHourAnd401Envelope(t *testing.T) {
	e := newEnv(t).login()
	e.clock.Advance(3599 * time.Second)
	if r := e.api("GET", "/preferences", ""); r.status != 200 {
		t.Fatalf("at 3599 s: %d %s", r.status, r)
	}
	e.clock.Advance(time.Second)
	r := e.api("GET", "/preferences", "")
	want := `{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired: ` +
		e.tok.AccessToken[:8] + `…","code":"3200","element":null}],"type":"AUTHENTICATION"},"report":null,"queryResponse":null,"batchItemResponse":[],"attachableResponse":[],"syncErrorResponse":null,"requestId":null,"time":1784109600000,"status":null,"cdcresponse":[]}`
	if r.status != 401 || string(r.body) != want || r.header.Get("intuit_tid") == "" {
		t.Fatalf("expired token: %d\n%s\nwant\n%s", r.status, r, want)
	}
}

func TestRefreshRotatesRollsAndCaps(t *testing.T) {
	e := newEnv(t).login()
	refresh := func(rt string) (*oauth2.Token, error) {
		return e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	next, err := refresh(e.tok.RefreshToken)
	if err != nil || next.RefreshToken == e.tok.RefreshToken || next.AccessToken == e.tok.AccessToken {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	// Rotation: the previous refresh token is refused at once (Rules.PreviousRefreshTokenGrace = 0).
	if _, err := refresh(e.tok.RefreshToken); !isInvalidGrant(err) {
		t.Fatalf("previous refresh token: %v", err)
	}
	// Rolling: each refresh within 8726400 s extends it.
	cur := next
	for range 3 {
		e.clock.Advance(100 * 24 * time.Hour)
		if cur, err = refresh(cur.RefreshToken); err != nil {
			t.Fatalf("rolling refresh: %v", err)
		}
	}
	e.clock.Advance(8726400 * time.Second)
	if _, err := refresh(cur.RefreshToken); !isInvalidGrant(err) {
		t.Fatalf("unused for 8726400 s: %v", err)
	}

	// The 5-year cap from consent bounds the rolling expiry.
	e.login()
	cur = e.tok
	for range 18 { // 1800 days
		e.clock.Advance(100 * 24 * time.Hour)
		if cur, err = refresh(cur.RefreshToken); err != nil {
			t.Fatalf("refresh: %v", err)
		}
	}
	left := cur.Extra("x_refresh_token_expires_in").(float64)
	if want := (5*365*24*time.Hour - 1800*24*time.Hour).Seconds(); left != want {
		t.Fatalf("x_refresh_token_expires_in near the cap = %v, want %v", left, want)
	}
	e.clock.Advance(time.Duration(left) * time.Second)
	if _, err := refresh(cur.RefreshToken); !isInvalidGrant(err) {
		t.Fatalf("past the 5-year cap: %v", err)
	}
}

func TestPreviousRefreshTokenGraceIsConfigurable(t *testing.T) {
	rules := sandbox.DefaultRules()
	rules.PreviousRefreshTokenGrace = time.Hour
	e := newEnv(t, sandbox.WithRules(rules)).login()
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("within the grace: %v", err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); !isInvalidGrant(err) {
		t.Fatalf("after the grace: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t).login()
	h := http.Header{"Content-Type": {"application/json"}}
	req, _ := http.NewRequest("POST", e.srv.URL+sandbox.RevokePath, strings.NewReader(`{"token":"`+e.tok.RefreshToken+`"}`))
	req.Header = h
	req.SetBasicAuth(clientID, clientSecret)
	resp, err := e.srv.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if r := e.api("GET", "/preferences", ""); r.status != 401 {
		t.Fatalf("access token after revoke: %d", r.status)
	}
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); !isInvalidGrant(err) {
		t.Fatalf("refresh after revoke: %v", err)
	}
}

func TestRealmIsThePathAndTheGrant(t *testing.T) {
	second := sandbox.Company{RealmID: "4620816365000000002", CompanyName: "Second Shop", HomeCurrency: "CAD"}
	e := newEnv(t, sandbox.WithCompany(sandbox.DefaultCompany()), sandbox.WithCompany(second)).login()
	r := e.apiRealm(second.RealmID, "GET", "/preferences", "")
	want := `{"Fault":{"Error":[{"Message":"message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403","Detail":"","code":"3100","element":""}],"type":"AuthorizationFault"},"time":"` + at + `"}`
	if r.status != 403 || string(r.body) != want {
		t.Fatalf("foreign realm: %d %s", r.status, r)
	}
	tok, err := e.cfg.Exchange(e.ctx, e.consent(e.cfg, second.RealmID).Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	e.tok = tok
	if r := e.apiRealm(second.RealmID, "GET", "/preferences", ""); r.status != 200 || !strings.Contains(r.String(), `"HomeCurrency":{"value":"CAD"}`) {
		t.Fatalf("second realm: %d %s", r.status, r)
	}
	if r := e.api("GET", "/preferences", ""); r.status != 403 {
		t.Fatalf("first realm with the second grant: %d", r.status)
	}
	// Without the accounting scope the API is closed.
	narrow := *e.cfg
	narrow.Scopes = []string{"openid"}
	if tok, err = narrow.Exchange(e.ctx, e.consent(&narrow, "").Query().Get("code")); err != nil {
		t.Fatal(err)
	}
	e.tok = tok
	if r := e.api("GET", "/preferences", ""); r.status != 403 {
		t.Fatalf("without the accounting scope: %d", r.status)
	}
}

// many lifts the per-second limit for tests that make many calls at one
// instant of the injected clock.
var many = sandbox.WithLimits(sandbox.Limits{PerMinute: 500, Concurrent: 10})

func TestQueries(t *testing.T) {
	e := newEnv(t, many).login()
	var qr struct {
		QueryResponse struct {
			Account []struct {
				ID, Name, AcctNum, AccountType, Classification string
				Active                                         bool
			}
			StartPosition, MaxResults, TotalCount int
		}
		Time string `json:"time"`
	}
	decode := func(r result) {
		t.Helper()
		qr.QueryResponse.Account = nil
		if r.status != 200 || json.Unmarshal(r.body, &qr) != nil {
			t.Fatalf("%d %s", r.status, r)
		}
	}
	decode(e.query("select * from Account where Active = true STARTPOSITION 1 MAXRESULTS 1000"))
	if n := len(qr.QueryResponse.Account); n != 18 || qr.QueryResponse.TotalCount != 18 || qr.QueryResponse.MaxResults != 18 || qr.Time != at {
		t.Fatalf("active accounts: %d %+v", n, qr.QueryResponse)
	}
	decode(e.query("SELECT * FROM Account WHERE Active = false"))
	if a := qr.QueryResponse.Account; len(a) != 1 || a[0].Name != "Discontinued sales" {
		t.Fatalf("inactive: %+v", a)
	}
	decode(e.query("select * from Account where AccountType = 'Bank'"))
	if a := qr.QueryResponse.Account; len(a) != 1 || a[0].AcctNum != "1000" {
		t.Fatalf("banks: %+v", a)
	}
	decode(e.query("select * from Account where Active IN (true, false) ORDERBY AcctNum DESC STARTPOSITION 2 MAXRESULTS 3"))
	if a := qr.QueryResponse.Account; len(a) != 3 || a[0].AcctNum != "5000" || qr.QueryResponse.StartPosition != 2 || qr.QueryResponse.TotalCount != 19 {
		t.Fatalf("paging: %+v", qr.QueryResponse)
	}
	decode(e.query("select * from Account where Name LIKE 'Card%'"))
	if a := qr.QueryResponse.Account; len(a) != 1 || a[0].Name != "Card clearing" {
		t.Fatalf("like: %+v", a)
	}
	if r := e.query("select count(*) from Account where Classification = 'Revenue'"); string(r.body) != `{"QueryResponse":{"totalCount":6},"time":"`+at+`"}` {
		t.Fatalf("count: %s", r)
	}
	if r := e.query("select * from JournalEntry where DocNumber = 'none'"); string(r.body) != `{"QueryResponse":{},"time":"`+at+`"}` {
		t.Fatalf("empty: %s", r)
	}
	// POST with Content-Type application/text (§2.3).
	if r := e.api("POST", "/query", "select * from CompanyCurrency where Active = true", "Content-Type", "application/text"); r.status != 200 ||
		!strings.Contains(r.String(), `"Code":"EUR"`) || strings.Contains(r.String(), "JPY") {
		t.Fatalf("POST query: %d %s", r.status, r)
	}
	if r := e.api("POST", "/query", "select * from Account", "Content-Type", "application/json"); r.status != 415 {
		t.Fatalf("POST query as JSON: %d", r.status)
	}
	// Transactions are filtered on a few properties only; PrivateNote is not one.
	if r := e.query("select * from JournalEntry where PrivateNote = 'x'"); r.status != 400 ||
		string(r.body) != fault("Invalid query", "QueryValidationError: property 'PrivateNote' is not queryable", "4001", "") {
		t.Fatalf("PrivateNote: %s", r)
	}
	if r := e.query("select Name from Account"); r.status != 400 || !strings.Contains(r.String(), `"code":"4000"`) {
		t.Fatalf("projection: %s", r)
	}
	if r := e.query("select * from Account where Active = true OR Name = 'x'"); r.status != 400 || !strings.Contains(r.String(), `"code":"4000"`) {
		t.Fatalf("OR: %s", r)
	}
	if r := e.query("select * from Widget"); r.status != 400 || !strings.Contains(r.String(), "Entity 'Widget' is not supported") {
		t.Fatalf("unknown entity: %s", r)
	}
	if r := e.query("select * from TaxCode where Id = '2'"); !strings.Contains(r.String(), `"SalesTaxRateList":{"TaxRateDetail":[{"TaxRateRef":{"value":"3","name":"California"}`) {
		t.Fatalf("tax code: %s", r)
	}
	if r := e.query("select * from TaxRate where RateValue > 5"); !strings.Contains(r.String(), `"RateValue":8.5`) || strings.Contains(r.String(), "Old county") {
		t.Fatalf("tax rate: %s", r)
	}
	if r := e.api("GET", "/account/87", ""); r.status != 200 || !strings.HasPrefix(r.String(), `{"Account":{"Name":"Card clearing"`) {
		t.Fatalf("read by id: %s", r)
	}
	if r := e.api("GET", "/account/12345", ""); r.status != 400 || !strings.Contains(r.String(), `"code":"610"`) {
		t.Fatalf("unknown id: %s", r)
	}
}

func TestPreferencesAndCompanyInfo(t *testing.T) {
	e := newEnv(t).login()
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	r := e.api("GET", "/preferences?minorversion=75", "")
	if !strings.Contains(r.String(), `"AccountingInfoPrefs":{"TrackDepartments":true,"DepartmentTerminology":"Location","ClassTrackingPerTxn":false,"ClassTrackingPerTxnLine":true,"CustomerTerminology":"Customers","BookCloseDate":"2026-06-30"}`) ||
		!strings.Contains(r.String(), `"CurrencyPrefs":{"MultiCurrencyEnabled":true,"HomeCurrency":{"value":"USD"}}`) {
		t.Fatalf("preferences: %s", r)
	}
	r = e.api("GET", "/companyinfo/"+realm, "")
	if !strings.HasPrefix(r.String(), `{"CompanyInfo":{"CompanyName":"Sandbox Company_US_1","LegalName":"Sandbox Company US 1 Inc.","Country":"US"`) {
		t.Fatalf("company info: %s", r)
	}
	if r := e.api("GET", "/companyinfo/1", ""); r.status != 400 {
		t.Fatalf("another company's info: %d", r.status)
	}
	if r := e.api("DELETE", "/invoice/1", ""); r.status != 400 || !strings.Contains(r.String(), `"code":"500"`) {
		t.Fatalf("unsupported: %d %s", r.status, r)
	}
}

const goodJE = `{"TxnDate":"2026-07-14","DocNumber":"D-1","PrivateNote":"Day [ref-1]","CurrencyRef":{"value":"USD"},"Line":[` +
	`{"Description":"card","Amount":108.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"87"}}},` +
	`{"Amount":100.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"79"}}},` +
	`{"Amount":8.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"44"}}}]}`

func TestCreateJournalEntry(t *testing.T) {
	e := newEnv(t).login()
	r := e.api("POST", "/journalentry?minorversion=75", goodJE)
	want := `{"JournalEntry":{"SyncToken":"0","domain":"QBO","TxnDate":"2026-07-14","DocNumber":"D-1","PrivateNote":"Day [ref-1]",` +
		`"CurrencyRef":{"value":"USD","name":"United States Dollar"},"Line":[` +
		`{"Id":"0","Description":"card","Amount":108.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"87","name":"Card clearing"}}},` +
		`{"Id":"1","Amount":100.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"79","name":"Sales"}}},` +
		`{"Id":"2","Amount":8.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"44","name":"Sales Tax Payable"}}}],` +
		`"Adjustment":false,"Id":"141","TxnTaxDetail":{},"TotalAmt":0,"MetaData":{"CreateTime":"2026-07-15T02:00:00-07:00","LastUpdatedTime":"2026-07-15T02:00:00-07:00"}},"time":"` + at + `"}`
	if r.status != 200 || string(r.body) != want {
		t.Fatalf("create: %d\n%s\nwant\n%s", r.status, r, want)
	}
	js := e.sb.JournalEntries(realm)
	if len(js) != 1 || js[0].ID != "141" || js[0].Lines[2].Signed().String() != "-8.5" {
		t.Fatalf("stored %+v", js)
	}
	// Balances follow the postings; liabilities show credit-positive.
	if r := e.query("select * from Account where Id = '44'"); !strings.Contains(r.String(), `"CurrentBalance":8.50`) {
		t.Fatalf("balance: %s", r)
	}
	if r := e.query("select * from JournalEntry where TxnDate >= '2026-07-01' AND DocNumber = 'D-1'"); !strings.Contains(r.String(), `"Id":"141"`) {
		t.Fatalf("find by number and date: %s", r)
	}
	// Without TxnDate the entry is dated today in the company's zone (§2.7).
	noDate := strings.Replace(strings.Replace(goodJE, `"TxnDate":"2026-07-14",`, "", 1), "D-1", "D-2", 1)
	if r := e.api("POST", "/journalentry", noDate); r.status != 200 || !strings.Contains(r.String(), `"TxnDate":"2026-07-15"`) {
		t.Fatalf("no date: %s", r)
	}
}

// TestJournalValidation checks every refusal's exact envelope.
func TestJournalValidation(t *testing.T) {
	const biz = "A business validation error has occurred while processing your request"
	je := func(date, currency string, lines ...string) string {
		cur := ""
		if currency != "" {
			cur = `"CurrencyRef":{"value":"` + currency + `"},`
		}
		return `{"TxnDate":"` + date + `",` + cur + `"Line":[` + strings.Join(lines, ",") + `]}`
	}
	ln := func(side, acct, amount string) string {
		return `{"Amount":` + amount + `,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"` + side + `","AccountRef":{"value":"` + acct + `"}}}`
	}
	debit := func(acct, amt string) string { return ln("Debit", acct, amt) }
	credit := func(acct, amt string) string { return ln("Credit", acct, amt) }
	cases := []struct {
		name, body, want string
	}{
		{"unbalanced", je("2026-07-14", "USD", debit("87", "100.00"), credit("79", "10.00")),
			fault(biz, "Business Validation Error: Journal Entry must be balanced: debits 100.00, credits 10.00.", "6000", "")},
		{"debits only", je("2026-07-14", "USD", debit("87", "0"), debit("79", "0")),
			fault(biz, "Business Validation Error: Journal Entry must be balanced: debits 0.00, credits 0.00.", "6000", "")},
		{"inactive account", je("2026-07-14", "USD", debit("87", "10"), credit("92", "10")),
			fault("Object Not Found", "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.", "610", "")},
		{"unknown account", je("2026-07-14", "USD", debit("87", "10"), credit("999", "10")),
			fault("Invalid Reference Id", "Invalid Reference Id : Accounts element id 999 not found", "2500", "")},
		{"closed period", je("2026-06-30", "USD", debit("87", "10"), credit("79", "10")),
			fault("Account Period Closed, Cannot Update Through Services API", "The account period has closed and the account books cannot be updated through the QBO Services API. Please use the QBO website to make these changes.", "6210", "")},
		{"currency not added", je("2026-07-14", "CAD", debit("87", "10"), credit("79", "10")),
			fault(biz, "Business Validation Error: The currency CAD is not enabled for this company.", "6000", "")},
		{"currency inactive", je("2026-07-14", "JPY", debit("87", "10"), credit("79", "10")),
			fault(biz, "Business Validation Error: The currency JPY is not enabled for this company.", "6000", "")},
		{"currency missing with multicurrency", je("2026-07-14", "", debit("87", "10"), credit("79", "10")),
			fault("Required param missing, need to supply the required value for the API", "Required parameter CurrencyRef is missing in the request", "2020", "CurrencyRef")},
		{"three decimals", je("2026-07-14", "USD", debit("87", "10.005"), credit("79", "10.005")),
			fault(biz, "Business Validation Error: Amount 10.005 has more than 2 decimal places.", "6000", "")},
		{"negative amount", je("2026-07-14", "USD", debit("87", "-10"), credit("79", "-10")),
			fault(biz, "Business Validation Error: Amount -10 is negative; journal entry amounts are positive and PostingType gives the side.", "6000", "")},
		{"bad posting type", je("2026-07-14", "USD", ln("Debet", "87", "10"), credit("79", "10")),
			fault("Invalid Enumeration", "Invalid Enumeration : Debet for Line.JournalEntryLineDetail.PostingType", "2170", "Line.JournalEntryLineDetail.PostingType")},
		{"no lines", je("2026-07-14", "USD"),
			fault("Required param missing, need to supply the required value for the API", "Required parameter Line is missing in the request", "2020", "Line")},
		{"no account", je("2026-07-14", "USD", `{"Amount":1,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit"}}`),
			fault("Required param missing, need to supply the required value for the API", "Required parameter Line.JournalEntryLineDetail.AccountRef is missing in the request", "2020", "Line.JournalEntryLineDetail.AccountRef")},
		{"receivable without customer", je("2026-07-14", "USD", debit("84", "10"), credit("79", "10")),
			fault(biz, "Business Validation Error: When you use Accounts Receivable, you must choose a customer in the Name field.", "6000", "")},
		{"payable without vendor", je("2026-07-14", "USD", debit("87", "10"), credit("33", "10")),
			fault(biz, "Business Validation Error: When you use Accounts Payable, you must select a vendor in the Name field.", "6000", "")},
		{"unknown property", `{"TxnDate":"2026-07-14","Lines":[]}`,
			fault("Request has invalid or unsupported property", "Property Name:Lines specified is unsupported or invalid", "2010", "Lines")},
		{"long DocNumber", `{"DocNumber":"0123456789012345678901","CurrencyRef":{"value":"USD"},"Line":[` + debit("87", "1") + `,` + credit("79", "1") + `]}`,
			fault("String length is either shorter or longer than supported by specification", "DocNumber: Min:0 Max:21 supported. Supplied length:22", "2050", "DocNumber")},
		{"bad date", je("14/07/2026", "USD", debit("87", "1"), credit("79", "1")),
			fault("Request has invalid or unsupported property", "Property Name:TxnDate specified is unsupported or invalid", "2010", "TxnDate")},
	}
	e := newEnv(t, many).login()
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		r := e.api("POST", "/journalentry", c.body)
		if r.status != 400 || string(r.body) != c.want {
			t.Errorf("%s: %d\n%s\nwant\n%s", c.name, r.status, r, c.want)
		}
	}
	if n := len(e.sb.JournalEntries(realm)); n != 0 {
		t.Fatalf("%d entries stored", n)
	}
	// A/R with a customer, A/P with a vendor are fine (§2.2).
	ar := `{"TxnDate":"2026-07-14","CurrencyRef":{"value":"USD"},"Line":[` +
		`{"Amount":10,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"84"},"Entity":{"Type":"Customer","EntityRef":{"value":"1"}}}},` +
		credit("79", "10") + `]}`
	if r := e.api("POST", "/journalentry", ar); r.status != 200 || !strings.Contains(r.String(), `"Entity":{"Type":"Customer","EntityRef":{"value":"1"}}`) {
		t.Fatalf("A/R with customer: %s", r)
	}
	// Foreign currency on a home-currency account is fine with multicurrency on.
	if r := e.api("POST", "/journalentry", je("2026-07-14", "EUR", debit("87", "10"), credit("79", "10"))); r.status != 200 {
		t.Fatalf("EUR: %s", r)
	}
}

func TestUnverifiedRulesAreConfigurable(t *testing.T) {
	rules := sandbox.DefaultRules()
	rules.Unbalanced = sandbox.FaultText{Code: "6000", Message: "A business validation error has occurred while processing your request",
		Detail: "Business Validation Error: Transaction is not balanced ({debits} ≠ {credits})"}
	rules.CurrencyNotEnabled = sandbox.FaultText{Code: "6001", Message: "Currency", Detail: "{currency} off"}
	e := newEnv(t, sandbox.WithRules(rules)).login()
	body := strings.Replace(goodJE, "108.50", "108.51", 1)
	if r := e.api("POST", "/journalentry", body); !strings.Contains(r.String(), `"Detail":"Business Validation Error: Transaction is not balanced (108.51 ≠ 108.50)"`) {
		t.Fatalf("custom unbalanced: %s", r)
	}
	if r := e.api("POST", "/journalentry", strings.Replace(goodJE, `"USD"`, `"CAD"`, 1)); !strings.Contains(r.String(), `"Detail":"CAD off","code":"6001"`) {
		t.Fatalf("custom currency: %s", r)
	}
}

func TestNonUSCompanyRules(t *testing.T) {
	au := sandbox.Company{RealmID: "4620816365000000003", Country: "AU", HomeCurrency: "AUD", TimeZone: "Australia/Sydney",
		Accounts: []sandbox.Account{
			{ID: "1", Name: "Clearing", AccountType: "Other Current Asset"},
			{ID: "2", Name: "Sales", AccountType: "Income"},
		},
		TaxCodes: []sandbox.TaxCode{{ID: "10", Name: "GST", Taxable: true, SalesRates: []string{"20"}}, {ID: "11", Name: "GST on purchases", PurchaseRates: []string{"21"}}},
		TaxRates: []sandbox.TaxRate{{ID: "20", Name: "GST (sales)", RateValue: "10"}, {ID: "21", Name: "GST (purchases)", RateValue: "10"}},
	}
	e := newEnv(t, sandbox.WithCompany(au))
	tok, err := e.cfg.Exchange(e.ctx, e.consent(e.cfg, au.RealmID).Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	e.tok = tok
	post := func(body string) result { return e.apiRealm(au.RealmID, "POST", "/journalentry", body) }
	base := `"Line":[{"Amount":11,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"1"}}},` +
		`{"Amount":11,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"2"}%s}}]}`
	noTax := `{"TxnDate":"2026-07-14",` + strings.Replace(base, "%s", "", 1)
	// §2.2: non-US companies must send GlobalTaxCalculation.
	if r := post(noTax); r.status != 400 || !strings.Contains(r.String(), `"Detail":"Required parameter GlobalTaxCalculation is missing in the request","code":"2020"`) {
		t.Fatalf("no GlobalTaxCalculation: %s", r)
	}
	withTax := func(tax string) string {
		return `{"TxnDate":"2026-07-14","GlobalTaxCalculation":"TaxExcluded",` + strings.Replace(base, "%s", tax, 1)
	}
	if r := post(withTax("")); r.status != 200 || !strings.Contains(r.String(), `"time":"2026-07-15T19:00:00.000+10:00"`) {
		t.Fatalf("AU journal: %s", r)
	}
	// §2.2: a TaxCodeRef needs TaxApplicableOn and TaxAmount; the code must
	// carry a rate for that side.
	if r := post(withTax(`,"TaxCodeRef":{"value":"10"}`)); !strings.Contains(r.String(), `"Required parameter Line.JournalEntryLineDetail.TaxApplicableOn is missing in the request"`) {
		t.Fatalf("no TaxApplicableOn: %s", r)
	}
	if r := post(withTax(`,"TaxCodeRef":{"value":"10"},"TaxApplicableOn":"Sales"`)); !strings.Contains(r.String(), `TaxAmount is missing`) {
		t.Fatalf("no TaxAmount: %s", r)
	}
	if r := post(withTax(`,"TaxCodeRef":{"value":"11"},"TaxApplicableOn":"Sales","TaxAmount":1`)); !strings.Contains(r.String(), `Tax code GST on purchases has no sales rate and cannot be used on account Sales.`) {
		t.Fatalf("purchase code on sales: %s", r)
	}
	if r := post(withTax(`,"TaxCodeRef":{"value":"77"},"TaxApplicableOn":"Sales","TaxAmount":1`)); !strings.Contains(r.String(), `Invalid Reference Id : TaxCode element id 77 not found`) {
		t.Fatalf("unknown code: %s", r)
	}
	if r := post(withTax(`,"TaxCodeRef":{"value":"10"},"TaxApplicableOn":"Sales","TaxAmount":1`)); r.status != 200 || !strings.Contains(r.String(), `"TaxCodeRef":{"value":"10"},"TaxApplicableOn":"Sales","TaxAmount":1`) {
		t.Fatalf("taxed line: %s", r)
	}
}

func TestRequestIDReplaysTheFirstAnswer(t *testing.T) {
	e := newEnv(t).login()
	first := e.api("POST", "/journalentry?requestid=r-1", goodJE)
	if first.status != 200 {
		t.Fatalf("create: %s", first)
	}
	e.clock.Advance(30 * time.Minute)
	// Another body under the same requestid still gets the first answer (§2.4).
	other := strings.Replace(goodJE, "D-1", "D-9", 1)
	replay := e.api("POST", "/journalentry?requestid=r-1", other)
	if replay.status != 200 || !bytes.Equal(replay.body, first.body) || len(e.sb.JournalEntries(realm)) != 1 {
		t.Fatalf("replay differs:\n%s\n%s", first, replay)
	}
	// A refusal is replayed too (Rules.ReplayFaults, default true).
	bad := strings.Replace(other, "108.50", "1.00", 1)
	refused := e.api("POST", "/journalentry?requestid=r-2", bad)
	if refused.status != 400 {
		t.Fatalf("unbalanced: %s", refused)
	}
	if again := e.api("POST", "/journalentry?requestid=r-2", other); again.status != 400 || !bytes.Equal(again.body, refused.body) {
		t.Fatalf("fault replay: %s", again)
	}
	// 50 characters is the limit.
	if r := e.api("POST", "/journalentry?requestid="+strings.Repeat("x", 51), other); r.status != 400 ||
		string(r.body) != strings.Replace(fault("String length is either shorter or longer than supported by specification", "requestid: Min:1 Max:50 supported. Supplied length:51", "2050", "requestid"), at, "2026-07-15T02:30:00.000-07:00", 1) {
		t.Fatalf("51 characters: %s", r)
	}
	if r := e.api("POST", "/journalentry?requestid="+strings.Repeat("x", 50), other); r.status != 200 {
		t.Fatalf("50 characters: %s", r)
	}
	// Requestids are per company: the same id is kept for ever by default.
	e.clock.Advance(365 * 24 * time.Hour)
	e.login()
	if r := e.api("POST", "/journalentry?requestid=r-1", other); !bytes.Equal(r.body, first.body) {
		t.Fatalf("a year later: %s", r)
	}
}

func TestRequestIDMemoryAndFaultReplayAreConfigurable(t *testing.T) {
	rules := sandbox.DefaultRules()
	rules.RequestIDMemory = time.Hour
	rules.ReplayFaults = false
	e := newEnv(t, sandbox.WithRules(rules)).login()
	first := e.api("POST", "/journalentry?requestid=k", goodJE)
	e.clock.Advance(59 * time.Minute)
	if r := e.api("POST", "/journalentry?requestid=k", goodJE); !bytes.Equal(r.body, first.body) {
		t.Fatalf("within memory: %s", r)
	}
	e.clock.Advance(time.Minute)
	e.login() // the access token lived its 3600 s
	// Forgotten: processed again, and the company's duplicate-number check refuses it.
	if r := e.api("POST", "/journalentry?requestid=k", goodJE); r.status != 400 || !strings.Contains(r.String(), `"code":"6140"`) ||
		!strings.Contains(r.String(), "DocNumber=D-1 is assigned to TxnType=Journal Entry with TxnId=141") {
		t.Fatalf("after memory: %s", r)
	}
	// Without fault replay, a refused request can succeed once fixed.
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "2026-07-31" }); err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(goodJE, "D-1", "D-2", 1)
	if r := e.api("POST", "/journalentry?requestid=k2", body); !strings.Contains(r.String(), `"code":"6210"`) {
		t.Fatalf("closed: %s", r)
	}
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "" }); err != nil {
		t.Fatal(err)
	}
	if r := e.api("POST", "/journalentry?requestid=k2", body); r.status != 200 {
		t.Fatalf("after reopening: %s", r)
	}
}

func TestDuplicateDocNumberFollowsThePreference(t *testing.T) {
	e := newEnv(t).login()
	if r := e.api("POST", "/journalentry", goodJE); r.status != 200 {
		t.Fatal(r)
	}
	if r := e.api("POST", "/journalentry", goodJE); string(r.body) != fault("Duplicate Document Number Error",
		"Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=D-1 is assigned to TxnType=Journal Entry with TxnId=141", "6140", "") {
		t.Fatalf("duplicate: %s", r)
	}
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.WarnDuplicateDocNumber = false }); err != nil {
		t.Fatal(err)
	}
	if r := e.api("POST", "/journalentry", goodJE); r.status != 200 {
		t.Fatalf("duplicates allowed: %s", r)
	}
}

func TestUpdateDeleteAndStaleSyncToken(t *testing.T) {
	e := newEnv(t).login()
	if r := e.api("POST", "/journalentry", goodJE); r.status != 200 {
		t.Fatal(r)
	}
	stale := fault("Stale Object Error", "Stale Object Error : You and Sandbox User were working on this at the same time. Sandbox User finished before you did, so your work was not saved.", "5010", "SyncToken")
	sparse := `{"Id":"141","SyncToken":"%s","sparse":true,"PrivateNote":"edited"}`
	if r := e.api("POST", "/journalentry", strings.Replace(sparse, "%s", "0", 1)); r.status != 200 ||
		!strings.Contains(r.String(), `"SyncToken":"1"`) || !strings.Contains(r.String(), `"PrivateNote":"edited"`) || !strings.Contains(r.String(), `"Id":"2","Amount":8.50`) {
		t.Fatalf("sparse update: %s", r)
	}
	if r := e.api("POST", "/journalentry", strings.Replace(sparse, "%s", "0", 1)); r.status != 400 || string(r.body) != stale {
		t.Fatalf("old SyncToken: %s", r)
	}
	// Another user saves first.
	if err := e.sb.TouchJournalEntry(realm, "141"); err != nil {
		t.Fatal(err)
	}
	if r := e.api("POST", "/journalentry?operation=update", strings.Replace(sparse, "%s", "1", 1)); string(r.body) != stale {
		t.Fatalf("after another user's edit: %s", r)
	}
	// The injected fault does the same for the next update.
	e.sb.InjectFault(sandbox.Fault{Path: "/journalentry", StaleSyncToken: true})
	if r := e.api("POST", "/journalentry", strings.Replace(sparse, "%s", "2", 1)); string(r.body) != stale {
		t.Fatalf("StaleSyncToken fault: %s", r)
	}
	// A full update without Line nulls the lines: refused (§2.2).
	if r := e.api("POST", "/journalentry", `{"Id":"141","SyncToken":"3","PrivateNote":"x"}`); !strings.Contains(r.String(), "Required parameter Line is missing") {
		t.Fatalf("full update without lines: %s", r)
	}
	// Closed books protect existing entries too.
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "2026-07-14" }); err != nil {
		t.Fatal(err)
	}
	if r := e.api("POST", "/journalentry?operation=delete", `{"Id":"141","SyncToken":"3"}`); !strings.Contains(r.String(), `"code":"6210"`) {
		t.Fatalf("delete in a closed period: %s", r)
	}
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "" }); err != nil {
		t.Fatal(err)
	}
	if r := e.api("POST", "/journalentry?operation=delete", `{"Id":"141","SyncToken":"3"}`); string(r.body) != `{"JournalEntry":{"Id":"141","status":"Deleted","domain":"QBO"},"time":"`+at+`"}` {
		t.Fatalf("delete: %s", r)
	}
	if len(e.sb.JournalEntries(realm)) != 0 {
		t.Fatal("entry not deleted")
	}
	if r := e.api("GET", "/journalentry/141", ""); !strings.Contains(r.String(), `"code":"610"`) {
		t.Fatalf("read deleted: %s", r)
	}
}

// throttle is the exact 429 body at the given time of day.
func throttle(tm string) string {
	return `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429","Detail":"Too many requests for this company and application; retry later.","code":"3001","element":""}],"type":"SERVICE"},"time":"2026-07-15T` + tm + `.000-07:00"}`
}

func TestConcurrencyLimitEleventhCall(t *testing.T) {
	e := newEnv(t).login()
	arrived, release := e.sb.Stall()
	defer release()
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.api("GET", "/preferences", "").status })
	}
	for range 10 {
		<-arrived
	}
	e.clock.Advance(time.Second) // only concurrency can refuse the next call
	// Were the 11th admitted, it would be held too: fail instead of waiting.
	done := make(chan result, 1)
	go func() { done <- e.api("GET", "/preferences", "") }()
	var r result
	select {
	case r = <-done:
	case <-arrived:
		release()
		t.Fatal("the 11th concurrent call was admitted")
	}
	if r.status != 429 || string(r.body) != throttle("02:00:01") || r.header.Get("Retry-After") != "" || r.header.Get("intuit_tid") == "" {
		t.Fatalf("11th concurrent call: %d %v %s", r.status, r.header, r)
	}
	release()
	wg.Wait()
	for _, s := range statuses {
		if s != 200 {
			t.Fatalf("held calls: %v", statuses)
		}
	}
	if r := e.api("GET", "/preferences", ""); r.status != 200 {
		t.Fatalf("after release: %d", r.status)
	}
}

func TestMinuteAndSecondLimits(t *testing.T) {
	e := newEnv(t).login()
	for i := range 10 {
		if r := e.api("GET", "/preferences", ""); r.status != 200 {
			t.Fatalf("call %d: %d", i+1, r.status)
		}
	}
	if r := e.api("GET", "/preferences", ""); r.status != 429 || string(r.body) != throttle("02:00:00") {
		t.Fatalf("11th call in a second: %d %s", r.status, r)
	}
	for i := 10; i < 500; i++ {
		if i%10 == 0 {
			e.clock.Advance(time.Second)
		}
		if r := e.api("GET", "/preferences", ""); r.status != 200 {
			t.Fatalf("call %d: %d", i+1, r.status)
		}
	}
	e.clock.Advance(time.Second)
	if r := e.api("GET", "/preferences", ""); r.status != 429 || string(r.body) != throttle("02:00:50") {
		t.Fatalf("501st call in a minute: %d %s", r.status, r)
	}
	e.clock.Advance(10 * time.Second)
	if r := e.api("GET", "/preferences", ""); r.status != 200 {
		t.Fatalf("after the first second left the window: %d", r.status)
	}
}

func TestThrottleShapeIsConfigurable(t *testing.T) {
	rules := sandbox.DefaultRules()
	rules.ThrottleRetryAfter, rules.ThrottleFaultType = 1500*time.Millisecond, "ThrottleFault"
	e := newEnv(t, sandbox.WithRules(rules), sandbox.WithLimits(sandbox.Limits{PerMinute: 1})).login()
	e.api("GET", "/preferences", "")
	r := e.api("GET", "/preferences", "")
	if r.status != 429 || r.header.Get("Retry-After") != "2" || !strings.Contains(r.String(), `"type":"ThrottleFault"`) {
		t.Fatalf("%d %v %s", r.status, r.header, r)
	}
}

func TestInjectedFaults(t *testing.T) {
	e := newEnv(t).login()
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/journalentry", Status: 500})
	r := e.api("POST", "/journalentry?requestid=f1", goodJE)
	want := `{"Fault":{"Error":[{"Message":"An application error has occurred while processing your request","Detail":"System Failure Error: An unexpected error occurred while accessing or saving your data. Please wait a few minutes and try again. If the problem persists, contact customer support.","code":"10000","element":""}],"type":"SystemFault"},"time":"` + at + `"}`
	if r.status != 500 || string(r.body) != want {
		t.Fatalf("injected 500: %d %s", r.status, r)
	}
	// Not remembered under the requestid: the retry is processed.
	if r := e.api("POST", "/journalentry?requestid=f1", goodJE); r.status != 200 {
		t.Fatalf("after 500: %s", r)
	}

	// A dropped answer after commit.
	e.sb.InjectFault(sandbox.Fault{Path: "/JournalEntry", DropResponse: true})
	h := http.Header{"Authorization": {"Bearer " + e.tok.AccessToken}, "Content-Type": {"application/json"}}
	body := strings.Replace(goodJE, "D-1", "D-2", 1)
	req, _ := http.NewRequestWithContext(e.ctx, "POST", e.srv.URL+sandbox.APIPath+realm+"/journalentry?requestid=f2", strings.NewReader(body))
	req.Header = h
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped response arrived: %d", resp.StatusCode)
	}
	js := e.sb.JournalEntries(realm)
	if len(js) != 2 {
		t.Fatalf("the dropped call was not committed: %d entries", len(js))
	}
	if r := e.api("POST", "/journalentry?requestid=f2", body); r.status != 200 || !strings.Contains(r.String(), `"Id":"`+js[1].ID+`"`) || len(e.sb.JournalEntries(realm)) != 2 {
		t.Fatalf("retry after drop: %s", r)
	}

	// A slow answer: committed, then held.
	e.sb.InjectFault(sandbox.Fault{Path: "/journalentry", Delay: time.Minute})
	slow := &http.Client{Transport: e.srv.Client().Transport, Timeout: 100 * time.Millisecond}
	req, _ = http.NewRequestWithContext(e.ctx, "POST", e.srv.URL+sandbox.APIPath+realm+"/journalentry", strings.NewReader(strings.Replace(goodJE, "D-1", "D-3", 1)))
	req.Header = h
	if resp, err := slow.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the slow answer arrived in time")
	}
	if n := len(e.sb.JournalEntries(realm)); n != 3 {
		t.Fatalf("slow call not committed: %d", n)
	}

	// A Fault with HTTP 200.
	e.sb.InjectFault(sandbox.Fault{Path: "/journalentry", FaultAs200: true})
	if r := e.api("POST", "/journalentry", strings.Replace(goodJE, "108.50", "1", 1)); r.status != 200 || !strings.HasPrefix(r.String(), `{"Fault":`) {
		t.Fatalf("fault as 200: %d %s", r.status, r)
	}

	// Faults apply Times times, then expire; ClearFaults disarms them.
	e.sb.InjectFault(sandbox.Fault{Status: 503, Times: 2})
	for range 2 {
		if r := e.api("GET", "/preferences", ""); r.status != 503 {
			t.Fatalf("503: %d", r.status)
		}
	}
	if r := e.api("GET", "/preferences", ""); r.status != 200 {
		t.Fatalf("after the faults: %d", r.status)
	}
	e.sb.InjectFault(sandbox.Fault{Status: 502})
	e.sb.ClearFaults()
	if r := e.api("GET", "/preferences", ""); r.status != 200 {
		t.Fatalf("after ClearFaults: %d", r.status)
	}
	e.sb.ExpireAccessTokens()
	if r := e.api("GET", "/preferences", ""); r.status != 401 {
		t.Fatalf("after ExpireAccessTokens: %d", r.status)
	}
}

func TestSeedAndReadBack(t *testing.T) {
	c := sandbox.Company{RealmID: "123", CompanyName: "Seeded", Accounts: []sandbox.Account{{Name: "A", AccountType: "Bank"}}}
	sb := sandbox.New(sandbox.WithCompany(c))
	got, ok := sb.Company("123")
	if !ok || got.Accounts[0].ID == "" || got.Accounts[0].Classification != "Asset" || got.Accounts[0].Currency != "USD" || got.TimeZone == "" {
		t.Fatalf("seeded %+v", got)
	}
	got.Accounts[0].Name = "changed"
	if again, _ := sb.Company("123"); again.Accounts[0].Name != "A" {
		t.Fatal("Company returned shared state")
	}
	if ids := sb.RealmIDs(); len(ids) != 1 || ids[0] != "123" {
		t.Fatalf("realms %v", ids)
	}
	if err := sb.UpdateCompany("nope", func(*sandbox.Company) {}); err == nil {
		t.Fatal("unknown realm updated")
	}
	if sb.JournalEntries("123") == nil || len(sb.JournalEntries("123")) != 0 {
		t.Fatal("read-back of an empty realm")
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
	resp, err := http.Get(base + sandbox.APIPath + realm + "/preferences")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	if ids := sb.RealmIDs(); len(ids) != 1 || ids[0] != realm {
		t.Fatalf("realms %v", ids)
	}
}
