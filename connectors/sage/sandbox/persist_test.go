package sandbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/sage/sandbox"
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
	e.cfg.Endpoint.AuthURL, e.cfg.Endpoint.TokenURL = e.srv.URL+sandbox.AuthorizePath+"?filter=apiv3.1", e.srv.URL+sandbox.TokenPath
}

// TestRestartKeepsTokensDocumentsAndIdempotencyIDs: restarted on its data
// folder, the sandbox still takes the access token within its 5 minutes
// and the refresh token (once: it rotates on every use, apis.md §3.1),
// still holds the journal, and still replays its idempotency_id.
func TestRestartKeepsTokensDocumentsAndIdempotencyIDs(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, sandbox.WithDataDir(dir))
	body := journalBody("2026-07-14", "R", id1, "10", "10")
	first := e.api(http.MethodPost, "/journals", body)
	if first.status != 201 {
		t.Fatalf("journal: %d %s", first.status, first.body)
	}
	e.clock.Advance(4 * time.Minute)
	e.restartOn(dir)
	if r := e.api(http.MethodPost, "/journals", body); r.status != 201 || r.body != first.body {
		t.Fatalf("the idempotency_id after the restart: %d %s", r.status, r.body)
	}
	if js := e.sb.Journals(sandbox.DefaultBusinessID); len(js) != 1 || !strings.Contains(first.body, js[0].ID) {
		t.Fatalf("journals after the restart: %+v", js)
	}
	old := e.tok.RefreshToken
	e.advance(2 * time.Minute) // refreshes: the access token has expired
	e.restartOn(dir)
	if r := e.api(http.MethodGet, "/journals/"+e.sb.Journals(sandbox.DefaultBusinessID)[0].ID, ""); r.status != 200 {
		t.Fatalf("the refreshed access token after another restart: %d %s", r.status, r.body)
	}
	if _, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: old}).Token(); err == nil {
		t.Fatal("the used refresh token works again after a restart")
	}
	e.advance(time.Minute)
}
