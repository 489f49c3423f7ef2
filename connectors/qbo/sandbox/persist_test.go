package sandbox_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

// restartOn stops e's sandbox and starts a new one on the same data folder
// and clock, at a new address as a restarted process would be.
func (e *env) restartOn(dir string) {
	e.t.Helper()
	e.srv.Close()
	e.sb = sandbox.New(many, sandbox.WithClock(e.clock.Now), sandbox.WithDataDir(dir),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "Test App", RedirectURIs: []string{redirectURI}}))
	e.srv = httptest.NewServer(e.sb.Handler())
	e.t.Cleanup(e.srv.Close)
	e.ctx = context.WithValue(e.t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg.Endpoint.AuthURL, e.cfg.Endpoint.TokenURL = e.srv.URL+sandbox.AuthorizePath, e.srv.URL+sandbox.TokenPath
}

// TestRestartKeepsTokensDocumentsAndRequestIDs: restarted on its data
// folder, the sandbox still takes the access token within its hour and the
// refresh token (once: it rotates), still holds the journal entry, the
// invoice and its payment with what the payment left unapplied, and still
// replays a requestid.
func TestRestartKeepsTokensDocumentsAndRequestIDs(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, many, sandbox.WithDataDir(dir)).login()
	first := e.api("POST", "/journalentry?requestid=r-1", goodJE)
	if first.status != 200 {
		t.Fatalf("journal entry: %s", first)
	}
	inv := idOf(t, e.api("POST", "/invoice", salesBody("2", "USD", "2026-07-14", itemLine("1", "100.00"), itemLine("3", "8.50"))))
	pay := idOf(t, e.api("POST", "/payment", `{"TxnDate":"2026-07-14","CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},`+
		`"DepositToAccountRef":{"value":"87"},"TotalAmt":120.00,"Line":[`+linked("108.50", inv, "Invoice")+`]}`))
	before := e.api("GET", "/payment/"+pay, "")

	e.clock.Advance(30 * time.Minute)
	e.restartOn(dir)
	if r := e.api("POST", "/journalentry?requestid=r-1", goodJE); r.status != 200 || !bytes.Equal(r.body, first.body) {
		t.Fatalf("the requestid after the restart: %s", r)
	}
	if n := len(e.sb.JournalEntries(realm)); n != 1 {
		t.Fatalf("%d journal entries after the restart and the replay, want 1", n)
	}
	after := e.api("GET", "/payment/"+pay, "")
	if after.status != 200 || !strings.Contains(after.String(), `"UnappliedAmt":11.50`) ||
		strings.ReplaceAll(after.String(), at30, at) != before.String() {
		t.Fatalf("the payment after the restart:\n%s\nbefore:\n%s", after, before)
	}
	if r := e.api("GET", "/invoice/"+inv, ""); !strings.Contains(r.String(), `"Balance":0.00`) {
		t.Fatalf("the invoice after the restart: %s", r)
	}

	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh after the restart: %v", err)
	}
	e.restartOn(dir)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); !isInvalidGrant(err) {
		t.Fatalf("the rotated refresh token after another restart: %v, want invalid_grant (§2.1, no grace by default)", err)
	}
	e.tok = next
	if r := e.api("GET", "/invoice/"+inv, ""); r.status != 200 {
		t.Fatalf("the refreshed access token after another restart: %s", r)
	}
}

// at30 is the "time" of answers 30 minutes after start.
const at30 = "2026-07-15T02:30:00.000-07:00"
