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
	var out []Change
	for _, c := range a.b.headOrder {
		b, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Company{Company: &v1.WindowCompany{
			CompanyId: c.id, TenantId: c.tenant, Settings: c.settings, WatermarkUnixMs: c.watermark,
			Sequence: c.sequence, LastHash: c.lastHash,
		}}})
		if err != nil {
			return nil, nil, fmt.Errorf("encode company %s: %w", c.id, err)
		}
		out = append(out, Change{Partition: c.partition, Key: changeKey(c.id, kindHead, ""), Value: b})
	}
	var buf []byte
	for _, ref := range a.b.recOrder {
		key := changeKey(ref.c.id, kindRecord, recKeyString(ref.k))
		rs := ref.c.records[ref.k]
		if rs == nil {
			out = append(out, Change{Partition: ref.c.partition, Key: key})
			continue
		}
		var err error
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], recordProto(ref.k, rs))
		if err != nil {
			return nil, nil, fmt.Errorf("encode record %s: %w", ref.k.String(), err)
		}
		out = append(out, Change{Partition: ref.c.partition, Key: key, Value: append([]byte(nil), buf...)})
	}
	for _, ref := range a.b.dayOrder {
		key := changeKey(ref.c.id, kindDay, ref.k.day+"\x00"+ref.k.currency)
		d := ref.c.days[ref.k]
		if d == nil {
			out = append(out, Change{Partition: ref.c.partition, Key: key})
			continue
		}
		b, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Day{Day: dayProto(ref.k, d)}})
		if err != nil {
			return nil, nil, fmt.Errorf("encode day %s: %w", ref.k.day, err)
		}
		out = append(out, Change{Partition: ref.c.partition, Key: key, Value: b})
	}
	return out, a.b.summaries, nil
}

// Commit forgets the undo log: the batch's transaction committed.
func (a *Aggregator) Commit() { a.b = newBatch() }

// Abort rolls the state back to the last commit: the batch's transaction
// did not commit, and its input will be read again.
func (a *Aggregator) Abort() {
	b := a.b
	touched := map[*company]bool{}
	for i := len(b.recOrder) - 1; i >= 0; i-- {
		ref := b.recOrder[i]
		if prev := b.recs[ref]; prev == nil {
			delete(ref.c.records, ref.k)
		} else {
			ref.c.records[ref.k] = prev
		}
		touched[ref.c] = true
	}
	for i := len(b.dayOrder) - 1; i >= 0; i-- {
		ref := b.dayOrder[i]
		if prev := b.days[ref]; prev == nil {
			delete(ref.c.days, ref.k)
		} else {
			ref.c.days[ref.k] = prev
		}
	}
	for c, h := range b.heads {
		c.setHead(h)
	}
	for _, c := range b.created {
		delete(a.companies, c.id)
	}
	for c := range touched {
		c.reindex()
	}
	a.b = newBatch()
}

func (c *company) reindex() {
	c.feesByPayment = map[string]map[recordKey]struct{}{}
	for k, rs := range c.records {
		if rs.linked == "" {
			continue
		}
		set := c.feesByPayment[rs.linked]
		if set == nil {
			set = map[recordKey]struct{}{}
			c.feesByPayment[rs.linked] = set
		}
		set[k] = struct{}{}
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
		c.records[k] = recordState(wc.GetRecord())
	case kindDay:
		dk := bytes.SplitN(parts[2], []byte{0}, 2)
		if len(dk) != 2 {
			return fmt.Errorf("malformed day key %q", key)
		}
		k := dayKey{string(dk[0]), string(dk[1])}
		if value == nil {
			delete(c.days, k)
			return nil
		}
		var wc v1.WindowChange
		if err := proto.Unmarshal(value, &wc); err != nil {
			return fmt.Errorf("decode day %s: %w", k.day, err)
		}
		c.days[k] = dayFromProto(wc.GetDay())
	default:
		return fmt.Errorf("unknown changelog entry kind %q", parts[1])
	}
	return nil
}

// RestoreDone finishes restoring a partition.
func (a *Aggregator) RestoreDone(partition int32) {
	for _, c := range a.companies {
		if c.partition == partition {
			c.reindex()
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
	}}}
}

func recordState(w *v1.WindowRecord) *recState {
	return &recState{
		srcMod: w.GetSourceModifiedUnixMs(), hash: w.GetContentHash(), deleted: w.GetDeleted(),
		event: w.GetEventUnixMs(), currency: w.GetCurrency(), day: w.GetBusinessDay(),
		total: money.Amount(w.GetTotal()), tax: money.Amount(w.GetTax()), gratuity: money.Amount(w.GetGratuity()),
		payType: w.GetPaymentType(), status: w.GetStatus(), linked: w.GetLinkedPaymentId(), tender: w.GetTenderType(),
	}
}

func amounts(t day.Totals) []*v1.AccountAmount {
	out := make([]*v1.AccountAmount, 0, len(t))
	for a, v := range t {
		out = append(out, &v1.AccountAmount{Account: string(a), Amount: int64(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

func totals(as []*v1.AccountAmount) day.Totals {
	t := day.Totals{}
	for _, a := range as {
		t[day.Account(a.GetAccount())] = money.Amount(a.GetAmount())
	}
	return t
}

func dayProto(k dayKey, d *dayState) *v1.WindowDay {
	return &v1.WindowDay{
		BusinessDay: k.day, Currency: k.currency, Totals: amounts(d.totals), Posted: amounts(d.posted),
		Revision: int32(d.revision), Sealed: d.sealed, RecordCount: int32(d.records), Dirty: d.dirty,
		StartUnixMs: d.start, EndUnixMs: d.end,
	}
}

func dayFromProto(w *v1.WindowDay) *dayState {
	return &dayState{
		totals: totals(w.GetTotals()), posted: totals(w.GetPosted()), revision: int(w.GetRevision()),
		sealed: w.GetSealed(), records: int(w.GetRecordCount()), dirty: w.GetDirty(),
		start: w.GetStartUnixMs(), end: w.GetEndUnixMs(),
	}
}
