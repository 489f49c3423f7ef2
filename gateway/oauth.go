package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// How a connection is authorised:
//
//  1. POST …/connections answers linkUrl, a route of ours carrying a
//     single-use link token: GET /v1/oauth/link/{connectionId}?t=….
//  2. The browser that opens it gets a fresh OAuth state in a short-lived
//     HttpOnly cookie scoped to the callback's path, and a 302 to the
//     platform's consent page with that state (and, where the platform
//     takes PKCE, the S256 challenge of a verifier kept sealed with the
//     connection). Opening the link spends it: a leaked linkUrl that was
//     already used binds nothing, and one used by someone else first shows
//     the merchant an error instead of a consent page, so the leak is seen.
//  3. The platform sends the browser back to /v1/oauth/callback with a code
//     and the state. The callback refuses a state that is not the one in
//     that browser's cookie, an unknown, expired or used state, and (through
//     the platform, which checks the verifier) a code minted for another
//     connection's request. The state is spent before the code is
//     exchanged, and the cookie cleared, whatever the outcome.
//
// On platforms without PKCE a code that leaks can still be replayed through
// a browser that opened its own link; the state and cookie only stop it
// being replayed through anyone else's. Their codes are short-lived and
// single use (accounting-platform-apis.md §2.1, §3.1, §4.1, §5.1).

// Defaults for the link and the state; see WithLinkTTL and WithStateTTL.
const (
	// DefaultLinkTTL is how long an unopened linkUrl works: long enough
	// for a merchant to act on an e-mailed link the same day.
	DefaultLinkTTL = 24 * time.Hour
	// DefaultStateTTL is how long the platform's consent may take, between
	// opening the link and coming back to the callback.
	DefaultStateTTL = 10 * time.Minute
)

// Bounds on what a browser may send, far above what the platforms issue
// (codes of a few hundred characters; our states are under 80).
const (
	maxStateLen     = 256
	maxCodeLen      = 4096
	maxLinkTokenLen = 128
	maxConnIDLen    = 64
	cookiePrefix    = "commercesync_oauth_"
)

// oauthFlow is how the link and the callback are reached and how long each
// step may take.
type oauthFlow struct {
	linkBase     string // "http://host/v1/oauth/link/"
	cookiePath   string // the callback's path
	secureCookie bool
	linkTTL      time.Duration
	stateTTL     time.Duration
}

func newOAuthFlow(callbackURL string) oauthFlow {
	f := oauthFlow{linkBase: "/v1/oauth/link/", cookiePath: "/v1/oauth/callback", linkTTL: DefaultLinkTTL, stateTTL: DefaultStateTTL}
	if u, err := url.Parse(callbackURL); err == nil && u.Host != "" {
		f.cookiePath = u.Path
		f.secureCookie = u.Scheme == "https"
		f.linkBase = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/v1/oauth/link/"}).String()
	}
	return f
}

// WithLinkTTL sets how long a connection's linkUrl works before it is
// opened (default DefaultLinkTTL). Once opened it is spent.
func WithLinkTTL(d time.Duration) Option { return func(s *Server) { s.oauth.linkTTL = d } }

// WithStateTTL sets how long the platform's consent may take after the
// link is opened (default DefaultStateTTL); the state cookie lives as long.
func WithStateTTL(d time.Duration) Option { return func(s *Server) { s.oauth.stateTTL = d } }

func (s *Server) platformKey(key string) (string, bool) {
	if _, ok := s.connectors[key]; ok {
		return key, true
	}
	k, ok := s.codatKeys[key]
	if _, known := s.connectors[k]; ok && known {
		return k, true
	}
	return "", false
}

// The sealed secrets of a connection each have their own associated data,
// so one can never be opened as another.
func linkAAD(connID string) []byte     { return []byte("connection/" + connID + "/link") }
func verifierAAD(connID string) []byte { return []byte("connection/" + connID + "/pkce") }

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// CreateConnection starts authorising an accounting platform: the answer's
// linkUrl is where the merchant grants access.
func (s *Server) CreateConnection(ctx context.Context, req *v1.CreateConnectionRequest) (*v1.Connection, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	key, ok := s.platformKey(req.GetPlatformKey())
	if !ok {
		var keys []string
		for k := range s.connectors {
			keys = append(keys, k)
		}
		return nil, status.Errorf(codes.InvalidArgument, "platformKey: %q is not a platform; GET /v1/platforms lists them (%s)", req.GetPlatformKey(), strings.Join(keys, ", "))
	}
	token, err := randomToken(32)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "make link token: %v", err)
	}
	now := s.now()
	conn := &v1.Connection{
		Id: control.NewID(), CompanyId: c.GetId(), PlatformKey: key, PlatformName: s.connectors[key].Name(),
		Status: "PendingAuth", Created: now.UTC().Format("2006-01-02T15:04:05Z"),
		LinkExpiresUnixMs: now.Add(s.oauth.linkTTL).UnixMilli(),
	}
	if conn.LinkToken, err = s.store.Sealer().Seal([]byte(token), linkAAD(conn.GetId())); err != nil {
		return nil, status.Errorf(codes.Internal, "seal link token: %v", err)
	}
	if err := s.store.PutConnection(ctx, conn); err != nil {
		return nil, status.Errorf(codes.Unavailable, "connection not saved: %v", err)
	}
	return s.publicConnection(conn), nil
}

// GetConnection returns a connection of the caller's company.
func (s *Server) GetConnection(ctx context.Context, req *v1.GetConnectionRequest) (*v1.Connection, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	conn, ok := s.store.Connection(req.GetConnectionId())
	if !ok || conn.GetCompanyId() != c.GetId() {
		return nil, status.Errorf(codes.NotFound, "connection %q not found", req.GetConnectionId())
	}
	return s.publicConnection(conn), nil
}

// publicConnection strips what must never leave the control plane and
// gives linkUrl while the link can still be opened.
func (s *Server) publicConnection(c *v1.Connection) *v1.Connection {
	out := proto.Clone(c).(*v1.Connection)
	out.Token, out.OauthStateSha256, out.LinkToken, out.PkceVerifier = nil, "", nil, nil
	out.LinkExpiresUnixMs, out.OauthStateExpiresUnixMs = 0, 0
	out.LinkUrl = ""
	if c.GetStatus() == "PendingAuth" && c.GetLinkToken() != nil && s.now().UnixMilli() < c.GetLinkExpiresUnixMs() {
		if t, err := s.store.Sealer().Open(c.GetLinkToken(), linkAAD(c.GetId())); err == nil {
			out.LinkUrl = s.oauth.linkBase + url.PathEscape(c.GetId()) + "?" + url.Values{"t": {string(t)}}.Encode()
		}
	}
	return out
}

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>commercesync: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>`))

func writePage(w http.ResponseWriter, code int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = callbackPage.Execute(w, struct{ Title, Message string }{title, msg})
}

// refusal is a page the link or the callback answers instead of going on.
type refusal struct {
	code           int
	title, message string
}

func (r *refusal) Error() string { return r.message }

func (r *refusal) write(w http.ResponseWriter) { writePage(w, r.code, r.title, r.message) }

func notConnected(msg string) *refusal {
	return &refusal{code: http.StatusBadRequest, title: "Not connected", message: msg}
}

var (
	errLinkInvalid = notConnected("This link is not valid. Start again from your commerce platform.")
	errLinkUsed    = notConnected("This link was already opened; each link works once. Start again from your commerce platform for a new one.")
	errLinkExpired = notConnected("This link has expired. Start again from your commerce platform for a new one.")
	errIncomplete  = notConnected("The link is incomplete (no code or state). Start again from your commerce platform.")
	errTooLong     = notConnected("The platform's answer is too long to be genuine. Start again from your commerce platform.")
	errNoCookie    = notConnected("This browser did not start this connection, or took too long (more than a few minutes). " +
		"Open the link from your commerce platform again, in this browser, and allow access.")
	errWrongCookie = notConnected("This answer belongs to another connection than the one this browser started. " +
		"Open the link from your commerce platform again, in this browser, and allow access.")
	errStateInvalid = notConnected("This authorisation is not valid. Start again from your commerce platform.")
	errStateUsed    = notConnected("This authorisation was already used. Start again from your commerce platform to reconnect.")
	errStateExpired = notConnected("The authorisation took too long. Start again from your commerce platform.")
)

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	// The link's token and the callback's code are in the URL: no page of
	// ours may hand them on in a Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func validConnID(id string) bool {
	if id == "" || len(id) > maxConnIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// oauthLink opens a connection's link: it spends the link token, gives this
// browser the OAuth state in a cookie and sends it to the platform.
func (s *Server) oauthLink(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	id, token := r.PathValue("connectionId"), r.URL.Query().Get("t")
	if !validConnID(id) || token == "" || len(token) > maxLinkTokenLen {
		errLinkInvalid.write(w)
		return
	}
	conn, ok := s.store.Connection(id)
	if !ok {
		errLinkInvalid.write(w)
		return
	}
	if ref := s.checkLink(conn, token); ref != nil {
		ref.write(w)
		return
	}
	c, ok := s.connectors[conn.GetPlatformKey()]
	if !ok {
		writePage(w, http.StatusInternalServerError, "Not connected", "This platform is no longer offered.")
		return
	}
	secret, err := randomToken(24)
	if err != nil {
		writePage(w, http.StatusInternalServerError, "Not connected", "The link could not be opened; try again.")
		return
	}
	state := id + "." + secret
	verifier := connectors.NewVerifier(c)
	var sealedVerifier *v1.SealedSecret
	if verifier != "" {
		if sealedVerifier, err = s.store.Sealer().Seal([]byte(verifier), verifierAAD(id)); err != nil {
			writePage(w, http.StatusInternalServerError, "Not connected", "The link could not be opened; try again.")
			return
		}
	}
	expires := s.now().Add(s.oauth.stateTTL)
	_, err = s.store.UpdateConnection(r.Context(), id, func(cur *v1.Connection) error {
		// Two browsers opening one link at once: only the first spends it.
		if ref := s.checkLink(cur, token); ref != nil {
			return ref
		}
		cur.LinkToken, cur.LinkExpiresUnixMs = nil, 0
		cur.OauthStateSha256, cur.OauthStateExpiresUnixMs, cur.PkceVerifier = sha256Hex(state), expires.UnixMilli(), sealedVerifier
		return nil
	})
	if ref, ok := errors.AsType[*refusal](err); ok {
		ref.write(w)
		return
	}
	if err != nil {
		writePage(w, http.StatusServiceUnavailable, "Not connected", "The link could not be opened; try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookiePrefix + id, Value: state, Path: s.oauth.cookiePath,
		MaxAge: int(s.oauth.stateTTL / time.Second), Expires: expires,
		HttpOnly: true, Secure: s.oauth.secureCookie, SameSite: http.SameSiteLaxMode,
	})
	s.log.Info("oauth link opened", "connection", id, "platform", conn.GetPlatformKey(), "pkce", verifier != "")
	http.Redirect(w, r, connectors.AuthCodeURL(c.OAuthConfig(s.callback), state, verifier), http.StatusFound)
}

// checkLink says why conn's link cannot be opened with token, or nil.
func (s *Server) checkLink(conn *v1.Connection, token string) *refusal {
	if conn.GetStatus() != "PendingAuth" {
		return errLinkUsed
	}
	if conn.GetLinkToken() == nil {
		return errLinkUsed
	}
	want, err := s.store.Sealer().Open(conn.GetLinkToken(), linkAAD(conn.GetId()))
	if err != nil || subtle.ConstantTimeCompare(want, []byte(token)) != 1 {
		return errLinkInvalid
	}
	if s.now().UnixMilli() >= conn.GetLinkExpiresUnixMs() {
		return errLinkExpired
	}
	return nil
}

// callback is a callback request whose state this browser's cookie holds.
type callback struct {
	connID, state, code string
	// platformError is the platform's error=… answer, with its description.
	platformError, description string
}

// readCallback checks a callback's query against the browser's cookies,
// before anything is looked up. It returns the callback when its state is
// the one this browser's cookie holds (the state is then to be spent, the
// cookie cleared, even if ref is not nil), and a refusal when the callback
// must go no further.
func readCallback(q url.Values, cookies []*http.Cookie) (cb *callback, ref *refusal) {
	platformError := q.Get("error")
	states, codeVals := q["state"], q["code"]
	if len(states) != 1 || states[0] == "" {
		if platformError != "" {
			return nil, platformRefused(platformError, q.Get("error_description"))
		}
		return nil, errIncomplete
	}
	state := states[0]
	if len(state) > maxStateLen {
		return nil, errTooLong
	}
	id, secret, ok := strings.Cut(state, ".")
	if !ok || secret == "" || !validConnID(id) {
		return nil, errStateInvalid
	}
	var cookie *http.Cookie
	for _, c := range cookies {
		if c.Name == cookiePrefix+id {
			cookie = c
			break
		}
	}
	if cookie == nil {
		return nil, errNoCookie
	}
	if subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 {
		return nil, errWrongCookie
	}
	cb = &callback{connID: id, state: state, platformError: platformError, description: q.Get("error_description")}
	switch {
	case platformError != "":
		return cb, platformRefused(platformError, cb.description)
	case len(codeVals) != 1 || codeVals[0] == "":
		return cb, errIncomplete
	case len(codeVals[0]) > maxCodeLen:
		return cb, errTooLong
	}
	cb.code = codeVals[0]
	return cb, nil
}

func platformRefused(code, desc string) *refusal {
	if len(code) > 100 {
		code = code[:100]
	}
	if len(desc) > 300 {
		desc = desc[:300]
	}
	return notConnected(fmt.Sprintf("The platform answered %q: %s. Start again from your commerce platform.", code, desc))
}

// checkState says why conn does not take state now, or nil.
func checkState(conn *v1.Connection, state string, now time.Time) *refusal {
	if conn.GetStatus() != "PendingAuth" {
		return errStateUsed
	}
	if conn.GetOauthStateSha256() == "" {
		return errStateUsed
	}
	if subtle.ConstantTimeCompare([]byte(conn.GetOauthStateSha256()), []byte(sha256Hex(state))) != 1 {
		return errStateInvalid
	}
	if now.UnixMilli() >= conn.GetOauthStateExpiresUnixMs() {
		return errStateExpired
	}
	return nil
}

// spendState takes the callback's state off its connection, so it is
// accepted once, and returns the PKCE verifier sent with it ("" for none).
func (s *Server) spendState(ctx context.Context, cb *callback) (string, *refusal) {
	var sealed *v1.SealedSecret
	_, err := s.store.UpdateConnection(ctx, cb.connID, func(cur *v1.Connection) error {
		if ref := checkState(cur, cb.state, s.now()); ref != nil {
			return ref
		}
		sealed = cur.GetPkceVerifier()
		cur.OauthStateSha256, cur.OauthStateExpiresUnixMs, cur.PkceVerifier = "", 0, nil
		return nil
	})
	if errors.Is(err, control.ErrNotFound) {
		return "", errStateInvalid
	}
	if ref, ok := errors.AsType[*refusal](err); ok {
		return "", ref
	}
	if err != nil {
		return "", &refusal{code: http.StatusServiceUnavailable, title: "Not connected", message: "The authorisation could not be checked; try again."}
	}
	if sealed == nil {
		return "", nil
	}
	v, err := s.store.Sealer().Open(sealed, verifierAAD(cb.connID))
	if err != nil {
		return "", &refusal{code: http.StatusInternalServerError, title: "Not connected", message: "The authorisation could not be read back. Start again from your commerce platform."}
	}
	return string(v), nil
}

// oauthCallback finishes authorisation: it checks the state against this
// browser's cookie and spends it, exchanges the code (with the
// connection's PKCE verifier), picks the platform tenant and stores the
// token sealed.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	cb, ref := readCallback(r.URL.Query(), r.Cookies())
	if cb == nil {
		ref.write(w)
		return
	}
	// From here the state is this browser's: whatever happens it is spent
	// and its cookie cleared.
	http.SetCookie(w, &http.Cookie{
		Name: cookiePrefix + cb.connID, Value: "", Path: s.oauth.cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: s.oauth.secureCookie, SameSite: http.SameSiteLaxMode,
	})
	ctx := r.Context()
	verifier, spent := s.spendState(ctx, cb)
	if spent != nil {
		spent.write(w)
		return
	}
	if ref != nil {
		ref.write(w)
		return
	}
	conn, _ := s.store.Connection(cb.connID)
	id := cb.connID
	c, ok := s.connectors[conn.GetPlatformKey()]
	if !ok {
		writePage(w, http.StatusInternalServerError, "Not connected", "This platform is no longer offered.")
		return
	}
	cfg := c.OAuthConfig(s.callback)
	tok, err := connectors.Exchange(ctx, cfg, cb.code, verifier)
	if err != nil {
		s.log.Warn("oauth exchange failed", "connection", id, "err", err)
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil && re.Response.StatusCode < 500 {
			// The platform refused the code: expired, used, or issued for
			// another connection's request (its PKCE verifier differs).
			writePage(w, http.StatusBadRequest, "Not connected", "The platform did not accept this authorisation for this connection. Start again from your commerce platform.")
			return
		}
		writePage(w, http.StatusBadGateway, "Not connected", "The platform could not be reached to finish the authorisation. Start again from your commerce platform.")
		return
	}
	var tenants []connectors.Tenant
	if ct, ok := c.(connectors.CallbackTenanter); ok {
		if tn, ok := ct.TenantFromCallback(r.URL.Query()); ok {
			tenants = append(tenants, tn)
		}
	}
	if len(tenants) == 0 {
		tenants, err = c.Tenants(ctx, cfg.TokenSource(ctx, tok))
	}
	if err != nil || len(tenants) == 0 {
		s.log.Warn("no platform tenant", "connection", id, "err", err)
		writePage(w, http.StatusBadGateway, "Not connected", "No organisation was authorised. Start again and choose an organisation.")
		return
	}
	sealed, err := control.SealToken(s.store.Sealer(), id, tok)
	if err != nil {
		writePage(w, http.StatusInternalServerError, "Not connected", "The authorisation could not be stored.")
		return
	}
	_, err = s.store.UpdateConnection(ctx, id, func(cur *v1.Connection) error {
		if cur.GetStatus() != "PendingAuth" {
			return errAlreadyLinked
		}
		cur.Status, cur.Token = "Linked", sealed
		cur.PlatformTenantId, cur.PlatformTenantName = tenants[0].ID, tenants[0].Name
		return nil
	})
	if errors.Is(err, errAlreadyLinked) {
		writePage(w, http.StatusConflict, "Already used", "This link was already used.")
		return
	}
	if err != nil {
		writePage(w, http.StatusServiceUnavailable, "Not connected", "The authorisation could not be stored; try again.")
		return
	}
	// A company syncs to one accounting connection: the new one replaces
	// any other, and documents waiting on the old one are planned again
	// for the new.
	for _, other := range s.store.CompanyConnections(conn.GetCompanyId()) {
		if other.GetId() == id || other.GetStatus() != "Linked" {
			continue
		}
		if _, err := s.store.UpdateConnection(ctx, other.GetId(), func(cur *v1.Connection) error {
			cur.Status = "Unlinked"
			return nil
		}); err != nil {
			s.log.Warn("older connection not unlinked", "connection", other.GetId(), "err", err)
		}
	}
	writePage(w, http.StatusOK, "Connected", fmt.Sprintf("%s is connected to %s. You can close this window.", tenants[0].Name, c.Name()))
}

var errAlreadyLinked = errors.New("connection already linked")
