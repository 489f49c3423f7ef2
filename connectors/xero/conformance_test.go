package xero_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/sandboxkit"
	"github.com/commercesync/commercesync/connectors/xero"
	"github.com/commercesync/commercesync/connectors/xero/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// conformanceRedirect is the redirect URL the sandbox's OAuth client is
// registered with; nothing listens there, the consent step only reads the
// redirect.
const conformanceRedirect = "https://app.commercesync.test/oauth/xero/callback"

// harness runs the conformance suite against the Xero sandbox. Every
// Accounting API request the connector sends is also validated against
// the vendored official spec (schema_test.go).
var harness = connectortest.Harness{
	Name: "xero",
	Start: func(t connectortest.TB, clock connectortest.Clock) *connectortest.Env {
		return startXero(t, clock).env(t)
	},
	Real: func(clientID, clientSecret string) connectors.Connector {
		return xero.New(xero.WithClientID(clientID), xero.WithClientSecret(clientSecret))
	},
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness) }

// xeroSandbox is one running sandbox and a connector pointed at it.
type xeroSandbox struct {
	sb     *sandbox.Server
	base   string
	tenant string
	conn   *xero.Connector
	tr     *http.Transport // the connector's
	hc     *http.Client    // the harness's own calls (consent, ExhaustRateLimit)
	spec   *specValidator
}

func startXero(t connectortest.TB, clock connectortest.Clock) *xeroSandbox {
	t.Helper()
	x := &xeroSandbox{tenant: sandbox.DefaultTenantID, spec: newSpecValidator(t)}
	x.sb = sandbox.New(
		sandbox.WithClock(clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{conformanceRedirect}}),
	)
	base, shutdown, err := x.sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the xero sandbox: %v", err)
	}
	x.base = base
	// The production client (timeouts, keep-alive), with the spec check
	// in front of it.
	prod := connectors.NewHTTPClient(0)
	x.tr = prod.Transport.(*http.Transport)
	prod.Transport = x.spec.transport(x.tr)
	x.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	x.conn = xero.New(
		xero.WithClientID(clientID), xero.WithClientSecret(clientSecret), xero.WithSandboxBase(base),
		xero.WithHTTPClient(prod), xero.WithClock(clock.Now), xero.WithLogger(slog.New(slog.DiscardHandler)),
	)
	t.Cleanup(func() {
		x.tr.CloseIdleConnections()
		x.hc.CloseIdleConnections()
		if err := shutdown(context.Background()); err != nil {
			t.Fatalf("stop the xero sandbox: %v", err)
		}
	})
	return x
}

func (x *xeroSandbox) env(t connectortest.TB) *connectortest.Env {
	org, ok := x.sb.Organisation(x.tenant)
	if !ok {
		t.Fatalf("no default organisation")
	}
	account := func(code string) connectortest.Account {
		for _, a := range org.Accounts {
			if a.Code == code {
				return connectortest.Account{ID: a.AccountID, Code: a.Code}
			}
		}
		t.Fatalf("the default organisation has no account %s", code)
		return connectortest.Account{}
	}
	return &connectortest.Env{
		Connector:   x.conn,
		RedirectURL: conformanceRedirect,
		Consent: func(ctx context.Context, authURL string) (*url.URL, error) {
			return sandbox.Approve(ctx, x.hc, authURL, "")
		},
		// 404 Bank Fees (EXPENSE) and 200 Sales: ordinary accounts a
		// manual journal may use. 310 Cost of Goods Sold is ARCHIVED.
		Debit: account("404"), Credit: account("200"), Archived: account("310"),
		Currency: org.BaseCurrency,
		// A manual journal has no CurrencyCode (spec schema ManualJournal):
		// it always posts in the base currency, so pipeline/push refuses
		// journals whose currency is not the base one before calling the
		// connector. An invoice names its currency, and JPY is not among
		// the organisation's.
		Disabled: "JPY", DisabledOnInvoices: true,
		// 610 Card clearing has "Enable payments to this account".
		Payments: account("610"),
		Journals: func() (int, map[string]bool) {
			js := x.sb.ManualJournals(x.tenant)
			refs := map[string]bool{}
			for _, j := range js {
				if i := strings.LastIndex(j.Narration, "["); i >= 0 && strings.HasSuffix(j.Narration, "]") {
					refs[j.Narration[i+1:len(j.Narration)-1]] = true
				}
			}
			return len(js), refs
		},
		DropNextPushResponse: func() {
			// A fresh connection, so that Go's transport cannot replay the
			// PUT by itself (it does on a reused connection, because the
			// request carries an Idempotency-Key): the connector sees the
			// lost answer.
			x.tr.CloseIdleConnections()
			x.sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Path: "/ManualJournals", DropResponse: true})
		},
		LockPeriodThrough: func(date string) {
			if err := x.sb.UpdateOrganisation(x.tenant, func(o *sandbox.Organisation) { o.PeriodLockDate = date }); err != nil {
				t.Fatalf("lock the period: %v", err)
			}
		},
		ExpireAccessTokens:   x.sb.ExpireAccessTokens,
		ExhaustRateLimit:     func() { x.exhaustMinuteLimit(t) },
		IdempotencyMemory:    sandbox.IdempotencyKeyTTL,
		RetryAfterOnThrottle: true,
	}
}

// exhaustMinuteLimit spends the organisation's per-minute quota (60,
// accounting-platform-apis.md §1.6) through a second connection of the
// same app, so that the suite's own tokens are untouched.
func (x *xeroSandbox) exhaustMinuteLimit(t connectortest.TB) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, x.hc)
	cfg := x.conn.OAuthConfig(conformanceRedirect)
	loc, err := sandbox.Approve(ctx, x.hc, cfg.AuthCodeURL("exhaust"), x.tenant)
	if err != nil {
		t.Fatalf("exhaust the rate limit: consent: %v", err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatalf("exhaust the rate limit: exchange: %v", err)
	}
	for range sandbox.DefaultLimits().PerDay {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.base+sandbox.APIPath+"/Organisation", nil)
		if err != nil {
			t.Fatalf("exhaust the rate limit: %v", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Xero-Tenant-Id", x.tenant)
		resp, err := x.hc.Do(req)
		if err != nil {
			t.Fatalf("exhaust the rate limit: %v", err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			return
		default:
			t.Fatalf("exhaust the rate limit: GET /Organisation answered %d", resp.StatusCode)
		}
	}
	t.Fatalf("exhaust the rate limit: never throttled")
}

// TestConformanceCatchesBrokenConnectors runs the suite against Xero
// connectors broken one way each (in a child process, so that their
// failures do not fail this test) and requires the checks that guard
// that behaviour to fail.
func TestConformanceCatchesBrokenConnectors(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a mutant run")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run := "^TestConformanceMutant$/^(" + strings.Join(m.fails, "|") + ")$"
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a connector that %s:\n%s", m.what, out)
			}
			for _, check := range m.fails {
				if !strings.Contains(string(out), "--- FAIL: TestConformanceMutant/"+check+" ") {
					t.Errorf("check %s did not catch a connector that %s", check, m.what)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

const mutantEnv = "COMMERCESYNC_XERO_CONFORMANCE_MUTANT"

// TestConformanceMutant is the child of TestConformanceCatchesBrokenConnectors.
func TestConformanceMutant(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestConformanceCatchesBrokenConnectors")
	}
	h := harness
	h.Start = func(tb connectortest.TB, clock connectortest.Clock) *connectortest.Env {
		env := harness.Start(tb, clock)
		env.Connector = &mutant{Connector: env.Connector, name: name}
		return env
	}
	connectortest.Run(t, h)
}

var mutants = []struct {
	name, what string
	fails      []string
}{
	{"find-never-finds", "never finds a pushed document", []string{"push-twice", "dropped-response-after-memory"}},
	{"find-finds-anything", "finds documents never pushed", []string{"push-twice"}},
	{"new-key-each-push", "sends a new idempotency key on each attempt", []string{"push-twice", "dropped-response-retry"}},
	{"no-refresh-on-401", "does not refresh an access token the platform rejects", []string{"expired-token"}},
	{"actionable-as-fatal", "calls the merchant's problems Fatal", []string{"archived-account", "locked-period", "unbalanced"}},
	{"actionable-without-detail", "hides the platform's message", []string{"archived-account"}},
	{"throttled-as-retryable", "does not recognise throttling", []string{"throttled"}},
	{"no-retry-after", "drops Retry-After", []string{"throttled"}},
	{"lost-answer-as-fatal", "gives up on a lost answer", []string{"dropped-response-retry", "dropped-response-after-memory"}},
}

// mutant breaks one behaviour of a working connector.
type mutant struct {
	connectors.Connector
	name string
}

func (m *mutant) session(s connectors.Session) connectors.Session {
	if m.name == "no-refresh-on-401" {
		// Hide the Invalidator: a rejected token can no longer be dropped.
		s.Tokens = struct{ oauth2.TokenSource }{s.Tokens}
	}
	return s
}

func (m *mutant) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	setup, err := m.Connector.Setup(ctx, m.session(s))
	return setup, m.mutate(err)
}

func (m *mutant) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if m.name == "new-key-each-push" {
		ref.IdempotencyKey = fmt.Sprintf("%s-%d", ref.IdempotencyKey, time.Now().UnixNano())
	}
	res, err := m.Connector.Push(ctx, m.session(s), doc, ref)
	return res, m.mutate(err)
}

func (m *mutant) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	res, found, err := m.Connector.Find(ctx, m.session(s), ref)
	switch m.name {
	case "find-never-finds":
		return connectors.Result{}, false, m.mutate(err)
	case "find-finds-anything":
		if err == nil && !found {
			return connectors.Result{ExternalID: "00000000-0000-0000-0000-000000000000"}, true, nil
		}
	}
	return res, found, m.mutate(err)
}

func (m *mutant) mutate(err error) error {
	if err == nil {
		return nil
	}
	ce := *connectors.Classify(err)
	switch {
	case m.name == "actionable-as-fatal" && ce.Class == connectors.MerchantActionable:
		ce.Class = connectors.Fatal
	case m.name == "actionable-without-detail" && ce.Class == connectors.MerchantActionable:
		ce.Message, ce.Err = "Xero refused the document", nil
	case m.name == "throttled-as-retryable" && ce.Class == connectors.Throttled:
		ce.Class = connectors.Retryable
	case m.name == "no-retry-after":
		ce.RetryAfter = 0
	case m.name == "lost-answer-as-fatal" && ce.Class == connectors.Retryable:
		ce.Class = connectors.Fatal
	}
	return &ce
}

// TestConformanceWithoutFaultControls runs the suite as for a platform
// that cannot have the injected faults: those checks skip, and the
// expired-token check moves the clock past the access tokens' lifetime
// instead of expiring them.
func TestConformanceWithoutFaultControls(t *testing.T) {
	h := harness
	h.Start = func(tb connectortest.TB, clock connectortest.Clock) *connectortest.Env {
		env := harness.Start(tb, clock)
		env.DropNextPushResponse, env.LockPeriodThrough, env.ExpireAccessTokens, env.ExhaustRateLimit = nil, nil, nil, nil
		env.IdempotencyMemory, env.RetryAfterOnThrottle = 0, false
		return env
	}
	connectortest.Run(t, h)
}

// TestRealAPIModeAgainstTheSandbox runs the opt-in real-API check with
// credentials in the environment, as a user would, but with Real pointed
// at a sandbox: tenants, setup and push-then-find run, and the rotated
// refresh token is written back to the token file.
func TestRealAPIModeAgainstTheSandbox(t *testing.T) {
	x := startXero(t, sandboxkit.NewClock(time.Now()))
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
	tokenFile := t.TempDir() + "/xero-refresh-token"
	if err := os.WriteFile(tokenFile, []byte(tok.RefreshToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := connectortest.EnvPrefix("xero")
	for k, v := range map[string]string{
		"CLIENT_ID": clientID, "CLIENT_SECRET": clientSecret, "REFRESH_TOKEN": "", "TOKEN_FILE": tokenFile,
		"TENANT": x.tenant, "DEBIT": "404", "CREDIT": "200",
	} {
		t.Setenv(p+k, v)
	}
	h := harness
	h.Real = func(id, secret string) connectors.Connector {
		hc := connectors.NewHTTPClient(0)
		hc.Transport = x.spec.transport(hc.Transport)
		return xero.New(xero.WithClientID(id), xero.WithClientSecret(secret), xero.WithSandboxBase(x.base),
			xero.WithHTTPClient(hc), xero.WithLogger(slog.New(slog.DiscardHandler)))
	}
	connectortest.Run(t, h)

	js := x.sb.ManualJournals(x.tenant)
	if len(js) != 1 || !strings.HasSuffix(js[0].Narration, "]") || !strings.Contains(js[0].Narration, "[cs-real-") {
		t.Fatalf("journals posted by the real-API check: %+v", js)
	}
	if l := js[0].Lines; len(l) != 2 || l[0].AccountCode != "404" || l[0].Amount.String() != "0.01" || l[1].Amount.String() != "-0.01" {
		t.Fatalf("test journal lines %+v", l)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got == "" || got == tok.RefreshToken {
		t.Fatal("the rotated refresh token was not written back to the token file")
	}
}
