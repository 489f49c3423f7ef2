package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// grant is what a consent authorised, beyond the kit's client and scopes:
// the organisation chosen and its authentication event (identity spec).
type grant struct {
	TenantID    string `json:"tenantId"`
	AuthEventID string `json:"authEventId"`
}

// connection is one tenant a client was authorised for, as listed by
// GET /connections (identity spec, Connection schema).
type connection struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"clientId"`
	TenantID    string    `json:"tenantId"`
	AuthEventID string    `json:"authEventId"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
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

// authorizeParams are the query (GET) or form (POST) parameters of the
// authorization endpoint, accounting-platform-apis.md §1.1.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

// platform is Xero's identity service as the kit's authorization server
// runs it (accounting-platform-apis.md §1.1): 5-minute single-use codes,
// 30-minute access tokens, 60-day refresh tokens (with offline_access
// only) rotating on each use, the previous one accepted for 30 minutes,
// and PKCE, which native apps must use.
func (s *Server) platform() sandboxkit.Platform[grant] {
	return sandboxkit.Platform[grant]{
		Name:      "xero",
		Lifetimes: sandboxkit.Lifetimes{Code: AuthCodeTTL, Access: AccessTokenTTL, Refresh: RefreshTokenTTL},
		Rotation:  sandboxkit.Rotation{Rotate: true, Grace: RefreshTokenGrace},
		PKCE:      true,
		// Xero's access tokens are JWTs naming the consent they came from
		// (authentication_event_id), which is how an app tells its new
		// tenants from those an earlier consent connected (§1.1).
		NewAccessToken: func(g *sandboxkit.Grant[grant], now time.Time) string { return accessJWT(g, now) },
		// Web apps authenticate with HTTP Basic; the form is accepted too
		// (identity spec RefreshToken schema has client_id and
		// client_secret fields).
		FormClientAuth: true,
		UnknownClient:  "Unknown client or client not enabled: ",
		BadRedirect:    "Invalid redirect_uri: ",
		ErrorPage:      s.errorPage,
		CheckRequest: func(p url.Values, c sandboxkit.Client) (string, string) {
			if len(strings.Fields(p.Get("scope"))) == 0 {
				return "invalid_scope", ""
			}
			if c.Secret == "" && p.Get("code_challenge") == "" {
				// Public clients must prove possession with PKCE (§1.1).
				return "invalid_request", "code_challenge is required"
			}
			return "", ""
		},
		ConsentPage: s.renderConsent,
		Consent: func(p url.Values, c sandboxkit.Client, _ string, now time.Time) (grant, url.Values, string) {
			tenantID := p.Get("tenant_id")
			if _, ok := s.orgs[tenantID]; !ok {
				return grant{}, nil, "Choose an organisation to connect."
			}
			g := grant{TenantID: tenantID, AuthEventID: newUUID()}
			s.connect(c.ID, tenantID, g.AuthEventID, now)
			return g, url.Values{"scope": {strings.Join(strings.Fields(p.Get("scope")), " ")}}, ""
		},
		// A refresh token only with offline_access (§1.1).
		IssueRefresh: func(g *sandboxkit.Grant[grant]) bool { return slices.Contains(g.Scopes, "offline_access") },
		TokenError: func(w http.ResponseWriter, code string) {
			if code == "invalid_grant" {
				invalidGrant(w)
				return
			}
			// RFC 6749 §5.2; Xero's exact body for these is not in the reference.
			oauthError(w, code, "")
		},
		TokenResponse: func(w http.ResponseWriter, t sandboxkit.Issued[grant]) {
			writeJSON(w, http.StatusOK, tokenResponse{
				AccessToken: t.AccessToken, ExpiresIn: int64(t.AccessExpiresIn / time.Second), TokenType: "Bearer",
				RefreshToken: t.RefreshToken, Scope: strings.Join(t.Grant.Scopes, " "),
			})
		},
	}
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client sandboxkit.Client, p url.Values, _ string) {
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
		"App": app, "Action": r.URL.Path, "Hidden": sandboxkit.HiddenFields(p, authorizeParams), "Orgs": orgs, "Scope": p.Get("scope"),
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
		if c.ClientID == clientID && c.TenantID == tenantID {
			c.AuthEventID, c.Updated = authEvent, now
			return
		}
	}
	s.connections = append(s.connections, &connection{
		ID: newUUID(), ClientID: clientID, TenantID: tenantID, AuthEventID: authEvent, Created: now, Updated: now,
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
	if !sandboxkit.Methods(w, r, http.MethodGet) {
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
	if !s.admitApp(w, tok.ClientID, now) {
		s.mu.Unlock()
		return
	}
	filter := r.URL.Query().Get("authEventId")
	out := []connectionJSON{}
	for _, c := range s.connections {
		if c.ClientID != tok.ClientID || (filter != "" && c.AuthEventID != filter) {
			continue
		}
		o, ok := s.orgs[c.TenantID]
		if !ok {
			continue
		}
		out = append(out, connectionJSON{
			ID: c.ID, AuthEventID: c.AuthEventID, TenantID: c.TenantID, TenantName: o.Name, TenantType: "ORGANISATION",
			CreatedDateUTC: c.Created.UTC().Format(connectionTime), UpdatedDateUTC: c.Updated.UTC().Format(connectionTime),
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// authenticate checks the Bearer token and returns its grant; on failure
// it returns nil and the 401 Detail. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*sandboxkit.Grant[grant], string) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		raw = ""
	}
	b, why := s.oauth.Authenticate(raw, now)
	switch why {
	case sandboxkit.Accepted:
		return b.Grant, ""
	case sandboxkit.Expired:
		// accounting-platform-apis.md §1.5: "TokenExpired: token expired at 01/01/2001 00:00:00".
		return nil, "TokenExpired: token expired at " + b.Expires.UTC().Format("01/02/2006 15:04:05")
	}
	return nil, "AuthenticationUnsuccessful"
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
