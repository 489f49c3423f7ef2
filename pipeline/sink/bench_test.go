package sink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// BenchmarkSinkVsRawInsert measures the sink (Kafka fetch, decode, rows,
// batched inserts, offset commits) over ledger.contributions against raw
// clickhouse-go batch inserts of the same rows, in interleaved pairs, each
// side into a fresh database: -benchtime 5x is five pairs. The rows are
// contribution changes for 1,000 companies, a tenth of them updates (the
// old version out, the new one in), three postings each; SINK_BENCH_ROWS
// sets how many rows (default 300,000).
func BenchmarkSinkVsRawInsert(b *testing.B) {
	want := 300_000
	if v, err := strconv.Atoi(os.Getenv("SINK_BENCH_ROWS")); err == nil && v > 0 {
		want = v
	}
	ctx := context.Background()
	br, err := kafka.StartBroker()
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	topics := kafka.DefaultTopics()
	prod, err := kgo.NewClient(append(kafka.ClientOpts(br.Cluster(), nil), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	if err := kafka.EnsureTopics(ctx, prod, topics.Specs(6)); err != nil {
		b.Fatal(err)
	}
	records, rows := contributionLoad(b, want)
	for i := 0; i < len(records); i += 10_000 {
		if err := prod.ProduceSync(ctx, records[i:min(i+10_000, len(records))]...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	tg := chtest.Start(b)
	n := 0
	fresh := func() *chstore.Store {
		n++
		s, err := chstore.Open(ctx, tg.Addr, fmt.Sprintf("%s_%d", tg.Database, n))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.ResetTimer()
	var ts, bs, ratios []float64
	for i := range b.N {
		st := fresh()
		j := sink.NewJob(br.Cluster(), st, sink.WithGroup(fmt.Sprintf("bench-%d", i)))
		jctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- j.Run(jctx) }()
		for j.Stats().Records < int64(len(records)) {
			select {
			case err := <-done:
				b.Fatalf("sink stopped: %v", err)
			case <-time.After(time.Millisecond):
			}
		}
		target := time.Since(start)
		cancel()
		<-done
		st.Close()

		raw := fresh()
		start = time.Now()
		for k := 0; k < len(rows.Contributions); k += 100_000 {
			part := &sink.Rows{Contributions: rows.Contributions[k:min(k+100_000, len(rows.Contributions))]}
			if err := raw.Write(ctx, part); err != nil {
				b.Fatal(err)
			}
		}
		baseline := time.Since(start)
		raw.Close()
		// Throughput ratio: the sink's rows/s over the raw inserts'.
		ts, bs, ratios = append(ts, target.Seconds()), append(bs, baseline.Seconds()), append(ratios, baseline.Seconds()/target.Seconds())
	}
	med := func(xs []float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	nrows := float64(len(rows.Contributions))
	b.ReportMetric(nrows/med(ts), "sink-rows/s")
	b.ReportMetric(nrows/med(bs), "raw-rows/s")
	b.ReportMetric(med(ratios), "sink/raw")
	b.ReportMetric(nrows, "rows")
}

// contributionLoad makes about want rows of contribution changes, as Kafka
// records and as the rows the sink makes of them.
func contributionLoad(b *testing.B, want int) ([]*kgo.Record, *sink.Rows) {
	r := rand.New(rand.NewPCG(12, 2026))
	accounts := []string{"sales", "tax:rate:20", "unsettled", "tender:Card", "gratuity", "discounts"}
	var recs []*kgo.Record
	nrows := 0
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	add := func(c *v1.Contribution) {
		v, err := proto.Marshal(c)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: kafka.DefaultTopics().Contributions, Key: []byte(c.GetCompanyId()), Value: v})
		nrows += max(1, len(c.GetPostings()))
	}
	for id := 0; nrows < want; id++ {
		co := fmt.Sprintf("company-%04d", r.IntN(1000))
		day := day0.AddDate(0, 0, r.IntN(30))
		c := &v1.Contribution{TenantId: "tenant-" + co[len(co)-1:], CompanyId: co, BusinessDay: day.Format(time.DateOnly), Currency: "GBP",
			Kind: v1.RecordKind_RECORD_KIND_ORDER, RecordId: fmt.Sprintf("order-%09d", id), Sign: 1, EventUnixMs: day.Add(12 * time.Hour).UnixMilli()}
		amt := r.Int64N(1_000_000)
		for _, a := range accounts[:3] {
			c.Postings = append(c.Postings, &v1.AccountAmount{Account: a, Amount: amt})
		}
		if r.IntN(10) == 0 { // an update: the old version leaves first
			old := proto.Clone(c).(*v1.Contribution)
			old.Sign = -1
			for _, p := range old.Postings {
				p.Amount = -p.Amount
			}
			add(old)
		}
		add(c)
	}
	var rows sink.Rows
	for i, rec := range recs {
		rec.Partition, rec.Offset = 0, int64(i) // the baseline's rows name a source, as the sink's do
		if err := sink.AddContribution(&rows, rec); err != nil {
			b.Fatal(err)
		}
	}
	return recs, &rows
}
