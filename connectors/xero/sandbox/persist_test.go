package sandbox_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/xero/sandbox"
)

// restartOn stops e's sandbox and starts a new one on the same data folder
// and clock, serving at a new address as a restarted process would.
func (e *env) restartOn(dir string) {
	e.t.Helper()
	e.srv.Close()
	e.sb = sandbox.New(
		sandbox.WithClock(e.clock.Now), sandbox.WithDataDir(dir),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "Test App", RedirectURIs: []string{redirectURI}}),
	)
	e.srv = httptest.NewServer(e.sb.Handler())
	e.t.Cleanup(e.srv.Close)
	e.ctx = context.WithValue(e.t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg.Endpoint.AuthURL, e.cfg.Endpoint.TokenURL = e.srv.URL+sandbox.AuthorizePath, e.srv.URL+sandbox.TokenPath
}

// TestRestartKeepsTokensDocumentsAndKeys: a sandbox restarted on its data
// folder still honours the tokens it issued (the access token within its
// 30 minutes, the refresh token, and the rotated one within its grace),
// still holds the journal posted before and the organisation as changed,
// and still replays the idempotency key used before.
func TestRestartKeepsTokensDocumentsAndKeys(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, sandbox.WithDataDir(dir)).login()
	first := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "k1")
	if first.status != 200 {
		t.Fatalf("journal: %d %s", first.status, first.body)
	}
	if err := e.sb.UpdateOrganisation(sandbox.DefaultTenantID, func(o *sandbox.Organisation) { o.PeriodLockDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "xero.json")); err != nil {
		t.Fatalf("no state file: %v", err)
	}

	// Within Xero's 6 minutes the key replays the first answer.
	e.clock.Advance(5 * time.Minute)
	e.restartOn(dir)
	if r := e.api("PUT", "/ManualJournals", goodJournal, "Idempotency-Key", "k1"); r.status != 200 || string(r.body) != string(first.body) {
		t.Fatalf("the idempotency key after the restart answered %d, not the first answer", r.status)
	}
	e.clock.Advance(5 * time.Minute)
	e.restartOn(dir)
	if r := e.api("GET", "/ManualJournals", ""); r.status != 200 || !strings.Contains(string(r.body), "Day [ref-1]") {
		t.Fatalf("the access token 10 minutes on, after two restarts: %d %s", r.status, r.body)
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 1 {
		t.Fatalf("%d journals after the restart and the replay, want 1", n)
	}
	if o, _ := e.sb.Organisation(sandbox.DefaultTenantID); o.PeriodLockDate != "2026-06-30" {
		t.Fatalf("the lock date after the restart is %q", o.PeriodLockDate)
	}

	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh after the restart: %v", err)
	}
	e.restartOn(dir)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("the rotated refresh token within its grace, after another restart: %v", err)
	}
	e.tok = next
	if r := e.api("GET", "/Organisation", ""); r.status != 200 {
		t.Fatalf("the refreshed access token after another restart: %d %s", r.status, r.body)
	}
	e.clock.Advance(30 * time.Minute)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	e.restartOn(dir)
	if r := e.api("GET", "/Organisation", ""); r.status != 401 {
		t.Fatalf("an access token past its 30 minutes after a restart answered %d, want 401", r.status)
	}
}

func TestUnusableDataFolderFailsStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "xero.json"), []byte(`{"format":"something else"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := sandbox.New(sandbox.WithDataDir(dir)).Start("127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "xero.json") || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("Start on a foreign state file: %v, want an error naming the file and the fix", err)
	}
}
