package netsuite_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/netsuite"
	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID     = "commercesync-test"
	clientSecret = "s3cret"
	redirectURL  = "https://app.commercesync.test/oauth/netsuite/callback"
	// NetSuite wants 24 to 1024 characters of state (§4.1).
	oauthState = "conn-42.0123456789abcdefghij"
	account    = sandbox.DefaultAccountID
)

var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// exchange is one HTTP round trip as it crossed the wire.
type exchange struct {
	method  string
	url     *url.URL
	reqHead http.Header
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// recorder keeps every exchange, so tests assert on the sandbox's raw
// answers to the connector's real requests.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.log = append(r.log, exchange{req.Method, req.URL, req.Header.Clone(), reqBody, resp.StatusCode, resp.Header.Clone(), body})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) all() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

func (r *recorder) last() exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.log) == 0 {
		return exchange{}
	}
	return r.log[len(r.log)-1]
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *sandbox.Clock
	sb      *sandbox.Server
	srv     *httptest.Server
	rec     *recorder
	conn    *netsuite.Connector
	cfg     *oauth2.Config
	first   *oauth2.Token
	session connectors.Session

	mu    sync.Mutex
	saved []*oauth2.Token
}

type options struct {
	sandbox []sandbox.Option
	conn    []netsuite.Option
}

func newFixture(t *testing.T, o options) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: sandbox.NewClock(start)}
	f.sb = sandbox.New(append([]sandbox.Option{
		sandbox.WithClock(f.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{redirectURL}}),
	}, o.sandbox...)...)
	f.srv = httptest.NewServer(f.sb.Handler())
	t.Cleanup(f.srv.Close)
	f.rec = &recorder{base: f.srv.Client().Transport}
	hc := &http.Client{Transport: f.rec}
	f.conn = netsuite.New(append([]netsuite.Option{
		netsuite.WithClientID(clientID), netsuite.WithClientSecret(clientSecret), netsuite.WithAccountID(account),
		netsuite.WithSandboxBase(f.srv.URL), netsuite.WithHTTPClient(hc), netsuite.WithClock(f.clock.Now),
	}, o.conn...)...)
	f.cfg = f.conn.OAuthConfig(redirectURL)
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, hc)
	return f
}

// connect runs the authorization-code flow through the consent page and
// opens a session on the account.
func (f *fixture) connect() []connectors.Tenant {
	f.t.Helper()
	loc, err := sandbox.Approve(f.ctx, f.srv.Client(), f.cfg.AuthCodeURL(oauthState), "")
	if err != nil {
		f.t.Fatalf("consent: %v", err)
	}
	if loc.Query().Get("state") != oauthState || loc.Query().Get("error") != "" {
		f.t.Fatalf("consent redirect %s", loc)
	}
	if !strings.HasPrefix(loc.String(), redirectURL+"?") {
		f.t.Fatalf("redirected to %s, want %s", loc, redirectURL)
	}
	tok, err := f.cfg.Exchange(f.ctx, loc.Query().Get("code"))
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	// NetSuite answers expires_in as a string (Oracle's samples).
	if tok.RefreshToken == "" || tok.Extra("expires_in") != "3600" || tok.TokenType != "Bearer" {
		f.t.Fatalf("token: refresh %q expires_in %v type %q", tok.RefreshToken, tok.Extra("expires_in"), tok.TokenType)
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
	return f.pushCtx(f.ctx, doc, ref)
}

func (f *fixture) pushCtx(ctx context.Context, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, *connectors.Error) {
	f.t.Helper()
	res, err := f.conn.Push(ctx, f.session, doc, ref)
	if err == nil {
		return res, nil
	}
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		f.t.Fatalf("push returned an unclassified error: %v", err)
	}
	return res, ce
}

func (f *fixture) journals() []sandbox.Journal { return f.sb.Journals(account) }

// line is (account id, signed amount).
func journal(date, currency string, lines ...[2]string) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: date, Currency: currency, Narration: "Daily sales summary " + date + " " + currency}
	for _, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{AccountId: l[0], Amount: l[1], Description: "line " + l[0]})
	}
	return doc
}

func balanced() *commercesyncv1.Document {
	return journal("2026-07-14", "USD",
		[2]string{sandbox.AccountCardClearing, "108.50"}, [2]string{sandbox.AccountSales, "-100.00"}, [2]string{sandbox.AccountSalesTax, "-8.50"})
}

func ref(v string) connectors.Reference {
	return connectors.Reference{Value: v, IdempotencyKey: v + "-c1"}
}

func TestOAuthTenantsAndSetup(t *testing.T) {
	f := newFixture(t, options{})
	authURL := f.cfg.AuthCodeURL(oauthState)
	wantAuth := f.srv.URL + "/1234567-sb1" + netsuite.AuthorizePath + "?"
	if !strings.HasPrefix(authURL, wantAuth) || !strings.Contains(authURL, "scope=rest_webservices") || !strings.Contains(authURL, "response_type=code") {
		t.Fatalf("auth URL %s, want %s…scope=rest_webservices", authURL, wantAuth)
	}
	if want := f.srv.URL + "/1234567-sb1" + netsuite.TokenPath; f.cfg.Endpoint.TokenURL != want {
		t.Fatalf("token URL %s, want %s", f.cfg.Endpoint.TokenURL, want)
	}
	// A state shorter than 24 characters is refused on the redirect (§4.1).
	loc, err := sandbox.Approve(f.ctx, f.srv.Client(), f.cfg.AuthCodeURL("short"), "")
	if err != nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "short" {
		t.Fatalf("short state: %v %v", loc, err)
	}

	tenants := f.connect()
	if want := (connectors.Tenant{ID: account, Name: "Commerce Demo Inc."}); len(tenants) != 1 || tenants[0] != want {
		t.Fatalf("tenants = %+v, want [%+v]", tenants, want)
	}
	// Tenants used the token on the account's API, with the SuiteQL header.
	if x := f.rec.last(); x.url.Path != "/1234567-sb1"+netsuite.SuiteQLPath || x.reqHead.Get("Prefer") != "transient" || x.status != 200 {
		t.Fatalf("tenants call: %s %s Prefer=%q → %d", x.method, x.url, x.reqHead.Get("Prefer"), x.status)
	}

	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.BaseCurrency != "USD" || setup.LockDate != "" || setup.TaxRates == nil || len(setup.TaxRates) != 0 {
		t.Fatalf("setup base %q lock %q tax %v", setup.BaseCurrency, setup.LockDate, setup.TaxRates)
	}
	if len(setup.Accounts) != 17 {
		t.Fatalf("%d accounts, want 17", len(setup.Accounts))
	}
	byCode := map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		byCode[a.Code] = a
	}
	checks := map[string]connectors.Account{
		"1000": {ID: "1", Code: "1000", Name: "Operating Bank Account", Type: "Bank", Class: "ASSET", Status: "ACTIVE", Bank: true, EnablePayments: true, Currency: "USD"},
		"1100": {ID: "2", Code: "1100", Name: "Accounts Receivable", Type: "AcctRec", Class: "ASSET", Status: "ACTIVE", System: true},
		"1200": {ID: "58", Code: "1200", Name: "Card Clearing", Type: "OthCurrAsset", Class: "ASSET", Status: "ACTIVE", EnablePayments: true},
		"2200": {ID: "61", Code: "2200", Name: "Sales Tax Payable", Type: "OthCurrLiab", Class: "LIABILITY", Status: "ACTIVE"},
		"4000": {ID: "4", Code: "4000", Name: "Sales", Type: "Income", Class: "REVENUE", Status: "ACTIVE"},
		"5000": {ID: "9", Code: "5000", Name: "Cost of Goods Sold", Type: "COGS", Class: "EXPENSE", Status: "INACTIVE"},
	}
	for code, want := range checks {
		if got := byCode[code]; got != want {
			t.Errorf("account %s\n got %+v\nwant %+v", code, got, want)
		}
	}

	// A period locks as a whole: locking through 15 June locks June.
	if err := f.sb.LockPeriodsThrough(account, "2026-06-15"); err != nil {
		t.Fatal(err)
	}
	if setup, err = f.conn.Setup(f.ctx, f.session); err != nil || setup.LockDate != "2026-06-30" {
		t.Fatalf("lock date %q (%v), want 2026-06-30", setup.LockDate, err)
	}
	if err := f.sb.ClosePeriodsThrough(account, "2026-07-01"); err != nil {
		t.Fatal(err)
	}
	if setup, err = f.conn.Setup(f.ctx, f.session); err != nil || setup.LockDate != "2026-07-31" {
		t.Fatalf("lock date %q (%v), want 2026-07-31", setup.LockDate, err)
	}
}

func TestPushExactPayloadUpsertAndFind(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	r := ref("CS-0123456789ABCDEF0123")

	if _, found, err := f.conn.Find(f.ctx, f.session, r); err != nil || found {
		t.Fatalf("find before push: found=%v err=%v", found, err)
	}
	// The sandbox's raw not-found answer.
	if x := f.rec.last(); x.status != 404 || string(x.body) != `{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5","title":"Not Found","status":404,`+
		`"o:errorDetails":[{"detail":"The record instance does not exist. Provide a valid record instance ID.","o:errorCode":"NONEXISTENT_ID"}]}` {
		t.Fatalf("find answer %d %s", x.status, x.body)
	}

	first, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	put := f.rec.last()
	wantBody := `{"subsidiary":{"id":"1"},"currency":{"id":"1"},"exchangeRate":1.0,"tranDate":"2026-07-14",` +
		`"memo":"Daily sales summary 2026-07-14 USD [CS-0123456789ABCDEF0123]","line":{"items":[` +
		`{"account":{"id":"58"},"debit":108.50,"memo":"line 58"},` +
		`{"account":{"id":"4"},"credit":100.00,"memo":"line 4"},` +
		`{"account":{"id":"61"},"credit":8.50,"memo":"line 61"}]}}`
	if put.method != http.MethodPut || put.url.Path != "/1234567-sb1"+netsuite.RecordPath+"/journalentry/eid:CS-0123456789ABCDEF0123" ||
		put.url.RawQuery != "replace=line" || string(put.reqBody) != wantBody ||
		put.reqHead.Get("X-NetSuite-PropertyNameValidation") != "Error" || put.reqHead.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s\n%s\nwant %s", put.method, put.url, put.reqBody, wantBody)
	}
	wantLoc := f.srv.URL + "/1234567-sb1" + netsuite.RecordPath + "/journalentry/1001"
	if put.status != http.StatusNoContent || put.header.Get("Location") != wantLoc || len(put.body) != 0 {
		t.Fatalf("answer %d Location %q body %q, want 204 %s", put.status, put.header.Get("Location"), put.body, wantLoc)
	}
	if first.ExternalID != "1001" {
		t.Fatalf("external id %q, want 1001", first.ExternalID)
	}
	js := f.journals()
	if len(js) != 1 {
		t.Fatalf("%d journals, want 1", len(js))
	}
	j := js[0]
	if j.ID != "1001" || j.ExternalID != r.Value || j.Subsidiary != "1" || j.Currency != "1" || j.ExchangeRate != "1.0" ||
		j.TranDate != "2026-07-14" || j.Memo != "Daily sales summary 2026-07-14 USD [CS-0123456789ABCDEF0123]" {
		t.Fatalf("stored %+v", j)
	}
	want := []struct{ account, debit, credit string }{{"58", "108.5", "0"}, {"4", "0", "100"}, {"61", "0", "8.5"}}
	if len(j.Lines) != len(want) {
		t.Fatalf("%d lines", len(j.Lines))
	}
	for i, w := range want {
		l := j.Lines[i]
		if l.Account != w.account || !l.Debit.Equal(decimal.RequireFromString(w.debit)) || !l.Credit.Equal(decimal.RequireFromString(w.credit)) {
			t.Errorf("line %d = %+v, want %+v", i, l, w)
		}
	}

	// The same document again: byte-identical body, same record, lines
	// replaced rather than appended, nothing duplicated.
	again, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("re-push: %v", cerr)
	}
	if x := f.rec.last(); string(x.reqBody) != wantBody {
		t.Fatalf("re-push body differs:\n%s", x.reqBody)
	}
	js = f.journals()
	if again.ExternalID != first.ExternalID || len(js) != 1 || len(js[0].Lines) != 3 || js[0].Updates != 1 {
		t.Fatalf("re-push: id %s, %d journals, %d lines, %d updates", again.ExternalID, len(js), len(js[0].Lines), js[0].Updates)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != "1001" {
		t.Fatalf("find = %+v %v %v", found, ok, err)
	}
	if x := f.rec.last(); x.method != http.MethodGet || x.url.Path != "/1234567-sb1"+netsuite.RecordPath+"/journalentry/eid:CS-0123456789ABCDEF0123" {
		t.Fatalf("find request %s %s", x.method, x.url)
	}
	// Another reference is another entry.
	if other, cerr := f.push(balanced(), ref("CS-OTHER")); cerr != nil || other.ExternalID != "1002" || len(f.journals()) != 2 {
		t.Fatalf("second document: %+v %v", other, cerr)
	}
}

func TestReferencesOutsideExternalIDsAreHashed(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	r := ref("acme/2026-07-14/USD/r1/c3/0")
	ext := netsuite.ExternalID(r.Value)
	if !strings.HasPrefix(ext, "cs-") || len(ext) != 43 || ext != netsuite.ExternalID(r.Value) {
		t.Fatalf("external id %q", ext)
	}
	if _, cerr := f.push(balanced(), r); cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	if j, ok := f.sb.JournalByExternalID(account, ext); !ok || !strings.HasSuffix(j.Memo, "["+r.Value+"]") {
		t.Fatalf("journal under %s: %+v %v", ext, j, ok)
	}
	if res, ok, err := f.conn.Find(f.ctx, f.session, r); err != nil || !ok || res.ExternalID != "1001" {
		t.Fatalf("find: %+v %v %v", res, ok, err)
	}
}

func TestDroppedResponseThenFind(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	r := ref("CS-DROPPED")
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Path: "/record/v1/journalentry", DropResponse: true})
	_, cerr := f.push(balanced(), r)
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("dropped response: %v, want retryable without status", cerr)
	}
	if n := len(f.journals()); n != 1 {
		t.Fatalf("the dropped call was not committed: %d journals", n)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != f.journals()[0].ID {
		t.Fatalf("find after drop = %+v %v %v", found, ok, err)
	}
	// Even a blind re-push cannot duplicate: the upsert updates.
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != found.ExternalID || len(f.journals()) != 1 || len(f.journals()[0].Lines) != 3 {
		t.Fatalf("re-push after drop: %+v %v, %d journals", again, cerr, len(f.journals()))
	}
}

func TestSlowAnswerThenFind(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	f.conn.Setup(f.ctx, f.session) // warm the state so the held call is the upsert
	r := ref("CS-SLOW")
	committed, release := f.sb.HoldAnswers()
	defer release()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan *connectors.Error, 1)
	go func() {
		_, cerr := f.pushCtx(ctx, balanced(), r)
		done <- cerr
	}()
	<-committed
	cancel() // the client gives up on a slow answer
	cerr := <-done
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("slow answer: %v, want retryable without status", cerr)
	}
	release()
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != "1001" {
		t.Fatalf("find after a slow answer = %+v %v %v", found, ok, err)
	}
}

// TestRejections pushes each document of the acceptance list and checks
// the sandbox's raw answer, byte for byte, and the connector's class.
func TestRejections(t *testing.T) {
	const p = "Error while accessing a resource. "
	const typ400 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"
	cases := []struct {
		name   string
		prep   func(*fixture)
		doc    *commercesyncv1.Document
		detail string
		path   string
	}{
		{"unbalanced journal", nil,
			journal("2026-07-14", "USD", [2]string{sandbox.AccountCardClearing, "100.00"}, [2]string{sandbox.AccountSales, "-90.00"}),
			p + "The transaction is out of balance: total debits 100.00 must equal total credits 90.00.", "line"},
		{"inactive account", nil,
			journal("2026-07-14", "USD", [2]string{sandbox.AccountInactive, "10.00"}, [2]string{sandbox.AccountSales, "-10.00"}),
			p + "You have entered an Invalid Field Value 9 for the following field: account.", "line.items[0].account"},
		{"locked period", func(f *fixture) { f.sb.LockPeriodsThrough(account, "2026-06-30") },
			journal("2026-06-30", "USD", [2]string{sandbox.AccountCardClearing, "10.00"}, [2]string{sandbox.AccountSales, "-10.00"}),
			p + "The accounting period Jun 2026 for the transaction date 2026-06-30 is locked.", "tranDate"},
		{"closed period", func(f *fixture) { f.sb.ClosePeriodsThrough(account, "2026-05-31") },
			journal("2026-05-02", "USD", [2]string{sandbox.AccountCardClearing, "10.00"}, [2]string{sandbox.AccountSales, "-10.00"}),
			p + "The accounting period May 2026 for the transaction date 2026-05-02 is closed.", "tranDate"},
		{"currency not enabled", nil,
			journal("2026-07-14", "CAD", [2]string{sandbox.AccountCardClearing, "10.00"}, [2]string{sandbox.AccountSales, "-10.00"}),
			p + "You have entered an Invalid Field Value 3 for the following field: currency.", "currency"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, options{})
			f.connect()
			if c.prep != nil {
				c.prep(f)
			}
			_, cerr := f.push(c.doc, ref("CS-REJECT-"+string(rune('A'+i))))
			x := f.rec.last()
			want := `{"type":"` + typ400 + `","title":"Bad Request","status":400,"o:errorDetails":[{"detail":"` + c.detail +
				`","o:errorCode":"USER_ERROR","o:errorPath":"` + c.path + `"}]}`
			if x.method != http.MethodPut || x.status != http.StatusBadRequest || string(x.body) != want {
				t.Fatalf("raw answer to %s %s: %d\n%s\nwant\n%s", x.method, x.url.Path, x.status, x.body, want)
			}
			if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != 400 || cerr.Message != c.detail || cerr.Field != c.path {
				t.Fatalf("classified %+v, want merchant-actionable 400 %q at %q", cerr, c.detail, c.path)
			}
			if n := len(f.journals()); n != 0 {
				t.Fatalf("%d journals stored", n)
			}
		})
	}
}

func TestCurrencyMissingFromNetSuite(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	before := len(f.rec.all())
	_, cerr := f.push(journal("2026-07-14", "CHF", [2]string{sandbox.AccountCardClearing, "1.00"}, [2]string{sandbox.AccountSales, "-1.00"}), ref("CS-CHF"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "Currency" || !strings.Contains(cerr.Message, "CHF is not set up in NetSuite") {
		t.Fatalf("CHF: %v", cerr)
	}
	for _, x := range f.rec.all()[before:] {
		if x.method == http.MethodPut {
			t.Fatalf("a journal was sent without a currency: %s", x.reqBody)
		}
	}
	// Once the merchant adds the currency, the next push reads it.
	f.sb.UpdateCompany(account, func(c *sandbox.Company) {
		c.Currencies = append(c.Currencies, sandbox.Currency{ID: "6", Symbol: "CHF", Name: "Swiss Franc", Precision: 2})
	})
	if _, cerr := f.push(journal("2026-07-14", "CHF", [2]string{sandbox.AccountCardClearing, "1.00"}, [2]string{sandbox.AccountSales, "-1.00"}), ref("CS-CHF")); cerr != nil {
		t.Fatalf("after adding CHF: %v", cerr)
	}
	if j := f.journals()[0]; j.Currency != "6" || j.ExchangeRate != "" {
		t.Fatalf("CHF journal %+v: want currency 6 and no exchange rate (foreign)", j)
	}
}

func TestOverTheConcurrencyLimit(t *testing.T) {
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithConcurrencyLimit(2)}})
	f.connect()
	r := ref("CS-CONCURRENT")
	arrived, release := f.sb.Stall()
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = f.conn.Find(f.ctx, f.session, r) })
	}
	<-arrived
	<-arrived
	_, _, err := f.conn.Find(f.ctx, f.session, r)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.Throttled || ce.Status != http.StatusTooManyRequests || ce.RetryAfter != netsuite.DefaultConcurrencyBackoff {
		t.Fatalf("third concurrent call: %v, want throttled 429 retry after %s", err, netsuite.DefaultConcurrencyBackoff)
	}
	var x exchange
	for _, e := range f.rec.all() {
		if e.status == http.StatusTooManyRequests {
			x = e
		}
	}
	want := `{"type":"https://www.rfc-editor.org/rfc/rfc6585.html#section-4","title":"Too Many Requests","status":429,` +
		`"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`
	if string(x.body) != want || x.header.Get("Retry-After") != "" {
		t.Fatalf("raw 429: %s (Retry-After %q)\nwant %s", x.body, x.header.Get("Retry-After"), want)
	}
	release()
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			t.Fatalf("held calls: %v", errs)
		}
	}
	if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
		t.Fatalf("after release: %v", err)
	}

	// Slots held by other integrations free up as their requests end.
	f.sb.ExhaustConcurrency(account, ce.RetryAfter)
	if _, _, err := f.conn.Find(f.ctx, f.session, r); connectors.Classify(err).Class != connectors.Throttled {
		t.Fatalf("exhausted: %v", err)
	}
	f.clock.Advance(ce.RetryAfter)
	if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
}

func TestExpiredAccessTokenIsRefreshedAndSaved(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	// The client still believes its token is fresh (its own clock did not
	// move); NetSuite's did: the push meets a 401 and refreshes once.
	f.clock.Advance(61 * time.Minute)
	if _, cerr := f.push(balanced(), ref("CS-AFTER-EXPIRY")); cerr != nil {
		t.Fatalf("push with an expired access token: %v", cerr)
	}
	var rejected exchange
	for _, x := range f.rec.all() {
		if x.status == http.StatusUnauthorized {
			rejected = x
		}
	}
	want401 := `{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2","title":"Unauthorized","status":401,"o:errorDetails":[{"detail":` +
		`"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup \u003e Users/Roles \u003e User Management \u003e View Login Audit Trail.",` +
		`"o:errorCode":"INVALID_LOGIN"}]}`
	if string(rejected.body) != want401 ||
		rejected.header.Get("Www-Authenticate") != `OAuth realm="1234567_SB1", error="token_rejected", error_description="Invalid login attempt."` {
		t.Fatalf("raw 401: %s %v", rejected.body, rejected.header)
	}
	saved := f.savedTokens()
	if len(saved) != 1 || saved[0].AccessToken == f.first.AccessToken || saved[0].AccessToken == "" {
		t.Fatalf("%d tokens saved; want one with a new access token", len(saved))
	}
	// NetSuite does not rotate refresh tokens by default: the saved token
	// keeps the original one.
	if saved[0].RefreshToken != f.first.RefreshToken {
		t.Fatalf("saved refresh token %q, want the original", saved[0].RefreshToken)
	}
}

func TestRotatedRefreshTokenIsSaved(t *testing.T) {
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithRules(func(r *sandbox.Rules) { r.RotateRefreshTokens = true })}})
	f.connect()
	f.sb.ExpireAccessTokens()
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("setup after the tokens expired: %v", err)
	}
	saved := f.savedTokens()
	if len(saved) != 1 || saved[0].RefreshToken == "" || saved[0].RefreshToken == f.first.RefreshToken {
		t.Fatalf("saved %d tokens; the rotated refresh token must be stored", len(saved))
	}
	_, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("retired refresh token: %v, want invalid_grant", err)
	}
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token(); err != nil {
		t.Fatalf("rotated refresh token: %v", err)
	}
}

func TestRefreshTokenExpiresAfterSevenDays(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	f.clock.Advance(7*24*time.Hour - time.Minute)
	f.sb.ExpireAccessTokens()
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("refresh a minute before 7 days: %v", err)
	}
	f.clock.Advance(2 * time.Minute)
	f.sb.ExpireAccessTokens()
	_, cerr := f.push(balanced(), ref("CS-TOO-LATE"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || !strings.Contains(cerr.Message, "reconnect") || !cerr.Deauthorized {
		t.Fatalf("push after 7 days: %v, want merchant-actionable reconnect that deauthorizes", cerr)
	}
	var re *oauth2.RetrieveError
	if !errors.As(cerr, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Fatalf("cause %v, want invalid_grant", cerr.Err)
	}
	if len(f.journals()) != 0 {
		t.Fatal("a journal was stored")
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	f.conn.Setup(f.ctx, f.session)
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		f.sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Status: status})
		_, cerr := f.push(balanced(), ref("CS-FIVE-HUNDRED"))
		if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != status || !strings.Contains(cerr.Message, "UNEXPECTED_ERROR") {
			t.Fatalf("status %d: %v, want retryable", status, cerr)
		}
	}
	if len(f.journals()) != 0 {
		t.Fatal("a faulted call committed")
	}
	if _, cerr := f.push(balanced(), ref("CS-FIVE-HUNDRED")); cerr != nil {
		t.Fatalf("after faults: %v", cerr)
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	f.srv.Close()
	_, cerr := f.push(balanced(), ref("CS-OFFLINE"))
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("push to a closed server: %v, want retryable without status", cerr)
	}
}

func TestInvalidDocumentsAreFatal(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	cases := map[string]struct {
		doc *commercesyncv1.Document
		ref connectors.Reference
	}{
		"three decimals": {journal("2026-07-14", "USD", [2]string{"58", "1.005"}, [2]string{"4", "-1.005"}), ref("x")},
		"yen decimals":   {journal("2026-07-14", "JPY", [2]string{"58", "1.5"}, [2]string{"4", "-1.5"}), ref("x")},
		"not a journal":  {&commercesyncv1.Document{Type: "Invoice"}, ref("x")},
		"no document":    {nil, ref("x")},
		"bad date":       {journal("14/07/2026", "USD", [2]string{"58", "1"}, [2]string{"4", "-1"}), ref("x")},
		"one line":       {journal("2026-07-14", "USD", [2]string{"58", "0"}), ref("x")},
		"all zero":       {journal("2026-07-14", "USD", [2]string{"58", "0"}, [2]string{"4", "0.00"}), ref("x")},
		"no account":     {journal("2026-07-14", "USD", [2]string{"", "1"}, [2]string{"4", "-1"}), ref("x")},
		"not a number":   {journal("2026-07-14", "USD", [2]string{"58", "1,00"}, [2]string{"4", "-1"}), ref("x")},
		"empty ref":      {balanced(), connectors.Reference{IdempotencyKey: "k"}},
		"bracket in ref": {balanced(), ref("a]b")},
	}
	for name, c := range cases {
		_, cerr := f.push(c.doc, c.ref)
		if cerr == nil || cerr.Class != connectors.Fatal {
			t.Errorf("%s: %v, want fatal", name, cerr)
		}
	}
	if n := len(f.journals()); n != 0 {
		t.Fatalf("%d journals stored", n)
	}
}

func TestAccountCodesResolveToIDs(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	doc := balanced()
	for _, l := range doc.Lines {
		l.AccountCode, l.AccountId = map[string]string{"58": "1200", "4": "4000", "61": "2200"}[l.AccountId], ""
	}
	if _, cerr := f.push(doc, ref("CS-CODES")); cerr != nil {
		t.Fatalf("push by code: %v", cerr)
	}
	if j := f.journals()[0]; j.Lines[0].Account != "58" || j.Lines[1].Account != "4" || j.Lines[2].Account != "61" {
		t.Fatalf("lines %+v", j.Lines)
	}
	doc.Lines[0].AccountCode = "9999"
	if _, cerr := f.push(doc, ref("CS-CODES-2")); cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "Lines[0].AccountCode" {
		t.Fatalf("unknown code: %v", cerr)
	}
}

func twoSubsidiaries() sandbox.Company {
	c := sandbox.DefaultCompany()
	c.Subsidiaries = append(c.Subsidiaries, sandbox.Subsidiary{ID: "2", Name: "Commerce Demo UK Ltd", Currency: sandbox.CurrencyGBP, Parent: "1"})
	return c
}

func TestSeveralSubsidiariesNeedAChoice(t *testing.T) {
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(twoSubsidiaries())}})
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil || setup.BaseCurrency != "" || len(setup.Accounts) == 0 {
		t.Fatalf("setup with two subsidiaries: %+v %v", setup, err)
	}
	_, cerr := f.push(balanced(), ref("CS-SUB"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "subsidiary" || !strings.Contains(cerr.Message, "2 Commerce Demo UK Ltd") {
		t.Fatalf("push: %v", cerr)
	}

	g := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(twoSubsidiaries())}, conn: []netsuite.Option{netsuite.WithSubsidiary("2")}})
	g.connect()
	if setup, err := g.conn.Setup(g.ctx, g.session); err != nil || setup.BaseCurrency != "GBP" {
		t.Fatalf("pinned setup: %+v %v", setup, err)
	}
	doc := balanced()
	doc.Currency = "GBP"
	if _, cerr := g.push(doc, ref("CS-SUB")); cerr != nil {
		t.Fatalf("push to subsidiary 2: %v", cerr)
	}
	if j := g.sb.Journals(account)[0]; j.Subsidiary != "2" || j.Currency != sandbox.CurrencyGBP || j.ExchangeRate != "1.0" {
		t.Fatalf("journal %+v", j)
	}
}

func TestCapabilities(t *testing.T) {
	c := netsuite.New().Capabilities()
	want := connectors.Capabilities{
		JournalMode: true, JournalForbidsSystemAccounts: true, MaxIdempotencyKeyLen: 64, MaxReferenceLen: 64,
		IdempotencyKind: "body", MaxConcurrent: 15,
		// Class, department and location on a line; one record a request
		// (§4.2). No request rate is published, only concurrency (§4.6).
		TrackingDimensions: 3, LineTracking: true, MaxBatch: 1,
	}
	if c != want {
		t.Fatalf("capabilities %+v\nwant %+v", c, want)
	}
	if got := netsuite.New(netsuite.WithConcurrencyLimit(25)).Capabilities().MaxConcurrent; got != 25 {
		t.Fatalf("MaxConcurrent %d", got)
	}
	cfg := netsuite.New(netsuite.WithAccountID("1234567_SB1"), netsuite.WithClientID("id")).OAuthConfig("https://cb")
	if cfg.Endpoint.AuthURL != "https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl" ||
		cfg.Endpoint.TokenURL != "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token" ||
		cfg.Endpoint.AuthStyle != oauth2.AuthStyleInHeader || len(cfg.Scopes) != 1 || cfg.Scopes[0] != "rest_webservices" {
		t.Fatalf("production OAuth config %+v", cfg)
	}
}
