package window

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Changelog keys: <company>\x00<kind>\x00<rest>. The company comes first so
// that a company's entries sort together.
const (
	kindRecord = 'r'
	kindDay    = 'd'
	kindHead   = 'm'
	kindRef    = 'f'
)

func changeKey(company string, kind byte, rest string) []byte {
	b := make([]byte, 0, len(company)+len(rest)+4)
	b = append(b, company...)
	b = append(b, 0, kind, 0)
	return append(b, rest...)
}

func recKeyString(k recordKey) string {
	return strconv.Itoa(int(k.kind)) + "\x00" + k.typ + "\x00" + k.id
}

func parseRecKey(s string) (recordKey, error) {
	parts := bytes.SplitN([]byte(s), []byte{0}, 3)
	if len(parts) != 3 {
		return recordKey{}, fmt.Errorf("malformed record key %q", s)
	}
	var kind int32
	if _, err := fmt.Sscanf(string(parts[0]), "%d", &kind); err != nil {
		return recordKey{}, fmt.Errorf("malformed record kind in %q: %w", s, err)
	}
	return recordKey{v1.RecordKind(kind), string(parts[1]), string(parts[2])}, nil
}

// Flush returns what the current batch must write: changelog entries for
// every key it touched (their final values) and the summaries it emitted.
func (a *Aggregator) Flush() ([]Change, []*v1.DaySummary, error) {
	out := make([]Change, 0, len(a.b.heads)+len(a.b.recs)+len(a.b.days)+len(a.b.refs))
	// One buffer for every entry, cut into exact-size values: one
	// allocation per batch instead of one per entry.
	// Entries encode in under 512 bytes but for long orders; sizing it up
	// front spares the copies of growing it.
	buf := make([]byte, 0, 512*cap(out))
	var scratch []byte
	// Keys share one buffer too.
	kb := make([]byte, 0, 96*cap(out))
	var err error
	mark := func() int { return len(buf) }
	for _, c := range a.b.heads {
		start := mark()
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf, &v1.WindowChange{Entry: &v1.WindowChange_Company{Company: &v1.WindowCompany{
			// The watermark is left out: Restore derives it from the
			// records, so it need not be rewritten each time it moves.
			CompanyId: c.id, TenantId: c.tenant, Settings: c.settings,
			Sequence: c.sequence, LastHash: c.lastHash,
		}}})
		if err != nil {
			return nil, nil, fmt.Errorf("encode company %s: %w", c.id, err)
		}
		out = append(out, Change{Partition: c.partition, Key: changeKey(c.id, kindHead, ""), Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.recs {
		kb = appendRecordKey(kb, t.c.id, t.k)
		key := kb[len(kb)-recordKeyLen(t.c.id, t.k) : len(kb) : len(kb)]
		if t.e.cur == nil {
			out = append(out, Change{Partition: t.c.partition, Key: key})
			continue
		}
		start := mark()
		buf, scratch = appendRecordChange(buf, scratch, t.k, t.e.cur)
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.days {
		n := len(kb)
		kb = append(append(append(append(append(kb, t.c.id...), 0, kindDay, 0), t.k.day...), 0), t.k.currency...)
		if t.k.location != "" {
			// Only grouped days name a location, so other keys are as before.
			kb = append(append(kb, 0), t.k.location...)
		}
		key := kb[n:len(kb):len(kb)]
		if t.e.cur == nil {
			out = append(out, Change{Partition: t.c.partition, Key: key})
			continue
		}
		start := mark()
		buf, scratch = appendDayChange(buf, scratch, t.k, t.e.cur)
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.refs {
		key := changeKey(t.c.id, kindRef, strconv.Itoa(int(t.k.kind))+"\x00"+t.k.id)
		start := mark()
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf, &v1.WindowChange{Entry: &v1.WindowChange_Reference{Reference: refProto(t.k, t.e.cur)}})
		if err != nil {
			return nil, nil, fmt.Errorf("encode reference %s: %w", t.k.id, err)
		}
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	return out, a.b.summaries, nil
}

func refProto(k refDataKey, vs []refVersion) *v1.WindowReference {
	out := &v1.WindowReference{Kind: k.kind, Id: k.id}
	for _, v := range vs {
		out.Versions = append(out.Versions, &v1.WindowReferenceVersion{ValidFromUnixMs: v.from, ContentHash: v.hash, Deleted: v.deleted, Category: v.category, GiftCard: v.gift})
	}
	return out
}

// Commit forgets the undo log: the batch's transaction committed.
func (a *Aggregator) Commit() {
	for _, t := range a.b.days {
		if t.e.cur == nil && t.c.days[t.k] == t.e {
			delete(t.c.days, t.k)
		}
	}
	for _, t := range a.b.recs {
		t.e.prev = nil
	}
	for _, t := range a.b.days {
		t.e.prev = nil
	}
	for _, t := range a.b.refs {
		t.e.prev = nil
	}
	a.b.reset()
	a.gen++
}

// Abort rolls the state back to the last commit: the batch's transaction
// did not commit, and its input will be read again.
func (a *Aggregator) Abort() {
	b := &a.b
	touched := map[*company]bool{}
	for _, t := range b.recs {
		if t.e.fresh {
			delete(t.c.records, t.k)
		} else {
			t.e.cur, t.e.prev = t.e.prev, nil
		}
		touched[t.c] = true
	}
	for _, t := range b.days {
		if t.e.fresh {
			delete(t.c.days, t.k)
		} else {
			t.e.cur, t.e.prev = t.e.prev, nil
		}
	}
	for _, t := range b.refs {
		if t.e.fresh {
			delete(t.c.refs, t.k)
		} else {
			t.e.cur, t.e.prev = t.e.prev, nil
		}
	}
	for _, c := range b.heads {
		c.setHead(c.savedHead)
	}
	for _, c := range b.wms {
		c.watermark = c.savedWM
		c.nextSeal = 0
	}
	for _, t := range b.days {
		t.c.nextSeal = 0
	}
	for _, c := range b.created {
		delete(a.companies, c.id)
	}
	for c := range touched {
		c.reindex()
	}
	a.b.reset()
	a.gen++
}

func (c *company) reindex() {
	c.feesByPayment = map[string]map[recordKey]struct{}{}
	c.ordersByProduct = nil
	if c.hasProducts() {
		c.indexProducts()
	}
	for k, e := range c.records {
		for _, id := range e.cur.links() {
			set := c.feesByPayment[id]
			if set == nil {
				set = map[recordKey]struct{}{}
				c.feesByPayment[id] = set
			}
			set[k] = struct{}{}
		}
	}
}

// Restore loads one changelog entry of partition. Call RestoreDone when the
// partition's changelog has been read.
func (a *Aggregator) Restore(partition int32, key, value []byte) error {
	parts := bytes.SplitN(key, []byte{0}, 3)
	if len(parts) != 3 || len(parts[1]) != 1 {
		return fmt.Errorf("malformed changelog key %q", key)
	}
	id := string(parts[0])
	c, ok := a.companies[id]
	if !ok {
		c = newCompany(id, partition)
		a.companies[id] = c
	}
	switch parts[1][0] {
	case kindHead:
		if value == nil {
			delete(a.companies, id)
			return nil
		}
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return fmt.Errorf("decode company %s: %w", id, err)
		}
		h := wc.GetCompany()
		c.tenant, c.settings, c.watermark, c.sequence, c.lastHash = h.GetTenantId(), h.GetSettings(), h.GetWatermarkUnixMs(), h.GetSequence(), h.GetLastHash()
		c.hasCal = false
		if c.settings != nil {
			cal, err := day.NewCalendar(c.settings.GetTimeZone(), int(c.settings.GetCutoffHour()))
			if err != nil {
				return fmt.Errorf("restore settings of %s: %w", id, err)
			}
			c.cal, c.hasCal = cal, true
		}
	case kindRecord:
		k, err := parseRecKey(string(parts[2]))
		if err != nil {
			return err
		}
		if value == nil {
			delete(c.records, k)
			return nil
		}
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return fmt.Errorf("decode record %s: %w", k.String(), err)
		}
		c.records[k] = &recEntry{cur: recordState(wc.GetRecord())}
		return nil
	case kindDay:
		dk := bytes.SplitN(parts[2], []byte{0}, 3)
		if len(dk) < 2 {
			return fmt.Errorf("malformed day key %q", key)
		}
		k := dayKey{day: string(dk[0]), currency: string(dk[1])}
		if len(dk) == 3 {
			k.location = string(dk[2])
		}
		if value == nil {
			delete(c.days, k)
			return nil
		}
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return fmt.Errorf("decode day %s: %w", k.day, err)
		}
		c.days[k] = &dayEntry{cur: dayFromProto(wc.GetDay())}
	case kindRef:
		rk := bytes.SplitN(parts[2], []byte{0}, 2)
		if len(rk) != 2 {
			return fmt.Errorf("malformed reference key %q", key)
		}
		kind, err := strconv.Atoi(string(rk[0]))
		if err != nil {
			return fmt.Errorf("malformed reference kind in %q: %w", key, err)
		}
		k := refDataKey{v1.ReferenceKind(kind), string(rk[1])}
		if value == nil {
			delete(c.refs, k)
			return nil
		}
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return fmt.Errorf("decode reference %s: %w", k.id, err)
		}
		var vs []refVersion
		for _, v := range wc.GetReference().GetVersions() {
			vs = append(vs, refVersion{from: v.GetValidFromUnixMs(), hash: v.GetContentHash(), deleted: v.GetDeleted(), category: v.GetCategory(), gift: v.GetGiftCard()})
		}
		c.refs[k] = &refEntry{cur: vs}
	default:
		return fmt.Errorf("unknown changelog entry kind %q", parts[1])
	}
	return nil
}

// RestoreDone finishes restoring a partition: the fee index and the
// watermark are derived from the records.
func (a *Aggregator) RestoreDone(partition int32) {
	for _, c := range a.companies {
		if c.partition != partition {
			continue
		}
		c.reindex()
		for _, e := range c.records {
			if e.cur != nil && e.cur.seen > c.watermark {
				c.watermark = e.cur.seen
			}
		}
	}
}

// Drop forgets the companies of partitions this process no longer owns.
func (a *Aggregator) Drop(partition int32) {
	for id, c := range a.companies {
		if c.partition == partition {
			delete(a.companies, id)
		}
	}
}

func recordProto(k recordKey, rs *recState) *v1.WindowChange {
	return &v1.WindowChange{Entry: &v1.WindowChange_Record{Record: &v1.WindowRecord{
		Kind: k.kind, TransactionType: k.typ, Id: k.id,
		SourceModifiedUnixMs: rs.srcMod, ContentHash: rs.hash, Deleted: rs.deleted,
		EventUnixMs: rs.event, Currency: rs.currency, BusinessDay: rs.day,
		Total: int64(rs.total), Tax: int64(rs.tax), Gratuity: int64(rs.gratuity),
		PaymentType: rs.payType, Status: rs.status, LinkedPaymentId: rs.linked, TenderType: rs.tender,
		MaxEventUnixMs: rs.seen, Lines: linesProto(rs.lines), Charges: chargesProto(rs.charges), Exception: rs.exception, Settled: rs.settled,
		Site: rs.site, Location: rs.location,
	}}}
}

func taxPartsProto(ps []day.TaxPart) []*v1.WindowTaxPart {
	var out []*v1.WindowTaxPart
	for _, t := range ps {
		out = append(out, &v1.WindowTaxPart{Key: t.Key, Amount: int64(t.Amount)})
	}
	return out
}

func taxPartsState(ws []*v1.WindowTaxPart) []day.TaxPart {
	var out []day.TaxPart
	for _, t := range ws {
		out = append(out, day.TaxPart{Key: t.GetKey(), Amount: money.Amount(t.GetAmount())})
	}
	return out
}

func linesProto(ls []day.OrderLine) []*v1.WindowLine {
	var out []*v1.WindowLine
	for _, l := range ls {
		out = append(out, &v1.WindowLine{Product: l.Product, Total: int64(l.Total), Tax: int64(l.Tax), Discount: int64(l.Discount), TaxKey: l.TaxKey,
			Taxes: taxPartsProto(l.Taxes), Category: l.Category, GiftCard: l.GiftCard})
	}
	return out
}

func chargesProto(cs []day.Charge) []*v1.WindowLine {
	var out []*v1.WindowLine
	for _, c := range cs {
		out = append(out, &v1.WindowLine{Total: int64(c.Total), Tax: int64(c.Tax), TaxKey: c.TaxKey, Taxes: taxPartsProto(c.Taxes), Shipping: c.Shipping})
	}
	return out
}

func linesState(ws []*v1.WindowLine) []day.OrderLine {
	var out []day.OrderLine
	for _, w := range ws {
		out = append(out, day.OrderLine{Product: w.GetProduct(), Total: money.Amount(w.GetTotal()), Tax: money.Amount(w.GetTax()), Discount: money.Amount(w.GetDiscount()),
			TaxKey: w.GetTaxKey(), Taxes: taxPartsState(w.GetTaxes()), Category: w.GetCategory(), GiftCard: w.GetGiftCard()})
	}
	return out
}

func chargesState(ws []*v1.WindowLine) []day.Charge {
	var out []day.Charge
	for _, w := range ws {
		out = append(out, day.Charge{Total: money.Amount(w.GetTotal()), Tax: money.Amount(w.GetTax()), TaxKey: w.GetTaxKey(),
			Taxes: taxPartsState(w.GetTaxes()), Shipping: w.GetShipping()})
	}
	return out
}

func recordState(w *v1.WindowRecord) *recState {
	return &recState{
		srcMod: w.GetSourceModifiedUnixMs(), hash: w.GetContentHash(), deleted: w.GetDeleted(),
		event: w.GetEventUnixMs(), currency: w.GetCurrency(), day: w.GetBusinessDay(),
		total: money.Amount(w.GetTotal()), tax: money.Amount(w.GetTax()), gratuity: money.Amount(w.GetGratuity()),
		payType: w.GetPaymentType(), status: w.GetStatus(), linked: w.GetLinkedPaymentId(), tender: w.GetTenderType(),
		seen: w.GetMaxEventUnixMs(), lines: linesState(w.GetLines()), charges: chargesState(w.GetCharges()), exception: w.GetException(), settled: w.GetSettled(),
		site: w.GetSite(), location: w.GetLocation(),
	}
}

func amounts(t acctTotals) []*v1.AccountAmount {
	out := make([]*v1.AccountAmount, len(t))
	vals := make([]v1.AccountAmount, len(t))
	for i, x := range t {
		vals[i] = v1.AccountAmount{Account: string(x.acct), Amount: int64(x.amt)}
		out[i] = &vals[i]
	}
	return out
}

func totals(as []*v1.AccountAmount) acctTotals {
	t := make(acctTotals, 0, len(as))
	for _, a := range as {
		if a.GetAmount() != 0 {
			t = append(t, acctAmt{day.Account(a.GetAccount()), money.Amount(a.GetAmount())})
		}
	}
	sort.Slice(t, func(i, j int) bool { return t[i].acct < t[j].acct })
	return t
}

func dayProto(k dayKey, d *dayState) *v1.WindowDay {
	return &v1.WindowDay{
		BusinessDay: k.day, Currency: k.currency, Totals: amounts(d.totals), Posted: amounts(d.posted),
		Revision: int32(d.revision), Sealed: d.sealed, RecordCount: int32(d.records), Dirty: d.dirty,
		StartUnixMs: d.start, EndUnixMs: d.end, Exceptions: exceptionsProto(d.exceptions), PostedExceptions: exceptionsProto(d.postedExc),
		Location: k.location,
	}
}

func exceptionsProto(m map[string]string) []*v1.RecordException {
	var out []*v1.RecordException
	for _, e := range exceptionList(m) {
		out = append(out, &v1.RecordException{RecordId: e.RecordID, Message: e.Message})
	}
	return out
}

func exceptionsState(es []*v1.RecordException) map[string]string {
	if len(es) == 0 {
		return nil
	}
	out := make(map[string]string, len(es))
	for _, e := range es {
		out[e.GetRecordId()] = e.GetMessage()
	}
	return out
}

func dayFromProto(w *v1.WindowDay) *dayState {
	return &dayState{
		totals: totals(w.GetTotals()), posted: totals(w.GetPosted()), revision: int(w.GetRevision()),
		sealed: w.GetSealed(), records: int(w.GetRecordCount()), dirty: w.GetDirty(),
		start: w.GetStartUnixMs(), end: w.GetEndUnixMs(),
		exceptions: exceptionsState(w.GetExceptions()), postedExc: exceptionsState(w.GetPostedExceptions()),
	}
}

// appendRecordKey appends a record's changelog key, the same bytes as
// changeKey(company, kindRecord, recKeyString(k)).
func appendRecordKey(b []byte, company string, k recordKey) []byte {
	b = append(b, company...)
	b = append(b, 0, kindRecord, 0)
	b = strconv.AppendInt(b, int64(k.kind), 10)
	b = append(b, 0)
	b = append(b, k.typ...)
	b = append(b, 0)
	return append(b, k.id...)
}

func recordKeyLen(company string, k recordKey) int {
	n := 1
	for v := int64(k.kind); v >= 10; v /= 10 {
		n++
	}
	if k.kind < 0 {
		n++
	}
	return len(company) + 3 + n + 1 + len(k.typ) + 1 + len(k.id)
}
