package sandbox

import (
	"crypto/subtle"
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
	subdomain             string
	userID                int
	expires               time.Time
}

type accessToken struct {
	clientID  string
	subdomain string
	userID    int
	expires   time.Time
}

type refreshToken struct {
	clientID  string
	subdomain string
	userID    int
	expires   time.Time
	// used is when the token was exchanged; it is refused after that
	// (plus the configured grace), apis.md §6.1.
	used time.Time
}

var approvePage = template.Must(template.New("approve").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>FreeAgent sandbox: approve app</title></head>
<body>
<h1>{{.App}} would like to access your FreeAgent account</h1>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>Company
<select name="subdomain">{{range $i, $c := .Companies}}<option value="{{$c.Subdomain}}"{{if eq $i 0}} selected{{end}}>{{$c.Name}}</option>{{end}}</select></label></p>
<button type="submit" name="consent" value="allow">Approve</button>
<button type="submit" name="consent" value="deny">Cancel</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>FreeAgent sandbox: error</title></head>
<body><h1>Sorry, something went wrong</h1><p>{{.}}</p></body></html>
`))

type hiddenField struct{ Name, Value string }

// approveParams are the authorization request's parameters
// (apis.md §5.1: client_id, response_type=code, redirect_uri, state).
var approveParams = []string{"client_id", "response_type", "redirect_uri", "state"}

// handleApprove renders the approve page on GET and completes it on POST
// (the page posts back to the same path). FreeAgent's page also asks the
// user to log in; the sandbox's user is the chosen company's first user.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
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
		s.errorPage(w, "Unknown OAuth identifier: "+p.Get("client_id"))
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirect) {
		s.errorPage(w, "The redirect URI is not registered for this app: "+redirect)
		return
	}
	state := p.Get("state")
	if p.Get("response_type") != "code" {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"unsupported_response_type"}, "state": {state}})
		return
	}
	if r.Method == http.MethodGet {
		s.renderApprove(w, r, client, p)
		return
	}
	if p.Get("consent") != "allow" {
		sandboxkit.Redirect(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {state}})
		return
	}
	now := s.now()
	s.mu.Lock()
	c, ok := s.companies[p.Get("subdomain")]
	if !ok {
		s.mu.Unlock()
		s.errorPage(w, "Choose a company to connect.")
		return
	}
	code := newSecret()
	// Authorization codes live 15 minutes and are single use (apis.md §5.1).
	s.codes[code] = &authCode{clientID: client.ID, redirectURI: redirect, subdomain: c.Subdomain, userID: c.Users[0].ID, expires: now.Add(AuthCodeTTL)}
	s.mu.Unlock()
	s.log.Debug("freeagent sandbox: app approved", "client", client.ID, "company", c.Subdomain)
	sandboxkit.Redirect(w, r, redirect, url.Values{"code": {code}, "state": {state}})
}

func (s *Server) renderApprove(w http.ResponseWriter, r *http.Request, client Client, p url.Values) {
	var hidden []hiddenField
	for _, k := range approveParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	s.mu.Lock()
	companies := make([]Company, 0, len(s.order))
	for _, sd := range s.order {
		companies = append(companies, s.companies[sd].Company)
	}
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := approvePage.Execute(w, map[string]any{"App": app, "Action": r.URL.Path, "Hidden": hidden, "Companies": companies}); err != nil {
		s.log.Error("freeagent sandbox: render approve page", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

// tokenResponse is the token endpoint's answer: the access token lives an
// hour, and every grant, refreshes included, returns a new refresh token
// with refresh_token_expires_in (apis.md §5.1, §0).
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "")
		return
	}
	// The client authenticates with HTTP Basic (apis.md §5.1).
	id, secret, basic := r.BasicAuth()
	s.mu.Lock()
	defer s.mu.Unlock()
	client, ok := s.clients[id]
	if !basic || !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		// RFC 6749 §5.2 (401 for failed Basic authentication); FreeAgent's
		// exact body is not in the reference.
		w.Header().Set("WWW-Authenticate", `Basic realm="FreeAgent"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	now := s.now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := s.codes[code]
		delete(s.codes, code) // single use, good or bad
		if !ok || c.clientID != client.ID || c.redirectURI != r.PostForm.Get("redirect_uri") || !now.Before(c.expires) {
			s.invalidGrant(w)
			return
		}
		s.issueTokens(w, client.ID, c.subdomain, c.userID, now)
	case "refresh_token":
		t, ok := s.refresh[r.PostForm.Get("refresh_token")]
		if !ok || t.clientID != client.ID || !now.Before(t.expires) ||
			(!t.used.IsZero() && !now.Before(t.used.Add(s.refreshGrace))) {
			// Expired or reused refresh tokens: invalid_grant (apis.md §6.1, §5.5).
			s.invalidGrant(w)
			return
		}
		// Refreshes are rate limited per user (apis.md §5.1 [UNVERIFIED]
		// number, Limits.TokenRefreshPerMinute).
		if !s.admitRefresh(w, userKey{t.subdomain, t.userID}, now) {
			return
		}
		if t.used.IsZero() {
			t.used = now
		}
		s.issueTokens(w, client.ID, t.subdomain, t.userID, now)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// issueTokens answers a successful grant. Caller holds s.mu.
func (s *Server) issueTokens(w http.ResponseWriter, clientID, subdomain string, userID int, now time.Time) {
	at, rt := newSecret(), newSecret()
	s.access[at] = &accessToken{clientID: clientID, subdomain: subdomain, userID: userID, expires: now.Add(AccessTokenTTL)}
	s.refresh[rt] = &refreshToken{clientID: clientID, subdomain: subdomain, userID: userID, expires: now.Add(s.refreshTTL)}
	s.pruneTokens(now)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: at, TokenType: "bearer", ExpiresIn: int64(AccessTokenTTL / time.Second),
		RefreshToken: rt, RefreshTokenExpiresIn: int64(s.refreshTTL / time.Second),
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
		if now.After(t.expires) || (!t.used.IsZero() && now.After(t.used.Add(s.refreshGrace))) {
			delete(s.refresh, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
}

func (s *Server) invalidGrant(w http.ResponseWriter) {
	// The OAuth error envelope of apis.md §5.5.
	oauthError(w, http.StatusBadRequest, "invalid_grant", s.msg.InvalidGrant)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// authenticate checks the Bearer token. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) *accessToken {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil
	}
	t, ok := s.access[raw]
	if !ok || !now.Before(t.expires) {
		return nil
	}
	return t
}
