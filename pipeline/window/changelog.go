package window

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

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
	kindPosted = 'x' // an exception a day's last revision carried
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
	kind, rest, ok := strings.Cut(s, "\x00")
	typ, id, ok2 := strings.Cut(rest, "\x00")
	if !ok || !ok2 {
		return recordKey{}, fmt.Errorf("malformed record key %q", s)
	}
	k, ok := smallDecimal(kind)
	if !ok {
		// Anything else reads as it always has: fmt's %d (a sign, an
		// int32's range, text after the digits).
		if _, err := fmt.Sscanf(kind, "%d", &k); err != nil {
			return recordKey{}, fmt.Errorf("malformed record kind in %q: %w", s, err)
		}
	}
	return recordKey{v1.RecordKind(k), typ, id}, nil
}

// smallDecimal reads s when it is one to nine decimal digits, the kinds
// the window writes, as fmt's %d would.
func smallDecimal(s string) (int32, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	var n int32
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int32(d)
	}
	return n, true
}

// Output is what a batch must write, in one transaction with its input
// offsets.
type Output struct {
	// Changes are the changelog entries of every key the batch touched.
	Changes []Change
	// Summaries are the revisions the batch emitted, for ledger.days.
	Summaries []*v1.DaySummary
	// Exceptions are the batch's records for ledger.exceptions.
	Exceptions []ExceptionChange
	// Parked are the days the batch parked, for commerce.quarantine.
	Parked []ParkedDay
	// Contributions are the batch's changes of records' contributions to
	// days (Contribution values keyed by company), for
	// ledger.contributions; none unless WithContributions.
	Contributions []Change
}

// Flush returns what the current batch must write: changelog entries for
// every key it touched (their final values), the summaries and exception
// records it emitted and the days it parked. The changelog entries are
// written into buffers the aggregator reuses: they are valid until the batch
// ends with Commit or Abort (flushBufs says why that is enough).
func (a *Aggregator) Flush() (Output, error) {
	out, buf, kb := a.fl.take(a.gen, len(a.b.heads)+len(a.b.recs)+len(a.b.days)+len(a.b.refs)+len(a.b.posted))
	// Every entry is cut from the shared buffers with its capacity capped,
	// so that no one appending to one writes over the next.
	var err error
	for _, c := range a.b.heads {
		n, start := len(kb), len(buf)
		kb = appendHeadKey(kb, c.id)
		if buf, err = appendCompanyChange(buf, c); err != nil {
			return Output{}, err
		}
		out = append(out, Change{Partition: c.partition, Key: kb[n:len(kb):len(kb)], Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.recs {
		n := len(kb)
		kb = appendRecordKey(kb, t.c.id, t.k)
		key := kb[n:len(kb):len(kb)]
		if t.e.cur == nil {
			out = append(out, Change{Partition: t.c.partition, Key: key})
			continue
		}
		start := len(buf)
		buf, _ = appendRecordChange(buf, nil, t.k, t.e.cur)
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.days {
		n := len(kb)
		kb = appendDayKey(kb, t.c.id, t.k)
		key := kb[n:len(kb):len(kb)]
		if t.e.cur == nil {
			out = append(out, Change{Partition: t.c.partition, Key: key})
			continue
		}
		start := len(buf)
		buf, _ = appendDayChange(buf, nil, t.k, t.e.cur)
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.refs {
		n, start := len(kb), len(buf)
		kb = appendRefKey(kb, t.c.id, t.k)
		buf = appendReferenceChange(buf, t.k, t.e.cur)
		out = append(out, Change{Partition: t.c.partition, Key: kb[n:len(kb):len(kb)], Value: buf[start:len(buf):len(buf)]})
	}
	for _, t := range a.b.posted {
		n := len(kb)
		kb = appendPostedKey(kb, t.c.id, t.k, t.id)
		key := kb[n:len(kb):len(kb)]
		msg, ok := "", false
		if s := t.c.excs[t.k]; s != nil {
			msg, ok = s.posted[t.id]
		}
		if !ok {
			out = append(out, Change{Partition: t.c.partition, Key: key})
			continue
		}
		start := len(buf)
		buf = appendPostedChange(buf, t.k, t.id, msg)
		out = append(out, Change{Partition: t.c.partition, Key: key, Value: buf[start:len(buf):len(buf)]})
	}
	a.fl.keep(out, buf, kb)
	a.b.changes, a.b.flushed = out[:len(out):len(out)], true
	return Output{Changes: a.b.changes, Summaries: a.b.summaries, Exceptions: a.b.dayExc, Parked: a.b.parked,
		Contributions: a.contributionOutput()}, nil
}

func refProto(k refDataKey, vs []refVersion) *v1.WindowReference {
	out := &v1.WindowReference{Kind: k.kind, Id: k.id}
	for _, v := range vs {
		out.Versions = append(out.Versions, &v1.WindowReferenceVersion{ValidFromUnixMs: v.from, ContentHash: v.hash, Deleted: v.deleted, Category: v.category, GiftCard: v.gift})
	}
	return out
}

// Abort rolls the state back to the last commit: the batch's transaction
// did not commit, and its input will be read again.
func (a *Aggregator) Abort() {
	a.rollback(savepoint{}, nil)
	a.u.forget()
	a.b.reset()
	a.gen++
	a.seq++
}

// reindex rebuilds the indexes of the records in memory.
func (c *company) reindex() {
	clear(c.feesByPayment)
	clear(c.ordersByProduct)
	for k, e := range c.records {
		for _, id := range e.cur.links() {
			addIndex(c.feesByPayment, id, k)
		}
		for _, id := range e.cur.products() {
			addIndex(c.ordersByProduct, id, k)
		}
	}
}

func addIndex(m map[string]map[recordKey]struct{}, id string, k recordKey) {
	set := m[id]
	if set == nil {
		set = map[recordKey]struct{}{}
		m[id] = set
	}
	set[k] = struct{}{}
}

// removeIndex leaves an emptied set in place: Commit clears the maps.
func removeIndex(m map[string]map[recordKey]struct{}, id string, k recordKey) {
	delete(m[id], k)
}

// restored is one changelog entry read: a record's or a day's value (nil
// for a tombstone), or for the other kinds what it sets on its company.
type restored struct {
	rec *recState
	day *dayState
	put func(*company)
}

func (r restored) head(c *company) {
	if r.put != nil {
		r.put(c)
	}
}

// restoreEntry reads one changelog entry, refusing one it cannot read.
func restoreEntry(zones *day.Zones, kind byte, rest, key, value []byte) (restored, error) {
	var wc v1.WindowChange
	if value != nil {
		if err := proto.Unmarshal(value, &wc); err != nil {
			return restored{}, fmt.Errorf("decode changelog entry %q: %w", key, err)
		}
	}
	switch kind {
	case kindHead:
		if value == nil {
			return restored{}, nil
		}
		h := wc.GetCompany()
		if h == nil {
			return restored{}, fmt.Errorf("changelog entry %q holds no company", key)
		}
		var cal day.Calendar
		if h.GetSettings() != nil {
			var err error
			if cal, err = day.NewCalendar(h.GetSettings().GetTimeZone(), int(h.GetSettings().GetCutoffHour()), day.WithZones(zones)); err != nil {
				return restored{}, fmt.Errorf("restore settings of %q: %w", h.GetCompanyId(), err)
			}
		}
		return restored{put: func(c *company) {
			c.tenant, c.settings, c.watermark, c.sequence, c.lastHash = h.GetTenantId(), h.GetSettings(), h.GetWatermarkUnixMs(), h.GetSequence(), h.GetLastHash()
			c.cal, c.hasCal = cal, h.GetSettings() != nil
		}}, nil
	case kindRecord:
		if _, err := parseRecKey(string(rest)); err != nil {
			return restored{}, err
		}
		if value == nil {
			return restored{}, nil
		}
		if wc.GetRecord() == nil {
			return restored{}, fmt.Errorf("changelog entry %q holds no record", key)
		}
		return restored{rec: recordState(wc.GetRecord())}, nil
	case kindDay:
		if len(bytes.SplitN(rest, []byte{0}, 3)) < 2 {
			return restored{}, fmt.Errorf("malformed day key %q", key)
		}
		if value == nil {
			return restored{}, nil
		}
		if wc.GetDay() == nil {
			return restored{}, fmt.Errorf("changelog entry %q holds no day", key)
		}
		d, err := dayFromProto(wc.GetDay())
		if err != nil {
			return restored{}, fmt.Errorf("changelog entry %q: %w", key, err)
		}
		return restored{day: d}, nil
	case kindRef:
		rk := bytes.SplitN(rest, []byte{0}, 2)
		if len(rk) != 2 {
			return restored{}, fmt.Errorf("malformed reference key %q", key)
		}
		kind, err := strconv.Atoi(string(rk[0]))
		if err != nil {
			return restored{}, fmt.Errorf("malformed reference kind in %q: %w", key, err)
		}
		k := refDataKey{v1.ReferenceKind(kind), string(rk[1])}
		if value == nil {
			return restored{}, nil
		}
		if wc.GetReference() == nil {
			return restored{}, fmt.Errorf("changelog entry %q holds no reference", key)
		}
		var vs []refVersion
		for _, v := range wc.GetReference().GetVersions() {
			vs = append(vs, refVersion{from: v.GetValidFromUnixMs(), hash: v.GetContentHash(), deleted: v.GetDeleted(), category: v.GetCategory(), gift: v.GetGiftCard()})
		}
		return restored{put: func(c *company) { c.refs[k] = &refEntry{cur: vs} }}, nil
	case kindPosted:
		ek := bytes.SplitN(rest, []byte{0}, 4)
		if len(ek) != 4 {
			return restored{}, fmt.Errorf("malformed exception key %q", key)
		}
		k := dayKey{day: string(ek[0]), currency: string(ek[1]), location: string(ek[2])}
		id := string(ek[3])
		if value == nil {
			return restored{}, nil
		}
		e := wc.GetPostedException()
		if e == nil || e.GetMessage() == "" {
			return restored{}, fmt.Errorf("changelog entry %q holds no exception", key)
		}
		return restored{put: func(c *company) { c.putException(k, id, e.GetMessage(), true, true) }}, nil
	}
	return restored{}, fmt.Errorf("unknown changelog entry kind %q", kind)
}

// parseDayKey reads the part of a day's changelog key after its kind, one
// restoreEntry has read: it has a currency.
func parseDayKey(rest []byte) dayKey {
	dk := bytes.SplitN(rest, []byte{0}, 3)
	k := dayKey{day: string(dk[0]), currency: string(dk[1])}
	if len(dk) == 3 {
		k.location = string(dk[2])
	}
	return k
}

// LiveDays counts the days held live: open, or sealed with a revision due.
func (a *Aggregator) LiveDays() int {
	n := 0
	for _, c := range a.companies {
		n += len(c.days)
	}
	return n
}

// Drop forgets the companies of partitions this process no longer owns.
func (a *Aggregator) Drop(partition int32) {
	for id, c := range a.companies {
		if c.partition == partition {
			delete(a.companies, id)
		}
	}
	for ref := range a.parks {
		if _, ok := a.companies[ref.CompanyID]; !ok {
			delete(a.parks, ref)
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

// totals reads a day's account amounts. The window writes each account once;
// an entry naming one twice is corrupt, and which of its amounts counted
// would depend on the order a sort leaves equal keys in.
func totals(as []*v1.AccountAmount) (acctTotals, error) {
	t := make(acctTotals, 0, len(as))
	for _, a := range as {
		if a.GetAmount() != 0 {
			t = append(t, acctAmt{day.Account(a.GetAccount()), money.Amount(a.GetAmount())})
		}
	}
	sort.Slice(t, func(i, j int) bool { return t[i].acct < t[j].acct })
	for i := 1; i < len(t); i++ {
		if t[i].acct == t[i-1].acct {
			return nil, fmt.Errorf("account %q is listed twice", t[i].acct)
		}
	}
	return t, nil
}

func dayProto(k dayKey, d *dayState) *v1.WindowDay {
	return &v1.WindowDay{
		BusinessDay: k.day, Currency: k.currency, Totals: amounts(d.totals), Posted: amounts(d.posted),
		Revision: int32(d.revision), Sealed: d.sealed, RecordCount: int32(d.records), Dirty: d.dirty,
		StartUnixMs: d.start, EndUnixMs: d.end, Location: k.location, ParkedReason: d.parked,
	}
}

// dayFromProto reads a day entry. Entries written before exceptions moved
// out of the day carry them still; they are left unread: the current ones
// are rebuilt from the records, and those posted are posted again.
func dayFromProto(w *v1.WindowDay) (*dayState, error) {
	cur, err := totals(w.GetTotals())
	if err != nil {
		return nil, fmt.Errorf("totals: %w", err)
	}
	posted, err := totals(w.GetPosted())
	if err != nil {
		return nil, fmt.Errorf("posted: %w", err)
	}
	return &dayState{
		totals: cur, posted: posted, revision: int(w.GetRevision()),
		sealed: w.GetSealed(), records: int(w.GetRecordCount()), dirty: w.GetDirty(),
		start: w.GetStartUnixMs(), end: w.GetEndUnixMs(), parked: w.GetParkedReason(),
	}, nil
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
	v := int64(k.kind)
	if v < 0 {
		n, v = 2, -v // the minus sign
	}
	for ; v >= 10; v /= 10 {
		n++
	}
	return len(company) + 3 + n + 1 + len(k.typ) + 1 + len(k.id)
}
