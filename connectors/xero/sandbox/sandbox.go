// Package sandbox is a local stand-in for Xero: its identity service
// (authorize, token, connections) and the slice of the Accounting API the
// connector uses, with Xero's lifetimes, limits, idempotency and error
// shapes. The connector reaches it by changing base URLs only, so tests
// exercise the same code paths as production.
//
// Every rule names its source: a section of the shared reference
// accounting-platform-apis.md, or Xero's OpenAPI specs (xero_accounting.yaml,
// xero-identity.yaml). Messages that the reference does not give are marked
// "not in the reference".
//
// URL layout under the base URL (WithSandboxBase in package xero derives
// the same paths):
//
//	GET|POST /identity/connect/authorize   consent page
//	POST     /connect/token                token endpoint
//	GET      /connections                  identity API
//	         /api.xro/2.0/...              Accounting API
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
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

// Paths served, relative to the server's base URL.
const (
	AuthorizePath   = "/identity/connect/authorize"
	TokenPath       = "/connect/token"
	ConnectionsPath = "/connections"
	APIPath         = "/api.xro/2.0"
)

// Lifetimes and limits, accounting-platform-apis.md §1.1, §1.4 and §1.6.
const (
	AccessTokenTTL       = 30 * time.Minute
	RefreshTokenTTL      = 60 * 24 * time.Hour
	RefreshTokenGrace    = 30 * time.Minute
	AuthCodeTTL          = 5 * time.Minute
	IdempotencyKeyTTL    = 6 * time.Minute
	MaxIdempotencyKeyLen = 128
)

// Client is an OAuth application registered with the sandbox. Secret empty
// makes a public client that must use PKCE (accounting-platform-apis.md
// §1.1: native apps use PKCE).
type Client = sandboxkit.Client

// Limits are the per-tenant and per-app call limits; a value <= 0 turns
// that limit off.
type Limits struct {
	PerMinute    int
	PerDay       int
	Concurrent   int
	AppPerMinute int
}

// DefaultLimits are Xero's published limits (accounting-platform-apis.md §1.6).
func DefaultLimits() Limits {
	return Limits{PerMinute: 60, PerDay: 5000, Concurrent: 5, AppPerMinute: 10000}
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests expire tokens, keys and rate
// windows without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClient registers an OAuth client; repeat for several.
func WithClient(c Client) Option {
	return func(s *Server) { s.oauth.Register(c) }
}

// WithOrganisation seeds an organisation; repeat for several. Without any,
// the server holds DefaultOrganisation().
func WithOrganisation(o Organisation) Option {
	return func(s *Server) { s.addOrg(o) }
}

// WithLimits replaces all limits; zero fields are unlimited.
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithMinuteLimit changes only the per-tenant minute limit, which tests of
// other packages raise to make many calls.
func WithMinuteLimit(n int) Option { return func(s *Server) { s.limits.PerMinute = n } }

// Server is the sandbox. All state is in memory behind one mutex.
type Server struct {
	now    func() time.Time
	log    *slog.Logger
	limits Limits

	mu          sync.Mutex
	oauth       *sandboxkit.OAuth[grant]
	orgs        map[string]*org
	orgOrder    []string
	connections []*connection
	idem        map[idemKey]*idemEntry
	usage       map[string]*tenantUsage
	appUsage    map[string]*window
	faults      *sandboxkit.Faults[Fault]
	stall       *sandboxkit.Gate

	dataDir string
	keeper  *sandboxkit.Keeper // nil: in memory only
	openErr error              // the data folder could not be used
}

// New returns a sandbox configured by opts.
func New(opts ...Option) *Server {
	s := &Server{
		now:      time.Now,
		log:      slog.New(slog.DiscardHandler),
		limits:   DefaultLimits(),
		orgs:     map[string]*org{},
		idem:     map[idemKey]*idemEntry{},
		usage:    map[string]*tenantUsage{},
		appUsage: map[string]*window{},
		faults:   sandboxkit.NewFaults(Fault.match, true),
	}
	s.oauth = sandboxkit.NewOAuth(&s.mu, func() time.Time { return s.now() }, func() *slog.Logger { return s.log }, s.platform())
	for _, o := range opts {
		o(s)
	}
	if len(s.orgs) == 0 {
		s.addOrg(DefaultOrganisation())
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

// Handler serves the identity endpoints and the Accounting API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(AuthorizePath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleAuthorize(w, r, "") })
	mux.HandleFunc(TokenPath, func(w http.ResponseWriter, r *http.Request) { s.oauth.HandleToken(w, r, "") })
	mux.HandleFunc(ConnectionsPath, s.handleConnections)
	mux.HandleFunc(APIPath+"/", s.handleAPI)
	mux.HandleFunc(InspectPath+APIPath+"/", s.handleInspect)
	return s.keeper.Handler(mux)
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves in
// the background. It returns the base URL to give the connector and a
// function that shuts the server down.
func (s *Server) Start(addr string) (baseURL string, shutdown func(context.Context) error, err error) {
	if s.openErr != nil {
		return "", nil, s.openErr
	}
	return sandboxkit.Serve(addr, s.Handler(), s.log, "xero")
}

// TenantIDs lists the seeded organisations in seeding order.
func (s *Server) TenantIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.orgOrder)
}

// Organisation returns a copy of a seeded organisation.
func (s *Server) Organisation(tenantID string) (Organisation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[tenantID]
	if !ok {
		return Organisation{}, false
	}
	return o.Organisation.clone(), true
}

// UpdateOrganisation lets a test change an organisation (lock dates,
// account statuses, ...) under the server's lock.
func (s *Server) UpdateOrganisation(tenantID string, fn func(*Organisation)) error {
	return s.change(func() error {
		o, ok := s.orgs[tenantID]
		if !ok {
			return fmt.Errorf("unknown tenant %q", tenantID)
		}
		fn(&o.Organisation)
		o.Organisation.TenantID = tenantID
		o.Organisation.normalise()
		return nil
	})
}

// ManualJournals returns copies of a tenant's journals in creation order.
func (s *Server) ManualJournals(tenantID string) []Journal {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[tenantID]
	if !ok {
		return nil
	}
	out := make([]Journal, len(o.journals))
	for i, j := range o.journals {
		out[i] = j.clone()
	}
	return out
}

func (s *Server) addOrg(o Organisation) {
	if o.TenantID == "" {
		o.TenantID = newUUID()
	}
	o.normalise()
	if _, ok := s.orgs[o.TenantID]; !ok {
		s.orgOrder = append(s.orgOrder, o.TenantID)
	}
	s.orgs[o.TenantID] = &org{Organisation: o.clone()}
}

type org struct {
	Organisation
	journals []*Journal
	books
}

// Clock is a manual clock for tests: pass Now to WithClock and Advance it
// instead of sleeping. It is sandboxkit's, shared by every platform sandbox;
// the alias keeps sandbox.Clock working for existing callers.
type Clock = sandboxkit.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return sandboxkit.NewClock(t) }

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// nameUUID derives a stable UUID (version 5 layout) so that seeded
// account ids are the same on every run.
func nameUUID(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	var b [16]byte
	copy(b[:], h[:16])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
