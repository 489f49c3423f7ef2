package sage_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/sage"
	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

// conformanceRedirect is the redirect URL the sandbox's OAuth client is
// registered with; nothing listens there, the consent step only reads the
// redirect.
const conformanceRedirect = "https://app.commercesync.test/oauth/sage/callback"

// harness runs the conformance suite against the Sage sandbox with its
// default business (sandbox.DefaultBusiness).
var harness = connectortest.Harness{
	Name:  "sage",
	Start: startSage,
	Real: func(clientID, clientSecret string) connectors.Connector {
		return sage.New(sage.WithClientID(clientID), sage.WithClientSecret(clientSecret))
	},
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness) }

func startSage(t connectortest.TB, clock connectortest.Clock) *connectortest.Env {
	t.Helper()
	sb := sandbox.New(
		sandbox.WithClock(clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{conformanceRedirect}}),
	)
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the sage sandbox: %v", err)
	}
	// The production client (timeouts, keep-alive) for the connector; a
	// separate one for the consent page.
	prod := connectors.NewHTTPClient(0)
	consent := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(func() {
		prod.CloseIdleConnections()
		consent.CloseIdleConnections()
		if err := shutdown(context.Background()); err != nil {
			t.Fatalf("stop the sage sandbox: %v", err)
		}
	})
	conn := sage.New(
		sage.WithClientID(clientID), sage.WithClientSecret(clientSecret), sage.WithSandboxBase(base),
		sage.WithHTTPClient(prod), sage.WithClock(clock.Now), sage.WithLogger(slog.New(slog.DiscardHandler)),
	)
	biz := sandbox.DefaultBusinessID
	account := func(code int) connectortest.Account {
		return connectortest.Account{ID: sandbox.LedgerAccountID(biz, code), Code: strconv.Itoa(code)}
	}
	return &connectortest.Env{
		Connector:   conn,
		RedirectURL: conformanceRedirect,
		Consent: func(ctx context.Context, authURL string) (*url.URL, error) {
			return sandbox.Approve(ctx, consent, authURL)
		},
		// 1110 Card clearing and 4000 Sales - Products; 5000 Cost of sales is
		// left out of the chart (included_in_chart false), Sage's inactive.
		Debit: account(1110), Credit: account(4000), Archived: account(5000),
		Currency: "GBP",
		// JPY is not enabled in the default business. A Sage journal has no
		// currency of its own (spec postJournals), so the connector refuses
		// it before sending, as for any currency other than the base one.
		Disabled: "JPY",
		Journals: func() (int, map[string]bool) {
			refs := map[string]bool{}
			n := 0
			for _, j := range sb.Journals(biz) {
				if j.DeletedAt.IsZero() {
					n++
					refs[j.Reference] = true
				}
			}
			return n, refs
		},
		DropNextPushResponse: func() {
			sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journals", DropResponse: true})
		},
		LockPeriodThrough: func(date string) {
			if err := sb.UpdateBusiness(biz, func(b *sandbox.Business) { b.YearEndLockdownDate = date }); err != nil {
				t.Fatalf("lock the period: %v", err)
			}
		},
		ExpireAccessTokens: sb.ExpireAccessTokens,
		ExhaustRateLimit:   func() { sb.ExhaustRateLimit(biz) },
		IdempotencyMemory:  sb.IdempotencyTTL(),
		// Sage documents no Retry-After on its 429 (apis.md §3.6).
		RetryAfterOnThrottle: false,
	}
}
