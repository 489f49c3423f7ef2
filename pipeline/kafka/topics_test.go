package kafka_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

func TestEnsureTopicsCreatesAndIsIdempotent(t *testing.T) {
	b := startBroker(t)
	cl := client(t, b.Cluster())
	ctx := testCtx(t)
	topics := kafka.DefaultTopics()
	specs := topics.Specs(3)
	if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
		t.Fatalf("first EnsureTopics: %v", err)
	}
	want := map[string]int{topics.Events: 3, topics.Changelog: 3, topics.Ledger: 3, topics.Outbox: 3, topics.Control: 1}
	got := partitionCounts(t, b.Cluster(), topics.Events, topics.Changelog, topics.Ledger, topics.Outbox, topics.Control)
	for name, n := range want {
		if got[name] != n {
			t.Errorf("topic %s has %d partitions, want %d", name, got[name], n)
		}
	}
	// The specs' configs reached the broker.
	cfgs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topics.Changelog, topics.Outbox, topics.Control, topics.Events)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{topics.Changelog, topics.Outbox, topics.Control} {
		rc, err := cfgs.On(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := configValue(rc, "cleanup.policy"); v != "compact" {
			t.Errorf("%s cleanup.policy = %q, want compact", name, v)
		}
	}
	if rc, err := cfgs.On(topics.Events, nil); err != nil || configValue(rc, "retention.ms") != "-1" {
		t.Errorf("%s retention.ms = %q (%v), want -1", topics.Events, configValue(rc, "retention.ms"), err)
	}

	produce(t, producer(t, b.Cluster(), topics.Events, ""), 1, "r1")
	for i := range 2 {
		if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
			t.Fatalf("EnsureTopics again (#%d): %v", i+2, err)
		}
	}
	if got := partitionCounts(t, b.Cluster(), topics.Events); got[topics.Events] != 3 {
		t.Errorf("events partitions changed to %d", got[topics.Events])
	}
}

func configValue(rc kadm.ResourceConfig, key string) string {
	for _, c := range rc.Configs {
		if c.Key == key && c.Value != nil {
			return *c.Value
		}
	}
	return ""
}

func TestEnsureTopicsRefusesPartitionMismatch(t *testing.T) {
	b := startBroker(t)
	cl := client(t, b.Cluster())
	ctx := testCtx(t)
	topics := kafka.DefaultTopics()
	createTopic(t, b.Cluster(), topics.Changelog, 2)
	err := kafka.EnsureTopics(ctx, cl, topics.Specs(3))
	if err == nil {
		t.Fatal("EnsureTopics accepted a 2-partition changelog for 3-partition events")
	}
	for _, m := range []string{topics.Changelog, "2 partitions", "want 3"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	if got := partitionCounts(t, b.Cluster(), topics.Changelog); got[topics.Changelog] != 2 {
		t.Errorf("EnsureTopics changed the existing topic to %d partitions", got[topics.Changelog])
	}

	// The control topic must keep one partition, one order of changes.
	b2 := startBroker(t)
	createTopic(t, b2.Cluster(), topics.Control, 4)
	err = kafka.EnsureTopics(ctx, client(t, b2.Cluster()), topics.Specs(3))
	if err == nil || !strings.Contains(err.Error(), topics.Control) || !strings.Contains(err.Error(), "want 1") {
		t.Errorf("4-partition control topic: err = %v, want it named with want 1", err)
	}
}

// Every topic takes a record of MaxRecordBytes (key and value) written with
// the system's client options, and a record too large for any batch fails
// alone: the records produced beside it are written.
func TestRecordLimitMatchesTopics(t *testing.T) {
	b := startBroker(t)
	cl := client(t, b.Cluster())
	ctx := testCtx(t)
	topics := kafka.DefaultTopics()
	specs := topics.Specs(1)
	if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	cfgs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		rc, err := cfgs.On(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := configValue(rc, "max.message.bytes"); v != strconv.Itoa(kafka.MaxMessageBytes) {
			t.Errorf("%s max.message.bytes = %q, want %d", name, v, kafka.MaxMessageBytes)
		}
	}
	key := []byte(strings.Repeat("k", 255))
	for _, name := range names {
		atLimit := &kgo.Record{Topic: name, Key: key, Value: make([]byte, kafka.MaxRecordBytes-len(key))}
		if err := cl.ProduceSync(ctx, atLimit).FirstErr(); err != nil {
			t.Errorf("a record of MaxRecordBytes on %s: %v", name, err)
		}
	}
	tooLarge := &kgo.Record{Topic: topics.Ledger, Key: key, Value: make([]byte, kafka.MaxMessageBytes)}
	beside := &kgo.Record{Topic: topics.Ledger, Key: key, Value: []byte("small")}
	res := cl.ProduceSync(ctx, tooLarge, beside)
	if err := res[0].Err; !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("a record past MaxMessageBytes: err %v, want MESSAGE_TOO_LARGE", err)
	}
	if err := res[1].Err; err != nil {
		t.Errorf("a small record produced beside a too-large one: %v", err)
	}
}
