package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

type authCode struct {
	clientID, redirectURI, scope, userID string
	expires                              time.Time
}

type accessToken struct {
	clientID, userID, scope string
	expires                 time.Time
}

type refreshToken struct {
	clientID, userID, scope string
	expires                 time.Time
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sage sandbox: allow access</title></head>
<body>
<h1>{{.App}} would like to access your Sage Accounting data</h1>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p>Businesses: {{range $i, $b := .Businesses}}{{if $i}}, {{end}}{{$b}}{{end}}</p>
<p>Access: {{.Scope}}</p>
<button type="submit" name="consent" value="allow">Allow</button>
<button type="submit" name="consent" value="deny">Deny</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sage sandbox: error</title></head>
<body><h1>Something went wrong</h1><p>{{.}}</p></body></html>
`))

type hiddenField struct{ Name, Value string }

// authorizeParams are the authorization endpoint's parameters (apis.md
// §3.1: filter, response_type, client_id, redirect_uri, scope, state, and
// the optional country and locale).
var authorizeParams = []string{"filter", "response_type", "client_id", "redirect_uri", "scope", "state", "country", "locale"}

// scopes are the two Sage scopes (apis.md §3.1 "scope readonly|full_access").
var scopes = []string{"readonly", "full_access"}

// handleAuthorize renders the consent page on GET and completes it on
// POST (the page's form posts back to the same path).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, "The request could not be read.")
		return
	}
	p := r.Form
	s.mu.Lock()
	client, ok := s.clients[p.Get("client_id")]
	s.mu.Unlock()
	// An unknown client or redirect must not be redirected to: the page
	// would hand a code to whoever wrote the link (RFC 6749 §4.1.2.1).
	if !ok {
		s.errorPage(w, "Unknown client: "+p.Get("client_id"))
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		s.errorPage(w, "The redirect_uri is not registered for this client: "+redirect)
		return
	}
	state := p.Get("state")
	if p.Get("response_type") != "code" {
		// Authorization code flow only (apis.md §3.1); error codes RFC 6749 §4.1.2.1.
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"unsupported_response_type"}, "state": {state}})
		return
	}
	scope := p.Get("scope")
	if !slices.Contains(scopes, scope) {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"invalid_scope"}, "state": {state}})
		return
	}
	if r.Method == http.MethodGet {
		s.renderConsent(w, r, client, p)
		return
	}
	if p.Get("consent") != "allow" {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {state}})
		return
	}
	now := s.now()
	code := newSecret()
	s.mu.Lock()
	country := s.businesses[s.lead()].Country
	// Codes live 60 s and are single use (apis.md §3.1).
	s.codes[code] = &authCode{clientID: client.ID, redirectURI: redirect, scope: scope, userID: s.userID, expires: now.Add(AuthCodeTTL)}
	s.mu.Unlock()
	s.log.Debug("sage sandbox: consent given", "client", client.ID)
	// "The callback gets code and country" (apis.md §3.1).
	sandboxkit.Redirect(w, r, redirect, url.Values{"code": {code}, "country": {country}, "state": {state}})
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client Client, p url.Values) {
	var hidden []hiddenField
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.order))
	for _, id := range s.order {
		names = append(names, s.businesses[id].Name)
	}
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := consentPage.Execute(w, map[string]any{"App": app, "Action": r.URL.Path, "Hidden": hidden, "Businesses": names, "Scope": p.Get("scope")})
	if err != nil {
		s.log.Error("sage sandbox: render consent", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

// tokenResponse is Sage's token answer, fields in the order of apis.md
// §3.1's sample.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	RequestedByID         string `json:"requested_by_id"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request")
		return
	}
	// The form carries client_id and client_secret (apis.md §3.1); HTTP
	// Basic (RFC 6749 §2.3.1) is accepted too.
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		// RFC 6749 §5.2; Sage's body for this case is not in the reference.
		oauthError(w, "invalid_client")
		return
	}
	now := s.now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := s.codes[code]
		// Single use: a code is gone after its first exchange, good or bad
		// (apis.md §3.1 "authorization code 60 s, single use").
		delete(s.codes, code)
		if !ok || c.clientID != client.ID || c.redirectURI != r.PostForm.Get("redirect_uri") || !now.Before(c.expires) {
			// apis.md §3.1: 400 {"error":"invalid_grant"} for an expired or used
			// code or a redirect_uri mismatch.
			oauthError(w, "invalid_grant")
			return
		}
		s.issueTokens(w, client.ID, c.userID, c.scope, now)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		t, ok := s.refresh[rt]
		if !ok || t.clientID != client.ID || !now.Before(t.expires) {
			// apis.md §3.1, §6.1: expired or reused refresh tokens give invalid_grant.
			oauthError(w, "invalid_grant")
			return
		}
		// The refresh token rotates on every use (apis.md §3.1): the one
		// just used is dead from now on, with no grace period.
		delete(s.refresh, rt)
		s.issueTokens(w, client.ID, t.userID, t.scope, now)
	default:
		oauthError(w, "unsupported_grant_type")
	}
}

// issueTokens answers a successful grant. Caller holds s.mu.
func (s *Server) issueTokens(w http.ResponseWriter, clientID, userID, scope string, now time.Time) {
	at, rt := newSecret(), newSecret()
	s.access[at] = &accessToken{clientID: clientID, userID: userID, scope: scope, expires: now.Add(AccessTokenTTL)}
	s.refresh[rt] = &refreshToken{clientID: clientID, userID: userID, scope: scope, expires: now.Add(RefreshTokenTTL)}
	s.pruneTokens(now)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: at, Scope: scope, TokenType: "bearer", ExpiresIn: int64(AccessTokenTTL / time.Second),
		RefreshToken: rt, RefreshTokenExpiresIn: int64(RefreshTokenTTL / time.Second), RequestedByID: userID,
	})
}

// pruneTokens drops tokens that can never be accepted again, so a
// long-running dev sandbox does not grow without bound. Caller holds s.mu.
func (s *Server) pruneTokens(now time.Time) {
	for k, t := range s.access {
		if now.After(t.expires) {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if now.After(t.expires) {
			delete(s.refresh, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
}

// oauthError writes apis.md §3.1's token error: 400 {"error":"…"}.
func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

// authFailure says why a call was not authenticated.
type authFailure int

const (
	authOK authFailure = iota
	authMissing
	authInvalid
)

// authenticate checks the Bearer token. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*accessToken, authFailure) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, authMissing
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok || raw == "" {
		return nil, authInvalid
	}
	t, ok := s.access[raw]
	if !ok || !now.Before(t.expires) {
		return nil, authInvalid
	}
	return t, authOK
}

// unauthorized writes apis.md §3.5's 401 bodies: an object without the
// header, the $-keyed array for a bad token. An expired token gets the
// bad-token answer: its own text is not in the reference.
func unauthorized(w http.ResponseWriter, why authFailure) {
	if why == authMissing {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error": "Authorization missing. Please, add an authorization token at the 'Authorization' HTTP header.",
		})
		return
	}
	writeErrors(w, http.StatusUnauthorized, sageError{
		Severity: "error", DataCode: "AccessTokenVerificationError",
		Message: "Access token is invalid (JWT malformed or missing).", Source: "Authorization",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
