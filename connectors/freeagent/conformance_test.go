package freeagent_test

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
	"github.com/commercesync/commercesync/connectors/freeagent"
	"github.com/commercesync/commercesync/connectors/freeagent/sandbox"
)

// conformanceRedirect is the redirect URL the sandbox's OAuth client is
// registered with; nothing listens there, the consent step only reads the
// redirect.
const conformanceRedirect = "https://app.commercesync.test/oauth/freeagent/callback"

// harness runs the conformance suite against the FreeAgent sandbox.
var harness = connectortest.Harness{
	Name:  "freeagent",
	Start: startFreeAgent,
	Real: func(clientID, clientSecret string) connectors.Connector {
		return freeagent.New(freeagent.WithClientID(clientID), freeagent.WithClientSecret(clientSecret))
	},
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness) }

func startFreeAgent(t connectortest.TB, clock connectortest.Clock) *connectortest.Env {
	t.Helper()
	sb := sandbox.New(
		sandbox.WithClock(clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "commercesync", RedirectURIs: []string{conformanceRedirect}}),
	)
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the freeagent sandbox: %v", err)
	}
	// The production client (timeouts, keep-alive).
	prod := connectors.NewHTTPClient(0)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	conn := freeagent.New(
		freeagent.WithClientID(clientID), freeagent.WithClientSecret(clientSecret), freeagent.WithSandboxBase(base),
		freeagent.WithHTTPClient(prod), freeagent.WithClock(clock.Now), freeagent.WithLogger(slog.New(slog.DiscardHandler)),
	)
	t.Cleanup(func() {
		prod.CloseIdleConnections()
		hc.CloseIdleConnections()
		if err := shutdown(context.Background()); err != nil {
			t.Fatalf("stop the freeagent sandbox: %v", err)
		}
	})
	co, ok := sb.Company(sandbox.DefaultSubdomain)
	if !ok {
		t.Fatalf("no default company")
	}
	category := func(code string) connectortest.Account {
		for _, c := range co.Categories {
			if c.NominalCode == code && !c.Hidden {
				return connectortest.Account{ID: base + "/v2/categories/" + code, Code: code}
			}
		}
		t.Fatalf("the default company has no listed category %s", code)
		return connectortest.Account{}
	}
	var hidden connectortest.Account
	for _, b := range co.BankAccounts {
		if b.Status == "hidden" {
			hidden = connectortest.Account{ID: base + "/v2/bank_accounts/" + strconv.Itoa(b.ID)}
		}
	}
	return &connectortest.Env{
		Connector:   conn,
		RedirectURL: conformanceRedirect,
		Consent: func(ctx context.Context, authURL string) (*url.URL, error) {
			return sandbox.Approve(ctx, hc, authURL, "")
		},
		// 363 Bank/Finance Charges and 001 Sales: ordinary categories.
		Debit: category("363"), Credit: category("001"),
		// FreeAgent's categories carry no status (accounting-platform-apis.md
		// §5.3); the only chart entries with one are bank accounts
		// ("active" | "hidden"). The archived account is the hidden bank
		// account, which the setup reports ARCHIVED and a journal cannot
		// use. (A category removed from the chart is refused by FreeAgent as
		// "Resource not found": TestRejections covers it.)
		Archived: hidden,
		Currency: co.Currency,
		// Journal sets carry no currency (apis.md §5.2); the connector
		// refuses a document in another currency before sending it, so the
		// check runs against that refusal.
		Disabled: "USD",
		Journals: func() (int, map[string]bool) {
			sets := sb.JournalSets(sandbox.DefaultSubdomain)
			refs := map[string]bool{}
			for _, s := range sets {
				refs[s.Tag] = true
			}
			return len(sets), refs
		},
		DropNextPushResponse: func() {
			sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journal_sets", DropResponse: true})
		},
		LockPeriodThrough: func(date string) {
			if err := sb.LockPeriodThrough(sandbox.DefaultSubdomain, date); err != nil {
				t.Fatalf("lock the period: %v", err)
			}
		},
		ExpireAccessTokens: sb.ExpireAccessTokens,
		ExhaustRateLimit: func() {
			if err := sb.ExhaustRateLimit(sandbox.DefaultSubdomain); err != nil {
				t.Fatalf("exhaust the rate limit: %v", err)
			}
		},
		IdempotencyMemory: 0,
		// FreeAgent's 429 sends no Retry-After, but its message names the
		// window ("per 60 seconds") and the windows reset at the top of each
		// minute and hour (apis.md §5.6), so the connector knows the wait;
		// the suite then checks that a call after it is admitted.
		RetryAfterOnThrottle: true,
	}
}
