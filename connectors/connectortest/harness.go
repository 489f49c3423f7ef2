// Package connectortest is the conformance suite every accounting connector
// passes against its platform's sandbox (and, when credentials are in the
// environment, against the real API). A connector joins the suite with one
// call in its own test file:
//
//	func TestConformance(t *testing.T) { connectortest.Run(t, harness) }
package connectortest

import (
	"context"
	"net/url"
	"time"

	"github.com/commercesync/commercesync/connectors"
)

// Clock is the sandbox's injected time. Tests move it instead of sleeping.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration)
}

// Harness is what a platform gives the suite.
type Harness struct {
	// Name names the platform in test output ("xero", "qbo", ...).
	Name string
	// Start starts a fresh sandbox on a loopback listener whose time is
	// clock, and returns the connector pointed at it with everything the
	// suite needs to drive and inspect it. The sandbox is stopped by
	// t.Cleanup.
	Start func(t TB, clock Clock) *Env
	// Real returns the connector pointed at the platform's production API
	// with an OAuth client's credentials, for the opt-in real-API check
	// (see RealCredentials). Nil skips that check. (Added by the suite.)
	Real func(clientID, clientSecret string) connectors.Connector
}

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Env is one running sandbox and its connector.
type Env struct {
	Connector   connectors.Connector
	RedirectURL string
	// Consent plays the merchant on the platform's consent page for an
	// authorization URL and returns where the platform redirects (the
	// redirect URL with code and state), without following it.
	Consent func(ctx context.Context, authURL string) (*url.URL, error)
	// Accounts the suite posts to: two active accounts a journal may use
	// (Debit, Credit) and one archived account, each as the connector
	// expects them in a DocumentLine (id and code).
	Debit, Credit, Archived Account
	// Currency is the organisation's base currency; Disabled is a currency
	// it has not enabled.
	Currency, Disabled string
	// DisabledOnInvoices says the platform's journals carry no currency,
	// so the currency check pushes a sales invoice (invoice mode) instead.
	DisabledOnInvoices bool
	// Payments is an account that takes payments against an invoice (a
	// bank or clearing account), for the invoice-mode check; Debit when
	// empty.
	Payments Account
	// Journals returns how many journals the sandbox holds, and whether one
	// carries the reference.
	Journals func() (count int, refs map[string]bool)

	// Fault controls. Each is nil when the platform cannot have the fault;
	// the suite skips that check then and says so. Disabled == "" likewise
	// skips the currency check (a platform whose journals carry no
	// currency of their own).
	DropNextPushResponse func() // commit the next journal, then drop the response
	LockPeriodThrough    func(date string)
	ExpireAccessTokens   func()
	// ExhaustRateLimit spends the tenant's quota so the next call is
	// throttled with the platform's own 429 shape.
	ExhaustRateLimit func()
	// IdempotencyMemory is how long the platform remembers a key (Xero: 6
	// minutes); 0 when the platform has none.
	IdempotencyMemory time.Duration
	// RetryAfterOnThrottle says the platform's throttling answer tells how
	// long to wait (Xero's Retry-After). The suite then requires a
	// Throttled error's RetryAfter > 0, and a call after that wait to be
	// admitted. (Added by the suite.)
	RetryAfterOnThrottle bool
}

// Account identifies an account the way a DocumentLine does.
type Account struct {
	ID, Code string
}
