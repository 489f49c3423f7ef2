package window

// Fuzz targets over what the window reads from Kafka: a commerce.events
// value through Apply, a window.changelog entry through Restore. Anything
// may write them, so no input may make a panic escape, a refused input must
// leave the state as it was, and what an accepted one makes the window write
// must fit the topics. The committed corpus (testdata/fuzz) holds the
// findings' records: an oversized day's orders, ids of 200 KB cut to size,
// amounts and rates the decimal library would choke on, a half-applied
// order, skipped records.

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// fuzzWorld is a small committed state for inputs to land in: one company
// with settings, orders (one an exception), a payment and its fee, a
// product, a sealed day and an open one.
func fuzzWorld(f interface {
	fataler
	cleaner
}) *run {
	const ldn = "Europe/London"
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	r := newRun(f, map[string]int32{exCompany: 0})
	r.apply(f, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldn, ConfigVersion: 1}),
		exProduct("prod-1", at.AddDate(0, 0, -1), "food", false),
		exOrderOf("o-1", at, 1, [2]string{"prod-1", "12.00"}),
		missOrder(exCompany, "o-miss", at),
		exPayment("pay-1", at, 1, "GBP", "12.00", "Card", "Paid"),
		exFee("fee-1", "pay-1", at, 1, "GBP", "-0.30"),
		closeEvent(exCompany, at.AddDate(0, 0, 1).UnixMilli()),
		exOrder("o-2", at.AddDate(0, 0, 1), 1, "GBP", "5.00", "1.00"),
	)
	r.commit(f)
	return r
}

// fuzzSeeds are events from the findings, as the bytes commerce.events
// holds.
func fuzzSeeds() [][]byte {
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	order := func(mut func(*v1.Order)) *v1.CommerceEvent {
		ev := goodOrder(exCompany, "o-seed", at, "10.00")
		mut(ev.GetRecord().GetOrder())
		return ev
	}
	v2 := exOrderOf("o-1", at, 2, [2]string{"prod-1", "13.00"})
	evs := []*v1.CommerceEvent{
		missOrder(exCompany, "big-00001", at),
		missOrder(exCompany, "0-"+strings.Repeat("x", 300), at),
		v2,
		order(func(o *v1.Order) { o.TotalAmount = "12,00" }),
		order(func(o *v1.Order) { o.TotalAmount = "1e999999999" }),
		order(func(o *v1.Order) {
			o.OrderLineItems = []*v1.OrderLineItem{{TotalAmount: "10.00", TotalTaxAmount: "0", TaxPercentage: "1e999999999"}}
		}),
		order(func(o *v1.Order) { o.TotalAmount = "99999999999.9999"; o.TotalGratuity = "99999999999.9999" }),
		settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: "Mars/Olympus"}),
		settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: "Europe/London", GraceMs: -1}),
		goodOrder("", "o-nobody", at, "1.00"),
		closeEvent(exCompany, at.AddDate(0, 0, 3).UnixMilli()),
		tickEvent(exCompany, at.AddDate(0, 0, 3).UnixMilli()),
		deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1", at.AddDate(0, 0, 2).UnixMilli()),
		exProduct("prod-1", at.AddDate(0, 0, -2), "drink", true),
		exPayout("Payout", "po-1", at, "11.70", "pay-1", "pay-2"),
		recordEvent(exCompany, exTenant, &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: "kind-mismatch",
			Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: "kind-mismatch", Currency: "GBP", TotalAmount: "1"}}}),
		farOrder(math.MaxInt64),
		farOrder(math.MinInt64),
	}
	var out [][]byte
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return append(out, []byte{0xff, 0xff, 0xff}, nil)
}

// farOrder is an order dated at the edge of time.
func farOrder(ms int64) *v1.CommerceEvent {
	ev := goodOrder(exCompany, fmt.Sprintf("o-far-%d", ms), time.Unix(0, 0), "1.00")
	ev.GetRecord().EventUnixMs = ms
	return ev
}

// fitsTopics fails when anything the batch would write passes the topics'
// record limit.
func fitsTopics(f fataler, a *Aggregator) {
	out, err := a.Flush()
	if err != nil {
		f.Fatalf("Flush: %v", err)
	}
	for _, c := range out.Changes {
		if n := len(c.Key) + len(c.Value); n > kafka.MaxRecordBytes {
			f.Fatalf("a changelog entry of %d bytes", n)
		}
	}
	for _, s := range out.Summaries {
		if n := proto.Size(s) + len(s.GetCompanyId()); n > kafka.MaxRecordBytes {
			f.Fatalf("a summary of %d bytes", n)
		}
	}
}

// A commerce.events value, whatever its bytes: Apply never lets a panic
// out; when it refuses the event, the state and the batch's output are as
// they were; when it takes it, what the batch writes fits the topics, and
// Abort puts the state back.
func FuzzApplyEvent(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		var ev v1.CommerceEvent
		if err := proto.Unmarshal(value, &ev); err != nil {
			return // the job quarantines it undecoded
		}
		r := fuzzWorld(t)
		committed := dumpState(r.a)
		before, beforeOut := committed, pending(t, r.a)
		if err := r.a.Apply(0, &ev); err != nil {
			if d := firstDiff(before, dumpState(r.a)); d != "" {
				t.Fatalf("refused (%v) but the state changed: %s", err, d)
			}
			if d := firstDiff(beforeOut, pending(t, r.a)); d != "" {
				t.Fatalf("refused (%v) but the batch's output changed: %s", err, d)
			}
			return
		}
		fitsTopics(t, r.a)
		r.a.Abort()
		if d := firstDiff(committed, dumpState(r.a)); d != "" {
			t.Fatalf("Abort did not put the state back: %s", d)
		}
	})
}

// changelogSeeds are the entries a run over the findings' records writes:
// every kind of entry, as Restore reads them.
func changelogSeeds(f interface {
	fataler
	cleaner
}) []Change {
	r := fuzzWorld(f)
	for _, b := range fuzzSeeds() {
		var ev v1.CommerceEvent
		if proto.Unmarshal(b, &ev) == nil {
			_ = r.a.Apply(0, &ev)
		}
	}
	r.commit(f)
	return r.log.entries
}

// A window.changelog entry, whatever its key and value: Restore never
// panics, and an entry it refuses leaves the state as it was; after an
// entry it takes, the restored company still takes a close-up-to without a
// panic escaping and writes what fits the topics.
func FuzzRestoreEntry(f *testing.F) {
	for _, c := range changelogSeeds(f) {
		f.Add(c.Key, c.Value)
	}
	f.Add([]byte("co\x00d\x00"), []byte{0xff})
	f.Add([]byte("co\x00r\x00x"), []byte("\x12\x00"))
	f.Add([]byte("co\x00x\x00a\x00b"), []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		base := fuzzWorld(t)
		a := testAggregator(t)
		restorePartition(t, a, base.log, 0, false)
		before := dumpState(a)
		a.resume(0) // one more entry on top of the restored state
		if err := a.Restore(0, key, value); err != nil {
			if d := firstDiff(before, dumpState(a)); d != "" {
				t.Fatalf("Restore refused (%v) but the state changed: %s", err, d)
			}
			return
		}
		if err := a.RestoreDone(0); err != nil {
			return // a store that cannot load the entry stops the job, as a store failure does
		}
		for id := range a.companies {
			if len(id) > MaxIDBytes {
				continue
			}
			_ = a.Apply(0, closeEvent(id, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()))
		}
		fitsTopics(t, a)
	})
}
