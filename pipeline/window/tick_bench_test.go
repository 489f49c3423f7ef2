package window

// The cost of a clock tick against the history a company keeps (issue 10:
// a tick must cost the same with 1 or 10,000 sealed days kept):
//
//	go test -c -o /tmp/window.test ./pipeline/window/
//	for i in 1 2 3 4 5 6; do
//	  /tmp/window.test -test.run=NONE -test.bench='BenchmarkTick/sealed=0$' -test.benchtime=20000x
//	  /tmp/window.test -test.run=NONE -test.bench='BenchmarkTick/sealed=10000$' -test.benchtime=20000x
//	done
//
// Both companies hold the same open day; one also keeps 10,000 sealed days
// (one order each). Each operation is one partition tick that seals nothing
// (the common case: most ticks find no day due), applied, flushed and
// committed as the job does.

import (
	"fmt"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// tickState builds an aggregator holding one company on partition 0 with
// sealed days sealed and one open day after them.
func tickState(b *testing.B, sealed int) (*Aggregator, int64) {
	b.Helper()
	const company, ldn = "co-bench", "Europe/London"
	r := newRun(b, map[string]int32{company: 0})
	r.apply(b, settingsEvent(company, exTenant, &v1.WindowSettings{TimeZone: ldn, GraceMs: hourMs, ConfigVersion: 1}))
	first := time.Date(2000, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range sealed {
		r.apply(b, goodOrder(company, fmt.Sprintf("o-%05d", i), first.AddDate(0, 0, i), "10.00"))
		if i%1000 == 999 {
			r.commit(b)
		}
	}
	open := first.AddDate(0, 0, sealed+10)
	r.apply(b, goodOrder(company, "o-open", open, "10.00"))
	r.apply(b, closeEvent(company, open.AddDate(0, 0, -5).UnixMilli()))
	r.commit(b)
	n := 0
	prefix := append(append(changePrefix(nil, kindDay, 0), company...), 0, kindDay, 0)
	if err := r.a.st.scan(prefix, func(_, _ []byte) error { n++; return nil }); err != nil {
		b.Fatal(err)
	}
	if live := len(r.a.companies[company].days); n != sealed+1 || live != 1 {
		b.Fatalf("the company keeps %d days, %d of them on the heap; want %d sealed and one open, on the heap", n, live, sealed)
	}
	// Ticks before the open day ends: they seal nothing.
	return r.a, open.AddDate(0, 0, -1).UnixMilli()
}

// BenchmarkStoreTick: a thousand ticks to a company keeping 10,000 sealed
// days (the target) against one keeping none (the baseline), in
// interleaved pairs (-benchtime=Nx for N pairs). The target is within 10%.
func BenchmarkStoreTick(b *testing.B) {
	kept, keptNow := tickState(b, 10_000)
	none, noneNow := tickState(b, 0)
	ticks := func(a *Aggregator, now *int64) func() time.Duration {
		return func() time.Duration {
			start := time.Now()
			for range 1000 {
				if err := a.Apply(0, partitionTick(*now)); err != nil {
					b.Fatal(err)
				}
				if _, err := a.Flush(); err != nil {
					b.Fatal(err)
				}
				a.Commit()
				*now++
			}
			return time.Since(start)
		}
	}
	b.ResetTimer()
	pairs(b, "1000-ticks", ticks(kept, &keptNow), ticks(none, &noneNow))
}

func BenchmarkTick(b *testing.B) {
	for _, sealed := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("sealed=%d", sealed), func(b *testing.B) {
			a, now := tickState(b, sealed)
			b.ReportAllocs()
			for b.Loop() {
				if err := a.Apply(0, partitionTick(now)); err != nil {
					b.Fatal(err)
				}
				out, err := a.Flush()
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Summaries) != 0 {
					b.Fatalf("the tick sealed %d days", len(out.Summaries))
				}
				a.Commit()
				now++
			}
		})
	}
}
