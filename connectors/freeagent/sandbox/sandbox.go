// Package sandbox is a local stand-in for FreeAgent's API v2: the OAuth
// approve page and token endpoint, the setup reads a connector makes
// (company, categories, bank accounts, account locks, contacts, projects),
// journal sets and invoices, with FreeAgent's token lifetimes, rate
// limits, paging and error shapes.
// FreeAgent has no idempotency, so the sandbox keeps none: a repeated
// create makes a second journal set, exactly as the real API does.
//
// Every rule names its source: a section of the shared reference
// accounting-platform-apis.md ("apis.md §5.2"), or, where the reference
// only links a FreeAgent page (apis.md §7), that page. Wording the
// reference does not give is marked "not in the reference" and can be
// replaced with WithMessages; rules the reference marks [UNVERIFIED] can be
// switched or tuned by an option.
//
// URL layout under the base URL is FreeAgent's own (apis.md §0, §5.1), so
// freeagent.WithSandboxBase(base) reaches either this server or FreeAgent's
// hosted sandbox (https://api.sandbox.freeagent.com):
//
//	GET|POST /v2/approve_app       consent page
//	POST     /v2/token_endpoint    token endpoint
//	         /v2/...               the API
package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Paths served, relative to the server's base URL (apis.md §5.1).
const (
	APIPath     = "/v2"
	ApprovePath = "/v2/approve_app"
	TokenPath   = "/v2/token_endpoint"
)

// Lifetimes (apis.md §5.1, §0).
const (
	// AuthCodeTTL: "authorization code 15 min".
	AuthCodeTTL = 15 * time.Minute
	// AccessTokenTTL: "access token 1 hour".
	AccessTokenTTL = time.Hour
	// DefaultRefreshTokenTTL is what refresh_token_expires_in reports by
	// default. The reference gives no number (staff: "read the value from
	// each response"), so it is an option: WithRefreshTokenTTL.
	DefaultRefreshTokenTTL = 20 * 24 * time.Hour
)

// Paging (apis.md §5.7: per_page default 25, max 100).
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
)

// DefaultMaxTagLen bounds a journal set's tag. FreeAgent documents the tag
// as free text without a length (apis.md §5.2); 255 is the usual column
// size, so the number is not in the reference: WithMaxTagLen changes it.
const DefaultMaxTagLen = 255

// Client is an OAuth application registered with the sandbox (FreeAgent's
// Developer Dashboard app: an OAuth identifier, a secret and redirect URIs).
type Client = sandboxkit.Client

// Limits are the per-user call limits; a value <= 0 turns that limit off.
type Limits struct {
	// PerMinute and PerHour: "120 requests/minute and 3,600 requests/hour
	// per user, reset at the top of each minute and hour" (apis.md §5.6).
	PerMinute int
	PerHour   int
	// TestPerMinute applies to calls sent with "X-RateLimit-Test: true"
	// ("lower the limit to 5 requests/min for testing", apis.md §5.6).
	TestPerMinute int
	// TokenRefreshPerMinute limits refresh_token grants per user. The
	// reference marks the number [UNVERIFIED] (5/min in the 2017 staff
	// announcement, 15/min in a 2026 review; apis.md §5.1).
	TokenRefreshPerMinute int
	// Concurrent limits calls in flight per user. FreeAgent publishes no
	// concurrency limit (apis.md §0, §5.6), so the default is off.
	Concurrent int
}

// DefaultLimits are FreeAgent's published limits (apis.md §5.6) and the
// 2017 announcement's refresh limit (apis.md §5.1, [UNVERIFIED]).
func DefaultLimits() Limits {
	return Limits{PerMinute: 120, PerHour: 3600, TestPerMinute: 5, TokenRefreshPerMinute: 5}
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests expire tokens and roll rate windows
// without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClient registers an OAuth client; repeat for several.
func WithClient(c Client) Option { return func(s *Server) { s.oauth.Register(c) } }

// WithCompany seeds a company; repeat for several. Without any, the server
// holds DefaultCompany().
func WithCompany(c Company) Option { return func(s *Server) { s.addCompany(c) } }

// WithLimits replaces all limits; zero fields are off.
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithMinuteLimit changes only the per-user minute limit, which tests of
// other packages raise to make many calls.
func WithMinuteLimit(n int) Option { return func(s *Server) { s.limits.PerMinute = n } }

// WithRetryAfter makes 429 answers carry Retry-After (seconds until the
// window resets). Off by default: the reference names no header on
// FreeAgent's 429 (apis.md §0 "429 signal", §5.6).
func WithRetryAfter(on bool) Option { return func(s *Server) { s.retryAfter = on } }

// WithRefreshTokenTTL sets refresh_token_expires_in (apis.md §5.1 gives no
// number).
func WithRefreshTokenTTL(d time.Duration) Option { return func(s *Server) { s.refreshTTL = d } }

// WithRefreshTokenGrace keeps a refresh token usable for d after it was
// exchanged. The default, 0, refuses a reused refresh token with
// invalid_grant (apis.md §6.1); the reference does not say whether FreeAgent
// allows a grace period as Xero does.
func WithRefreshTokenGrace(d time.Duration) Option { return func(s *Server) { s.refreshGrace = d } }

// WithTagFilter switches the journal_sets ?tag= filter. The reference marks
// the filter [UNVERIFIED] (apis.md §5.4; FreeAgent's journal sets page,
// apis.md §7, lists it). Off, the parameter is ignored and every journal set
// is listed, so a client must check tags itself.
func WithTagFilter(on bool) Option { return func(s *Server) { s.tagFilter = on } }

// WithMaxTagLen sets the longest accepted tag (see DefaultMaxTagLen).
func WithMaxTagLen(n int) Option { return func(s *Server) { s.maxTagLen = n } }

// WithBankAccountJournals allows journal entries with a bank_account. By
// default they are refused: FreeAgent's journal sets page (apis.md §7) says
// "It is no longer possible to journal to/from bank accounts", although
// apis.md §5.2 still lists bank_account as an entry attribute.
func WithBankAccountJournals(allowed bool) Option {
	return func(s *Server) { s.bankJournals = allowed }
}

// WithUserAgentRequired switches the check that API calls carry a
// User-Agent ("A User-Agent header is required", apis.md §5.1). On by
// default; the status and wording of FreeAgent's refusal are not in the
// reference.
func WithUserAgentRequired(on bool) Option { return func(s *Server) { s.requireUA = on } }

// WithMessages replaces the wording of answers the reference does not give
// verbatim; empty fields keep their defaults.
func WithMessages(m Messages) Option { return func(s *Server) { s.msg = s.msg.merge(m) } }

// Server is the sandbox. All state is in memory behind one mutex.
type Server struct {
	now          func() time.Time
	log          *slog.Logger
	limits       Limits
	retryAfter   bool
	refreshTTL   time.Duration
	refreshGrace time.Duration
	tagFilter    bool
	maxTagLen    int
	bankJournals bool
	requireUA    bool
	msg          Messages

	mu        sync.Mutex
	oauth     *sandboxkit.OAuth[grant]
	companies map[string]*company
	order     []string
	usage     map[userKey]*usage
	faults    *sandboxkit.Faults[Fault]
	stall     *sandboxkit.Gate

	dataDir string
	keeper  *sandboxkit.Keeper // nil: in memory only
	openErr error              // the data folder could not be used
}

// New returns a sandbox configured by opts.
func New(opts ...Option) *Server {
	s := &Server{
		now:        time.Now,
		log:        slog.New(slog.DiscardHandler),
		limits:     DefaultLimits(),
		refreshTTL: DefaultRefreshTokenTTL,
		tagFilter:  true,
		maxTagLen:  DefaultMaxTagLen,
		requireUA:  true,
		msg:        DefaultMessages(),
		companies:  map[string]*company{},
		usage:      map[userKey]*usage{},
		faults:     sandboxkit.NewFaults(Fault.match, false),
	}
	s.oauth = sandboxkit.NewOAuth(&s.mu, func() time.Time { return s.now() }, func() *slog.Logger { return s.log }, s.platform())
	for _, o := range opts {
		o(s)
	}
	// Options may have changed the refresh token's lifetime and grace.
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

// Handler serves the OAuth endpoints and the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(ApprovePath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleAuthorize(w, r, "") })
	mux.HandleFunc(TokenPath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleToken(w, r, "") })
	mux.HandleFunc(APIPath+"/", s.handleAPI)
	return s.keeper.Handler(mux)
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves in the
// background. It returns the base URL to give the connector
// (freeagent.WithSandboxBase) and a function that shuts the server down.
func (s *Server) Start(addr string) (baseURL string, shutdown func(context.Context) error, err error) {
	if s.openErr != nil {
		return "", nil, s.openErr
	}
	return sandboxkit.Serve(addr, s.Handler(), s.log, "freeagent")
}

// Subdomains lists the seeded companies (their tenant ids) in seeding order.
func (s *Server) Subdomains() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Company returns a copy of a seeded company.
func (s *Server) Company(subdomain string) (Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[subdomain]
	if !ok {
		return Company{}, false
	}
	return c.Company.clone(), true
}

// UpdateCompany lets a test change a company (categories, account locks,
// currency, ...) under the server's lock.
func (s *Server) UpdateCompany(subdomain string, fn func(*Company)) error {
	return s.change(func() error {
		c, ok := s.companies[subdomain]
		if !ok {
			return fmt.Errorf("unknown company %q", subdomain)
		}
		fn(&c.Company)
		c.Company.Subdomain = subdomain
		c.Company.normalise()
		return nil
	})
}

// LockPeriodThrough sets the company's user account lock to date
// (YYYY-MM-DD): journal sets dated on or before it are refused
// (apis.md §6.4; FreeAgent's account locks, see AccountLock).
func (s *Server) LockPeriodThrough(subdomain, date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fmt.Errorf("lock date %q: %w", date, err)
	}
	return s.UpdateCompany(subdomain, func(c *Company) {
		c.AccountLocks = slices.DeleteFunc(c.AccountLocks, func(l AccountLock) bool { return l.UserLock })
		c.AccountLocks = append(c.AccountLocks, AccountLock{LockedToDate: date, UserLock: true, LockedByDescription: "Sandbox Owner"})
	})
}

// JournalSets returns copies of a company's journal sets (deleted ones
// excluded) in creation order, for tests to read back.
func (s *Server) JournalSets(subdomain string) []JournalSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[subdomain]
	if !ok {
		return nil
	}
	out := make([]JournalSet, 0, len(c.journals))
	for _, j := range c.journals {
		if !j.deleted {
			out = append(out, j.clone())
		}
	}
	return out
}

// CreateRequests returns the raw bodies of every POST /v2/journal_sets the
// company received, accepted or not, in arrival order, so tests can check
// that a document always gives the same bytes.
func (s *Server) CreateRequests(subdomain string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[subdomain]
	if !ok {
		return nil
	}
	out := make([][]byte, len(c.creates))
	for i, b := range c.creates {
		out[i] = slices.Clone(b)
	}
	return out
}

// DeleteJournalSet deletes a journal set as a user would (the API's DELETE
// /v2/journal_sets/:id does the same).
func (s *Server) DeleteJournalSet(subdomain string, id int) error {
	return s.change(func() error {
		c, ok := s.companies[subdomain]
		if !ok {
			return fmt.Errorf("unknown company %q", subdomain)
		}
		j := c.journal(id)
		if j == nil {
			return fmt.Errorf("no journal set %d", id)
		}
		j.deleted = true
		return nil
	})
}

func (s *Server) addCompany(c Company) {
	if c.Subdomain == "" {
		c.Subdomain = "company-" + fmt.Sprint(len(s.order)+1)
	}
	c.normalise()
	if _, ok := s.companies[c.Subdomain]; !ok {
		s.order = append(s.order, c.Subdomain)
	}
	s.companies[c.Subdomain] = &company{Company: c.clone()}
}

// company is a seeded company with what the API created in it.
type company struct {
	Company
	invoiceList []*Invoice
	nextInvoice int
	journals    []*JournalSet
	creates     [][]byte
	nextSet     int
	nextLine    int
}

// journal finds a journal set by id, deleted ones included. Caller holds s.mu.
func (c *company) journal(id int) *JournalSet {
	for _, j := range c.journals {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// Clock is a manual clock for tests: pass Now to WithClock and Advance it
// instead of sleeping. It is sandboxkit's, shared by every platform sandbox;
// the alias keeps sandbox.Clock working for existing callers.
type Clock = sandboxkit.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return sandboxkit.NewClock(t) }
