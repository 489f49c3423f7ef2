package system_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/system"
)

// browser is a merchant's browser: real HTTP with its own cookie jar.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, hc: &http.Client{Timeout: 30 * time.Second, Jar: jar}}
}

// get loads u without following redirects.
func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	hc := *b.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// authorizeURL opens a connection's link as a browser does and returns the
// platform consent page it leads to (whose query holds the OAuth state):
// the link's redirect, or the link itself when it is the platform's page.
func (b *browser) authorizeURL(link string) *url.URL {
	b.t.Helper()
	resp, _ := b.get(link)
	target := link
	if resp.StatusCode == http.StatusFound {
		target = resp.Header.Get("Location")
	} else if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("opening the link answered %d", resp.StatusCode)
	}
	u, err := url.Parse(target)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// consent allows access on the Xero sandbox's consent page reached from
// link, and returns the platform's redirect (code and state) unfollowed.
func (b *browser) consent(link string) *url.URL {
	b.t.Helper()
	back, err := xerosandbox.Approve(context.Background(), b.hc, link, "")
	if err != nil {
		b.t.Fatalf("consent: %v", err)
	}
	if back.Query().Get("code") == "" {
		b.t.Fatalf("the sandbox answered no code: %s", back.Redacted())
	}
	return back
}

// oauthTenant is one tenant's company with a Xero connection waiting for
// authorisation.
type oauthTenant struct {
	m          *merchant
	connection string
	link       string
}

func newOAuthTenant(t *testing.T, sys *system.System, key string) *oauthTenant {
	t.Helper()
	m := newMerchant(t, sys)
	m.key = key
	m.createCompany()
	var conn struct{ ID, Status, LinkURL string }
	m.must("POST", "/v1/companies/"+m.company+"/connections", map[string]any{"platformKey": "xero"}, &conn)
	if conn.Status != "PendingAuth" || conn.LinkURL == "" {
		t.Fatalf("new connection %+v, want PendingAuth with a linkUrl", conn)
	}
	return &oauthTenant{m: m, connection: conn.ID, link: conn.LinkURL}
}

// otherTenantKey makes a second tenant (another commerce platform) and
// returns its API key.
func otherTenantKey(t *testing.T, sys *system.System) string {
	t.Helper()
	ctx := context.Background()
	other, err := sys.Store.CreateTenant(ctx, "Another platform")
	if err != nil {
		t.Fatal(err)
	}
	key, err := sys.Store.CreateAPIKey(ctx, other.GetId(), false)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// callbackURL is the platform's redirect with its code and state replaced.
func callbackURL(back *url.URL, code, state string) string {
	u := *back
	q := u.Query()
	q.Set("code", code)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

// requireUnlinked checks that a connection was not linked: it is still
// PendingAuth, names no organisation and holds no token.
func requireUnlinked(t *testing.T, sys *system.System, o *oauthTenant) {
	t.Helper()
	var conn struct{ Status, PlatformTenantID, PlatformTenantName string }
	o.m.must("GET", "/v1/companies/"+o.m.company+"/connections/"+o.connection, nil, &conn)
	if conn.Status != "PendingAuth" || conn.PlatformTenantID != "" || conn.PlatformTenantName != "" {
		t.Fatalf("connection %s is %+v, want PendingAuth and no organisation", o.connection, conn)
	}
	stored, ok := sys.Store.Connection(o.connection)
	if !ok {
		t.Fatalf("connection %s is not in the control plane", o.connection)
	}
	if stored.GetToken() != nil || stored.GetStatus() != "PendingAuth" {
		t.Fatalf("connection %s holds a token (%t) with status %s, want none and PendingAuth", o.connection, stored.GetToken() != nil, stored.GetStatus())
	}
}

func requireRefused(t *testing.T, what string, resp *http.Response, page string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Not connected") || strings.Contains(page, "is connected") {
		t.Fatalf("%s: the callback answered %d: %s, want 400 Not connected", what, resp.StatusCode, page)
	}
}

// TestOAuthCodeOfOneTenantDoesNotLinkAnother reproduces finding 5: a code
// from consenting on tenant A's link, sent to the callback with tenant B's
// state, linked the merchant's organisation to B's company (200, "Demo
// Company (US) is connected"). Now the code is bound to A's connection by
// its PKCE verifier, so Xero refuses it for B's, and neither connection is
// linked, whether the callback comes from the browser that opened B's link
// (B's state cookie) or from one that did not (no cookie).
func TestOAuthCodeOfOneTenantDoesNotLinkAnother(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	a := newOAuthTenant(t, sys, sys.DevKey)
	b := newOAuthTenant(t, sys, otherTenantKey(t, sys))

	merchantA := newBrowser(t)
	back := merchantA.consent(a.link)
	codeA := back.Query().Get("code")

	tenantB := newBrowser(t)
	stateB := tenantB.authorizeURL(b.link).Query().Get("state")
	if stateB == "" {
		t.Fatal("B's link leads to no OAuth state")
	}
	swapped := callbackURL(back, codeA, stateB)

	resp, page := newBrowser(t).get(swapped)
	requireRefused(t, "A's code with B's state, from a browser without B's cookie", resp, page)
	resp, page = tenantB.get(swapped)
	requireRefused(t, "A's code with B's state, from the browser holding B's cookie", resp, page)
	if !strings.Contains(page, "did not accept this authorisation") {
		t.Fatalf("with B's cookie the callback should reach Xero, which refuses A's code for B's verifier; it answered: %s", page)
	}
	requireUnlinked(t, sys, b)
	requireUnlinked(t, sys, a)
}

// TestOAuthCallbackNeedsTheBrowserThatOpenedTheLink: the platform's answer
// replayed from another browser (no cookie) links nothing and spends
// nothing; in the merchant's own browser it links once, clears the cookie,
// and the same answer again is refused as used.
func TestOAuthCallbackNeedsTheBrowserThatOpenedTheLink(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	a := newOAuthTenant(t, sys, sys.DevKey)

	merchantA := newBrowser(t)
	back := merchantA.consent(a.link)
	cookie := stateCookie(t, merchantA, sys, a.connection)
	if cookie.Value != back.Query().Get("state") {
		t.Fatalf("the state cookie holds %q, the platform answered state %q", cookie.Value, back.Query().Get("state"))
	}

	resp, page := newBrowser(t).get(back.String())
	requireRefused(t, "the platform's answer from another browser", resp, page)
	requireUnlinked(t, sys, a)

	resp, page = merchantA.get(back.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Demo Company (US) is connected") {
		t.Fatalf("the merchant's own callback answered %d: %s", resp.StatusCode, page)
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].Name != cookie.Name || c[0].MaxAge >= 0 {
		t.Fatalf("the callback set cookies %+v, want the state cookie cleared", c)
	}
	if u, _ := url.Parse(sys.HTTPURL + "/v1/oauth/callback"); len(merchantA.hc.Jar.Cookies(u)) != 0 {
		t.Fatalf("the browser still holds %v after the callback", merchantA.hc.Jar.Cookies(u))
	}
	var conn struct{ Status, PlatformTenantID string }
	a.m.must("GET", "/v1/companies/"+a.m.company+"/connections/"+a.connection, nil, &conn)
	if conn.Status != "Linked" || conn.PlatformTenantID != xerosandbox.DefaultTenantID {
		t.Fatalf("after the merchant's callback the connection is %+v, want Linked to the default organisation", conn)
	}

	resp, page = merchantA.get(back.String())
	requireRefused(t, "the same answer again", resp, page)
}

// stateCookie is the OAuth state cookie the link set in b for connection
// (the jar gives its name and value; TestOAuthLinkIsSingleUseAndScopedCookie
// checks its attributes).
func stateCookie(t *testing.T, b *browser, sys *system.System, connection string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(sys.HTTPURL + "/v1/oauth/callback")
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "commercesync_oauth_"+connection {
			return c
		}
	}
	t.Fatalf("the link set no state cookie for %s", connection)
	return nil
}

// TestOAuthLinkIsSingleUseAndScopedCookie: the link sets the state cookie
// with its attributes and redirects to the platform with an S256
// challenge; opened again it is refused; the API never shows the state,
// the verifier or the spent link; a state older than its ten minutes is
// refused and links nothing.
func TestOAuthLinkIsSingleUseAndScopedCookie(t *testing.T) {
	t.Parallel()
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	a := newOAuthTenant(t, sys, sys.DevKey)

	merchantA := newBrowser(t)
	resp, _ := merchantA.get(a.link)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the link answered %d, want 302 to the platform", resp.StatusCode)
	}
	set := resp.Cookies()
	if len(set) != 1 {
		t.Fatalf("the link set %d cookies, want the state cookie", len(set))
	}
	c := set[0]
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if c.Name != "commercesync_oauth_"+a.connection || c.Value != q.Get("state") || !c.HttpOnly ||
		c.SameSite != http.SameSiteLaxMode || c.Path != "/v1/oauth/callback" || c.MaxAge != 600 {
		t.Fatalf("state cookie %+v (state %q), want it HttpOnly, SameSite=Lax, Path=/v1/oauth/callback, Max-Age=600", c, q.Get("state"))
	}
	if !strings.HasPrefix(loc.String(), sys.SandboxURL["xero"]) || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Fatalf("the link redirected to %s, want Xero's consent page with an S256 challenge", loc.Redacted())
	}
	if ref := resp.Header.Get("Referrer-Policy"); ref != "no-referrer" {
		t.Fatalf("Referrer-Policy %q, want no-referrer", ref)
	}

	again, page := newBrowser(t).get(a.link)
	if again.StatusCode != http.StatusBadRequest || !strings.Contains(page, "already opened") || len(again.Cookies()) != 0 {
		t.Fatalf("the link opened a second time answered %d with cookies %v: %s", again.StatusCode, again.Cookies(), page)
	}

	code, raw := a.m.do("GET", "/v1/companies/"+a.m.company+"/connections/"+a.connection, nil)
	if code != http.StatusOK {
		t.Fatalf("GET connection answered %d", code)
	}
	for _, secret := range []string{"linkUrl", "linkToken", "pkceVerifier", "oauthState", "token", q.Get("state")} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("GET connection shows %q: %s", secret, raw)
		}
	}

	back, err := xerosandbox.Approve(context.Background(), merchantA.hc, loc.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Jump(11 * time.Minute)
	resp, page = merchantA.get(back.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "took too long") {
		t.Fatalf("a callback 11 minutes after the link answered %d: %s", resp.StatusCode, page)
	}
	requireUnlinked(t, sys, a)
}
