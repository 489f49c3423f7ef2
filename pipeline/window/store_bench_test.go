package window

// Benchmarks of the state store's costs, each against a baseline measured
// in the same run, interleaved (target, baseline, target, baseline, …), so
// that a shared machine's noise falls on both. Run them with -benchtime=Nx
// for N pairs (make bench uses 5):
//
//	go test -run '^$' -bench 'Store' -benchtime 5x ./pipeline/window/
//
// Each reports the medians of both sides and the median of the pairs'
// ratios.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// pairs runs target and baseline b.N times each, interleaved, and reports
// their median times and the median of target/baseline.
func pairs(b *testing.B, unit string, target, baseline func() time.Duration) {
	var ts, bs, ratios []float64
	for range b.N {
		t := target().Seconds()
		base := baseline().Seconds()
		ts, bs, ratios = append(ts, t), append(bs, base), append(ratios, t/base)
	}
	med := func(xs []float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	b.ReportMetric(med(ts)*1e3, "target-ms/"+unit)
	b.ReportMetric(med(bs)*1e3, "baseline-ms/"+unit)
	b.ReportMetric(med(ratios), "target/baseline")
}

// heldCompany is one company's aggregator holding n orders over n/1000
// days, every day sealed but the last, in a store on disk.
type heldCompany struct {
	a       *Aggregator
	version int64
}

var (
	heldOnce sync.Map // n → *heldCompany
)

func holdOrders(b *testing.B, n int) *heldCompany {
	if h, ok := heldOnce.Load(n); ok {
		return h.(*heldCompany)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("commercesync-bench-held-%d-%d", n, os.Getpid()))
	_ = os.RemoveAll(dir)
	st, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	a := NewAggregator(nil, WithStore(st))
	first := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const co = "held"
	pending := 0
	apply := func(ev *v1.CommerceEvent) {
		if err := a.Apply(0, ev); err != nil {
			b.Fatal(err)
		}
		if pending++; pending == 5000 {
			if _, err := a.Flush(); err != nil {
				b.Fatal(err)
			}
			a.Commit()
			pending = 0
		}
	}
	apply(settingsEvent(co, exTenant, &v1.WindowSettings{TimeZone: "Europe/London", ConfigVersion: 1}))
	perDay := min(n, 1000)
	for i := range n {
		d := i / perDay
		at := first.AddDate(0, 0, d).Add(8*time.Hour + time.Duration(i%perDay)*time.Second)
		apply(memOrder(co, fmt.Sprintf("held-%07d", i), at, 1, "10.00", "4.00", "6.00"))
		if (i+1)%perDay == 0 && i+1 < n {
			apply(closeEvent(co, first.AddDate(0, 0, d+1).UnixMilli()))
		}
	}
	if _, err := a.Flush(); err != nil {
		b.Fatal(err)
	}
	a.Commit()
	h := &heldCompany{a: a, version: 1}
	heldOnce.Store(n, h)
	return h
}

// save applies a configuration save that changes only the mapping (a new
// configuration version, the same zone, cutoff and grouping) and commits it.
func (h *heldCompany) save(b *testing.B) time.Duration {
	h.version++
	ev := settingsEvent("held", exTenant, &v1.WindowSettings{TimeZone: "Europe/London", ConfigVersion: h.version})
	start := time.Now()
	if err := h.a.Apply(0, ev); err != nil {
		b.Fatal(err)
	}
	if _, err := h.a.Flush(); err != nil {
		b.Fatal(err)
	}
	h.a.Commit()
	return time.Since(start)
}

// BenchmarkStoreSettingsSave: a save that changes only the mapping, for a
// company holding 1,000,000 orders (the target) against one holding 1,000
// (the baseline). The target is within 2x, and under 50 ms.
func BenchmarkStoreSettingsSave(b *testing.B) {
	big := 1_000_000
	if testing.Short() {
		big = 100_000
	}
	held, small := holdOrders(b, big), holdOrders(b, 1000)
	b.ResetTimer()
	pairs(b, "save", func() time.Duration { return held.save(b) }, func() time.Duration { return small.save(b) })
}

// restoreLog is a changelog partition of n record entries on a broker.
type restoreLog struct {
	brokers kafka.Cluster
	topic   string
	end     int64
}

var restoreLogs sync.Map

func changelogOf(b *testing.B, n int) *restoreLog {
	if l, ok := restoreLogs.Load(n); ok {
		return l.(*restoreLog)
	}
	br, err := kafka.StartBroker()
	if err != nil {
		b.Fatal(err)
	}
	topics := kafka.DefaultTopics()
	cl, err := kgo.NewClient(append(kafka.ClientOpts(br.Cluster(), nil), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := kafka.EnsureTopics(ctx, cl, topics.Specs(1)); err != nil {
		b.Fatal(err)
	}
	const companies = 1000
	var buf, scratch []byte
	var batch []*kgo.Record
	for i := range n {
		co := fmt.Sprintf("co-%04d", i%companies)
		k := recordKey{v1.RecordKind_RECORD_KIND_ORDER, "", fmt.Sprintf("order-%08d", i)}
		rs := &recState{srcMod: 1, hash: exHash(i), event: 1767600000000 + int64(i)*1000, currency: "GBP", day: "2026-01-05",
			total: money.FromMinor(1000, 2), seen: 1767600000000 + int64(i)*1000,
			lines: []day.OrderLine{{Product: "prod-a", Total: money.FromMinor(400, 2)}, {Product: "prod-b", Total: money.FromMinor(600, 2)}}}
		buf, scratch = appendRecordChange(buf[:0], scratch, k, rs)
		batch = append(batch, &kgo.Record{Topic: topics.Changelog, Partition: 0,
			Key: appendRecordKey(nil, co, k), Value: append([]byte(nil), buf...)})
		if len(batch) == 10000 || i == n-1 {
			if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	_, end, err := kafka.PartitionBounds(ctx, br.Cluster(), topics.Changelog, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	l := &restoreLog{brokers: br.Cluster(), topic: topics.Changelog, end: end}
	restoreLogs.Store(n, l)
	return l
}

// BenchmarkStoreRestore: rebuilding a partition's store from 1,000,000
// changelog record entries (the target) against reading the same entries
// from the broker and doing nothing with them (the baseline). The target
// is at least 0.5x the baseline's throughput: a ratio of times of at most
// 2.
func BenchmarkStoreRestore(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	l := changelogOf(b, n)
	ctx := context.Background()
	raw := func() time.Duration {
		start := time.Now()
		got := 0
		if err := kafka.ReadPartitionRange(ctx, l.brokers, l.topic, 0, 0, l.end, nil, func(*kgo.Record) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("read %d entries, want %d", got, n)
		}
		return time.Since(start)
	}
	restore := func() time.Duration {
		st, err := OpenStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		a := NewAggregator(nil, WithStore(st))
		start := time.Now()
		from, _, err := a.ResumeFrom(0, 0, l.end, time.Now(), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if err := kafka.ReadPartitionRange(ctx, l.brokers, l.topic, 0, from, l.end, nil, func(r *kgo.Record) error {
			return a.Restore(0, r.Key, r.Value)
		}); err != nil {
			b.Fatal(err)
		}
		if err := a.RestoreDone(0); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if len(a.companies) != 1000 {
			b.Fatalf("restored %d companies, want 1000", len(a.companies))
		}
		return d
	}
	b.ResetTimer()
	pairs(b, "restore", restore, raw)
	b.ReportMetric(float64(n), "entries")
}
