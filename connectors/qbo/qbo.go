// Package qbo is the QuickBooks Online connector: OAuth 2.0 through
// Intuit, the merchant's setup from the Accounting API v3, and daily
// documents pushed as journal entries (journal mode) or as invoices,
// payments, credit memos, bills and their kin (invoice mode, invoices.go),
// each with a requestid for idempotency and a DocNumber or a tagged
// PrivateNote for later look-up (ARCHITECTURE.md "Push";
// accounting-platform-apis.md §2).
//
// Tenant selection: QuickBooks names the company (realmId) only on the
// OAuth redirect (…/callback?code=…&state=…&realmId=…); the token response
// does not carry it (§2.1). The gateway reads it with TenantFromCallback.
// Tenants answers what it can without the redirect: the company of a token
// marked with WithRealmID, otherwise nothing.
package qbo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Production endpoints (§2.1, §0).
const (
	DefaultAuthURL   = "https://appcenter.intuit.com/connect/oauth2"
	DefaultTokenURL  = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
	DefaultRevokeURL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
	DefaultAPIBase   = "https://quickbooks.api.intuit.com"
	// IntuitSandboxAPIBase is Intuit's own development sandbox; pass it to
	// WithAPIBase for a developer sandbox company.
	IntuitSandboxAPIBase = "https://sandbox-quickbooks.api.intuit.com"
)

// MinorVersion is sent on every API call (§2.1: since 1 Aug 2025 values
// below 75 are ignored; send ?minorversion=75).
const MinorVersion = "75"

// Scopes requested on connect (§2.1). QuickBooks issues a refresh token
// without an extra scope.
var Scopes = []string{"com.intuit.quickbooks.accounting"}

// Platform limits (§2.2, §2.4, §2.6).
const (
	// MaxRequestIDLen is the requestid limit (§2.4: "Max 50 chars").
	MaxRequestIDLen = 50
	// MaxDocNumberLen and MaxPrivateNoteLen are JournalEntry field limits
	// (§2.2: "DocNumber ≤ 21 chars, PrivateNote ≤ 4000 chars").
	MaxDocNumberLen   = 21
	MaxPrivateNoteLen = 4000
	// RequestsPerMinute and MaxConcurrent are per realm and app (§2.6).
	RequestsPerMinute = 500
	MaxConcurrent     = 10
	// RequestsPerSecond is the third published limit (§2.6).
	RequestsPerSecond = 10
	// MaxBatchItems is Intuit batch's limit: "≤30 items per request"
	// (§2.6).
	MaxBatchItems = 30
	// TrackingDimensions: a line carries a ClassRef and a DepartmentRef
	// (§2.2, §2.3).
	TrackingDimensions = 2
)

// maxReferenceLen bounds the references Push and Find accept. The whole
// reference travels in PrivateNote; DocNumber carries it, or a derivation
// of it, within 21 characters (DocNumber).
const maxReferenceLen = 200

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

// WithRevokeURL overrides the revocation endpoint.
func WithRevokeURL(u string) Option { return func(c *Connector) { c.revokeURL = u } }

// WithAPIBase overrides the Accounting API host (the part before
// /v3/company/{realmId}).
func WithAPIBase(u string) Option {
	return func(c *Connector) { c.apiBase = strings.TrimRight(u, "/") }
}

// WithSandboxBase points every endpoint at a commercesync sandbox served at
// base (package sandbox: /connect/oauth2, /oauth2/v1/tokens/bearer,
// /v2/oauth2/tokens/revoke, /v3/company/…).
func WithSandboxBase(base string) Option {
	base = strings.TrimRight(base, "/")
	return func(c *Connector) {
		c.authURL = base + "/connect/oauth2"
		c.tokenURL = base + "/oauth2/v1/tokens/bearer"
		c.revokeURL = base + "/v2/oauth2/tokens/revoke"
		c.apiBase = base
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

// Connector implements connectors.Connector for QuickBooks Online.
type Connector struct {
	clientID, clientSecret                string
	authURL, tokenURL, revokeURL, apiBase string
	hc                                    *http.Client
	log                                   *slog.Logger
	now                                   func() time.Time

	// countries caches CompanyInfo.Country per realm: it decides whether a
	// body carries GlobalTaxCalculation (§2.2) and never changes.
	mu        sync.Mutex
	countries map[string]string
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a QuickBooks Online connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		authURL: DefaultAuthURL, tokenURL: DefaultTokenURL, revokeURL: DefaultRevokeURL, apiBase: DefaultAPIBase,
		log: slog.Default(), now: time.Now, countries: map[string]string{},
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
func (c *Connector) Key() string { return "qbo" }

// Name is the platform's display name.
func (c *Connector) Name() string { return "QuickBooks Online" }

// Capabilities reports journal and invoice mode with QuickBooks' limits.
//
//   - Invoice mode follows Codat's QuickBooks specification
//     (codat-sync-for-commerce.md §3.2; see invoices.go).
//   - Journal entries may use bank accounts; lines on Accounts Receivable
//     and Accounts Payable need a customer or vendor (§2.2), which journal
//     mode does not send, so those are reported as system accounts that
//     journals cannot use.
//   - MaxIdempotencyKeyLen (50, §2.4) and MaxReferenceLen (21, DocNumber
//     §2.2) are the platform's field limits: values within them are sent
//     verbatim. Longer ones are still accepted (references up to 200
//     characters) and mapped deterministically into the limits (see
//     RequestID and DocNumber), so the planner's 23-character references
//     work unchanged.
//   - RequestsPerSecond (10), RequestsPerMinute and MaxConcurrent are per
//     realm and app (§2.6); a throttled answer carries RetryAfter.
//     No hourly limit is published, so RequestsPerHour stays 0 (§2.6 gives
//     per-second, per-minute and, for reads on the free tier, monthly
//     limits).
//   - TrackingDimensions is 2: class and department (location); a
//     document's tracking rides on its transactions where QuickBooks takes
//     it (LineTracking; see tracking.go).
//   - MaxBatch is Intuit batch's 30 items per request (§2.6). Push itself
//     sends one document per request; Setup batches its reads.
func (c *Connector) Capabilities() connectors.Capabilities {
	return connectors.Capabilities{
		JournalMode:                  true,
		InvoiceMode:                  true,
		JournalForbidsBankAccounts:   false,
		JournalForbidsSystemAccounts: true,
		MaxIdempotencyKeyLen:         MaxRequestIDLen,
		MaxReferenceLen:              MaxDocNumberLen,
		IdempotencyKind:              "query",
		RequestsPerSecond:            RequestsPerSecond,
		RequestsPerMinute:            RequestsPerMinute,
		MaxConcurrent:                MaxConcurrent,
		TrackingDimensions:           TrackingDimensions,
		LineTracking:                 true,
		MaxBatch:                     MaxBatchItems,
		// accounting-platform-apis.md §2.1 documents Intuit's authorization
		// code flow without PKCE, so no challenge is sent.
		PKCE: false,
	}
}

// OAuthConfig is the authorization-code configuration; Intuit's token
// endpoint takes the client credentials by HTTP Basic (§2.1).
func (c *Connector) OAuthConfig(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: c.authURL, TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  redirectURL,
		Scopes:       append([]string(nil), Scopes...),
	}
}

// TenantFromCallback reads the company the merchant chose from the OAuth
// redirect's query (realmId, §2.1). The name is not on the redirect: call
// Tenant with the exchanged token to read it. ok is false when the query
// has no usable realmId.
func (c *Connector) TenantFromCallback(q url.Values) (connectors.Tenant, bool) {
	realm := q.Get("realmId")
	if !validRealm(realm) {
		return connectors.Tenant{}, false
	}
	return connectors.Tenant{ID: realm}, true
}

// realmExtra is the token extra WithRealmID sets.
const realmExtra = "realmId"

// WithRealmID returns a copy of tok that remembers the company it was
// granted for, so Tenants can name it. The token response keys QuickBooks
// sends besides the tokens (§2.1) are kept.
func WithRealmID(tok *oauth2.Token, realmID string) *oauth2.Token {
	extra := map[string]any{realmExtra: realmID}
	for _, k := range []string{"token_type", "expires_in", "x_refresh_token_expires_in", "id_token"} {
		if v := tok.Extra(k); v != nil {
			extra[k] = v
		}
	}
	return tok.WithExtra(extra)
}

// RealmIDOf returns the realm WithRealmID put on tok, or "".
func RealmIDOf(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	s, _ := tok.Extra(realmExtra).(string)
	return s
}

// Tenants answers what it can without the redirect: QuickBooks has no
// endpoint listing the companies a token may use, so a token without a
// realm (see WithRealmID) gives an empty list and no error; a token with
// one gives that company, named from CompanyInfo.
func (c *Connector) Tenants(ctx context.Context, ts oauth2.TokenSource) ([]connectors.Tenant, error) {
	tok, err := ts.Token()
	if err != nil {
		return nil, connectors.Classify(fmt.Errorf("qbo: get access token: %w", err))
	}
	realm := RealmIDOf(tok)
	if realm == "" {
		return []connectors.Tenant{}, nil
	}
	t, err := c.Tenant(ctx, ts, realm)
	if err != nil {
		return nil, err
	}
	return []connectors.Tenant{t}, nil
}

// Tenant names a known company from CompanyInfo (§2.3).
func (c *Connector) Tenant(ctx context.Context, ts oauth2.TokenSource, realmID string) (connectors.Tenant, error) {
	info, err := c.companyInfo(ctx, connectors.Session{TenantID: realmID, Tokens: ts})
	if err != nil {
		return connectors.Tenant{}, err
	}
	return connectors.Tenant{ID: realmID, Name: info.CompanyName}, nil
}

type companyInfo struct {
	CompanyName, LegalName, Country string
}

func (c *Connector) companyInfo(ctx context.Context, s connectors.Session) (companyInfo, error) {
	if err := checkSession(s); err != nil {
		return companyInfo{}, err
	}
	var out struct{ CompanyInfo companyInfo }
	if err := c.getJSON(ctx, s, "companyinfo/"+url.PathEscape(s.TenantID), nil, &out); err != nil {
		return companyInfo{}, fmt.Errorf("qbo: read company info: %w", err)
	}
	c.mu.Lock()
	c.countries[s.TenantID] = out.CompanyInfo.Country
	c.mu.Unlock()
	return out.CompanyInfo, nil
}

// country returns the company's country, reading CompanyInfo once per
// realm and process.
func (c *Connector) country(ctx context.Context, s connectors.Session) (string, error) {
	c.mu.Lock()
	cc, ok := c.countries[s.TenantID]
	c.mu.Unlock()
	if ok {
		return cc, nil
	}
	info, err := c.companyInfo(ctx, s)
	return info.Country, err
}

// Push creates the document. Invoice-mode documents go their own routes
// (pushInvoice). Journal mode sends a JournalEntry (§2.2):
// POST /v3/company/{realm}/journalentry?minorversion=75&requestid=…, so a
// retry while QuickBooks remembers the requestid replays the first answer
// (§2.4). The DocNumber and the "[reference]" ending of PrivateNote let
// Find locate the entry afterwards. When the company refuses duplicate
// numbers (6140) and the holder of the number is this document, the push
// resolves to it instead of failing.
func (c *Connector) Push(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, err
	}
	if ref.IdempotencyKey == "" {
		return connectors.Result{}, &connectors.Error{Class: connectors.Fatal, Field: "IdempotencyKey", Message: "qbo: an idempotency key is required"}
	}
	if doc.GetType() != "ManualJournal" {
		return c.pushInvoice(ctx, s, doc, ref)
	}
	k := kinds[doc.GetType()]
	country, err := c.country(ctx, s)
	if err != nil {
		return connectors.Result{}, err
	}
	accounts, err := c.resolveCodes(ctx, s, doc)
	if err != nil {
		return connectors.Result{}, err
	}
	track, err := c.tracking(ctx, s, doc)
	if err != nil {
		return connectors.Result{}, err
	}
	body, err := k.build(doc, ref, company{country: country, accountByCode: accounts, track: track})
	if err != nil {
		return connectors.Result{}, err
	}
	id, err := c.create(ctx, s, entity{k.entity, k.name}, json.RawMessage(body), RequestID(ref.IdempotencyKey))
	if err != nil {
		switch faultCode(err) {
		case "6140":
			// Our DocNumber is taken: by this document (pushed before and
			// forgotten by the requestid store), or by another transaction.
			if res, found, ferr := c.findIn(ctx, s, ref, k); ferr == nil && found {
				c.log.InfoContext(ctx, "qbo document already present under its number", "reference", ref.Value, "id", res.ExternalID)
				return res, nil
			}
		case "610":
			err = c.nameInactive(ctx, s, doc, accounts, track, err)
		}
		return connectors.Result{}, fmt.Errorf("qbo: push %s %s: %w", k.name, ref.Value, err)
	}
	c.log.DebugContext(ctx, "qbo document created", "reference", ref.Value, "entity", k.name, "id", id)
	return connectors.Result{ExternalID: id}, nil
}

// Find looks the document up by its DocNumber (a queryable field, unlike
// PrivateNote; §2.4 "Further dedupe: DocNumber … query before create") and
// confirms it by the "[reference]" ending of PrivateNote. An invoice-mode
// document (ref.Document) is searched where its type stands
// (findInvoice); otherwise the journal entries are.
func (c *Connector) Find(ctx context.Context, s connectors.Session, ref connectors.Reference) (connectors.Result, bool, error) {
	if err := checkSession(s); err != nil {
		return connectors.Result{}, false, err
	}
	if err := checkReference(ref); err != nil {
		return connectors.Result{}, false, err
	}
	if d := ref.Document; d != nil && d.GetType() != "ManualJournal" {
		return c.findInvoice(ctx, s, ref)
	}
	for _, name := range kindOrder {
		res, found, err := c.findIn(ctx, s, ref, kinds[name])
		if err != nil || found {
			return res, found, err
		}
	}
	return connectors.Result{}, false, nil
}

func (c *Connector) findIn(ctx context.Context, s connectors.Session, ref connectors.Reference, k kind) (connectors.Result, bool, error) {
	id, found, err := c.lookUp(ctx, s, lookup{entity{k.entity, k.name}, true}, ref, "")
	return connectors.Result{ExternalID: id}, found, err
}

func faultCode(err error) string {
	if f := faultOf(err); f != nil {
		return f.Code()
	}
	return ""
}

// nameInactive adds to a 610 refusal which of the document's accounts,
// and of the class and department it carries, are inactive: QuickBooks'
// message says only "Something you're trying to use has been made
// inactive" (§2.5), and the merchant has to know what to reactivate or
// re-map. The look-ups travel in one batch. The classification stays; if
// the look-up fails, or finds nothing inactive, the refusal is returned as
// it was.
func (c *Connector) nameInactive(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document, byCode map[string]string, track lineTracking, err error) error {
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok {
		return err
	}
	var ids []string
	for _, l := range docLines(doc) {
		id := l.GetAccountId()
		if id == "" {
			id = byCode[l.GetAccountCode()]
		}
		if numericID(id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	inactiveIn := func(ids ...string) string {
		return "where Id IN ('" + strings.Join(ids, "', '") + "') AND Active = false"
	}
	type named struct {
		ID                       string `json:"Id"`
		Name, FullyQualifiedName string
		AcctNum                  string
	}
	var accounts, classes, departments []named
	var qs []listQuery
	if len(ids) > 0 {
		qs = append(qs, listQuery{"Account", inactiveIn(ids...), &accounts})
	}
	if track.class != "" {
		qs = append(qs, listQuery{"Class", inactiveIn(track.class), &classes})
	}
	if track.department != "" {
		qs = append(qs, listQuery{"Department", inactiveIn(track.department), &departments})
	}
	if len(qs) == 0 || c.readLists(ctx, s, qs) != nil {
		return err
	}
	var names []string
	for _, a := range accounts {
		n := fmt.Sprintf("account %q (id %s)", a.Name, a.ID)
		if a.AcctNum != "" {
			n = fmt.Sprintf("account %s %q (id %s)", a.AcctNum, a.Name, a.ID)
		}
		names = append(names, n)
	}
	for _, cl := range classes {
		names = append(names, fmt.Sprintf("class %q (id %s)", fullName(cl.FullyQualifiedName, cl.Name), cl.ID))
	}
	for _, d := range departments {
		names = append(names, fmt.Sprintf("%s %q (id %s)", strings.ToLower(track.departmentWord), fullName(d.FullyQualifiedName, d.Name), d.ID))
	}
	if len(names) == 0 {
		return err
	}
	out := *ce
	out.Message = fmt.Sprintf("%s Inactive in QuickBooks: %s.", ce.Message, strings.Join(names, ", "))
	if len(accounts) == 0 {
		out.Field = "Tracking"
	}
	return &out
}

// docLines are every line of a document that names an account: its
// lines, then the money and destination lines of invoice mode.
func docLines(doc *commercesyncv1.Document) []*commercesyncv1.DocumentLine {
	out := append([]*commercesyncv1.DocumentLine(nil), doc.GetLines()...)
	for _, l := range []*commercesyncv1.DocumentLine{doc.GetMoney(), doc.GetTo()} {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

// lineField names the i-th of docLines in errors.
func lineField(doc *commercesyncv1.Document, i int) string {
	n := len(doc.GetLines())
	switch {
	case i < n:
		return fmt.Sprintf("Lines[%d]", i)
	case i == n && doc.GetMoney() != nil:
		return "Money"
	}
	return "To"
}

// resolveCodes maps the account numbers (AcctNum) of lines that carry no
// account id to ids, one query per number. The planner always sets ids;
// this serves documents built by hand.
func (c *Connector) resolveCodes(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document) (map[string]string, error) {
	out := map[string]string{}
	for i, l := range docLines(doc) {
		code := l.GetAccountCode()
		if l.GetAccountId() != "" || code == "" {
			continue
		}
		if _, done := out[code]; done {
			continue
		}
		if strings.ContainsAny(code, `'"\`) {
			return nil, &connectors.Error{Class: connectors.Fatal, Field: lineField(doc, i) + ".AccountCode", Message: fmt.Sprintf("qbo: account code %q has quotes", code)}
		}
		var accts []struct {
			ID string `json:"Id"`
		}
		if err := c.queryAll(ctx, s, "Account", fmt.Sprintf("where AcctNum = '%s'", code), &accts); err != nil {
			return nil, fmt.Errorf("qbo: resolve account number %s: %w", code, err)
		}
		if len(accts) == 0 {
			return nil, &connectors.Error{Class: connectors.MerchantActionable, Field: lineField(doc, i) + ".AccountCode",
				Message: fmt.Sprintf("QuickBooks has no account numbered %s; choose another account in the mapping", code)}
		}
		out[code] = accts[0].ID
	}
	return out, nil
}

func checkSession(s connectors.Session) error {
	if !validRealm(s.TenantID) || s.Tokens == nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "qbo: session needs a realm id and a token source"}
	}
	return nil
}

// validRealm accepts QuickBooks company ids: digits only.
func validRealm(r string) bool { return numericID(r) }

// numericID accepts QuickBooks ids (realms, entities): 1 to 32 digits.
func numericID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

// checkReference keeps the reference usable inside a quoted query and
// inside the brackets that end PrivateNote.
func checkReference(ref connectors.Reference) error {
	if ref.Value == "" || len(ref.Value) > maxReferenceLen || strings.ContainsAny(ref.Value, "'\"\\[]\r\n") {
		return &connectors.Error{Class: connectors.Fatal, Field: "Reference",
			Message: fmt.Sprintf("qbo: reference %q must be 1 to %d characters without quotes, backslashes, brackets or newlines", ref.Value, maxReferenceLen)}
	}
	return nil
}
