// Package freeagent is the FreeAgent (API v2) connector: OAuth 2.0 against
// FreeAgent's approve page and token endpoint, the merchant's setup
// (company, categories, bank accounts, account locks, contacts, projects),
// and daily documents pushed as journal sets (accounting-platform-apis.md
// §5; ARCHITECTURE.md "Push").
//
// FreeAgent has no idempotency (apis.md §5.4). The document's reference is
// the journal set's tag, and Push looks the tag up before every create, so a
// retry after an unknown outcome finds the first set instead of posting a
// second. Look-up-then-create is not atomic: it is safe only while one
// writer at a time pushes a document, which the push worker guarantees.
package freeagent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Production endpoints (apis.md §0, §5.1).
const (
	DefaultAPIBase  = "https://api.freeagent.com/v2"
	DefaultAuthURL  = DefaultAPIBase + "/approve_app"
	DefaultTokenURL = DefaultAPIBase + "/token_endpoint"
	// HostedSandboxBase is FreeAgent's own sandbox; pass it to
	// WithSandboxBase to use it instead of the local one.
	HostedSandboxBase = "https://api.sandbox.freeagent.com"
)

// MaxReferenceLen bounds the reference carried in the tag. FreeAgent
// documents the tag as free text without a length (apis.md §5.2); 64 keeps
// far below any plausible column limit and above the planner's 23-character
// references (ledger/mapping.Reference).
const MaxReferenceLen = 64

// Published per-user limits (apis.md §5.6).
const (
	RequestsPerMinute = 120
	RequestsPerHour   = 3600
)

// DefaultUserAgent is sent on every API call: FreeAgent requires a
// User-Agent (apis.md §5.1).
const DefaultUserAgent = "commercesync (+https://github.com/commercesync/commercesync)"

// companyTTL is how long Push trusts the company's native currency it
// read. FreeAgent fixes a company's currency, so this only bounds memory.
const companyTTL = time.Hour

// maxPages bounds paging through a list, so a server whose Link header
// never ends cannot hold a worker.
const maxPages = 1000

// Option configures a Connector.
type Option func(*Connector)

// WithClientID sets the OAuth identifier from FreeAgent's Developer Dashboard.
func WithClientID(id string) Option { return func(c *Connector) { c.clientID = id } }

// WithClientSecret sets the OAuth secret.
func WithClientSecret(secret string) Option { return func(c *Connector) { c.clientSecret = secret } }

// WithAuthURL overrides the approve page.
func WithAuthURL(u string) Option { return func(c *Connector) { c.authURL = u } }

// WithTokenURL overrides the token endpoint.
func WithTokenURL(u string) Option { return func(c *Connector) { c.tokenURL = u } }

// WithAPIBase overrides the API base ("https://api.freeagent.com/v2").
func WithAPIBase(u string) Option {
	return func(c *Connector) { c.apiBase = strings.TrimRight(u, "/") }
}

// WithSandboxBase points every endpoint at a server with FreeAgent's
// layout under base: the local sandbox (package sandbox, Start's base URL)
// or FreeAgent's hosted one (HostedSandboxBase).
func WithSandboxBase(base string) Option {
	base = strings.TrimRight(base, "/")
	return func(c *Connector) {
		c.apiBase = base + "/v2"
		c.authURL = c.apiBase + "/approve_app"
		c.tokenURL = c.apiBase + "/token_endpoint"
	}
}

// WithHTTPClient sets the client for API calls (default
// connectors.NewHTTPClient). Token refreshes use the client in the token
// source's context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.hc = hc } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock used for waits after a 429 and for the company
// cache.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithUserAgent replaces DefaultUserAgent.
func WithUserAgent(ua string) Option { return func(c *Connector) { c.userAgent = ua } }

// Connector implements connectors.Connector for FreeAgent.
type Connector struct {
	clientID, clientSecret     string
	authURL, tokenURL, apiBase string
	userAgent                  string
	hc                         *http.Client
	log                        *slog.Logger
	now                        func() time.Time

	mu        sync.Mutex
	companies map[string]companyInfo // by tenant id
}

type companyInfo struct {
	currency string
	at       time.Time
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a FreeAgent connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		authURL: DefaultAuthURL, tokenURL: DefaultTokenURL, apiBase: DefaultAPIBase, userAgent: DefaultUserAgent,
		log: slog.Default(), now: time.Now, companies: map[string]companyInfo{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = connectors.NewHTTPClient(0)
	}
	return c
}

// Key is the platform key stored with connections and outbox entries.
func (c *Connector) Key() string { return "freeagent" }

// Name is the platform's display name.
func (c *Connector) Name() string { return "FreeAgent" }

// Capabilities reports journal mode with FreeAgent's limits. There is no
// idempotency key (apis.md §5.4); the reference rides in the tag. Journals
// cannot post to bank accounts (FreeAgent's journal sets page, apis.md §7).
// FreeAgent publishes no concurrency limit (apis.md §0, §5.6).
func (c *Connector) Capabilities() connectors.Capabilities {
	return connectors.Capabilities{
		JournalMode:                true,
		InvoiceMode:                false,
		JournalForbidsBankAccounts: true,
		MaxIdempotencyKeyLen:       0,
		MaxReferenceLen:            MaxReferenceLen,
		IdempotencyKind:            "",
		RequestsPerMinute:          RequestsPerMinute,
		RequestsPerHour:            RequestsPerHour,
		MaxConcurrent:              0,
		// A journal entry carries a category, a description and a
		// debit_value, plus user, bank_account or capital_asset_type for
		// some categories (apis.md §5.2), but no project: projects are only
		// "the closest thing to tracking" (§5.3), which a journal line
		// cannot be tagged with. Setup still lists them (Setup.Tracking).
		TrackingDimensions: 0,
		// "One journal set per POST" (apis.md §5.2).
		MaxBatch: 1,
		// apis.md §5.1 documents FreeAgent's authorization code flow
		// (OAuth 2.0 Draft 22) without PKCE, so no challenge is sent.
		PKCE: false,
	}
}

// OAuthConfig is the authorization-code configuration: FreeAgent's approve
// page, and its token endpoint with HTTP Basic client authentication. There
// are no scopes (apis.md §5.1).
func (c *Connector) OAuthConfig(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: c.authURL, TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  redirectURL,
	}
}

// companyJSON is the part of GET /v2/company the connector reads
// (apis.md §5.3).
type companyJSON struct {
	Company struct {
		Name                       string `json:"name"`
		Subdomain                  string `json:"subdomain"`
		Type                       string `json:"type"`
		Currency                   string `json:"currency"`
		SalesTaxRegistrationStatus string `json:"sales_tax_registration_status"`
	} `json:"company"`
}

// Tenants returns the one company the token belongs to: a FreeAgent token
// is one user in one company (apis.md §5.1). The subdomain is its id.
func (c *Connector) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	var co companyJSON
	if err := c.getJSON(ctx, ts, c.apiBase+"/company", &co); err != nil {
		return nil, fmt.Errorf("freeagent: read company: %w", err)
	}
	if co.Company.Subdomain == "" {
		return nil, &connectors.Error{Class: connectors.Fatal, Message: "freeagent: /company has no subdomain"}
	}
	c.remember(co.Company.Subdomain, co.Company.Currency)
	return []connectors.Tenant{{ID: co.Company.Subdomain, Name: co.Company.Name}}, nil
}

// Setup reads the company, its categories and bank accounts, its account
// locks, contacts and projects (apis.md §5.3; FreeAgent's account locks
// page).
func (c *Connector) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	if err := checkSession(s); err != nil {
		return nil, err
	}
	var co companyJSON
	if err := c.getJSON(ctx, s.Tokens, c.apiBase+"/company", &co); err != nil {
		return nil, fmt.Errorf("freeagent: read company: %w", err)
	}
	c.checkTenant(ctx, s, co.Company.Subdomain)
	c.remember(s.TenantID, co.Company.Currency)
	setup := &connectors.Setup{BaseCurrency: co.Company.Currency}
	// Only the native currency: journal sets carry no currency and post in
	// it (apis.md §5.2, §5.3), and they are all this connector pushes. A
	// company's invoices may name other currencies (apis.md §5.7), but the
	// reference documents no route that lists which, so any other code
	// here would be a guess; the planner converts days in other currencies
	// instead (the same rule Push enforces).
	if co.Company.Currency != "" {
		setup.Currencies = []string{co.Company.Currency}
	}

	var cats map[string][]categoryJSON
	if err := c.getJSON(ctx, s.Tokens, c.apiBase+"/categories", &cats); err != nil {
		return nil, fmt.Errorf("freeagent: read categories: %w", err)
	}
	for _, group := range categoryGroups {
		for _, cat := range cats[group.key] {
			setup.Accounts = append(setup.Accounts, connectors.Account{
				ID: cat.URL, Code: cat.NominalCode, Name: cat.Description, Type: group.typ,
				Class: classOf(group.typ, cat.NominalCode), Status: "ACTIVE",
			})
		}
	}

	var banks []bankAccountJSON
	err := c.list(ctx, s.Tokens, c.apiBase+"/bank_accounts?per_page=100", func(body []byte) (int, error) {
		var page struct {
			BankAccounts []bankAccountJSON `json:"bank_accounts"`
		}
		if err := decode(body, &page); err != nil {
			return 0, err
		}
		banks = append(banks, page.BankAccounts...)
		return len(page.BankAccounts), nil
	})
	if err != nil {
		return nil, fmt.Errorf("freeagent: read bank accounts: %w", err)
	}
	for _, b := range banks {
		status := "ACTIVE"
		if b.Status == "hidden" {
			status = "ARCHIVED"
		}
		setup.Accounts = append(setup.Accounts, connectors.Account{
			ID: b.URL, Name: b.Name, Type: b.Type, Class: "ASSET", Status: status, Bank: true, Currency: b.Currency,
		})
	}

	// UK VAT rates are fixed numbers (apis.md §5.3); FreeAgent names a rate
	// by its percentage ("sales_tax_rate": "20.0", apis.md §5.2).
	if co.Company.SalesTaxRegistrationStatus == "Registered" && strings.HasPrefix(co.Company.Type, "Uk") {
		for _, r := range []struct{ rate, name string }{{"20.0", "Standard rate"}, {"5.0", "Reduced rate"}, {"0.0", "Zero rate"}} {
			setup.TaxRates = append(setup.TaxRates, connectors.TaxRate{ID: r.rate, Name: r.name, Status: "ACTIVE", Rate: r.rate})
		}
	}

	if setup.Contacts, err = c.contacts(ctx, s); err != nil {
		return nil, err
	}
	projects, err := c.projects(ctx, s)
	if err != nil {
		return nil, err
	}
	// Listed although Capabilities().TrackingDimensions is 0: they are the
	// company's only tracking, which the merchant may want to see, while no
	// journal line can carry one.
	setup.Tracking = []connectors.TrackingCategory{projects}

	lock, err := c.lockDate(ctx, s)
	if err != nil {
		return nil, err
	}
	setup.LockDate = lock
	return setup, nil
}

// contactJSON is the part of a GET /v2/contacts entry the connector reads.
// Only the url form is in the reference (apis.md §5.2); the name
// attributes are FreeAgent's contacts page.
type contactJSON struct {
	URL              string `json:"url"`
	OrganisationName string `json:"organisation_name"`
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
}

// contacts lists every contact, 100 a page (apis.md §5.7). A contact's id
// is its URL because FreeAgent documents reference contacts by full URL
// (apis.md §5.2). A FreeAgent contact has no customer or supplier type
// (FreeAgent's contacts page; not in the reference), so each can be either.
func (c *Connector) contacts(ctx context.Context, s connectors.Session) ([]connectors.Contact, error) {
	var out []connectors.Contact
	err := c.list(ctx, s.Tokens, c.apiBase+"/contacts?per_page=100", func(body []byte) (int, error) {
		var page struct {
			Contacts []contactJSON `json:"contacts"`
		}
		if err := decode(body, &page); err != nil {
			return 0, err
		}
		for _, ct := range page.Contacts {
			if ct.URL == "" {
				// Nothing could reference it; offering it would fail the
				// push that chose it.
				c.log.WarnContext(ctx, "freeagent: a contact without a url is left out of the setup", "tenant", s.TenantID, "name", contactName(ct))
				continue
			}
			out = append(out, connectors.Contact{ID: ct.URL, Name: contactName(ct), Customer: true, Supplier: true})
		}
		return len(page.Contacts), nil
	})
	if err != nil {
		return nil, fmt.Errorf("freeagent: read contacts: %w", err)
	}
	return out, nil
}

// contactName is the organisation, or for a person without one their
// first and last name, as FreeAgent names a contact.
func contactName(ct contactJSON) string {
	if n := strings.TrimSpace(ct.OrganisationName); n != "" {
		return n
	}
	return strings.TrimSpace(strings.TrimSpace(ct.FirstName) + " " + strings.TrimSpace(ct.LastName))
}

// projectsTracking is the one tracking category a FreeAgent company has:
// its projects (apis.md §5.3).
const projectsTracking = "projects"

// activeProject is the status of a project that still takes work;
// FreeAgent's other statuses (Completed, Cancelled, Hidden) are from its
// projects page, not the reference.
const activeProject = "Active"

// projects lists the company's projects as a tracking category whose
// options are the active ones, each identified by its URL (apis.md §5.2).
// Every status is read and the active ones kept here, because the
// reference documents no status filter on GET /v2/projects.
func (c *Connector) projects(ctx context.Context, s connectors.Session) (connectors.TrackingCategory, error) {
	cat := connectors.TrackingCategory{ID: projectsTracking, Name: "Project"}
	err := c.list(ctx, s.Tokens, c.apiBase+"/projects?per_page=100", func(body []byte) (int, error) {
		var page struct {
			Projects []struct {
				URL    string `json:"url"`
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"projects"`
		}
		if err := decode(body, &page); err != nil {
			return 0, err
		}
		for _, p := range page.Projects {
			if p.URL != "" && strings.EqualFold(p.Status, activeProject) {
				cat.Options = append(cat.Options, connectors.Option{ID: p.URL, Name: p.Name})
			}
		}
		return len(page.Projects), nil
	})
	if err != nil {
		return connectors.TrackingCategory{}, fmt.Errorf("freeagent: read projects: %w", err)
	}
	return cat, nil
}

// lockDate is the latest account lock (GET /v2/account_locks). That
// endpoint needs Full Access; a user with less still pushes journal sets,
// so a 403 leaves the lock unknown rather than failing the setup: the
// platform still refuses a locked date, and Push reports it.
func (c *Connector) lockDate(ctx context.Context, s connectors.Session) (string, error) {
	var locks struct {
		AccountLocks []struct {
			LockedToDate string `json:"locked_to_date"`
		} `json:"account_locks"`
	}
	err := c.getJSON(ctx, s.Tokens, c.apiBase+"/account_locks", &locks)
	if ce := connectors.Classify(err); ce != nil {
		if ce.Status == http.StatusForbidden {
			c.log.WarnContext(ctx, "freeagent: the connected user cannot read account locks (Full Access needed); lock date unknown", "tenant", s.TenantID)
			return "", nil
		}
		return "", fmt.Errorf("freeagent: read account locks: %w", err)
	}
	latest := ""
	for _, l := range locks.AccountLocks {
		if _, err := time.Parse(time.DateOnly, l.LockedToDate); err != nil {
			return "", &connectors.Error{Class: connectors.Fatal, Message: "freeagent: unreadable account lock date " + l.LockedToDate, Err: err}
		}
		latest = max(latest, l.LockedToDate)
	}
	return latest, nil
}

type categoryJSON struct {
	URL         string `json:"url"`
	Description string `json:"description"`
	NominalCode string `json:"nominal_code"`
}

type bankAccountJSON struct {
	URL      string `json:"url"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Status   string `json:"status"`
}

// categoryGroups are the four arrays of GET /v2/categories (apis.md §5.3)
// and the Account.Type each gives.
var categoryGroups = []struct{ key, typ string }{
	{"income_categories", "income"},
	{"cost_of_sales_categories", "cost_of_sales"},
	{"admin_expenses_categories", "admin_expenses"},
	{"general_categories", "general"},
}

// classOf gives an account class. Income and expense groups say it; for
// general categories FreeAgent's API does not, so it follows the nominal
// code ranges of FreeAgent's chart (6xx-7xx assets, 750 bank, 8xx
// liabilities, 9xx equity), which is a convention, not an API field.
func classOf(group, code string) string {
	switch group {
	case "income":
		return "REVENUE"
	case "cost_of_sales", "admin_expenses":
		return "EXPENSE"
	}
	n, err := strconv.Atoi(strings.SplitN(code, "-", 2)[0])
	switch {
	case err != nil:
		return ""
	case n < 100:
		return "REVENUE"
	case n < 600:
		return "EXPENSE"
	case n < 800:
		return "ASSET"
	case n < 900:
		return "LIABILITY"
	}
	return "EQUITY"
}

// Push creates the document unless a resource with its reference already
// exists. FreeAgent has no idempotency (apis.md §5.4), so the look-up comes
// before every create; the body carries the reference in its tag.
func (c *Connector) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, err
	}
	if doc == nil {
		return connectors.Result{}, &connectors.Error{Class: connectors.Fatal, Message: "freeagent: no document"}
	}
	kind, err := kindOf(doc)
	if err != nil {
		return connectors.Result{}, err
	}
	body, err := kind.build(c.apiBase, doc, ref)
	if err != nil {
		return connectors.Result{}, err
	}
	if res, found, err := c.Find(ctx, s, ref); err != nil {
		return connectors.Result{}, fmt.Errorf("freeagent: look %s up before creating it: %w", ref.Value, err)
	} else if found {
		c.log.InfoContext(ctx, "freeagent: document already exists; not creating it again", "reference", ref.Value, "url", res.ExternalID)
		return res, nil
	}
	// Journal sets carry no currency: they post in the company's native
	// currency (apis.md §5.2 lists no currency attribute, §5.3). Another
	// currency would be booked as if it were the native one.
	native, err := c.nativeCurrency(ctx, s)
	if err != nil {
		return connectors.Result{}, err
	}
	if cur := doc.GetCurrency(); cur != "" && !strings.EqualFold(cur, native) {
		return connectors.Result{}, &connectors.Error{Class: connectors.MerchantActionable, Field: "Currency", Message: fmt.Sprintf(
			"FreeAgent journal sets are always in the company's currency (%s), but this document is in %s; "+
				"set configuration.exchangeRates.%s so the day is posted converted", native, cur, cur)}
	}
	resp, respBody, err := c.call(ctx, s.Tokens, http.MethodPost, c.apiBase+kind.collection, body)
	if err != nil {
		if ce := connectors.Classify(err); ce.Status == http.StatusNotFound && ce.Class == connectors.MerchantActionable {
			err = c.nameMissingCategories(ctx, s, doc, ce)
		}
		return connectors.Result{}, fmt.Errorf("freeagent: create %s: %w", ref.Value, err)
	}
	created, perr := kind.createdURL(respBody)
	if perr != nil {
		created = resp.Header.Get("Location")
	}
	if created == "" {
		// Created, but we cannot say what: Find settles it on the retry.
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: "freeagent: unreadable create answer; the document will be looked up before retrying", Err: perr}
	}
	c.log.DebugContext(ctx, "freeagent: document created", "reference", ref.Value, "url", created)
	return connectors.Result{ExternalID: created}, nil
}

// nameMissingCategories turns FreeAgent's bare "Resource not found" for a
// create into a message naming the categories the document uses that the
// company's chart no longer lists (deleted, or hidden from the API, since
// they were mapped). If the chart cannot be read, ce stands as it is.
func (c *Connector) nameMissingCategories(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ce *connectors.Error) error {
	var cats map[string][]categoryJSON
	if err := c.getJSON(ctx, s.Tokens, c.apiBase+"/categories", &cats); err != nil {
		c.log.WarnContext(ctx, "freeagent: could not read categories to explain a 404", "err", err)
		return ce
	}
	listed := map[string]bool{}
	for _, group := range categoryGroups {
		for _, cat := range cats[group.key] {
			listed[cat.NominalCode] = true
		}
	}
	var missing []string
	for _, l := range doc.GetLines() {
		u, err := categoryURL(c.apiBase, l)
		if code := codeOf(u); err == nil && !listed[code] && !slices.Contains(missing, code) {
			missing = append(missing, code)
		}
	}
	if len(missing) == 0 {
		return ce
	}
	named := *ce
	named.Message = fmt.Sprintf("%s: FreeAgent has no category %s (deleted, or hidden, since it was mapped); map these lines to existing categories",
		strings.TrimSuffix(strings.SplitN(ce.Message, " (", 2)[0], "."), strings.Join(missing, ", "))
	return &named
}

// Find looks a document up by its reference in each kind's resources;
// ExternalID is the resource's URL.
func (c *Connector) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, false, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, false, err
	}
	fc := findContext{ctx: ctx, c: c, s: s}
	for _, k := range documentKinds {
		res, found, err := k.find(fc, ref)
		if err != nil || found {
			return res, found, err
		}
	}
	return connectors.Result{}, false, nil
}

type findContext struct {
	ctx context.Context
	c   *Connector
	s   connectors.Session
}

// findJournalSet lists journal sets with ?tag= (apis.md §5.4; the filter is
// [UNVERIFIED], so every answer's tag is checked here too, and all pages
// are read: per_page=100 and the Link header, apis.md §5.7). Should two
// sets carry the tag (two writers at once), the oldest is the document and
// the others are reported.
func findJournalSet(fc findContext, ref connectors.Reference) (connectors.Result, bool, error) {
	c := fc.c
	q := url.Values{"tag": {ref.Value}, "per_page": {"100"}}
	var hits []string
	err := c.list(fc.ctx, fc.s.Tokens, c.apiBase+"/journal_sets?"+q.Encode(), func(body []byte) (int, error) {
		var page struct {
			JournalSets []struct {
				URL string `json:"url"`
				Tag string `json:"tag"`
			} `json:"journal_sets"`
		}
		if err := decode(body, &page); err != nil {
			return 0, err
		}
		for _, js := range page.JournalSets {
			if js.Tag == ref.Value {
				hits = append(hits, js.URL)
			}
		}
		return len(page.JournalSets), nil
	})
	if err != nil {
		return connectors.Result{}, false, fmt.Errorf("freeagent: find journal set %s: %w", ref.Value, err)
	}
	if len(hits) == 0 {
		return connectors.Result{}, false, nil
	}
	slices.SortFunc(hits, func(a, b string) int { return resourceID(a) - resourceID(b) })
	if len(hits) > 1 {
		c.log.WarnContext(fc.ctx, "freeagent: several journal sets carry one reference; the oldest stands, delete the others",
			"reference", ref.Value, "kept", hits[0], "duplicates", hits[1:])
	}
	return connectors.Result{ExternalID: hits[0]}, true, nil
}

// resourceID is the number at the end of a resource URL, 0 if none.
func resourceID(u string) int {
	n, _ := strconv.Atoi(u[strings.LastIndexByte(u, '/')+1:])
	return n
}

// nativeCurrency returns the company's currency, from a recent read or
// GET /v2/company.
func (c *Connector) nativeCurrency(ctx context.Context, s connectors.Session) (string, error) {
	c.mu.Lock()
	ci, ok := c.companies[s.TenantID]
	c.mu.Unlock()
	if ok && c.now().Sub(ci.at) < companyTTL {
		return ci.currency, nil
	}
	var co companyJSON
	if err := c.getJSON(ctx, s.Tokens, c.apiBase+"/company", &co); err != nil {
		return "", fmt.Errorf("freeagent: read company: %w", err)
	}
	c.checkTenant(ctx, s, co.Company.Subdomain)
	c.remember(s.TenantID, co.Company.Currency)
	return co.Company.Currency, nil
}

func (c *Connector) remember(tenant, currency string) {
	if tenant == "" || currency == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.companies[tenant] = companyInfo{currency: currency, at: c.now()}
}

// checkTenant logs when the token's company no longer has the subdomain
// the connection recorded. The token can only reach its own company
// (apis.md §5.1), so the likely cause is a renamed subdomain, not another
// company; the push goes on.
func (c *Connector) checkTenant(ctx context.Context, s connectors.Session, subdomain string) {
	if subdomain != "" && subdomain != s.TenantID {
		c.log.WarnContext(ctx, "freeagent: the token's company subdomain differs from the connection's tenant id", "tenant", s.TenantID, "subdomain", subdomain)
	}
}

func checkSession(s connectors.Session) error {
	if s.TenantID == "" || s.Tokens == nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "freeagent: session needs a tenant id and a token source"}
	}
	return nil
}

// checkReference keeps the reference usable as a tag and a query value:
// 1 to MaxReferenceLen printable characters without surrounding spaces.
func checkReference(ref connectors.Reference) error {
	v := ref.Value
	ok := v != "" && len(v) <= MaxReferenceLen && strings.TrimSpace(v) == v &&
		!strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) })
	if !ok {
		return &connectors.Error{Class: connectors.Fatal, Field: "Reference",
			Message: fmt.Sprintf("freeagent: reference %q must be 1 to %d printable characters without surrounding spaces", v, MaxReferenceLen)}
	}
	return nil
}
