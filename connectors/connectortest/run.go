package connectortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/sandboxkit"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Run runs the conformance suite against h: one subtest per check, each on
// a fresh sandbox whose time is a sandboxkit.Clock stopped at StartTime, then the
// opt-in real-API check (see RealCredentials). A check is skipped only when
// the Env control it needs is nil (the platform cannot have that fault) or
// the connector's Capabilities rule it out (PKCE, invoice mode), and Run ends by logging which checks ran, failed and were skipped, with
// the reasons (shown with -v, or when a check fails).
//
// The checks, in order:
//
//	authorize                      consent → code → token (with a refresh token) → tenants → setup:
//	                               base currency first among the currencies, the Debit/Credit/Archived
//	                               accounts, contacts and tracking options with ids
//	pkce                           where Capabilities().PKCE: a code asked for with one verifier's
//	                               challenge is refused (invalid_grant) with another verifier or none,
//	                               and exchanged with its own
//	push-twice                     a balanced journal; the same push again gives the same id and
//	                               still one journal; Find finds it, and not an unknown reference
//	dropped-response-retry         the answer to a committed push is lost: Retryable (or a
//	                               transparent success); the retry gives one journal
//	dropped-response-after-memory  the same, then the platform forgets the idempotency key: the
//	                               worker's look-up-first finds the journal; no re-push
//	throttled                      a spent quota gives Throttled (with RetryAfter when the
//	                               platform sends one) for reads and writes, and nothing posted
//	archived-account               MerchantActionable, with a message naming the account
//	expired-token                  the connector refreshes through NewPersistingTokenSource; the
//	                               rotated token was saved, and a restart from it works
//	locked-period                  a journal dated in the locked period is MerchantActionable;
//	                               the day after the lock posts
//	unbalanced                     MerchantActionable from the platform, or Fatal before sending
//	currency-not-enabled           a journal (or, with Env.DisabledOnInvoices, a sales invoice) in
//	                               Env.Disabled is MerchantActionable
//	invoice-mode                   where Capabilities().InvoiceMode: an invoice and its payment, each
//	                               pushed twice for one id and found; a second payment refused
//	access                         the start-of-process access check passes on a working connection, is
//	                               not Deauthorized when throttled, and is Deauthorized on a sandbox
//	                               that never issued the connection's tokens
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Name == "" || h.Start == nil {
		t.Fatal("connectortest: the Harness needs a Name and a Start function")
	}
	s := &suite{h: h, reasons: map[string]string{}}
	for _, c := range checks {
		s.do(t, c.name, func(t *testing.T) { c.run(s.start(t)) })
	}
	s.do(t, "real-api", s.realAPI)
	s.summarize(t)
}

var checks = []struct {
	name string
	run  func(*run)
}{
	{"authorize", checkAuthorize},
	{"pkce", checkPKCE},
	{"push-twice", checkPushTwice},
	{"dropped-response-retry", checkDroppedResponseRetry},
	{"dropped-response-after-memory", checkDroppedResponseAfterMemory},
	{"throttled", checkThrottled},
	{"archived-account", checkArchivedAccount},
	{"expired-token", checkExpiredToken},
	{"locked-period", checkLockedPeriod},
	{"unbalanced", checkUnbalanced},
	{"currency-not-enabled", checkCurrencyNotEnabled},
	{"invoice-mode", checkInvoiceMode},
	{"access", checkAccess},
}

type suite struct {
	h Harness

	mu      sync.Mutex
	reasons map[string]string // skip reasons by test name
	results []outcome
}

type outcome struct{ name, status, reason string }

// do runs one check as a subtest and records how it ended.
func (s *suite) do(t *testing.T, name string, f func(*testing.T)) {
	t.Run(name, func(t *testing.T) {
		defer func() {
			o := outcome{name: name, status: "passed"}
			switch {
			case t.Skipped():
				o.status = "skipped"
				s.mu.Lock()
				o.reason = s.reasons[t.Name()]
				s.mu.Unlock()
			case t.Failed():
				o.status = "FAILED"
			}
			s.mu.Lock()
			s.results = append(s.results, o)
			s.mu.Unlock()
		}()
		f(t)
	})
}

// skip records why a check does not apply and skips it.
func (s *suite) skip(t *testing.T, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.reasons[t.Name()] = reason
	s.mu.Unlock()
	t.Skip(reason)
}

func (s *suite) summarize(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := map[string]int{}
	var b strings.Builder
	for _, o := range s.results {
		count[o.status]++
		if o.status != "passed" {
			fmt.Fprintf(&b, "\n  %-30s %s", o.name, o.status)
			if o.reason != "" {
				b.WriteString(": " + strings.TrimPrefix(o.reason, "skipped: "))
			}
		}
	}
	t.Logf("conformance %s: %d checks, %d passed, %d failed, %d skipped%s",
		s.h.Name, len(s.results), count["passed"], count["FAILED"], count["skipped"], b.String())
}

// run is one check's fresh sandbox, clock and connection.
type run struct {
	t     *testing.T
	s     *suite
	env   *Env
	conn  connectors.Connector
	caps  connectors.Capabilities
	clock *sandboxkit.Clock
	ctx   context.Context

	cfg   *oauth2.Config
	first *oauth2.Token
	sess  connectors.Session
	setup *connectors.Setup

	mu    sync.Mutex
	saved []*oauth2.Token
}

func (s *suite) start(t *testing.T) *run {
	t.Helper()
	clock := sandboxkit.NewClock(StartTime)
	env := s.h.Start(t, clock)
	switch {
	case env == nil || env.Connector == nil:
		t.Fatalf("%s harness: Start returned no connector", s.h.Name)
	case env.Consent == nil || env.Journals == nil || env.RedirectURL == "":
		t.Fatalf("%s harness: Env needs Consent, Journals and RedirectURL", s.h.Name)
	case env.Currency == "" || env.Debit == (Account{}) || env.Credit == (Account{}) || env.Archived == (Account{}):
		t.Fatalf("%s harness: Env needs Currency and the Debit, Credit and Archived accounts", s.h.Name)
	}
	// The token endpoint is reached with the client the oauth2 package
	// finds in the context, as the gateway and the push worker do.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return &run{
		t: t, s: s, env: env, conn: env.Connector, caps: env.Connector.Capabilities(), clock: clock,
		ctx: context.WithValue(t.Context(), oauth2.HTTPClient, hc),
	}
}

// authorize connects the way the merchant flow does and reads the setup,
// checking each step.
func (r *run) authorize() {
	t := r.t
	t.Helper()
	r.cfg = r.conn.OAuthConfig(r.env.RedirectURL)
	// As the gateway does: a PKCE verifier where the platform takes one.
	verifier := connectors.NewVerifier(r.conn)
	q := r.consent(verifier)
	tok, err := connectors.Exchange(r.ctx, r.cfg, q.Get("code"), verifier)
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("the token exchange gave access token %t, refresh token %t: a background sync needs both",
			tok.AccessToken != "", tok.RefreshToken != "")
	}
	r.first = tok
	ts := connectors.NewPersistingTokenSource(r.ctx, r.cfg, tok, r.save)
	// As the gateway does: a platform that names the tenant on the redirect
	// (QuickBooks Online's realmId) is asked first.
	var tenants []connectors.Tenant
	if ct, ok := r.conn.(connectors.CallbackTenanter); ok {
		if tn, ok := ct.TenantFromCallback(q); ok {
			tenants = append(tenants, tn)
		}
	}
	if len(tenants) == 0 {
		if tenants, err = r.conn.Tenants(r.ctx, ts); err != nil {
			t.Fatalf("tenants: %v", err)
		}
	}
	if len(tenants) == 0 || tenants[0].ID == "" {
		t.Fatalf("tenants: %+v, want at least one with an id", tenants)
	}
	r.sess = connectors.Session{TenantID: tenants[0].ID, Tokens: ts}
	r.setup = r.readSetup()
}

// consent asks for a code with a fresh state (and verifier's challenge, if
// any) and returns the platform's redirect query, checking it.
func (r *run) consent(verifier string) url.Values {
	t := r.t
	t.Helper()
	state := randomHex(16)
	loc, err := r.env.Consent(r.ctx, connectors.AuthCodeURL(r.cfg, state, verifier))
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("the platform redirected with error=%s (%s)", e, q.Get("error_description"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != r.env.RedirectURL {
		t.Fatalf("redirected to %s, want the redirect URL %s", got, r.env.RedirectURL)
	}
	if q.Get("state") != state {
		t.Fatalf("state %q came back as %q", state, q.Get("state"))
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in the redirect %s", loc.Redacted())
	}
	return q
}

func (r *run) save(_ context.Context, tok *oauth2.Token) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved = append(r.saved, tok)
	return nil
}

func (r *run) savedTokens() []*oauth2.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.saved)
}

func (r *run) readSetup() *connectors.Setup {
	t := r.t
	t.Helper()
	setup, err := r.conn.Setup(r.ctx, r.sess)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup == nil {
		t.Fatal("setup: nil")
	}
	return setup
}

// account finds a in the setup by id or code; both must agree when the
// Env gives both.
func (r *run) account(setup *connectors.Setup, label string, a Account) connectors.Account {
	r.t.Helper()
	for _, got := range setup.Accounts {
		idMatch := a.ID != "" && got.ID == a.ID
		codeMatch := a.Code != "" && got.Code == a.Code
		if !idMatch && !codeMatch {
			continue
		}
		if (a.ID != "" && !idMatch) || (a.Code != "" && !codeMatch) {
			r.t.Fatalf("the %s account %+v is id %q, code %q in the setup", label, a, got.ID, got.Code)
		}
		return got
	}
	r.t.Fatalf("the setup's %d accounts do not include the %s account %+v", len(setup.Accounts), label, a)
	return connectors.Account{}
}

type docLine struct {
	acct   Account
	amount string
}

// journal is a ManualJournal document dated date, in currency, with
// 2-dp signed amounts (+ debit, − credit).
func (r *run) journal(date, currency string, lines ...docLine) *commercesyncv1.Document {
	doc := &commercesyncv1.Document{
		Type: "ManualJournal", Date: date, Currency: currency,
		Narration: "commercesync conformance " + r.s.h.Name + " " + date,
	}
	for i, l := range lines {
		doc.Lines = append(doc.Lines, &commercesyncv1.DocumentLine{
			AccountId: l.acct.ID, AccountCode: l.acct.Code, Amount: l.amount,
			Description: fmt.Sprintf("conformance line %d", i+1), SemanticAccount: fmt.Sprintf("conformance-%d", i+1),
		})
	}
	return doc
}

// balanced is the suite's standard 2-line journal in the base currency.
func (r *run) balanced(date string) *commercesyncv1.Document {
	return r.journal(date, r.env.Currency, docLine{r.env.Debit, "12.34"}, docLine{r.env.Credit, "-12.34"})
}

// day is the business day offset days from the clock's today.
func (r *run) day(offset int) string {
	return r.clock.Now().UTC().AddDate(0, 0, offset).Format(time.DateOnly)
}

// ref is a fresh reference within the connector's limits: the value is
// short and made of [a-z0-9-], the key is 32 hexadecimal characters (Sage
// wants exactly that; QBO takes 50, Xero 128).
func (r *run) ref(label string) connectors.Reference {
	return newReference(r.caps, label)
}

func newReference(caps connectors.Capabilities, label string) connectors.Reference {
	v := "cs-" + label + "-" + randomHex(4)
	if n := caps.MaxReferenceLen; n > 0 && len(v) > n {
		v = v[len(v)-n:]
	}
	key := randomHex(16)
	if n := caps.MaxIdempotencyKeyLen; n > 0 && len(key) > n {
		key = key[:n]
	}
	return connectors.Reference{Value: v, IdempotencyKey: key}
}

// push pushes and classifies the error the way the push worker does.
func (r *run) push(doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, *connectors.Error) {
	res, err := r.conn.Push(r.ctx, r.sess, doc, ref)
	return res, connectors.Classify(err)
}

func (r *run) find(ref connectors.Reference) (connectors.Result, bool, *connectors.Error) {
	res, found, err := r.conn.Find(r.ctx, r.sess, ref)
	return res, found, connectors.Classify(err)
}

// expectJournals checks the sandbox's journal count and that each ref is
// among them.
func (r *run) expectJournals(want int, refs ...connectors.Reference) {
	r.t.Helper()
	n, have := r.env.Journals()
	if n != want {
		r.t.Fatalf("the sandbox holds %d journals, want %d", n, want)
	}
	for _, ref := range refs {
		if !have[ref.Value] {
			r.t.Fatalf("no journal carries the reference %q (the sandbox has %v)", ref.Value, keys(have))
		}
	}
}

// expectRefused checks a push was refused with one of the classes, with a
// message, and that nothing was posted.
func (r *run) expectRefused(what string, ce *connectors.Error, res connectors.Result, before int, classes ...connectors.Class) {
	r.t.Helper()
	if ce == nil {
		r.t.Fatalf("%s was accepted (external id %q), want %v", what, res.ExternalID, classes)
	}
	if !slices.Contains(classes, ce.Class) {
		r.t.Fatalf("%s: %v, want class %v", what, ce, classes)
	}
	if strings.TrimSpace(ce.Message) == "" {
		r.t.Fatalf("%s: %s error without a message: %v", what, ce.Class, ce)
	}
	if n, _ := r.env.Journals(); n != before {
		r.t.Fatalf("%s: the sandbox holds %d journals, want %d", what, n, before)
	}
}

// checkPKCE: a code is bound to the verifier whose challenge asked for it,
// which is what keeps one connection's code from linking another.
func checkPKCE(r *run) {
	if !r.caps.PKCE {
		r.s.skip(r.t, "Capabilities().PKCE is false: the platform documents no PKCE")
	}
	t := r.t
	r.cfg = r.conn.OAuthConfig(r.env.RedirectURL)
	refused := func(what, verifier string) {
		t.Helper()
		q := r.consent(oauth2.GenerateVerifier())
		_, err := connectors.Exchange(r.ctx, r.cfg, q.Get("code"), verifier)
		re, ok := errors.AsType[*oauth2.RetrieveError](err)
		if !ok || re.ErrorCode != "invalid_grant" {
			t.Fatalf("a code exchanged %s: %v, want the platform's invalid_grant", what, err)
		}
		if ce := connectors.Classify(err); ce.Class != connectors.MerchantActionable {
			t.Fatalf("a code exchanged %s classifies as %v, want merchant-actionable", what, ce)
		}
	}
	refused("with another request's verifier", oauth2.GenerateVerifier())
	refused("without its verifier", "")
	verifier := oauth2.GenerateVerifier()
	q := r.consent(verifier)
	if tok, err := connectors.Exchange(r.ctx, r.cfg, q.Get("code"), verifier); err != nil || tok.AccessToken == "" {
		t.Fatalf("a code exchanged with its own verifier: %v", err)
	}
}

func checkAuthorize(r *run) {
	t := r.t
	if r.conn.Key() == "" || r.conn.Name() == "" {
		t.Fatalf("the connector needs a Key and a Name: %q %q", r.conn.Key(), r.conn.Name())
	}
	if k := r.caps.IdempotencyKind; !slices.Contains([]string{"", "header", "query", "body"}, k) {
		t.Fatalf("Capabilities().IdempotencyKind %q is not header, query, body or empty", k)
	}
	r.authorize()
	setup := r.setup
	if setup.BaseCurrency != r.env.Currency {
		t.Fatalf("setup base currency %q, want %q", setup.BaseCurrency, r.env.Currency)
	}
	if r.env.Disabled != "" && r.env.Disabled == setup.BaseCurrency {
		t.Fatalf("harness: Env.Disabled %q is the base currency", r.env.Disabled)
	}
	if len(setup.Currencies) == 0 || setup.Currencies[0] != setup.BaseCurrency {
		t.Fatalf("setup currencies %v: want the base currency %s first", setup.Currencies, setup.BaseCurrency)
	}
	if r.env.Disabled != "" && slices.Contains(setup.Currencies, r.env.Disabled) {
		t.Fatalf("setup currencies %v include Env.Disabled %s", setup.Currencies, r.env.Disabled)
	}
	if r.caps.MaxBatch < 1 {
		t.Fatalf("Capabilities().MaxBatch is %d; a connector creates at least one document a request", r.caps.MaxBatch)
	}
	for _, tc := range setup.Tracking {
		for _, o := range tc.Options {
			if tc.ID == "" || o.ID == "" || o.Name == "" {
				t.Fatalf("tracking category %q option %+v: ids and names must be present", tc.Name, o)
			}
		}
	}
	for _, c := range setup.Contacts {
		if c.ID == "" || (!c.Customer && !c.Supplier) {
			t.Fatalf("contact %+v: needs an id and a role", c)
		}
	}
	ids := map[string]bool{}
	for _, a := range setup.Accounts {
		if a.ID == "" || ids[a.ID] {
			t.Fatalf("account ids must be present and unique: %+v", a)
		}
		ids[a.ID] = true
	}
	debit := r.account(setup, "Debit", r.env.Debit)
	credit := r.account(setup, "Credit", r.env.Credit)
	archived := r.account(setup, "Archived", r.env.Archived)
	for _, a := range []connectors.Account{debit, credit} {
		if a.Bank || a.System {
			t.Fatalf("harness: %s (%s) is a bank or system account; journals need two ordinary accounts", a.Code, a.Name)
		}
	}
	if archived.Status == "" || archived.Status == debit.Status {
		t.Fatalf("the archived account's status %q does not set it apart from an active one (%q)", archived.Status, debit.Status)
	}
	if debit.ID == credit.ID {
		t.Fatal("harness: Debit and Credit are the same account")
	}
	t.Logf("%d accounts, %d tax rates, %d contacts, %d tracking categories, currencies %v, lock date %q; archived %s has status %s",
		len(setup.Accounts), len(setup.TaxRates), len(setup.Contacts), len(setup.Tracking), setup.Currencies, setup.LockDate, archived.Code, archived.Status)
}

func checkPushTwice(r *run) {
	t := r.t
	r.authorize()
	doc, ref := r.balanced(r.day(-1)), r.ref("twice")
	if _, found, ce := r.find(ref); ce != nil || found {
		t.Fatalf("find before any push: found %t, err %v", found, ce)
	}
	first, ce := r.push(doc, ref)
	if ce != nil {
		t.Fatalf("push: %v", ce)
	}
	if first.ExternalID == "" {
		t.Fatal("push gave no external id")
	}
	r.expectJournals(1, ref)
	again, ce := r.push(doc, ref)
	if ce != nil {
		t.Fatalf("the same push again: %v", ce)
	}
	if again.ExternalID != first.ExternalID {
		t.Fatalf("the same push again gave %q, the first %q", again.ExternalID, first.ExternalID)
	}
	r.expectJournals(1, ref)
	found, ok, ce := r.find(ref)
	if ce != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("find: %+v found %t err %v, want %q", found, ok, ce, first.ExternalID)
	}
	// A reference never pushed is not found, even one the pushed
	// reference starts with or ends with.
	for _, other := range []connectors.Reference{r.ref("twice"), {Value: ref.Value[:len(ref.Value)-1], IdempotencyKey: ref.IdempotencyKey}} {
		if _, ok, ce := r.find(other); ce != nil || ok {
			t.Fatalf("find %q (never pushed): found %t err %v", other.Value, ok, ce)
		}
	}
}

// dropped pushes after arming a dropped response and returns the outcome,
// which must be Retryable or a success.
func (r *run) dropped(doc *commercesyncv1.Document, ref connectors.Reference) (connectors.Result, *connectors.Error) {
	r.t.Helper()
	r.env.DropNextPushResponse()
	res, ce := r.push(doc, ref)
	switch {
	case ce == nil:
		r.t.Logf("the connector recovered from the dropped response by itself (external id %s)", res.ExternalID)
	case ce.Class == connectors.Retryable:
		r.t.Logf("dropped response: %v", ce)
	default:
		r.t.Fatalf("a dropped response after commit gave %v, want Retryable (the outcome is unknown) or a success", ce)
	}
	// Committed either way.
	r.expectJournals(1, ref)
	return res, ce
}

func checkDroppedResponseRetry(r *run) {
	if r.env.DropNextPushResponse == nil {
		r.s.skip(r.t, "Env.DropNextPushResponse is nil")
	}
	r.authorize()
	doc, ref := r.balanced(r.day(-1)), r.ref("drop")
	first, ce := r.dropped(doc, ref)
	res, ce2 := r.push(doc, ref)
	if ce2 != nil {
		r.t.Fatalf("retry within the idempotency memory: %v", ce2)
	}
	if ce == nil && res.ExternalID != first.ExternalID {
		r.t.Fatalf("retry gave %q, the first push %q", res.ExternalID, first.ExternalID)
	}
	r.expectJournals(1, ref)
	if found, ok, ce := r.find(ref); ce != nil || !ok || found.ExternalID != res.ExternalID {
		r.t.Fatalf("find: %+v found %t err %v, want %q", found, ok, ce, res.ExternalID)
	}
}

func checkDroppedResponseAfterMemory(r *run) {
	if r.env.DropNextPushResponse == nil {
		r.s.skip(r.t, "Env.DropNextPushResponse is nil")
	}
	r.authorize()
	doc, ref := r.balanced(r.day(-1)), r.ref("forgot")
	first, ce := r.dropped(doc, ref)
	if m := r.env.IdempotencyMemory; m > 0 {
		r.clock.Advance(m + time.Minute)
	}
	// What the push worker does after an unknown outcome: look up first,
	// and send only when the document is not there.
	found, ok, ce2 := r.find(ref)
	if ce2 != nil {
		r.t.Fatalf("find after the idempotency memory: %v", ce2)
	}
	if !ok || found.ExternalID == "" {
		r.t.Fatalf("find after the idempotency memory: found %t id %q; the worker would push a duplicate", ok, found.ExternalID)
	}
	if ce == nil && found.ExternalID != first.ExternalID {
		r.t.Fatalf("find gave %q, the push %q", found.ExternalID, first.ExternalID)
	}
	r.expectJournals(1, ref)
}

func checkThrottled(r *run) {
	t := r.t
	if r.env.ExhaustRateLimit == nil {
		r.s.skip(t, "Env.ExhaustRateLimit is nil")
	}
	r.authorize()
	r.env.ExhaustRateLimit()
	ref := r.ref("throttled")
	_, _, ce := r.find(ref)
	r.expectThrottled("find", ce)
	res, ce := r.push(r.balanced(r.day(-1)), ref)
	if ce == nil {
		t.Fatalf("push while throttled succeeded (external id %q)", res.ExternalID)
	}
	r.expectThrottled("push", ce)
	r.expectJournals(0)
	if !r.env.RetryAfterOnThrottle {
		t.Logf("the platform gives no wait; not checking that the quota comes back")
		return
	}
	wait := ce.RetryAfter
	r.clock.Advance(wait)
	if _, ok, ce := r.find(ref); ce != nil || ok {
		t.Fatalf("find after waiting RetryAfter (%s): found %t err %v", wait, ok, ce)
	}
}

func (r *run) expectThrottled(what string, ce *connectors.Error) {
	r.t.Helper()
	if ce == nil || ce.Class != connectors.Throttled {
		r.t.Fatalf("%s with the quota spent: %v, want Throttled", what, ce)
	}
	if r.env.RetryAfterOnThrottle && ce.RetryAfter <= 0 {
		r.t.Fatalf("%s: the platform says how long to wait but RetryAfter is %s: %v", what, ce.RetryAfter, ce)
	}
	r.t.Logf("%s: %v", what, ce)
}

func checkArchivedAccount(r *run) {
	r.authorize()
	doc := r.journal(r.day(-1), r.env.Currency, docLine{r.env.Archived, "5.00"}, docLine{r.env.Credit, "-5.00"})
	res, ce := r.push(doc, r.ref("archived"))
	r.expectRefused("a journal to an archived account", ce, res, 0, connectors.MerchantActionable)
	a := r.env.Archived
	if !(a.Code != "" && strings.Contains(ce.Message, a.Code)) && !(a.ID != "" && strings.Contains(ce.Message, a.ID)) {
		r.t.Fatalf("the message %q does not name the archived account %+v", ce.Message, a)
	}
	r.t.Logf("merchant sees: %s", ce.Message)
}

func checkExpiredToken(r *run) {
	t := r.t
	r.authorize()
	if n := len(r.savedTokens()); n != 0 {
		t.Fatalf("%d tokens saved before any refresh", n)
	}
	if r.env.ExpireAccessTokens != nil {
		r.env.ExpireAccessTokens()
	} else {
		// Past every platform's access-token lifetime (at most an hour,
		// accounting-platform-apis.md §0).
		t.Logf("Env.ExpireAccessTokens is nil: advancing the clock 2h instead")
		r.clock.Advance(2 * time.Hour)
	}
	doc, ref := r.balanced(r.day(-1)), r.ref("expired")
	if _, ce := r.push(doc, ref); ce != nil {
		t.Fatalf("push with an expired access token: %v", ce)
	}
	r.expectJournals(1, ref)
	saved := r.savedTokens()
	if len(saved) == 0 {
		t.Fatal("the push succeeded but no refreshed token was saved")
	}
	last := saved[len(saved)-1]
	if last.AccessToken == "" || last.AccessToken == r.first.AccessToken || last.RefreshToken == "" {
		t.Fatalf("the saved token is not a refreshed one: new access token %t, refresh token %t",
			last.AccessToken != r.first.AccessToken, last.RefreshToken != "")
	}
	if cur, err := r.sess.Tokens.Token(); err != nil || cur.AccessToken != last.AccessToken {
		t.Fatalf("the token source uses a token other than the one saved (err %v)", err)
	}
	t.Logf("%d refresh(es) saved; refresh token rotated: %t", len(saved), last.RefreshToken != r.first.RefreshToken)
	// A restart long after: only the saved token is left. If the platform
	// rotated the refresh token and the connector had saved the old one,
	// the old one's grace (Xero: 30 min) is over and this fails.
	r.clock.Advance(2 * time.Hour)
	restarted := connectors.NewPersistingTokenSource(r.ctx, r.cfg, last, func(context.Context, *oauth2.Token) error { return nil })
	res, ok, err := r.conn.Find(r.ctx, connectors.Session{TenantID: r.sess.TenantID, Tokens: restarted}, ref)
	if err != nil || !ok || res.ExternalID == "" {
		t.Fatalf("after a restart from the saved token: found %t err %v", ok, err)
	}
}

func checkLockedPeriod(r *run) {
	t := r.t
	if r.env.LockPeriodThrough == nil {
		r.s.skip(t, "Env.LockPeriodThrough is nil")
	}
	r.authorize()
	lock := r.day(-2)
	r.env.LockPeriodThrough(lock)
	if got := r.readSetup().LockDate; got == "" {
		t.Logf("the setup does not report the lock date")
	} else if got < lock {
		t.Fatalf("setup lock date %s, want %s or later", got, lock)
	}
	res, ce := r.push(r.balanced(lock), r.ref("locked"))
	r.expectRefused("a journal dated on the lock date", ce, res, 0, connectors.MerchantActionable)
	t.Logf("merchant sees: %s", ce.Message)
	open := r.ref("open")
	if _, ce := r.push(r.balanced(r.day(-1)), open); ce != nil {
		t.Fatalf("a journal dated the day after the lock: %v", ce)
	}
	r.expectJournals(1, open)
}

func checkUnbalanced(r *run) {
	r.authorize()
	doc := r.journal(r.day(-1), r.env.Currency, docLine{r.env.Debit, "10.00"}, docLine{r.env.Credit, "-9.99"})
	res, ce := r.push(doc, r.ref("unbalanced"))
	r.expectRefused("an unbalanced journal", ce, res, 0, connectors.MerchantActionable, connectors.Fatal)
	if ce.Class == connectors.Fatal && ce.Status != 0 {
		r.t.Fatalf("the platform refused the unbalanced journal (HTTP %d) and the connector calls it Fatal; "+
			"Fatal is for refusing it before sending: %v", ce.Status, ce)
	}
	where := "by the platform"
	if ce.Status == 0 {
		where = "by the connector before sending"
	}
	r.t.Logf("refused %s as %s: %s", where, ce.Class, ce.Message)
}

func checkCurrencyNotEnabled(r *run) {
	if r.env.Disabled == "" {
		r.s.skip(r.t, "Env.Disabled is empty: the platform's journals carry no currency of their own "+
			"(they post in the base currency, and pipeline/push refuses other currencies before calling the connector)")
	}
	r.authorize()
	doc, what := r.journal(r.day(-1), r.env.Disabled, docLine{r.env.Debit, "7.00"}, docLine{r.env.Credit, "-7.00"}), "a journal"
	if r.env.DisabledOnInvoices {
		doc, what = r.invoice(r.day(-1), r.env.Disabled, "7.00"), "a sales invoice"
	}
	res, ce := r.push(doc, r.ref("currency"))
	r.expectRefused(what+" in "+r.env.Disabled, ce, res, 0, connectors.MerchantActionable)
	r.t.Logf("merchant sees: %s", ce.Message)
}

// checkInvoiceMode pushes a daily sales invoice to the first customer the
// setup offers, with one line on the Credit account, and a payment of it
// into the Debit account; each push repeated gives the same id, each is
// found by its reference, and a second payment of the paid invoice is
// the merchant's to fix.
func checkInvoiceMode(r *run) {
	if !r.caps.InvoiceMode {
		r.s.skip(r.t, "Capabilities().InvoiceMode is false")
	}
	t := r.t
	r.authorize()
	pay := r.env.Payments
	if pay == (Account{}) {
		pay = r.env.Debit
	}
	twice := func(what string, doc *commercesyncv1.Document, ref connectors.Reference) string {
		t.Helper()
		ref.Document = doc
		first, ce := r.push(doc, ref)
		if ce != nil || first.ExternalID == "" {
			t.Fatalf("push the %s: %+v, %v", what, first, ce)
		}
		again, ce := r.push(doc, ref)
		if ce != nil || again.ExternalID != first.ExternalID {
			t.Fatalf("the same %s again: %q, %v; the first was %q", what, again.ExternalID, ce, first.ExternalID)
		}
		found, ok, ce := r.find(ref)
		if ce != nil || !ok || found.ExternalID != first.ExternalID {
			t.Fatalf("find the %s: %+v found %t err %v, want %q", what, found, ok, ce, first.ExternalID)
		}
		return first.ExternalID
	}
	day := r.day(-1)
	invoice := r.invoice(day, r.env.Currency, "12.34")
	invoiceID := twice("invoice", invoice, r.ref("invoice"))
	payment := &commercesyncv1.Document{Type: "Payment", Date: day, Currency: r.env.Currency, Contact: invoice.GetContact(),
		Money: docLineProto(pay, "12.34"), AppliesTo: []int32{0}, AppliesToExternalIds: []string{invoiceID}}
	twice("payment", payment, r.ref("payment"))
	over := &commercesyncv1.Document{Type: "Payment", Date: day, Currency: r.env.Currency, Contact: invoice.GetContact(),
		Money: docLineProto(pay, "0.01"), AppliesTo: []int32{0}, AppliesToExternalIds: []string{invoiceID}}
	_, ce := r.push(over, r.ref("overpaid"))
	if ce == nil || ce.Class != connectors.MerchantActionable || ce.Message == "" {
		t.Fatalf("a payment of an invoice already paid: %v, want MerchantActionable with a message", ce)
	}
	t.Logf("merchant sees: %s", ce.Message)
}

func docLineProto(a Account, amount string) *commercesyncv1.DocumentLine {
	return &commercesyncv1.DocumentLine{AccountId: a.ID, AccountCode: a.Code, Amount: amount, Description: "conformance"}
}

// invoice is a daily sales invoice to the first customer the setup
// offers, with one line of amount on the Credit account.
func (r *run) invoice(date, currency, amount string) *commercesyncv1.Document {
	r.t.Helper()
	customer := ""
	for _, c := range r.setup.Contacts {
		if c.Customer {
			customer = c.ID
			break
		}
	}
	if customer == "" {
		r.t.Fatalf("the setup offers no customer for the daily invoice (%d contacts)", len(r.setup.Contacts))
	}
	return &commercesyncv1.Document{Type: "SalesInvoice", Date: date, Currency: currency, Contact: customer, Status: "Submitted",
		Narration: "commercesync conformance " + r.s.h.Name + " " + date, Lines: []*commercesyncv1.DocumentLine{docLineProto(r.env.Credit, amount)}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
