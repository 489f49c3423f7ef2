package window

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// A shutdown that comes while a transaction is under way lets it end: the
// day it seals is committed, not thrown away to be done again by the next
// owner.
func TestShutdownFinishesTheTransactionUnderWay(t *testing.T) {
	h := startJobHarness(t, 1, false)
	dayEnd := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	h.push(londonSettings("co-1"), goodOrder("co-1", "o-1", dayEnd.Add(-12*time.Hour), "10.00"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	j := NewJob(h.brokers, WithTopics(h.topics), WithGroup(h.group), WithLogger(slog.New(slog.DiscardHandler)),
		WithTimeouts(10*time.Second, time.Second),
		// The shutdown comes inside the transaction that seals the day,
		// after its output was produced and before it commits.
		WithInTransactionHook(func(summaries int) {
			if summaries > 0 {
				once.Do(cancel)
			}
		}))
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	h.push(closeEvent("co-1", dayEnd.UnixMilli()))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the job did not stop within a minute of its shutdown")
	}
	st := j.Stats()
	if st.Aborted != 0 || st.Committed == 0 {
		t.Errorf("stats %+v: the transaction under way at the shutdown should have committed", st)
	}
	sums := h.summaries()
	if len(sums) != 1 || sums[0].GetCompanyId() != "co-1" || sums[0].GetRevision() != 1 {
		t.Errorf("committed summaries %v, want co-1's day, sealed once", sums)
	}
}
