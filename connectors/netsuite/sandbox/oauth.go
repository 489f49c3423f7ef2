package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
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

// grant is what a consent authorised, beyond the kit's client, scopes and
// account (the grant's site): the role the user chose.
type grant struct {
	Role Role `json:"role"`
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

// authorizeParams are the authorization request's parameters (§4.1).
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

// platform is NetSuite's OAuth 2.0 authorization code grant as the kit's
// authorization server runs it, per account (§4.1): state of 24–1024
// characters, rest_webservices and the other documented scopes, HTTP Basic
// client authentication, JWT tokens, 60-minute access tokens and a refresh
// token that ends 7 days after the code exchange, rotated only under
// Rules.RotateRefreshTokens. The reference's NetSuite section documents no
// PKCE (§4.1), so a code_challenge is ignored.
func (s *Server) platform() sandboxkit.Platform[grant] {
	return sandboxkit.Platform[grant]{
		Name:          "netsuite",
		Lifetimes:     sandboxkit.Lifetimes{Code: AuthCodeTTL, Access: AccessTokenTTL, Refresh: RefreshTokenTTL, Grant: RefreshTokenTTL},
		Rotation:      sandboxkit.Rotation{Rotate: s.rules.RotateRefreshTokens},
		UnknownClient: "Unknown client_id ",
		BadRedirect:   "The redirect_uri does not match the integration record: ",
		ErrorPage:     s.errorPage,
		Describe: func(code string) string {
			return map[string]string{"unsupported_response_type": "response_type must be code", "access_denied": "the user denied access"}[code]
		},
		CheckRequest: func(p url.Values, _ sandboxkit.Client) (string, string) {
			// §4.1: "state must be 24–1024 chars".
			if n := len(p.Get("state")); n < MinStateLen || n > MaxStateLen {
				return "invalid_request", "state must be 24 to 1024 characters"
			}
			scopes := strings.Fields(p.Get("scope"))
			if len(scopes) == 0 {
				return "invalid_scope", "scope is required"
			}
			for _, sc := range scopes {
				if !slices.Contains(Scopes, sc) { // §4.1 scope values
					return "invalid_scope", "unknown scope " + sc
				}
			}
			return "", ""
		},
		ConsentPage: s.renderConsent,
		Consent: func(p url.Values, c sandboxkit.Client, site string, _ time.Time) (grant, url.Values, string) {
			co := s.companies[site]
			if co == nil {
				return grant{}, nil, "Unknown NetSuite account."
			}
			for _, ro := range co.Roles {
				if ro.ID == p.Get("role") {
					s.log.Debug("netsuite sandbox: role chosen", "client", c.ID, "account", co.AccountID, "role", ro.ID)
					return grant{Role: ro}, nil, ""
				}
			}
			return grant{}, nil, "Choose a role."
		},
		NewAccessToken:  func(g *sandboxkit.Grant[grant], now time.Time) string { return s.newToken(g, now, "access") },
		NewRefreshToken: func(g *sandboxkit.Grant[grant], now time.Time) string { return s.newToken(g, now, "refresh") },
		TokenError: func(w http.ResponseWriter, code string) {
			// §4.1: the client authenticates with HTTP Basic; §6.1:
			// invalid_grant for expired or reused grants (after 7 days the
			// refresh token "cannot be refreshed").
			status := http.StatusBadRequest
			if code == "invalid_client" {
				status = http.StatusUnauthorized
			}
			oauthError(w, status, code)
		},
		TokenResponse: func(w http.ResponseWriter, t sandboxkit.Issued[grant]) {
			writeJSON(w, http.StatusOK, tokenResponse{
				AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
				ExpiresIn: strconv.Itoa(int(t.AccessExpiresIn / time.Second)), TokenType: "Bearer",
			})
		},
	}
}

// site is the kit's name for an account: its host form.
func site(co *company) string { return HostForm(co.AccountID) }

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client sandboxkit.Client, p url.Values, site string) {
	s.mu.Lock()
	co := s.companies[site]
	var roles []Role
	var account string
	if co != nil {
		roles, account = slices.Clone(co.Roles), co.AccountID
	}
	s.mu.Unlock()
	app := client.Name
	if app == "" {
		app = client.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := consentPage.Execute(w, map[string]any{
		"App": app, "Account": account, "Action": r.URL.Path, "Hidden": sandboxkit.HiddenFields(p, authorizeParams), "Roles": roles, "Scope": p.Get("scope"),
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

// newToken mints a JWT: sub "role;entity", aud "app id;company", scope
// (§4.1), signed with the sandbox's own key. Caller holds s.mu.
func (s *Server) newToken(g *sandboxkit.Grant[grant], now time.Time, use string) string {
	exp := now.Add(AccessTokenTTL)
	if use == "refresh" {
		exp = now.Add(RefreshTokenTTL)
	}
	account := g.Site
	if co := s.companies[g.Site]; co != nil {
		account = co.AccountID
	}
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "sandbox-" + use})
	body, _ := json.Marshal(map[string]any{
		"sub": g.Info.Role.ID + ";" + entityID, "aud": g.ClientID + ";" + account, "scope": g.Scopes,
		"iss": "https://system.netsuite.com", "iat": now.Unix(), "exp": exp.Unix(), "jti": sandboxkit.NewSecret(),
	})
	signing := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, s.signingKey)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// authenticate checks the Bearer token against the account in the path
// and returns its grant. Caller holds s.mu.
func (s *Server) authenticate(r *http.Request, co *company, now time.Time) *sandboxkit.Grant[grant] {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil
	}
	b, why := s.oauth.Authenticate(raw, now)
	// §4.5: "an expired token also gives INVALID_LOGIN"; a token of
	// another account does too.
	if why != sandboxkit.Accepted || b.Grant.Site != site(co) || !slices.Contains(b.Grant.Scopes, "rest_webservices") {
		return nil
	}
	return b.Grant
}

// ExpireAccessTokens makes every access token issued so far expired, as if
// 60 minutes had passed for them only.
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	_ = s.change(func() error {
		s.oauth.ExpireAccessTokens(now)
		return nil
	})
}

// RevokeRefreshTokens makes every refresh token unusable, as when the user
// revokes the integration's access.
func (s *Server) RevokeRefreshTokens() {
	_ = s.change(func() error {
		s.oauth.RevokeRefreshTokens()
		return nil
	})
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
