// Package sage is the Sage Business Cloud Accounting (API v3.1) connector:
// OAuth 2.0 through Sage's authorization service, the business chosen by
// the X-Business header, the merchant's setup from the Accounting API, and
// daily documents pushed as journals with an idempotency_id inside the
// resource and the document's reference in the journal's reference field
// for later look-up (ARCHITECTURE.md "Push"; accounting-platform-apis.md
// §3).
package sage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Production endpoints (apis.md §3.1, §0). The authorize URL carries
// filter=apiv3.1, which selects the v3.1 consent.
const (
	DefaultAuthURL  = "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1"
	DefaultTokenURL = "https://oauth.accounting.sage.com/token"
	DefaultAPIBase  = "https://api.accounting.sage.com/v3.1"
)

// DefaultScope is requested on connect (apis.md §3.1: readonly|full_access;
// creating journals needs full_access).
const DefaultScope = "full_access"

// Limits the connector keeps to.
const (
	// IdempotencyIDLen is idempotency_id's format: 32 hexadecimal digits
	// (apis.md §3.4).
	IdempotencyIDLen = 32
	// MaxReferenceLen bounds ref.Value. A journal's reference may hold 255
	// characters (spec Journal.reference), but a contact payment's only 25
	// (apis.md §3.2); 25 keeps one reference valid for every Sage document,
	// so invoice mode can reuse the planner's references.
	MaxReferenceLen = 25
	// MaxDescriptionLen is the journal description's limit (spec
	// Journal.description maxLength 200); longer narrations are cut.
	MaxDescriptionLen = 200
	// RequestsPerMinute is Sage's published limit: 200 calls in any 60
	// seconds per business (apis.md §3.6).
	RequestsPerMinute = 200
	// MaxAnalysisTypesPerLine is how many analysis types one line may
	// carry. Neither the reference nor the spec states a number (lines carry
	// analysis_type_categories, apis.md §3.3); 3 is an assumption, matching
	// the three transaction analysis types Sage's knowledgebase lists as
	// defaults (Department, Cost centre, Project). The sandbox refuses more
	// by the same assumption (sandbox Rules.MaxAnalysisTypesPerLine).
	MaxAnalysisTypesPerLine = 3
	// PageSize is the largest items_per_page (spec: maximum 200).
	PageSize = 200
	// maxPages bounds a paged read (200 × 1000 = 200,000 records).
	maxPages = 1000
	// settingsTTL is how long Push trusts the business's base currency.
	settingsTTL = 15 * time.Minute
)

// Option configures a Connector.
type Option func(*Connector)

// WithClientID sets the OAuth client id.
func WithClientID(id string) Option { return func(c *Connector) { c.clientID = id } }

// WithClientSecret sets the OAuth client secret.
func WithClientSecret(secret string) Option { return func(c *Connector) { c.clientSecret = secret } }

// WithAuthURL overrides the authorization endpoint (keep filter=apiv3.1).
func WithAuthURL(u string) Option { return func(c *Connector) { c.authURL = u } }

// WithTokenURL overrides the token endpoint.
func WithTokenURL(u string) Option { return func(c *Connector) { c.tokenURL = u } }

// WithAPIBase overrides the Accounting API base URL.
func WithAPIBase(u string) Option {
	return func(c *Connector) { c.apiBase = strings.TrimRight(u, "/") }
}

// WithSandboxBase points every endpoint at a sandbox served at base (see
// package sandbox for the paths).
func WithSandboxBase(base string) Option {
	base = strings.TrimRight(base, "/")
	return func(c *Connector) {
		c.authURL = base + "/oauth2/auth/central?filter=apiv3.1"
		c.tokenURL = base + "/token"
		c.apiBase = base + "/v3.1"
	}
}

// WithScope sets the OAuth scope (default full_access).
func WithScope(scope string) Option { return func(c *Connector) { c.scope = scope } }

// WithHTTPClient sets the client for API calls (default
// connectors.NewHTTPClient). Token refreshes use the client in the token
// source's context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.hc = hc } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock used for Retry-After dates, the settings cache
// and Find's look-back.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// WithFindLookback bounds Find to journals created or updated within d
// (updated_or_created_since); 0 (the default) searches every journal.
func WithFindLookback(d time.Duration) Option { return func(c *Connector) { c.findLookback = d } }

// Connector implements connectors.Connector for Sage Business Cloud
// Accounting.
type Connector struct {
	clientID, clientSecret     string
	authURL, tokenURL, apiBase string
	scope                      string
	hc                         *http.Client
	log                        *slog.Logger
	now                        func() time.Time
	findLookback               time.Duration

	mu       sync.Mutex
	settings map[string]cachedSettings
}

type cachedSettings struct {
	baseCurrency string
	at           time.Time
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a Sage connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		authURL: DefaultAuthURL, tokenURL: DefaultTokenURL, apiBase: DefaultAPIBase, scope: DefaultScope,
		log: slog.Default(), now: time.Now, settings: map[string]cachedSettings{},
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
func (c *Connector) Key() string { return "sage" }

// Name is the platform's display name.
func (c *Connector) Name() string { return "Sage Accounting" }

// Capabilities reports journal mode with Sage's limits. Sage journals may
// post to bank and control accounts (nothing in apis.md §3 forbids it), so
// the planner needs no other documents in journal mode. Invoice mode comes
// with issue 3's invoice-mode plan (see payloadFor).
func (c *Connector) Capabilities() connectors.Capabilities {
	return connectors.Capabilities{
		JournalMode:          true,
		InvoiceMode:          false,
		MaxIdempotencyKeyLen: IdempotencyIDLen,
		MaxReferenceLen:      MaxReferenceLen,
		IdempotencyKind:      "body",
		RequestsPerMinute:    RequestsPerMinute,
		// apis.md §3.6 publishes a per-minute call limit and an hourly
		// volume (100 MB), but no hourly call count.
		RequestsPerHour: 0,
		// Sage publishes no concurrency limit (apis.md §3.6).
		MaxConcurrent:      0,
		TrackingDimensions: MaxAnalysisTypesPerLine,
		// A document's tracking goes on every journal line as
		// analysis_type_categories (apis.md §3.3; see analysisCategories).
		LineTracking: true,
		// Every create takes one resource in a singular key (apis.md §3.2).
		MaxBatch: 1,
		// apis.md §3.1 ("authorization code flow only") documents no PKCE,
		// so no challenge is sent.
		PKCE: false,
	}
}

// OAuthConfig is the authorization-code configuration. Sage's token
// endpoint takes client_id and client_secret in the form (apis.md §3.1).
func (c *Connector) OAuthConfig(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: c.authURL, TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  redirectURL,
		Scopes:       []string{c.scope},
	}
}

// Tenants lists the businesses the token's user may access (GET
// /businesses, apis.md §3.1). A session with an empty TenantID uses the
// lead business.
func (c *Connector) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	var out []connectors.Tenant
	err := c.list(ctx, ts, "", c.apiBase+"/businesses", func(raw json.RawMessage) error {
		var b struct {
			ID          string `json:"id"`
			DisplayedAs string `json:"displayed_as"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		out = append(out, connectors.Tenant{ID: b.ID, Name: b.DisplayedAs})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sage: list businesses: %w", err)
	}
	return out, nil
}

// ledgerAccountAttributes are the fields Setup reads (apis.md §3.3).
const ledgerAccountAttributes = "name,nominal_code,ledger_account_type,included_in_chart,is_control_account"

// Setup reads the chart of accounts, tax rates, financial settings,
// contacts, the currencies the business trades in and its analysis types
// (apis.md §3.3).
func (c *Connector) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	if err := checkSession(s); err != nil {
		return nil, err
	}
	setup := &connectors.Setup{}
	q := url.Values{"attributes": {ledgerAccountAttributes}, "items_per_page": {strconv.Itoa(PageSize)}}
	err := c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/ledger_accounts?"+q.Encode(), func(raw json.RawMessage) error {
		var a struct {
			ID                string    `json:"id"`
			Name              string    `json:"name"`
			NominalCode       *int64    `json:"nominal_code"`
			LedgerAccountType *baseJSON `json:"ledger_account_type"`
			IncludedInChart   *bool     `json:"included_in_chart"`
			IsControlAccount  bool      `json:"is_control_account"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		acct := connectors.Account{ID: a.ID, Name: a.Name, Status: "ACTIVE", System: a.IsControlAccount}
		if a.NominalCode != nil {
			acct.Code = strconv.FormatInt(*a.NominalCode, 10)
		}
		if a.LedgerAccountType != nil {
			acct.Type = a.LedgerAccountType.ID
			acct.Class = classOf[acct.Type]
			acct.Bank = acct.Type == "BANK"
		}
		// A ledger account has no status of its own: one left out of the
		// chart cannot be posted to (spec LedgerAccount.included_in_chart).
		if a.IncludedInChart != nil && !*a.IncludedInChart {
			acct.Status = "INACTIVE"
		}
		setup.Accounts = append(setup.Accounts, acct)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sage: read ledger accounts: %w", err)
	}
	q = url.Values{"attributes": {"name,percentage,is_visible"}, "items_per_page": {strconv.Itoa(PageSize)}}
	err = c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/tax_rates?"+q.Encode(), func(raw json.RawMessage) error {
		var t struct {
			ID         string      `json:"id"`
			Name       string      `json:"name"`
			Percentage json.Number `json:"percentage"`
			IsVisible  *bool       `json:"is_visible"`
		}
		if err := decode(raw, &t); err != nil {
			return err
		}
		rate := connectors.TaxRate{ID: t.ID, Name: t.Name, Status: "ACTIVE"}
		if t.IsVisible != nil && !*t.IsVisible {
			rate.Status = "HIDDEN"
		}
		if t.Percentage != "" {
			d, err := decimal.NewFromString(t.Percentage.String())
			if err != nil {
				return fmt.Errorf("tax rate %s percentage %q: %w", t.ID, t.Percentage, err)
			}
			rate.Rate = d.StringFixed(4)
		}
		setup.TaxRates = append(setup.TaxRates, rate)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sage: read tax rates: %w", err)
	}
	fs, err := c.financialSettings(ctx, s)
	if err != nil {
		return nil, err
	}
	setup.BaseCurrency = fs.BaseCurrency.ID
	if d := fs.YearEndLockdownDate; d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return nil, &connectors.Error{Class: connectors.Fatal, Message: "sage: unreadable year_end_lockdown_date " + d, Err: err}
		}
		setup.LockDate = t.Format(time.DateOnly)
	}
	if setup.Currencies, setup.ExchangeRates, err = c.currencies(ctx, s, fs); err != nil {
		return nil, err
	}
	if setup.Contacts, err = c.contacts(ctx, s); err != nil {
		return nil, err
	}
	if setup.Tracking, err = c.tracking(ctx, s); err != nil {
		return nil, err
	}
	return setup, nil
}

// currencies are the base currency, then, when multi-currency is on, the
// foreign currencies the business has exchange rates for (GET
// /business_exchange_rates; apis.md §3.3, §3.7: foreign currencies need
// multi_currency_enabled). Without multi-currency the rates are not read:
// the business cannot post in them. The rates come too: inverse_rate is
// the units of the base currency one unit of the foreign currency buys
// (rate is the other way round, GBP 1 = USD 1.27; spec BusinessExchangeRate).
func (c *Connector) currencies(ctx context.Context, s connectors.Session, fs *financialSettings) ([]string, map[string]string, error) {
	out := []string{fs.BaseCurrency.ID}
	if !fs.MultiCurrencyEnabled {
		return out, nil, nil
	}
	rates := map[string]string{}
	q := url.Values{"attributes": {"currency,inverse_rate"}, "items_per_page": {strconv.Itoa(PageSize)}}
	err := c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/business_exchange_rates?"+q.Encode(), func(raw json.RawMessage) error {
		// A business exchange rate has no id of its own (spec
		// BusinessExchangeRate): its foreign currency names it.
		var r struct {
			Currency    *baseJSON   `json:"currency"`
			InverseRate json.Number `json:"inverse_rate"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // a rate is exact decimal text, never a float
		if err := dec.Decode(&r); err != nil {
			return err
		}
		if r.Currency == nil || r.Currency.ID == "" {
			return nil
		}
		if !slices.Contains(out, r.Currency.ID) {
			out = append(out, r.Currency.ID)
		}
		if inv, err := decimal.NewFromString(r.InverseRate.String()); err == nil && inv.IsPositive() {
			rates[r.Currency.ID] = inv.String()
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sage: read business exchange rates: %w", err)
	}
	return out, rates, nil
}

// contactAttributes are the fields contacts reads (spec Contact).
const contactAttributes = "name,contact_types,system,is_active"

// contacts lists the customers and suppliers documents can name (GET
// /contacts, spec getContacts). A contact is a customer or supplier by its
// contact_types, CUSTOMER and VENDOR. System contacts are left out: the
// spec reserves them for Sage's own transactions (Contact.system,
// exclude_system "not applicable for transaction creation"). Inactive ones
// are left out too, so no new document names a contact the merchant
// retired (what Sage does with such a document is not in the reference).
func (c *Connector) contacts(ctx context.Context, s connectors.Session) ([]connectors.Contact, error) {
	var out []connectors.Contact
	q := url.Values{"attributes": {contactAttributes}, "items_per_page": {strconv.Itoa(PageSize)}}
	err := c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/contacts?"+q.Encode(), func(raw json.RawMessage) error {
		var ct struct {
			ID           string     `json:"id"`
			DisplayedAs  string     `json:"displayed_as"`
			Name         string     `json:"name"`
			ContactTypes []baseJSON `json:"contact_types"`
			System       bool       `json:"system"`
			IsActive     *bool      `json:"is_active"`
		}
		if err := json.Unmarshal(raw, &ct); err != nil {
			return err
		}
		if ct.System || (ct.IsActive != nil && !*ct.IsActive) {
			return nil
		}
		// displayed_as may carry the contact's reference besides its
		// name; name is the contact's own.
		contact := connectors.Contact{ID: ct.ID, Name: ct.Name}
		if contact.Name == "" {
			contact.Name = ct.DisplayedAs
		}
		for _, t := range ct.ContactTypes {
			switch t.ID {
			case "CUSTOMER":
				contact.Customer = true
			case "VENDOR":
				contact.Supplier = true
			}
		}
		out = append(out, contact)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sage: read contacts: %w", err)
	}
	return out, nil
}

// tracking reads the analysis types lines can carry and their categories
// (apis.md §3.3: GET /analysis_types + analysis_type_categories), one
// TrackingCategory per type. Only TRANSACTION types are asked for: GROUP
// types tag records such as customers, not lines (spec
// analysis_type_level; the meaning is Sage's knowledgebase's, not in the
// reference). A type without active areas is deactivated (knowledgebase,
// not in the reference) and left out. Categories are listed apart, paged,
// rather than read nested in their type, whose nested list the spec does
// not say is complete.
//
// Analysis types exist on Accounting Plus and Standard only (apis.md
// §3.3). A business on Start has none, so a 403 or 404 from these routes
// means no tracking rather than a failed setup; which of the two Sage
// answers is not in the reference.
func (c *Connector) tracking(ctx context.Context, s connectors.Session) ([]connectors.TrackingCategory, error) {
	var out []connectors.TrackingCategory
	index := map[string]int{}
	q := url.Values{"analysis_type_level": {"TRANSACTION"}, "attributes": {"name,active_areas"}, "items_per_page": {strconv.Itoa(PageSize)}}
	err := c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/analysis_types?"+q.Encode(), func(raw json.RawMessage) error {
		var t struct {
			ID          string `json:"id"`
			DisplayedAs string `json:"displayed_as"`
			Name        string `json:"name"`
			// Only whether the list is empty matters; its items' shape is
			// not in the spec.
			ActiveAreas []json.RawMessage `json:"active_areas"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		if t.ActiveAreas != nil && len(t.ActiveAreas) == 0 {
			return nil
		}
		name := t.Name
		if name == "" {
			name = t.DisplayedAs
		}
		index[t.ID] = len(out)
		out = append(out, connectors.TrackingCategory{ID: t.ID, Name: name})
		return nil
	})
	if unavailable(err) {
		c.log.DebugContext(ctx, "sage analysis types unavailable; no tracking", "business", s.TenantID, "error", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sage: read analysis types: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	q = url.Values{"analysis_type_level": {"TRANSACTION"}, "attributes": {"name,analysis_type"}, "items_per_page": {strconv.Itoa(PageSize)}}
	err = c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/analysis_type_categories?"+q.Encode(), func(raw json.RawMessage) error {
		var cat struct {
			ID           string    `json:"id"`
			DisplayedAs  string    `json:"displayed_as"`
			Name         string    `json:"name"`
			AnalysisType *baseJSON `json:"analysis_type"`
		}
		if err := json.Unmarshal(raw, &cat); err != nil {
			return err
		}
		if cat.AnalysisType == nil {
			return nil
		}
		// Categories of a deactivated type, or of one created between the
		// two reads, have no dimension to join.
		i, ok := index[cat.AnalysisType.ID]
		if !ok {
			return nil
		}
		name := cat.Name
		if name == "" {
			name = cat.DisplayedAs
		}
		out[i].Options = append(out[i].Options, connectors.Option{ID: cat.ID, Name: name})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sage: read analysis type categories: %w", err)
	}
	return out, nil
}

// unavailable reports whether err is Sage refusing a route the business's
// subscription lacks (403 or 404), rather than the business itself (404
// naming X-Business).
func unavailable(err error) bool {
	e, ok := errors.AsType[*connectors.Error](err)
	if !ok || e.Field == "X-Business" {
		return false
	}
	return e.Status == http.StatusForbidden || e.Status == http.StatusNotFound
}

// classOf maps a ledger account type to the account class.
var classOf = map[string]string{
	"SALES": "REVENUE", "OTHER_INCOME": "REVENUE",
	"DIRECT_EXPENSES": "EXPENSE", "OVERHEADS": "EXPENSE", "DEPRECIATION": "EXPENSE",
	"CURRENT_ASSETS": "ASSET", "FIXED_ASSETS": "ASSET", "FUTURE_ASSETS": "ASSET", "BANK": "ASSET",
	"CURRENT_LIABILITY": "LIABILITY", "FUTURE_LIABILITY": "LIABILITY", "LINE_OF_CREDIT": "LIABILITY",
	"EQUITY": "EQUITY",
}

type baseJSON struct {
	ID          string `json:"id"`
	DisplayedAs string `json:"displayed_as"`
}

type financialSettings struct {
	BaseCurrency         baseJSON `json:"base_currency"`
	YearEndLockdownDate  string   `json:"year_end_lockdown_date"`
	MultiCurrencyEnabled bool     `json:"multi_currency_enabled"`
}

// financialSettings reads GET /financial_settings and refreshes the base
// currency Push checks against.
func (c *Connector) financialSettings(ctx context.Context, s connectors.Session) (*financialSettings, error) {
	var fs financialSettings
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/financial_settings", &fs); err != nil {
		return nil, fmt.Errorf("sage: read financial settings: %w", err)
	}
	if fs.BaseCurrency.ID == "" {
		return nil, &connectors.Error{Class: connectors.Fatal, Message: "sage: financial settings have no base currency"}
	}
	c.mu.Lock()
	c.settings[s.TenantID] = cachedSettings{baseCurrency: fs.BaseCurrency.ID, at: c.now()}
	c.mu.Unlock()
	return &fs, nil
}

// baseCurrency returns the business's base currency, read at most every
// settingsTTL.
func (c *Connector) baseCurrency(ctx context.Context, s connectors.Session) (string, error) {
	c.mu.Lock()
	cs, ok := c.settings[s.TenantID]
	c.mu.Unlock()
	if ok && c.now().Sub(cs.at) < settingsTTL {
		return cs.baseCurrency, nil
	}
	fs, err := c.financialSettings(ctx, s)
	if err != nil {
		return "", err
	}
	return fs.BaseCurrency.ID, nil
}

// Push creates the document: in journal mode a journal whose reference is
// ref.Value (Find looks for it) and whose idempotency_id is derived from
// ref (IdempotencyID), so a repeat while Sage remembers the id returns the
// first journal (apis.md §3.4).
func (c *Connector) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, err
	}
	p, err := payloadFor(doc, ref)
	if err != nil {
		return connectors.Result{}, err
	}
	// A Sage journal has no currency (spec postJournals): it posts its
	// amounts in the business's base currency, so a document in any other
	// currency must not be sent as one.
	if cur := doc.GetCurrency(); cur != "" {
		base, err := c.baseCurrency(ctx, s)
		if err != nil {
			return connectors.Result{}, err
		}
		if cur != base {
			return connectors.Result{}, &connectors.Error{Class: connectors.MerchantActionable, Field: "currency", Message: fmt.Sprintf(
				"Sage journals are posted in the business's base currency (%s), but this document is in %s. "+
					"Days in other currencies need invoice mode, which is not available for Sage yet.", base, cur)}
		}
	}
	resp, body, err := c.call(ctx, s.Tokens, s.TenantID, http.MethodPost, c.apiBase+p.path, p.body)
	if err != nil {
		return connectors.Result{}, fmt.Errorf("sage: push %s %s: %w", doc.GetType(), ref.Value, err)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		// A 2xx we cannot read leaves the outcome unknown: Find decides.
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: "sage: unreadable create response; look the document up before retrying", Err: err}
	}
	c.log.DebugContext(ctx, "sage document created", "reference", ref.Value, "id", out.ID, "path", p.path)
	return connectors.Result{ExternalID: out.ID}, nil
}

// Find looks a journal up by its reference. GET /journals has no reference
// filter (spec getJournals), so Find pages through the journals with
// attributes=reference, 200 at a time; deleted journals are not listed.
func (c *Connector) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, false, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, false, err
	}
	q := url.Values{"attributes": {"reference"}, "items_per_page": {strconv.Itoa(PageSize)}}
	if c.findLookback > 0 {
		q.Set("updated_or_created_since", c.now().Add(-c.findLookback).UTC().Format(time.RFC3339))
	}
	var found string
	err := c.list(ctx, s.Tokens, s.TenantID, c.apiBase+"/journals?"+q.Encode(), func(raw json.RawMessage) error {
		var j struct {
			ID        string `json:"id"`
			Reference string `json:"reference"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return err
		}
		if j.Reference == ref.Value && found == "" {
			found = j.ID
			return errStop
		}
		return nil
	})
	if err != nil {
		return connectors.Result{}, false, fmt.Errorf("sage: find journal %s: %w", ref.Value, err)
	}
	if found == "" {
		return connectors.Result{}, false, nil
	}
	return connectors.Result{ExternalID: found}, true, nil
}

func checkSession(s connectors.Session) error {
	// An empty TenantID is allowed: Sage then uses the lead business
	// (apis.md §3.1).
	if s.Tokens == nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "sage: session needs a token source"}
	}
	return nil
}

// checkReference keeps the reference within MaxReferenceLen and free of
// control characters.
func checkReference(ref connectors.Reference) error {
	if ref.Value == "" || len(ref.Value) > MaxReferenceLen || strings.ContainsFunc(ref.Value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &connectors.Error{Class: connectors.Fatal, Field: "Reference",
			Message: fmt.Sprintf("sage: reference %q must be 1 to %d characters without control characters", ref.Value, MaxReferenceLen)}
	}
	return nil
}

var errStop = errors.New("stop paging")

// list GETs a collection and calls each for every item, following $next
// (apis.md §3.7) until it is null or each returns errStop.
func (c *Connector) list(ctx context.Context, ts oauth2.TokenSource, tenantID, u string, each func(json.RawMessage) error) error {
	for range maxPages {
		var pg struct {
			Next  *string           `json:"$next"`
			Items []json.RawMessage `json:"$items"`
		}
		if err := c.getJSON(ctx, ts, tenantID, u, &pg); err != nil {
			return err
		}
		for _, it := range pg.Items {
			if err := each(it); err != nil {
				if errors.Is(err, errStop) {
					return nil
				}
				return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable Sage list item", Err: err}
			}
		}
		if pg.Next == nil || *pg.Next == "" {
			return nil
		}
		next, err := c.resolve(*pg.Next)
		if err != nil {
			return err
		}
		u = next
	}
	return &connectors.Error{Class: connectors.Fatal, Message: fmt.Sprintf("sage: more than %d pages at %s", maxPages, u)}
}

// resolve turns a $next link into a URL on the API base. Links are paths
// below the base ("/journals?page=2"); an absolute link elsewhere is
// refused rather than sent the bearer token.
func (c *Connector) resolve(next string) (string, error) {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return c.apiBase + next, nil
	}
	if strings.HasPrefix(next, c.apiBase+"/") {
		return next, nil
	}
	return "", &connectors.Error{Class: connectors.Fatal, Message: "sage: unexpected $next link " + next}
}

// getJSON GETs u and decodes a successful answer into v.
func (c *Connector) getJSON(ctx context.Context, ts oauth2.TokenSource, tenantID, u string, v any) error {
	_, body, err := c.call(ctx, ts, tenantID, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := decode(body, v); err != nil {
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable Sage response", Err: err}
	}
	return nil
}

func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// call sends one request and returns a 2xx answer, or a classified error.
// A 401 is retried once after dropping the rejected token, so a token that
// expired early (5-minute tokens, clock skew) is refreshed; the request
// never reached Sage's handlers, so re-sending it cannot duplicate.
func (c *Connector) call(ctx context.Context, ts oauth2.TokenSource, tenantID, method, u string, body []byte) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, tok, cerr := connectors.NewAuthorizedRequest(ctx, ts, method, u, body)
		if cerr != nil {
			return nil, nil, cerr
		}
		req.Header.Set("Accept", "application/json")
		if tenantID != "" {
			req.Header.Set("X-Business", tenantID)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		respBody, err := connectors.ReadBody(resp)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if inv, ok := ts.(connectors.Invalidator); ok {
				c.log.DebugContext(ctx, "sage rejected the access token; refreshing once", "business", tenantID)
				inv.Invalidate(tok)
				continue
			}
		}
		if e := c.classify(method, resp, respBody); e != nil {
			return resp, respBody, e
		}
		return resp, respBody, nil
	}
}

// sageError is one element of Sage's error array (apis.md §3.5).
type sageError struct {
	Severity string `json:"$severity"`
	DataCode string `json:"$dataCode"`
	Message  string `json:"$message"`
	Source   string `json:"$source"`
}

// classify maps a non-2xx answer to an error class (apis.md §3.5, §3.6).
func (c *Connector) classify(method string, resp *http.Response, body []byte) *connectors.Error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	errs := parseErrors(body)
	detail := ""
	if len(errs) > 0 {
		detail = errs[0].Message
	}
	// Sage documents no rate-limit headers (apis.md §3.6); without
	// Retry-After a 429 waits a minute, the length of Sage's window.
	if e := connectors.TransientStatusError(resp, detail, c.now()); e != nil {
		return e
	}
	switch code {
	case http.StatusUnprocessableEntity:
		if len(errs) == 0 {
			return &connectors.Error{Class: connectors.Fatal, Status: code, Message: "Sage rejected the request: " + snippet(body)}
		}
		e := &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: errs[0].Source, Message: joinMessages(errs)}
		for _, se := range errs {
			// The idempotency_id is ours: a refusal of it is our bug.
			if strings.HasSuffix(se.Source, "idempotency_id") {
				e.Class, e.Field, e.Message = connectors.Fatal, se.Source, se.Message
				break
			}
		}
		return e
	case http.StatusNotFound:
		switch {
		case len(errs) > 0 && errs[0].Source == "X-Business":
			return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: "X-Business", Deauthorized: true,
				Message: "Sage no longer gives access to this business (" + errs[0].Message + "); reconnect Sage Accounting"}
		case method == http.MethodPost && len(errs) > 0:
			// A record the document names is gone (a ledger account was
			// deleted): the mapping must change.
			return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: errs[0].Source, Message: errs[0].Message}
		}
	case http.StatusUnauthorized:
		return &connectors.Error{Class: connectors.Retryable, Status: code, Message: "Sage rejected the access token after a refresh; retry later"}
	case http.StatusForbidden:
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code,
			Message: "Sage refused access; the connecting user needs Full Access to Journals and Settings, or reconnect Sage Accounting"}
	}
	return &connectors.Error{Class: connectors.Fatal, Status: code, Message: fmt.Sprintf("Sage answered %d: %s", code, snippet(body))}
}

// parseErrors reads the $-keyed error array of apis.md §3.5, or nil.
func parseErrors(body []byte) []sageError {
	var errs []sageError
	if json.Unmarshal(body, &errs) != nil {
		return nil
	}
	out := errs[:0]
	for _, e := range errs {
		if e.Message != "" {
			out = append(out, e)
		}
	}
	return out
}

func joinMessages(errs []sageError) string {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		m := e.Message
		if len(errs) > 1 && e.Source != "" && e.Source != "base" {
			m += " [" + e.Source + "]"
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
