package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// grant is what an approval authorised, beyond the kit's client: one user
// in one company (apis.md §5.1: "one token = one user in one company").
type grant struct {
	Subdomain string `json:"subdomain"`
	UserID    int    `json:"userId"`
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

// approveParams are the authorization request's parameters
// (apis.md §5.1: client_id, response_type=code, redirect_uri, state).
var approveParams = []string{"client_id", "response_type", "redirect_uri", "state"}

// platform is FreeAgent's OAuth 2.0 (Draft 22) service as the kit's
// authorization server runs it (apis.md §5.1): codes live 15 minutes and
// are single use, access tokens an hour, and every grant, refreshes
// included, answers a new refresh token with refresh_token_expires_in;
// the client authenticates with HTTP Basic; refreshes are rate limited per
// user. §5.1 documents no PKCE, so a code_challenge is ignored. FreeAgent's
// page also asks the user to log in; the sandbox's user is the chosen
// company's first user.
func (s *Server) platform() sandboxkit.Platform[grant] {
	return sandboxkit.Platform[grant]{
		Name:          "freeagent",
		Lifetimes:     sandboxkit.Lifetimes{Code: AuthCodeTTL, Access: AccessTokenTTL, Refresh: s.refreshTTL},
		Rotation:      sandboxkit.Rotation{Rotate: true, Grace: s.refreshGrace},
		UnknownClient: "Unknown OAuth identifier: ",
		BadRedirect:   "The redirect URI is not registered for this app: ",
		ErrorPage:     s.errorPage,
		ConsentPage:   s.renderApprove,
		Consent: func(p url.Values, _ sandboxkit.Client, _ string, _ time.Time) (grant, url.Values, string) {
			c, ok := s.companies[p.Get("subdomain")]
			if !ok {
				return grant{}, nil, "Choose a company to connect."
			}
			return grant{Subdomain: c.Subdomain, UserID: c.Users[0].ID}, nil, ""
		},
		// Refreshes are rate limited per user (apis.md §5.1 [UNVERIFIED]
		// number, Limits.TokenRefreshPerMinute).
		BeforeRefresh: func(w http.ResponseWriter, g *sandboxkit.Grant[grant], now time.Time) bool {
			return s.admitRefresh(w, userKey{g.Info.Subdomain, g.Info.UserID}, now)
		},
		TokenError: func(w http.ResponseWriter, code string) {
			switch code {
			case "invalid_client":
				// RFC 6749 §5.2 (401 for failed Basic authentication);
				// FreeAgent's exact body is not in the reference.
				w.Header().Set("WWW-Authenticate", `Basic realm="FreeAgent"`)
				oauthError(w, http.StatusUnauthorized, code, "")
			case "invalid_grant":
				// Expired or reused codes and refresh tokens, in the OAuth
				// error envelope of apis.md §5.5 (§6.1).
				oauthError(w, http.StatusBadRequest, code, s.msg.InvalidGrant)
			default:
				oauthError(w, http.StatusBadRequest, code, "")
			}
		},
		TokenResponse: func(w http.ResponseWriter, t sandboxkit.Issued[grant]) {
			writeJSON(w, http.StatusOK, tokenResponse{
				AccessToken: t.AccessToken, TokenType: "bearer", ExpiresIn: int64(t.AccessExpiresIn / time.Second),
				RefreshToken: t.RefreshToken, RefreshTokenExpiresIn: int64(t.RefreshExpiresIn / time.Second),
			})
		},
	}
}

func (s *Server) renderApprove(w http.ResponseWriter, r *http.Request, client sandboxkit.Client, p url.Values, _ string) {
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
	if err := approvePage.Execute(w, map[string]any{
		"App": app, "Action": r.URL.Path, "Hidden": sandboxkit.HiddenFields(p, approveParams), "Companies": companies,
	}); err != nil {
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

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// authenticate checks the Bearer token and returns its grant. Caller
// holds s.mu.
func (s *Server) authenticate(r *http.Request, now time.Time) *sandboxkit.Grant[grant] {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil
	}
	b, why := s.oauth.Authenticate(raw, now)
	if why != sandboxkit.Accepted {
		return nil
	}
	return b.Grant
}
