package sage_test

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
	"github.com/commercesync/commercesync/connectors/sage"
	"github.com/commercesync/commercesync/connectors/sage/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID     = "commercesync-test"
	clientSecret = "s3cret"
	redirectURL  = "https://app.commercesync.test/oauth/sage/callback"
)

var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// Default chart accounts (sandbox.DefaultBusiness).
var (
	cardClearing = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 1110)
	sales        = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 4000)
	salesTax     = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 2200)
	inactive     = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 5000)
)

// exchange is one API call as it crossed the wire.
type exchange struct {
	method, path string
	query        url.Values
	reqBody      []byte
	status       int
	header       http.Header
	respBody     []byte
}

// recorder keeps every exchange, so tests assert the sandbox's raw answer
// next to the connector's classification of it.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	r.mu.Lock()
	r.log = append(r.log, exchange{req.Method, req.URL.Path, req.URL.Query(), body, resp.StatusCode, resp.Header.Clone(), rb})
	r.mu.Unlock()
	return resp, nil
}

// last returns the last exchange with method and path.
func (r *recorder) last(t *testing.T, method, path string) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.log) - 1; i >= 0; i-- {
		if r.log[i].method == method && r.log[i].path == path {
			return r.log[i]
		}
	}
	t.Fatalf("no %s %s was sent", method, path)
	return exchange{}
}

// withStatus returns the last exchange answered with status.
func (r *recorder) withStatus(t *testing.T, status int) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.log) - 1; i >= 0; i-- {
		if r.log[i].status == status {
			return r.log[i]
		}
	}
	t.Fatalf("no answer with status %d", status)
	return exchange{}
}

func (r *recorder) count(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.log {
		if e.method == method && e.path == path {
			n++
		}
	}
	return n
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *sandbox.Clock
	sb      *sandbox.Server
	srv     *httptest.Server
	rec     *recorder
	hc      *http.Client
	conn    *sage.Connector
	cfg     *oauth2.Config
	first   *oauth2.Token
	session connectors.Session

	mu    sync.Mutex
	saved []*oauth2.Token
}

func newFixture(t *testing.T, opts ...sandbox.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: sandbox.NewClock(start)}
	f.sb = sandbox.New(append([]sandbox.Option{
		sandbox.WithClock(f.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{redirectURL}}),
	}, opts...)...)
	f.srv = httptest.NewServer(f.sb.Handler())
	t.Cleanup(f.srv.Close)
	f.rec = &recorder{base: f.srv.Client().Transport}
	f.hc = &http.Client{Transport: f.rec}
	f.conn = f.connector()
	f.cfg = f.conn.OAuthConfig(redirectURL)
	// The oauth2 package takes its HTTP client from the context.
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, f.hc)
	return f
}

func (f *fixture) connector(opts ...sage.Option) *sage.Connector {
	return sage.New(append([]sage.Option{
		sage.WithClientID(clientID), sage.WithClientSecret(clientSecret),
		sage.WithSandboxBase(f.srv.URL), sage.WithHTTPClient(f.hc), sage.WithClock(f.clock.Now),
	}, opts...)...)
}

// connect runs the authorization-code flow through the consent page and
// returns the businesses the connection sees; the session uses the first.
func (f *fixture) connect() []connectors.Tenant {
	f.t.Helper()
	loc, err := sandbox.Approve(f.ctx, f.hc, f.cfg.AuthCodeURL("state-123"))
	if err != nil {
		f.t.Fatalf("consent: %v", err)
	}
	q := loc.Query()
	if q.Get("state") != "state-123" || q.Get("country") != "GB" || q.Get("code") == "" {
		f.t.Fatalf("redirect %s: want code, country=GB and state-123", loc)
	}
	if !strings.HasPrefix(loc.String(), redirectURL+"?") {
		f.t.Fatalf("redirected to %s, want %s", loc, redirectURL)
	}
	tok, err := f.cfg.Exchange(f.ctx, q.Get("code"))
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
		f.t.Fatal("no businesses")
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
	return f.pushWith(f.conn, f.session, doc, ref)
}

func (f *fixture) pushWith(c *sage.Connector, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, *connectors.Error) {
	f.t.Helper()
	res, err := c.Push(f.ctx, s, doc, ref)
	if err == nil {
		return res, nil
	}
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		f.t.Fatalf("push returned an unclassified error: %v", err)
	}
	return res, ce
}

func (f *fixture) journals() []sandbox.Journal { return f.sb.Journals(sandbox.DefaultBusinessID) }

type line struct{ account, amount string }

func journal(date string, lines ...line) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: date, Currency: "GBP", Narration: "Daily sales summary " + date + " GBP"}
	for i, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{AccountId: l.account, Amount: l.amount, Description: "line " + string(rune('a'+i))})
	}
	return doc
}

func balanced() *commercesyncv1.Document {
	return journal("2026-07-14", line{cardClearing, "120.00"}, line{sales, "-100.00"}, line{salesTax, "-20"})
}

func ref(v string) connectors.Reference {
	return connectors.Reference{Value: v, IdempotencyKey: "doc-" + v + "-c1"}
}

func TestOAuthTenantsAndSetup(t *testing.T) {
	f := newFixture(t)
	tenants := f.connect()
	want := connectors.Tenant{ID: sandbox.DefaultBusinessID, Name: "Business One"}
	if len(tenants) != 1 || tenants[0] != want {
		t.Fatalf("tenants = %+v, want [%+v]", tenants, want)
	}
	// Sage's lifetimes: access 5 minutes, refresh 31 days (apis.md §3.1).
	if got, ok := f.first.Extra("expires_in").(float64); !ok || got != 300 {
		t.Fatalf("expires_in = %v, want 300", f.first.Extra("expires_in"))
	}
	if got, ok := f.first.Extra("refresh_token_expires_in").(float64); !ok || got != 2678400 {
		t.Fatalf("refresh_token_expires_in = %v, want 2678400", f.first.Extra("refresh_token_expires_in"))
	}
	if f.first.RefreshToken == "" || f.first.Extra("requested_by_id") == nil {
		t.Fatalf("token answer lacks refresh_token or requested_by_id: %+v", f.first)
	}

	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.BaseCurrency != "GBP" || setup.LockDate != "" {
		t.Fatalf("base %q lock %q, want GBP and no lock", setup.BaseCurrency, setup.LockDate)
	}
	byCode := map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		byCode[a.Code] = a
	}
	if len(setup.Accounts) != 16 {
		t.Errorf("%d accounts, want the 16 of the default chart", len(setup.Accounts))
	}
	checks := map[string]connectors.Account{
		"1110": {ID: cardClearing, Code: "1110", Name: "Card clearing", Type: "CURRENT_ASSETS", Class: "ASSET", Status: "ACTIVE"},
		"1200": {ID: sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 1200), Code: "1200", Name: "Bank Current Account", Type: "BANK", Class: "ASSET", Status: "ACTIVE", Bank: true},
		"2200": {ID: salesTax, Code: "2200", Name: "Sales Tax Control Account", Type: "CURRENT_LIABILITY", Class: "LIABILITY", Status: "ACTIVE", System: true},
		"4000": {ID: sales, Code: "4000", Name: "Sales - Products", Type: "SALES", Class: "REVENUE", Status: "ACTIVE"},
		"5000": {ID: inactive, Code: "5000", Name: "Cost of sales - goods", Type: "DIRECT_EXPENSES", Class: "EXPENSE", Status: "INACTIVE"},
		"7900": {ID: sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 7900), Code: "7900", Name: "Bank charges and interest", Type: "OVERHEADS", Class: "EXPENSE", Status: "ACTIVE"},
	}
	for code, want := range checks {
		if got := byCode[code]; got != want {
			t.Errorf("account %s = %+v\nwant %+v", code, got, want)
		}
	}
	rates := map[string]connectors.TaxRate{}
	for _, r := range setup.TaxRates {
		rates[r.ID] = r
	}
	if r := rates["GB_STANDARD"]; r.Rate != "20.0000" || r.Status != "ACTIVE" || r.Name != "Standard 20.00%" {
		t.Errorf("GB_STANDARD = %+v, want 20.0000 exactly", r)
	}
	if len(rates) != 5 {
		t.Errorf("%d tax rates, want 5", len(rates))
	}

	// The lock date is financial_settings.year_end_lockdown_date.
	if err := f.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "2026-03-31" }); err != nil {
		t.Fatal(err)
	}
	setup, err = f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.LockDate != "2026-03-31" {
		t.Fatalf("lock date = %q, want 2026-03-31", setup.LockDate)
	}
}

func TestPushExactBodyRePushAndFind(t *testing.T) {
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
	sent := f.rec.last(t, http.MethodPost, "/v3.1/journals")
	wantBody := `{"journal":{"date":"2026-07-14","reference":"CS-0123456789ABCDEF0123","description":"Daily sales summary 2026-07-14 GBP",` +
		`"idempotency_id":"` + sage.IdempotencyID(r) + `","journal_lines":[` +
		`{"ledger_account_id":"` + cardClearing + `","debit":120.00,"credit":0.00,"details":"line a"},` +
		`{"ledger_account_id":"` + sales + `","debit":0.00,"credit":100.00,"details":"line b"},` +
		`{"ledger_account_id":"` + salesTax + `","debit":0.00,"credit":20.00,"details":"line c"}]}}`
	if string(sent.reqBody) != wantBody {
		t.Fatalf("body\n%s\nwant\n%s", sent.reqBody, wantBody)
	}
	if sent.status != http.StatusCreated {
		t.Fatalf("create answered %d: %s", sent.status, sent.respBody)
	}

	js := f.journals()
	if len(js) != 1 {
		t.Fatalf("%d journals, want 1", len(js))
	}
	j := js[0]
	if j.ID != first.ExternalID || j.Date != "2026-07-14" || j.Reference != r.Value || j.IdempotencyID != sage.IdempotencyID(r) ||
		!j.Total.Equal(decimal.RequireFromString("120")) {
		t.Fatalf("journal = %+v", j)
	}
	wantLines := []struct {
		account, debit, credit string
	}{{cardClearing, "120", "0"}, {sales, "0", "100"}, {salesTax, "0", "20"}}
	for i, w := range wantLines {
		l := j.Lines[i]
		if l.LedgerAccountID != w.account || !l.Debit.Equal(decimal.RequireFromString(w.debit)) || !l.Credit.Equal(decimal.RequireFromString(w.credit)) {
			t.Errorf("line %d = %+v, want %+v", i, l, w)
		}
	}

	// A re-push is byte-identical, and Sage answers it with the first
	// journal instead of a second one (apis.md §3.4).
	f.clock.Advance(time.Hour)
	again, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("re-push: %v", cerr)
	}
	resent := f.rec.last(t, http.MethodPost, "/v3.1/journals")
	if !bytes.Equal(resent.reqBody, sent.reqBody) {
		t.Fatalf("re-push body differs:\n%s\n%s", resent.reqBody, sent.reqBody)
	}
	if !bytes.Equal(resent.respBody, sent.respBody) || resent.status != http.StatusCreated {
		t.Fatalf("re-push was not answered with the first response")
	}
	if again.ExternalID != first.ExternalID || len(f.journals()) != 1 {
		t.Fatalf("re-push duplicated: %s vs %s, %d journals", again.ExternalID, first.ExternalID, len(f.journals()))
	}

	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("find = %+v, %v, %v; want %s", found, ok, err, first.ExternalID)
	}
	if _, ok, err := f.conn.Find(f.ctx, f.session, ref("CS-0123456789ABCDEF012")); err != nil || ok {
		t.Fatalf("a prefix of the reference must not match: found=%v err=%v", ok, err)
	}
}

func TestFindPagesThroughJournals(t *testing.T) {
	f := newFixture(t)
	f.connect()
	// 450 journals: the one sought is on the third page of 200.
	var last connectors.Result
	for i := range 450 {
		res, cerr := f.push(balanced(), ref("CS-"+strings.Repeat("0", 6)+decimal.NewFromInt(int64(i)).String()))
		if cerr != nil {
			t.Fatalf("push %d: %v", i, cerr)
		}
		last = res
		if i%190 == 189 {
			f.clock.Advance(time.Minute) // stay under 200 calls a minute
		}
	}
	f.clock.Advance(time.Minute)
	before := f.rec.count(http.MethodGet, "/v3.1/journals")
	res, ok, err := f.conn.Find(f.ctx, f.session, ref("CS-000000449"))
	if err != nil || !ok || res.ExternalID != last.ExternalID {
		t.Fatalf("find = %+v %v %v, want %s", res, ok, err, last.ExternalID)
	}
	if n := f.rec.count(http.MethodGet, "/v3.1/journals") - before; n != 3 {
		t.Fatalf("find made %d list calls, want 3 pages", n)
	}
	// Deleted journals no longer stand in the books.
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodDelete, f.srv.URL+"/v3.1/journals/"+last.ExternalID, nil)
	tok, _ := f.session.Tokens.Token()
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := f.hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, ok, err := f.conn.Find(f.ctx, f.session, ref("CS-000000449")); err != nil || ok {
		t.Fatalf("a deleted journal was found: %v %v", ok, err)
	}
}

func TestDroppedResponseThenFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-DROPPED")
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journals", DropResponse: true})
	_, cerr := f.push(balanced(), r)
	// The idempotency_id travels in the body, so Go's transport does not
	// re-send the POST: the caller sees an unknown outcome.
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("dropped response: %v, want retryable without status", cerr)
	}
	js := f.journals()
	if len(js) != 1 {
		t.Fatalf("%d journals after a dropped response, want the committed 1", len(js))
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != js[0].ID {
		t.Fatalf("find after the drop = %+v %v %v, want %s", found, ok, err, js[0].ID)
	}
	// A blind re-send within the idempotency memory is answered with the
	// same journal too.
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != js[0].ID || len(f.journals()) != 1 {
		t.Fatalf("re-push after the drop = %+v %v, %d journals", again, cerr, len(f.journals()))
	}
}

// TestRejections pushes each document the platform must refuse and checks
// the sandbox's exact answer on the wire and the connector's class.
func TestRejections(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if err := f.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "2026-06-30" }); err != nil {
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
		{"unbalanced", journal("2026-07-14", line{cardClearing, "100.00"}, line{sales, "-90.00"}), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The total debits (100.00) must equal the total credits (90.00).","$source":"journal_lines"}]`,
			"The total debits (100.00) must equal the total credits (90.00).", "journal_lines"},
		{"inactive account", journal("2026-07-14", line{inactive, "10.00"}, line{sales, "-10.00"}), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The ledger account Cost of sales - goods (5000) is not included in the chart of accounts.","$source":"journal_lines.ledger_account_id"}]`,
			"The ledger account Cost of sales - goods (5000) is not included in the chart of accounts.", "journal_lines.ledger_account_id"},
		{"locked period", journal("2026-06-30", line{cardClearing, "10.00"}, line{sales, "-10.00"}), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The date 2026-06-30 is on or before the year end lockdown date 2026-06-30.","$source":"date"}]`,
			"The date 2026-06-30 is on or before the year end lockdown date 2026-06-30.", "date"},
		{"deleted account", journal("2026-07-14", line{"ffffffffffffffffffffffffffffffff", "10.00"}, line{sales, "-10.00"}), 404,
			`[{"$severity":"error","$message":"Ledger account not found","$dataCode":"ResourceNotFound"}]`,
			"Ledger account not found", ""},
		{"locked and unbalanced together", journal("2026-01-02", line{cardClearing, "10.00"}, line{sales, "-1.00"}), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The date 2026-01-02 is on or before the year end lockdown date 2026-06-30.","$source":"date"},` +
				`{"$severity":"error","$dataCode":"RecordInvalid","$message":"The total debits (10.00) must equal the total credits (1.00).","$source":"journal_lines"}]`,
			"The date 2026-01-02 is on or before the year end lockdown date 2026-06-30. [date]; The total debits (10.00) must equal the total credits (1.00). [journal_lines]", "date"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cerr := f.push(c.doc, ref("CS-BAD-"+string(rune('A'+i))))
			got := f.rec.last(t, http.MethodPost, "/v3.1/journals")
			if got.status != c.status || string(got.respBody) != c.raw {
				t.Fatalf("sandbox answered %d %s\nwant        %d %s", got.status, got.respBody, c.status, c.raw)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
			if cerr == nil {
				t.Fatal("push succeeded")
			}
			if cerr.Class != connectors.MerchantActionable || cerr.Status != c.status || cerr.Message != c.msg || cerr.Field != c.field {
				t.Fatalf("classified %v status %d message %q field %q\nwant merchant-actionable %d %q %q", cerr.Class, cerr.Status, cerr.Message, cerr.Field, c.status, c.msg, c.field)
			}
		})
	}
	if n := len(f.journals()); n != 0 {
		t.Fatalf("%d journals stored from refused pushes", n)
	}
}

// A Sage journal has no currency: the connector refuses a document in a
// currency that is not the base currency before sending anything.
func TestCurrencyNotBase(t *testing.T) {
	f := newFixture(t)
	f.connect()
	for _, cur := range []string{"JPY", "EUR"} { // not enabled; enabled but not the base
		doc := balanced()
		doc.Currency = cur
		_, cerr := f.push(doc, ref("CS-CUR-"+cur))
		if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "currency" || cerr.Status != 0 ||
			!strings.Contains(cerr.Message, "base currency (GBP), but this document is in "+cur) {
			t.Fatalf("%s: %v, want merchant-actionable on currency", cur, cerr)
		}
	}
	if n := f.rec.count(http.MethodPost, "/v3.1/journals"); n != 0 {
		t.Fatalf("%d journals sent in a foreign currency", n)
	}
	// The base currency is read once and kept.
	if n := f.rec.count(http.MethodGet, "/v3.1/financial_settings"); n != 1 {
		t.Fatalf("financial settings read %d times, want 1", n)
	}
}

func TestOverTheLimitIsThrottled(t *testing.T) {
	for _, withHeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "no headers", true: "Retry-After rule"}[withHeader], func(t *testing.T) {
			f := newFixture(t, sandbox.WithRules(func(r *sandbox.Rules) { r.RetryAfter = withHeader }))
			f.connect() // GET /businesses counts against the lead business
			r := ref("CS-THROTTLE")
			for i := range 199 {
				if i == 100 {
					f.clock.Advance(20 * time.Second)
				}
				if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
					t.Fatalf("call %d: %v", i+2, err)
				}
			}
			_, _, err := f.conn.Find(f.ctx, f.session, r)
			got := f.rec.last(t, http.MethodGet, "/v3.1/journals")
			wantRaw := `[{"$severity":"error","$dataCode":"TooManyRequests","$message":"Too many requests. Please try again later.","$source":""}]`
			if got.status != http.StatusTooManyRequests || string(got.respBody) != wantRaw {
				t.Fatalf("201st call answered %d %s", got.status, got.respBody)
			}
			ce := connectors.Classify(err)
			if ce == nil || ce.Class != connectors.Throttled || ce.Status != http.StatusTooManyRequests {
				t.Fatalf("201st call: %v, want throttled 429", err)
			}
			// The oldest call leaves the window 60 s after it was made: the
			// first 101 calls at 0 s, so the wait is 40 s when Sage says so;
			// without a header the connector waits the whole window.
			want := time.Minute
			if withHeader {
				want = 40 * time.Second
				if got.header.Get("Retry-After") != "40" {
					t.Fatalf("Retry-After %q, want 40", got.header.Get("Retry-After"))
				}
			} else if h := got.header.Get("Retry-After"); h != "" {
				t.Fatalf("Retry-After %q sent although Sage documents none", h)
			}
			if ce.RetryAfter != want {
				t.Fatalf("RetryAfter = %s, want %s", ce.RetryAfter, want)
			}
			f.clock.Advance(40 * time.Second)
			if _, _, err := f.conn.Find(f.ctx, f.session, r); err != nil {
				t.Fatalf("after the window moved: %v", err)
			}
		})
	}
}

func TestExpiredAccessTokenRefreshesAndRotates(t *testing.T) {
	f := newFixture(t)
	f.connect()

	// The client still believes its token is fresh (its own clock did not
	// move); Sage's did, so the push meets a 401 and refreshes once.
	f.clock.Advance(5*time.Minute + time.Second)
	if _, cerr := f.push(balanced(), ref("CS-AFTER-EXPIRY")); cerr != nil {
		t.Fatalf("push with an expired access token: %v", cerr)
	}
	rejected := f.rec.withStatus(t, http.StatusUnauthorized)
	wantRaw := `[{"$severity":"error","$dataCode":"AccessTokenVerificationError","$message":"Access token is invalid (JWT malformed or missing).","$source":"Authorization"}]`
	if rejected.status != http.StatusUnauthorized || string(rejected.respBody) != wantRaw {
		t.Fatalf("expired token answered %d %s", rejected.status, rejected.respBody)
	}
	saved := f.savedTokens()
	if len(saved) != 1 {
		t.Fatalf("%d tokens saved, want 1 rotated token", len(saved))
	}
	if saved[0].RefreshToken == "" || saved[0].RefreshToken == f.first.RefreshToken || saved[0].AccessToken == f.first.AccessToken {
		t.Fatalf("saved token was not rotated: %+v", saved[0])
	}

	// The old refresh token died at its first use (no grace period).
	_, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token()
	tokenCall := f.rec.last(t, http.MethodPost, "/token")
	if tokenCall.status != http.StatusBadRequest || string(tokenCall.respBody) != `{"error":"invalid_grant"}` {
		t.Fatalf("reused refresh token answered %d %s", tokenCall.status, tokenCall.respBody)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v, want invalid_grant", err)
	}
	if c := connectors.Classify(err); c.Class != connectors.MerchantActionable {
		t.Fatalf("refused refresh classified %v, want merchant-actionable", c.Class)
	}
	// The rotated one works, once.
	next, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token()
	if err != nil || next.RefreshToken == saved[0].RefreshToken {
		t.Fatalf("rotated refresh token: %v", err)
	}
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token(); err == nil {
		t.Fatal("a refresh token was accepted twice")
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

func TestRefreshTokenLivesThirtyOneDays(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.clock.Advance(31*24*time.Hour - time.Minute)
	if _, _, err := f.conn.Find(f.ctx, f.session, ref("CS-DAY-30")); err != nil {
		t.Fatalf("refresh within 31 days: %v", err)
	}
	// The rotated token has 31 days again; an unused one expires.
	f.clock.Advance(31*24*time.Hour + time.Minute)
	_, cerr := f.push(balanced(), ref("CS-TOO-LATE"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable {
		t.Fatalf("push with an expired refresh token: %v, want merchant-actionable", cerr)
	}
}

func TestAuthorizationCodeIsSingleUseAndShortLived(t *testing.T) {
	f := newFixture(t)
	code := func() string {
		loc, err := sandbox.Approve(f.ctx, f.hc, f.cfg.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		return loc.Query().Get("code")
	}
	c := code()
	if _, err := f.cfg.Exchange(f.ctx, c); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := f.cfg.Exchange(f.ctx, c); err == nil {
		t.Fatal("a code was exchanged twice")
	}
	c = code()
	f.clock.Advance(61 * time.Second)
	_, err := f.cfg.Exchange(f.ctx, c)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("code after 61 s: %v, want invalid_grant", err)
	}
	// An unregistered redirect never gets a code.
	bad := *f.cfg
	bad.RedirectURL = "https://evil.test/cb"
	if loc, err := sandbox.Approve(f.ctx, f.hc, bad.AuthCodeURL("s")); err == nil {
		t.Fatalf("consent for an unregistered redirect went to %s", loc)
	}
}

func TestBusinessSelection(t *testing.T) {
	second := sandbox.DefaultBusiness()
	second.ID, second.Name, second.Lead = "1d40342d0287cd6b13555c54afca6c91", "Business Two", false
	second.LedgerAccounts = nil
	for _, a := range sandbox.DefaultBusiness().LedgerAccounts {
		a.ID = ""
		second.LedgerAccounts = append(second.LedgerAccounts, a)
	}
	f := newFixture(t, sandbox.WithBusiness(sandbox.DefaultBusiness()), sandbox.WithBusiness(second))
	tenants := f.connect()
	if len(tenants) != 2 || tenants[1] != (connectors.Tenant{ID: second.ID, Name: "Business Two"}) {
		t.Fatalf("tenants = %+v", tenants)
	}
	doc := journal("2026-07-14", line{sandbox.LedgerAccountID(second.ID, 1110), "5.00"}, line{sandbox.LedgerAccountID(second.ID, 4000), "-5.00"})
	s2 := connectors.Session{TenantID: second.ID, Tokens: f.session.Tokens}
	if _, cerr := f.pushWith(f.conn, s2, doc, ref("CS-SECOND")); cerr != nil {
		t.Fatalf("push to the second business: %v", cerr)
	}
	if got := f.rec.last(t, http.MethodPost, "/v3.1/journals"); got.status != http.StatusCreated {
		t.Fatalf("create answered %d", got.status)
	}
	if len(f.sb.Journals(second.ID)) != 1 || len(f.journals()) != 0 {
		t.Fatal("the journal did not land in the business named by X-Business")
	}
	// Another business's account does not exist in this one.
	if _, cerr := f.push(doc, ref("CS-WRONG-BIZ")); cerr == nil || cerr.Status != http.StatusNotFound {
		t.Fatalf("second business's accounts in the lead business: %v, want 404", cerr)
	}
	// Without a business id the lead business answers.
	lead := connectors.Session{Tokens: f.session.Tokens}
	if _, cerr := f.push(balanced(), ref("CS-LEAD")); cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	if res, ok, err := f.conn.Find(f.ctx, lead, ref("CS-LEAD")); err != nil || !ok || res.ExternalID == "" {
		t.Fatalf("find in the lead business without X-Business: %v %v", ok, err)
	}
	// A business the user cannot reach needs a reconnect.
	gone := connectors.Session{TenantID: "00000000000000000000000000000000", Tokens: f.session.Tokens}
	_, err := f.conn.Setup(f.ctx, gone)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != http.StatusNotFound || ce.Field != "X-Business" || !ce.Deauthorized {
		t.Fatalf("setup for an unknown business: %v (deauthorized %t), want a merchant-actionable 404 that deauthorizes", err, ce != nil && ce.Deauthorized)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("CS-FIVE-HUNDRED")
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		f.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journals", Status: status})
		_, cerr := f.push(balanced(), r)
		if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != status {
			t.Fatalf("status %d: %v, want retryable", status, cerr)
		}
	}
	// Nothing was committed or remembered: the same id now creates.
	if _, cerr := f.push(balanced(), r); cerr != nil || len(f.journals()) != 1 {
		t.Fatalf("after faults: %v, %d journals", cerr, len(f.journals()))
	}
}

func TestSlowAnswerIsAnUnknownOutcome(t *testing.T) {
	f := newFixture(t)
	f.connect()
	impatient := f.connector(sage.WithHTTPClient(&http.Client{Transport: f.rec, Timeout: 200 * time.Millisecond}))
	if _, err := impatient.Setup(f.ctx, f.session); err != nil { // warm its settings cache
		t.Fatal(err)
	}
	arrived, release := f.sb.Stall()
	defer release()
	r := ref("CS-SLOW")
	_, cerr := f.pushWith(impatient, f.session, balanced(), r)
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 || !strings.Contains(cerr.Message, "timed out") {
		t.Fatalf("slow answer: %v, want a retryable timeout", cerr)
	}
	<-arrived
	release()
	// The slow call may or may not have been committed by now; the same
	// idempotency_id makes the retry land exactly one journal either way.
	again, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("retry after the timeout: %v", cerr)
	}
	if js := f.journals(); len(js) != 1 || js[0].ID != again.ExternalID {
		t.Fatalf("%d journals after a slow answer and its retry, want 1 (%s)", len(js), again.ExternalID)
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

func TestInvalidDocumentsAreFatal(t *testing.T) {
	f := newFixture(t)
	f.connect()
	cases := map[string]struct {
		doc *commercesyncv1.Document
		ref connectors.Reference
	}{
		"three decimals":     {journal("2026-07-14", line{cardClearing, "1.005"}, line{sales, "-1.005"}), ref("x")},
		"not a journal":      {&commercesyncv1.Document{Type: "Invoice"}, ref("x")},
		"no document":        {nil, ref("x")},
		"bad date":           {journal("14/07/2026", line{cardClearing, "1"}, line{sales, "-1"}), ref("x")},
		"no such day":        {journal("2026-02-30", line{cardClearing, "1"}, line{sales, "-1"}), ref("x")},
		"one line":           {journal("2026-07-14", line{cardClearing, "0"}), ref("x")},
		"no account id":      {journal("2026-07-14", line{"", "1"}, line{sales, "-1"}), ref("x")},
		"not a number":       {journal("2026-07-14", line{cardClearing, "1,00"}, line{sales, "-1"}), ref("x")},
		"too many digits":    {journal("2026-07-14", line{cardClearing, "12345678901234.00"}, line{sales, "-12345678901234.00"}), ref("x")},
		"reference too long": {balanced(), ref(strings.Repeat("R", 26))},
		"empty reference":    {balanced(), connectors.Reference{IdempotencyKey: "k"}},
		"control character":  {balanced(), ref("CS-\n")},
	}
	for name, c := range cases {
		_, cerr := f.push(c.doc, c.ref)
		if cerr == nil || cerr.Class != connectors.Fatal {
			t.Errorf("%s: %v, want fatal", name, cerr)
		}
	}
	if n := f.rec.count(http.MethodPost, "/v3.1/journals"); n != 0 {
		t.Fatalf("%d invalid documents were sent", n)
	}
}

func TestCapabilities(t *testing.T) {
	c := sage.New().Capabilities()
	want := connectors.Capabilities{
		JournalMode: true, MaxIdempotencyKeyLen: 32, MaxReferenceLen: 25, IdempotencyKind: "body", RequestsPerMinute: 200,
		// 3 analysis types a line is an assumption (sage.MaxAnalysisTypesPerLine);
		// every create takes one resource (apis.md §3.2).
		TrackingDimensions: 3, LineTracking: true, MaxBatch: 1,
	}
	if c != want {
		t.Fatalf("capabilities = %+v, want %+v", c, want)
	}
	cfg := sage.New(sage.WithClientID("id")).OAuthConfig(redirectURL)
	u := cfg.AuthCodeURL("st")
	for _, part := range []string{"https://www.sageone.com/oauth2/auth/central?", "filter=apiv3.1", "scope=full_access", "response_type=code", "client_id=id"} {
		if !strings.Contains(u, part) {
			t.Errorf("authorize URL %s lacks %s", u, part)
		}
	}
	if cfg.Endpoint.TokenURL != "https://oauth.accounting.sage.com/token" || cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("token endpoint %+v", cfg.Endpoint)
	}
}

func TestIdempotencyID(t *testing.T) {
	r := connectors.Reference{Value: "CS-1", IdempotencyKey: "0a1b2c3d4e5f60718293a4b5c6d7e8f9-c3"}
	id := sage.IdempotencyID(r)
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("id %q is not 32 hex digits", id)
	}
	if sage.IdempotencyID(r) != id {
		t.Fatal("not deterministic")
	}
	other := r
	other.IdempotencyKey += "x"
	if sage.IdempotencyID(other) == id {
		t.Fatal("different keys gave one id")
	}
	guid := connectors.Reference{Value: "CS-1", IdempotencyKey: "3F2B9C1E8D7A4B6C9E0F1A2B3C4D5E6F"}
	if got := sage.IdempotencyID(guid); got != "3f2b9c1e8d7a4b6c9e0f1a2b3c4d5e6f" {
		t.Fatalf("a key already in GUID form became %q", got)
	}
	if sage.IdempotencyID(connectors.Reference{Value: "CS-1"}) == sage.IdempotencyID(connectors.Reference{Value: "CS-2"}) {
		t.Fatal("without a key, the reference must decide")
	}
}
