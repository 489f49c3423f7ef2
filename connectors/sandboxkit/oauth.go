package sandboxkit

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Client is an OAuth application registered with a sandbox (the platform's
// developer portal).
type Client struct {
	ID string
	// Secret empty makes a public client, which proves itself with PKCE
	// alone; only platforms that have public clients take one (Xero's native
	// apps, accounting-platform-apis.md §1.1).
	Secret string
	// Name is shown on the consent page.
	Name string
	// RedirectURIs must match the redirect_uri parameter exactly.
	RedirectURIs []string
}

// Grant is one consent: a client authorised with scopes for what the
// platform's consent page chose (Info: Xero's tenant, QBO's realm, a
// NetSuite role, a FreeAgent company). Every token refers to its grant and
// dies with it.
type Grant[G any] struct {
	ID       string    `json:"id"`
	ClientID string    `json:"clientId"`
	Scopes   []string  `json:"scopes"`
	Info     G         `json:"info"`
	Site     string    `json:"site,omitempty"`
	Created  time.Time `json:"created"`
	// Ends bounds its refresh tokens (Lifetimes.Grant); zero: no bound.
	Ends    time.Time `json:"ends,omitzero"`
	Revoked bool      `json:"revoked,omitempty"`
}

// Code is an authorization code waiting for its exchange.
type Code[G any] struct {
	ClientID    string    `json:"clientId"`
	RedirectURI string    `json:"redirectUri"`
	Scopes      []string  `json:"scopes"`
	Info        G         `json:"info"`
	Site        string    `json:"site,omitempty"`
	Challenge   string    `json:"challenge,omitempty"`
	Method      string    `json:"method,omitempty"`
	Expires     time.Time `json:"expires"`
}

// AccessToken is an issued access token.
type AccessToken struct {
	Grant   string    `json:"grant"`
	Expires time.Time `json:"expires"`
}

// RefreshToken is an issued refresh token.
type RefreshToken struct {
	Grant   string    `json:"grant"`
	Expires time.Time `json:"expires"`
	// Rotated is when it was first exchanged for a new one; it is refused
	// once Rotation.Grace has passed since.
	Rotated time.Time `json:"rotated,omitzero"`
}

// Lifetimes are a platform's documented token lifetimes.
type Lifetimes struct {
	// Code is how long an authorization code can be exchanged.
	Code time.Duration
	// Access is how long an access token is accepted.
	Access time.Duration
	// Refresh is how long a refresh token lives from its issue.
	Refresh time.Duration
	// Grant bounds every refresh token of a grant from its code exchange
	// (QuickBooks' 5-year hard cap, NetSuite's 7 days); 0: no bound.
	Grant time.Duration
}

// Rotation is what a refresh does to the refresh token it used.
type Rotation struct {
	// Rotate answers a new refresh token on each refresh; false keeps the
	// one used and answers none (NetSuite by default).
	Rotate bool
	// Grace is how long a rotated refresh token stays usable after its first
	// use (Xero's 30 minutes); 0 refuses it from then on (Sage).
	Grace time.Duration
}

// Issued is a successful grant, for the platform's token response.
type Issued[G any] struct {
	Grant                         *Grant[G]
	AccessToken, RefreshToken     string // RefreshToken "" when none is issued
	AccessExpiresIn               time.Duration
	RefreshExpiresIn              time.Duration
	RefreshExpires, AccessExpires time.Time
}

// Platform is what the OAuth server needs to know of one platform: its
// lifetimes and rotation rule, and the envelopes and pages it answers in.
// Hooks marked "lock held" run under the sandbox's lock.
type Platform[G any] struct {
	// Name labels log lines ("xero").
	Name      string
	Lifetimes Lifetimes
	Rotation  Rotation
	// PKCE: codes asked for with a code_challenge are exchanged only with
	// the matching code_verifier (RFC 7636). Off, a challenge is ignored,
	// as by a platform that documents none.
	PKCE bool
	// FormClientAuth accepts client_id and client_secret in the form when
	// the request has no HTTP Basic credentials.
	FormClientAuth bool

	// UnknownClient and BadRedirect start the error page's text for an
	// unknown client_id or an unregistered redirect_uri (the id or URI is
	// appended): the user is never sent back to either (RFC 6749 §4.1.2.1).
	UnknownClient, BadRedirect string
	// ErrorPage shows an error to the user instead of redirecting.
	ErrorPage func(w http.ResponseWriter, msg string)
	// Describe gives the error_description of the authorization errors the
	// kit raises ("unsupported_response_type", "access_denied"); nil or ""
	// sends none.
	Describe func(code string) string
	// CheckRequest refuses an authorization request as the platform does
	// (scopes, state length, PKCE for public clients), as an error and its
	// description for the redirect; "" accepts it.
	CheckRequest func(p url.Values, c Client) (code, desc string)
	// ConsentPage renders the platform's consent page for the request.
	ConsentPage func(w http.ResponseWriter, r *http.Request, c Client, p url.Values, site string)
	// Consent completes an allowed consent (lock held): it reads what the
	// user chose from the form and returns what the code grants and the
	// redirect's extra parameters, or a message for the error page.
	Consent func(p url.Values, c Client, site string, now time.Time) (info G, extra url.Values, msg string)
	// NewCode, NewAccessToken and NewRefreshToken mint values in the
	// platform's format (lock held); nil uses NewSecret.
	NewCode                         func() string
	NewAccessToken, NewRefreshToken func(g *Grant[G], now time.Time) string
	// IssueRefresh says whether a grant gets refresh tokens (Xero only with
	// offline_access); nil always.
	IssueRefresh func(g *Grant[G]) bool
	// BeforeRefresh may refuse a refresh, answering it itself (FreeAgent's
	// refresh rate limit), lock held.
	BeforeRefresh func(w http.ResponseWriter, g *Grant[G], now time.Time) bool
	// TokenError answers a token-endpoint error in the platform's envelope:
	// code is invalid_request, invalid_client, invalid_grant or
	// unsupported_grant_type.
	TokenError func(w http.ResponseWriter, code string)
	// TokenResponse answers a successful grant (lock held).
	TokenResponse func(w http.ResponseWriter, t Issued[G])
}

// OAuth is a sandbox's authorization server: its client registry, codes,
// grants and tokens, behind the sandbox's own lock, with the platform's
// lifetimes, rotation and envelopes as parameters.
type OAuth[G any] struct {
	mu  sync.Locker
	now func() time.Time
	log func() *slog.Logger
	p   Platform[G]

	clients map[string]Client
	codes   map[string]*Code[G]
	grants  map[string]*Grant[G]
	access  map[string]*AccessToken
	refresh map[string]*RefreshToken
}

// NewOAuth returns an empty authorization server guarded by mu (the
// sandbox's lock), reading the sandbox's clock and logger through now and
// log so options applied later still count.
func NewOAuth[G any](mu sync.Locker, now func() time.Time, log func() *slog.Logger, p Platform[G]) *OAuth[G] {
	return &OAuth[G]{
		mu: mu, now: now, log: log, p: p,
		clients: map[string]Client{}, codes: map[string]*Code[G]{}, grants: map[string]*Grant[G]{},
		access: map[string]*AccessToken{}, refresh: map[string]*RefreshToken{},
	}
}

// SetPlatform replaces the platform parameters, for options that change a
// rule after construction (lock held or before serving).
func (a *OAuth[G]) SetPlatform(p Platform[G]) { a.p = p }

// Platform returns the parameters in force.
func (a *OAuth[G]) Platform() Platform[G] { return a.p }

// Register adds or replaces a client (lock held or before serving).
func (a *OAuth[G]) Register(c Client) { a.clients[c.ID] = c }

// Client returns a registered client (lock held).
func (a *OAuth[G]) Client(id string) (Client, bool) {
	c, ok := a.clients[id]
	return c, ok
}

// ClientIDs lists the registered clients (lock held).
func (a *OAuth[G]) ClientIDs() []string { return slices.Sorted(maps.Keys(a.clients)) }

// NewSecret returns 32 random bytes, base64url: an opaque token or code.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *OAuth[G]) describe(code string) string {
	if a.p.Describe == nil {
		return ""
	}
	return a.p.Describe(code)
}

// HandleAuthorize is the authorization endpoint: the consent page on GET,
// its completion on POST (the page posts back to the same path). site is
// the part of the platform it was reached at (NetSuite's account), "" for
// the others.
func (a *OAuth[G]) HandleAuthorize(w http.ResponseWriter, r *http.Request, site string) {
	if !Methods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if err := r.ParseForm(); err != nil {
		a.p.ErrorPage(w, "The request could not be read.")
		return
	}
	p := r.Form
	a.mu.Lock()
	client, ok := a.clients[p.Get("client_id")]
	a.mu.Unlock()
	if !ok {
		a.p.ErrorPage(w, a.p.UnknownClient+p.Get("client_id"))
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		a.p.ErrorPage(w, a.p.BadRedirect+redirect)
		return
	}
	state := p.Get("state")
	fail := func(code, desc string) {
		Redirect(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	if p.Get("response_type") != "code" {
		fail("unsupported_response_type", a.describe("unsupported_response_type"))
		return
	}
	if a.p.CheckRequest != nil {
		if code, desc := a.p.CheckRequest(p, client); code != "" {
			fail(code, desc)
			return
		}
	}
	if r.Method == http.MethodGet {
		a.p.ConsentPage(w, r, client, p, site)
		return
	}
	if p.Get("consent") != "allow" {
		fail("access_denied", a.describe("access_denied"))
		return
	}
	now := a.now()
	a.mu.Lock()
	info, extra, msg := a.p.Consent(p, client, site, now)
	if msg != "" {
		a.mu.Unlock()
		a.p.ErrorPage(w, msg)
		return
	}
	code := a.mint(a.p.NewCode)
	c := &Code[G]{
		ClientID: client.ID, RedirectURI: redirect, Scopes: strings.Fields(p.Get("scope")), Info: info, Site: site,
		Expires: now.Add(a.p.Lifetimes.Code),
	}
	if a.p.PKCE {
		c.Challenge, c.Method = p.Get("code_challenge"), p.Get("code_challenge_method")
	}
	a.codes[code] = c
	a.mu.Unlock()
	a.log().Debug(a.p.Name+" sandbox: consent given", "client", client.ID)
	q := url.Values{"code": {code}, "state": {state}}
	for k, v := range extra {
		q[k] = v
	}
	Redirect(w, r, redirect, q)
}

func (a *OAuth[G]) mint(f func() string) string {
	if f != nil {
		return f()
	}
	return NewSecret()
}

// authClient authenticates the token request's client. Lock held.
func (a *OAuth[G]) authClient(r *http.Request) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		if !a.p.FormClientAuth {
			return Client{}, false
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := a.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

// HandleToken is the token endpoint: authorization_code and refresh_token
// grants, answered in the platform's envelopes. site is as for
// HandleAuthorize: a code or refresh token is only taken where it was
// issued.
func (a *OAuth[G]) HandleToken(w http.ResponseWriter, r *http.Request, site string) {
	if !Methods(w, r, http.MethodPost) {
		return
	}
	if err := r.ParseForm(); err != nil {
		a.p.TokenError(w, "invalid_request")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	client, ok := a.authClient(r)
	if !ok {
		a.p.TokenError(w, "invalid_client")
		return
	}
	now := a.now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := a.codes[code]
		// Single use: a code is gone after its first exchange, good or bad.
		delete(a.codes, code)
		if !ok || c.ClientID != client.ID || c.Site != site || c.RedirectURI != r.PostForm.Get("redirect_uri") ||
			!now.Before(c.Expires) || !PKCEMatches(c.Challenge, c.Method, r.PostForm.Get("code_verifier")) {
			a.p.TokenError(w, "invalid_grant")
			return
		}
		g := &Grant[G]{ID: NewSecret(), ClientID: client.ID, Scopes: c.Scopes, Info: c.Info, Site: site, Created: now}
		if a.p.Lifetimes.Grant > 0 {
			g.Ends = now.Add(a.p.Lifetimes.Grant)
		}
		a.grants[g.ID] = g
		a.issue(w, g, nil, now)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		t, ok := a.refresh[rt]
		var g *Grant[G]
		if ok {
			g = a.grants[t.Grant]
		}
		if g == nil || g.ClientID != client.ID || g.Site != site || g.Revoked || !now.Before(t.Expires) ||
			(!t.Rotated.IsZero() && !now.Before(t.Rotated.Add(a.p.Rotation.Grace))) {
			a.p.TokenError(w, "invalid_grant")
			return
		}
		if a.p.BeforeRefresh != nil && !a.p.BeforeRefresh(w, g, now) {
			return
		}
		if !a.p.Rotation.Rotate {
			a.issue(w, g, t, now)
			return
		}
		if t.Rotated.IsZero() {
			t.Rotated = now
		}
		a.issue(w, g, nil, now)
	default:
		a.p.TokenError(w, "unsupported_grant_type")
	}
}

// issue answers a successful grant: a new access token and, unless kept
// is the refresh token to keep using, a new refresh token. Lock held.
func (a *OAuth[G]) issue(w http.ResponseWriter, g *Grant[G], kept *RefreshToken, now time.Time) {
	at := a.mintToken(a.p.NewAccessToken, g, now)
	a.access[at] = &AccessToken{Grant: g.ID, Expires: now.Add(a.p.Lifetimes.Access)}
	out := Issued[G]{Grant: g, AccessToken: at, AccessExpiresIn: a.p.Lifetimes.Access, AccessExpires: now.Add(a.p.Lifetimes.Access)}
	switch {
	case kept != nil:
		out.RefreshExpires, out.RefreshExpiresIn = kept.Expires, kept.Expires.Sub(now)
	case a.p.IssueRefresh == nil || a.p.IssueRefresh(g):
		exp := now.Add(a.p.Lifetimes.Refresh)
		if !g.Ends.IsZero() && g.Ends.Before(exp) {
			exp = g.Ends
		}
		rt := a.mintToken(a.p.NewRefreshToken, g, now)
		a.refresh[rt] = &RefreshToken{Grant: g.ID, Expires: exp}
		out.RefreshToken, out.RefreshExpires, out.RefreshExpiresIn = rt, exp, exp.Sub(now)
	}
	a.prune(now)
	w.Header().Set("Cache-Control", "no-store")
	a.p.TokenResponse(w, out)
}

func (a *OAuth[G]) mintToken(f func(*Grant[G], time.Time) string, g *Grant[G], now time.Time) string {
	if f != nil {
		return f(g, now)
	}
	return NewSecret()
}

// prune drops what can never be accepted again, so a long-running dev
// sandbox does not grow without bound: expired codes and tokens, rotated
// refresh tokens past their grace, revoked grants' tokens, and grants no
// token refers to. Lock held.
func (a *OAuth[G]) prune(now time.Time) {
	live := map[string]bool{}
	for k, t := range a.access {
		if g := a.grants[t.Grant]; now.After(t.Expires) || g == nil || g.Revoked {
			delete(a.access, k)
			continue
		}
		live[t.Grant] = true
	}
	for k, t := range a.refresh {
		if g := a.grants[t.Grant]; now.After(t.Expires) || g == nil || g.Revoked ||
			(!t.Rotated.IsZero() && now.After(t.Rotated.Add(a.p.Rotation.Grace))) {
			delete(a.refresh, k)
			continue
		}
		live[t.Grant] = true
	}
	for k, c := range a.codes {
		if now.After(c.Expires) {
			delete(a.codes, k)
		}
	}
	for id := range a.grants {
		if !live[id] {
			delete(a.grants, id)
		}
	}
}

// Why says why a bearer token was not accepted.
type Why int

const (
	// Accepted: the token is live.
	Accepted Why = iota
	// Missing: no bearer token was sent.
	Missing
	// Unknown: the token was never issued, or was pruned.
	Unknown
	// Expired: the token's lifetime has passed.
	Expired
	// Revoked: its grant was revoked.
	Revoked
)

// Bearer is an access token presented on an API call.
type Bearer[G any] struct {
	Token   string
	Grant   *Grant[G]
	Expires time.Time
}

// Authenticate checks an API call's access token (the raw token, from
// whichever header the platform reads). On refusal the Bearer holds what
// is known (its expiry for Expired). Lock held.
func (a *OAuth[G]) Authenticate(raw string, now time.Time) (Bearer[G], Why) {
	if raw == "" {
		return Bearer[G]{}, Missing
	}
	t, ok := a.access[raw]
	if !ok {
		return Bearer[G]{Token: raw}, Unknown
	}
	g := a.grants[t.Grant]
	if g == nil {
		return Bearer[G]{Token: raw}, Unknown
	}
	b := Bearer[G]{Token: raw, Grant: g, Expires: t.Expires}
	if g.Revoked {
		return b, Revoked
	}
	if !now.Before(t.Expires) {
		return b, Expired
	}
	return b, Accepted
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// its lifetime had passed for it only. Lock held.
func (a *OAuth[G]) ExpireAccessTokens(now time.Time) {
	for _, t := range a.access {
		if t.Expires.After(now) {
			t.Expires = now
		}
	}
}

// RevokeRefreshTokens makes every refresh token unusable, as when the user
// revokes the app's access. Lock held.
func (a *OAuth[G]) RevokeRefreshTokens() { clear(a.refresh) }

// RevokeToken revokes the grant behind an access or refresh token of
// clientID (RFC 7009; an unknown token is not an error). Lock held.
func (a *OAuth[G]) RevokeToken(clientID, token string) {
	var id string
	if t, ok := a.refresh[token]; ok {
		id = t.Grant
	} else if t, ok := a.access[token]; ok {
		id = t.Grant
	}
	if g := a.grants[id]; g != nil && g.ClientID == clientID {
		g.Revoked = true
	}
}

// AuthenticateClient checks HTTP Basic client credentials outside the
// token endpoint (QuickBooks' revocation). Lock held.
func (a *OAuth[G]) AuthenticateClient(r *http.Request) (Client, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return Client{}, false
	}
	c, ok := a.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

// PKCEMatches checks a code_verifier against the challenge its code was
// asked for with (RFC 7636 §4.6): S256 or plain. No challenge takes any.
func PKCEMatches(challenge, method, verifier string) bool {
	if challenge == "" {
		return true
	}
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
	}
	return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
}

// OAuthState is what an authorization server keeps across a restart: its
// codes, grants and tokens (clients are configuration, given again).
type OAuthState[G any] struct {
	Codes   map[string]*Code[G]      `json:"codes"`
	Grants  map[string]*Grant[G]     `json:"grants"`
	Access  map[string]*AccessToken  `json:"access"`
	Refresh map[string]*RefreshToken `json:"refresh"`
}

// State returns the server's state for a snapshot; it shares nothing with
// the live maps' values, so it may be encoded after the lock is let go.
// Lock held.
func (a *OAuth[G]) State() OAuthState[G] {
	st := OAuthState[G]{
		Codes: make(map[string]*Code[G], len(a.codes)), Grants: make(map[string]*Grant[G], len(a.grants)),
		Access: make(map[string]*AccessToken, len(a.access)), Refresh: make(map[string]*RefreshToken, len(a.refresh)),
	}
	for k, v := range a.codes {
		c := *v
		c.Scopes = slices.Clone(v.Scopes)
		st.Codes[k] = &c
	}
	for k, v := range a.grants {
		g := *v
		g.Scopes = slices.Clone(v.Scopes)
		st.Grants[k] = &g
	}
	for k, v := range a.access {
		t := *v
		st.Access[k] = &t
	}
	for k, v := range a.refresh {
		t := *v
		st.Refresh[k] = &t
	}
	return st
}

// Restore replaces the server's codes, grants and tokens with st (before
// serving).
func (a *OAuth[G]) Restore(st OAuthState[G]) {
	a.codes, a.grants, a.access, a.refresh = st.Codes, st.Grants, st.Access, st.Refresh
	if a.codes == nil {
		a.codes = map[string]*Code[G]{}
	}
	if a.grants == nil {
		a.grants = map[string]*Grant[G]{}
	}
	if a.access == nil {
		a.access = map[string]*AccessToken{}
	}
	if a.refresh == nil {
		a.refresh = map[string]*RefreshToken{}
	}
}
