package netsuite_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/netsuite"
	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
)

// conformanceRedirect is the redirect URL the sandbox's OAuth client is
// registered with; nothing listens there, the consent step only reads the
// redirect.
const conformanceRedirect = "https://app.commercesync.test/oauth/netsuite/callback"

// harness runs the conformance suite against the NetSuite sandbox.
var harness = connectortest.Harness{
	Name:  "netsuite",
	Start: startNetSuite,
	// NetSuite's hosts carry the account id (accounting-platform-apis.md
	// §4.1), which the suite's credentials give as
	// COMMERCESYNC_REAL_NETSUITE_TENANT ("1234567" or "1234567_SB1").
	Real: func(clientID, clientSecret string) connectors.Connector {
		return netsuite.New(netsuite.WithClientID(clientID), netsuite.WithClientSecret(clientSecret),
			netsuite.WithAccountID(os.Getenv(connectortest.EnvPrefix("netsuite")+"TENANT")))
	},
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness) }

func startNetSuite(t connectortest.TB, clock connectortest.Clock) *connectortest.Env {
	t.Helper()
	sb := sandbox.New(
		sandbox.WithClock(clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{conformanceRedirect}}),
	)
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the netsuite sandbox: %v", err)
	}
	// The production client (timeouts, keep-alive).
	prod := connectors.NewHTTPClient(0)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	conn := netsuite.New(
		netsuite.WithClientID(clientID), netsuite.WithClientSecret(clientSecret), netsuite.WithAccountID(account),
		netsuite.WithSandboxBase(base), netsuite.WithHTTPClient(prod), netsuite.WithClock(clock.Now),
		netsuite.WithLogger(slog.New(slog.DiscardHandler)),
	)
	t.Cleanup(func() {
		prod.CloseIdleConnections()
		hc.CloseIdleConnections()
		if err := shutdown(context.Background()); err != nil {
			t.Fatalf("stop the netsuite sandbox: %v", err)
		}
	})
	co, ok := sb.Company(account)
	if !ok {
		t.Fatalf("no default company")
	}
	acct := func(id string) connectortest.Account {
		for _, a := range co.Accounts {
			if a.ID == id {
				return connectortest.Account{ID: a.ID, Code: a.Number}
			}
		}
		t.Fatalf("the default company has no account %s", id)
		return connectortest.Account{}
	}
	return &connectortest.Env{
		Connector:   conn,
		RedirectURL: conformanceRedirect,
		Consent: func(ctx context.Context, authURL string) (*url.URL, error) {
			return sandbox.Approve(ctx, hc, authURL, "")
		},
		// 1200 Card Clearing (OthCurrAsset) and 4000 Sales (Income):
		// ordinary accounts. 5000 Cost of Goods Sold is inactive.
		Debit: acct(sandbox.AccountCardClearing), Credit: acct(sandbox.AccountSales), Archived: acct(sandbox.AccountInactive),
		Currency: "USD",
		// CAD exists but is inactive: the connector sends its id and the
		// sandbox refuses it as NetSuite does.
		Disabled: "CAD",
		Journals: func() (int, map[string]bool) {
			js := sb.Journals(account)
			refs := map[string]bool{}
			for _, j := range js {
				refs[j.ExternalID] = true
				// The memo ends with "[reference]" (hashed references too).
				if i := strings.LastIndex(j.Memo, "["); i >= 0 && strings.HasSuffix(j.Memo, "]") {
					refs[j.Memo[i+1:len(j.Memo)-1]] = true
				}
			}
			return len(js), refs
		},
		DropNextPushResponse: func() {
			// Go's transport never replays a PUT without an idempotency
			// header, so the connector sees the lost answer.
			sb.InjectFault(sandbox.Fault{Method: http.MethodPut, Path: "/record/v1/journalentry", DropResponse: true})
		},
		// NetSuite locks whole accounting periods (§4.3); the suite locks
		// through a day and then posts the next one. The calendar is split
		// at that day first, as a fiscal calendar with a period ending
		// there would be, and the periods through it locked.
		LockPeriodThrough: func(date string) {
			if err := sb.SplitPeriod(account, date); err != nil {
				t.Fatalf("split the period: %v", err)
			}
			if err := sb.LockPeriodsThrough(account, date); err != nil {
				t.Fatalf("lock the period: %v", err)
			}
		},
		ExpireAccessTokens: sb.ExpireAccessTokens,
		// Every concurrency slot is taken by requests that end when the
		// connector's back-off has passed (§4.6).
		ExhaustRateLimit: func() { sb.ExhaustConcurrency(account, netsuite.DefaultConcurrencyBackoff) },
		// externalIds never expire: a document is found after any time.
		IdempotencyMemory: 0,
		// NetSuite's 429 carries no Retry-After (§4.6).
		RetryAfterOnThrottle: false,
	}
}
