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

// grant is what a consent authorised, beyond the kit's client and scope:
// the user, who may reach every business (apis.md §3.1).
type grant struct {
	UserID string `json:"userId"`
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

// authorizeParams are the authorization endpoint's parameters (apis.md
// §3.1: filter, response_type, client_id, redirect_uri, scope, state, and
// the optional country and locale).
var authorizeParams = []string{"filter", "response_type", "client_id", "redirect_uri", "scope", "state", "country", "locale"}

// scopes are the two Sage scopes (apis.md §3.1 "scope readonly|full_access").
var scopes = []string{"readonly", "full_access"}

// platform is Sage's OAuth service as the kit's authorization server runs
// it (apis.md §3.1): authorization code flow only, codes living 60 s and
// single use, 5-minute access tokens, 31-day refresh tokens that rotate on
// every use with no grace, client credentials in the form (HTTP Basic
// accepted too), and every token error a 400 {"error":"…"}. §3.1
// documents no PKCE, so a code_challenge is ignored.
func (s *Server) platform() sandboxkit.Platform[grant] {
	return sandboxkit.Platform[grant]{
		Name:           "sage",
		Lifetimes:      sandboxkit.Lifetimes{Code: AuthCodeTTL, Access: AccessTokenTTL, Refresh: RefreshTokenTTL},
		Rotation:       sandboxkit.Rotation{Rotate: true},
		FormClientAuth: true,
		UnknownClient:  "Unknown client: ",
		BadRedirect:    "The redirect_uri is not registered for this client: ",
		ErrorPage:      s.errorPage,
		CheckRequest: func(p url.Values, _ sandboxkit.Client) (string, string) {
			if !slices.Contains(scopes, p.Get("scope")) {
				return "invalid_scope", ""
			}
			return "", ""
		},
		ConsentPage: s.renderConsent,
		// "The callback gets code and country" (apis.md §3.1).
		Consent: func(url.Values, sandboxkit.Client, string, time.Time) (grant, url.Values, string) {
			return grant{UserID: s.userID}, url.Values{"country": {s.businesses[s.lead()].Country}}, ""
		},
		// apis.md §3.1: 400 {"error":"invalid_grant"} for an expired or used
		// code or refresh token, or a redirect_uri mismatch; the bodies of
		// the other errors are RFC 6749 §5.2's.
		TokenError: oauthError,
		TokenResponse: func(w http.ResponseWriter, t sandboxkit.Issued[grant]) {
			writeJSON(w, http.StatusOK, tokenResponse{
				AccessToken: t.AccessToken, Scope: strings.Join(t.Grant.Scopes, " "), TokenType: "bearer",
				ExpiresIn: int64(t.AccessExpiresIn / time.Second), RefreshToken: t.RefreshToken,
				RefreshTokenExpiresIn: int64(t.RefreshExpiresIn / time.Second), RequestedByID: t.Grant.Info.UserID,
			})
		},
	}
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, client sandboxkit.Client, p url.Values, _ string) {
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
	err := consentPage.Execute(w, map[string]any{
		"App": app, "Action": r.URL.Path, "Hidden": sandboxkit.HiddenFields(p, authorizeParams), "Businesses": names, "Scope": p.Get("scope"),
	})
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

// authenticate checks the Bearer token and returns its grant. Caller
// holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) (*sandboxkit.Grant[grant], authFailure) {
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
	b, why := s.oauth.Authenticate(raw, now)
	if why != sandboxkit.Accepted {
		return nil, authInvalid
	}
	return b.Grant, authOK
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
