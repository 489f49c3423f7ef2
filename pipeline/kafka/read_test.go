package kafka_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// ReadPartition hands over exactly the committed data records of one
// partition, in order, up to the end offset it saw when called.
func TestReadPartitionReadsCommittedRecordsOfOnePartition(t *testing.T) {
	b := startBroker(t)
	const topic = "read.committed"
	createTopic(t, b.Cluster(), topic, 2)
	plain := producer(t, b.Cluster(), topic, "")
	txn := producer(t, b.Cluster(), topic, "read-test-txn")
	ctx := testCtx(t)

	var want []string
	produce(t, plain, 0, "a1", "a2")
	want = append(want, "a1", "a2")
	produce(t, plain, 1, "other-partition-1", "other-partition-2")
	inTxn(t, txn, true, 0, "t1", "t2", "t3")
	want = append(want, "t1", "t2", "t3")
	inTxn(t, txn, false, 0, "aborted1", "aborted2")
	produce(t, plain, 0, "a3")
	want = append(want, "a3")
	inTxn(t, txn, true, 1, "other-txn")
	inTxn(t, txn, false, 0, "aborted-last")

	var got []string
	var offsets []int64
	late := producer(t, b.Cluster(), topic, "")
	err := kafka.ReadPartition(ctx, b.Cluster(), topic, 0, testLog(), func(r *kgo.Record) error {
		if r.Partition != 0 || r.Topic != topic {
			t.Errorf("record from %s[%d]", r.Topic, r.Partition)
		}
		if len(got) == 0 {
			// Written after the call: beyond the end offset it read.
			produce(t, late, 0, "late1", "late2")
		}
		got = append(got, string(r.Value))
		offsets = append(offsets, r.Offset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadPartition = %q, want %q", got, want)
	}
	if !slices.IsSorted(offsets) {
		t.Errorf("offsets out of order: %v", offsets)
	}

	// A second read sees the late records too, and nothing else new.
	got = nil
	if err := kafka.ReadPartition(ctx, b.Cluster(), topic, 0, testLog(), func(r *kgo.Record) error {
		got = append(got, string(r.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := append(want, "late1", "late2"); !slices.Equal(got, want) {
		t.Errorf("second ReadPartition = %q, want %q", got, want)
	}
}

func TestReadPartitionEdges(t *testing.T) {
	b := startBroker(t)
	const topic = "read.edges"
	createTopic(t, b.Cluster(), topic, 3)
	ctx := testCtx(t)
	plain := producer(t, b.Cluster(), topic, "")
	txn := producer(t, b.Cluster(), topic, "read-edges-txn")

	calls := 0
	count := func(*kgo.Record) error { calls++; return nil }
	// An empty partition returns at once.
	if err := kafka.ReadPartition(ctx, b.Cluster(), topic, 2, testLog(), count); err != nil || calls != 0 {
		t.Errorf("empty partition: %d records, %v", calls, err)
	}
	// A partition holding only an aborted transaction has no data for fn.
	inTxn(t, txn, false, 1, "x", "y")
	if err := kafka.ReadPartition(ctx, b.Cluster(), topic, 1, testLog(), count); err != nil || calls != 0 {
		t.Errorf("aborted-only partition: %d records, %v", calls, err)
	}
	// A missing partition is an error.
	if err := kafka.ReadPartition(ctx, b.Cluster(), topic, 7, testLog(), count); err == nil {
		t.Error("partition 7 of a 3-partition topic: no error")
	}
	// fn's error stops the read and comes back.
	produce(t, plain, 0, "1", "2", "3")
	stop := errors.New("stop")
	calls = 0
	err := kafka.ReadPartition(ctx, b.Cluster(), topic, 0, testLog(), func(*kgo.Record) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: err = %v after %d calls, want stop after 1", err, calls)
	}
	// An open transaction at the end of the partition is not waited for:
	// the read stops at the last stable offset.
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txn, 0, "open1", "open2")
	var seen []string
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	err = kafka.ReadPartition(short, b.Cluster(), topic, 0, testLog(), func(r *kgo.Record) error {
		seen = append(seen, string(r.Value))
		return nil
	})
	cancelShort()
	if err != nil || !slices.Equal(seen, []string{"1", "2", "3"}) {
		t.Errorf("with an open transaction: read %q, %v; want the 3 committed records", seen, err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}

	// A cancelled context ends the read with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := kafka.ReadPartition(cctx, b.Cluster(), topic, 0, testLog(), count); err == nil {
		t.Error("cancelled context: no error")
	}
}
