// Package sandbox is a local stand-in for Sage Business Cloud Accounting
// (API v3.1): its OAuth service (authorize, token) and the slice of the
// Accounting API the connector uses, with Sage's token lifetimes and
// rotation, business selection by X-Business, validation, error envelopes,
// rate limits and idempotency. The connector reaches it by changing base
// URLs only, so tests exercise the same code paths as production.
//
// Every rule names its source: a section of the shared reference
// accounting-platform-apis.md ("apis.md §3.5"), or Sage's Swagger 2.0 spec
// (sage-accounting-v3.1.swagger.json, "spec postJournals"). What the
// reference marks [UNVERIFIED] is a field of Rules, so a test or an
// operator can switch it; what neither source gives is marked "not in the
// reference" where it is decided.
//
// URL layout under the base URL (WithSandboxBase in package sage derives
// the same paths):
//
//	GET|POST /oauth2/auth/central   consent page (www.sageone.com in production)
//	POST     /token                 token endpoint (oauth.accounting.sage.com)
//	         /v3.1/...              Accounting API (api.accounting.sage.com)
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Paths served, relative to the server's base URL (apis.md §3.1, §0).
const (
	AuthorizePath = "/oauth2/auth/central"
	TokenPath     = "/token"
	APIPath       = "/v3.1"
)

// Lifetimes, apis.md §3.1: access 5 minutes (expires_in 300), refresh 31
// days (refresh_token_expires_in 2678400), authorization code 60 s and
// single use.
const (
	AccessTokenTTL  = 5 * time.Minute
	RefreshTokenTTL = 31 * 24 * time.Hour
	AuthCodeTTL     = 60 * time.Second
)

// Client is an OAuth application registered with the sandbox. Sage's
// authorization-code flow is for confidential clients (apis.md §3.1: the
// token request carries client_id and client_secret).
type Client = sandboxkit.Client

// Limits are the per-business limits; a value <= 0 turns that limit off.
type Limits struct {
	// PerMinute: calls in any 60-second period (apis.md §3.6: 200, v3 docs).
	PerMinute int
	// PerDay: calls in any 24 hours. Off by default: only a third-party card
	// claims 2,500/day (apis.md §3.6 [SECONDARY, unconfirmed]).
	PerDay int
	// BytesPerHour: request plus response bytes in any 60 minutes (apis.md
	// §3.6: 100 MB per business).
	BytesPerHour int64
	// Concurrent calls in flight. Sage publishes no concurrency limit
	// (apis.md §3.6), so it is off by default.
	Concurrent int
}

// DefaultLimits are Sage's published limits (apis.md §3.6).
func DefaultLimits() Limits {
	return Limits{PerMinute: 200, BytesPerHour: 100 << 20}
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests expire tokens, keys and rate
// windows without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClient registers an OAuth client; repeat for several.
func WithClient(c Client) Option { return func(s *Server) { s.oauth.Register(c) } }

// WithBusiness seeds a business; repeat for several. The first seeded
// business is the user's lead business unless another has Lead set.
// Without any, the server holds DefaultBusiness().
func WithBusiness(b Business) Option { return func(s *Server) { s.addBusiness(b) } }

// WithLimits replaces all limits; zero fields are unlimited.
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithRules changes the [UNVERIFIED] behaviours, starting from
// DefaultRules().
func WithRules(fn func(*Rules)) Option { return func(s *Server) { fn(&s.rules) } }

// Server is the sandbox. All state is in memory behind one mutex.
type Server struct {
	now    func() time.Time
	log    *slog.Logger
	limits Limits
	rules  Rules

	mu         sync.Mutex
	oauth      *sandboxkit.OAuth[grant]
	userID     string
	businesses map[string]*business
	order      []string
	idem       map[idemKey]*idemEntry
	usage      map[string]*usage
	faults     *sandboxkit.Faults[Fault]
	stall      *sandboxkit.Gate

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
		rules:      DefaultRules(),
		userID:     stableID("user", "sandbox"),
		businesses: map[string]*business{},
		idem:       map[idemKey]*idemEntry{},
		usage:      map[string]*usage{},
		// Sage's paths are matched as sent (its routes are lower case).
		faults: sandboxkit.NewFaults(Fault.match, false),
	}
	s.oauth = sandboxkit.NewOAuth(&s.mu, func() time.Time { return s.now() }, func() *slog.Logger { return s.log }, s.platform())
	for _, o := range opts {
		o(s)
	}
	if len(s.businesses) == 0 {
		s.addBusiness(DefaultBusiness())
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
	mux.HandleFunc(APIPath+"/", s.handleAPI)
	return s.keeper.Handler(mux)
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves in
// the background. It returns the base URL to give the connector and a
// function that shuts the server down.
func (s *Server) Start(addr string) (baseURL string, shutdown func(context.Context) error, err error) {
	if s.openErr != nil {
		return "", nil, s.openErr
	}
	return sandboxkit.Serve(addr, s.Handler(), s.log, "sage")
}

// BusinessIDs lists the seeded businesses in seeding order.
func (s *Server) BusinessIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// LeadBusinessID is the business calls without X-Business use (apis.md §3.1).
func (s *Server) LeadBusinessID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lead()
}

// Business returns a copy of a seeded business.
func (s *Server) Business(id string) (Business, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.businesses[id]
	if !ok {
		return Business{}, false
	}
	return b.Business.clone(), true
}

// UpdateBusiness lets a test change a business (lock date, ledger
// accounts, currencies, ...) under the server's lock.
func (s *Server) UpdateBusiness(id string, fn func(*Business)) error {
	return s.change(func() error {
		b, ok := s.businesses[id]
		if !ok {
			return fmt.Errorf("unknown business %q", id)
		}
		fn(&b.Business)
		b.Business.ID = id
		b.Business.normalise()
		return nil
	})
}

// Journals returns copies of a business's journals in creation order,
// deleted ones included (DeletedAt set).
func (s *Server) Journals(businessID string) []Journal {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.businesses[businessID]
	if !ok {
		return nil
	}
	out := make([]Journal, len(b.journals))
	for i, j := range b.journals {
		out[i] = j.clone()
	}
	return out
}

// IdempotencyTTL is how long the sandbox remembers an idempotency_id.
func (s *Server) IdempotencyTTL() time.Duration { return s.rules.IdempotencyTTL }

func (s *Server) addBusiness(b Business) {
	// Cloned first, so that filling in ids does not write into the
	// caller's seed slices.
	b = b.clone()
	if b.ID == "" {
		b.ID = newID()
	}
	b.normalise()
	if _, ok := s.businesses[b.ID]; !ok {
		s.order = append(s.order, b.ID)
	}
	s.businesses[b.ID] = &business{Business: b}
}

// lead returns the lead business id. Caller holds s.mu.
func (s *Server) lead() string {
	for _, id := range s.order {
		if s.businesses[id].Lead {
			return id
		}
	}
	if len(s.order) == 0 {
		return ""
	}
	return s.order[0]
}

type business struct {
	Business
	journals []*Journal
	invoices []*SalesInvoice
}

// Clock is a manual clock for tests: pass Now to WithClock and Advance it
// instead of sleeping. It is sandboxkit's, shared by every platform sandbox;
// the alias keeps sandbox.Clock working for existing callers.
type Clock = sandboxkit.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return sandboxkit.NewClock(t) }

// newID returns a random id in Sage's format: 32 lower-case hex digits
// (apis.md §3.1 business id "0d40342d0287cd6b13555c54afca6c90").
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// stableID derives a Sage-format id so that seeded ids are the same on
// every run.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}
