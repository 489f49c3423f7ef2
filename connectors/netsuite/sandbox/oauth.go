package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// entityID is the employee every consent is given as; tokens carry
// "role;entity" (§4.1).
const entityID = "-5"

type authCode struct {
	clientID, redirectURI string
	scopes                []string
	role                  Role
	expires               time.Time
}

type accessToken struct {
	clientID string
	account  string // HostForm
	role     Role
	scopes   []string
	expires  time.Time
}

type refreshToken struct {
	clientID string
	account  string
	role     Role
	scopes   []string
	// expires is the grant's end: 7 days after the code exchange, kept
	// by rotated tokens (§4.1).
	expires time.Time
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>NetSuite sandbox: grant access</title></head>
<body>
<h1>{{.App}} is requesting access to your NetSuite account {{.Account}}</h1>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>Role
<select name="role">{{range $i, $r := .Roles}}<option value="{{$r.ID}}"{{if eq $i 0}} selected{{end}}>{{$r.Name}}</option>{{end}}</select></label></p>
<p>Scope: {{.Scope}}</p>
<button type="submit" name="consent" value="allow">Allow</button>
<button type="submit" name="consent" value="deny">Deny</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>NetSuite sandbox: error</title></head>
<body><h1>Invalid login attempt</h1><p>{{.}}</p></body></html>
`))

type hiddenField struct{ Name, Value string }

// authorizeParams are the authorization request's parameters (§4.1).
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

// handleAuthorize renders the consent page on GET and completes it on POST
// (§4.1: authorize.nl?response_type=code&client_id=…&redirect_uri=…&scope=rest_webservices&state=…).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request, co *company) {
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
	// An unknown client or redirect must not be redirected to (RFC 6749
	// §4.1.2.1); NetSuite's page text is not in the reference.
	if !ok {
		s.errorPage(w, "Unknown client_id "+p.Get("client_id")+".")
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		s.errorPage(w, "The redirect_uri does not match the integration record: "+redirect)
		return
	}
	state := p.Get("state")
	fail := func(code, desc string) {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	if p.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	// §4.1: "state must be 24–1024 chars".
	if n := len(state); n < MinStateLen || n > MaxStateLen {
		fail("invalid_request", "state must be 24 to 1024 characters")
		return
	}
	scopes := strings.Fields(p.Get("scope"))
	if len(scopes) == 0 {
		fail("invalid_scope", "scope is required")
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) { // §4.1 scope values
			fail("invalid_scope", "unknown scope "+sc)
			return
		}
	}
	if r.Method == http.MethodGet {
		s.renderConsent(w, r, co, client, p)
		return
	}
	if p.Get("consent") != "allow" {
		fail("access_denied", "the user denied access")
		return
	}
	s.mu.Lock()
	var role Role
	found := false
	for _, ro := range co.Roles {
		if ro.ID == p.Get("role") {
			role, found = ro, true
		}
	}
	if !found {
		s.mu.Unlock()
		s.errorPage(w, "Choose a role.")
		return
	}
	code := newSecret()
	s.codes[code] = &authCode{clientID: client.ID, redirectURI: redirect, scopes: scopes, role: role, expires: s.now().Add(AuthCodeTTL)}
	s.mu.Unlock()
	s.log.Debug("netsuite sandbox: consent given", "client", client.ID, "account", co.AccountID, "role", role.ID)
	sandboxkit.Redirect(w, r, redirect, url.Values{"code": {code}, "state": {state}})
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, co *company, client Client, p url.Values) {
	var hidden []hiddenField
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	s.mu.Lock()
	roles, account := slices.Clone(co.Roles), co.AccountID
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := consentPage.Execute(w, map[string]any{
		"App": app, "Account": account, "Action": r.URL.Path, "Hidden": hidden, "Roles": roles, "Scope": p.Get("scope"),
	}); err != nil {
		s.log.Error("netsuite sandbox: render consent", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

// tokenResponse is the token endpoint's answer. expires_in is a string in
// Oracle's samples (not in the reference); golang.org/x/oauth2 reads both.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    string `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// handleToken is POST …/services/rest/auth/oauth2/v1/token with HTTP Basic
// client_id:client_secret and grant_type=authorization_code|refresh_token
// (§4.1).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, co *company) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.clients[id]
	// §4.1: the client authenticates with HTTP Basic.
	if !basic || !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	now := s.now()
	acct := HostForm(co.AccountID)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := s.codes[code]
		delete(s.codes, code) // single use, good or bad
		if !ok || c.clientID != client.ID || c.redirectURI != r.PostForm.Get("redirect_uri") || !now.Before(c.expires) {
			// §6.1: invalid_grant for expired or reused grants.
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		rt := s.newToken(client.ID, co.AccountID, c.role, c.scopes, now, "refresh")
		s.refresh[rt] = &refreshToken{clientID: client.ID, account: acct, role: c.role, scopes: c.scopes, expires: now.Add(RefreshTokenTTL)}
		s.issue(w, client.ID, co, c.role, c.scopes, rt, now)
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		t, ok := s.refresh[old]
		if !ok || t.clientID != client.ID || t.account != acct || !now.Before(t.expires) {
			// §4.1: after 7 days the refresh token "cannot be refreshed";
			// §6.1: invalid_grant.
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		rt := ""
		if s.rules.RotateRefreshTokens {
			delete(s.refresh, old)
			rt = s.newToken(client.ID, co.AccountID, t.role, t.scopes, now, "refresh")
			s.refresh[rt] = &refreshToken{clientID: client.ID, account: acct, role: t.role, scopes: t.scopes, expires: t.expires}
		}
		s.issue(w, client.ID, co, t.role, t.scopes, rt, now)
	case "client_credentials":
		// §4.1 M2M needs a certificate-signed JWT assertion; not emulated.
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// issue answers a successful grant with a 60-minute access token (§4.1).
// Caller holds s.mu.
func (s *Server) issue(w http.ResponseWriter, clientID string, co *company, role Role, scopes []string, refresh string, now time.Time) {
	at := s.newToken(clientID, co.AccountID, role, scopes, now, "access")
	s.access[at] = &accessToken{clientID: clientID, account: HostForm(co.AccountID), role: role, scopes: scopes, expires: now.Add(AccessTokenTTL)}
	s.prune(now)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: at, RefreshToken: refresh, ExpiresIn: strconv.Itoa(int(AccessTokenTTL / time.Second)), TokenType: "Bearer",
	})
}

// newToken mints a JWT: sub "role;entity", aud "app id;company", scope
// (§4.1), signed with the sandbox's own key.
func (s *Server) newToken(clientID, account string, role Role, scopes []string, now time.Time, use string) string {
	exp := now.Add(AccessTokenTTL)
	if use == "refresh" {
		exp = now.Add(RefreshTokenTTL)
	}
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "sandbox-" + use})
	body, _ := json.Marshal(map[string]any{
		"sub": role.ID + ";" + entityID, "aud": clientID + ";" + account, "scope": scopes,
		"iss": "https://system.netsuite.com", "iat": now.Unix(), "exp": exp.Unix(), "jti": newSecret(),
	})
	signing := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, s.signingKey)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// prune drops tokens that can never be accepted again. Caller holds s.mu.
func (s *Server) prune(now time.Time) {
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

// authenticate checks the Bearer token against the account in the path.
// Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, co *company, now time.Time) *accessToken {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil
	}
	t, ok := s.access[raw]
	// §4.5: "an expired token also gives INVALID_LOGIN"; a token of
	// another account does too.
	if !ok || !now.Before(t.expires) || t.account != HostForm(co.AccountID) || !slices.Contains(t.scopes, "rest_webservices") {
		return nil
	}
	return t
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// 60 minutes had passed for them only.
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// RevokeRefreshTokens makes every refresh token unusable, as when the user
// revokes the integration's access.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	// RFC 6749 §5.2; NetSuite's exact bodies are not in the reference.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
