// Package xero is the Xero connector: OAuth 2.0 through Xero's identity
// service, the merchant's setup from the Accounting API, and daily
// documents pushed as manual journals with an Idempotency-Key and a
// reference in the narration for later look-up (ARCHITECTURE.md "Push";
// accounting-platform-apis.md §1).
package xero

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Production endpoints (accounting-platform-apis.md §1.1, §0).
const (
	DefaultAuthURL        = "https://login.xero.com/identity/connect/authorize"
	DefaultTokenURL       = "https://identity.xero.com/connect/token"
	DefaultConnectionsURL = "https://api.xero.com/connections"
	DefaultAPIBase        = "https://api.xero.com/api.xro/2.0"
)

// Scopes are requested on connect: offline_access for a refresh token,
// the broad transactions/settings scopes and the granular manual-journals
// scope that apps created after March 2026 need (§1.1).
var Scopes = []string{"offline_access", "accounting.transactions", "accounting.settings", "accounting.manualjournals"}

// MaxIdempotencyKeyLen is the Idempotency-Key limit (§1.4, spec
// components.parameters.idempotencyKey: "128 character max").
const MaxIdempotencyKeyLen = 128

// MaxReferenceLen bounds the reference put in the narration. Xero's
// narration limit is not in the reference; 128 keeps narrations short and
// lets the key be the reference itself.
const MaxReferenceLen = 128

// maxLineAmount is Xero's largest LineAmount (§1.7).
const maxLineAmount = "9999999999.99"

// Option configures a Connector.
type Option func(*Connector)

// WithClientID sets the OAuth client id.
func WithClientID(id string) Option { return func(c *Connector) { c.clientID = id } }

// WithClientSecret sets the OAuth client secret.
func WithClientSecret(secret string) Option { return func(c *Connector) { c.clientSecret = secret } }

// WithAuthURL overrides the authorization endpoint.
func WithAuthURL(u string) Option { return func(c *Connector) { c.authURL = u } }

// WithTokenURL overrides the token endpoint.
func WithTokenURL(u string) Option { return func(c *Connector) { c.tokenURL = u } }

// WithConnectionsURL overrides the identity API's connections endpoint.
func WithConnectionsURL(u string) Option { return func(c *Connector) { c.connectionsURL = u } }

// WithAPIBase overrides the Accounting API base URL.
func WithAPIBase(u string) Option {
	return func(c *Connector) { c.apiBase = strings.TrimRight(u, "/") }
}

// WithSandboxBase points every endpoint at a sandbox served at base (see
// package sandbox for the paths).
func WithSandboxBase(base string) Option {
	base = strings.TrimRight(base, "/")
	return func(c *Connector) {
		c.authURL = base + "/identity/connect/authorize"
		c.tokenURL = base + "/connect/token"
		c.connectionsURL = base + "/connections"
		c.apiBase = base + "/api.xro/2.0"
	}
}

// WithHTTPClient sets the client for API calls (default
// connectors.NewHTTPClient). Token refreshes use the client in the token
// source's context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Connector) { c.hc = hc } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Connector) { c.log = l } }

// WithClock sets the clock used to read Retry-After dates.
func WithClock(now func() time.Time) Option { return func(c *Connector) { c.now = now } }

// Connector implements connectors.Connector for Xero.
type Connector struct {
	clientID, clientSecret                     string
	authURL, tokenURL, connectionsURL, apiBase string
	hc                                         *http.Client
	log                                        *slog.Logger
	now                                        func() time.Time
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a Xero connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		authURL: DefaultAuthURL, tokenURL: DefaultTokenURL, connectionsURL: DefaultConnectionsURL, apiBase: DefaultAPIBase,
		log: slog.Default(), now: time.Now,
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
func (c *Connector) Key() string { return "xero" }

// Name is the platform's display name.
func (c *Connector) Name() string { return "Xero" }

// Capabilities reports journal mode with Xero's limits (§1.2, §1.4, §1.6).
func (c *Connector) Capabilities() connectors.Capabilities {
	return connectors.Capabilities{
		JournalMode:                  true,
		InvoiceMode:                  true,
		JournalForbidsBankAccounts:   true,
		JournalForbidsSystemAccounts: true,
		BankTransactions:             true,
		MaxIdempotencyKeyLen:         MaxIdempotencyKeyLen,
		MaxReferenceLen:              MaxReferenceLen,
		IdempotencyKind:              "header",
		RequestsPerMinute:            60,
		AppRequestsPerMinute:         10000,
		MaxConcurrent:                5,
		// "max 2 tracking categories per line" and "aim for about 50
		// elements per request" (§1.2, §1.6).
		TrackingDimensions: 2,
		LineTracking:       true,
		MaxBatch:           50,
		// "native apps use PKCE" (accounting-platform-apis.md §1.1): Xero's
		// identity server takes a challenge from any client, so each
		// connection's code is bound to its own verifier.
		PKCE: true,
	}
}

// OAuthConfig is the authorization-code configuration. Xero web apps
// authenticate to the token endpoint with HTTP Basic (§1.1).
func (c *Connector) OAuthConfig(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: c.authURL, TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  redirectURL,
		Scopes:       append([]string(nil), Scopes...),
	}
}

// Tenants lists the organisations the token may use (GET /connections,
// identity spec).
func (c *Connector) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	var conns []struct {
		TenantID   string `json:"tenantId"`
		TenantName string `json:"tenantName"`
		TenantType string `json:"tenantType"`
	}
	// /connections lists every tenant the user ever connected to the app;
	// the ones this consent connected carry its authentication event,
	// which the access token names (§1.1). A later consent to the same
	// tenant moves its connection to the newer event, and the older token
	// still works there: then the whole list answers.
	if tok, err := ts.Token(); err == nil {
		if ev := authEventID(tok.AccessToken); ev != "" {
			if err := c.getJSON(ctx, ts, "", c.connectionsURL+"?authEventId="+url.QueryEscape(ev), &conns); err != nil {
				return nil, fmt.Errorf("xero: list connections: %w", err)
			}
		}
	}
	if len(conns) == 0 {
		if err := c.getJSON(ctx, ts, "", c.connectionsURL, &conns); err != nil {
			return nil, fmt.Errorf("xero: list connections: %w", err)
		}
	}
	out := make([]connectors.Tenant, 0, len(conns))
	for _, t := range conns {
		// PRACTICE tenants have no accounting data to push to.
		if t.TenantType != "" && t.TenantType != "ORGANISATION" {
			continue
		}
		out = append(out, connectors.Tenant{ID: t.TenantID, Name: t.TenantName})
	}
	return out, nil
}

// authEventID reads the authentication_event_id claim of a Xero access
// token, a JWT; "" when the token is not one. The claims are only read, not
// verified: the token came straight from Xero's token endpoint.
func authEventID(accessToken string) string {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 || len(parts[1]) > 8<<10 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		AuthEventID string `json:"authentication_event_id"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	return claims.AuthEventID
}

// Setup reads the chart of accounts, tax rates and organisation settings
// (§1.3).
func (c *Connector) Setup(ctx context.Context, s connectors.Session) (*connectors.Setup, error) {
	if err := checkSession(s); err != nil {
		return nil, err
	}
	var accounts struct {
		Accounts []struct {
			AccountID, Code, Name, Type, Class, Status string
			SystemAccount, CurrencyCode                string
			EnablePaymentsToAccount                    bool
		}
	}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/Accounts", &accounts); err != nil {
		return nil, fmt.Errorf("xero: read accounts: %w", err)
	}
	var taxRates struct {
		TaxRates []struct {
			Name, TaxType, Status string
			EffectiveRate         json.Number
		}
	}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/TaxRates", &taxRates); err != nil {
		return nil, fmt.Errorf("xero: read tax rates: %w", err)
	}
	var orgs struct {
		Organisations []struct {
			BaseCurrency, PeriodLockDate, EndOfYearLockDate string
		}
	}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/Organisation", &orgs); err != nil {
		return nil, fmt.Errorf("xero: read organisation: %w", err)
	}
	if len(orgs.Organisations) == 0 {
		return nil, &connectors.Error{Class: connectors.Fatal, Message: "xero: /Organisation returned no organisation"}
	}
	var contacts struct {
		Contacts []struct{ ContactID, Name string }
	}
	q := url.Values{"where": {`ContactStatus=="ACTIVE"`}}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/Contacts?"+q.Encode(), &contacts); err != nil {
		return nil, fmt.Errorf("xero: read contacts: %w", err)
	}
	var currencies struct{ Currencies []struct{ Code string } }
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/Currencies", &currencies); err != nil {
		return nil, fmt.Errorf("xero: read currencies: %w", err)
	}
	var tracking struct {
		TrackingCategories []struct {
			TrackingCategoryID, Name string
			Options                  []struct{ TrackingOptionID, Name string }
		}
	}
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/TrackingCategories", &tracking); err != nil {
		return nil, fmt.Errorf("xero: read tracking categories: %w", err)
	}
	org := orgs.Organisations[0]
	setup := &connectors.Setup{BaseCurrency: org.BaseCurrency, Currencies: []string{org.BaseCurrency}}
	// /Currencies lists the currencies enabled for the organisation (§1.3).
	for _, cur := range currencies.Currencies {
		if cur.Code != "" && !slices.Contains(setup.Currencies, cur.Code) {
			setup.Currencies = append(setup.Currencies, cur.Code)
		}
	}
	for _, tc := range tracking.TrackingCategories {
		cat := connectors.TrackingCategory{ID: tc.TrackingCategoryID, Name: tc.Name}
		for _, op := range tc.Options {
			cat.Options = append(cat.Options, connectors.Option{ID: op.TrackingOptionID, Name: op.Name})
		}
		setup.Tracking = append(setup.Tracking, cat)
	}
	// Xero sets IsCustomer and IsSupplier only once a contact has a
	// document, so every active contact is offered for either role.
	for _, ct := range contacts.Contacts {
		setup.Contacts = append(setup.Contacts, connectors.Contact{ID: ct.ContactID, Name: ct.Name, Customer: true, Supplier: true})
	}
	for _, a := range accounts.Accounts {
		setup.Accounts = append(setup.Accounts, connectors.Account{
			ID: a.AccountID, Code: a.Code, Name: a.Name, Type: a.Type, Class: a.Class, Status: a.Status,
			Bank: a.Type == "BANK", System: a.SystemAccount != "", EnablePayments: a.EnablePaymentsToAccount,
			Currency: a.CurrencyCode,
		})
	}
	for _, t := range taxRates.TaxRates {
		// Xero identifies a tax rate by its TaxType.
		setup.TaxRates = append(setup.TaxRates, connectors.TaxRate{ID: t.TaxType, Name: t.Name, Status: t.Status, Rate: t.EffectiveRate.String()})
	}
	// The end-of-year lock applies to every user, the period lock to all
	// but advisers; a push must clear both, so the later one is the lock.
	for _, raw := range []string{org.PeriodLockDate, org.EndOfYearLockDate} {
		if raw == "" {
			continue
		}
		d, err := parseMSDate(raw)
		if err != nil {
			return nil, &connectors.Error{Class: connectors.Fatal, Message: "xero: unreadable lock date " + raw, Err: err}
		}
		if day := d.Format(time.DateOnly); day > setup.LockDate {
			setup.LockDate = day
		}
	}
	return setup, nil
}

// Push creates the document: a journal as a POSTED manual journal, whose
// narration ends with "[ref.Value]" so Find can locate it once Xero has
// forgotten the idempotency key (6 minutes, §1.4); an invoice-mode
// document on its own route (invoices.go).
func (c *Connector) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, err
	}
	if ref.IdempotencyKey == "" || len(ref.IdempotencyKey) > MaxIdempotencyKeyLen {
		return connectors.Result{}, &connectors.Error{Class: connectors.Fatal, Field: "IdempotencyKey",
			Message: fmt.Sprintf("xero: idempotency key must be 1 to %d characters, got %d", MaxIdempotencyKeyLen, len(ref.IdempotencyKey))}
	}
	if doc != nil && doc.GetType() != "ManualJournal" {
		r, err := routeOf(doc, ref)
		if err != nil {
			return connectors.Result{}, err
		}
		j, ok := r.body.(*commercesyncv1.Document)
		if !ok {
			return c.pushRoute(ctx, s, r, ref)
		}
		doc = j // a transfer between two accounts that are not banks
	}
	body, err := manualJournalBody(doc, ref)
	if err != nil {
		return connectors.Result{}, err
	}
	resp, respBody, err := c.call(ctx, s.Tokens, s.TenantID, http.MethodPut, c.apiBase+"/ManualJournals", body, ref.IdempotencyKey)
	if err != nil {
		return connectors.Result{}, fmt.Errorf("xero: push manual journal %s: %w", ref.Value, err)
	}
	var out manualJournalsResponse
	if err := json.Unmarshal(respBody, &out); err != nil || len(out.ManualJournals) == 0 {
		// A 200 we cannot read leaves the outcome unknown: Find decides.
		return connectors.Result{}, &connectors.Error{Class: connectors.Retryable, Status: resp.StatusCode,
			Message: "xero: unreadable manual journal response; look the document up before retrying", Err: err}
	}
	mj := out.ManualJournals[0]
	if len(mj.ValidationErrors) > 0 {
		return connectors.Result{}, validationError(resp.StatusCode, mj.ValidationErrors[0].Message, mj.Warnings)
	}
	if len(mj.Warnings) > 0 {
		c.log.WarnContext(ctx, "xero accepted a manual journal with warnings", "reference", ref.Value, "journal", mj.ManualJournalID, "warnings", messages(mj.Warnings))
	}
	c.log.DebugContext(ctx, "xero manual journal created", "reference", ref.Value, "journal", mj.ManualJournalID)
	return connectors.Result{ExternalID: mj.ManualJournalID}, nil
}

// Find looks a journal up by the reference in its narration. Deleted and
// voided journals do not count: the document no longer stands in the
// books.
func (c *Connector) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, false, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, false, err
	}
	if d := ref.Document; d != nil && d.GetType() != "ManualJournal" {
		r, err := routeOf(d, ref)
		if err != nil {
			return connectors.Result{}, false, err
		}
		if r.find != nil {
			id, found, err := r.find(ctx, c, s, ref)
			return connectors.Result{ExternalID: id}, found, err
		}
	}
	tag := "[" + ref.Value + "]"
	q := url.Values{"where": {`Narration.Contains("` + tag + `")`}}
	var out manualJournalsResponse
	if err := c.getJSON(ctx, s.Tokens, s.TenantID, c.apiBase+"/ManualJournals?"+q.Encode(), &out); err != nil {
		return connectors.Result{}, false, fmt.Errorf("xero: find manual journal %s: %w", ref.Value, err)
	}
	for _, mj := range out.ManualJournals {
		if !strings.HasSuffix(mj.Narration, tag) || mj.Status == "DELETED" || mj.Status == "VOIDED" {
			continue
		}
		return connectors.Result{ExternalID: mj.ManualJournalID}, true, nil
	}
	return connectors.Result{}, false, nil
}

type manualJournalsResponse struct {
	ManualJournals []struct {
		ManualJournalID  string
		Narration        string
		Status           string
		Warnings         []xeroMessage
		ValidationErrors []xeroMessage
	}
}

type xeroMessage struct{ Message string }

func checkSession(s connectors.Session) error {
	if s.TenantID == "" || s.Tokens == nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "xero: session needs a tenant id and a token source"}
	}
	return nil
}

// checkReference keeps the reference usable inside a quoted where= filter
// and inside the brackets that delimit it in the narration.
func checkReference(ref connectors.Reference) error {
	if ref.Value == "" || len(ref.Value) > MaxReferenceLen || strings.ContainsAny(ref.Value, "\"\\[]\r\n") {
		return &connectors.Error{Class: connectors.Fatal, Field: "Reference",
			Message: fmt.Sprintf("xero: reference %q must be 1 to %d characters without quotes, backslashes, brackets or newlines", ref.Value, MaxReferenceLen)}
	}
	return nil
}

// getJSON GETs u and decodes a successful answer into v.
func (c *Connector) getJSON(ctx context.Context, ts oauth2.TokenSource, tenantID, u string, v any) error {
	_, body, err := c.call(ctx, ts, tenantID, http.MethodGet, u, nil, "")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable Xero response", Err: err}
	}
	return nil
}

// call sends one request and returns a 2xx answer, or a classified error.
// A 401 is retried once after dropping the rejected token, so a token that
// expired early (clock skew, revocation of the access token only) is
// refreshed; the request never reached Xero's handlers, so re-sending it
// cannot duplicate.
func (c *Connector) call(ctx context.Context, ts oauth2.TokenSource, tenantID, method, u string, body []byte, idemKey string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, tok, cerr := connectors.NewAuthorizedRequest(ctx, ts, method, u, body)
		if cerr != nil {
			return nil, nil, cerr
		}
		req.Header.Set("Accept", "application/json")
		if tenantID != "" {
			req.Header.Set("xero-tenant-id", tenantID)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
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
				c.log.DebugContext(ctx, "xero rejected the access token; refreshing once", "tenant", tenantID)
				inv.Invalidate(tok)
				continue
			}
		}
		if e := c.classify(resp, respBody); e != nil {
			return resp, respBody, e
		}
		return resp, respBody, nil
	}
}

// classify maps a non-2xx answer to an error class (§1.5, §1.6).
func (c *Connector) classify(resp *http.Response, body []byte) *connectors.Error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	// X-Rate-Limit-Problem names the limit (minute, day, …); its values are
	// opaque to us (§1.6), so it only goes into the message.
	if e := connectors.TransientStatusError(resp, resp.Header.Get("X-Rate-Limit-Problem"), c.now()); e != nil {
		return e
	}
	switch code {
	case http.StatusBadRequest:
		var xe struct {
			Type     string
			Message  string
			Elements []struct {
				ValidationErrors []xeroMessage
				Warnings         []xeroMessage
			}
		}
		if err := json.Unmarshal(body, &xe); err != nil || xe.Type == "" {
			return &connectors.Error{Class: connectors.Fatal, Status: code, Message: "Xero rejected the request: " + snippet(body)}
		}
		if xe.Type != "ValidationException" {
			return &connectors.Error{Class: connectors.Fatal, Status: code, Message: fmt.Sprintf("Xero %s: %s", xe.Type, xe.Message)}
		}
		for _, el := range xe.Elements {
			if len(el.ValidationErrors) > 0 {
				return validationError(code, el.ValidationErrors[0].Message, el.Warnings)
			}
		}
		return validationError(code, xe.Message, nil)
	case http.StatusUnauthorized:
		return &connectors.Error{Class: connectors.Retryable, Status: code, Message: "Xero rejected the access token after a refresh; retry later"}
	case http.StatusForbidden:
		// §1.5: 403 AuthenticationUnsuccessful is Xero's answer for a tenant
		// this app is no longer connected to, or a user who lost access.
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Deauthorized: true,
			Message: "Xero refused access to this organisation; reconnect Xero (the connection was removed or the user lost access)"}
	}
	return &connectors.Error{Class: connectors.Fatal, Status: code, Message: fmt.Sprintf("Xero answered %d: %s", code, snippet(body))}
}

// validationError classifies a ValidationException. Idempotency-key
// misuse is our bug (the body must be byte-stable, ARCHITECTURE.md "Push"),
// so it is Fatal; everything else is the merchant's data or settings. The
// warnings are added because they often explain the error: a line removed
// for an unknown account code leaves the journal unbalanced.
func validationError(status int, msg string, warnings []xeroMessage) *connectors.Error {
	if strings.HasPrefix(msg, "Idempotency Key ") {
		return &connectors.Error{Class: connectors.Fatal, Status: status, Field: "IdempotencyKey", Message: msg}
	}
	e := &connectors.Error{Class: connectors.MerchantActionable, Status: status, Message: msg, Field: fieldOf(msg)}
	if m := notSubscribed.FindStringSubmatch(msg); m != nil {
		// The plain instruction: the merchant can enable the currency, or
		// have the day converted and posted as a journal.
		e.Message = fmt.Sprintf("%s. Add %s under Settings > Currencies in Xero (a multi-currency plan is needed), "+
			"or set configuration.exchangeRates.%s and configuration.mapSettings.outputFormat to \"JournalEntry\" to post the day converted.",
			strings.TrimSuffix(msg, "."), m[1], m[1])
	}
	if len(warnings) > 0 {
		e.Message += " (" + strings.Join(messages(warnings), "; ") + ")"
	}
	return e
}

// notSubscribed matches both spellings of Xero's currency refusal
// (accounting-platform-apis.md §1.5).
var notSubscribed = regexp.MustCompile(`not subscribed to currency '?([A-Z]{3})'?`)

// fieldOf names the document field a known Xero message is about.
func fieldOf(msg string) string {
	switch {
	case strings.Contains(msg, "lock date"):
		return "Date"
	case strings.HasPrefix(msg, "Account code"), strings.HasPrefix(msg, "Account ID"):
		return "AccountCode"
	case strings.HasPrefix(msg, "The total debits"):
		return "Lines"
	case strings.HasPrefix(msg, "Narration"):
		return "Narration"
	case notSubscribed.MatchString(msg):
		return "CurrencyCode"
	case strings.HasPrefix(msg, "Payment amount exceeds"):
		return "Amount"
	}
	return ""
}

func messages(ms []xeroMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Message
	}
	return out
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// parseMSDate reads "/Date(1546214400000+0000)/" (§1.7).
func parseMSDate(s string) (time.Time, error) {
	inner, ok := strings.CutPrefix(s, "/Date(")
	if !ok {
		return time.Time{}, fmt.Errorf("not an MS date: %q", s)
	}
	inner, ok = strings.CutSuffix(inner, ")/")
	if !ok {
		return time.Time{}, fmt.Errorf("not an MS date: %q", s)
	}
	if i := strings.IndexAny(inner[1:], "+-"); i >= 0 {
		inner = inner[:i+1]
	}
	var ms int64
	if _, err := fmt.Sscan(inner, &ms); err != nil {
		return time.Time{}, fmt.Errorf("MS date %q: %w", s, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}
