// Package sandbox is a local stand-in for QuickBooks Online: Intuit's OAuth
// 2.0 endpoints (consent page, token, revoke) and the slice of the
// Accounting API v3 the connector uses, with Intuit's lifetimes, limits,
// requestid idempotency and Fault envelopes. The connector reaches it by
// changing base URLs only, so tests exercise the production code paths.
//
// Every rule names its source, a section of the shared reference
// accounting-platform-apis.md ("§2.5" below means that file's section
// 2.5). Behaviour the reference marks [UNVERIFIED] is configurable through
// Rules; wording the reference does not give is marked "not in the
// reference".
//
// URL layout under the base URL (WithSandboxBase in package qbo derives the
// same paths):
//
//	GET|POST /connect/oauth2                  consent page (appcenter.intuit.com)
//	POST     /oauth2/v1/tokens/bearer         token endpoint (oauth.platform.intuit.com)
//	POST     /v2/oauth2/tokens/revoke         revocation (developer.api.intuit.com)
//	         /v3/company/{realmId}/...        Accounting API (quickbooks.api.intuit.com)
//
// Accounting API routes (entity names are case-insensitive, §2.2/§2.3):
//
//	GET  query?query=<SQL>  or  POST query (Content-Type: application/text)
//	POST batch (BatchItemRequest of Query items)
//	GET  companyinfo/{realmId}
//	GET  preferences
//	GET  account|taxcode|taxrate|companycurrency|customer|vendor|class|department|item|journalentry/{id}
//	POST journalentry[?requestid=…]                    create, or update when the body has Id
//	POST journalentry?operation=update|delete[&requestid=…]
//	GET  invoice|creditmemo|payment|bill|vendorcredit|billpayment|purchase|deposit|transfer/{id}
//	POST invoice|creditmemo|payment|bill|vendorcredit|billpayment|purchase|deposit|transfer[?requestid=…]  create
//
// Rules enforced, in the order a client meets them:
//
//   - OAuth (§2.1): authorization code flow; the redirect carries code,
//     state and realmId; codes are single use; client authentication by
//     HTTP Basic; access tokens live 3600 s; each refresh rotates the
//     refresh token, which lives 8726400 s from its issue (rolling) and
//     never past 5 years from consent; failures are 400
//     {"error":"invalid_grant"}; revocation kills the grant.
//   - Gates (§2.5, §2.6, §6.2): a bad or expired token is the gateway's
//     lower-case 401 (3200); a realm the token was not granted, or no
//     accounting scope, is 403 (3100); then 10 concurrent, 500 per minute
//     and 10 per second per realm and app, and 120 batch calls a minute
//     per realm, else 429 Fault 3001.
//   - requestid (§2.4): ≤ 50 characters (36 on batch); a repeat replays the
//     first answer.
//   - Batch (§2.4, §2.6): at most 30 items, each with a unique bId (at most
//     10 characters with a requestid); each Query item is answered like
//     /query, in its own QueryResponse or Fault. Other operations are not
//     served.
//   - Queryable entities (§2.3, §2.8): Account, TaxCode, TaxRate,
//     CompanyCurrency, Customer, Vendor, Class, Department, Item,
//     JournalEntry, CompanyInfo, Preferences, and invoice mode's
//     transactions (by Id, TxnDate, MetaData times, and DocNumber except on
//     Payment, Deposit and Transfer); Preferences carries the class and
//     department tracking switches and the currency settings.
//   - JournalEntry (§2.2, §2.3, §2.5, §2.7, §6.4): Line required; DetailType
//     JournalEntryLineDetail; PostingType Debit|Credit (2170); positive
//     amounts with at most 2 decimals; DocNumber ≤ 21 and PrivateNote ≤ 4000
//     characters; GlobalTaxCalculation outside the US; existing (2500) and
//     active (610) accounts, and line classes and departments; a customer
//     on A/R and a vendor on A/P lines;
//     tax codes that exist, are active and have a rate for TaxApplicableOn;
//     CurrencyRef with multicurrency, in the home currency or an active
//     company currency, and accounts in the home or that currency; dates
//     after BookCloseDate (6210); at least one Debit and one Credit line and
//     debits equal to credits; a DocNumber not yet used when the company
//     warns on duplicates (6140); updates and deletes carry the current
//     SyncToken (5010).
//   - Invoice mode's transactions (txns.go, links.go; §2.2, §2.5, §2.7,
//     codat-sync-for-commerce.md §3.2), created only: properties the
//     entity takes (2010); the customer or vendor exists (2500) and is
//     active (610); accounts exist (2500) and are active (610); sales lines
//     name an existing (2500), active (610) item with an active income
//     account, and Amount = round(Qty × UnitPrice) when both are given
//     (6070); a ClassRef on sales, expense and deposit lines and a
//     DepartmentRef on those forms (and a ClassRef on sales forms) exist
//     (2500) and are active (610), while payments, bill payments and
//     transfers take neither (2010); payments go into Bank or Other Current Asset accounts, bill
//     payments come from a Bank (Check) or Credit Card (CreditCard)
//     account, purchases from the account their PaymentType takes,
//     transfers move between two Asset accounts; lines on A/R and A/P name
//     a customer or vendor; payments apply invoices, credit memos and
//     journal entries, bill payments bills, vendor credits and journal
//     entries, each of the payment's name and currency and never more than
//     its open balance, TotalAmt being what they apply (a payment may
//     receive more, left unapplied); the currency rules of journals plus
//     the name's one currency; dates after BookCloseDate (6210); totals
//     not negative; DocNumber unique per entity type when the company warns
//     on duplicates (6140). Balances is the trial balance of everything
//     posted, by account number. Wording the reference does not give is
//     the sandbox's and marked so where it is written.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	_ "time/tzdata" // company time zones render MetaData and "time" (§2.7)

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Paths served, relative to the server's base URL (§2.1, §0).
const (
	AuthorizePath = "/connect/oauth2"
	TokenPath     = "/oauth2/v1/tokens/bearer"
	RevokePath    = "/v2/oauth2/tokens/revoke"
	APIPath       = "/v3/company/"
)

// AccountingScope is the scope the Accounting API requires (§2.1).
const AccountingScope = "com.intuit.quickbooks.accounting"

// Lifetimes and limits (§2.1, §2.4, §0).
const (
	// AccessTokenTTL: "access 3600 s" (§2.1).
	AccessTokenTTL = 3600 * time.Second
	// RefreshTokenTTL: the token response's x_refresh_token_expires_in
	// (8726400 s, 101 days: the "rolling ~100 days" of §2.1).
	RefreshTokenTTL = 8726400 * time.Second
	// RefreshTokenHardCap: "a 5-year hard cap" from the consent (§2.1).
	RefreshTokenHardCap = 5 * 365 * 24 * time.Hour
	// MaxRequestIDLen: "Max 50 chars" (§2.4).
	MaxRequestIDLen = 50
	// MaxDocNumberLen and MaxPrivateNoteLen: "DocNumber ≤ 21 chars,
	// PrivateNote ≤ 4000 chars" (§2.2).
	MaxDocNumberLen   = 21
	MaxPrivateNoteLen = 4000
	// MaxResults caps MAXRESULTS (§2.8: "≤ 1000 (default 100)").
	MaxResults     = 1000
	DefaultResults = 100
)

// Client is an OAuth application registered with the sandbox (Intuit's
// developer portal "Keys & credentials").
type Client = sandboxkit.Client

// Limits are the per realm+app limits of §2.6; a value <= 0 turns that
// limit off.
type Limits struct {
	// PerMinute: "500 requests/minute per realmId (per app+realm)".
	PerMinute int
	// PerSecond: "10 requests/second per realm and app (production;
	// sandbox since 15 Sep 2025)".
	PerSecond int
	// Concurrent: "10 concurrent per app+realm; above that → 429".
	Concurrent int
	// BatchPerMinute: "batch endpoint limited to 120 requests/min per
	// realm (production from 31 Oct 2025; earlier 40/min)".
	BatchPerMinute int
}

// DefaultLimits are Intuit's published limits (§2.6).
func DefaultLimits() Limits {
	return Limits{PerMinute: 500, PerSecond: 10, Concurrent: 10, BatchPerMinute: 120}
}

// FaultText is one Fault.Error entry. Detail may hold the placeholders
// {debits}, {credits}, {currency} and {amount}, filled in by the rule that
// uses it.
type FaultText struct {
	Code, Message, Detail string
}

// Rules are the behaviours the reference leaves [UNVERIFIED] or does not
// give; each is configurable. DefaultRules documents the choices.
type Rules struct {
	// Unbalanced answers a journal entry whose debits and credits differ,
	// or that lacks a Debit or a Credit line. §2.5: "the exact text for an
	// unbalanced JE … was not found — [UNVERIFIED], emulate as 6000".
	Unbalanced FaultText
	// CurrencyNotEnabled answers a CurrencyRef that is not the home
	// currency and not an active CompanyCurrency (or multicurrency is off).
	// §2.5: [UNVERIFIED], emulate as 6000.
	CurrencyNotEnabled FaultText
	// TooManyDecimals answers an Amount with more than 2 decimal places.
	// §2.7 says amounts have 2 dp; the fault is not in the reference.
	TooManyDecimals FaultText
	// RequestIDMemory is how long a requestid is remembered; 0 means for
	// ever. §2.4: "How long Intuit keeps it is not documented [UNVERIFIED]".
	RequestIDMemory time.Duration
	// ReplayFaults makes a repeated requestid replay a validation fault as
	// well as a success. §2.4 quotes Intuit: "the service sends the same
	// response as it did for the original request"; default true.
	ReplayFaults bool
	// ThrottleFaultType is the 429 Fault's type: "type SERVICE in most
	// fixtures" (§2.6, not confirmed by Intuit).
	ThrottleFaultType string
	// ThrottleDetail is the 429 Fault's Detail (not in the reference).
	ThrottleDetail string
	// ThrottleRetryAfter, when > 0, adds Retry-After to a 429. §2.6: "No
	// Retry-After is documented", so the default is none.
	ThrottleRetryAfter time.Duration
	// AuthCodeTTL is how long an authorization code can be exchanged. Not in
	// the reference (only "send only one code-exchange request", §2.1).
	AuthCodeTTL time.Duration
	// PreviousRefreshTokenGrace keeps a rotated refresh token usable for a
	// while. §2.1 says only "always store the latest refresh_token"; the
	// default 0 refuses the previous token at once.
	PreviousRefreshTokenGrace time.Duration
}

// businessValidation is the Message of Fault 6000 (§2.5).
const businessValidation = "A business validation error has occurred while processing your request"

// DefaultRules are the sandbox's choices for what the reference does not fix.
func DefaultRules() Rules {
	return Rules{
		Unbalanced: FaultText{Code: "6000", Message: businessValidation,
			Detail: "Business Validation Error: Journal Entry must be balanced: debits {debits}, credits {credits}."},
		CurrencyNotEnabled: FaultText{Code: "6000", Message: businessValidation,
			Detail: "Business Validation Error: The currency {currency} is not enabled for this company."},
		TooManyDecimals: FaultText{Code: "6000", Message: businessValidation,
			Detail: "Business Validation Error: Amount {amount} has more than 2 decimal places."},
		ReplayFaults:      true,
		ThrottleFaultType: "SERVICE",
		ThrottleDetail:    "Too many requests for this company and application; retry later.",
		AuthCodeTTL:       5 * time.Minute,
	}
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests expire tokens, requestids and rate
// windows without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClient registers an OAuth client; repeat for several.
func WithClient(c Client) Option { return func(s *Server) { s.oauth.Register(c) } }

// WithCompany seeds a company (realm); repeat for several. Without any,
// the server holds DefaultCompany().
func WithCompany(c Company) Option { return func(s *Server) { s.addCompany(c) } }

// WithLimits replaces all limits; zero fields are unlimited.
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithRules replaces the rules (start from DefaultRules()).
func WithRules(r Rules) Option { return func(s *Server) { s.rules = r } }

// WithRequestIDMemory changes only Rules.RequestIDMemory.
func WithRequestIDMemory(d time.Duration) Option {
	return func(s *Server) { s.rules.RequestIDMemory = d }
}

// Server is the sandbox. All state is in memory behind one mutex.
type Server struct {
	now    func() time.Time
	log    *slog.Logger
	limits Limits
	rules  Rules

	mu        sync.Mutex
	oauth     *sandboxkit.OAuth[grant]
	companies map[string]*company
	order     []string
	usage     map[usageKey]*usage
	batches   map[string]*window
	faults    *sandboxkit.Faults[Fault]
	stall     *sandboxkit.Gate

	dataDir string
	keeper  *sandboxkit.Keeper // nil: in memory only
	openErr error              // the data folder could not be used
}

// New returns a sandbox configured by opts.
func New(opts ...Option) *Server {
	s := &Server{
		now:       time.Now,
		log:       slog.New(slog.DiscardHandler),
		limits:    DefaultLimits(),
		rules:     DefaultRules(),
		companies: map[string]*company{},
		usage:     map[usageKey]*usage{},
		batches:   map[string]*window{},
		faults:    sandboxkit.NewFaults(Fault.match, true),
	}
	s.oauth = sandboxkit.NewOAuth(&s.mu, func() time.Time { return s.now() }, func() *slog.Logger { return s.log }, s.platform())
	for _, o := range opts {
		o(s)
	}
	// Rules may have changed the code lifetime and the rotation grace.
	s.oauth.SetPlatform(s.platform())
	if len(s.companies) == 0 {
		s.addCompany(DefaultCompany())
	}
	s.keep()
	return s
}

// RegisterClient adds or replaces an OAuth client after start, for callers
// that learn their redirect URL only once they listen.
func (s *Server) RegisterClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.Register(c)
}

// Handler serves the OAuth endpoints and the Accounting API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(AuthorizePath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleAuthorize(w, r, "") })
	mux.HandleFunc(TokenPath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleToken(w, r, "") })
	mux.HandleFunc(RevokePath, s.handleRevoke)
	mux.HandleFunc(APIPath, s.handleAPI)
	return s.keeper.Handler(mux)
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves in
// the background. It returns the base URL to give the connector
// (qbo.WithSandboxBase) and a function that shuts the server down.
func (s *Server) Start(addr string) (baseURL string, shutdown func(context.Context) error, err error) {
	if s.openErr != nil {
		return "", nil, s.openErr
	}
	return sandboxkit.Serve(addr, s.Handler(), s.log, "qbo")
}

// RealmIDs lists the seeded companies in seeding order.
func (s *Server) RealmIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Company returns a copy of a seeded company.
func (s *Server) Company(realmID string) (Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[realmID]
	if !ok {
		return Company{}, false
	}
	return c.Company.clone(), true
}

// UpdateCompany lets a test change a company (book close date, account
// status, currencies, ...) under the server's lock.
func (s *Server) UpdateCompany(realmID string, fn func(*Company)) error {
	return s.change(func() error {
		c, ok := s.companies[realmID]
		if !ok {
			return fmt.Errorf("unknown realm %q", realmID)
		}
		fn(&c.Company)
		c.Company.RealmID = realmID
		c.Company.normalise()
		return nil
	})
}

// JournalEntries returns copies of a realm's journal entries in creation
// order (deleted ones are gone).
func (s *Server) JournalEntries(realmID string) []JournalEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[realmID]
	if !ok {
		return nil
	}
	out := make([]JournalEntry, len(c.journals))
	for i, j := range c.journals {
		out[i] = j.clone()
	}
	return out
}

// TouchJournalEntry plays another user editing a journal entry in the QBO
// web app: its SyncToken moves on, so an update carrying the old one gets
// Fault 5010 (§2.2, §2.5).
func (s *Server) TouchJournalEntry(realmID, id string) error {
	return s.change(func() error {
		c, ok := s.companies[realmID]
		if !ok {
			return fmt.Errorf("unknown realm %q", realmID)
		}
		j := c.journal(id)
		if j == nil {
			return fmt.Errorf("no journal entry %q in realm %s", id, realmID)
		}
		j.bump(s.now())
		return nil
	})
}

func (s *Server) addCompany(c Company) {
	if c.RealmID == "" {
		c.RealmID = newRealmID()
	}
	c.normalise()
	if _, ok := s.companies[c.RealmID]; !ok {
		s.order = append(s.order, c.RealmID)
	}
	s.companies[c.RealmID] = &company{Company: c.clone(), requests: map[string]*idemEntry{},
		applied: map[string]decimal.Decimal{}, appliedBy: map[string][]Link{}}
}

// Clock is a manual clock for tests: pass Now to WithClock and Advance it
// instead of sleeping. It is sandboxkit's, shared by every platform sandbox;
// the alias keeps sandbox.Clock working for existing callers.
type Clock = sandboxkit.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return sandboxkit.NewClock(t) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// newAccessToken looks like Intuit's (a JWE: "eyJ…", §2.1).
func newAccessToken() string {
	return "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// newRefreshToken looks like Intuit's ("AB11…", §2.1).
func newRefreshToken() string {
	return "AB11" + base64.RawURLEncoding.EncodeToString(randomBytes(30))
}

// newRealmID is a 19-digit company id like Intuit's.
func newRealmID() string {
	b := randomBytes(8)
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return fmt.Sprintf("46208%014d", n%100000000000000)
}

// newTID is an intuit_tid header value (§2.5: "Every response has an
// intuit_tid header").
func newTID() string {
	return "1-" + hex.EncodeToString(randomBytes(4)) + "-" + hex.EncodeToString(randomBytes(12))
}
