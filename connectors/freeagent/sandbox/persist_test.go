package sandbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/freeagent/sandbox"
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
	e.ctx = context.WithValue(e.t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg.Endpoint.AuthURL, e.cfg.Endpoint.TokenURL = e.srv.URL+sandbox.ApprovePath, e.srv.URL+sandbox.TokenPath
}

// TestRestartKeepsTokensAndJournalSets: restarted on its data folder, the
// sandbox still takes the access token within its hour and the refresh
// token (once: each refresh reissues it, apis.md §5.1), and still holds
// the journal set, found by its tag, with its ids going on from where they
// were; a deleted set stays deleted.
func TestRestartKeepsTokensAndJournalSets(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, sandbox.WithDataDir(dir)).login()
	body := e.set("2026-07-14", "CS-1", [2]string{"671", "108.50"}, [2]string{"001", "-108.50"})
	if r := e.api("POST", "/journal_sets", body); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	gone := e.set("2026-07-14", "CS-2", [2]string{"671", "1.00"}, [2]string{"001", "-1.00"})
	if r := e.api("POST", "/journal_sets", gone); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if err := e.sb.DeleteJournalSet(sandbox.DefaultSubdomain, 2); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(30 * time.Minute)
	e.restartOn(dir)
	if r := e.api("GET", "/journal_sets?tag=CS-1", ""); r.status != http.StatusOK || !strings.Contains(r.body, `"tag":"CS-1"`) {
		t.Fatalf("the journal set after the restart: %d %s", r.status, r.body)
	}
	if sets := e.sb.JournalSets(sandbox.DefaultSubdomain); len(sets) != 1 || sets[0].Tag != "CS-1" {
		t.Fatalf("journal sets after the restart: %+v", sets)
	}
	r := e.api("POST", "/journal_sets", e.set("2026-07-14", "CS-3", [2]string{"671", "2.00"}, [2]string{"001", "-2.00"}))
	if r.status != http.StatusCreated || !strings.HasSuffix(r.header.Get("Location"), "/v2/journal_sets/3") {
		t.Fatalf("a set after the restart: %d %v, want id 3", r.status, r.header)
	}

	old := e.tok.RefreshToken
	next, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: old}).Token()
	if err != nil {
		t.Fatalf("refresh after the restart: %v", err)
	}
	e.restartOn(dir)
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: old}).Token(); err == nil {
		t.Fatal("the used refresh token works again after a restart")
	}
	e.tok = next
	if r := e.api("GET", "/journal_sets?tag=CS-1", ""); r.status != http.StatusOK {
		t.Fatalf("the refreshed access token after another restart: %d %s", r.status, r.body)
	}
}
