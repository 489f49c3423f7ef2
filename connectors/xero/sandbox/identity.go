package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
	clientID, redirectURI string
	scopes                []string
	tenantID, authEventID string
	challenge, method     string
	expires               time.Time
}

type accessToken struct {
	clientID    string
	scopes      []string
	authEventID string
	expires     time.Time
}

type refreshToken struct {
	clientID    string
	scopes      []string
	authEventID string
	expires     time.Time
	// rotated is when the token was first exchanged; it stays usable for
	// RefreshTokenGrace after that (accounting-platform-apis.md §1.1).
	rotated time.Time
}

// connection is one tenant a client was authorised for, as listed by
// GET /connections (identity spec, Connection schema).
type connection struct {
	id, clientID, tenantID, authEventID string
	created, updated                    time.Time
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Xero sandbox: allow access</title></head>
<body>
<h1>{{.App}} would like access to your organisation</h1>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>Organisation
<select name="tenant_id">{{range $i, $o := .Orgs}}<option value="{{$o.TenantID}}"{{if eq $i 0}} selected{{end}}>{{$o.Name}}</option>{{end}}</select></label></p>
<p>Permissions: {{.Scope}}</p>
<button type="submit" name="consent" value="allow">Allow access</button>
<button type="submit" name="consent" value="deny">Cancel</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Xero sandbox: error</title></head>
<body><h1>Sorry, something went wrong</h1><p>{{.}}</p></body></html>
`))

type hiddenField struct{ Name, Value string }

// authorizeParams are the query (GET) or form (POST) parameters of the
// authorization endpoint, accounting-platform-apis.md §1.1.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

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
		s.errorPage(w, "Unknown client or client not enabled: "+p.Get("client_id"))
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		s.errorPage(w, "Invalid redirect_uri: "+redirect)
		return
	}
	state := p.Get("state")
	if p.Get("response_type") != "code" {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"unsupported_response_type"}, "state": {state}})
		return
	}
	scopes := strings.Fields(p.Get("scope"))
	if len(scopes) == 0 {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"invalid_scope"}, "state": {state}})
		return
	}
	if client.Secret == "" && p.Get("code_challenge") == "" {
		// Public clients must prove possession with PKCE (accounting-platform-apis.md §1.1).
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge is required"}, "state": {state}})
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
	s.mu.Lock()
	tenantID := p.Get("tenant_id")
	if _, ok := s.orgs[tenantID]; !ok {
		s.mu.Unlock()
		s.errorPage(w, "Choose an organisation to connect.")
		return
	}
	authEvent := newUUID()
	s.connect(client.ID, tenantID, authEvent, now)
	code := newSecret()
	// Codes are single use and live 5 minutes (accounting-platform-apis.md §1.1).
	s.codes[code] = &authCode{
		clientID: client.ID, redirectURI: redirect, scopes: scopes,
		tenantID: tenantID, authEventID: authEvent,
		challenge: p.Get("code_challenge"), method: p.Get("code_challenge_method"),
		expires: now.Add(AuthCodeTTL),
	}
	s.mu.Unlock()
	s.log.Debug("xero sandbox: consent given", "client", client.ID, "tenant", tenantID)
	sandboxkit.Redirect(w, r, redirect, url.Values{"code": {code}, "scope": {strings.Join(scopes, " ")}, "state": {state}})
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client Client, p url.Values) {
	var hidden []hiddenField
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	s.mu.Lock()
	orgs := make([]Organisation, 0, len(s.orgOrder))
	for _, id := range s.orgOrder {
		orgs = append(orgs, s.orgs[id].Organisation)
	}
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := consentPage.Execute(w, map[string]any{
		"App": app, "Action": r.URL.Path, "Hidden": hidden, "Orgs": orgs, "Scope": p.Get("scope"),
	})
	if err != nil {
		s.log.Error("xero sandbox: render consent", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

// connect records that client may use tenantID; reconnecting updates the
// existing connection (identity spec: updatedDateUtc "may differ to the
// created date if the user ... reconnected"). Caller holds s.mu.
func (s *Server) connect(clientID, tenantID, authEvent string, now time.Time) {
	for _, c := range s.connections {
		if c.clientID == clientID && c.tenantID == tenantID {
			c.authEventID, c.updated = authEvent, now
			return
		}
	}
	s.connections = append(s.connections, &connection{
		id: newUUID(), clientID: clientID, tenantID: tenantID, authEventID: authEvent, created: now, updated: now,
	})
}

// tokenResponse is the identity spec's AccessToken schema.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "")
		return
	}
	// Web apps authenticate with HTTP Basic; the form is accepted too
	// (accounting-platform-apis.md §1.1; identity spec RefreshToken schema has client_id and
	// client_secret fields).
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		// RFC 6749 §5.2; Xero's exact body for this case is not in the reference.
		oauthError(w, "invalid_client", "")
		return
	}
	now := s.now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := s.codes[code]
		// Single use: a code is gone after its first exchange, good or bad
		// (accounting-platform-apis.md §1.1 "Authorization code: single use, expires after 5 min").
		delete(s.codes, code)
		if !ok || c.clientID != client.ID || c.redirectURI != r.PostForm.Get("redirect_uri") || !now.Before(c.expires) ||
			!pkceMatches(c.challenge, c.method, r.PostForm.Get("code_verifier")) {
			invalidGrant(w)
			return
		}
		s.issueTokens(w, client.ID, c.scopes, c.authEventID, now)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		t, ok := s.refresh[rt]
		if !ok || t.clientID != client.ID || !now.Before(t.expires) ||
			(!t.rotated.IsZero() && !now.Before(t.rotated.Add(RefreshTokenGrace))) {
			// accounting-platform-apis.md §1.1: expired or reused refresh tokens give invalid_grant.
			invalidGrant(w)
			return
		}
		if t.rotated.IsZero() {
			t.rotated = now
		}
		s.issueTokens(w, client.ID, t.scopes, t.authEventID, now)
	default:
		oauthError(w, "unsupported_grant_type", "")
	}
}

// issueTokens answers a successful grant. Caller holds s.mu.
func (s *Server) issueTokens(w http.ResponseWriter, clientID string, scopes []string, authEvent string, now time.Time) {
	at := newSecret()
	s.access[at] = &accessToken{clientID: clientID, scopes: scopes, authEventID: authEvent, expires: now.Add(AccessTokenTTL)}
	resp := tokenResponse{AccessToken: at, ExpiresIn: int64(AccessTokenTTL / time.Second), TokenType: "Bearer", Scope: strings.Join(scopes, " ")}
	// A refresh token only with offline_access (accounting-platform-apis.md §1.1). Each one
	// lives 60 days unless used, and each use rotates it.
	if slices.Contains(scopes, "offline_access") {
		rt := newSecret()
		s.refresh[rt] = &refreshToken{clientID: clientID, scopes: scopes, authEventID: authEvent, expires: now.Add(RefreshTokenTTL)}
		resp.RefreshToken = rt
	}
	s.pruneTokens(now)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
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
		if now.After(t.expires) || (!t.rotated.IsZero() && now.After(t.rotated.Add(RefreshTokenGrace))) {
			delete(s.refresh, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
}

func pkceMatches(challenge, method, verifier string) bool {
	if challenge == "" {
		return true
	}
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
	}
	return verifier == challenge
}

func invalidGrant(w http.ResponseWriter) {
	// accounting-platform-apis.md §1.1: the body of a failed refresh.
	oauthError(w, "invalid_grant", "Token has been expired or revoked.")
}

func oauthError(w http.ResponseWriter, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusBadRequest, body)
}

// connectionJSON is the identity spec's Connection schema.
type connectionJSON struct {
	ID             string `json:"id"`
	AuthEventID    string `json:"authEventId"`
	TenantID       string `json:"tenantId"`
	TenantName     string `json:"tenantName"`
	TenantType     string `json:"tenantType"`
	CreatedDateUTC string `json:"createdDateUtc"`
	UpdatedDateUTC string `json:"updatedDateUtc"`
}

// connectionTime is the identity spec example's format
// ("2019-12-07T18:46:19.5165400": UTC, seven fractional digits, no zone).
const connectionTime = "2006-01-02T15:04:05.0000000"

func (s *Server) handleConnections(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	now := s.now()
	s.mu.Lock()
	tok, detail := s.authenticate(r, now)
	if tok == nil {
		s.mu.Unlock()
		unauthorized(w, detail)
		return
	}
	// Tenantless calls answer only the app limit header (accounting-platform-apis.md §1.6,
	// staff comment in xero-ruby#128).
	if !s.admitApp(w, tok.clientID, now) {
		s.mu.Unlock()
		return
	}
	filter := r.URL.Query().Get("authEventId")
	out := []connectionJSON{}
	for _, c := range s.connections {
		if c.clientID != tok.clientID || (filter != "" && c.authEventID != filter) {
			continue
		}
		o, ok := s.orgs[c.tenantID]
		if !ok {
			continue
		}
		out = append(out, connectionJSON{
			ID: c.id, AuthEventID: c.authEventID, TenantID: c.tenantID, TenantName: o.Name, TenantType: "ORGANISATION",
			CreatedDateUTC: c.created.UTC().Format(connectionTime), UpdatedDateUTC: c.updated.UTC().Format(connectionTime),
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// authenticate checks the Bearer token; on failure it returns nil and the
// 401 Detail. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*accessToken, string) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || raw == "" {
		return nil, "AuthenticationUnsuccessful"
	}
	t, ok := s.access[raw]
	if !ok {
		return nil, "AuthenticationUnsuccessful"
	}
	if !now.Before(t.expires) {
		// accounting-platform-apis.md §1.5: "TokenExpired: token expired at 01/01/2001 00:00:00".
		return nil, "TokenExpired: token expired at " + t.expires.UTC().Format("01/02/2006 15:04:05")
	}
	return t, ""
}

// problem is the envelope of Xero's 401 and 403 answers (accounting-platform-apis.md §1.5).
type problem struct {
	Type       *string        `json:"Type"`
	Title      string         `json:"Title"`
	Status     int            `json:"Status"`
	Detail     string         `json:"Detail"`
	Instance   string         `json:"Instance"`
	Extensions map[string]any `json:"Extensions"`
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, problem{Title: title, Status: status, Detail: detail, Instance: newUUID(), Extensions: map[string]any{}})
}

func unauthorized(w http.ResponseWriter, detail string) {
	// accounting-platform-apis.md §1.5: 401 with WWW-Authenticate: Bearer error=invalid_token.
	w.Header().Set("WWW-Authenticate", "Bearer error=invalid_token")
	writeProblem(w, http.StatusUnauthorized, "Unauthorized", detail)
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
