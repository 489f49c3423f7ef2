package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// Tail hands every record to apply, each partition in offset order, and
// WaitCaughtUp returns only once everything committed before it is applied.
func TestTailAppliesEveryRecordInPartitionOrder(t *testing.T) {
	b := startBroker(t)
	const topic = "tail.order"
	createTopic(t, b.Cluster(), topic, 3)
	prod := producer(t, b.Cluster(), topic, "")
	ctx := testCtx(t)

	want := map[string]bool{}
	write := func(round string) {
		for p := int32(0); p < 3; p++ {
			for _, v := range names(fmt.Sprintf("%s-p%d", round, p), 40) {
				want[v] = true
			}
			produce(t, prod, p, names(fmt.Sprintf("%s-p%d", round, p), 40)...)
		}
	}
	write("before") // already in the log when the tail starts
	tail, got := startTail(t, b.Cluster(), topic)
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, got, want)
	write("after") // arrives while the tail runs
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	recs := checkApplied(t, got, want)

	next := map[int32]int64{}
	for _, r := range recs {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: applied offset %d, want %d (gap, repeat or reorder)", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition] = r.Offset + 1
		if !strings.Contains(string(r.Value), fmt.Sprintf("-p%d-", r.Partition)) {
			t.Fatalf("record %q applied from partition %d", r.Value, r.Partition)
		}
	}
}

// checkApplied asserts that exactly want has been applied, once each.
func checkApplied(t testing.TB, a *applied, want map[string]bool) []*kgo.Record {
	t.Helper()
	got := a.values()
	for v := range want {
		if got[v] != 1 {
			t.Errorf("record %q applied %d times, want once", v, got[v])
		}
	}
	for v := range got {
		if !want[v] {
			t.Errorf("record %q applied, but it was never committed", v)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return a.snapshot()
}

// Transactions: a committed transaction's records are applied before
// WaitCaughtUp returns; an aborted one's never are; an open one does not
// hold WaitCaughtUp up and is applied once committed.
func TestTailWaitCaughtUpWithTransactions(t *testing.T) {
	b := startBroker(t)
	const topic = "tail.txn"
	createTopic(t, b.Cluster(), topic, 2)
	txn := producer(t, b.Cluster(), topic, "tail-test-txn")
	plain := producer(t, b.Cluster(), topic, "")
	ctx := testCtx(t)
	want := map[string]bool{}
	add := func(vs []string) {
		for _, v := range vs {
			want[v] = true
		}
	}

	inTxn(t, txn, true, 0, names("committed-before-start", 5)...)
	add(names("committed-before-start", 5))
	inTxn(t, txn, false, 1, names("aborted-before-start", 5)...)
	tail, got := startTail(t, b.Cluster(), topic)
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, got, want)

	for round := range 3 {
		c := names(fmt.Sprintf("committed-%d", round), 4)
		inTxn(t, txn, true, int32(round%2), c...)
		add(c)
		inTxn(t, txn, false, int32((round+1)%2), names(fmt.Sprintf("aborted-%d", round), 4)...)
		p := names(fmt.Sprintf("plain-%d", round), 2)
		produce(t, plain, int32(round%2), p...)
		add(p)
		if err := tail.WaitCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		checkApplied(t, got, want) // no polling: WaitCaughtUp is the guarantee
	}

	// An aborted transaction as the very last thing in a partition.
	inTxn(t, txn, false, 1, names("aborted-last", 3)...)
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, got, want)

	// An open transaction: WaitCaughtUp returns without it.
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txn, 0, names("open", 3)...)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := tail.WaitCaughtUp(short)
	cancel()
	if err != nil {
		t.Fatalf("WaitCaughtUp with an open transaction: %v", err)
	}
	checkApplied(t, got, want)
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	add(names("open", 3))
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, got, want)
}

func TestTailWaitFor(t *testing.T) {
	b := startBroker(t)
	const topic = "tail.waitfor"
	createTopic(t, b.Cluster(), topic, 2)
	prod := producer(t, b.Cluster(), topic, "")
	tail, got := startTail(t, b.Cluster(), topic)
	ctx := testCtx(t)
	for i := range 10 {
		r := produce(t, prod, int32(i%2), fmt.Sprintf("v%d", i))[0]
		if err := tail.WaitFor(ctx, r.Partition, r.Offset); err != nil {
			t.Fatal(err)
		}
		if got.values()[fmt.Sprintf("v%d", i)] != 1 {
			t.Fatalf("WaitFor(%d, %d) returned before v%d was applied", r.Partition, r.Offset, i)
		}
	}
	// An offset that is never written: WaitFor gives up with the context.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := tail.WaitFor(short, 0, 1000); err == nil {
		t.Error("WaitFor on an unwritten offset returned nil")
	}
}

// Start runs the tail in the background; Stop ends it, waits for it, and is
// safe to repeat or to call on a tail never started.
func TestTailStartStop(t *testing.T) {
	b := startBroker(t)
	const topic = "tail.startstop"
	createTopic(t, b.Cluster(), topic, 1)
	ctx := testCtx(t)
	a := &applied{}
	idle, err := kafka.NewTail(b.Cluster(), topic, testLog(), a.apply)
	if err != nil {
		t.Fatal(err)
	}
	idle.Stop() // never started: returns at once

	tail, err := kafka.NewTail(b.Cluster(), topic, testLog(), a.apply)
	if err != nil {
		t.Fatal(err)
	}
	tail.Start(ctx)
	produce(t, producer(t, b.Cluster(), topic, ""), 0, "x", "y")
	if err := tail.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.values(); got["x"] != 1 || got["y"] != 1 {
		t.Fatalf("applied %v", got)
	}
	stopped := make(chan struct{})
	go func() { tail.Stop(); tail.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("Stop did not return")
	}
	// Once stopped, nothing more is applied and waiting fails with the context.
	produce(t, producer(t, b.Cluster(), topic, ""), 0, "z")
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := tail.WaitFor(short, 0, 2); err == nil {
		t.Error("WaitFor on a stopped tail returned nil")
	}
	if a.values()["z"] != 0 {
		t.Error("a stopped tail applied a record")
	}
}
