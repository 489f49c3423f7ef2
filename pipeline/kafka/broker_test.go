package kafka_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// A broker with a data folder keeps its topics, records and transaction
// outcomes across Close and a new StartBroker on the same folder.
func TestBrokerDataDirSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b1, err := kafka.StartBroker(kafka.WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	close1 := sync.OnceFunc(b1.Close)
	t.Cleanup(close1)
	ctx := testCtx(t)
	topics := kafka.DefaultTopics()
	if err := kafka.EnsureTopics(ctx, client(t, b1.Cluster()), topics.Specs(3)); err != nil {
		t.Fatal(err)
	}
	plain := producer(t, b1.Cluster(), topics.Ledger, "")
	txn := producer(t, b1.Cluster(), topics.Ledger, "broker-restart-txn")
	produce(t, plain, 0, "d1", "d2")
	inTxn(t, txn, true, 0, "t1", "t2")
	inTxn(t, txn, false, 0, "aborted")
	produce(t, plain, 2, "p2")
	want0 := []string{"d1", "d2", "t1", "t2"}
	if got := readAll(t, b1.Cluster(), topics.Ledger, 0); !slices.Equal(got, want0) {
		t.Fatalf("before restart partition 0 = %q, want %q", got, want0)
	}
	plain.Close()
	txn.Close()
	close1()

	b2 := startBroker(t, kafka.WithDataDir(dir))
	counts := partitionCounts(t, b2.Cluster(), topics.Events, topics.Changelog, topics.Ledger, topics.Outbox, topics.Control)
	if len(counts) != 5 || counts[topics.Ledger] != 3 || counts[topics.Control] != 1 {
		t.Fatalf("after restart topics = %v", counts)
	}
	if err := kafka.EnsureTopics(ctx, client(t, b2.Cluster()), topics.Specs(3)); err != nil {
		t.Errorf("EnsureTopics after restart: %v", err)
	}
	if got := readAll(t, b2.Cluster(), topics.Ledger, 0); !slices.Equal(got, want0) {
		t.Errorf("after restart partition 0 = %q, want %q", got, want0)
	}
	if got := readAll(t, b2.Cluster(), topics.Ledger, 2); !slices.Equal(got, []string{"p2"}) {
		t.Errorf("after restart partition 2 = %q", got)
	}
	// The restarted broker takes new writes after the old ones.
	produce(t, producer(t, b2.Cluster(), topics.Ledger, ""), 0, "d3")
	if got := readAll(t, b2.Cluster(), topics.Ledger, 0); !slices.Equal(got, append(want0, "d3")) {
		t.Errorf("after restart and a write partition 0 = %q", got)
	}
}

func readAll(t testing.TB, brokers kafka.Cluster, topic string, p int32) []string {
	t.Helper()
	var out []string
	if err := kafka.ReadPartition(testCtx(t), brokers, topic, p, testLog(), func(r *kgo.Record) error {
		out = append(out, string(r.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
