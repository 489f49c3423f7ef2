package window

// Tests of the aggregator's hot path: the changelog encoders against
// proto.Marshal (bodies past one and two length bytes included), the
// lifetime of Flush's reused buffers, Flush allocating nothing once warm,
// the undo log copying no day, and the Kafka job's changelog staying
// exact while the buffers are reused from transaction to transaction.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// hotPathRecord is a record with every field set; product and category
// are its lines' texts, so a test can make a line's body as long as it
// needs.
func hotPathRecord(lines int, product, category string) *recState {
	rs := &recState{
		srcMod: 1781092800123, hash: bytes.Repeat([]byte{0xab}, 32), deleted: true, event: 1781092800000,
		currency: "GBP", day: "2026-06-10", site: "site-1", location: "site-1",
		total: -120000, tax: 20000, gratuity: 150, payType: "Card", status: "Paid", linked: "pay-1", tender: "Card",
		seen: 1781092900000, exception: "Order o-1: off by 0.50", settled: []string{"pay-1", "pay-2"},
	}
	for i := range lines {
		rs.lines = append(rs.lines, day.OrderLine{Product: product, Total: money.Amount(1000 + i), Tax: -200, Discount: 50,
			TaxKey: "rate:20", Taxes: []day.TaxPart{{Key: "vat-" + category, Amount: 200}, {Key: "", Amount: -1}}, Category: category, GiftCard: i%2 == 0})
	}
	rs.charges = []day.Charge{{Total: 500, Tax: 100, TaxKey: "rate:5", Taxes: []day.TaxPart{{Key: "svc", Amount: 100}}, Shipping: true}, {}}
	return rs
}

func TestHotPathEncodersWriteWhatProtoMarshalWrites(t *testing.T) {
	det := proto.MarshalOptions{Deterministic: true}
	long := strings.Repeat("é", 100)      // a line's body past 127 bytes: its length takes two bytes
	huge := strings.Repeat("x", 20_000)   // a body past 16,383 bytes: three
	prefix := []byte("entries before it") // an entry is appended after others, never at offset 0 alone
	check := func(t *testing.T, name string, encode func([]byte) []byte, want proto.Message) {
		t.Helper()
		got := encode(bytes.Clone(prefix))
		if !bytes.HasPrefix(got, prefix) {
			t.Fatalf("%s: the encoder changed the bytes before its entry", name)
		}
		w, err := det.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if g := got[len(prefix):]; !bytes.Equal(g, w) {
			t.Errorf("%s: hand encoding (%d bytes)\n%.200x\nproto.Marshal (%d bytes)\n%.200x", name, len(g), g, len(w), w)
		}
	}

	k := recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-1"}
	for name, rs := range map[string]*recState{
		"every field, short lines":      hotPathRecord(2, "latte", "drinks"),
		"lines past 127 bytes":          hotPathRecord(3, long, long),
		"a record past 16 KiB":          hotPathRecord(200, long, "drinks"),
		"a line and tax part of 20 KiB": hotPathRecord(1, "latte", huge),
		"empty":                         {},
	} {
		check(t, "record "+name, func(b []byte) []byte { b, _ = appendRecordChange(b, nil, k, rs); return b }, recordProto(k, rs))
	}

	many := acctTotals{}
	for i := range 40 {
		many = append(many, acctAmt{day.Account(fmt.Sprintf("tax:component-%03d", i)), money.Amount(i*1000 - 7)})
	}
	for name, tc := range map[string]struct {
		k dayKey
		d *dayState
	}{
		"open, many accounts": {dayKey{"2026-06-10", "GBP", ""}, &dayState{totals: many, records: 40, start: 1781046000000, end: 1781132400000}},
		"parked, grouped, an account of 20 KiB": {dayKey{"2026-06-10", "GBP", "shop-1"}, &dayState{
			totals: acctTotals{{day.Account(huge), 5}}, posted: many, revision: 3, sealed: true, dirty: true, records: -1, parked: long}},
	} {
		check(t, "day "+name, func(b []byte) []byte { b, _ = appendDayChange(b, nil, tc.k, tc.d); return b },
			&v1.WindowChange{Entry: &v1.WindowChange_Day{Day: dayProto(tc.k, tc.d)}})
	}

	full := &v1.WindowSettings{TimeZone: "Australia/Lord_Howe", CutoffHour: -3, GraceMs: 3_600_000, ConfigVersion: 7,
		StartDate: "2026-01-01", GroupByLocation: true}
	for name, c := range map[string]*company{
		"no settings yet":      {id: "co-1", tenant: "tn-1"},
		"settings at defaults": {id: "co-1", settings: &v1.WindowSettings{}},
		"every field":          {id: "co-1", tenant: "tn-1", settings: full, sequence: 42, lastHash: strings.Repeat("f", 64), watermark: 99},
		"a head past 16 KiB":   {id: huge, tenant: "tn-1", settings: full, sequence: 1},
	} {
		check(t, "company "+name, func(b []byte) []byte {
			b, err := appendCompanyChange(b, c)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, &v1.WindowChange{Entry: &v1.WindowChange_Company{Company: &v1.WindowCompany{
			CompanyId: c.id, TenantId: c.tenant, Settings: c.settings, Sequence: c.sequence, LastHash: c.lastHash}}})
	}

	versions := []refVersion{{from: 1781092800000, hash: []byte{1, 2, 3}, category: "food", gift: true}, {from: -5, deleted: true}, {}}
	for i := range 300 {
		versions = append(versions, refVersion{from: int64(i), hash: bytes.Repeat([]byte{byte(i)}, 32), category: long})
	}
	for name, vs := range map[string][]refVersion{"none": nil, "three": versions[:3], "past 16 KiB": versions} {
		rk := refDataKey{v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "prod-1"}
		check(t, "reference "+name, func(b []byte) []byte { return appendReferenceChange(b, rk, vs) },
			&v1.WindowChange{Entry: &v1.WindowChange_Reference{Reference: refProto(rk, vs)}})
	}

	for name, msg := range map[string]string{"short": "Order o-1: off by 0.50", "past 127 bytes": long, "past 16 KiB": huge} {
		dk := dayKey{"2026-06-10", "GBP", "shop-1"}
		check(t, "posted exception "+name, func(b []byte) []byte { return appendPostedChange(b, dk, "o-1", msg) },
			&v1.WindowChange{Entry: &v1.WindowChange_PostedException{PostedException: &v1.WindowPostedException{
				BusinessDay: dk.day, Currency: dk.currency, Location: dk.location, RecordId: "o-1", Message: msg}}})
	}
}

// The encoders write the fields they know. A field added to one of these
// messages would be silently dropped from the changelog, and so from every
// restored state, until its encoder writes it: this fails first.
func TestHotPathEncodersKnowEveryField(t *testing.T) {
	span := func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, tc := range []struct {
		msg     proto.Message
		encoder string
		fields  []int // written, or deliberately left out (said why in the encoder)
	}{
		{&v1.WindowChange{}, "Flush", span(1, 5)},
		{&v1.WindowRecord{}, "appendRecordChange", span(1, 23)},
		{&v1.WindowLine{}, "appendLine", span(1, 9)},
		{&v1.WindowTaxPart{}, "appendLine", span(1, 2)},
		// 11 and 12 are the exceptions days carried before they moved out:
		// read by no one and written no more.
		{&v1.WindowDay{}, "appendDayChange", span(1, 14)},
		{&v1.AccountAmount{}, "appendAmounts", span(1, 2)},
		// 4, the watermark, is left out: Restore derives it.
		{&v1.WindowCompany{}, "appendCompanyChange", span(1, 6)},
		{&v1.WindowReference{}, "appendReferenceChange", span(1, 3)},
		{&v1.WindowReferenceVersion{}, "appendReferenceChange", span(1, 5)},
		{&v1.WindowPostedException{}, "appendPostedChange", span(1, 5)},
	} {
		fs := tc.msg.ProtoReflect().Descriptor().Fields()
		var got []int
		for i := range fs.Len() {
			got = append(got, int(fs.Get(i).Number()))
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.fields) {
			t.Errorf("%s has fields %v; %s knows %v: teach it the new ones (and this test)",
				tc.msg.ProtoReflect().Descriptor().FullName(), got, tc.encoder, tc.fields)
		}
	}
	// The entry kinds are the oneof's fields in Flush's order of kinds.
	for name, num := range map[protoreflect.Name]protowire.Number{"record": recordChangeField, "day": dayChangeField,
		"company": companyChangeField, "reference": referenceChangeField, "posted_exception": postedChangeField} {
		if f := (&v1.WindowChange{}).ProtoReflect().Descriptor().Fields().ByName(name); f == nil || f.Number() != num {
			t.Errorf("WindowChange.%s: the encoder writes field %d", name, num)
		}
	}
}

func hotPathChanges(chs []Change) []Change {
	out := make([]Change, len(chs))
	for i, c := range chs {
		out[i] = Change{Partition: c.Partition, Key: bytes.Clone(c.Key), Value: bytes.Clone(c.Value)}
	}
	return out
}

func hotPathSameChanges(t *testing.T, what string, want, got []Change) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d changes, want %d", what, len(got), len(want))
	}
	for i := range want {
		if want[i].Partition != got[i].Partition || !bytes.Equal(want[i].Key, got[i].Key) || !bytes.Equal(want[i].Value, got[i].Value) ||
			(want[i].Value == nil) != (got[i].Value == nil) {
			t.Fatalf("%s: change %d is %q=%x, want %q=%x", what, i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
}

// Flush's output is valid until its batch ends with Commit or Abort, and no
// longer: a second Flush in the same batch leaves the first one's output as
// it was, and the first Flush after Commit or Abort writes into the same
// memory.
func TestHotPathFlushOutputLivesUntilTheBatchEnds(t *testing.T) {
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	line := &v1.OrderLineItem{TotalAmount: "12.00", TotalTaxAmount: "2.00", TaxPercentage: "20.00"}
	r := newRun(t, map[string]int32{exCompany: 3})
	r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, ConfigVersion: 1}),
		exLinesOrder("ord-1", at, 1, "24.00", line, line), exOrder("ord-2", at, 1, "GBP", "5.00", "0"))
	first, err := r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	saved := hotPathChanges(first.Changes)
	second, err := r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	hotPathSameChanges(t, "the first Flush's output after a second Flush", saved, first.Changes)
	hotPathSameChanges(t, "a second Flush of the same batch", saved, second.Changes)
	if unsafe.SliceData(first.Changes) == unsafe.SliceData(second.Changes) ||
		unsafe.SliceData(first.Changes[0].Value) == unsafe.SliceData(second.Changes[0].Value) {
		t.Fatal("a second Flush in the same batch wrote into the memory of the first one's output")
	}
	r.a.Commit()

	for _, end := range []struct {
		name string
		end  func()
	}{{"Commit", r.a.Commit}, {"Abort", r.a.Abort}} {
		r.apply(t, exLinesOrder("ord-3-"+end.name, at, 1, "12.00", line))
		before, err := r.a.Flush()
		if err != nil {
			t.Fatal(err)
		}
		want := hotPathChanges(before.Changes)
		end.end()
		r.apply(t, exLinesOrder("ord-4-"+end.name, at, 1, "12.00", line))
		next, err := r.a.Flush()
		if err != nil {
			t.Fatal(err)
		}
		if unsafe.SliceData(next.Changes) != unsafe.SliceData(before.Changes) ||
			unsafe.SliceData(next.Changes[0].Value) != unsafe.SliceData(before.Changes[0].Value) {
			t.Fatalf("the Flush after %s did not reuse the buffers of the batch before", end.name)
		}
		if bytes.Equal(before.Changes[0].Key, want[0].Key) {
			t.Fatalf("after %s, the next batch's Flush left the old output in place: it was not reused", end.name)
		}
		r.a.Commit()
	}
}

// Once its buffers have grown to the batches' size, Flush allocates
// nothing: the changelog of a steady stream costs no garbage.
func TestHotPathFlushAllocatesNothingOnceWarm(t *testing.T) {
	start := local(t, ldnZone, "2026-06-10 00:00:00")
	r := newRun(t, map[string]int32{"co-a": 0, "co-b": 1})
	for _, co := range []string{"co-a", "co-b"} {
		r.apply(t, settingsEvent(co, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GraceMs: hourMs, ConfigVersion: 1}))
	}
	r.commit(t)
	var least uint64 = 1 << 62
	for b := range 12 {
		// Each batch: orders of both companies with lines, a payment and
		// a fee, and from the third on a day sealed by the watermark (a
		// summary, the company's head).
		at := start.Add(time.Duration(b) * 8 * time.Hour)
		for i := range 20 {
			for _, co := range []string{"co-a", "co-b"} {
				id := fmt.Sprintf("%s-%d-%d", co, b, i)
				r.apply(t, hotPathOrder(co, id, at.Add(time.Duration(i)*time.Minute), 3, "Flat white"))
				if i%4 == 0 {
					r.apply(t, hotPathPayment(co, "pay-"+id, at.Add(time.Duration(i)*time.Minute), "3.60"),
						hotPathFee(co, "fee-"+id, "pay-"+id, at.Add(time.Duration(i)*time.Minute)))
				}
			}
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		out, err := r.a.Flush()
		runtime.ReadMemStats(&m1)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Changes) < 40 {
			t.Fatalf("batch %d wrote %d changes; the test means at least 40", b, len(out.Changes))
		}
		if b >= 2 {
			least = min(least, m1.Mallocs-m0.Mallocs)
		}
		r.a.Commit()
	}
	if least != 0 {
		t.Errorf("a warm Flush allocated %d times; want none", least)
	}
}

func hotPathOrder(company, id string, at time.Time, lines int, product string) *v1.CommerceEvent {
	var items []*v1.OrderLineItem
	for i := range lines {
		items = append(items, &v1.OrderLineItem{TotalAmount: "1.20", TotalTaxAmount: "0.20", TaxPercentage: "20",
			ProductRef: &v1.Ref{Id: fmt.Sprintf("%s-%d", product, i)},
			Taxes:      []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: "vat-20"}, TaxAmount: "0.20"}}})
	}
	total := money.FromMinor(120*int64(lines), 2) // 1.20 a line
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: at.UnixMilli(),
		ContentHash: exHash(company, id, lines, product),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: total.String(), OrderLineItems: items,
			LocationRef: &v1.Ref{Id: "shop-1"}}},
	})
}

func hotPathPayment(company, id string, at time.Time, amount string) *v1.CommerceEvent {
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: at.UnixMilli(),
		ContentHash: exHash(company, id, amount),
		Body:        &v1.RecordEvent_Payment{Payment: &v1.Payment{Id: id, Amount: amount, Currency: "GBP", Type: "Card", Status: "Paid"}},
	})
}

func hotPathFee(company, id, paymentID string, at time.Time) *v1.CommerceEvent {
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "PaymentFee", Id: id,
		EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: at.UnixMilli(), ContentHash: exHash(company, id, paymentID),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{Id: id, TotalAmount: "-0.07", Currency: "GBP", Type: "PaymentFee",
			TransactionSourceRef: &v1.TransactionSourceRef{Id: paymentID, Type: "Payment"}}},
	})
}

// The first record a batch applies to a day logs the day's scalars for its
// undo, and its postings one by one; it copies none of the day's accounts.
// So applying a record to a day of hundreds of accounts costs what applying
// it to a day of a few does.
func TestHotPathUndoCopiesNoDayTotals(t *testing.T) {
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	r := newRun(t, map[string]int32{"co-big": 0, "co-small": 0, "co-warm": 0})
	for _, co := range []string{"co-big", "co-small", "co-warm"} {
		r.apply(t, settingsEvent(co, exTenant, &v1.WindowSettings{TimeZone: ldnZone, ConfigVersion: 1}),
			hotPathOrder(co, "ord-0", at, 2, "Flat white"))
	}
	// Each line of a distinct rate opens an account of its own.
	var items []*v1.OrderLineItem
	for i := range 600 {
		items = append(items, &v1.OrderLineItem{TotalAmount: "1.20", TotalTaxAmount: "0.20", TaxPercentage: fmt.Sprintf("%d.%02d", 10+i/100, i%100)})
	}
	r.apply(t, recordEvent("co-big", exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "ord-wide", EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash("wide"),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: "ord-wide", Currency: "GBP", TotalAmount: "720.00", OrderLineItems: items}},
	}))
	r.commit(t)
	dk := dayKey{day: "2026-06-10", currency: "GBP"}
	big, small := r.a.companies["co-big"].dayState(dk), r.a.companies["co-small"].dayState(dk)
	if len(big.totals) < 600 || len(small.totals) > 10 {
		t.Fatalf("the days hold %d and %d accounts; the test means over 600 and under 10", len(big.totals), len(small.totals))
	}

	type cost struct{ bytes, days, totals int }
	measure := func(co, id string) cost {
		ev := hotPathOrder(co, id, at, 2, "Flat white")
		days, totals := len(r.a.u.days), len(r.a.u.totals)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if err := r.a.Apply(0, ev); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&m1)
		return cost{int(m1.TotalAlloc - m0.TotalAlloc), len(r.a.u.days) - days, len(r.a.u.totals) - totals}
	}
	for round := range 3 {
		// A fresh batch each round: the record is the day's first touch in it.
		// The batch's first store read opens the store's iterator, some
		// kilobytes Pebble pools only until the next collection: a third
		// company reads first, so that neither measure pays for it.
		if err := r.a.Apply(0, hotPathOrder("co-warm", fmt.Sprintf("ord-w%d", round), at, 2, "Flat white")); err != nil {
			t.Fatal(err)
		}
		b := measure("co-big", fmt.Sprintf("ord-b%d", round))
		s := measure("co-small", fmt.Sprintf("ord-s%d", round))
		if b.days != 1 || s.days != 1 || b.totals != s.totals || b.totals == 0 {
			t.Fatalf("round %d: the undo log took %d days and %d postings for the wide day, %d and %d for the small one; want 1 day each and the same postings",
				round, b.days, b.totals, s.days, s.totals)
		}
		// 600 accounts copied would be 14 KB and more.
		// Under the race detector sync.Pool drops a share of what is put
		// back (the store's reads pool their buffers), so bytes allocated
		// say nothing there; the undo log's counts above hold either way.
		if !raceEnabled && b.bytes > s.bytes+1024 {
			t.Errorf("round %d: applying to the wide day allocated %d bytes, to the small one %d", round, b.bytes, s.bytes)
		}
		r.commit(t)
	}
}

// hotPathStream is a few companies' events as a platform sends them: orders
// of one to four lines (product names long enough that a line's entry
// passes 127 bytes), payments, fees, corrected orders, orders whose lines
// miss their total, over three days, then a close of every day. Companies
// interleave; each company's own events are in order.
func hotPathStream(companies, orders int) []*v1.CommerceEvent {
	r := rand.New(rand.NewPCG(10, 4))
	start := time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC)
	per := make([][]*v1.CommerceEvent, companies)
	for c := range companies {
		co := fmt.Sprintf("company-%02d", c)
		evs := []*v1.CommerceEvent{settingsEvent(co, exTenant, &v1.WindowSettings{TimeZone: ldnZone, GraceMs: hourMs, ConfigVersion: 1})}
		for o := range orders {
			at := start.Add(time.Duration(o) * 3 * 24 * time.Hour / time.Duration(orders))
			id := fmt.Sprintf("ord-%d", o)
			product := strings.Repeat("p", 5+r.IntN(150))
			ev := hotPathOrder(co, id, at, 1+r.IntN(4), product)
			if r.IntN(10) == 0 {
				ev = missOrder(co, id, at)
			}
			evs = append(evs, ev)
			if r.IntN(5) == 0 {
				fixed := hotPathOrder(co, id, at, 1+r.IntN(4), product+"-v2")
				fixed.GetRecord().SourceModifiedUnixMs += 1000
				evs = append(evs, fixed)
			}
			if r.IntN(2) == 0 {
				evs = append(evs, hotPathPayment(co, "pay-"+id, at.Add(time.Second), fmt.Sprintf("%d.00", 1+r.IntN(40))))
				if r.IntN(3) == 0 {
					evs = append(evs, hotPathFee(co, "fee-"+id, "pay-"+id, at.Add(time.Minute)))
				}
			}
		}
		evs = append(evs, closeEvent(co, start.AddDate(0, 0, 10).UnixMilli()))
		per[c] = evs
	}
	var out []*v1.CommerceEvent
	for i := 0; ; i++ {
		more := false
		for _, evs := range per {
			if i < len(evs) {
				out, more = append(out, evs[i]), true
			}
		}
		if !more {
			return out
		}
	}
}

// The Kafka job, many small transactions in: every changelog entry the
// broker holds is what an aggregator fed the same events in one batch
// writes, byte for byte. The job produces Flush's output from buffers the
// next transaction reuses; an entry the producer still held when they were
// reused would show here as a wrong value.
func TestHotPathJobChangelogIsExactWhileBuffersAreReused(t *testing.T) {
	evs := hotPathStream(6, 60)
	want := newRun(t, map[string]int32{})
	want.feed(t, evs, nil)
	if len(want.summaries) == 0 {
		t.Fatal("the stream sealed no day; the test means to cover summaries and heads")
	}

	h := startJobHarness(t, 3, false)
	h.push(evs...)
	j := h.runJob(WithMaxPollRecords(17))
	h.waitConsumed(2 * time.Minute)
	if st := j.Stats(); st.Committed < 10 || st.Quarantined != 0 {
		t.Fatalf("the job committed %d transactions and quarantined %d records; the test means many transactions and none", st.Committed, st.Quarantined)
	}
	got := map[string]string{}
	for _, rec := range h.read(h.topics.Changelog) {
		if rec.Value == nil {
			delete(got, string(rec.Key))
			continue
		}
		got[string(rec.Key)] = string(rec.Value)
	}
	wantState := want.log.state()
	if d := diffStates(wantState, got); d != "" {
		t.Fatalf("the job's changelog differs from one batch's:\n%s", d)
	}
	long := 0
	for _, v := range got {
		if len(v) > 300 {
			long++
		}
	}
	if long == 0 {
		t.Fatal("no changelog entry passed 300 bytes; the test means to cover long ones")
	}
}
