// Package netsuite is the NetSuite connector: OAuth 2.0 authorization-code
// grant against the account's own hosts, the merchant's setup read with
// SuiteQL, and daily documents pushed through SuiteTalk REST Web Services
// (record API v1) as journal entries upserted by externalId, so a re-push
// updates instead of duplicating (ARCHITECTURE.md "Push";
// accounting-platform-apis.md §4).
//
// # Accounts, hosts and base URLs
//
// A NetSuite tenant is an account, and the account id is part of every host
// name: https://{accountId}.suitetalk.api.netsuite.com for the API and the
// token endpoint, https://{accountId}.app.netsuite.com for the consent page
// (§0, §4.1), with the id in its host form (lower case, "_" as "-":
// 1234567_SB1 → 1234567-sb1). The connector keeps both as templates with
// the placeholder {accountId} (WithBaseURLs); API calls take the account
// from Session.TenantID, OAuth from WithAccountID.
//
// The sandbox (package sandbox) serves every account on one listener under
// /{accountId}; WithSandboxBase(serverURL) sets both templates to
// serverURL + "/{accountId}", so the account id is the first path segment
// of the configured base URL.
//
// # Subsidiary
//
// A journal entry needs a subsidiary (§4.2). Setup.Subsidiaries lists the
// active, non-elimination ones, but Push takes no choice from the planner
// yet, so the connector keeps the subsidiary in its own per-account
// state: WithSubsidiary pins one; otherwise Setup and Push pick the only
// active, non-elimination subsidiary, and refuse (merchant-actionable) to
// guess between several. Setup.BaseCurrency is that subsidiary's currency.
package netsuite

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// AccountPlaceholder is replaced by the account id's host form in base URL
// templates.
const AccountPlaceholder = "{accountId}"

// Production base URL templates (§0, §4.1).
const (
	DefaultAPIBase = "https://" + AccountPlaceholder + ".suitetalk.api.netsuite.com"
	DefaultAppBase = "https://" + AccountPlaceholder + ".app.netsuite.com"
)

// Paths below the base URLs (§4.1-§4.4).
const (
	AuthorizePath = "/app/login/oauth2/authorize.nl"
	TokenPath     = "/services/rest/auth/oauth2/v1/token"
	RecordPath    = "/services/rest/record/v1"
	SuiteQLPath   = "/services/rest/query/v1/suiteql"
)

// Scope is the OAuth scope for REST web services (§4.1).
const Scope = "rest_webservices"

// MaxExternalIDLen is the longest reference used verbatim as externalId.
// §4.4 gives externalId's characters but not its length; 64 is a
// conservative bound, and longer references are hashed (ExternalID).
const MaxExternalIDLen = 64

// DefaultConcurrencyLimit is the account concurrency the worker should
// stay under: "Shared service with one licence … 15 (5 + 10)" (§4.6). The
// limit is per account and shared by every integration of the merchant.
const DefaultConcurrencyLimit = 15

// DefaultConcurrencyBackoff is how long a call refused with
// CONCURRENCY_LIMIT_EXCEEDED waits: NetSuite sends no Retry-After (§4.6),
// and a concurrency slot frees as soon as another request ends, so the
// wait is seconds, not connectors.TransientStatusError's minute.
const DefaultConcurrencyBackoff = 5 * time.Second

// Option configures a Connector.
type Option func(*Connector)

// WithClientID sets the integration record's client id.
func WithClientID(id string) Option { return func(c *Connector) { c.clientID = id } }

// WithClientSecret sets the integration record's client secret.
func WithClientSecret(secret string) Option { return func(c *Connector) { c.clientSecret = secret } }

// WithAccountID sets the account OAuthConfig and Tenants use
// ("1234567" or "1234567_SB1").
func WithAccountID(id string) Option {
	return func(c *Connector) { c.accountID = strings.TrimSpace(id) }
}

// WithBaseURLs sets the API and app host templates; each may contain
// AccountPlaceholder (default DefaultAPIBase, DefaultAppBase).
func WithBaseURLs(apiBase, appBase string) Option {
	return func(c *Connector) {
		c.apiBase, c.appBase = strings.TrimRight(apiBase, "/"), strings.TrimRight(appBase, "/")
	}
}

// WithSandboxBase points every endpoint at a sandbox served at serverURL:
// an account's base URL is serverURL + "/" + its host form (see package
// sandbox).
func WithSandboxBase(serverURL string) Option {
	base := strings.TrimRight(serverURL, "/") + "/" + AccountPlaceholder
	return WithBaseURLs(base, base)
}

// WithSubsidiary pins the subsidiary journals are posted to.
func WithSubsidiary(id string) Option { return func(c *Connector) { c.subsidiary = id } }

// WithConcurrencyLimit sets the account concurrency reported in
// Capabilities (default DefaultConcurrencyLimit): 15 plus 10 per SuiteCloud
// Plus licence on the merchant's service tier (§4.6).
func WithConcurrencyLimit(n int) Option { return func(c *Connector) { c.concurrency = n } }

// WithConcurrencyBackoff sets the wait after CONCURRENCY_LIMIT_EXCEEDED
// (default DefaultConcurrencyBackoff).
func WithConcurrencyBackoff(d time.Duration) Option { return func(c *Connector) { c.backoff = d } }

// WithHTTPClient sets the client for API calls (default
// connectors.NewHTTPClient). Token refreshes use the client in the token
// source's context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.hc = hc } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock (Retry-After dates, setup cache).
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// Connector implements connectors.Connector for NetSuite.
type Connector struct {
	clientID, clientSecret string
	accountID              string
	apiBase, appBase       string
	subsidiary             string
	concurrency            int
	backoff                time.Duration
	hc                     *http.Client
	log                    *slog.Logger
	now                    func() time.Time

	mu     sync.Mutex
	states map[string]*accountState // by host form
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a NetSuite connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		apiBase: DefaultAPIBase, appBase: DefaultAppBase,
		concurrency: DefaultConcurrencyLimit, backoff: DefaultConcurrencyBackoff,
		log: slog.Default(), now: time.Now, states: map[string]*accountState{},
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
func (c *Connector) Key() string { return "netsuite" }

// Name is the platform's display name.
func (c *Connector) Name() string { return "NetSuite" }

// Capabilities reports journal mode with NetSuite's limits. Journal
// entries take bank accounts (§4.2 lists no restriction); accounts
// receivable and payable lines need a customer or vendor the daily
// summary does not have, so those accounts are flagged System in Setup and
// journals are said to refuse them. The idempotency key is the record's
// externalId field (§4.4), derived from Reference.Value and sent in the
// upsert URL (the shared enumeration has no "path" kind, so "body", where
// the field belongs, is reported). NetSuite governs concurrency, not a
// request rate (§4.6), so no per-minute or per-hour limit is reported. A
// journal line carries a class, a department and a location (§4.2), so a
// document's tracking goes on every line; the record API creates one
// record per request (§4.2).
func (c *Connector) Capabilities() connectors.Capabilities {
	return connectors.Capabilities{
		JournalMode:                  true,
		InvoiceMode:                  false,
		JournalForbidsBankAccounts:   false,
		JournalForbidsSystemAccounts: true,
		MaxIdempotencyKeyLen:         MaxExternalIDLen,
		MaxReferenceLen:              MaxExternalIDLen,
		IdempotencyKind:              "body",
		RequestsPerMinute:            0,
		RequestsPerHour:              0,
		MaxConcurrent:                c.concurrency,
		TrackingDimensions:           len(trackingSegments),
		LineTracking:                 true,
		MaxBatch:                     1,
		// accounting-platform-apis.md §4.1 documents the authorization code
		// grant without PKCE, so no challenge is sent.
		PKCE: false,
	}
}

// OAuthConfig is the authorization-code configuration for the account set
// with WithAccountID. The client authenticates to the token endpoint with
// HTTP Basic (§4.1).
func (c *Connector) OAuthConfig(redirectURL string) *oauth2.Config {
	return c.OAuthConfigFor(c.accountID, redirectURL)
}

// OAuthConfigFor is OAuthConfig for any account: both endpoints live on
// the account's hosts (§4.1).
func (c *Connector) OAuthConfigFor(accountID, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   accountURL(c.appBase, accountID) + AuthorizePath,
			TokenURL:  accountURL(c.apiBase, accountID) + TokenPath,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: redirectURL,
		Scopes:      []string{Scope},
	}
}

// HostForm is an account id as NetSuite host names carry it (§0, §4.1).
func HostForm(accountID string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(accountID)), "_", "-")
}

func accountURL(template, accountID string) string {
	return strings.ReplaceAll(template, AccountPlaceholder, HostForm(accountID))
}

func (c *Connector) api(accountID string) string { return accountURL(c.apiBase, accountID) }

// Tenants returns the configured account. NetSuite has no list of the
// accounts a token may use; the token is bound to the account whose token
// endpoint issued it (§4.1). Reading the subsidiaries checks the token and
// names the tenant.
func (c *Connector) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	if c.accountID == "" {
		return nil, &connectors.Error{Class: connectors.Fatal, Message: "netsuite: no account id configured"}
	}
	subs, err := c.subsidiaries(ctx, connectors.Session{TenantID: c.accountID, Tokens: ts})
	if err != nil {
		return nil, fmt.Errorf("netsuite: read subsidiaries: %w", err)
	}
	name := c.accountID
	if sub, cerr := c.chooseSubsidiary(subs); cerr == nil {
		name = sub.name
	} else {
		for _, s := range subs {
			if s.parent == "" {
				name = s.name
				break
			}
		}
	}
	return []connectors.Tenant{{ID: c.accountID, Name: name}}, nil
}

// Setup reads accounts, subsidiaries, currencies, accounting periods,
// classes, departments, locations, customers and vendors with SuiteQL, one
// paged query each (§4.3, §4.7). Journal entries take no tax fields in
// REST (§4.2) and tax codes need SuiteTax (§4.3), so TaxRates is empty.
// LockDate is the end of the latest posting period that is closed or
// locked.
func (c *Connector) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	if err := checkSession(s); err != nil {
		return nil, err
	}
	st, err := c.loadState(ctx, s)
	if err != nil {
		return nil, err
	}
	periods, err := c.suiteQL(ctx, s, qPeriods)
	if err != nil {
		return nil, fmt.Errorf("netsuite: read accounting periods: %w", err)
	}
	setup := &connectors.Setup{TaxRates: []connectors.TaxRate{}}
	if st.sub != nil {
		if cur, ok := st.byID[st.sub.currency]; ok {
			setup.BaseCurrency = cur.symbol
		}
	}
	for _, a := range st.accounts {
		acc := connectors.Account{
			ID: a.id, Code: a.number, Name: a.name, Type: a.typ, Class: accountClass[a.typ], Status: "ACTIVE",
			Bank: a.typ == "Bank", System: a.typ == "AcctRec" || a.typ == "AcctPay",
			EnablePayments: a.typ == "Bank" || a.typ == "OthCurrAsset",
		}
		if a.inactive {
			acc.Status = "INACTIVE"
		}
		if cur, ok := st.byID[a.currency]; ok {
			acc.Currency = cur.symbol
		}
		setup.Accounts = append(setup.Accounts, acc)
	}
	for _, p := range periods {
		if p["closed"] != "T" && p["alllocked"] != "T" {
			continue
		}
		if end := p["enddate"]; isoDate.MatchString(end) && end > setup.LockDate {
			setup.LockDate = end
		}
	}
	setup.Subsidiaries = setupSubsidiaries(st)
	setup.Currencies = setupCurrencies(st, setup.BaseCurrency)
	if setup.Tracking, err = c.tracking(ctx, s); err != nil {
		return nil, err
	}
	if setup.Contacts, err = c.contacts(ctx, s); err != nil {
		return nil, err
	}
	return setup, nil
}

// accountClass maps acctType (§4.3) to the platform-neutral class.
var accountClass = map[string]string{
	"Bank": "ASSET", "AcctRec": "ASSET", "OthCurrAsset": "ASSET", "FixedAsset": "ASSET", "OthAsset": "ASSET",
	"DeferExpense": "ASSET", "UnbilledRec": "ASSET",
	"AcctPay": "LIABILITY", "CredCard": "LIABILITY", "OthCurrLiab": "LIABILITY", "LongTermLiab": "LIABILITY", "DeferRevenue": "LIABILITY",
	"Equity": "EQUITY",
	"Income": "REVENUE", "OthIncome": "REVENUE",
	"COGS": "EXPENSE", "Expense": "EXPENSE", "OthExpense": "EXPENSE",
}

// Push upserts the document by externalId: PUT …/{record}/eid:{externalId}
// (§4.4) with ?replace= its sublist, so a re-push replaces the lines
// instead of appending them. NetSuite answers 204 No Content with the
// record's Location (§4.2); its internal id is the result.
func (c *Connector) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, err
	}
	b, ok := builders[doc.GetType()]
	if !ok {
		return connectors.Result{}, &connectors.Error{Class: connectors.Fatal, Field: "Type",
			Message: fmt.Sprintf("netsuite: document type %q is not supported; only ManualJournal (invoice mode is not built yet)", doc.GetType())}
	}
	st, err := c.state(ctx, s)
	if err != nil {
		return connectors.Result{}, err
	}
	if _, known := st.bySymbol[strings.ToUpper(doc.GetCurrency())]; !known && doc.GetCurrency() != "" {
		// The merchant may have just added the currency: read again once.
		if st, err = c.loadState(ctx, s); err != nil {
			return connectors.Result{}, err
		}
	}
	body, err := b.build(doc, ref, st)
	if err != nil {
		return connectors.Result{}, err
	}
	ext := ExternalID(ref.Value)
	u := c.api(s.TenantID) + RecordPath + "/" + b.record + "/eid:" + ext + "?replace=" + b.sublist
	resp, _, cerr := c.call(ctx, s.Tokens, http.MethodPut, u, body, map[string]string{
		// Misspelt properties in our own payload must fail loudly (§4.2).
		"X-NetSuite-PropertyNameValidation": "Error",
	})
	if cerr != nil {
		return connectors.Result{}, fmt.Errorf("netsuite: upsert %s %s: %w", b.record, ext, cerr)
	}
	id := idFromLocation(resp.Header.Get("Location"), b.record)
	if id == "" {
		// Written, but we cannot tell which record: Find decides.
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: "netsuite: the upsert answer had no usable Location header; look the document up before retrying"}
	}
	c.log.DebugContext(ctx, "netsuite record upserted", "record", b.record, "external_id", ext, "id", id)
	return connectors.Result{ExternalID: id}, nil
}

// Find reads the document back by externalId: GET …/{record}/eid:{id}
// (§4.4). Only journal entries exist so far; invoice mode adds its record
// types to findRecords.
func (c *Connector) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, false, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, false, err
	}
	ext := ExternalID(ref.Value)
	for _, record := range findRecords {
		var out struct {
			ID string `json:"id"`
		}
		resp, body, cerr := c.call(ctx, s.Tokens, http.MethodGet, c.api(s.TenantID)+RecordPath+"/"+record+"/eid:"+ext, nil, nil)
		if cerr != nil {
			if resp != nil && resp.StatusCode == http.StatusNotFound {
				continue
			}
			return connectors.Result{}, false, fmt.Errorf("netsuite: find %s %s: %w", record, ext, cerr)
		}
		if err := decodeJSON(body, &out); err != nil || out.ID == "" {
			return connectors.Result{}, false, &connectors.Error{Class: connectors.Fatal, Status: resp.StatusCode,
				Message: "netsuite: unreadable record in the find answer", Err: err}
		}
		return connectors.Result{ExternalID: out.ID}, true, nil
	}
	return connectors.Result{}, false, nil
}

// findRecords are the record types Push creates.
var findRecords = []string{"journalentry"}

// idFromLocation takes the internal id from ".../record/v1/{record}/{id}".
func idFromLocation(loc, record string) string {
	i := strings.LastIndex(strings.ToLower(loc), "/"+record+"/")
	if i < 0 {
		return ""
	}
	id := loc[i+len(record)+2:]
	if id == "" || strings.ContainsAny(id, "/?#:") {
		return ""
	}
	return id
}

func checkSession(s connectors.Session) error {
	if s.TenantID == "" || s.Tokens == nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "netsuite: session needs an account id and a token source"}
	}
	return nil
}

// checkReference keeps the reference usable in the memo's brackets.
func checkReference(ref connectors.Reference) error {
	if ref.Value == "" || len(ref.Value) > 255 || strings.ContainsAny(ref.Value, "[]\r\n") {
		return &connectors.Error{Class: connectors.Fatal, Field: "Reference",
			Message: fmt.Sprintf("netsuite: reference %q must be 1 to 255 characters without brackets or newlines", ref.Value)}
	}
	return nil
}
