// Package push drives each outbox entry to the accounting platform:
// planned → sent → confirmed, or failed with a class and a plain message.
//
// Before any send whose earlier outcome is unknown (state sent: a timeout, a
// crash, a restart) the worker looks the document up by its reference, since
// an idempotency key may have expired (Xero forgets after 6 minutes) or not
// exist (FreeAgent). A company's documents go one at a time, in day order; a
// merchant-actionable failure pauses that company alone until its
// configuration changes.
//
// The worker owns the connections' tokens, so it is the one that tells
// whether a connection still works. When it starts it checks every linked
// connection with one cheap authenticated call, paced like every other
// request, before any document of it goes; a connection whose grant the
// platform refuses then, or on any later call, is marked Deauthorized and
// its documents wait, not fail, until the merchant reconnects (a new
// connection, which the planner binds them to).
package push

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/pipeline/clock"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Worker pushes outbox entries.
type Worker struct {
	outbox     *view.Outbox
	writer     *view.OutboxWriter
	control    *control.Store
	connectors map[string]connectors.Connector
	redirect   string
	log        *slog.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	httpClient *http.Client

	mu      sync.Mutex
	running map[string]bool
	retryAt map[string]time.Time // document id → earliest next attempt
	tokens  map[string]oauth2.TokenSource
	setups  map[string]cachedSetup
	limits  map[string]*pacer
	// apps are the limits a platform counts across all of the app's
	// tenants, by platform, shared by every connection of it; each holds
	// this process's share (appShare) of the limit.
	apps     map[string]*rate.Limiter
	appShare float64
	reading  map[string]bool // connections whose setup is being read
	// checks are the start-of-process access checks of the connections
	// linked when Run began; a connection with one not done holds its
	// documents.
	checks map[string]*accessCheck
	wake   chan struct{}
	obs    Observer
	owner  Ownership
}

// Observer is told how pushes end and how long requests wait for a
// platform's limits. Metrics implement it; it must be quick and safe for
// concurrent use.
type Observer interface {
	// Outcome is one attempt's end for a document of platform:
	// confirmed, retried, paused (the merchant must act), failed or
	// deauthorized.
	Outcome(platform, outcome string)
	// Waited is how long one request to platform waited for its
	// connection's rate limits.
	Waited(platform string, d time.Duration)
}

type noObserver struct{}

func (noObserver) Outcome(string, string)       {}
func (noObserver) Waited(string, time.Duration) {}

// WithObserver sets what the worker tells of outcomes and rate-limit waits
// (nothing by default).
func WithObserver(o Observer) Option { return func(w *Worker) { w.obs = o } }

// Ownership says which companies are this process's to push for
// (kafka.Owner): only their owner talks to their platform, checks their
// access, reads their setup and refreshes their tokens.
type Ownership interface {
	Owns(company string) bool
	Changed() <-chan struct{}
	// Share is the part of all companies this process owns, 0 to 1: its
	// part of a limit the platform counts across all of an app's
	// tenants, which the push processes split between them this way.
	Share() float64
}

type ownsAll struct{}

func (ownsAll) Owns(string) bool         { return true }
func (ownsAll) Changed() <-chan struct{} { return nil }
func (ownsAll) Share() float64           { return 1 }

// WithOwnership makes the worker push only for the companies o says are
// its own (all of them by default). Call Release from o's release hook.
func WithOwnership(o Ownership) Option { return func(w *Worker) { w.owner = o } }

// Release returns once the worker has stopped working for the companies
// gone says are leaving (the caller has already made Owns say no for
// them), or ctx ends.
func (w *Worker) Release(ctx context.Context, gone func(company string) bool) {
	for {
		w.mu.Lock()
		busy := false
		for company := range w.running {
			busy = busy || gone(company)
		}
		for id, ch := range w.checks {
			busy = busy || ch.running && gone(w.companyOf(id))
		}
		for id, reading := range w.reading {
			busy = busy || reading && gone(w.companyOf(id))
		}
		if !busy {
			// Whoever owns them next paces their calls and refreshes their
			// tokens; what this worker held would be stale when it owns
			// them again (a bucket refilled while another spent the
			// platform's allowance, a refresh token since rotated).
			for id := range w.limits {
				if gone(w.companyOf(id)) {
					delete(w.limits, id)
				}
			}
			for id := range w.tokens {
				if gone(w.companyOf(id)) {
					delete(w.tokens, id)
				}
			}
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			w.log.Warn("released companies before their pushes ended", "err", ctx.Err())
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// companyOf is a connection's company ("" for one unknown).
func (w *Worker) companyOf(connID string) string {
	c, _ := w.control.Connection(connID)
	return c.GetCompanyId()
}

// accessCheck is one connection's start-of-process access check.
type accessCheck struct {
	// done: the grant works, or the connection was marked Deauthorized;
	// either way nothing more to check.
	done, running bool
	// A transient failure says nothing about the grant: check again at due.
	attempts int
	due      time.Time
}

// maxCheckBackoff caps the wait between access checks of a connection the
// platform keeps answering with 5xx, throttling or network failures.
const maxCheckBackoff = 5 * time.Minute

// cachedSetup is a connection's setup as last read; it is read again after
// setupTTL so a merchant's changes on the platform are seen.
type cachedSetup struct {
	setup *connectors.Setup
	at    time.Time
}

const setupTTL = time.Hour

// Option configures a Worker.
type Option func(*Worker)

// WithClock injects time.
func WithClock(now func() time.Time) Option { return func(w *Worker) { w.now = now } }

// WithSleep injects how the worker waits out a connection's rate limits,
// on its clock (see WithClock); by default it sleeps in real time.
func WithSleep(fn func(context.Context, time.Duration) error) Option {
	return func(w *Worker) { w.sleep = fn }
}

// WithHTTPClient sets the client used for token refreshes.
func WithHTTPClient(c *http.Client) Option { return func(w *Worker) { w.httpClient = c } }

// New makes a worker. redirectURL must be the one the connections were
// authorised with, since some platforms check it on refresh.
func New(o *view.Outbox, wr *view.OutboxWriter, c *control.Store, conns map[string]connectors.Connector, redirectURL string, log *slog.Logger, opts ...Option) *Worker {
	w := &Worker{
		outbox: o, writer: wr, control: c, connectors: conns, redirect: redirectURL, log: log, now: time.Now, sleep: clock.Sleep,
		running: map[string]bool{}, retryAt: map[string]time.Time{}, tokens: map[string]oauth2.TokenSource{},
		setups: map[string]cachedSetup{}, limits: map[string]*pacer{}, apps: map[string]*rate.Limiter{}, reading: map[string]bool{},
		checks: map[string]*accessCheck{}, wake: make(chan struct{}, 1), obs: noObserver{}, owner: ownsAll{},
	}
	for _, opt := range opts {
		opt(w)
	}
	return w
}

// Run pushes until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	w.mu.Lock()
	for _, conn := range w.control.Connections() {
		if conn.GetStatus() == control.StatusLinked {
			w.checks[conn.GetId()] = &accessCheck{}
		}
	}
	w.mu.Unlock()
	for {
		och, cch, wch := w.outbox.Changed(), w.control.Changed(), w.owner.Changed()
		w.shareApps()
		checkDue := w.startChecks(ctx, &wg)
		w.publishSetups(ctx, &wg)
		next := w.dispatch(ctx, &wg)
		if !checkDue.IsZero() && (next.IsZero() || checkDue.Before(next)) {
			next = checkDue
		}
		wait := time.Minute
		if !next.IsZero() {
			if d := next.Sub(w.now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-och:
		case <-cch:
		case <-wch:
		case <-w.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatch starts a goroutine for every company whose next document can
// go now, and returns the earliest time a waiting one becomes due. A company
// paused for its merchant, or waiting out a back-off, gets no goroutine, so
// waiting costs nothing.
func (w *Worker) dispatch(ctx context.Context, wg *sync.WaitGroup) time.Time {
	byCompany := map[string][]*v1.OutboxEntry{}
	var order []string
	for _, e := range w.outbox.All() {
		if _, ok := byCompany[e.GetCompanyId()]; !ok {
			order = append(order, e.GetCompanyId())
		}
		byCompany[e.GetCompanyId()] = append(byCompany[e.GetCompanyId()], e)
	}
	var earliest time.Time
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, company := range order {
		entries := byCompany[company]
		if w.running[company] || !w.owner.Owns(company) {
			continue
		}
		next, due := w.nextLocked(entries)
		if next == nil {
			continue
		}
		if due.After(now) {
			if earliest.IsZero() || due.Before(earliest) {
				earliest = due
			}
			continue
		}
		w.running[company] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			progressed := w.drive(ctx, entries)
			w.mu.Lock()
			delete(w.running, company)
			w.mu.Unlock()
			if progressed {
				select {
				case w.wake <- struct{}{}:
				default:
				}
			}
		}()
	}
	return earliest
}

// nextLocked returns a company's next document to push and when it is due,
// or nil when the company has nothing to do or is paused for its merchant.
// Documents go in day order, so a failure the merchant must fix holds back
// the days after it, and so does a connection that is not usable yet: not
// checked since this process started, or no longer linked (the planner binds
// the documents to the merchant's new connection).
func (w *Worker) nextLocked(entries []*v1.OutboxEntry) (*v1.OutboxEntry, time.Time) {
	for _, e := range entries {
		switch e.GetState() {
		case v1.OutboxState_OUTBOX_STATE_CONFIRMED, v1.OutboxState_OUTBOX_STATE_SUPERSEDED:
			continue
		case v1.OutboxState_OUTBOX_STATE_FAILED:
			if e.GetErrorClass() == v1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE {
				return nil, time.Time{}
			}
			continue
		}
		if e.GetState() == v1.OutboxState_OUTBOX_STATE_PLANNED {
			if cv, ok := w.control.Config(e.GetCompanyId()); ok && cv.GetVersion() > e.GetConfigVersion() {
				// The planner is binding it again under the new mapping.
				return nil, time.Time{}
			}
		}
		if !w.usableLocked(e.GetConnectionId()) {
			return nil, time.Time{}
		}
		return e, w.retryAt[e.GetDocumentId()]
	}
	return nil, time.Time{}
}

// drive pushes a company's documents in order until one cannot go yet, and
// reports whether it changed anything.
func (w *Worker) drive(ctx context.Context, entries []*v1.OutboxEntry) bool {
	progressed := false
	for ctx.Err() == nil {
		// The planner may have written newer entries since the snapshot.
		for i, e := range entries {
			if cur, ok := w.outbox.Doc(e.GetDocumentId()); ok {
				entries[i] = cur
			}
		}
		w.mu.Lock()
		e, due := w.nextLocked(entries)
		w.mu.Unlock()
		if e == nil || due.After(w.now()) {
			return progressed
		}
		progressed = true
		if !w.attempt(ctx, e) {
			return progressed
		}
	}
	return progressed
}

// attempt makes one attempt and reports whether the company may go on to
// its next document.
func (w *Worker) attempt(ctx context.Context, e *v1.OutboxEntry) (goOn bool) {
	log := w.log.With("company", e.GetCompanyId(), "document", e.GetDocumentId(), "day", e.GetBusinessDay(), "revision", e.GetRevision())
	defer func() {
		// A connector that panics (a platform answer nobody foresaw) fails
		// this document alone; the worker and every other company go on.
		if r := recover(); r != nil {
			log.Error("push failed unexpectedly", "panic", r, "stack", string(debug.Stack()))
			cur := e
			if d, ok := w.outbox.Doc(e.GetDocumentId()); ok {
				cur = d
			}
			w.fail(ctx, cur, &connectors.Error{Class: connectors.Fatal, Message: fmt.Sprintf(
				"commercesync failed unexpectedly while pushing this document (%v). It may have reached the platform: "+
					"look for reference %s there before pushing the day again.", r, e.GetReference())})
			goOn = true
		}
	}()
	conn, ok := w.control.Connection(e.GetConnectionId())
	if !ok || conn.GetStatus() != control.StatusLinked {
		// Deauthorized or replaced since the company was dispatched: the
		// document waits for the planner to bind it to the new connection.
		log.Info("document waits: its connection is no longer linked", "connection", e.GetConnectionId(), "status", conn.GetStatus())
		return false
	}
	c, ok := w.connectors[conn.GetPlatformKey()]
	if !ok {
		return w.outcome(ctx, e, &connectors.Error{Class: connectors.Fatal, Message: fmt.Sprintf("no connector for platform %q", conn.GetPlatformKey())}, log)
	}
	sess := connectors.Session{TenantID: conn.GetPlatformTenantId(), Tokens: w.tokenSource(ctx, conn, c)}
	// Every request the connector makes waits for the connection's limits.
	ctx = connectors.WithGate(ctx, w.limiter(conn, c))
	doc, ce := w.settling(e)
	if ce != nil {
		return w.outcome(ctx, e, ce, log)
	}
	ref := connectors.Reference{Value: e.GetReference(), IdempotencyKey: fmt.Sprintf("%s-c%d", e.GetDocumentId(), e.GetConfigVersion()),
		Document: doc}

	if e.GetState() == v1.OutboxState_OUTBOX_STATE_SENT || e.GetLookupFirst() {
		res, found, err := c.Find(ctx, sess, ref)
		if err != nil {
			return w.outcome(ctx, e, connectors.Classify(fmt.Errorf("look the document up: %w", err)), log)
		}
		if found {
			log.Info("document found after an unknown outcome", "external_id", res.ExternalID)
			return w.confirm(ctx, e, res)
		}
	}
	setup, err := w.setup(ctx, conn.GetId(), c, sess)
	if err != nil {
		return w.outcome(ctx, e, connectors.Classify(err), log)
	}
	if base := setup.BaseCurrency; e.GetDocument().GetType() == "ManualJournal" && base != "" && e.GetDocument().GetCurrency() != base {
		// A manual journal has no currency of its own: it would post these
		// amounts as the organisation's base currency.
		return w.outcome(ctx, e, &connectors.Error{Class: connectors.MerchantActionable, Field: "currency", Message: fmt.Sprintf(
			"%s journals are posted in the organisation's base currency (%s), but this day's sales are in %s. "+
				"Set configuration.exchangeRates.%s to the units of %s one %s buys, and the day posts converted.",
			c.Name(), base, e.GetDocument().GetCurrency(), e.GetDocument().GetCurrency(), base, e.GetDocument().GetCurrency())}, log)
	}
	if cur := doc.GetCurrency(); doc.GetType() != "ManualJournal" && cur != "" && len(setup.Currencies) > 0 && !slices.Contains(setup.Currencies, cur) {
		// Invoice-mode documents carry their currency; say what to do
		// before the platform refuses it in its own words.
		return w.outcome(ctx, e, &connectors.Error{Class: connectors.MerchantActionable, Field: "currency", Message: fmt.Sprintf(
			"%s has not enabled %s for this organisation (it has %s). Enable %s in %s, or set configuration.exchangeRates.%s and "+
				"configuration.mapSettings.outputFormat to \"JournalEntry\" to post the day converted to %s.",
			c.Name(), cur, strings.Join(setup.Currencies, ", "), cur, c.Name(), cur, setup.BaseCurrency)}, log)
	}
	if ctx.Err() != nil {
		return false
	}
	// From here the outcome can be unknown: record the attempt first, and
	// from now on always look the document up before sending it again.
	sent := proto.Clone(e).(*v1.OutboxEntry)
	sent.State, sent.Attempts, sent.UpdatedUnixMs, sent.LookupFirst = v1.OutboxState_OUTBOX_STATE_SENT, e.GetAttempts()+1, w.now().UnixMilli(), true
	sent.ErrorClass, sent.ErrorMessage, sent.ErrorField = v1.ErrorClass_ERROR_CLASS_UNSPECIFIED, "", ""
	if err := w.writer.Put(ctx, sent); err != nil {
		log.Warn("could not record the attempt; not sending", "err", err)
		return false
	}
	res, err := c.Push(ctx, sess, doc, ref)
	if err != nil {
		return w.outcome(ctx, sent, connectors.Classify(err), log)
	}
	log.Info("document confirmed", "external_id", res.ExternalID)
	return w.confirm(ctx, sent, res)
}

// settling returns the document to send, with the platform ids of the
// documents it settles (a payment's invoice) filled in. Those come before
// it in push order, so they are normally confirmed; one that failed for
// good fails this one too.
func (w *Worker) settling(e *v1.OutboxEntry) (*v1.Document, *connectors.Error) {
	doc := e.GetDocument()
	if len(doc.GetAppliesTo()) == 0 {
		return doc, nil
	}
	doc = proto.Clone(doc).(*v1.Document)
	doc.AppliesToExternalIds = nil
	for _, i := range doc.GetAppliesTo() {
		id := mapping.DocumentID(e.GetSummaryId(), int(i))
		dep, ok := w.outbox.Doc(id)
		switch {
		case ok && dep.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED && dep.GetExternalId() != "":
			doc.AppliesToExternalIds = append(doc.AppliesToExternalIds, dep.GetExternalId())
		case ok && dep.GetState() == v1.OutboxState_OUTBOX_STATE_FAILED && dep.GetErrorClass() == v1.ErrorClass_ERROR_CLASS_FATAL:
			return nil, &connectors.Error{Class: connectors.Fatal, Message: fmt.Sprintf(
				"the %s this %s settles (%s) failed: %s", dep.GetDocument().GetType(), doc.GetType(), dep.GetReference(), dep.GetErrorMessage())}
		default:
			return nil, &connectors.Error{Class: connectors.Retryable, Message: fmt.Sprintf(
				"waiting for document %d of the day, which this %s settles, to be confirmed", i, doc.GetType())}
		}
	}
	return doc, nil
}

// outcome acts on a classified error: back off for retryable and throttled
// errors, pause the company for one its merchant must fix, and give the
// document up (and go on) for a fatal one.
func (w *Worker) outcome(ctx context.Context, e *v1.OutboxEntry, ce *connectors.Error, log *slog.Logger) bool {
	if ce.Deauthorized {
		// Only a reconnect helps, and it is a new connection: the document
		// keeps its state (one that may have been sent is looked up first
		// wherever it goes next) and waits for the planner to rebind it.
		// The entry is written before the connection is marked: once it is,
		// the merchant may reconnect and the planner rebind the document at
		// once, and a write after that would put back the old binding.
		r := proto.Clone(e).(*v1.OutboxEntry)
		r.ErrorClass, r.ErrorMessage, r.ErrorField, r.UpdatedUnixMs = ce.Class.Proto(), "Waiting for a reconnect: "+w.deauthorizedMessage(e.GetConnectionId(), ce), "", w.now().UnixMilli()
		if _, err := w.writer.PutUnlessRebound(ctx, r); err != nil {
			log.Warn("wait for reconnect not recorded", "err", err)
		}
		w.deauthorize(ctx, e.GetConnectionId(), ce)
		w.obs.Outcome(e.GetPlatformKey(), "deauthorized")
		return false
	}
	switch ce.Class {
	case connectors.Retryable, connectors.Throttled:
		w.obs.Outcome(e.GetPlatformKey(), "retried")
		w.retry(ctx, e, ce, log)
		return false
	case connectors.MerchantActionable:
		w.obs.Outcome(e.GetPlatformKey(), "paused")
		log.Warn("company paused: the merchant must act", "reason", ce.Message)
		// What the merchant fixes may be on the platform (an account
		// restored, a currency enabled): read its setup afresh next time.
		w.mu.Lock()
		delete(w.setups, e.GetConnectionId())
		w.mu.Unlock()
		w.fail(ctx, e, ce)
		return false
	default:
		w.obs.Outcome(e.GetPlatformKey(), "failed")
		log.Error("document failed", "err", ce)
		w.fail(ctx, e, ce)
		return true
	}
}

func (w *Worker) confirm(ctx context.Context, e *v1.OutboxEntry, res connectors.Result) bool {
	w.obs.Outcome(e.GetPlatformKey(), "confirmed")
	done := proto.Clone(e).(*v1.OutboxEntry)
	done.State, done.ExternalId, done.UpdatedUnixMs = v1.OutboxState_OUTBOX_STATE_CONFIRMED, res.ExternalID, w.now().UnixMilli()
	done.ErrorClass, done.ErrorMessage, done.ErrorField = v1.ErrorClass_ERROR_CLASS_UNSPECIFIED, "", ""
	w.mu.Lock()
	delete(w.retryAt, e.GetDocumentId())
	w.mu.Unlock()
	if err := w.writer.Put(ctx, done); err != nil {
		w.log.Warn("confirmation not recorded; the next attempt will find the document", "document", e.GetDocumentId(), "err", err)
		return false
	}
	return true
}

func (w *Worker) fail(ctx context.Context, e *v1.OutboxEntry, ce *connectors.Error) {
	f := proto.Clone(e).(*v1.OutboxEntry)
	f.State, f.UpdatedUnixMs = v1.OutboxState_OUTBOX_STATE_FAILED, w.now().UnixMilli()
	f.ErrorClass, f.ErrorMessage, f.ErrorField = ce.Class.Proto(), ce.Message, ce.Field
	w.mu.Lock()
	delete(w.retryAt, e.GetDocumentId())
	w.mu.Unlock()
	if _, err := w.writer.PutUnlessRebound(ctx, f); err != nil {
		w.log.Warn("failure not recorded", "document", e.GetDocumentId(), "err", err)
	}
}

// retry records the error and schedules the next attempt with exponential
// back-off and full jitter, never sooner than the platform asked. The state
// stays as it was: a document never sent stays planned.
func (w *Worker) retry(ctx context.Context, e *v1.OutboxEntry, ce *connectors.Error, log *slog.Logger) {
	n := min(e.GetAttempts(), 10)
	backoff := time.Duration(float64(time.Second) * float64(int(1)<<n) * rand.Float64())
	backoff = min(backoff, 5*time.Minute)
	if ce.RetryAfter > backoff {
		backoff = ce.RetryAfter
	}
	w.mu.Lock()
	w.retryAt[e.GetDocumentId()] = w.now().Add(backoff)
	w.mu.Unlock()
	r := proto.Clone(e).(*v1.OutboxEntry)
	r.ErrorClass, r.ErrorMessage, r.UpdatedUnixMs = ce.Class.Proto(), ce.Message, w.now().UnixMilli()
	if _, err := w.writer.PutUnlessRebound(ctx, r); err != nil {
		log.Warn("retry not recorded", "err", err)
		return
	}
	log.Warn("push will be retried", "in", backoff, "class", ce.Class, "reason", ce.Message)
}

func (w *Worker) setup(ctx context.Context, connID string, c connectors.Connector, sess connectors.Session) (*connectors.Setup, error) {
	w.mu.Lock()
	cs, ok := w.setups[connID]
	w.mu.Unlock()
	if ok && w.now().Sub(cs.at) < setupTTL {
		return cs.setup, nil
	}
	setup, err := c.Setup(ctx, sess)
	if err != nil {
		return nil, fmt.Errorf("read the platform's setup: %w", err)
	}
	w.mu.Lock()
	w.setups[connID] = cachedSetup{setup: setup, at: w.now()}
	w.mu.Unlock()
	return setup, nil
}

// publishSetups reads the setup of every linked connection that has none,
// or one older than setupTTL, and stores it in the control plane, where the
// configuration's account options come from. This process owns the
// connection's tokens, so it is the one that may call the platform.
func (w *Worker) publishSetups(ctx context.Context, wg *sync.WaitGroup) {
	for _, conn := range w.control.Connections() {
		if conn.GetStatus() != control.StatusLinked || !w.owner.Owns(conn.GetCompanyId()) {
			continue
		}
		w.mu.Lock()
		usable := w.usableLocked(conn.GetId())
		w.mu.Unlock()
		if !usable {
			continue
		}
		if ps, ok := w.control.PlatformSetup(conn.GetId()); ok {
			if at, err := time.Parse(time.RFC3339, ps.GetReadAt()); err == nil && w.now().Sub(at) < setupTTL {
				continue
			}
		}
		c, ok := w.connectors[conn.GetPlatformKey()]
		if !ok {
			continue
		}
		w.mu.Lock()
		busy := w.reading[conn.GetId()]
		w.reading[conn.GetId()] = true
		w.mu.Unlock()
		if busy {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				w.mu.Lock()
				delete(w.reading, conn.GetId())
				w.mu.Unlock()
			}()
			sess := connectors.Session{TenantID: conn.GetPlatformTenantId(), Tokens: w.tokenSource(ctx, conn, c)}
			setup, err := w.setup(connectors.WithGate(ctx, w.limiter(conn, c)), conn.GetId(), c, sess)
			if err != nil {
				if ce := connectors.Classify(err); ce.Deauthorized {
					w.deauthorize(ctx, conn.GetId(), ce)
					return
				}
				w.log.Warn("platform setup not read", "connection", conn.GetId(), "err", err)
				return
			}
			if err := w.control.PutPlatformSetup(ctx, setupProto(conn, setup, c.Capabilities(), w.now())); err != nil {
				w.log.Warn("platform setup not stored", "connection", conn.GetId(), "err", err)
			}
		}()
	}
}

func setupProto(conn *v1.Connection, s *connectors.Setup, caps connectors.Capabilities, at time.Time) *v1.PlatformSetup {
	out := &v1.PlatformSetup{
		ConnectionId: conn.GetId(), CompanyId: conn.GetCompanyId(), BaseCurrency: s.BaseCurrency,
		LockDate: s.LockDate, ReadAt: at.UTC().Format(time.RFC3339), ExchangeRates: s.ExchangeRates,
	}
	for _, a := range s.Accounts {
		if a.Status != "" && !strings.EqualFold(a.Status, "ACTIVE") {
			continue // an archived account is no option
		}
		if a.System && caps.JournalForbidsSystemAccounts {
			// Such a platform keeps receivables, payables and its other
			// system accounts to itself: its journals refuse them, and
			// invoice mode moves them through its own documents.
			continue
		}
		class := "nominal"
		if a.Bank {
			class = "bank"
		}
		out.Accounts = append(out.Accounts, &v1.AccountOption{Id: a.ID, Name: a.Name, NominalCode: a.Code, Classification: class})
	}
	for _, t := range s.TaxRates {
		out.TaxRates = append(out.TaxRates, &v1.Option{Id: t.ID, Name: t.Name})
	}
	for _, tc := range s.Tracking {
		cat := &v1.TrackingCategory{Id: tc.ID, Name: tc.Name}
		for _, o := range tc.Options {
			cat.Options = append(cat.Options, &v1.Option{Id: o.ID, Name: o.Name})
		}
		out.Tracking = append(out.Tracking, cat)
	}
	for _, c := range s.Contacts {
		if c.Customer {
			out.Customers = append(out.Customers, &v1.Option{Id: c.ID, Name: c.Name})
		}
		if c.Supplier {
			out.Suppliers = append(out.Suppliers, &v1.Option{Id: c.ID, Name: c.Name})
		}
	}
	return out
}

// limiter paces calls to one connection at the platform's published rate,
// so the worker stays under the limit instead of learning it from 429s.
// Retries and look-ups count too, as they do at the platform.
func (w *Worker) limiter(conn *v1.Connection, c connectors.Connector) *pacer {
	w.mu.Lock()
	defer w.mu.Unlock()
	connID := conn.GetId()
	if l, ok := w.limits[connID]; ok {
		return l
	}
	caps := c.Capabilities()
	now := w.now()
	l := &pacer{platform: conn.GetPlatformKey(), obs: w.obs, now: w.now, sleep: w.sleep}
	if rps := caps.RequestsPerSecond; rps > 0 {
		// Spaced evenly, so no second, however the platform cuts them,
		// holds more than rps.
		l.windows = append(l.windows, newWindowLimit(rps, 1, time.Second, now))
	}
	if rpm := caps.RequestsPerMinute; rpm > 0 {
		// A small burst lets a day's few documents go at once while a long
		// backlog settles under the published rate; ten keeps it inside the
		// per-second limits some platforms add (QBO: 10 a second).
		l.windows = append(l.windows, newWindowLimit(rpm, min(max(rpm/10, 3), 10), time.Minute, now))
	}
	if rph := caps.RequestsPerHour; rph > 0 {
		// An hourly quota (FreeAgent: 3,600) is a bucket of the hour's
		// calls refilled evenly, so a backlog cannot spend the hour in its
		// first minutes at the per-minute rate and then meet 429s.
		l.windows = append(l.windows, newWindowLimit(rph, max(rph/60, 1), time.Hour, now))
	}
	if apm := caps.AppRequestsPerMinute; apm > 0 {
		app, ok := w.apps[conn.GetPlatformKey()]
		if !ok {
			// Read afresh: a company is owned only while its partition is
			// held, so the share is not 0 here.
			w.appShare = w.owner.Share()
			app = rate.NewLimiter(appRate(apm, w.appShare), appBurst)
			app.ReserveN(now, appBurst)
			w.apps[conn.GetPlatformKey()] = app
		}
		l.windows = append(l.windows, app)
	}
	w.limits[connID] = l
	return l
}

// appBurst is the burst of an app-wide limit's share: small beside the
// thousands a minute such limits allow.
const appBurst = 10

// appRate is share of an app-wide limit of perMinute, with room left for
// each push process's burst and for calls let through just before a minute
// begins, which are a few of the limit's thousands: a twentieth of it.
func appRate(perMinute int, share float64) rate.Limit {
	// Never none: a call already waiting would wait for ever.
	return rate.Limit(float64(perMinute) * 0.95 * max(share, 0.01) / 60)
}

// shareApps sets each app-wide limit to this process's share of it, as
// ownership says now. Every process's share follows the partitions it
// holds, and a partition is given to one process only after the last has
// let it go, so the shares never add up to more than the whole.
func (w *Worker) shareApps() {
	share := w.owner.Share()
	w.mu.Lock()
	defer w.mu.Unlock()
	// With nothing held, only work already begun for companies being let
	// go still calls; it goes on at the share it had.
	if share == w.appShare || share == 0 {
		return
	}
	w.appShare = share
	now := w.now()
	for platform, app := range w.apps {
		app.SetLimitAt(now, appRate(w.connectors[platform].Capabilities().AppRequestsPerMinute, share))
	}
}

// newWindowLimit is a token bucket that lets no more than limit calls
// through in any rolling period. A bucket of burst refilled at rate r lets
// burst + r×period calls through in a period; one more may have been let
// through just before the period began and reach the platform inside it.
// So r is (limit − burst − 1) / period. The bucket starts empty: a worker
// that has just taken a company over cannot know what the previous owner
// spent in the last period, and an empty bucket plus whatever the previous
// owner's bucket let through still fits the same bound.
func newWindowLimit(limit, burst int, period time.Duration, now time.Time) *rate.Limiter {
	burst = max(min(burst, limit-2), 1)
	refill := max(limit-burst-1, 1)
	l := rate.NewLimiter(rate.Limit(float64(refill)/period.Seconds()), burst)
	l.ReserveN(now, burst)
	return l
}

// pacer holds a connection's published limits, per second, minute and
// hour where the platform has them, and this process's share of the
// platform's app-wide limit, which all its connections wait on; it gates
// each HTTP request
// (connectors.Gate), look-ups and setup reads included, as the platform
// counts them. It keeps the worker's clock, so a test's injected time
// moves it.
type pacer struct {
	windows  []*rate.Limiter
	platform string
	obs      Observer
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func (p *pacer) Wait(ctx context.Context) error {
	now := p.now()
	var wait time.Duration
	rs := make([]*rate.Reservation, 0, len(p.windows))
	for _, l := range p.windows {
		r := l.ReserveN(now, 1)
		rs = append(rs, r)
		wait = max(wait, r.DelayFrom(now))
	}
	p.obs.Waited(p.platform, wait)
	if wait == 0 {
		return nil
	}
	if err := p.sleep(ctx, wait); err != nil {
		// Not sent: hand the places back for the calls that will be.
		for _, r := range rs {
			r.CancelAt(now)
		}
		return err
	}
	return nil
}

// tokenSource returns the connection's refreshing token source, which
// stores each rotated token, sealed, before it is used.
func (w *Worker) tokenSource(ctx context.Context, conn *v1.Connection, c connectors.Connector) oauth2.TokenSource {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ts, ok := w.tokens[conn.GetId()]; ok {
		return ts
	}
	tok, err := control.OpenToken(w.control.Sealer(), conn)
	if err != nil {
		return errSource{err}
	}
	id := conn.GetId()
	tctx := ctx
	if w.httpClient != nil {
		tctx = context.WithValue(ctx, oauth2.HTTPClient, w.httpClient)
	}
	ts := connectors.NewPersistingTokenSource(tctx, c.OAuthConfig(w.redirect), tok, func(ctx context.Context, t *oauth2.Token) error {
		_, err := w.control.UpdateConnection(ctx, id, func(cur *v1.Connection) error {
			sealed, err := control.SealToken(w.control.Sealer(), id, t)
			if err != nil {
				return err
			}
			cur.Token = sealed
			return nil
		})
		return err
	})
	w.tokens[id] = ts
	return ts
}

type errSource struct{ err error }

func (e errSource) Token() (*oauth2.Token, error) { return nil, e.err }
