package qbo_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// conformanceRedirect is the redirect URL the sandbox's OAuth client is
// registered with; nothing listens there, the consent step only reads the
// redirect.
const conformanceRedirect = "https://app.commercesync.test/oauth/qbo/callback"

// conformanceRequestIDMemory is how long the harness's sandbox remembers a
// requestid. Intuit does not document it (§2.4, [UNVERIFIED]); a bounded
// memory makes the suite's look-up-after-forgetting check meaningful.
const conformanceRequestIDMemory = 24 * time.Hour

// harness runs the conformance suite against the QuickBooks sandbox.
var harness = connectortest.Harness{
	Name: "qbo",
	Start: func(t connectortest.TB, clock connectortest.Clock) *connectortest.Env {
		return startQBO(t, clock).env(t)
	},
	// The real check lists tenants from a bare refresh token, which
	// QuickBooks cannot do (the realm comes only on the OAuth redirect):
	// the realm is taken from COMMERCESYNC_REAL_QBO_TENANT.
	Real: func(clientID, clientSecret string) connectors.Connector {
		return withEnvRealm(qbo.New(qbo.WithClientID(clientID), qbo.WithClientSecret(clientSecret)))
	},
}

// withEnvRealm answers Tenants with the realm in COMMERCESYNC_REAL_QBO_TENANT.
func withEnvRealm(c *qbo.Connector) connectors.Connector {
	realm := strings.TrimSpace(os.Getenv(connectortest.EnvPrefix("qbo") + "TENANT"))
	return &redirectTenants{Connector: c, realm: func() string { return realm }}
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness) }

// redirectTenants is the connector as the gateway uses it: the tenant is
// the realmId of the OAuth redirect, read by TenantFromCallback and named
// by Tenant. The suite calls Tenants after the exchange, so the harness
// keeps the realm its Consent saw and answers Tenants with it.
type redirectTenants struct {
	*qbo.Connector
	realm func() string
}

func (r *redirectTenants) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	realm := r.realm()
	if realm == "" {
		return r.Connector.Tenants(ctx, ts)
	}
	t, err := r.Tenant(ctx, ts, realm)
	if err != nil {
		return nil, err
	}
	return []connectors.Tenant{t}, nil
}

type qboSandbox struct {
	sb   *sandbox.Server
	base string
	conn *qbo.Connector
	hc   *http.Client

	mu    sync.Mutex
	realm string // from the last consent redirect
}

func startQBO(t connectortest.TB, clock connectortest.Clock) *qboSandbox {
	t.Helper()
	x := &qboSandbox{}
	x.sb = sandbox.New(
		sandbox.WithClock(clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{conformanceRedirect}}),
		// The suite runs on a stopped clock, where a per-second window sees
		// every call at one instant; the 10-per-second limit is covered by
		// this package's own tests. The minute and concurrency limits stay.
		sandbox.WithLimits(sandbox.Limits{PerMinute: sandbox.DefaultLimits().PerMinute, Concurrent: sandbox.DefaultLimits().Concurrent}),
		sandbox.WithRequestIDMemory(conformanceRequestIDMemory),
	)
	base, shutdown, err := x.sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the qbo sandbox: %v", err)
	}
	x.base = base
	prod := connectors.NewHTTPClient(0)
	x.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	x.conn = qbo.New(
		qbo.WithClientID(clientID), qbo.WithClientSecret(clientSecret), qbo.WithSandboxBase(base),
		qbo.WithHTTPClient(prod), qbo.WithClock(clock.Now), qbo.WithLogger(slog.New(slog.DiscardHandler)),
	)
	t.Cleanup(func() {
		prod.CloseIdleConnections()
		x.hc.CloseIdleConnections()
		if err := shutdown(context.Background()); err != nil {
			t.Fatalf("stop the qbo sandbox: %v", err)
		}
	})
	return x
}

func (x *qboSandbox) env(t connectortest.TB) *connectortest.Env {
	co, ok := x.sb.Company(sandbox.DefaultRealmID)
	if !ok {
		t.Fatalf("no default company")
	}
	account := func(id string) connectortest.Account {
		for _, a := range co.Accounts {
			if a.ID == id {
				return connectortest.Account{ID: a.ID, Code: a.AcctNum}
			}
		}
		t.Fatalf("the default company has no account %s", id)
		return connectortest.Account{}
	}
	return &connectortest.Env{
		Connector: &redirectTenants{Connector: x.conn, realm: func() string {
			x.mu.Lock()
			defer x.mu.Unlock()
			return x.realm
		}},
		RedirectURL: conformanceRedirect,
		Consent: func(ctx context.Context, authURL string) (*url.URL, error) {
			loc, err := sandbox.Approve(ctx, x.hc, authURL, "")
			if err != nil {
				return nil, err
			}
			if tenant, ok := x.conn.TenantFromCallback(loc.Query()); ok {
				x.mu.Lock()
				x.realm = tenant.ID
				x.mu.Unlock()
			}
			return loc, nil
		},
		// 87/1010 Card clearing (Other Current Asset) and 79/4000 Sales
		// (Income): ordinary accounts a journal entry may use. 92/4090
		// Discontinued sales is inactive.
		Debit: account(sandbox.AccountCardClearing), Credit: account(sandbox.AccountSales), Archived: account(sandbox.AccountInactive),
		// Payments against an invoice go into a bank or other current asset
		// account (§2.2 DepositToAccountRef; Codat's "Cash at bank and in
		// hand", codat-sync-for-commerce.md §3.2): card clearing, 87/1010.
		Payments: account(sandbox.AccountCardClearing),
		Currency: co.HomeCurrency,
		// JournalEntry carries CurrencyRef (§2.2); CAD was never added to
		// the default company's currencies.
		Disabled: "CAD",
		Journals: func() (int, map[string]bool) {
			js := x.sb.JournalEntries(sandbox.DefaultRealmID)
			refs := map[string]bool{}
			for _, j := range js {
				if i := strings.LastIndex(j.PrivateNote, "["); i >= 0 && strings.HasSuffix(j.PrivateNote, "]") {
					refs[j.PrivateNote[i+1:len(j.PrivateNote)-1]] = true
				}
			}
			return len(js), refs
		},
		DropNextPushResponse: func() {
			x.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journalentry", DropResponse: true})
		},
		LockPeriodThrough: func(date string) {
			if err := x.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) { c.BookCloseDate = date }); err != nil {
				t.Fatalf("set the book close date: %v", err)
			}
		},
		ExpireAccessTokens: x.sb.ExpireAccessTokens,
		ExhaustRateLimit:   func() { x.sb.ExhaustRateLimit(sandbox.DefaultRealmID) },
		IdempotencyMemory:  conformanceRequestIDMemory,
		// §2.6: "No Retry-After is documented".
		RetryAfterOnThrottle: false,
	}
}

// TestConformanceWithoutFaultControls runs the suite as for a platform
// that cannot have the injected faults: those checks skip, and the
// expired-token check moves the clock past the access tokens' lifetime.
func TestConformanceWithoutFaultControls(t *testing.T) {
	h := harness
	h.Start = func(tb connectortest.TB, clock connectortest.Clock) *connectortest.Env {
		env := harness.Start(tb, clock)
		env.DropNextPushResponse, env.LockPeriodThrough, env.ExpireAccessTokens, env.ExhaustRateLimit = nil, nil, nil, nil
		env.IdempotencyMemory = 0
		return env
	}
	connectortest.Run(t, h)
}

// TestRealAPIModeAgainstTheSandbox runs the opt-in real-API check with
// credentials in the environment, as a user would, but pointed at a
// sandbox: tenants (from COMMERCESYNC_REAL_QBO_TENANT), setup and
// push-then-find run, and the rotated refresh token is written back.
func TestRealAPIModeAgainstTheSandbox(t *testing.T) {
	x := startQBO(t, sandboxkit.NewClock(time.Now()))
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, x.hc)
	cfg := x.conn.OAuthConfig(conformanceRedirect)
	loc, err := sandbox.Approve(ctx, x.hc, cfg.AuthCodeURL("st"), "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := t.TempDir() + "/qbo-refresh-token"
	if err := os.WriteFile(tokenFile, []byte(tok.RefreshToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := connectortest.EnvPrefix("qbo")
	for k, v := range map[string]string{
		"CLIENT_ID": clientID, "CLIENT_SECRET": clientSecret, "REFRESH_TOKEN": "", "TOKEN_FILE": tokenFile,
		"TENANT": loc.Query().Get("realmId"), "DEBIT": "1010", "CREDIT": "4000",
	} {
		t.Setenv(p+k, v)
	}
	h := harness
	h.Real = func(id, secret string) connectors.Connector {
		return withEnvRealm(qbo.New(qbo.WithClientID(id), qbo.WithClientSecret(secret), qbo.WithSandboxBase(x.base),
			qbo.WithLogger(slog.New(slog.DiscardHandler))))
	}
	connectortest.Run(t, h)

	es := x.sb.JournalEntries(sandbox.DefaultRealmID)
	if len(es) != 1 || !strings.Contains(es[0].PrivateNote, "[cs-real-") {
		t.Fatalf("entries posted by the real-API check: %+v", es)
	}
	if l := es[0].Lines; len(l) != 2 || l[0].AccountID != sandbox.AccountCardClearing || l[0].Signed().String() != "0.01" || l[1].Signed().String() != "-0.01" {
		t.Fatalf("test entry lines %+v", l)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got == "" || got == tok.RefreshToken {
		t.Fatal("the rotated refresh token was not written back to the token file")
	}
}
