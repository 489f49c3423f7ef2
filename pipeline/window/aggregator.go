// Package window is the aggregator: one writer per company turns the
// company's commerce records into daily summaries in semantic accounts.
//
// The Aggregator holds the state and its rules and does no I/O, so the same
// code runs in the Kafka job, in benchmarks and in property tests. Its output
// is a function of its input order alone: sealing is driven by records in
// the input (watermarks, clock ticks, close-up-to), never by batch
// boundaries or wall time.
package window

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Sealed-by reasons.
const (
	ByWatermark = "watermark"
	ByCloseUpTo = "close_up_to"
	ByClockTick = "clock_tick"
)

// transactionTypes lists every Codat transaction type, so that a sparse
// delete {id} of a transaction removes each record sharing the id.
var transactionTypes = []string{"Payment", "Refund", "Payout", "FailedPayout", "Transfer", "PaymentFee", "PaymentFeeRefund", "Unknown"}

// Aggregator holds the state of the companies of the partitions it owns.
// Changes accumulate in a batch until Commit, or are rolled back by Abort,
// matching the Kafka transaction they ride in. Within a batch, applying a
// record is all or nothing (undo.go): a record Apply refuses leaves nothing
// of itself in the state, and the caller quarantines it.
type Aggregator struct {
	companies map[string]*company
	log       *slog.Logger
	b         batch
	u         undoLog
	gen       uint64
	seq       uint64
	// idx counts changes to the indexes, which the undo log does not hold:
	// a rollback that spans one rebuilds them.
	idx     uint64
	scratch []byte
	// lean is the record entry Restore read last.
	lean leanRecord
	kb   []byte
	fl   flushBufs

	fault   func(FaultPoint) error
	faultEv *v1.CommerceEvent
	faultN  int

	// parks are days the caller asked to park when they next emit (their
	// summary could not be written), until the batch that parks them
	// commits.
	parks map[DayRef]parkOrder
	stats Stats

	// st holds every record and every day that is not live; ownStore says
	// the aggregator opened it (in memory) and closes it.
	st       *Store
	ownStore bool
	// hot lists the companies with records in memory, loadedDays the days
	// read from the store: Commit forgets them.
	hot        []*company
	loadedDays []dayTouch
	// restoring holds, per partition being restored, the store batch the
	// changelog is read into.
	restoring map[int32]*restoreState
	// zones loads each company's time zone once, not once per calendar.
	zones *day.Zones
	// contrib says whether the batch writes each change of a record's
	// contribution to a day (for ledger.contributions).
	contrib bool
}

// Stats counts what the aggregator did in committed batches.
type Stats struct {
	// Applied and Refused count input records: every record given to Apply
	// is one or the other.
	Applied, Refused int64
	// DaysParked counts days parked (quarantined as days).
	DaysParked int64
}

// DayRef names one day of one company in one currency and location.
type DayRef struct {
	CompanyID, Day, Currency, Location string
}

// ParkedDay is a day the batch parked: sealed, with no revision emitted
// until it is resumed, because its summary could not be built or written.
type ParkedDay struct {
	DayRef
	TenantID  string
	Partition int32
	// Revision is the revision that could not be emitted.
	Revision int
	Reason   string
	Attempts int
}

type parkOrder struct {
	reason   string
	attempts int
}

// FaultPoint is where a test's fault hook is called inside Apply: Where
// names the step, N counts the hook's calls within this Apply from 1.
type FaultPoint struct {
	Event *v1.CommerceEvent
	Where string
	N     int
}

// AggregatorOption configures an Aggregator.
type AggregatorOption func(*Aggregator)

// WithFaultHook calls fn at each step of Apply; an error it returns (or a
// panic it raises) fails the record there. Only tests set it: it is how they
// prove that a failure at any point leaves nothing of the record behind.
func WithFaultHook(fn func(FaultPoint) error) AggregatorOption {
	return func(a *Aggregator) { a.fault = fn }
}

// WithStore keeps the aggregator's state in st, which the caller opened
// and closes. Without it the aggregator keeps its store in memory.
func WithStore(st *Store) AggregatorOption {
	return func(a *Aggregator) { a.st = st }
}

// WithZoneCache loads the companies' time zones through z instead of a
// cache of the aggregator's own.
func WithZoneCache(z *day.Zones) AggregatorOption {
	return func(a *Aggregator) { a.zones = z }
}

// WithContributions makes every batch's output carry each change of a
// record's contribution to a day (Output.Contributions), for
// ledger.contributions.
func WithContributions() AggregatorOption {
	return func(a *Aggregator) { a.contrib = true }
}

// NewAggregator makes an aggregator with no companies. Close it when done.
func NewAggregator(log *slog.Logger, opts ...AggregatorOption) *Aggregator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Aggregator{companies: map[string]*company{}, log: log, gen: 1, seq: 1, parks: map[DayRef]parkOrder{},
		restoring: map[int32]*restoreState{}, zones: day.NewZones(nil)}
	for _, o := range opts {
		o(a)
	}
	if a.st == nil {
		st, err := OpenStore("", InMemory(), WithCacheBytes(1_048_576), WithMemtableBytes(1_048_576))
		if err != nil {
			// Pebble on its memory file system has no disk to fail.
			panic(fmt.Sprintf("open the window's in-memory store: %v", err))
		}
		a.st, a.ownStore = st, true
	}
	return a
}

// Close closes the store the aggregator opened itself.
func (a *Aggregator) Close() error {
	if !a.ownStore {
		return nil
	}
	return a.st.Close()
}

// Stats returns the counts of committed batches.
func (a *Aggregator) Stats() Stats { return a.stats }

// faultAt runs the test-only fault hook at a step of Apply.
func (a *Aggregator) faultAt(where string) error {
	if a.fault == nil || a.faultEv == nil {
		return nil
	}
	a.faultN++
	return a.fault(FaultPoint{Event: a.faultEv, Where: where, N: a.faultN})
}

type recTouch struct {
	c *company
	k recordKey
	e *recEntry
}

type dayTouch struct {
	c *company
	k dayKey
	e *dayEntry
	// stored says the store marks the day live (section L): it did when
	// the batch first touched it, for the store then held what the heap
	// did. Commit rewrites the mark only when that changes.
	stored bool
}

// batch lists what the open batch touched, in order: the keys to write to
// the changelog, and what else it emits.
type batch struct {
	recs      []recTouch
	days      []dayTouch
	refs      []refTouch
	heads     []*company
	created   []*company
	summaries []*v1.DaySummary
	dayExc    []ExceptionChange
	posted    []postedTouch
	parked    []ParkedDay
	parkUsed  []DayRef
	// contribs are the batch's contribution changes, written into cbuf as
	// they happen (a later change of the same record must not rewrite an
	// earlier one).
	contribs []contribSpan
	cbuf     []byte
	cout     []Change
	ckb      []byte
	stats    Stats
	// changes are what Flush returned, for Commit to write to the store.
	changes []Change
	flushed bool
}

func (b *batch) reset() {
	clear(b.recs)
	clear(b.days)
	clear(b.refs)
	clear(b.heads)
	clear(b.created)
	clear(b.posted)
	b.recs, b.days, b.heads, b.created, b.summaries = b.recs[:0], b.days[:0], b.heads[:0], b.created[:0], nil
	b.refs, b.posted, b.dayExc, b.parked, b.parkUsed = b.refs[:0], b.posted[:0], nil, nil, nil
	clear(b.contribs)
	b.contribs, b.cbuf = b.contribs[:0], b.cbuf[:0]
	b.stats = Stats{}
	b.changes, b.flushed = nil, false
}

// Change is one changelog record: Value nil deletes the key.
type Change struct {
	Partition int32
	Key       []byte
	Value     []byte
}

func (a *Aggregator) company(id string, partition int32) *company {
	c, ok := a.companies[id]
	if !ok {
		c = newCompany(a, id, partition)
		a.companies[id] = c
		a.b.created = append(a.b.created, c)
		a.touchHead(c)
	}
	return c
}

// touchHead logs the company's head before the change that follows.
func (a *Aggregator) touchHead(c *company) {
	if c.headSeq == a.seq {
		return
	}
	op := headOp{c: c, saved: c.head()}
	if c.headGen != a.gen {
		c.headGen, op.joined = a.gen, true
		a.b.heads = append(a.b.heads, c)
	}
	c.headSeq = a.seq
	a.u.heads = append(a.u.heads, op)
}

// putRec sets record k to rs; e is k's entry as the caller found it (nil:
// not looked up yet), so that the key is looked up once.
func (a *Aggregator) putRec(c *company, k recordKey, e *recEntry, rs *recState) {
	if e == nil {
		e = c.recEntry(k)
	}
	if e.seq != a.seq {
		op := recOp{e: e, c: c, k: k, prev: e.cur}
		if e.gen != a.gen {
			e.gen, op.joined = a.gen, true
			a.b.recs = append(a.b.recs, recTouch{c, k, e})
		}
		e.seq = a.seq
		a.u.recs = append(a.u.recs, op)
	}
	e.cur = rs
}

// dayForWrite returns the day for this record to change, making the day if
// needed, and logs its value before the change.
func (a *Aggregator) dayForWrite(c *company, k dayKey) (*dayState, error) {
	e := c.dayEntry(k)
	if e.seq == a.seq && e.cur != nil {
		return e.cur, nil
	}
	if e.seq != a.seq {
		op := dayOp{e: e, c: c, k: k, ptr: e.cur}
		if e.cur != nil {
			op.val = *e.cur
		}
		if e.gen != a.gen {
			e.gen, op.joined = a.gen, true
			a.b.days = append(a.b.days, dayTouch{c: c, k: k, e: e, stored: live(e.cur)})
		}
		e.seq = a.seq
		a.u.days = append(a.u.days, op)
	}
	if e.cur != nil {
		return e.cur, nil
	}
	start, end, err := c.cal.Bounds(k.day)
	if err != nil {
		return nil, fmt.Errorf("bounds of %s: %w", k.day, err)
	}
	e.cur = &dayState{start: start.UnixMilli(), end: end.UnixMilli()}
	if at := e.cur.end + c.grace(); c.nextSeal != 0 && at < c.nextSeal {
		c.nextSeal = at
	}
	return e.cur, nil
}

// Apply feeds one input record of partition into the state, all or
// nothing: when it returns an error (a limit, a value it cannot read, a rule
// that refuses the record, or a panic recovered), nothing of the record is
// left in the state, and the caller quarantines it. A day the record seals
// whose summary cannot be built is parked, not the record.
func (a *Aggregator) Apply(partition int32, ev *v1.CommerceEvent) (err error) {
	if err := checkEvent(ev); err != nil {
		a.b.stats.Refused++
		return err
	}
	scope := a.companies[ev.GetCompanyId()]
	sp := a.savepoint()
	a.faultEv, a.faultN = ev, 0
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(storeFailure); ok {
				panic(f)
			}
			a.log.Error("applying a record panicked; it is refused", "company", ev.GetCompanyId(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("applying it panicked: %v", r)
		}
		a.faultEv = nil
		if err != nil {
			a.rollback(sp, scope)
			a.b.stats.Refused++
			return
		}
		a.b.stats.Applied++
	}()
	return a.apply(partition, ev, scope)
}

// apply applies ev; c is its company as Apply found it (nil: new), so the
// company is looked up once.
func (a *Aggregator) apply(partition int32, ev *v1.CommerceEvent, c *company) error {
	if err := a.faultAt("start"); err != nil {
		return err
	}
	if tick := ev.GetClockTick(); tick != nil && ev.GetCompanyId() == "" {
		return a.tickPartition(partition, tick.GetNowUnixMs())
	}
	if c == nil {
		c = a.company(ev.GetCompanyId(), partition)
	}
	if c.tenant == "" && ev.GetTenantId() != "" {
		a.touchHead(c)
		c.tenant = ev.GetTenantId()
	}
	switch b := ev.Body.(type) {
	case *v1.CommerceEvent_Record:
		return a.applyRecord(c, b.Record, ev.GetReceivedUnixMs())
	case *v1.CommerceEvent_CloseUpTo:
		up := b.CloseUpTo.GetUpToUnixMs()
		return a.sealAndEmit(c, ByCloseUpTo, func(d *dayState) bool { return d.end <= up })
	case *v1.CommerceEvent_ClockTick:
		return a.tick(c, b.ClockTick.GetNowUnixMs())
	case *v1.CommerceEvent_Settings:
		return a.applySettings(c, b.Settings)
	case *v1.CommerceEvent_Reference:
		return a.applyReference(c, b.Reference)
	}
	return fmt.Errorf("event of company %s has no body", ev.GetCompanyId())
}

func (c *company) grace() int64 { return c.settings.GetGraceMs() }

func newer(srcMod int64, hash []byte, old *recState) bool {
	if srcMod != old.srcMod {
		return srcMod > old.srcMod
	}
	return bytes.Compare(hash, old.hash) > 0
}

func (a *Aggregator) applyRecord(c *company, re *v1.RecordEvent, received int64) error {
	typ := ""
	if re.GetKind() == v1.RecordKind_RECORD_KIND_TRANSACTION {
		typ = re.GetTransactionType()
	}
	if re.GetDeleted() {
		return a.applyDelete(c, re, typ, received)
	}
	k := recordKey{re.GetKind(), typ, re.GetId()}
	e, old := c.recAt(k)
	if old != nil && !newer(re.GetSourceModifiedUnixMs(), re.GetContentHash(), old) {
		return nil // the same or an older version: duplicates never count twice
	}
	next, err := facts(re)
	if err != nil {
		return err
	}
	if err := a.faultAt("facts"); err != nil {
		return err
	}
	var nextPs []day.Posting
	if k.kind == v1.RecordKind_RECORD_KIND_ORDER {
		next = c.categorised(next)
		var perr error
		if nextPs, perr = day.OrderPostings(orderFacts(next)); errors.Is(perr, day.ErrRounding) {
			next.exception = fmt.Sprintf("Order %s: %v. Correct the order and push it again.", k.id, perr)
			nextPs = nil
		} else if perr != nil {
			nextPs = nil // swap reports it
		} else if nextPs, perr = roundFor(nextPs, next.currency); perr != nil {
			nextPs = nil
		}
	}
	next.day = c.dayFor(next.event)
	next.location = c.locationFor(next.site)
	next.seen = next.event
	if old != nil && old.seen > next.seen {
		next.seen = old.seen
	}
	if k.kind == v1.RecordKind_RECORD_KIND_TRANSACTION {
		next.tender = c.tenderFor(next)
	}
	if err := a.swapWith(c, k, e, old, next, nextPs); err != nil {
		return err
	}
	if k.kind == v1.RecordKind_RECORD_KIND_PAYMENT {
		if err := a.relinkFees(c, k.id); err != nil {
			return err
		}
	}
	if next.event > c.watermark {
		a.touchWatermark(c)
		c.watermark = next.event
		if c.nextSeal != 0 && c.watermark < c.nextSeal {
			return nil
		}
		wm := c.watermark
		return a.sealAndEmit(c, ByWatermark, func(d *dayState) bool { return d.end+c.grace() <= wm })
	}
	return nil
}

// touchWatermark logs the watermark before it moves. The watermark is not
// written to the changelog: Restore takes it from the records
// (recState.seen).
func (a *Aggregator) touchWatermark(c *company) {
	if c.wmSeq == a.seq {
		return
	}
	c.wmSeq = a.seq
	a.u.wms = append(a.u.wms, wmOp{c: c, saved: c.watermark})
}

// tombstoneHash makes a delete win every tie: a version whose source
// modification is not later than the delete's arrival stays deleted.
var tombstoneHash = bytes.Repeat([]byte{0xff}, 33)

// applyDelete handles a sparse {id}. Codat's deletes carry no date, so a
// delete is a version dated when the gateway received it: it removes every
// version modified at the source no later than that, whichever arrives
// first, and a version modified after it brings the record back. A delete
// of a record not seen yet is kept as a tombstone for the same reason.
func (a *Aggregator) applyDelete(c *company, re *v1.RecordEvent, typ string, received int64) error {
	keys := []recordKey{{re.GetKind(), typ, re.GetId()}}
	if re.GetKind() == v1.RecordKind_RECORD_KIND_TRANSACTION && typ == "" {
		keys = keys[:0]
		for _, t := range transactionTypes {
			keys = append(keys, recordKey{re.GetKind(), t, re.GetId()})
		}
	}
	for _, k := range keys {
		e, old := c.recAt(k)
		if old != nil && !newer(received, tombstoneHash, old) {
			continue // already deleted, or changed at the source after this delete
		}
		next := &recState{srcMod: received, hash: tombstoneHash, deleted: true}
		if old != nil {
			next.event, next.currency, next.seen = old.event, old.currency, old.seen
		}
		if err := a.swapWith(c, k, e, old, next, nil); err != nil {
			return err
		}
		if err := a.faultAt("delete"); err != nil {
			return err
		}
		if k.kind == v1.RecordKind_RECORD_KIND_PAYMENT {
			if err := a.relinkFees(c, k.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// facts reads the amounts a record contributes from its exact decimal text.
func facts(re *v1.RecordEvent) (*recState, error) {
	rs := &recState{srcMod: re.GetSourceModifiedUnixMs(), hash: re.GetContentHash(), event: re.GetEventUnixMs()}
	var err error
	parse := func(field, s string, dst *money.Amount) {
		if err != nil || s == "" {
			return
		}
		var v money.Amount
		if v, err = money.Parse(s); err != nil {
			err = fmt.Errorf("%s: %w", field, err)
			return
		}
		*dst = v
	}
	switch b := re.Body.(type) {
	case *v1.RecordEvent_Order:
		o := b.Order
		rs.currency, rs.site = o.GetCurrency(), o.GetLocationRef().GetId()
		parse("totalAmount", o.GetTotalAmount(), &rs.total)
		parse("totalTaxAmount", o.GetTotalTaxAmount(), &rs.tax)
		parse("totalGratuity", o.GetTotalGratuity(), &rs.gratuity)
		var parts []day.TaxPart // every line's tax parts, in one allocation
		if n := len(o.GetOrderLineItems()); n > 0 {
			rs.lines = make([]day.OrderLine, 0, n)
			parts = make([]day.TaxPart, 0, taxLines(o.GetOrderLineItems()))
		}
		for i, l := range o.GetOrderLineItems() {
			f := day.OrderLine{TaxKey: rateKey(l.GetTaxPercentage()), Product: l.GetProductRef().GetId()}
			parse("totalAmount", l.GetTotalAmount(), &f.Total)
			parse("totalTaxAmount", l.GetTotalTaxAmount(), &f.Tax)
			for _, d := range l.GetDiscountAllocations() {
				var v money.Amount
				parse("discountAllocations.totalAmount", d.GetTotalAmount(), &v)
				f.Discount += v
			}
			f.Taxes, parts = taxPartsInto(parts, l.GetTaxes(), parse)
			if err != nil {
				return nil, fmt.Errorf("orderLineItems[%d].%w", i, err)
			}
			rs.lines = append(rs.lines, f)
		}
		for i, sc := range o.GetServiceCharges() {
			f := day.Charge{TaxKey: rateKey(sc.GetTaxPercentage()), Shipping: sc.GetType() == "Shipping"}
			parse("totalAmount", sc.GetTotalAmount(), &f.Total)
			parse("taxAmount", sc.GetTaxAmount(), &f.Tax)
			f.Taxes = taxParts(sc.GetTaxes(), parse)
			if err != nil {
				return nil, fmt.Errorf("serviceCharges[%d].%w", i, err)
			}
			rs.charges = append(rs.charges, f)
		}
	case *v1.RecordEvent_Payment:
		p := b.Payment
		rs.currency = p.GetCurrency()
		rs.payType, rs.status = p.GetType(), p.GetStatus()
		parse("amount", p.GetAmount(), &rs.total)
	case *v1.RecordEvent_Transaction:
		t := b.Transaction
		rs.currency = t.GetCurrency()
		parse("totalAmount", t.GetTotalAmount(), &rs.total)
		switch t.GetType() {
		case "PaymentFee", "PaymentFeeRefund":
			// A fee names its payment in transactionSourceRef; Codat's own
			// example instead reuses the payment's id as the fee's id.
			rs.linked = t.GetId()
			if ref := t.GetTransactionSourceRef(); ref.GetType() == "Payment" && ref.GetId() != "" {
				rs.linked = ref.GetId()
			}
		case "Payout", "FailedPayout":
			rs.settled = append([]string(nil), t.GetSettledTransactionIds()...)
			sort.Strings(rs.settled)
		}
	default:
		return nil, fmt.Errorf("record %s has no body", re.GetId())
	}
	if rs.currency == "" {
		return nil, fmt.Errorf("record %s has no currency", re.GetId())
	}
	return rs, err
}

// rateKey names the tax account of a line taxed at a rate with no
// component: "rate:20" for 20%, whatever the percentage's spelling.
func rateKey(pct string) string {
	if pct == "" {
		return ""
	}
	if k, ok := commonRates[pct]; ok {
		return k
	}
	if k, ok := plainRate(pct); ok {
		return k
	}
	d, err := decimal.NewFromString(pct)
	if err != nil || d.IsZero() {
		return ""
	}
	return "rate:" + d.String()
}

// commonRates spares building the key of the rates most lines carry.
var commonRates = func() map[string]string {
	m := map[string]string{}
	for _, r := range []string{"0", "5", "7", "8", "8.5", "8.875", "9", "10", "12", "13", "15", "16", "19", "20", "21", "23", "25"} {
		m[r] = "rate:" + r
		m[r+".0"] = "rate:" + r
		m[r+".00"] = "rate:" + r
	}
	delete(m, "0")
	delete(m, "0.0")
	delete(m, "0.00")
	return m
}()

// plainRate normalises the usual spellings of a percentage ("20",
// "20.0", "8.50") without a big decimal; other forms take the slow path.
func plainRate(pct string) (string, bool) {
	dot := -1
	for i := 0; i < len(pct); i++ {
		c := pct[i]
		if c == '.' && dot < 0 && i > 0 {
			dot = i
		} else if c < '0' || c > '9' {
			return "", false
		}
	}
	if dot >= 0 {
		pct = strings.TrimRight(pct, "0")
		pct = strings.TrimSuffix(pct, ".")
	}
	pct = strings.TrimLeft(pct, "0")
	if pct == "" || pct[0] == '.' {
		return "", pct == "" // zero: no rate key; ".5" style: slow path
	}
	return "rate:" + pct, true
}

// taxParts reads a line's taxes by component; a part naming no component
// or amount is left to the line's own tax total.
func taxParts(ts []*v1.TaxLine, parse func(string, string, *money.Amount)) []day.TaxPart {
	if len(ts) == 0 {
		return nil
	}
	out := make([]day.TaxPart, 0, len(ts))
	for _, t := range ts {
		id := t.GetTaxComponentRef().GetId()
		if id == "" || t.GetTaxAmount() == "" {
			continue
		}
		var v money.Amount
		parse("taxes.taxAmount", t.GetTaxAmount(), &v)
		out = append(out, day.TaxPart{Key: id, Amount: v})
	}
	return out
}

func (c *company) dayFor(event int64) string {
	if !c.hasCal {
		return ""
	}
	if event < c.cacheFrom || event >= c.cacheTo {
		d := c.cal.DayOf(time.UnixMilli(event))
		start, end, err := c.cal.Bounds(d)
		if err != nil {
			return d
		}
		c.cacheFrom, c.cacheTo, c.cacheDay = start.UnixMilli(), end.UnixMilli(), d
	}
	if start := c.settings.GetStartDate(); start != "" && c.cacheDay < start {
		return ""
	}
	return c.cacheDay
}

// tenderFor resolves the tender a transaction moves money on: a fee's
// payment's type, or the one type every payment a payout settles shares
// ("" when they are unknown or of several types).
func (c *company) tenderFor(rs *recState) string {
	if rs.linked != "" {
		return c.tenderOf(rs.linked)
	}
	tender := ""
	for i, id := range rs.settled {
		t := c.tenderOf(id)
		if t == "" || (i > 0 && t != tender) {
			return ""
		}
		tender = t
	}
	return tender
}

func (c *company) tenderOf(paymentID string) string {
	if paymentID == "" {
		return ""
	}
	p := c.rec(recordKey{v1.RecordKind_RECORD_KIND_PAYMENT, "", paymentID})
	if p == nil || p.deleted {
		return ""
	}
	return p.payType
}

func orderFacts(rs *recState) day.OrderFacts {
	f := day.OrderFacts{Total: rs.total, Tax: rs.tax, Gratuity: rs.gratuity, Lines: rs.lines, Charges: rs.charges}
	if dp, ok := money.MinorUnits(rs.currency); ok {
		f.Unit = money.FromMinor(1, dp)
	}
	return f
}

// postings is a record's contribution in its currency's minor units.
func postings(k recordKey, rs *recState) ([]day.Posting, error) {
	if rs.exception != "" {
		return nil, nil
	}
	var ps []day.Posting
	var err error
	switch k.kind {
	case v1.RecordKind_RECORD_KIND_ORDER:
		ps, err = day.OrderPostings(orderFacts(rs))
	case v1.RecordKind_RECORD_KIND_PAYMENT:
		ps, err = day.PaymentPostings(day.PaymentFacts{Type: rs.payType, Status: rs.status, Amount: rs.total})
	case v1.RecordKind_RECORD_KIND_TRANSACTION:
		ps, err = day.TransactionPostings(day.TransactionFacts{Type: k.typ, TenderType: rs.tender, Amount: rs.total})
	default:
		return nil, fmt.Errorf("unknown record kind %v", k.kind)
	}
	if err != nil {
		return nil, err
	}
	return roundFor(ps, rs.currency)
}

// roundFor rounds a record's postings to its currency's minor units; an
// unknown currency keeps them exact (the gateway refuses such records).
func roundFor(ps []day.Posting, currency string) ([]day.Posting, error) {
	dp, ok := money.MinorUnits(currency)
	if !ok {
		return ps, nil
	}
	return day.RoundPostings(ps, dp)
}

func counts(rs *recState) bool { return rs != nil && !rs.deleted && rs.day != "" }

// swap replaces a record's contribution: the old version's postings leave
// its day and the new version's enter its own, which may be another day.
// Should any step fail, Apply rolls the whole record back.
func (a *Aggregator) swap(c *company, k recordKey, old, next *recState) error {
	return a.swapWith(c, k, c.recEntry(k), old, next, nil)
}

// swapWith is swap with the record's entry already found (nil: it has
// none) and the new version's postings already worked out (nil: work them
// out here).
func (a *Aggregator) swapWith(c *company, k recordKey, e *recEntry, old, next *recState, nextPs []day.Posting) error {
	var oldPs []day.Posting
	var err error
	if counts(old) {
		if oldPs, err = postings(k, old); err != nil {
			return err
		}
	}
	if counts(next) && nextPs == nil {
		if nextPs, err = postings(k, next); err != nil {
			return err
		}
	}
	if err := a.checkStateSize(c, k, next); err != nil {
		return err
	}
	if counts(old) {
		if err := a.contribute(c, old.dayKey(), oldPs, -1, k, old); err != nil {
			return err
		}
	}
	if err := a.faultAt("swap"); err != nil {
		return err
	}
	if counts(next) {
		if err := a.contribute(c, next.dayKey(), nextPs, +1, k, next); err != nil {
			return err
		}
	}
	a.idx++
	for _, id := range old.links() {
		removeIndex(c.feesByPayment, id, k)
	}
	for _, id := range next.links() {
		addIndex(c.feesByPayment, id, k)
	}
	for _, id := range old.products() {
		removeIndex(c.ordersByProduct, id, k)
	}
	for _, id := range next.products() {
		addIndex(c.ordersByProduct, id, k)
	}
	a.putRec(c, k, e, next)
	return nil
}

// smallState is how many lines, charges, tax parts and settled ids a record
// may have and still, with every string at its limit, encode far below
// MaxRecordStateBytes (TestOutputWithinRecordLimitAtEveryMaximum): most
// records skip the exact measure.
const smallState = 100

// checkStateSize refuses a record version whose changelog entry would pass
// MaxRecordStateBytes: its lines carry their categories, which the record
// itself does not, so a record within the topic's limit may not be.
func (a *Aggregator) checkStateSize(c *company, k recordKey, rs *recState) error {
	n := len(rs.lines) + len(rs.charges) + len(rs.settled)
	for _, l := range rs.lines {
		n += len(l.Taxes)
	}
	for _, ch := range rs.charges {
		n += len(ch.Taxes)
	}
	if n <= smallState {
		return nil
	}
	var scratch []byte
	a.scratch, scratch = appendRecordChange(a.scratch[:0], scratch, k, rs)
	if size := len(a.scratch) + recordKeyLen(c.id, k); size > MaxRecordStateBytes {
		return fmt.Errorf("its state would take %d bytes (with its lines' categories); the limit is %d", size, MaxRecordStateBytes)
	}
	return nil
}

// contribute adds (sign +1) or takes back (-1) the postings ps of record
// rk's version rs in its day k.
func (a *Aggregator) contribute(c *company, k dayKey, ps []day.Posting, sign int, rk recordKey, rs *recState) error {
	recordID, exception := rk.id, rs.exception
	if a.contrib {
		a.noteContribution(c, k, ps, sign, rk, rs)
	}
	d, err := a.dayForWrite(c, k)
	if err != nil {
		return err
	}
	before := len(d.totals)
	if err := a.addTotals(d, ps, sign); err != nil {
		return fmt.Errorf("company %s day %s %s: %w", c.id, k.day, k.currency, err)
	}
	if n := len(d.totals); n > MaxDayAccounts && n > before {
		return fmt.Errorf("day %s %s would hold %d accounts; the limit is %d (each category, tax component, tax rate and tender makes one)",
			k.day, k.currency, n, MaxDayAccounts)
	}
	if err := a.faultAt("contribute"); err != nil {
		return err
	}
	if exception != "" {
		if sign > 0 {
			a.setException(c, k, recordID, exception, false)
		} else {
			a.setException(c, k, recordID, "", false)
		}
	}
	d.records += sign
	if d.sealed {
		d.dirty = true
	}
	if !d.sealed && d.records == 0 && d.totals.isZero() {
		c.days[k].cur = nil // written as a tombstone; dropped at Commit
	}
	return nil
}

// sortedKeys lists a set of records in key order, so records re-applied
// from a map always go in the same order and the same input writes the
// same changelog.
func sortedKeys(set map[recordKey]struct{}) []recordKey {
	keys := make([]recordKey, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// sortKeys orders keys by their text, as the changelog has always written
// them; types and ids may hold the text's separator, so keys that print
// alike fall back to their fields and the order never depends on the map
// the keys came from.
func sortKeys(keys []recordKey) {
	slices.SortFunc(keys, func(a, b recordKey) int {
		return cmp.Or(strings.Compare(a.String(), b.String()),
			cmp.Compare(a.kind, b.kind), strings.Compare(a.typ, b.typ), strings.Compare(a.id, b.id))
	})
}

// relinkFees gives the fees and payouts of a payment the tender its
// payment now has.
func (a *Aggregator) relinkFees(c *company, paymentID string) error {
	for _, k := range a.indexed(c, secFees, paymentID, c.feesByPayment) {
		old := c.rec(k)
		if old == nil {
			continue
		}
		tender := c.tenderFor(old)
		if old.tender == tender {
			continue
		}
		next := *old
		next.tender = tender
		if err := a.swap(c, k, old, &next); err != nil {
			return err
		}
		if err := a.faultAt("relink"); err != nil {
			return err
		}
	}
	return nil
}

func (a *Aggregator) applySettings(c *company, s *v1.WindowSettings) error {
	cal, err := day.NewCalendar(s.GetTimeZone(), int(s.GetCutoffHour()), day.WithZones(a.zones))
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if g := s.GetGraceMs(); g < 0 || g > maxGraceMs {
		return fmt.Errorf("settings.graceMs is %d; it must be between 0 and %d (a year)", g, int64(maxGraceMs))
	}
	recut := !c.hasCal || cuts(c.settings) != cuts(s)
	a.touchHead(c)
	c.settings, c.cal, c.hasCal = s, cal, true
	c.nextSeal = 0
	if !recut {
		// Most saves change only the mapping (a new configuration
		// version): no record moves, and no day's bounds either.
		wm := c.watermark
		return a.sealAndEmit(c, ByWatermark, func(d *dayState) bool { return wm > 0 && d.end+c.grace() <= wm })
	}
	// Records of days not yet sealed move to the days the new settings give;
	// sealed days keep theirs, so what was posted stays explained. This
	// reads every record the company has: a change of zone, cutoff,
	// grouping or start date is rare.
	c.cacheFrom, c.cacheTo = 0, 0
	keys := a.allRecords(c)
	for _, k := range keys {
		old := c.rec(k)
		if old == nil || (old.day != "" && c.sealedDay(old.dayKey())) {
			continue
		}
		d, loc := c.dayFor(old.event), c.locationFor(old.site)
		if d == old.day && loc == old.location {
			continue
		}
		next := *old
		next.day, next.location = d, loc
		if err := a.swap(c, k, old, &next); err != nil {
			return err
		}
		if err := a.faultAt("settings"); err != nil {
			return err
		}
	}
	// Open days take the bounds the new settings give them.
	open := make([]dayKey, 0, len(c.days))
	for k, e := range c.days {
		if e.cur != nil && !e.cur.sealed {
			open = append(open, k)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].less(open[j]) })
	for _, k := range open {
		start, end, err := c.cal.Bounds(k.day)
		if err != nil {
			return fmt.Errorf("bounds of %s: %w", k.day, err)
		}
		if d := c.dayState(k); d.start == start.UnixMilli() && d.end == end.UnixMilli() {
			continue
		}
		d, err := a.dayForWrite(c, k)
		if err != nil {
			return err
		}
		d.start, d.end = start.UnixMilli(), end.UnixMilli()
	}
	wm := c.watermark
	return a.sealAndEmit(c, ByWatermark, func(d *dayState) bool { return wm > 0 && d.end+c.grace() <= wm })
}

// calendarCut is what of a company's settings decides which day a record
// counts in.
type calendarCut struct {
	zone      string
	cutoff    int32
	byLoc     bool
	startDate string
}

func cuts(s *v1.WindowSettings) calendarCut {
	return calendarCut{s.GetTimeZone(), s.GetCutoffHour(), s.GetGroupByLocation(), s.GetStartDate()}
}

// allRecords lists the keys of every record the company has, in the store
// or only in memory, sorted.
func (a *Aggregator) allRecords(c *company) []recordKey {
	prefix := append(append(changePrefix(nil, kindRecord, c.partition), c.id...), 0, kindRecord, 0)
	var keys []recordKey
	err := a.st.seek(prefix, func(k, _ []byte) error {
		// A key that does not read as a record key is another company's,
		// one whose id starts with this one's and a zero byte.
		if rk, err := parseRecKey(string(k[len(prefix):])); err == nil {
			keys = append(keys, rk)
		}
		return nil
	})
	if err != nil {
		panic(storeFailure{err})
	}
	for k := range c.records {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return slices.Compact(keys)
}

// locationFor is the location an order of site counts its day in: its own
// when the company groups its days by location, else none.
func (c *company) locationFor(site string) string {
	if c.settings.GetGroupByLocation() {
		return site
	}
	return ""
}

func (rs *recState) dayKey() dayKey { return dayKey{rs.day, rs.currency, rs.location} }

func (k dayKey) less(o dayKey) bool {
	if k.day != o.day {
		return k.day < o.day
	}
	if k.currency != o.currency {
		return k.currency < o.currency
	}
	return k.location < o.location
}

func (c *company) sealedDay(k dayKey) bool {
	d := c.dayState(k)
	return d != nil && d.sealed
}

// maxGraceMs bounds the grace of the settings, so that a day's end plus its
// grace never overflows: 366 days. A literal, not a product, because
// mutation testing cannot reach a constant's arithmetic (coverage has no
// block for it); TestSettingsGraceFromZeroToAYearIsAccepted pins the value.
const maxGraceMs = 31_622_400_000

// sealAndEmit seals the open days pred accepts, then emits a revision for
// every sealed day whose totals moved since it was last posted. A day that
// cannot be sealed or emitted is parked, and the others go on.
func (a *Aggregator) sealAndEmit(c *company, by string, pred func(*dayState) bool) error {
	if !c.hasCal {
		return nil
	}
	var keys []dayKey
	sealedAny := false
	next := int64(math.MaxInt64)
	for k, e := range c.days {
		d := e.cur
		if d == nil {
			continue
		}
		if !d.sealed && pred(d) {
			sealedAny = true
			keys = append(keys, k)
		} else if d.sealed && d.dirty && d.parked == "" {
			keys = append(keys, k)
		} else if !d.sealed {
			next = min(next, d.end+c.grace())
		}
	}
	c.nextSeal = next
	if by == ByWatermark && !sealedAny {
		// A watermark step that seals nothing leaves late changes for the
		// next tick or close-up-to, so a stream of late records does not
		// become a stream of one-record revisions.
		return nil
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	for _, k := range keys {
		if err := a.sealDay(c, k, by); err != nil {
			return err
		}
	}
	return nil
}

// sealDay seals one day and emits its revision, or parks it: when the caller
// asked for it (its summary could not be written), or when sealing it fails
// (an error or a panic), after rolling back what the attempt changed.
func (a *Aggregator) sealDay(c *company, k dayKey, by string) error {
	ref := DayRef{c.id, k.day, k.currency, k.location}
	if o, ok := a.parks[ref]; ok {
		a.b.parkUsed = append(a.b.parkUsed, ref)
		return a.park(c, k, o.reason, o.attempts)
	}
	sp := a.savepoint()
	err := a.trySeal(c, k, by)
	if err == nil {
		return nil
	}
	a.rollback(sp, c)
	return a.park(c, k, "its summary could not be made: "+err.Error(), 1)
}

func (a *Aggregator) trySeal(c *company, k dayKey, by string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(storeFailure); ok {
				panic(f)
			}
			a.log.Error("sealing a day panicked; it is parked", "company", c.id, "day", k.day, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("sealing it panicked: %v", r)
		}
	}()
	d, err := a.dayForWrite(c, k)
	if err != nil {
		return err
	}
	d.sealed = true
	d.dirty = false
	if err := a.faultAt("seal"); err != nil {
		return err
	}
	delta, err := d.totals.totals().Diff(d.posted.totals())
	if err != nil {
		return fmt.Errorf("company %s day %s %s: %w", c.id, k.day, k.currency, err)
	}
	if s := c.excs[k]; delta.IsZero() && (s == nil || sameMaps(s.cur, s.posted)) {
		return nil
	}
	return a.emit(c, k, d, delta, by)
}

// park seals a day and marks it parked with its reason: no revision of it is
// emitted while it is parked, and records for it keep counting, so resuming
// it emits everything that moved.
func (a *Aggregator) park(c *company, k dayKey, reason string, attempts int) error {
	d, err := a.dayForWrite(c, k)
	if err != nil {
		return err
	}
	d.sealed, d.dirty, d.parked = true, true, truncate(reason, MaxReasonBytes)
	a.b.parked = append(a.b.parked, ParkedDay{
		DayRef: DayRef{c.id, k.day, k.currency, k.location}, TenantID: c.tenant, Partition: c.partition,
		Revision: d.revision + 1, Reason: d.parked, Attempts: attempts,
	})
	a.b.stats.DaysParked++
	a.log.Warn("day parked", "company", c.id, "day", k.day, "currency", k.currency, "location", k.location, "reason", d.parked)
	return nil
}

// ParkDay asks for a day to be parked, with reason, the next time it would
// emit a revision: the caller could not write its summary after attempts
// tries. The request holds until a batch that parks the day commits.
func (a *Aggregator) ParkDay(ref DayRef, reason string, attempts int) {
	a.parks[ref] = parkOrder{reason, attempts}
}

func (a *Aggregator) emit(c *company, k dayKey, d *dayState, delta day.Totals, by string) error {
	named, count := firstExceptions(c.excs[k], MaxExceptionsNamed)
	s, err := day.NewSummary(day.Header{
		CompanyID: c.id, TenantID: c.tenant, Day: k.day, Currency: k.currency, Location: k.location, Revision: d.revision + 1,
		Zone: c.settings.GetTimeZone(), CutoffHour: int(c.settings.GetCutoffHour()),
		Start: time.UnixMilli(d.start).UTC(), End: time.UnixMilli(d.end).UTC(),
		SealedBy: by, ConfigVersion: c.settings.GetConfigVersion(), RecordCount: d.records,
		Exceptions: named, ExceptionCount: count,
	}, delta)
	if err != nil {
		return fmt.Errorf("summary of company %s day %s %s: %w", c.id, k.day, k.currency, err)
	}
	if len(s.Lines) > MaxSummaryLines {
		return fmt.Errorf("revision %d would carry %d lines; the limit is %d (one per account whose money moved)", s.Revision, len(s.Lines), MaxSummaryLines)
	}
	a.touchHead(c)
	s.Link(c.lastHash, c.sequence+1)
	p := SummaryProto(s)
	if n := proto.Size(p) + len(c.id); n > kafka.MaxRecordBytes {
		return fmt.Errorf("revision %d would take %d bytes; the limit is %d", s.Revision, n, kafka.MaxRecordBytes)
	}
	if err := a.faultAt("emit"); err != nil {
		return err
	}
	d.revision = s.Revision
	c.sequence, c.lastHash = s.Sequence, s.Hash
	d.posted = d.totals.clone()
	if err := a.postExceptions(c, k); err != nil {
		return err
	}
	a.b.summaries = append(a.b.summaries, p)
	return nil
}

// SummaryProto converts a domain summary to its wire form.
func SummaryProto(s day.Summary) *v1.DaySummary {
	out := &v1.DaySummary{
		Id: s.ID, CompanyId: s.CompanyID, TenantId: s.TenantID, BusinessDay: s.Day, Currency: s.Currency, Location: s.Location,
		Revision: int32(s.Revision), TimeZone: s.Zone, CutoffHour: int32(s.CutoffHour),
		StartUnixMs: s.Start.UnixMilli(), EndUnixMs: s.End.UnixMilli(),
		Sequence: s.Sequence, PrevHash: s.PrevHash, Hash: s.Hash, SealedBy: s.SealedBy,
		ConfigVersion: s.ConfigVersion, RecordCount: int32(s.RecordCount), ExceptionCount: int32(max(s.ExceptionCount, len(s.Exceptions))),
	}
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, &v1.SummaryLine{Account: string(l.Account), Debit: l.Debit.String(), Credit: l.Credit.String()})
	}
	for _, e := range s.Exceptions {
		out.Exceptions = append(out.Exceptions, &v1.SummaryException{RecordId: e.RecordID, Message: e.Message})
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "…"
	s = s[:n-len(more)]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s + more
}
