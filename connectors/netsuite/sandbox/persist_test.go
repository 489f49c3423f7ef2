package sandbox_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
)

// restartOn stops e's sandbox and starts a new one on the same data folder
// and clock, at a new address as a restarted process would be.
func (e *env) restartOn(dir string) {
	e.t.Helper()
	e.srv.Close()
	e.sb = sandbox.New(sandbox.WithClock(e.clock.Now), sandbox.WithDataDir(dir),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "Test App", RedirectURIs: []string{redirectURI}}))
	e.srv = httptest.NewServer(e.sb.Handler())
	e.t.Cleanup(e.srv.Close)
	e.base = sandbox.AccountBase(e.srv.URL, acct)
	e.ctx = context.WithValue(e.t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg.Endpoint.AuthURL, e.cfg.Endpoint.TokenURL = e.base+sandbox.AuthorizePath, e.base+sandbox.TokenPath
}

// TestRestartKeepsTokensDocumentsAndJobs: restarted on its data folder, the
// sandbox still takes the access token within its hour and the refresh
// token (to the grant's 7 days), still holds the journal entry upserted
// under its externalId and the locked period, and still knows the async
// job and its idempotency key.
func TestRestartKeepsTokensDocumentsAndJobs(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, sandbox.WithDataDir(dir)).login("")
	body := journalBody("2026-07-14", "1", `{"account":{"id":"58"},"debit":10.00}`, `{"account":{"id":"4"},"credit":10.00}`)
	if r := e.api("PUT", "/record/v1/journalentry/eid:DOC-1?replace=line", body); r.status != 204 {
		t.Fatalf("upsert: %d %s", r.status, r.body)
	}
	hdr := []string{"Prefer", "respond-async", "X-NetSuite-Idempotency-Key", "0b6f0b9e-7d6c-4c43-9d7e-1c0f4e2b5a11"}
	if r := e.api("POST", "/record/v1/journalentry", body, hdr...); r.status != 202 {
		t.Fatalf("async: %d %s", r.status, r.body)
	}
	if err := e.sb.LockPeriodsThrough(acct, "2026-06-30"); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(50 * time.Minute)
	e.restartOn(dir)
	if r := e.api("PUT", "/record/v1/journalentry/eid:DOC-1?replace=line", body); r.status != 204 || !strings.HasSuffix(r.header.Get("Location"), "/journalentry/1001") {
		t.Fatalf("the externalId after the restart: %d %v %s", r.status, r.header, r.body)
	}
	if r := e.api("POST", "/record/v1/journalentry", body, hdr...); r.status != 400 || !strings.Contains(string(r.body), "IDEMPOTENCY_ERROR") {
		t.Fatalf("the async key after the restart: %d %s", r.status, r.body)
	}
	if r := e.api("GET", "/async/v1/job/1", ""); r.status != 200 || !strings.Contains(string(r.body), `"completed":true,"progress":"succeeded"`) {
		t.Fatalf("the job after the restart: %d %s", r.status, r.body)
	}
	if js := e.sb.Journals(acct); len(js) != 2 {
		t.Fatalf("%d journal entries after the restart, want 2", len(js))
	}
	co, _ := e.sb.Company(acct)
	locked := false
	for _, p := range co.Periods {
		locked = locked || (!p.Summary && p.AllLocked)
	}
	if !locked {
		t.Fatal("the locked period was forgotten")
	}

	e.clock.Advance(6 * 24 * time.Hour)
	e.restartOn(dir)
	tok, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh after 6 days and a restart: %v", err)
	}
	e.tok = tok
	if r := e.api("GET", "/record/v1/journalentry/1001", ""); r.status != 200 {
		t.Fatalf("the refreshed access token: %d %s", r.status, r.body)
	}
	e.clock.Advance(24 * time.Hour)
	e.restartOn(dir)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the refresh token outlived its grant's 7 days across a restart")
	}
}
