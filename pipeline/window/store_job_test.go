package window

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// startStoreJob runs a window job on dir until stop is called, which
// returns what Run returned.
func (h *jobHarness) startStoreJob(dir string, opts ...Option) (j *Job, stop func() error) {
	h.t.Helper()
	j = NewJob(h.brokers, append([]Option{
		WithTopics(h.topics), WithGroup(h.group), WithLogger(slog.New(slog.DiscardHandler)),
		WithTimeouts(10*time.Second, time.Second), WithStateDir(dir),
	}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	h.t.Cleanup(func() { _ = stop() })
	return j, stop
}

// daySales is each company's latest revision's sales per day, in minor
// units, from what ledger.days holds.
func (h *jobHarness) daySales() map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, s := range h.summaries() {
		var sales string
		for _, l := range s.GetLines() {
			if l.GetAccount() == "sales" {
				sales = l.GetCredit()
			}
		}
		out[s.GetCompanyId()+" "+s.GetBusinessDay()] = sales
	}
	return out
}

func storeDay(t *testing.T, company string, day int, orders int) []*v1.CommerceEvent {
	at := local(t, "Europe/London", "2026-03-10 09:00:00").AddDate(0, 0, day)
	var evs []*v1.CommerceEvent
	for i := range orders {
		evs = append(evs, goodOrder(company, company+"-"+at.Format("0102")+"-"+string(rune('a'+i)), at.Add(time.Duration(i)*time.Minute), "10.00"))
	}
	return evs
}

// A window that stops cleanly and starts again on its state folder reads
// none of the changelog it had already applied, and seals the next days as
// a window that never stopped would.
func TestStoreJobRestartReadsOnlyTheChangelogItHadNotApplied(t *testing.T) {
	h := startJobHarness(t, 2, false)
	dir := t.TempDir()
	companies := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	var first []*v1.CommerceEvent
	for _, c := range companies {
		first = append(append(first, londonSettings(c)), storeDay(t, c, 0, 5)...)
	}
	h.push(first...)
	j1, stop := h.startStoreJob(dir)
	h.waitConsumed(time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("first window: %v", err)
	}
	if s := j1.Stats(); s.Rebuilt == 0 || s.Resumed != 0 {
		t.Fatalf("first window on an empty folder: %+v; want every partition rebuilt", s)
	}
	changelog := len(h.read(h.topics.Changelog))

	var second []*v1.CommerceEvent
	for _, c := range companies {
		second = append(second, storeDay(t, c, 1, 4)...)
		second = append(second, closeEvent(c, local(t, "Europe/London", "2026-03-12 00:00:00").UnixMilli()))
	}
	h.push(second...)
	j2, stop := h.startStoreJob(dir)
	h.waitConsumed(time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("second window: %v", err)
	}
	s := j2.Stats()
	if s.Resumed != 2 || s.Rebuilt != 0 || s.RestoredEntries != 0 {
		t.Fatalf("second window: %+v; want both partitions resumed from their checkpoints, reading none of the %d changelog entries", s, changelog)
	}
	got := h.daySales()
	for _, c := range companies {
		if got[c+" 2026-03-10"] != "50.00" || got[c+" 2026-03-11"] != "40.00" {
			t.Fatalf("sales of %s: %v; want 50.00 on the 10th and 40.00 on the 11th", c, got)
		}
	}

	// A window on an empty folder rebuilds both partitions from every
	// changelog entry (the broker here compacts nothing).
	entries := h.read(h.topics.Changelog)
	changelog = len(entries)
	perPartition := map[int32]int{}
	for _, r := range entries {
		perPartition[r.Partition]++
	}
	if len(perPartition) != 2 {
		t.Fatalf("the changelog's entries fall in partitions %v; the test needs both", perPartition)
	}
	j3, stop := h.startStoreJob(t.TempDir())
	h.waitConsumed(time.Minute)
	deadline := time.Now().Add(time.Minute)
	for j3.Stats().Rebuilt < 2 && time.Now().Before(deadline) {
		// Waiting on the job: it restores when its partitions are assigned.
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("third window: %v", err)
	}
	if s := j3.Stats(); s.Rebuilt != 2 || s.Resumed != 0 || s.RestoredEntries != int64(changelog) {
		t.Fatalf("third window, on an empty folder: %+v; want both partitions rebuilt from all %d changelog entries", s, changelog)
	}
}

// A window that dies after a transaction commits and before its store is
// written restarts from the checkpoint before it, reads the changelog that
// transaction wrote, and counts nothing twice.
func TestStoreJobCrashBetweenTransactionAndStoreCountsNothingTwice(t *testing.T) {
	h := startJobHarness(t, 1, false)
	dir := t.TempDir()
	crash := errors.New("killed between the transaction and the store")
	var commits atomic.Int32
	crashed := make(chan struct{})
	var evs []*v1.CommerceEvent
	for _, c := range []string{"k1", "k2"} {
		evs = append(append(evs, londonSettings(c)), storeDay(t, c, 0, 6)...)
	}
	h.push(evs...)
	_, stop := h.startStoreJob(dir, WithMaxPollRecords(3), withAfterCommit(func() error {
		if commits.Add(1) == 3 {
			close(crashed)
			return crash
		}
		return nil
	}))
	select {
	case <-crashed:
	case <-time.After(time.Minute):
		t.Fatalf("the window made %d transactions in a minute; the test needs 3", commits.Load())
	}
	if err := stop(); !errors.Is(err, crash) {
		t.Fatalf("first window ended with %v; want the crash", err)
	}
	var rest []*v1.CommerceEvent
	for _, c := range []string{"k1", "k2"} {
		rest = append(rest, storeDay(t, c, 1, 2)...)
		rest = append(rest, closeEvent(c, local(t, "Europe/London", "2026-03-12 00:00:00").UnixMilli()))
	}
	h.push(rest...)
	j2, stop := h.startStoreJob(dir)
	h.waitConsumed(time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("second window: %v", err)
	}
	if s := j2.Stats(); s.Resumed != 1 || s.RestoredEntries <= 0 {
		t.Fatalf("second window: %+v; want the partition resumed, reading what the crashed transaction wrote", s)
	}
	got := h.daySales()
	for _, c := range []string{"k1", "k2"} {
		if got[c+" 2026-03-10"] != "60.00" || got[c+" 2026-03-11"] != "20.00" {
			t.Fatalf("sales of %s: %v; want 60.00 on the 10th and 20.00 on the 11th", c, got)
		}
	}
	// ledger.contributions rode in the same transactions: nothing twice.
	if d := diffSums(sumRevisions(t, h.summaries()), h.contributions()); d != "" {
		t.Fatalf("ledger.contributions differs from ledger.days:\n%s", d)
	}
}
