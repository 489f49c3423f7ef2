package qbo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID     = "commercesync-test"
	clientSecret = "s3cret"
	redirectURL  = "https://app.commercesync.test/oauth/qbo/callback"
)

// start is 09:00 UTC, 02:00 in the default company's Los Angeles zone.
var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// exchange is one HTTP exchange the connector made, as sent and received.
type exchange struct {
	method, url string
	reqBody     []byte
	status      int
	header      http.Header
	respBody    []byte
}

// recorder is a RoundTripper that keeps every API exchange, so tests can
// assert the sandbox's raw answer next to the connector's classification.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr != nil {
		return nil, rerr
	}
	r.mu.Lock()
	r.log = append(r.log, exchange{req.Method, req.URL.String(), body, resp.StatusCode, resp.Header.Clone(), rb})
	r.mu.Unlock()
	return resp, nil
}

// last returns the latest exchange whose URL contains part.
func (r *recorder) last(t *testing.T, part string) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.log) - 1; i >= 0; i-- {
		if strings.Contains(r.log[i].url, part) {
			return r.log[i]
		}
	}
	t.Fatalf("no exchange with %q", part)
	return exchange{}
}

func (r *recorder) all(part string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, e := range r.log {
		if strings.Contains(e.url, part) {
			out = append(out, e)
		}
	}
	return out
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *sandbox.Clock
	sb      *sandbox.Server
	srv     *httptest.Server
	rec     *recorder
	conn    *qbo.Connector
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
	f.rec = &recorder{next: f.srv.Client().Transport}
	f.conn = qbo.New(
		qbo.WithClientID(clientID), qbo.WithClientSecret(clientSecret),
		qbo.WithSandboxBase(f.srv.URL), qbo.WithHTTPClient(&http.Client{Transport: f.rec}), qbo.WithClock(f.clock.Now),
		qbo.WithLogger(slog.New(slog.DiscardHandler)),
	)
	f.cfg = f.conn.OAuthConfig(redirectURL)
	f.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, f.srv.Client())
	return f
}

// connect runs the authorization-code flow the way the gateway will: the
// consent redirect names the realm, the code is exchanged, and every
// rotated token is saved.
func (f *fixture) connect() {
	f.t.Helper()
	loc, err := sandbox.Approve(f.ctx, f.srv.Client(), f.cfg.AuthCodeURL("state-123"), "")
	if err != nil {
		f.t.Fatalf("consent: %v", err)
	}
	if loc.Query().Get("state") != "state-123" || !strings.HasPrefix(loc.String(), redirectURL+"?") {
		f.t.Fatalf("redirect %s", loc)
	}
	tenant, ok := f.conn.TenantFromCallback(loc.Query())
	if !ok {
		f.t.Fatalf("no realm on the redirect %s", loc)
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
	f.session = connectors.Session{TenantID: tenant.ID, Tokens: ts}
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

func (f *fixture) entries() []sandbox.JournalEntry {
	return f.sb.JournalEntries(sandbox.DefaultRealmID)
}

// line is (account id, signed amount).
type line [2]string

func journal(date, currency string, lines ...line) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: date, Currency: currency, Narration: "Daily sales summary " + date + " " + currency}
	for _, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{AccountId: l[0], Amount: l[1], Description: "line " + l[0]})
	}
	return doc
}

// balanced debits card clearing 108.50 and credits sales 100.00 and sales
// tax 8.50.
func balanced() *commercesyncv1.Document {
	return journal("2026-07-14", "USD",
		line{sandbox.AccountCardClearing, "108.50"}, line{sandbox.AccountSales, "-100.00"}, line{sandbox.AccountSalesTax, "-8.5"})
}

func ref(v string) connectors.Reference {
	return connectors.Reference{Value: v, IdempotencyKey: "key-" + v}
}
