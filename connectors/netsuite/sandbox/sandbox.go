// Package sandbox is a local stand-in for NetSuite: its OAuth 2.0
// authorization-code endpoints and the slice of SuiteTalk REST Web Services
// (record API v1, SuiteQL, async jobs) the connector uses, with NetSuite's
// token lifetimes, concurrency governance, externalId semantics, validation
// and error envelopes. The connector reaches it by changing base URLs only,
// so tests exercise the same code paths as production.
//
// Every rule names its source: a section of the shared reference
// accounting-platform-apis.md ("§4.5" below means that file's section 4.5).
// Behaviour the reference marks [UNVERIFIED], or does not give at all, is
// switchable through Rules (WithRules), and its wording through Messages.
//
// # URL layout
//
// NetSuite puts the account id in the host name
// (https://1234567-sb1.suitetalk.api.netsuite.com, §0, §4.1). The sandbox
// serves every account from one listener and puts the account id, in the
// same host form (lower case, "_" as "-"; HostForm), in the first path
// segment instead. The base URL of an account is therefore
//
//	{server}/{account}            e.g. http://127.0.0.1:40123/1234567-sb1
//
// and under it:
//
//	GET|POST /app/login/oauth2/authorize.nl       consent page (§4.1)
//	POST     /services/rest/auth/oauth2/v1/token  token endpoint (§4.1)
//	POST     /services/rest/query/v1/suiteql      SuiteQL (§4.3)
//	         /services/rest/record/v1/...         record API (§4.2-§4.4)
//	GET      /services/rest/async/v1/job/{id}     async job status (§4.4)
//
// In production both the app host ({account}.app.netsuite.com, for the
// consent page) and the API host ({account}.suitetalk.api.netsuite.com) are
// per account; the connector's WithSandboxBase maps both onto
// {server}/{account}.
package sandbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Paths served below an account's base URL.
const (
	AuthorizePath = "/app/login/oauth2/authorize.nl"
	TokenPath     = "/services/rest/auth/oauth2/v1/token"
	RESTPath      = "/services/rest"
	RecordPath    = RESTPath + "/record/v1"
	SuiteQLPath   = RESTPath + "/query/v1/suiteql"
	AsyncJobPath  = RESTPath + "/async/v1/job"
)

// Lifetimes and limits.
const (
	// AccessTokenTTL: "Access token is valid for 60 minutes" (§4.1).
	AccessTokenTTL = 60 * time.Minute
	// RefreshTokenTTL: "The refresh token lasts 7 days, after which the user
	// must re-authorize" (§4.1, §0).
	RefreshTokenTTL = 7 * 24 * time.Hour
	// AuthCodeTTL is not in the reference; ten minutes is RFC 6749
	// §4.1.2's recommended maximum.
	AuthCodeTTL = 10 * time.Minute
	// DefaultConcurrency is the account concurrency limit: "Shared service
	// with one licence … 15 (5 + 10)" (§4.6, §0).
	DefaultConcurrency = 15
	// MaxPageSize: "?limit= (default and max 1000)" (§4.7).
	MaxPageSize = 1000
	// MaxQueryResults: SuiteQL "At most 100,000 results per query" (§4.3).
	MaxQueryResults = 100_000
	// MaxBody: "REST requests can be at most 104 MB" (§4.6).
	MaxBody = 104 << 20
	// MinStateLen and MaxStateLen bound the authorize state: "state must be
	// 24–1024 chars" (§4.1).
	MinStateLen, MaxStateLen = 24, 1024
)

// Scopes a client may request (§4.1: `scope` restlets|rest_webservices|suite_analytics).
var Scopes = []string{"restlets", "rest_webservices", "suite_analytics"}

// Client is an integration record (an OAuth 2.0 client) registered with
// the sandbox.
type Client = sandboxkit.Client

// Role is a NetSuite role the consenting user picks; tokens carry
// "role;entity" as their subject (§4.1).
type Role struct {
	ID, Name string
	// OverridePeriodRestrictions lets the role post into locked (not
	// closed) periods. Not in the reference; see Rules.LockedPeriodsRefused.
	OverridePeriodRestrictions bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now, so tests expire tokens and periods without
// sleeping. Only the Delay fault uses wall-clock time.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClient registers an OAuth client; repeat for several.
func WithClient(c Client) Option { return func(s *Server) { s.oauth.Register(c) } }

// WithCompany seeds a NetSuite account; repeat for several. Without any,
// the server holds DefaultCompany().
func WithCompany(c Company) Option { return func(s *Server) { s.addCompany(c) } }

// WithConcurrencyLimit sets the default account concurrency limit (§4.6);
// <= 0 turns the gate off. A Company's own Concurrency wins over it.
func WithConcurrencyLimit(n int) Option { return func(s *Server) { s.concurrency = n } }

// WithRules adjusts the behaviours the reference leaves open; see Rules.
func WithRules(fn func(*Rules)) Option { return func(s *Server) { fn(&s.rules) } }

// Server is the sandbox. All state is in memory behind one mutex.
type Server struct {
	now         func() time.Time
	log         *slog.Logger
	concurrency int
	rules       Rules
	signingKey  []byte

	mu        sync.Mutex
	oauth     *sandboxkit.OAuth[grant]
	companies map[string]*company // by HostForm(account id)
	order     []string
	faults    *sandboxkit.Faults[Fault]
	stall     *sandboxkit.Gate
	hold      *sandboxkit.Gate

	dataDir string
	keeper  *sandboxkit.Keeper // nil: in memory only
	openErr error              // the data folder could not be used
}

// New returns a sandbox configured by opts.
func New(opts ...Option) *Server {
	s := &Server{
		now:         time.Now,
		log:         slog.New(slog.DiscardHandler),
		concurrency: DefaultConcurrency,
		rules:       DefaultRules(),
		signingKey:  randomBytes(32),
		companies:   map[string]*company{},
		faults:      sandboxkit.NewFaults(Fault.match, true),
	}
	s.oauth = sandboxkit.NewOAuth(&s.mu, func() time.Time { return s.now() }, func() *slog.Logger { return s.log }, s.platform())
	for _, o := range opts {
		o(s)
	}
	// Rules may have turned refresh-token rotation on.
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

// HostForm is an account id as it appears in NetSuite host names:
// "1234567_SB1" becomes "1234567-sb1" (§0, §4.1).
func HostForm(accountID string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(accountID)), "_", "-")
}

// AccountBase is the base URL of an account on a sandbox served at
// serverURL (see the package documentation).
func AccountBase(serverURL, accountID string) string {
	return strings.TrimRight(serverURL, "/") + "/" + HostForm(accountID)
}

// Handler serves every account under /{account}.
func (s *Server) Handler() http.Handler {
	return s.keeper.Handler(http.HandlerFunc(s.serve))
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves in the
// background. It returns the server's URL (an account's base URL is
// AccountBase(url, accountID)) and a function that shuts it down.
func (s *Server) Start(addr string) (baseURL string, shutdown func(context.Context) error, err error) {
	if s.openErr != nil {
		return "", nil, s.openErr
	}
	return sandboxkit.Serve(addr, s.Handler(), s.log, "netsuite")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/")
	acct, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	s.mu.Lock()
	co := s.companies[HostForm(acct)]
	s.mu.Unlock()
	if co == nil {
		// A real unknown account has no host name at all; not in the reference.
		writeError(w, http.StatusNotFound, nil, detail{Detail: "Unknown NetSuite account " + acct + ".", Code: "INVALID_ACCOUNT"})
		return
	}
	switch {
	case path == AuthorizePath:
		s.oauth.HandleAuthorize(w, r, site(co))
	case path == TokenPath:
		s.oauth.HandleToken(w, r, site(co))
	case strings.HasPrefix(path, RESTPath+"/"):
		s.handleAPI(w, r, co, strings.TrimPrefix(path, RESTPath))
	default:
		writeError(w, http.StatusNotFound, nil, notFoundURL(path))
	}
}

// AccountIDs lists the seeded accounts in seeding order.
func (s *Server) AccountIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.order))
	for i, k := range s.order {
		out[i] = s.companies[k].AccountID
	}
	return out
}

// Company returns a copy of a seeded account's settings and chart.
func (s *Server) Company(accountID string) (Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co, ok := s.companies[HostForm(accountID)]
	if !ok {
		return Company{}, false
	}
	return co.Company.clone(), true
}

// UpdateCompany lets a test change an account (inactivate an account,
// close a period, ...) under the server's lock.
func (s *Server) UpdateCompany(accountID string, fn func(*Company)) error {
	return s.change(func() error {
		co, ok := s.companies[HostForm(accountID)]
		if !ok {
			return fmt.Errorf("unknown account %q", accountID)
		}
		id := co.AccountID
		fn(&co.Company)
		co.AccountID = id
		co.normalise()
		return nil
	})
}

// LockPeriodsThrough sets "all locked" on every posting period that starts
// on or before date (YYYY-MM-DD): a period locks as a whole (§4.3 locked
// flags), so the lock may reach past date to the period's end.
func (s *Server) LockPeriodsThrough(accountID, date string) error {
	return s.UpdateCompany(accountID, func(c *Company) {
		for i := range c.Periods {
			if !c.Periods[i].Summary && c.Periods[i].Start <= date {
				c.Periods[i].AllLocked = true
			}
		}
	})
}

// SplitPeriod ends the posting period containing date (YYYY-MM-DD) on
// that day and opens a new posting period from the next day to the old
// end, as a fiscal calendar whose periods do not follow months would have
// them. Tests use it to lock or close through a given day, since NetSuite
// locks whole periods (§4.3). Nothing changes when a period already ends
// on date.
func (s *Server) SplitPeriod(accountID, date string) error {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("split period: %w", err)
	}
	return s.UpdateCompany(accountID, func(c *Company) {
		maxID := 0
		for _, p := range c.Periods {
			if n, err := strconv.Atoi(p.ID); err == nil && n > maxID {
				maxID = n
			}
		}
		for i, p := range c.Periods {
			if p.Summary || p.Start > date || p.End <= date {
				continue
			}
			rest := p
			rest.ID, rest.Name, rest.Start = strconv.Itoa(maxID+1), p.Name+" (from "+d.AddDate(0, 0, 1).Format("2 Jan")+")", d.AddDate(0, 0, 1).Format(time.DateOnly)
			c.Periods[i].End = date
			c.Periods = slices.Insert(c.Periods, i+1, rest)
			return
		}
	})
}

// ClosePeriodsThrough closes every posting period that starts on or before
// date (§4.3 closed flag).
func (s *Server) ClosePeriodsThrough(accountID, date string) error {
	return s.UpdateCompany(accountID, func(c *Company) {
		for i := range c.Periods {
			if !c.Periods[i].Summary && c.Periods[i].Start <= date {
				c.Periods[i].Closed = true
			}
		}
	})
}

// Journals returns copies of an account's journal entries in creation order.
func (s *Server) Journals(accountID string) []Journal {
	s.mu.Lock()
	defer s.mu.Unlock()
	co, ok := s.companies[HostForm(accountID)]
	if !ok {
		return nil
	}
	out := make([]Journal, len(co.journals))
	for i, j := range co.journals {
		out[i] = j.clone()
	}
	return out
}

// JournalByExternalID returns the journal entry carrying externalID.
func (s *Server) JournalByExternalID(accountID, externalID string) (Journal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co, ok := s.companies[HostForm(accountID)]
	if !ok {
		return Journal{}, false
	}
	j := co.byExternalID(externalID, s.rules)
	if j == nil {
		return Journal{}, false
	}
	return j.clone(), true
}

func (s *Server) addCompany(c Company) {
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	c.normalise()
	k := HostForm(c.AccountID)
	if _, ok := s.companies[k]; !ok {
		s.order = append(s.order, k)
	}
	s.companies[k] = &company{Company: c.clone(), nextID: firstJournalID, jobs: map[string]*job{}, idemKeys: map[string]string{}}
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

func cloneStrings(s []string) []string { return slices.Clone(s) }
