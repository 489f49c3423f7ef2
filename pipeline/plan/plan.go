// Package plan is the planner: it binds each sealed day to the merchant's
// accounts under the company's current configuration and writes one outbox
// entry per document.
//
// It is level-triggered: each pass compares the ledger with the outbox and
// plans what is missing, so a restart, a duplicate wake-up or a late
// configuration never loses or repeats a document. Document ids derive from
// the summary, so planning the same summary twice names the same document.
package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Planner plans documents for sealed days.
type Planner struct {
	ledger  *view.Ledger
	outbox  *view.Outbox
	writer  *view.OutboxWriter
	control *control.Store
	log     *slog.Logger
	now     func() time.Time
	// platform says what a platform's documents can do.
	platform func(platformKey string) Platform
	// quarantine keeps days that cannot be planned, so they stop only
	// their own company; nil logs them instead.
	quarantine *view.Quarantine
	qwriter    *view.QuarantineWriter
	version    string
	owner      Ownership
	// busy is held through each company's pass (Release).
	busy sync.Mutex
}

// Platform is what the planner needs to know of an accounting platform.
type Platform struct {
	// InvoiceMode: the platform takes invoice mode's documents.
	InvoiceMode bool
	// BankThroughTransactions: journals refuse bank accounts, and the
	// platform takes spend money, receive money and transfers instead.
	BankThroughTransactions bool
}

// Option configures a Planner.
type Option func(*Planner)

// WithPlatforms says what each platform takes. Without it no platform
// takes invoice mode (a company whose configuration asks for invoices is
// stopped with a message) and journals keep their bank lines.
func WithPlatforms(of func(platformKey string) Platform) Option {
	return func(p *Planner) { p.platform = of }
}

// WithQuarantine parks a day that cannot be planned (a summary the mapping
// cannot read, a planning bug) on commerce.quarantine with its reason, so
// every other day and company goes on. version names the build in entries.
func WithQuarantine(q *view.Quarantine, w *view.QuarantineWriter, version string) Option {
	return func(p *Planner) { p.quarantine, p.qwriter, p.version = q, w, version }
}

// Ownership says which companies are this process's to plan for
// (kafka.Owner).
type Ownership interface {
	Owns(company string) bool
	Changed() <-chan struct{}
}

// WithOwnership makes the planner plan only for the companies o says are
// its own (all of them by default). Call Release from o's release hook.
func WithOwnership(o Ownership) Option { return func(p *Planner) { p.owner = o } }

// Release returns once the planner is not planning for a company gone says
// is leaving (the caller has already made Owns say no for them).
func (p *Planner) Release(context.Context, func(company string) bool) {
	// A company's pass holds busy: once it is free, the pass under way has
	// ended, and the next ones skip the companies that left.
	p.busy.Lock()
	defer p.busy.Unlock()
}

// New makes a planner.
func New(l *view.Ledger, o *view.Outbox, w *view.OutboxWriter, c *control.Store, log *slog.Logger, now func() time.Time, opts ...Option) *Planner {
	p := &Planner{ledger: l, outbox: o, writer: w, control: c, log: log, now: now, platform: func(string) Platform { return Platform{} }}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Run plans until ctx ends.
func (p *Planner) Run(ctx context.Context) error {
	for {
		lch, cch := p.ledger.Changed(), p.control.Changed()
		var wch <-chan struct{}
		if p.owner != nil {
			wch = p.owner.Changed()
		}
		if err := p.Pass(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("planning pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-lch:
		case <-cch:
		case <-wch:
		case <-time.After(30 * time.Second):
		}
	}
}

// Pass plans every summary that has no document yet, and re-plans documents
// a merchant had to fix once their configuration changed. A day that cannot
// be planned is parked with its reason and stops nothing else; an error
// writing the outbox ends the pass for that company only, and the next pass
// tries again.
func (p *Planner) Pass(ctx context.Context) error {
	var errs []error
	p.quarantineUnreadable(ctx)
	for _, companyID := range p.ledger.Companies() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := p.ownedPass(ctx, companyID); err != nil {
			errs = append(errs, fmt.Errorf("company %s: %w", companyID, err))
		}
	}
	return errors.Join(errs...)
}

// ownedPass plans for a company if it is this process's.
func (p *Planner) ownedPass(ctx context.Context, companyID string) error {
	p.busy.Lock()
	defer p.busy.Unlock()
	if p.owner != nil && !p.owner.Owns(companyID) {
		return nil
	}
	return p.passCompany(ctx, companyID)
}

func (p *Planner) passCompany(ctx context.Context, companyID string) error {
	cv, hasConfig := p.control.Config(companyID)
	conn, linked := p.control.AccountingConnection(companyID)
	if linked {
		// The platform's lock date decides where a day may post, so a
		// connection is planned for once its setup has been read.
		if _, ok := p.control.PlatformSetup(conn.GetId()); !ok {
			return nil
		}
	}
	summaries := p.ledger.Company(companyID)
	// A day's exceptions are resolved once its latest revision has none.
	latest := map[string]*v1.DaySummary{}
	key := func(s *v1.DaySummary) string {
		return s.GetBusinessDay() + "\x00" + s.GetCurrency() + "\x00" + s.GetLocation()
	}
	for _, s := range summaries {
		latest[key(s)] = s
	}
	blocked := func(s *v1.DaySummary) bool {
		l := latest[key(s)]
		return len(l.GetExceptions()) > 0 || l.GetExceptionCount() > 0
	}
	for _, s := range summaries {
		existing := p.outbox.ForSummary(s.GetId())
		if len(existing) > 0 {
			if !(hasConfig && linked && (needsReplan(existing, cv.GetVersion(), conn.GetId()) || resolved(existing, blocked(s)))) {
				continue
			}
		} else if !hasConfig || !linked {
			continue // the status route reports what is missing
		}
		if p.parked(s, cv) {
			continue
		}
		if err := p.planSafely(ctx, s, cv, conn, existing, blocked(s)); err != nil {
			var perr *parkError
			if !errors.As(err, &perr) {
				return err
			}
			if err := p.park(ctx, s, cv, perr); err != nil {
				return err
			}
		}
	}
	return nil
}

// parkError is a day the planner cannot plan under a configuration version:
// trying again gives the same answer until the summary or the configuration
// changes.
type parkError struct{ reason string }

func (e *parkError) Error() string { return e.reason }

func parkID(s *v1.DaySummary, cv *v1.ConfigVersion) string {
	return fmt.Sprintf("plan/%s/c%d", s.GetId(), cv.GetVersion())
}

// parked reports whether the day was parked under this configuration
// version; a new version tries it again, since a mapping fix may be what it
// needed.
func (p *Planner) parked(s *v1.DaySummary, cv *v1.ConfigVersion) bool {
	return p.quarantine != nil && p.quarantine.Has(s.GetCompanyId(), parkID(s, cv))
}

func (p *Planner) park(ctx context.Context, s *v1.DaySummary, cv *v1.ConfigVersion, perr *parkError) error {
	p.log.Error("day parked: it cannot be planned", "company", s.GetCompanyId(), "day", s.GetBusinessDay(), "summary", s.GetId(), "reason", perr.reason)
	if p.qwriter == nil {
		return nil
	}
	return p.qwriter.Put(ctx, &v1.QuarantineEntry{
		Id: parkID(s, cv), CompanyId: s.GetCompanyId(), TenantId: s.GetTenantId(), Stage: "plan", Kind: "day",
		RecordId: s.GetId(), BusinessDay: s.GetBusinessDay(), Currency: s.GetCurrency(), Location: s.GetLocation(),
		Reason: fmt.Sprintf("Revision %d of %s (%s) could not be planned under configuration version %d: %s",
			s.GetRevision(), s.GetBusinessDay(), s.GetCurrency(), cv.GetVersion(), perr.reason),
		CodeVersion: p.version, QuarantinedUnixMs: p.now().UnixMilli(), Attempts: 1,
	})
}

// planSafely plans one summary; a panic inside the mapping is that day's
// failure, not the planner's.
func (p *Planner) planSafely(ctx context.Context, s *v1.DaySummary, cv *v1.ConfigVersion, conn *v1.Connection, existing []*v1.OutboxEntry, blocked bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &parkError{reason: fmt.Sprintf("planning failed unexpectedly (%v); this is a bug in commercesync, and the day waits for a fix", r)}
		}
	}()
	return p.plan(ctx, s, cv, conn, existing, blocked)
}

// quarantineUnreadable parks ledger and outbox records the projections
// could not read, under the company their key names (an outbox record's
// key is its document id, which begins with nothing of the company, so
// those go under the empty company unless the bytes say otherwise).
func (p *Planner) quarantineUnreadable(ctx context.Context) {
	if p.qwriter == nil {
		return
	}
	for _, u := range append(p.ledger.Unreadable(), p.outbox.Unreadable()...) {
		id := fmt.Sprintf("plan/%s/%d/%d", u.Topic, u.Partition, u.Offset)
		if p.quarantine.Has(u.CompanyID, id) {
			continue
		}
		e := &v1.QuarantineEntry{
			Id: id, CompanyId: u.CompanyID, Stage: "plan", Kind: "record", Topic: u.Topic, Partition: u.Partition, Offset: u.Offset,
			Record: u.Value, RecordTruncated: u.Truncated, Reason: u.Topic + " record unreadable: " + u.Err,
			CodeVersion: p.version, QuarantinedUnixMs: p.now().UnixMilli(), Attempts: 1,
		}
		if err := p.qwriter.Put(ctx, e); err != nil {
			p.log.Warn("unreadable ledger record not quarantined yet", "offset", u.Offset, "err", err)
		}
	}
}

// needsReplan reports whether a summary's documents were bound under an
// older configuration or another connection and are still waiting: planned
// and not sent, or stopped for the merchant; or sent with an unknown
// outcome on a connection that has since been replaced (a deauthorized one
// holds its documents, and only the merchant's new connection can send
// them). Binding them again is safe, because a document that may have
// reached the platform is always looked up by its reference before it is
// sent again (lookup_first).
func needsReplan(entries []*v1.OutboxEntry, version int64, connectionID string) bool {
	for _, e := range entries {
		waiting := e.GetState() == v1.OutboxState_OUTBOX_STATE_PLANNED ||
			(e.GetState() == v1.OutboxState_OUTBOX_STATE_FAILED && e.GetErrorClass() == v1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE)
		moved := e.GetConnectionId() != connectionID
		if waiting && (e.GetConfigVersion() < version || moved) {
			return true
		}
		if moved && e.GetState() == v1.OutboxState_OUTBOX_STATE_SENT {
			return true
		}
	}
	return false
}

// resolved reports documents stopped by a day's exceptions that a later
// revision has cleared.
func resolved(entries []*v1.OutboxEntry, blocked bool) bool {
	if blocked {
		return false
	}
	for _, e := range entries {
		if e.GetState() == v1.OutboxState_OUTBOX_STATE_FAILED && e.GetErrorField() == exceptionsField {
			return true
		}
	}
	return false
}

// exceptionsField marks documents stopped by records of the day.
const exceptionsField = "records"

func (p *Planner) plan(ctx context.Context, s *v1.DaySummary, cv *v1.ConfigVersion, conn *v1.Connection, existing []*v1.OutboxEntry, blocked bool) error {
	// What earlier attempts learnt carries over to the new binding.
	prior := map[string]*v1.OutboxEntry{}
	for _, e := range existing {
		prior[e.GetDocumentId()] = e
	}
	carry := func(e *v1.OutboxEntry) *v1.OutboxEntry {
		if old, ok := prior[e.GetDocumentId()]; ok {
			e.Attempts, e.LookupFirst = old.GetAttempts(), old.GetLookupFirst()
		}
		return e
	}
	base := &v1.OutboxEntry{
		CompanyId: s.GetCompanyId(), TenantId: s.GetTenantId(), ConnectionId: conn.GetId(), PlatformKey: conn.GetPlatformKey(),
		SummaryId: s.GetId(), BusinessDay: s.GetBusinessDay(), Currency: s.GetCurrency(), Revision: s.GetRevision(),
		ConfigVersion: cv.GetVersion(), UpdatedUnixMs: p.now().UnixMilli(), Location: s.GetLocation(),
	}
	setup, _ := p.control.PlatformSetup(conn.GetId())
	planned, err := p.documents(s, cv, blocked, conn.GetPlatformKey(), setup)
	var merr *mapping.Error
	if errors.As(err, &merr) {
		id := mapping.DocumentID(s.GetId(), 0)
		e := cloneEntry(base)
		e.DocumentId, e.Reference, e.State = id, mapping.Reference(id), v1.OutboxState_OUTBOX_STATE_FAILED
		e.ErrorClass, e.ErrorField, e.ErrorMessage = v1.ErrorClass_ERROR_CLASS_MERCHANT_ACTIONABLE, merr.Field, merr.Message
		p.log.Warn("day not mapped", "company", s.GetCompanyId(), "day", s.GetBusinessDay(), "err", merr.Message)
		return p.writer.Put(ctx, carry(e))
	}
	if err != nil {
		return &parkError{reason: err.Error()}
	}
	if len(planned) == 0 {
		// Invoice mode has nothing to send for a day that nets to nothing;
		// an empty journal records the day as done, as journal mode does.
		id := mapping.DocumentID(s.GetId(), 0)
		planned = []mapping.Planned{{DocumentID: id, Reference: mapping.Reference(id), Document: mapping.Document{
			Type: mapping.TypeJournal, Date: s.GetBusinessDay(), Currency: s.GetCurrency(), Narration: "nothing to post"}}}
	}
	if err := p.supersede(ctx, existing, len(planned)); err != nil {
		return err
	}
	for _, pd := range planned {
		e := cloneEntry(base)
		e.DocumentId, e.Reference, e.DocumentIndex = pd.DocumentID, pd.Reference, int32(pd.Index)
		e.State, e.Document = v1.OutboxState_OUTBOX_STATE_PLANNED, DocumentProto(pd.Document, invoiceOptions(cv.GetConfig(), setup).IsBank)
		e = carry(e)
		if pd.Document.Type == mapping.TypeJournal && len(pd.Document.Lines) == 0 && !e.GetLookupFirst() {
			// Everything nets to nothing in the merchant's accounts (a sale
			// and its refund both on the sales account): there is nothing to
			// post, and every platform refuses a journal without lines. A
			// document that may already have reached the platform still goes
			// through the worker, which looks it up first.
			e.State = v1.OutboxState_OUTBOX_STATE_CONFIRMED
			p.log.Info("nothing to post", "company", s.GetCompanyId(), "day", s.GetBusinessDay(), "document", pd.DocumentID)
		}
		if err := p.writer.Put(ctx, e); err != nil {
			return err
		}
	}
	p.log.Info("day planned", "company", s.GetCompanyId(), "day", s.GetBusinessDay(), "currency", s.GetCurrency(),
		"revision", s.GetRevision(), "documents", len(planned))
	return nil
}

// supersede retires documents of an earlier plan of the summary that the
// new plan no longer has (a new mapping can merge two payment types into
// one payment), so they are never sent. One whose send had an unknown
// outcome may exist on the platform; the entry says so.
func (p *Planner) supersede(ctx context.Context, existing []*v1.OutboxEntry, n int) error {
	for _, e := range existing {
		if int(e.GetDocumentIndex()) < n || e.GetState() == v1.OutboxState_OUTBOX_STATE_SUPERSEDED ||
			e.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED && !e.GetLookupFirst() {
			continue
		}
		old := cloneEntry(e)
		old.State, old.UpdatedUnixMs = v1.OutboxState_OUTBOX_STATE_SUPERSEDED, p.now().UnixMilli()
		if e.GetLookupFirst() || e.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED {
			old.ErrorMessage = fmt.Sprintf("A new plan of this day no longer has this document, but it may have reached the platform: check for reference %s.", e.GetReference())
			p.log.Warn("document superseded after a send", "company", e.GetCompanyId(), "document", e.GetDocumentId(), "reference", e.GetReference())
		}
		if err := p.writer.Put(ctx, old); err != nil {
			return err
		}
	}
	return nil
}

func cloneEntry(e *v1.OutboxEntry) *v1.OutboxEntry { return proto.Clone(e).(*v1.OutboxEntry) }

func (p *Planner) documents(s *v1.DaySummary, cv *v1.ConfigVersion, blocked bool, platform string, setup *v1.PlatformSetup) ([]mapping.Planned, error) {
	if blocked {
		// Each revision holds only money that adds up, so once the day's
		// records are corrected every revision can go; until then the day
		// stops with the records named.
		var msgs []string
		for _, e := range s.GetExceptions() {
			msgs = append(msgs, e.GetMessage())
		}
		return nil, &mapping.Error{Field: exceptionsField, Message: strings.Join(msgs, " ")}
	}
	cfg := cv.GetConfig()
	ds, err := DomainSummary(s)
	if err != nil {
		return nil, err
	}
	var planned []mapping.Planned
	if InvoiceMode(cfg) {
		if !p.platform(platform).InvoiceMode {
			return nil, &mapping.Error{Field: "configuration.mapSettings.outputFormat", Message: fmt.Sprintf(
				"This accounting platform takes daily journals only; set configuration.mapSettings.outputFormat to \"JournalEntry\" (it was %q).",
				cfg.GetConfiguration().GetMapSettings().GetOutputFormat())}
		}
		// Invoices carry their own currency, so a day sold in another
		// currency posts as sold and the platform converts it.
		if planned, err = mapping.Invoices(ds, configAccounts{cfg}, invoiceOptions(cfg, setup)); err != nil {
			return nil, err
		}
	} else {
		if planned, err = mapping.Journal(ds, configAccounts{cfg}); err != nil {
			return nil, err
		}
		if planned, err = convert(planned, s.GetCurrency(), setup, cfg); err != nil {
			return nil, err
		}
		if p.platform(platform).BankThroughTransactions && len(planned) == 1 {
			opts := invoiceOptions(cfg, setup)
			if planned, err = mapping.MoveBankLines(planned[0], s.GetId(), opts.IsBank, opts.Customer); err != nil {
				return nil, err
			}
		}
	}
	if loc := s.GetLocation(); loc != "" {
		var tr []mapping.Tracking
		for _, r := range cfg.GetConfiguration().GetLocationTracking()[loc].GetTracking() {
			tr = append(tr, mapping.Tracking{CategoryID: r.GetCategoryId(), OptionID: r.GetOptionId()})
		}
		planned = mapping.Track(planned, tr)
	}
	lockDate := setup.GetLockDate()
	if lockDate == "" || s.GetBusinessDay() > lockDate {
		return planned, nil
	}
	return onLockedDay(planned, s.GetBusinessDay(), lockDate, cfg.GetSchedule().GetLockedPeriodPolicy())
}

// InvoiceMode reports whether a configuration asks for invoices: Codat's
// outputFormat is "JournalEntry" or absent, absent meaning invoices;
// "Invoice" says so explicitly.
func InvoiceMode(cfg *v1.SyncConfiguration) bool {
	return cfg.GetConfiguration().GetMapSettings().GetOutputFormat() != "JournalEntry"
}

func invoiceOptions(cfg *v1.SyncConfiguration, setup *v1.PlatformSetup) mapping.InvoiceOptions {
	conf := cfg.GetConfiguration()
	bank := map[string]bool{}
	for _, a := range setup.GetAccounts() {
		bank[a.GetId()] = a.GetClassification() == "bank"
	}
	return mapping.InvoiceOptions{
		Customer: conf.GetSales().GetSalesCustomer().GetSelectedCustomerId(),
		Supplier: conf.GetFees().GetFeesSupplier().GetSelectedSupplierId(),
		Status:   conf.GetSales().GetInvoiceStatus().GetSelectedInvoiceStatus(),
		IsBank:   func(id string) bool { return bank[id] },
	}
}

// convert restates a day sold in another currency than the platform's base
// one at the merchant's configured rate. Without a rate the documents stay
// as sold, and the push worker names the missing rate before anything is
// sent.
func convert(planned []mapping.Planned, currency string, setup *v1.PlatformSetup, cfg *v1.SyncConfiguration) ([]mapping.Planned, error) {
	base := setup.GetBaseCurrency()
	if base == "" || base == currency {
		return planned, nil
	}
	raw, ok := cfg.GetConfiguration().GetExchangeRates()[currency]
	if !ok {
		return planned, nil
	}
	field := "configuration.exchangeRates." + currency
	if raw == PlatformRate {
		held, ok := setup.GetExchangeRates()[currency]
		if !ok {
			return nil, &mapping.Error{Field: field, Message: fmt.Sprintf(
				"%s is \"platform\", but the accounting platform holds no exchange rate for %s. Add one there, or give a fixed rate such as \"1.27\".",
				field, currency)}
		}
		raw = held
	}
	rate, err := decimal.NewFromString(raw)
	if err != nil || !rate.IsPositive() {
		return nil, &mapping.Error{Field: field, Message: fmt.Sprintf(
			"The exchange rate %q for %s is not a positive decimal; set it to the units of %s one %s buys, such as \"1.27\".",
			raw, currency, base, currency)}
	}
	return mapping.Convert(planned, base, rate, configAccounts{cfg})
}

// PlatformRate, as a configured exchange rate, takes the rate the
// accounting platform holds when the day is planned.
const PlatformRate = "platform"

// onLockedDay applies the configured policy to a day the platform has
// locked: stop with "reconcile manually", or post on the first open day.
func onLockedDay(planned []mapping.Planned, day, lockDate, policy string) ([]mapping.Planned, error) {
	locked, err := time.Parse(time.DateOnly, lockDate)
	if err != nil {
		return nil, fmt.Errorf("lock date %q: %w", lockDate, err)
	}
	firstOpen := locked.AddDate(0, 0, 1).Format(time.DateOnly)
	if policy != "PostOnFirstOpenDay" {
		return nil, &mapping.Error{Field: "schedule.lockedPeriodPolicy", Message: fmt.Sprintf(
			"%s falls in a period the accounting platform has locked (through %s). Reconcile manually, or set "+
				"schedule.lockedPeriodPolicy to \"PostOnFirstOpenDay\" to post it on %s.", day, lockDate, firstOpen)}
	}
	for i := range planned {
		planned[i].Document.Date = firstOpen
		planned[i].Document.Narration += fmt.Sprintf(" (for %s, locked; posted on the first open day)", day)
	}
	return planned, nil
}

// DomainSummary converts a wire summary back to the domain type.
func DomainSummary(s *v1.DaySummary) (day.Summary, error) {
	out := day.Summary{
		Header: day.Header{
			CompanyID: s.GetCompanyId(), TenantID: s.GetTenantId(), Day: s.GetBusinessDay(), Currency: s.GetCurrency(), Location: s.GetLocation(),
			Revision: int(s.GetRevision()), Zone: s.GetTimeZone(), CutoffHour: int(s.GetCutoffHour()),
			Start: time.UnixMilli(s.GetStartUnixMs()).UTC(), End: time.UnixMilli(s.GetEndUnixMs()).UTC(),
			SealedBy: s.GetSealedBy(), ConfigVersion: s.GetConfigVersion(), RecordCount: int(s.GetRecordCount()),
			ExceptionCount: int(s.GetExceptionCount()),
		},
		ID: s.GetId(), Sequence: s.GetSequence(), PrevHash: s.GetPrevHash(), Hash: s.GetHash(),
	}
	for _, l := range s.GetLines() {
		d, err := money.Parse(l.GetDebit())
		if err != nil {
			return day.Summary{}, fmt.Errorf("summary %s line %s debit: %w", s.GetId(), l.GetAccount(), err)
		}
		c, err := money.Parse(l.GetCredit())
		if err != nil {
			return day.Summary{}, fmt.Errorf("summary %s line %s credit: %w", s.GetId(), l.GetAccount(), err)
		}
		out.Lines = append(out.Lines, day.Line{Account: day.Account(l.GetAccount()), Debit: d, Credit: c})
	}
	return out, nil
}

// configAccounts reads account selections from Codat's configuration shape.
type configAccounts struct{ cfg *v1.SyncConfiguration }

func (c configAccounts) Account(section, key string) (mapping.Binding, bool) {
	conf := c.cfg.GetConfiguration()
	var maps []map[string]*v1.AccountConfiguration
	switch section {
	case "sales":
		maps = append(maps, conf.GetSales().GetAccounts())
	case "payments":
		// Codat kept two payments sections; newPayments wins where both map a key.
		maps = append(maps, conf.GetNewPayments().GetAccounts(), conf.GetPayments().GetAccounts())
	case "fees":
		maps = append(maps, conf.GetFees().GetAccounts())
	}
	for _, m := range maps {
		ac, ok := m[key]
		if !ok || ac.GetSelectedAccountId() == "" {
			continue
		}
		b := mapping.Binding{AccountID: ac.GetSelectedAccountId()}
		for _, o := range ac.GetAccountOptions() {
			if o.GetId() == b.AccountID {
				b.Code, b.Name = o.GetNominalCode(), o.GetName()
			}
		}
		return b, true
	}
	return mapping.Binding{}, false
}

// DocumentProto is a planned document as the outbox stores it and the push
// worker sends it; bank says which of the merchant's accounts are bank
// accounts.
// DomainDocument reads a document back from its wire form: what
// DocumentProto wrote, less the bank flags, which only the connectors use.
func DomainDocument(d *v1.Document) (mapping.Document, error) {
	line := func(l *v1.DocumentLine, what string) (mapping.Line, error) {
		if l == nil {
			return mapping.Line{}, nil
		}
		amt, err := money.Parse(l.GetAmount())
		if err != nil {
			return mapping.Line{}, fmt.Errorf("%s amount %q: %w", what, l.GetAmount(), err)
		}
		return mapping.Line{Account: mapping.Binding{AccountID: l.GetAccountId(), Code: l.GetAccountCode()},
			Semantic: day.Account(l.GetSemanticAccount()), Description: l.GetDescription(), Amount: amt}, nil
	}
	out := mapping.Document{Type: d.GetType(), Date: d.GetDate(), Currency: d.GetCurrency(), Narration: d.GetNarration(),
		Contact: d.GetContact(), Status: d.GetStatus()}
	for i, l := range d.GetLines() {
		ml, err := line(l, fmt.Sprintf("line %d", i+1))
		if err != nil {
			return mapping.Document{}, err
		}
		out.Lines = append(out.Lines, ml)
	}
	var err error
	if out.Money, err = line(d.GetMoney(), "money"); err != nil {
		return mapping.Document{}, err
	}
	if out.To, err = line(d.GetTo(), "to"); err != nil {
		return mapping.Document{}, err
	}
	for _, i := range d.GetAppliesTo() {
		out.AppliesTo = append(out.AppliesTo, int(i))
	}
	for _, t := range d.GetTracking() {
		out.Tracking = append(out.Tracking, mapping.Tracking{CategoryID: t.GetCategoryId(), OptionID: t.GetOptionId()})
	}
	return out, nil
}

func DocumentProto(d mapping.Document, bank func(string) bool) *v1.Document {
	dp, _ := money.MinorUnits(d.Currency)
	line := func(l mapping.Line) *v1.DocumentLine {
		amt, _ := l.Amount.Fixed(dp) // the mapping already refused amounts that do not fit
		return &v1.DocumentLine{
			AccountId: l.Account.AccountID, AccountCode: l.Account.Code, Description: l.Description,
			Amount: amt, SemanticAccount: string(l.Semantic), Bank: l.Account.AccountID != "" && bank(l.Account.AccountID),
		}
	}
	out := &v1.Document{Type: d.Type, Date: d.Date, Currency: d.Currency, Narration: d.Narration, Contact: d.Contact, Status: d.Status}
	for _, l := range d.Lines {
		out.Lines = append(out.Lines, line(l))
	}
	if d.Money.Amount != 0 {
		out.Money = line(d.Money)
	}
	if d.To.Amount != 0 {
		out.To = line(d.To)
	}
	for _, i := range d.AppliesTo {
		out.AppliesTo = append(out.AppliesTo, int32(i))
	}
	for _, t := range d.Tracking {
		out.Tracking = append(out.Tracking, &v1.DocumentTracking{CategoryId: t.CategoryID, OptionId: t.OptionID})
	}
	return out
}
