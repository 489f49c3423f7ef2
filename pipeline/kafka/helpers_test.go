package kafka_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startBroker(t testing.TB, opts ...kafka.BrokerOption) *kafka.Broker {
	t.Helper()
	b, err := kafka.StartBroker(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// client makes a client with the system's options plus extra ones.
func client(t testing.TB, brokers kafka.Cluster, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(kafka.ClientOpts(brokers, testLog()), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t testing.TB, brokers kafka.Cluster, name string, partitions int32) {
	t.Helper()
	cl := client(t, brokers)
	if err := kafka.EnsureTopics(testCtx(t), cl, []kafka.Spec{{Name: name, Partitions: partitions}}); err != nil {
		t.Fatal(err)
	}
}

// producer writes to explicit partitions; with txnID it is transactional.
func producer(t testing.TB, brokers kafka.Cluster, topic, txnID string) *kgo.Client {
	t.Helper()
	opts := []kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner())}
	if txnID != "" {
		opts = append(opts, kgo.TransactionalID(txnID), kgo.TransactionTimeout(10*time.Second))
	}
	return client(t, brokers, opts...)
}

func produce(t testing.TB, cl *kgo.Client, partition int32, values ...string) []*kgo.Record {
	t.Helper()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Partition: partition, Key: []byte(v), Value: []byte(v)}
	}
	if err := cl.ProduceSync(testCtx(t), rs...).FirstErr(); err != nil {
		t.Fatalf("produce %v: %v", values, err)
	}
	return rs
}

// inTxn produces values in one transaction and commits or aborts it.
func inTxn(t testing.TB, cl *kgo.Client, commit bool, partition int32, values ...string) {
	t.Helper()
	ctx := testCtx(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, partition, values...)
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// applied records what a Tail handed to apply.
type applied struct {
	mu   sync.Mutex
	recs []*kgo.Record
}

func (a *applied) apply(r *kgo.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
}

func (a *applied) values() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for _, r := range a.recs {
		out[string(r.Value)]++
	}
	return out
}

func (a *applied) snapshot() []*kgo.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*kgo.Record(nil), a.recs...)
}

// startTail runs a Tail until the test ends.
func startTail(t testing.TB, brokers kafka.Cluster, topic string) (*kafka.Tail, *applied) {
	t.Helper()
	a := &applied{}
	tail, err := kafka.NewTail(brokers, topic, testLog(), a.apply)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tail.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tail Run: %v", err)
		}
	})
	return tail, a
}

func partitionCounts(t testing.TB, brokers kafka.Cluster, topics ...string) map[string]int {
	t.Helper()
	details, err := kadm.NewClient(client(t, brokers)).ListTopics(testCtx(t), topics...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range details {
		if d.Err == nil {
			out[d.Topic] = len(d.Partitions)
		}
	}
	return out
}
