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
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
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
// matching the Kafka transaction they ride in.
type Aggregator struct {
	companies map[string]*company
	log       *slog.Logger
	b         batch
	gen       uint64
	// Skipped counts records the window could not use (undecodable amounts
	// from a producer other than the gateway).
	Skipped int
}

// NewAggregator makes an empty aggregator.
func NewAggregator(log *slog.Logger) *Aggregator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Aggregator{companies: map[string]*company{}, log: log, gen: 1}
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
}

// batch lists what the open batch touched, in order: the keys to write to
// the changelog, and where Abort finds the values to restore.
type batch struct {
	recs      []recTouch
	days      []dayTouch
	refs      []refTouch
	heads     []*company
	wms       []*company
	created   []*company
	summaries []*v1.DaySummary
}

func (b *batch) reset() {
	clear(b.recs)
	clear(b.days)
	clear(b.refs)
	clear(b.heads)
	clear(b.wms)
	clear(b.created)
	b.recs, b.days, b.heads, b.wms, b.created, b.summaries = b.recs[:0], b.days[:0], b.heads[:0], b.wms[:0], b.created[:0], nil
	b.refs = b.refs[:0]
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
		c = newCompany(id, partition)
		a.companies[id] = c
		a.b.created = append(a.b.created, c)
		a.touchHead(c)
	}
	return c
}

func (a *Aggregator) touchHead(c *company) {
	if c.headGen != a.gen {
		c.headGen, c.savedHead = a.gen, c.head()
		a.b.heads = append(a.b.heads, c)
	}
}

func (a *Aggregator) putRec(c *company, k recordKey, rs *recState) {
	e := c.records[k]
	if e == nil {
		e = &recEntry{fresh: true, gen: a.gen}
		c.records[k] = e
		a.b.recs = append(a.b.recs, recTouch{c, k, e})
	} else if e.gen != a.gen {
		e.prev, e.gen, e.fresh = e.cur, a.gen, false
		a.b.recs = append(a.b.recs, recTouch{c, k, e})
	}
	e.cur = rs
}

// dayForWrite returns a copy of the day that this batch may change, making
// the day if needed.
func (a *Aggregator) dayForWrite(c *company, k dayKey) (*dayState, error) {
	e := c.days[k]
	if e != nil && e.gen == a.gen && e.cur != nil {
		return e.cur, nil
	}
	if e == nil {
		e = &dayEntry{fresh: true, gen: a.gen}
		c.days[k] = e
		a.b.days = append(a.b.days, dayTouch{c, k, e})
	} else if e.gen != a.gen {
		e.prev, e.gen, e.fresh = e.cur, a.gen, false
		a.b.days = append(a.b.days, dayTouch{c, k, e})
	}
	if e.cur != nil {
		e.cur = e.cur.clone()
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

// Apply feeds one input record of partition into the state.
func (a *Aggregator) Apply(partition int32, ev *v1.CommerceEvent) error {
	if ev.GetCompanyId() == "" {
		return fmt.Errorf("event without company id")
	}
	c := a.company(ev.GetCompanyId(), partition)
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
		now := b.ClockTick.GetNowUnixMs()
		return a.sealAndEmit(c, ByClockTick, func(d *dayState) bool { return d.end+c.grace() <= now })
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
	old := c.rec(k)
	if old != nil && !newer(re.GetSourceModifiedUnixMs(), re.GetContentHash(), old) {
		return nil // the same or an older version: duplicates never count twice
	}
	next, err := facts(re)
	if err != nil {
		a.Skipped++
		a.log.Warn("record skipped", "company", c.id, "record", k.String(), "err", err)
		return nil
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
	if err := a.swapWith(c, k, old, next, nextPs); err != nil {
		a.Skipped++
		a.log.Warn("record skipped", "company", c.id, "record", k.String(), "err", err)
		return nil
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

// touchWatermark keeps the watermark's value before the batch for Abort.
// The watermark is not written to the changelog: Restore takes it from the
// records (recState.seen).
func (a *Aggregator) touchWatermark(c *company) {
	if c.wmGen != a.gen {
		c.wmGen, c.savedWM = a.gen, c.watermark
		a.b.wms = append(a.b.wms, c)
	}
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
		old := c.rec(k)
		if old != nil && !newer(received, tombstoneHash, old) {
			continue // already deleted, or changed at the source after this delete
		}
		next := &recState{srcMod: received, hash: tombstoneHash, deleted: true}
		if old != nil {
			next.event, next.currency, next.seen = old.event, old.currency, old.seen
		}
		if err := a.swap(c, k, old, next); err != nil {
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
		if n := len(o.GetOrderLineItems()); n > 0 {
			rs.lines = make([]day.OrderLine, 0, n)
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
			f.Taxes = taxParts(l.GetTaxes(), parse)
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
		switch c := pct[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && dot < 0 && i > 0:
			dot = i
		default:
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
// Both sets of postings are worked out before anything changes, so a record
// the rules refuse leaves the state as it was.
func (a *Aggregator) swap(c *company, k recordKey, old, next *recState) error {
	return a.swapWith(c, k, old, next, nil)
}

// swapWith is swap with the new version's postings already worked out
// (nil: work them out here).
func (a *Aggregator) swapWith(c *company, k recordKey, old, next *recState, nextPs []day.Posting) error {
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
	if counts(old) {
		if err := a.contribute(c, old.dayKey(), oldPs, -1, k.id, old.exception); err != nil {
			return err
		}
	}
	if counts(next) {
		if err := a.contribute(c, next.dayKey(), nextPs, +1, k.id, next.exception); err != nil {
			if counts(old) {
				// Put the old contribution back: it fitted before.
				_ = a.contribute(c, old.dayKey(), oldPs, +1, k.id, old.exception)
			}
			return err
		}
	}
	for _, id := range old.links() {
		if set := c.feesByPayment[id]; set != nil {
			delete(set, k)
			if len(set) == 0 {
				delete(c.feesByPayment, id)
			}
		}
	}
	for _, id := range next.links() {
		set := c.feesByPayment[id]
		if set == nil {
			set = map[recordKey]struct{}{}
			c.feesByPayment[id] = set
		}
		set[k] = struct{}{}
	}
	if c.ordersByProduct == nil {
		// No product data yet: the index is built when the first arrives,
		// so merchants without reference data pay nothing for it.
		a.putRec(c, k, next)
		return nil
	}
	for _, id := range old.products() {
		if set := c.ordersByProduct[id]; set != nil {
			delete(set, k)
			if len(set) == 0 {
				delete(c.ordersByProduct, id)
			}
		}
	}
	for _, id := range next.products() {
		set := c.ordersByProduct[id]
		if set == nil {
			set = map[recordKey]struct{}{}
			c.ordersByProduct[id] = set
		}
		set[k] = struct{}{}
	}
	a.putRec(c, k, next)
	return nil
}

func (a *Aggregator) contribute(c *company, k dayKey, ps []day.Posting, sign int, recordID, exception string) error {
	d, err := a.dayForWrite(c, k)
	if err != nil {
		return err
	}
	if err := d.totals.apply(ps, sign); err != nil {
		return fmt.Errorf("company %s day %s %s: %w", c.id, k.day, k.currency, err)
	}
	if exception != "" {
		if sign > 0 {
			if d.exceptions == nil {
				d.exceptions = map[string]string{}
			}
			d.exceptions[recordID] = exception
		} else {
			delete(d.exceptions, recordID)
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

func sortKeys(keys []recordKey) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
}

// relinkFees gives the fees and payouts of a payment the tender its
// payment now has.
func (a *Aggregator) relinkFees(c *company, paymentID string) error {
	set := c.feesByPayment[paymentID]
	if len(set) == 0 {
		return nil
	}
	for _, k := range sortedKeys(set) {
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
	}
	return nil
}

func (a *Aggregator) applySettings(c *company, s *v1.WindowSettings) error {
	cal, err := day.NewCalendar(s.GetTimeZone(), int(s.GetCutoffHour()))
	if err != nil {
		a.log.Warn("settings refused", "company", c.id, "err", err)
		return nil
	}
	a.touchHead(c)
	c.settings, c.cal, c.hasCal = s, cal, true
	c.nextSeal = 0
	// Records of days not yet sealed move to the days the new settings give;
	// sealed days keep theirs, so what was posted stays explained.
	c.cacheFrom, c.cacheTo = 0, 0
	keys := make([]recordKey, 0, len(c.records))
	for k, e := range c.records {
		if rs := e.cur; rs != nil && (rs.day == "" || !c.sealedDay(rs.dayKey())) {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	for _, k := range keys {
		old := c.rec(k)
		d, loc := c.dayFor(old.event), c.locationFor(old.site)
		if d == old.day && loc == old.location {
			continue
		}
		next := *old
		next.day, next.location = d, loc
		if err := a.swap(c, k, old, &next); err != nil {
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

// sealAndEmit seals the open days pred accepts, then emits a revision for
// every sealed day whose totals moved since it was last posted.
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
		} else if d.sealed && d.dirty {
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
		d, err := a.dayForWrite(c, k)
		if err != nil {
			return err
		}
		d.sealed = true
		d.dirty = false
		delta, err := d.totals.totals().Diff(d.posted.totals())
		if err != nil {
			return fmt.Errorf("company %s day %s %s: %w", c.id, k.day, k.currency, err)
		}
		if delta.IsZero() && sameExceptions(d.exceptions, d.postedExc) {
			continue
		}
		if err := a.emit(c, k, d, delta, by); err != nil {
			return err
		}
	}
	return nil
}

func (a *Aggregator) emit(c *company, k dayKey, d *dayState, delta day.Totals, by string) error {
	d.revision++
	s, err := day.NewSummary(day.Header{
		CompanyID: c.id, TenantID: c.tenant, Day: k.day, Currency: k.currency, Location: k.location, Revision: d.revision,
		Zone: c.settings.GetTimeZone(), CutoffHour: int(c.settings.GetCutoffHour()),
		Start: time.UnixMilli(d.start).UTC(), End: time.UnixMilli(d.end).UTC(),
		SealedBy: by, ConfigVersion: c.settings.GetConfigVersion(), RecordCount: d.records,
		Exceptions: exceptionList(d.exceptions),
	}, delta)
	if err != nil {
		return fmt.Errorf("summary of company %s day %s %s: %w", c.id, k.day, k.currency, err)
	}
	a.touchHead(c)
	s.Link(c.lastHash, c.sequence+1)
	c.sequence, c.lastHash = s.Sequence, s.Hash
	d.posted = d.totals.clone()
	d.postedExc = cloneMap(d.exceptions)
	a.b.summaries = append(a.b.summaries, SummaryProto(s))
	return nil
}

// SummaryProto converts a domain summary to its wire form.
func SummaryProto(s day.Summary) *v1.DaySummary {
	out := &v1.DaySummary{
		Id: s.ID, CompanyId: s.CompanyID, TenantId: s.TenantID, BusinessDay: s.Day, Currency: s.Currency, Location: s.Location,
		Revision: int32(s.Revision), TimeZone: s.Zone, CutoffHour: int32(s.CutoffHour),
		StartUnixMs: s.Start.UnixMilli(), EndUnixMs: s.End.UnixMilli(),
		Sequence: s.Sequence, PrevHash: s.PrevHash, Hash: s.Hash, SealedBy: s.SealedBy,
		ConfigVersion: s.ConfigVersion, RecordCount: int32(s.RecordCount),
	}
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, &v1.SummaryLine{Account: string(l.Account), Debit: l.Debit.String(), Credit: l.Credit.String()})
	}
	for _, e := range s.Exceptions {
		out.Exceptions = append(out.Exceptions, &v1.SummaryException{RecordId: e.RecordID, Message: e.Message})
	}
	return out
}

func exceptionList(m map[string]string) []day.Exception {
	if len(m) == 0 {
		return nil
	}
	out := make([]day.Exception, 0, len(m))
	for id, msg := range m {
		out = append(out, day.Exception{RecordID: id, Message: msg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RecordID < out[j].RecordID })
	return out
}
