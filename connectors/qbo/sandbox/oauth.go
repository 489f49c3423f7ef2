package sandbox

import (
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

// grant is what a consent authorised, beyond the kit's client and scopes:
// the company (realm) chosen.
type grant struct {
	RealmID string `json:"realmId"`
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

// authorizeParams are the authorization request's parameters (§2.1).
var authorizeParams = []string{"client_id", "response_type", "scope", "redirect_uri", "state"}

// platform is Intuit's OAuth 2.0 service as the kit's authorization server
// runs it (§2.1): the redirect carries code, state and realmId; codes are
// single use; the client authenticates by HTTP Basic only; access tokens
// live 3600 s; each refresh rotates the refresh token, which lives
// 8726400 s from its issue (rolling) and never past 5 years from consent;
// failures are 400 {"error":"invalid_grant"}. §2.1 documents no PKCE, so
// a code_challenge is ignored.
func (s *Server) platform() sandboxkit.Platform[grant] {
	return sandboxkit.Platform[grant]{
		Name: "qbo",
		Lifetimes: sandboxkit.Lifetimes{
			Code: s.rules.AuthCodeTTL, Access: AccessTokenTTL, Refresh: RefreshTokenTTL, Grant: RefreshTokenHardCap,
		},
		Rotation:      sandboxkit.Rotation{Rotate: true, Grace: s.rules.PreviousRefreshTokenGrace},
		UnknownClient: "Invalid client_id: ",
		BadRedirect:   "The redirect_uri query parameter value is invalid: ",
		ErrorPage:     s.errorPage,
		CheckRequest: func(p url.Values, _ sandboxkit.Client) (string, string) {
			scopes := strings.Fields(p.Get("scope"))
			if len(scopes) == 0 || slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(knownScopes, sc) }) {
				return "invalid_scope", ""
			}
			return "", ""
		},
		ConsentPage: s.renderConsent,
		Consent: func(p url.Values, _ sandboxkit.Client, _ string, _ time.Time) (grant, url.Values, string) {
			realm := p.Get("realm_id")
			if _, ok := s.companies[realm]; !ok {
				return grant{}, nil, "Choose a company to connect."
			}
			return grant{RealmID: realm}, url.Values{"realmId": {realm}}, ""
		},
		NewCode:         func() string { return "AB11" + sandboxkit.NewSecret() },
		NewAccessToken:  func(*sandboxkit.Grant[grant], time.Time) string { return newAccessToken() },
		NewRefreshToken: func(*sandboxkit.Grant[grant], time.Time) string { return newRefreshToken() },
		TokenError: func(w http.ResponseWriter, code string) {
			if code == "invalid_client" {
				// RFC 6749 §5.2: a failed client authentication by Basic is
				// a 401. Intuit's body for it is not in the reference.
				w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
				oauthError(w, http.StatusUnauthorized, code)
				return
			}
			// §2.1: 400 {"error":"invalid_grant"} for a bad or expired code or
			// refresh token ("send only one code-exchange request").
			oauthError(w, http.StatusBadRequest, code)
		},
		TokenResponse: func(w http.ResponseWriter, t sandboxkit.Issued[grant]) {
			resp := tokenResponse{
				TokenType: "bearer", AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
				ExpiresIn: int64(t.AccessExpiresIn / time.Second), XRefreshTokenExpiresIn: int64(t.RefreshExpiresIn / time.Second),
			}
			if slices.Contains(t.Grant.Scopes, "openid") {
				resp.IDToken = "eyJhbGciOiJSUzI1NiJ9." + sandboxkit.NewSecret() + "." + sandboxkit.NewSecret()
			}
			w.Header().Set("Pragma", "no-cache")
			writeJSON(w, http.StatusOK, resp)
		},
	}
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client sandboxkit.Client, p url.Values, _ string) {
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
		"App": app, "Action": r.URL.Path, "Hidden": sandboxkit.HiddenFields(p, authorizeParams), "Companies": companies, "Scope": p.Get("scope"),
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

// handleRevoke revokes the grant behind an access or refresh token:
// POST with Basic client authentication and body {"token":"…"} (§2.1).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !sandboxkit.Methods(w, r, http.MethodPost) {
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
	client, ok := s.oauth.AuthenticateClient(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.oauth.RevokeToken(client.ID, body.Token)
	// RFC 7009 §2.2: an unknown token is not an error.
	w.WriteHeader(http.StatusOK)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code})
}

// authenticate checks the Bearer token and returns its grant; on failure
// it returns nil and the 401 detail. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*sandboxkit.Grant[grant], string) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, "Token invalid" // not in the reference
	}
	b, why := s.oauth.Authenticate(raw, now)
	switch why {
	case sandboxkit.Accepted:
		return b.Grant, ""
	case sandboxkit.Expired:
		// §2.5 fixture: "detail":"Token expired: AB…".
		return nil, "Token expired: " + raw[:min(len(raw), 8)] + "…"
	}
	return nil, "Token revoked" // not in the reference
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
