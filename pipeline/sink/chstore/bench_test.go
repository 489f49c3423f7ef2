package chstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
)

// BenchmarkCompanyMonthVsFullScan times the reconciliation of one
// company-month (days and payouts) against a full scan of the same tables
// (the same sums for every company), in interleaved pairs: -benchtime 20x
// is twenty pairs. The store holds 1,000 companies over 30 days, with
// QUERY_BENCH_ROWS contribution rows (default 1,000,000), their ledger lines
// and documents.
func BenchmarkCompanyMonthVsFullScan(b *testing.B) {
	rowsWanted := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("QUERY_BENCH_ROWS")); err == nil && v > 0 {
		rowsWanted = v
	}
	ctx := context.Background()
	tg := chtest.Start(b)
	s, err := chstore.Open(ctx, tg.Addr, tg.Database)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fillMonth(b, s, rowsWanted)
	const tenant, from, to = "tenant", "2026-03-01", "2026-03-30"
	r := rand.New(rand.NewPCG(1, 1))
	company := func() string { return fmt.Sprintf("company-%04d", r.IntN(1000)) }
	var parts [3][]float64
	month := func() time.Duration {
		start := time.Now()
		co := company()
		if _, _, err := s.Month(ctx, tenant, co, from, to); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		t2 := t1
		if _, _, err := s.Payouts(ctx, tenant, co, from, to); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		parts[0], parts[1], parts[2] = append(parts[0], t1.Sub(start).Seconds()), append(parts[1], t2.Sub(t1).Seconds()), append(parts[2], t3.Sub(t2).Seconds())
		return time.Since(start)
	}
	scan := func() time.Duration {
		start := time.Now()
		if err := s.ScanAll(ctx, from, to); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	month() // warm the caches of both alike
	scan()
	b.ResetTimer()
	var ms, ss []float64
	for range b.N {
		ms = append(ms, month().Seconds())
		ss = append(ss, scan().Seconds())
	}
	p95 := func(xs []float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[min(len(xs)-1, len(xs)*95/100)]
	}
	b.ReportMetric(p95(ms)*1e3, "month-p95-ms")
	b.ReportMetric(p95(ss)*1e3, "scan-p95-ms")
	b.ReportMetric(p95(ms)/p95(ss), "month/scan")
	for i, name := range []string{"days", "", "payouts"} {
		if name != "" {
			b.ReportMetric(p95(parts[i])*1e3, name+"-p95-ms")
		}
	}
}

// fillMonth writes about n contribution rows for 1,000 companies over 30
// days, with the ledger lines and confirmed documents that match them.
func fillMonth(b *testing.B, s *chstore.Store, n int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 30))
	perDay := max(1, n/(1000*30*3))
	var rows sink.Rows
	flush := func() {
		if err := s.Write(ctx, &rows); err != nil {
			b.Fatal(err)
		}
		rows = sink.Rows{}
	}
	off := int64(0)
	for c := range 1000 {
		co := fmt.Sprintf("company-%04d", c)
		for d := range 30 {
			day := time.Date(2026, 3, 1+d, 0, 0, 0, 0, time.UTC)
			k := sink.DayKey{TenantID: "tenant", CompanyID: co, Day: day, Currency: "GBP"}
			var sales money.Amount
			for i := range perDay {
				amt := money.Amount(r.Int64N(1_000_000))
				sales += amt
				off++
				for j, p := range []struct {
					acct string
					amt  money.Amount
				}{{"sales", -amt}, {"unsettled", amt}, {"tender:Card", 0}} {
					rows.Contributions = append(rows.Contributions, sink.Contribution{DayKey: k, Kind: "order", RecordID: fmt.Sprintf("o-%d-%d", d, i),
						Sign: 1, Account: p.acct, Amount: p.amt, EventTime: day.Add(12 * time.Hour), Source: sink.Source{Partition: 0, Offset: off}, Index: uint16(j)})
				}
			}
			rows.Days = append(rows.Days, sink.Day{DayKey: k, Revision: 1, SummaryID: fmt.Sprintf("%s-%d", co, d), RecordCount: int32(perDay),
				Start: day, End: day.AddDate(0, 0, 1), Source: sink.Source{Offset: int64(c*30 + d)}})
			rows.Lines = append(rows.Lines, sink.Line{DayKey: k, Revision: 1, Account: "sales", Amount: -sales},
				sink.Line{DayKey: k, Revision: 1, Account: "unsettled", Amount: sales})
			doc := fmt.Sprintf("doc-%s-%d", co, d)
			rows.Documents = append(rows.Documents, sink.Document{DayKey: k, DocumentID: doc, Revision: 1, State: "confirmed", Type: "ManualJournal",
				DocCurrency: "GBP", UpdatedAt: day, Source: sink.Source{Offset: int64(c*30 + d)}})
			rows.Movements = append(rows.Movements, sink.Movement{DayKey: k, DocumentID: doc, SemanticAccount: "sales", Amount: -sales, Source: sink.Source{Offset: int64(c*30 + d)}},
				sink.Movement{DayKey: k, DocumentID: doc, SemanticAccount: "unsettled", Amount: sales, Source: sink.Source{Offset: int64(c*30 + d)}, Index: 1})
		}
		if len(rows.Contributions) > 200_000 {
			flush()
		}
	}
	flush()
}
