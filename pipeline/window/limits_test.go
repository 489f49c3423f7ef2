package window

// The window's output stays within the topics' record limit whatever its
// input: with every limit at its maximum, and past it.

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// pad makes an id of exactly n bytes starting with prefix.
func pad(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }

// maxima drives one company whose every id is at its limit.
type maxima struct {
	t        *testing.T
	r        *run
	company  string
	tenant   string
	location string
	at       time.Time
	largest  map[string]int // the largest output of each kind, in bytes
}

func newMaxima(t *testing.T) *maxima {
	m := &maxima{t: t, company: pad("co-", MaxIDBytes), tenant: pad("tenant-", MaxIDBytes), location: pad("shop-", MaxIDBytes),
		largest: map[string]int{}}
	m.r = newRun(t, map[string]int32{m.company: 0})
	m.at = local(t, "America/Argentina/ComodRivadavia", "2026-03-10 12:00:00")
	m.apply(settingsEvent(m.company, m.tenant, &v1.WindowSettings{
		TimeZone: "America/Argentina/ComodRivadavia", GroupByLocation: true, ConfigVersion: math.MaxInt64,
	}))
	return m
}

func (m *maxima) apply(evs ...*v1.CommerceEvent) {
	m.t.Helper()
	m.r.apply(m.t, evs...)
}

// refused applies ev and requires it refused with a reason containing want.
func (m *maxima) refused(ev *v1.CommerceEvent, want string) {
	m.t.Helper()
	before := dumpState(m.r.a)
	err := m.r.a.Apply(0, ev)
	if err == nil || !strings.Contains(err.Error(), want) {
		m.t.Fatalf("%s: err %v, want it refused saying %q", describe(ev), err, want)
	}
	if d := firstDiff(before, dumpState(m.r.a)); d != "" {
		m.t.Fatalf("%s was refused but changed the state: %s", describe(ev), d)
	}
}

// commit ends the batch and checks that each record it writes (key and
// value) is within kafka.MaxRecordBytes.
func (m *maxima) commit() Output {
	m.t.Helper()
	out, err := m.r.a.Flush()
	if err != nil {
		m.t.Fatal(err)
	}
	check := func(kind string, key, value []byte) {
		n := len(key) + len(value)
		if n > kafka.MaxRecordBytes {
			m.t.Errorf("a %s record of %d bytes, over the limit of %d", kind, n, kafka.MaxRecordBytes)
		}
		m.largest[kind] = max(m.largest[kind], n)
	}
	for _, c := range out.Changes {
		check("changelog", c.Key, c.Value)
	}
	for _, s := range out.Summaries {
		b, err := proto.Marshal(s)
		if err != nil {
			m.t.Fatal(err)
		}
		check("summary", []byte(s.GetCompanyId()), b)
	}
	for _, e := range out.Exceptions {
		check("exception", e.Key, e.Value)
	}
	for _, c := range out.Contributions {
		check("contribution", c.Key, c.Value)
	}
	m.r.commit(m.t)
	return out
}

// order is an order of the company at its location: one line of 10.00 with
// 1.00 tax to component, total as given.
func (m *maxima) order(id string, srcMod int64, total, component string) *v1.CommerceEvent {
	line := &v1.OrderLineItem{TotalAmount: "10.00", TotalTaxAmount: "1.00",
		Taxes: []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: component}, TaxAmount: "1.00"}}}
	return recordEvent(m.company, m.tenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: m.at.UnixMilli(), SourceModifiedUnixMs: srcMod,
		ContentHash: exHash(id, srcMod, component),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: total, TotalTaxAmount: "1.00",
			LocationRef: &v1.Ref{Id: m.location}, OrderLineItems: []*v1.OrderLineItem{line}}},
	})
}

func (m *maxima) close() *v1.CommerceEvent {
	return closeEvent(m.company, m.at.AddDate(0, 0, 2).UnixMilli())
}

// With every limit at its maximum (ids of 255 bytes: company, tenant,
// location, records, tax components, products, categories; a day of 1,000
// accounts; a summary of 1,000 lines naming 100 exceptions with the longest
// messages; a record state near 512 KiB; a quarantine entry of a 1 MB
// record), no changelog entry, summary, exception or quarantine entry passes
// kafka.MaxRecordBytes. Past a limit: an id of 256 bytes, a 1,001st account
// and a state past 512 KiB refuse their record (not the day), and a revision
// that would need 2,000 lines parks its day, naming the count and the limit.
func TestOutputWithinRecordLimitAtEveryMaximum(t *testing.T) {
	m := newMaxima(t)
	// A day at MaxDayAccounts: unsettled, sales and a tax component for
	// each order.
	components := MaxDayAccounts - 2
	for i := range components {
		m.apply(m.order(pad(fmt.Sprintf("o-%04d-", i), MaxIDBytes), 1, "10.00", pad(fmt.Sprintf("tc-%04d-", i), MaxIDBytes)))
	}
	m.refused(m.order(pad("one-more-", MaxIDBytes), 1, "10.00", pad("tc-new-", MaxIDBytes)),
		fmt.Sprintf("would hold %d accounts; the limit is %d", MaxDayAccounts+1, MaxDayAccounts))
	m.refused(m.order(pad("o-too-long-", MaxIDBytes+1), 1, "10.00", pad("tc-0000-", MaxIDBytes)),
		fmt.Sprintf("id is %d bytes; the limit is %d", MaxIDBytes+1, MaxIDBytes))
	m.refused(m.order("o-x", 1, "10.00", pad("tc-0000-", MaxIDBytes+1)),
		fmt.Sprintf("orderLineItems[0].taxes[0].taxComponentRef.id is %d bytes; the limit is %d", MaxIDBytes+1, MaxIDBytes))
	// 150 orders whose lines miss their total by the most an amount can:
	// exceptions with 255-byte ids and the longest messages.
	for i := range 150 {
		m.apply(m.order(pad(fmt.Sprintf("x-%04d-", i), MaxIDBytes), 1, "-99999999999.9999", pad("tc-0000-", MaxIDBytes)))
	}
	// A record whose state is near MaxRecordStateBytes: lines with 255-byte
	// products whose category is 255 bytes, and a 255-byte tax component.
	m.apply(&v1.CommerceEvent{CompanyId: m.company, TenantId: m.tenant, Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
		Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: pad("p-", MaxIDBytes), ContentHash: exHash("p"),
		Body: &v1.ReferenceEvent_Product{Product: &v1.Product{ProductCategoryRefs: []*v1.Ref{{Id: pad("cat-", MaxIDBytes)}}}},
	}}})
	long := func(id string, lines int) *v1.CommerceEvent {
		o := &v1.Order{Id: id, Currency: "USD", TotalTaxAmount: fmt.Sprintf("%d.00", lines), LocationRef: &v1.Ref{Id: m.location},
			TotalAmount: fmt.Sprintf("%d.00", 10*lines)}
		for range lines {
			o.OrderLineItems = append(o.OrderLineItems, &v1.OrderLineItem{TotalAmount: "10.00", TotalTaxAmount: "1.00", ProductRef: &v1.Ref{Id: pad("p-", MaxIDBytes)},
				Taxes: []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: pad("tc-0000-", MaxIDBytes)}, TaxAmount: "1.00"}}})
		}
		return recordEvent(m.company, m.tenant, &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: m.at.UnixMilli(),
			SourceModifiedUnixMs: 1, ContentHash: exHash(id), Body: &v1.RecordEvent_Order{Order: o}})
	}
	// A reference at MaxReferenceVersions, each naming a 255-byte category.
	version := func(i int) *v1.CommerceEvent {
		return &v1.CommerceEvent{CompanyId: m.company, TenantId: m.tenant, Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
			Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: pad("q-", MaxIDBytes), ContentHash: exHash("q", i)[:MaxHashBytes/2],
			ValidFromUnixMs: int64(i),
			Body:            &v1.ReferenceEvent_Product{Product: &v1.Product{ProductCategoryRefs: []*v1.Ref{{Id: pad(fmt.Sprintf("cat-%d-", i), MaxIDBytes)}}}},
		}}}
	}
	for i := range MaxReferenceVersions {
		m.apply(version(i))
	}
	m.refused(version(MaxReferenceVersions), fmt.Sprintf("already has %d versions; the limit is %d", MaxReferenceVersions, MaxReferenceVersions))
	m.refused(long(pad("long-", MaxIDBytes), 700), fmt.Sprintf("the limit is %d", MaxRecordStateBytes))
	m.refused(long(pad("lines-", MaxIDBytes), MaxOrderLines+1), fmt.Sprintf("orderLineItems has %d elements; the limit is %d", MaxOrderLines+1, MaxOrderLines))
	m.apply(long(pad("long-", MaxIDBytes), 600))
	m.commit()
	if n := m.largest["changelog"]; n < MaxRecordStateBytes*9/10 {
		t.Errorf("the largest changelog entry is %d bytes; the test meant one near %d", n, MaxRecordStateBytes)
	}

	m.apply(m.close())
	out := m.commit()
	if len(out.Summaries) != 2 {
		t.Fatalf("%d summaries, want the first revision of the GBP day and the USD day", len(out.Summaries))
	}
	s := out.Summaries[0]
	if len(s.GetLines()) != MaxDayAccounts || len(s.GetExceptions()) != MaxExceptionsNamed || s.GetExceptionCount() != 150 {
		t.Errorf("the summary has %d lines and names %d of %d exceptions; want %d lines, %d named of 150",
			len(s.GetLines()), len(s.GetExceptions()), s.GetExceptionCount(), MaxDayAccounts, MaxExceptionsNamed)
	}
	if len(out.Exceptions) != 150 {
		t.Errorf("%d exception records, want 150", len(out.Exceptions))
	}

	// Every order moves to another tax component: the day keeps 1,000
	// accounts, but its next revision would move 2,000 of them.
	for i := range components {
		m.apply(m.order(pad(fmt.Sprintf("o-%04d-", i), MaxIDBytes), 2, "10.00", pad(fmt.Sprintf("tc-%04d-b-", i), MaxIDBytes)))
	}
	m.apply(tickEvent(m.company, m.at.AddDate(0, 0, 3).UnixMilli()))
	out = m.commit()
	want := fmt.Sprintf("revision 2 would carry %d lines; the limit is %d", 2*components, MaxSummaryLines)
	if len(out.Summaries) != 0 || len(out.Parked) != 1 || !strings.Contains(out.Parked[0].Reason, want) {
		t.Fatalf("summaries %d, parked %+v; want the day parked saying %q", len(out.Summaries), out.Parked, want)
	}

	// A quarantine entry of a record as large as the topic takes, keyed
	// and named by the longest company and tenant.
	j := NewJob(kafka.Cluster{}, WithLogger(m.r.a.log))
	huge := &v1.CommerceEvent{CompanyId: m.company, TenantId: m.tenant, Body: &v1.CommerceEvent_Record{Record: &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: strings.Repeat("é", kafka.MaxRecordBytes/2-100)}}}
	value, err := proto.Marshal(huge)
	if err != nil {
		t.Fatal(err)
	}
	q := j.recordEntry(&kgo.Record{Topic: "commerce.events", Value: value}, huge, strings.Repeat("reason ", kafka.MaxRecordBytes/7), 5)
	if n := len(q.Key) + len(q.Value); n > kafka.MaxRecordBytes || n < MaxQuarantinedBytes {
		t.Errorf("the quarantine entry of a %d-byte record is %d bytes; want it between %d and %d", len(value), n, MaxQuarantinedBytes, kafka.MaxRecordBytes)
	}
	var e v1.QuarantineEntry
	if err := proto.Unmarshal(q.Value, &e); err != nil || !e.GetRecordTruncated() || len(e.GetReason()) > MaxReasonBytes {
		t.Errorf("quarantine entry: err %v, truncated %v, reason %d bytes", err, e.GetRecordTruncated(), len(e.GetReason()))
	}
	m.largest["quarantine"] = len(q.Key) + len(q.Value)
	t.Logf("largest records at the limits (bytes): %v; the limit is %d", m.largest, kafka.MaxRecordBytes)
}

// smallState's promise: a record of that many elements, every string at
// its limit, stays far below MaxRecordStateBytes, so it need not be
// measured.
func TestSmallStateIsFarBelowTheLimit(t *testing.T) {
	id := pad("x-", MaxIDBytes)
	rs := &recState{hash: make([]byte, MaxHashBytes), currency: id, day: "2026-03-10", site: id, location: id, payType: id, status: id,
		linked: id, tender: id, exception: strings.Repeat("e", 2*MaxReasonBytes), total: math.MaxInt64, tax: math.MinInt64, gratuity: math.MinInt64,
		srcMod: math.MinInt64, event: math.MinInt64, seen: math.MinInt64}
	rateKey := "rate:" + strings.Repeat("9", MaxNumberBytes+maxExponent)
	for range smallState {
		rs.lines = append(rs.lines, lineAt(id, rateKey))
	}
	k := recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, id, id}
	b, _ := appendRecordChange(nil, nil, k, rs)
	if n := len(b) + recordKeyLen(id, k); n > MaxRecordStateBytes/4 {
		t.Errorf("%d elements at their longest take %d bytes; smallState promises far below %d", smallState, n, MaxRecordStateBytes)
	}
}

// lineAt is an order line with every string at its limit.
func lineAt(id, rateKey string) day.OrderLine {
	return day.OrderLine{Product: id, Category: id, TaxKey: rateKey, Total: math.MinInt64, Tax: math.MinInt64, Discount: math.MinInt64, GiftCard: true}
}

// A payout settling as many 255-byte payment ids as a record's state holds
// writes the largest contribution a record can, and it stays within the
// record limit: noteContribution needs no check of its own.
func TestLargestContributionWithinRecordLimit(t *testing.T) {
	m := newMaxima(t)
	payout := func(n int) *v1.CommerceEvent {
		var ids []string
		for i := range n {
			ids = append(ids, pad(fmt.Sprintf("pay-%05d-", i), MaxIDBytes))
		}
		id := pad("po-", MaxIDBytes)
		return recordEvent(m.company, m.tenant, &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payout", Id: id,
			EventUnixMs: m.at.UnixMilli(), SourceModifiedUnixMs: int64(n), ContentHash: exHash(id, n),
			Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{Id: id, Type: "Payout", TotalAmount: "10.00", Currency: "GBP", SettledTransactionIds: ids}}})
	}
	m.refused(payout(2100), fmt.Sprintf("the limit is %d", MaxRecordStateBytes))
	m.apply(payout(1900))
	m.commit()
	if n := m.largest["contribution"]; n < MaxRecordStateBytes*9/10 {
		t.Errorf("the largest contribution is %d bytes; the test meant one near %d", n, MaxRecordStateBytes)
	}
}
