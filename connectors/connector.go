// Package connectors defines what every accounting-platform connector offers
// the push worker: OAuth configuration, tenant discovery, reading the
// merchant's setup, pushing a document idempotently and finding a document
// again after an unknown outcome. Errors are classified once, here, so the
// worker decides between back-off, pausing a company and giving up without
// knowing any platform.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Capabilities tells the planner which documents a platform takes and the
// limits the worker must respect, so neither hard-codes a platform.
type Capabilities struct {
	JournalMode bool
	InvoiceMode bool
	// Xero manual journals refuse bank and system accounts
	// (accounting-platform-apis.md §1.2); the planner must route those
	// postings through other documents.
	JournalForbidsBankAccounts   bool
	JournalForbidsSystemAccounts bool
	// BankTransactions: the connector takes spend money, receive money and
	// transfers, so journal mode can move a bank account's money through
	// them where journals refuse bank accounts.
	BankTransactions     bool
	MaxIdempotencyKeyLen int
	MaxReferenceLen      int
	// IdempotencyKind says where the key travels: "header", "query",
	// "body" or "" (none).
	IdempotencyKind string
	// The published per-tenant limits, for the worker's gates; 0 = unknown.
	RequestsPerSecond int
	RequestsPerMinute int
	RequestsPerHour   int
	MaxConcurrent     int
	// AppRequestsPerMinute is the limit across all of an app's tenants
	// (Xero: 10,000 a minute); 0 = none published.
	AppRequestsPerMinute int
	// TrackingDimensions is how many tracking categories (Xero tracking
	// categories, QBO class and department, Sage analysis types, NetSuite
	// classification, department and location) one line may carry; 0 when
	// the platform has none a line can carry.
	TrackingDimensions int
	// LineTracking: the connector sends a document's tracking on its lines.
	LineTracking bool
	// MaxBatch is how many documents one create request may carry; 1 when
	// the platform creates one per request.
	MaxBatch int
	// PKCE: the platform documents PKCE (RFC 7636, S256), so each
	// authorization request carries a challenge and its code is only
	// exchanged with that connection's verifier. Platforms whose
	// documentation says nothing of it are sent none.
	PKCE bool
}

// Tenant is one organisation/company the merchant authorised.
type Tenant struct {
	ID, Name string
}

// Account is one entry of the merchant's chart of accounts.
type Account struct {
	ID, Code, Name, Type, Class, Status string
	Bank, System, EnablePayments        bool
	Currency                            string
}

// TaxRate is one tax rate the platform offers; Rate is an exact decimal
// percentage ("15.0000").
type TaxRate struct {
	ID, Name, Status string
	Rate             string
}

// Option is one named choice the platform offers.
type Option struct {
	ID, Name string
}

// TrackingCategory is one dimension a document line can be tagged with,
// and its options: a Xero tracking category, QBO classes or departments, a
// Sage analysis type, NetSuite classifications, departments or locations,
// FreeAgent projects.
type TrackingCategory struct {
	ID, Name string
	Options  []Option
}

// Item is a product or service a sales line names where the platform
// requires one (QBO's ItemRef); its sales post to IncomeAccountID.
type Item struct {
	ID, Name, IncomeAccountID string
}

// Subsidiary is a NetSuite subsidiary a transaction belongs to.
type Subsidiary struct {
	ID, Name, Currency string
}

// Contact is a customer or supplier on the platform.
type Contact struct {
	ID, Name           string
	Customer, Supplier bool
}

// Setup is the merchant configuration the planner binds documents to.
type Setup struct {
	Accounts []Account
	TaxRates []TaxRate
	// Contacts are the customers and suppliers invoice mode issues
	// documents to: the sales customer and fees supplier are chosen among
	// them.
	Contacts []Contact
	// Currencies are the currency codes the organisation can post in, the
	// base currency included.
	Currencies []string
	// ExchangeRates are the rates the platform holds, as units of the base
	// currency one unit of the key currency buys, for a configuration that
	// takes its rates from the platform.
	ExchangeRates map[string]string
	// Tracking are the dimensions lines can be tagged with.
	Tracking []TrackingCategory
	// Items (QBO) and Subsidiaries (NetSuite) are what those platforms'
	// documents must name.
	Items        []Item
	Subsidiaries []Subsidiary
	BaseCurrency string
	// LockDate is the last locked day (YYYY-MM-DD) or "": documents dated
	// on or before it are refused.
	LockDate string
}

// Session is one authorised connection to one tenant.
type Session struct {
	TenantID string
	Tokens   oauth2.TokenSource
}

// Reference identifies a document across attempts.
type Reference struct {
	// Value goes into the document so that Find can locate it after the
	// platform has forgotten the idempotency key.
	Value string
	// IdempotencyKey lets the platform replay instead of duplicating while
	// it remembers the key.
	IdempotencyKey string
	// Document is the document as it is sent, with the platform ids of
	// the documents it settles, so Find knows where on the platform to
	// look; nil means a manual journal.
	Document *commercesyncv1.Document
}

// Result is what the platform assigned to a pushed document.
type Result struct {
	ExternalID string
}

// Connector is implemented once per accounting platform.
type Connector interface {
	Key() string
	Name() string
	Capabilities() Capabilities
	OAuthConfig(redirectURL string) *oauth2.Config
	Tenants(ctx context.Context, ts oauth2.TokenSource) ([]Tenant, error)
	Setup(ctx context.Context, s Session) (*Setup, error)
	Push(ctx context.Context, s Session, doc *commercesyncv1.Document, ref Reference) (Result, error)
	// Find looks a document up by ref.Value; found reports whether it exists.
	Find(ctx context.Context, s Session, ref Reference) (res Result, found bool, err error)
}

// Class says what the worker should do about an error.
type Class int

// The values match commercesyncv1.ErrorClass so that conversion cannot drift.
const (
	// Retryable: back off and try again (network, 5xx, expired token).
	Retryable Class = iota + 1
	// Throttled: the platform's rate limit; wait at least RetryAfter.
	Throttled
	// MerchantActionable: only the merchant can fix it (mapping, lock
	// date, lost access); pause the company.
	MerchantActionable
	// Fatal: a bug on our side or an unsupported case; retrying cannot help.
	Fatal
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Throttled:
		return "throttled"
	case MerchantActionable:
		return "merchant-actionable"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Proto returns the wire enum stored in the outbox.
func (c Class) Proto() commercesyncv1.ErrorClass {
	switch c {
	case Retryable:
		return commercesyncv1.ErrorClass_ERROR_CLASS_RETRYABLE
	case Throttled:
		return commercesyncv1.ErrorClass_ERROR_CLASS_THROTTLED
	case MerchantActionable:
		return commercesyncv1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE
	case Fatal:
		return commercesyncv1.ErrorClass_ERROR_CLASS_FATAL
	}
	return commercesyncv1.ErrorClass_ERROR_CLASS_UNSPECIFIED
}

// Error is a classified platform error. Message is fit to show a merchant
// for MerchantActionable errors (it is the platform's own wording when
// there is one).
type Error struct {
	Class Class
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Field names the offending document field when the platform says.
	Field   string
	Message string
	// RetryAfter is the platform's requested wait (Throttled, sometimes 5xx).
	RetryAfter time.Duration
	// Deauthorized says the platform no longer honours the connection's
	// grant: a refresh refused with invalid_grant, or the platform's own
	// answer for a revoked or removed connection. Only the merchant
	// reconnecting fixes it, so the worker marks the connection
	// Deauthorized and holds its documents rather than failing them.
	Deauthorized bool
	Err          error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Class.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " [field %s]", e.Field)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Classify returns err as an *Error. Errors that never reached a platform
// answer (network failures, timeouts, cancelled contexts) are Retryable:
// the document's fate is unknown and the worker will look it up before
// sending again. A refused OAuth refresh is MerchantActionable because only
// a reconnect fixes it.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		return classifyRetrieve(re)
	}
	return &Error{Class: Retryable, Message: transportMessage(err), Err: err}
}

func classifyRetrieve(re *oauth2.RetrieveError) *Error {
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case status == 429:
		return &Error{Class: Throttled, Status: status, Message: "the token endpoint is rate limiting", Err: re}
	case status >= 500 || status == 0:
		return &Error{Class: Retryable, Status: status, Message: "the token endpoint failed", Err: re}
	case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
		// Our own credentials are wrong: no merchant can fix that.
		return &Error{Class: Fatal, Status: status, Message: "the platform refused the app's client credentials", Err: re}
	}
	return &Error{
		Class:   MerchantActionable,
		Status:  status,
		Message: "the connection's authorisation has expired or was revoked; reconnect the accounting platform",
		// invalid_grant is the answer every platform documents for an
		// expired, reused or revoked refresh token (accounting-platform-apis.md
		// §1.1, §2.1, §3.1, §4.1, §5.1); other refusals describe the request.
		Deauthorized: re.ErrorCode == "invalid_grant",
		Err:          re,
	}
}

func transportMessage(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "the request timed out; the outcome is unknown"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled; the outcome is unknown"
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "the request timed out; the outcome is unknown"
	}
	return "the platform could not be reached; the outcome is unknown"
}

// Checker is implemented by connectors with a surer way than Tenants to tell
// that a connection still reaches its tenant (QuickBooks Online, whose
// tokens list no companies).
type Checker interface {
	Check(ctx context.Context, s Session) error
}

// CheckAccess makes one cheap authenticated call that tells whether the
// connection's grant still works for its tenant: Checker's, or Tenants and
// the tenant among them. A refused grant comes back Deauthorized, as does a
// tenant the platform no longer lists (the merchant disconnected the
// organisation); a network failure, a 5xx or throttling comes back as such,
// which says nothing about the grant.
func CheckAccess(ctx context.Context, c Connector, s Session) error {
	if ch, ok := c.(Checker); ok {
		return ch.Check(ctx, s)
	}
	tenants, err := c.Tenants(ctx, s.Tokens)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if t.ID == s.TenantID {
			return nil
		}
	}
	return &Error{Class: MerchantActionable, Deauthorized: true, Message: fmt.Sprintf(
		"%s no longer lists the connected organisation (%s) among those this app may use; reconnect %s", c.Name(), s.TenantID, c.Name())}
}

// CallbackTenanter is implemented by connectors whose platform names the
// authorised tenant on the OAuth redirect rather than through an API call
// (QuickBooks Online's realmId). The gateway asks it first.
type CallbackTenanter interface {
	TenantFromCallback(q url.Values) (Tenant, bool)
}
