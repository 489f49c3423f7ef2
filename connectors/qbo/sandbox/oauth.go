package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

type authCode struct {
	clientID, redirectURI, realmID string
	scopes                         []string
	expires                        time.Time
}

// grant is one consent: a client authorised for one company. Tokens die
// with it when revoked; its refresh tokens never outlive the hard cap.
type grant struct {
	id, clientID, realmID string
	scopes                []string
	hardExpiry            time.Time
	revoked               bool
}

type accessToken struct {
	grant   *grant
	expires time.Time
}

type refreshToken struct {
	grant   *grant
	expires time.Time
	// rotated is when the token was exchanged for a new one; it is refused
	// after Rules.PreviousRefreshTokenGrace from then.
	rotated time.Time
}

// knownScopes are the scopes Intuit's authorization endpoint accepts (§2.1
// names com.intuit.quickbooks.accounting; the OpenID ones are standard).
var knownScopes = []string{AccountingScope, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address"}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>QuickBooks sandbox: connect</title></head>
<body>
<h1>{{.App}} wants to connect to your QuickBooks company</h1>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>Company
<select name="realm_id">{{range $i, $c := .Companies}}<option value="{{$c.RealmID}}"{{if eq $i 0}} selected{{end}}>{{$c.CompanyName}}</option>{{end}}</select></label></p>
<p>Permissions: {{.Scope}}</p>
<button type="submit" name="consent" value="allow">Connect</button>
<button type="submit" name="consent" value="deny">Cancel</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>QuickBooks sandbox: error</title></head>
<body><h1>Something went wrong</h1><p>{{.}}</p></body></html>
`))

type hiddenField struct{ Name, Value string }

// authorizeParams are the authorization request's parameters (§2.1).
var authorizeParams = []string{"client_id", "response_type", "scope", "redirect_uri", "state"}

// handleAuthorize renders the consent page on GET and completes it on POST
// (the page's form posts back to the same path). Consent redirects to
// redirect_uri?code=…&state=…&realmId=… (§2.1).
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
	// An unknown client or redirect is never redirected to: the page would
	// hand a code to whoever wrote the link (RFC 6749 §4.1.2.1).
	if !ok {
		s.errorPage(w, "Invalid client_id: "+p.Get("client_id"))
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		s.errorPage(w, "The redirect_uri query parameter value is invalid: "+redirect)
		return
	}
	state := p.Get("state")
	if p.Get("response_type") != "code" {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"unsupported_response_type"}, "state": {state}})
		return
	}
	scopes := strings.Fields(p.Get("scope"))
	if len(scopes) == 0 || slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(knownScopes, sc) }) {
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
	realm := p.Get("realm_id")
	s.mu.Lock()
	if _, ok := s.companies[realm]; !ok {
		s.mu.Unlock()
		s.errorPage(w, "Choose a company to connect.")
		return
	}
	code := "AB11" + newSecret()
	s.codes[code] = &authCode{clientID: client.ID, redirectURI: redirect, realmID: realm, scopes: scopes, expires: now.Add(s.rules.AuthCodeTTL)}
	s.mu.Unlock()
	s.log.Debug("qbo sandbox: consent given", "client", client.ID, "realm", realm)
	sandboxkit.Redirect(w, r, redirect, url.Values{"code": {code}, "state": {state}, "realmId": {realm}})
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client Client, p url.Values) {
	var hidden []hiddenField
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	s.mu.Lock()
	companies := make([]Company, 0, len(s.order))
	for _, id := range s.order {
		companies = append(companies, s.companies[id].Company)
	}
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := consentPage.Execute(w, map[string]any{
		"App": app, "Action": r.URL.Path, "Hidden": hidden, "Companies": companies, "Scope": p.Get("scope"),
	}); err != nil {
		s.log.Error("qbo sandbox: render consent", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

// tokenResponse is Intuit's token response, fields in the order of §2.1's
// example.
type tokenResponse struct {
	TokenType              string `json:"token_type"`
	AccessToken            string `json:"access_token"`
	RefreshToken           string `json:"refresh_token"`
	ExpiresIn              int64  `json:"expires_in"`
	XRefreshTokenExpiresIn int64  `json:"x_refresh_token_expires_in"`
	IDToken                string `json:"id_token,omitempty"`
}

// handleToken is the token endpoint for code exchange and refresh (§2.1):
// client authentication by HTTP Basic only.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.basicClient(r)
	if !ok {
		// RFC 6749 §5.2: a failed client authentication by Basic is a 401.
		// Intuit's body for it is not in the reference.
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	now := s.now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := s.codes[code]
		// "Send only one code-exchange request" (§2.1): a code is gone after
		// its first exchange, good or bad.
		delete(s.codes, code)
		if !ok || c.clientID != client.ID || c.redirectURI != r.PostForm.Get("redirect_uri") || !now.Before(c.expires) {
			invalidGrant(w)
			return
		}
		g := &grant{id: newSecret(), clientID: client.ID, realmID: c.realmID, scopes: c.scopes, hardExpiry: now.Add(RefreshTokenHardCap)}
		s.grants[g.id] = g
		s.issueTokens(w, g, now)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		t, ok := s.refresh[rt]
		// §2.1: "A bad or expired refresh token gives 400
		// {"error":"invalid_grant"}". A rotated token is refused once its
		// grace (Rules) is over.
		if !ok || t.grant.clientID != client.ID || t.grant.revoked || !now.Before(t.expires) ||
			(!t.rotated.IsZero() && !now.Before(t.rotated.Add(s.rules.PreviousRefreshTokenGrace))) {
			invalidGrant(w)
			return
		}
		if t.rotated.IsZero() {
			t.rotated = now
		}
		s.issueTokens(w, t.grant, now)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// basicClient authenticates the client by HTTP Basic (§2.1). Caller holds s.mu.
func (s *Server) basicClient(r *http.Request) (Client, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return Client{}, false
	}
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

// issueTokens answers a successful grant: a 3600-second access token and a
// new refresh token living 8726400 seconds, never past the grant's 5-year
// cap (§2.1: rolling expiry, store the latest). Caller holds s.mu.
func (s *Server) issueTokens(w http.ResponseWriter, g *grant, now time.Time) {
	at, rt := newAccessToken(), newRefreshToken()
	s.access[at] = &accessToken{grant: g, expires: now.Add(AccessTokenTTL)}
	rtExpiry := now.Add(RefreshTokenTTL)
	if g.hardExpiry.Before(rtExpiry) {
		rtExpiry = g.hardExpiry
	}
	s.refresh[rt] = &refreshToken{grant: g, expires: rtExpiry}
	resp := tokenResponse{
		TokenType: "bearer", AccessToken: at, RefreshToken: rt,
		ExpiresIn: int64(AccessTokenTTL / time.Second), XRefreshTokenExpiresIn: int64(rtExpiry.Sub(now) / time.Second),
	}
	if slices.Contains(g.scopes, "openid") {
		resp.IDToken = "eyJhbGciOiJSUzI1NiJ9." + newSecret() + "." + newSecret()
	}
	s.pruneTokens(now)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// pruneTokens drops tokens that can never be accepted again. Caller holds s.mu.
func (s *Server) pruneTokens(now time.Time) {
	for k, t := range s.access {
		if now.After(t.expires) || t.grant.revoked {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if now.After(t.expires) || t.grant.revoked || (!t.rotated.IsZero() && now.After(t.rotated.Add(s.rules.PreviousRefreshTokenGrace))) {
			delete(s.refresh, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
}

// handleRevoke revokes the grant behind an access or refresh token:
// POST with Basic client authentication and body {"token":"…"} (§2.1).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err := json.Unmarshal(raw, &body); err != nil || body.Token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.basicClient(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	var g *grant
	if t, ok := s.refresh[body.Token]; ok {
		g = t.grant
	} else if t, ok := s.access[body.Token]; ok {
		g = t.grant
	}
	if g != nil && g.clientID == client.ID {
		g.revoked = true
	}
	// RFC 7009 §2.2: an unknown token is not an error.
	w.WriteHeader(http.StatusOK)
}

func invalidGrant(w http.ResponseWriter) {
	// §2.1: 400 {"error":"invalid_grant"}.
	oauthError(w, http.StatusBadRequest, "invalid_grant")
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code})
}

// authenticate checks the Bearer token; on failure it returns nil and the
// 401 detail. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*accessToken, string) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, "Token invalid" // not in the reference
	}
	t, ok := s.access[raw]
	if !ok || t.grant.revoked {
		return nil, "Token revoked" // not in the reference
	}
	if !now.Before(t.expires) {
		// §2.5 fixture: "detail":"Token expired: AB…".
		return nil, "Token expired: " + raw[:min(len(raw), 8)] + "…"
	}
	return t, ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
