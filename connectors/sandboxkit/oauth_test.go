package sandboxkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// toy is a platform run by the kit for its own tests: a consent page that
// picks a tenant, and RFC 6749 envelopes.
type toy struct {
	mu    sync.Mutex
	clock *Clock
	oauth *OAuth[string]
	url   string
}

func newToy(t *testing.T, lt Lifetimes, rot Rotation, pkce bool) *toy {
	t.Helper()
	ty := &toy{clock: NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	ty.oauth = NewOAuth(&ty.mu, ty.clock.Now, func() *slog.Logger { return slog.New(slog.DiscardHandler) }, Platform[string]{
		Name: "toy", Lifetimes: lt, Rotation: rot, PKCE: pkce,
		UnknownClient: "unknown client ", BadRedirect: "bad redirect ",
		ErrorPage: func(w http.ResponseWriter, msg string) { http.Error(w, msg, http.StatusBadRequest) },
		ConsentPage: func(w http.ResponseWriter, r *http.Request, _ Client, p url.Values, _ string) {
			fmt.Fprintf(w, `<form method="post" action="%s">`, r.URL.Path)
			for _, f := range HiddenFields(p, []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}) {
				fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, f.Name, html.EscapeString(f.Value))
			}
			fmt.Fprint(w, `<select name="tenant"><option value="t1" selected>T1</option></select></form>`)
		},
		Consent: func(p url.Values, _ Client, _ string, _ time.Time) (string, url.Values, string) {
			return p.Get("tenant"), url.Values{"tenant": {p.Get("tenant")}}, ""
		},
		TokenError: func(w http.ResponseWriter, code string) {
			WriteJSON(w, http.StatusBadRequest, "application/json", map[string]string{"error": code})
		},
		TokenResponse: func(w http.ResponseWriter, is Issued[string]) {
			WriteJSON(w, http.StatusOK, "application/json", map[string]any{
				"access_token": is.AccessToken, "refresh_token": is.RefreshToken, "token_type": "bearer",
				"expires_in": int(is.AccessExpiresIn / time.Second), "refresh_expires_in": int(is.RefreshExpiresIn / time.Second),
			})
		},
	})
	ty.oauth.Register(Client{ID: "app", Secret: "secret", RedirectURIs: []string{"https://app.test/cb"}})
	mux := http.NewServeMux()
	mux.HandleFunc("/{site}/authorize", func(w http.ResponseWriter, r *http.Request) { ty.oauth.HandleAuthorize(w, r, r.PathValue("site")) })
	mux.HandleFunc("/{site}/token", func(w http.ResponseWriter, r *http.Request) { ty.oauth.HandleToken(w, r, r.PathValue("site")) })
	base, shutdown, err := Serve("127.0.0.1:0", mux, slog.New(slog.DiscardHandler), "toy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	ty.url = base
	return ty
}

func (ty *toy) config(site string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: "app", ClientSecret: "secret", RedirectURL: "https://app.test/cb", Scopes: []string{"a"},
		Endpoint: oauth2.Endpoint{AuthURL: ty.url + "/" + site + "/authorize", TokenURL: ty.url + "/" + site + "/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
}

var toyPage = ConsentPage{Page: "consent", Action: "consent", TenantField: "tenant", TenantNoun: "tenant"}

func (ty *toy) code(t *testing.T, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	loc, err := toyPage.Approve(t.Context(), http.DefaultClient, cfg.AuthCodeURL("st", opts...), "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("code") == "" || loc.Query().Get("tenant") != "t1" || loc.Query().Get("state") != "st" {
		t.Fatalf("consent redirected to %s", loc)
	}
	return loc.Query().Get("code")
}

func (ty *toy) authenticate(token string) Why {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	_, why := ty.oauth.Authenticate(token, ty.clock.Now())
	return why
}

func invalidGrant(err error) bool {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	return ok && re.ErrorCode == "invalid_grant"
}

func refresh(ctx context.Context, cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

func TestOAuthRotationGraceAndGrantBound(t *testing.T) {
	ty := newToy(t, Lifetimes{Code: time.Minute, Access: 10 * time.Minute, Refresh: 30 * time.Minute, Grant: time.Hour}, Rotation{Rotate: true, Grace: 5 * time.Minute}, false)
	ctx, cfg := t.Context(), ty.config("main")
	tok, err := cfg.Exchange(ctx, ty.code(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if ty.authenticate(tok.AccessToken) != Accepted {
		t.Fatal("a fresh access token is refused")
	}
	ty.clock.Advance(10 * time.Minute)
	if ty.authenticate(tok.AccessToken) != Expired {
		t.Fatal("an access token is accepted after its lifetime")
	}
	next, err := refresh(ctx, cfg, tok.RefreshToken)
	if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v, rotated %t", err, next != nil && next.RefreshToken != tok.RefreshToken)
	}
	ty.clock.Advance(4 * time.Minute)
	if _, err := refresh(ctx, cfg, tok.RefreshToken); err != nil {
		t.Fatalf("the rotated token within its grace: %v", err)
	}
	ty.clock.Advance(time.Minute)
	if _, err := refresh(ctx, cfg, tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("the rotated token after its grace: %v, want invalid_grant", err)
	}
	// A refresh's token lives 30 minutes, but never past the grant's hour:
	// at 35 minutes only 25 are left.
	ty.clock.Advance(20 * time.Minute)
	last, err := refresh(ctx, cfg, next.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := last.Extra("refresh_expires_in"); fmt.Sprint(got) != "1500" {
		t.Fatalf("refresh_expires_in %v at 35 minutes, want 1500 (the grant's end)", got)
	}
	ty.clock.Advance(25 * time.Minute)
	if _, err := refresh(ctx, cfg, last.RefreshToken); !invalidGrant(err) {
		t.Fatalf("a refresh past the grant's end: %v, want invalid_grant", err)
	}
}

func TestOAuthWithoutRotationKeepsTheRefreshToken(t *testing.T) {
	ty := newToy(t, Lifetimes{Code: time.Minute, Access: time.Hour, Refresh: 7 * 24 * time.Hour, Grant: 7 * 24 * time.Hour}, Rotation{}, false)
	ctx, cfg := t.Context(), ty.config("main")
	tok, err := cfg.Exchange(ctx, ty.code(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ty.clock.Advance(24 * time.Hour)
		next, err := refresh(ctx, cfg, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if next.RefreshToken != tok.RefreshToken { // oauth2 keeps the old one when none is answered
			t.Fatalf("refresh answered a new refresh token %q", next.RefreshToken)
		}
	}
	ty.clock.Advance(4 * 24 * time.Hour)
	if _, err := refresh(ctx, cfg, tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("after 7 days: %v, want invalid_grant", err)
	}
}

// TestOAuthCodesAreBound: a code is taken once, before it expires, by its
// client, with its redirect URI, at the site that issued it, and (PKCE on)
// with its verifier; off, a challenge is ignored as by a platform without
// PKCE.
func TestOAuthCodesAreBound(t *testing.T) {
	lt := Lifetimes{Code: time.Minute, Access: time.Hour, Refresh: time.Hour}
	ty := newToy(t, lt, Rotation{Rotate: true}, true)
	ctx := t.Context()
	cfg := ty.config("s1")
	verifier := oauth2.GenerateVerifier()
	challenge := oauth2.S256ChallengeOption(verifier)
	other := *cfg
	other.RedirectURL = "https://app.test/other"
	elsewhere := ty.config("s2")
	for what, try := range map[string]func(code string) error{
		"no verifier": func(code string) error { _, err := cfg.Exchange(ctx, code); return err },
		"another verifier": func(code string) error {
			_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		},
		"another redirect": func(code string) error {
			_, err := other.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			return err
		},
		"another site": func(code string) error {
			_, err := elsewhere.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			return err
		},
		"after its lifetime": func(code string) error {
			ty.clock.Advance(time.Minute)
			_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			return err
		},
	} {
		code := ty.code(t, cfg, challenge)
		if err := try(code); !invalidGrant(err) {
			t.Fatalf("%s: %v, want invalid_grant", what, err)
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !invalidGrant(err) {
			t.Fatalf("%s: the refused code was not spent: %v", what, err)
		}
	}
	tok, err := cfg.Exchange(ctx, ty.code(t, cfg, challenge), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(ctx, elsewhere, tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("a refresh at another site: %v, want invalid_grant", err)
	}

	noPKCE := newToy(t, lt, Rotation{Rotate: true}, false)
	cfg = noPKCE.config("main")
	if _, err := cfg.Exchange(ctx, noPKCE.code(t, cfg, challenge)); err != nil {
		t.Fatalf("a platform without PKCE refused a code for its missing verifier: %v", err)
	}
}

// TestOAuthStateSurvivesARestart: the state taken from one server, encoded
// and restored into a new one, keeps its tokens: the access token is
// accepted until its expiry and the refresh token refreshes once.
func TestOAuthStateSurvivesARestart(t *testing.T) {
	lt := Lifetimes{Code: time.Minute, Access: time.Hour, Refresh: 24 * time.Hour}
	first := newToy(t, lt, Rotation{Rotate: true}, false)
	ctx, cfg := t.Context(), first.config("main")
	tok, err := cfg.Exchange(ctx, first.code(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	first.mu.Lock()
	b, err := json.Marshal(first.oauth.State())
	first.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret") {
		t.Fatalf("the state holds the client's secret: %s", b)
	}
	second := newToy(t, lt, Rotation{Rotate: true}, false)
	second.clock.Set(first.clock.Now().Add(30 * time.Minute))
	var st OAuthState[string]
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	second.oauth.Restore(st)
	if second.authenticate(tok.AccessToken) != Accepted {
		t.Fatal("the restored access token is refused within its lifetime")
	}
	cfg = second.config("main")
	if _, err := refresh(ctx, cfg, tok.RefreshToken); err != nil {
		t.Fatalf("the restored refresh token: %v", err)
	}
	if _, err := refresh(ctx, cfg, tok.RefreshToken); !invalidGrant(err) {
		t.Fatalf("the restored refresh token twice: %v, want invalid_grant", err)
	}
}

func TestFaultsApplyInOrderForTheirTimes(t *testing.T) {
	type fault struct {
		FaultMatch
		Status int
	}
	q := NewFaults(func(f fault) FaultMatch { return f.FaultMatch }, true)
	q.Arm(fault{FaultMatch{Method: "PUT", Path: "/Journals", Times: 2}, 500})
	q.Arm(fault{FaultMatch{}, 503})
	if f, ok := q.Take("put", "/journals/1"); !ok || f.Status != 500 {
		t.Fatalf("first take: %+v %t", f, ok)
	}
	if f, ok := q.Take("GET", "/journals"); !ok || f.Status != 503 {
		t.Fatalf("a GET skips the PUT fault: %+v %t", f, ok)
	}
	if f, ok := q.Take("PUT", "/Journals"); !ok || f.Status != 500 {
		t.Fatalf("second PUT: %+v %t", f, ok)
	}
	if _, ok := q.Take("PUT", "/Journals"); ok {
		t.Fatal("a fault outlived its Times")
	}
	exact := NewFaults(func(f fault) FaultMatch { return f.FaultMatch }, false)
	exact.Arm(fault{FaultMatch{Path: "/journals"}, 500})
	if _, ok := exact.Take("POST", "/Journals"); ok {
		t.Fatal("a case-sensitive queue matched another case")
	}
	exact.Clear()
	if _, ok := exact.Take("POST", "/journals"); ok {
		t.Fatal("Clear left a fault armed")
	}
}
