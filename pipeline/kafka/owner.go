package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Owner makes a stage's work move with partitions: it joins a consumer
// group on a topic partitioned by company and holds the partitions the
// group gives it, reading nothing from them. A company is this process's to work
// on while the partition its id hashes to (as Kafka's own partitioner
// places it) is held. Several processes of a stage share one group, so
// each company has one owner at a time, and a process that dies hands its
// companies on once its session times out.
type Owner struct {
	brokers Cluster
	group   string
	topic   string
	session time.Duration
	n       int
	place   kgo.TopicPartitioner
	cl      *kgo.Client
	log     *slog.Logger
	release func(context.Context, func(company string) bool)

	mu      sync.Mutex
	held    map[int32]bool
	changed chan struct{}
}

// OwnerOption configures an Owner.
type OwnerOption func(*Owner)

// WithOwnerSession sets the group session timeout: how long a dead
// process keeps its companies (default 10 s).
func WithOwnerSession(d time.Duration) OwnerOption { return func(o *Owner) { o.session = d } }

// NewOwner is an owner of group's share of topic, holding nothing until
// Start; it returns once the topic's partitions are known.
func NewOwner(ctx context.Context, brokers Cluster, group, topic string, log *slog.Logger, opts ...OwnerOption) (*Owner, error) {
	if log == nil {
		log = slog.Default()
	}
	o := &Owner{brokers: brokers, group: group, topic: topic, log: log, session: 10 * time.Second, held: map[int32]bool{},
		changed: make(chan struct{}), place: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
	for _, opt := range opts {
		opt(o)
	}
	probe, err := kgo.NewClient(ClientOpts(brokers, log)...)
	if err != nil {
		return nil, err
	}
	details, err := kadm.NewClient(probe).ListTopics(ctx, topic)
	probe.Close()
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("owner of %s: read its partitions: %w", topic, err)
	}
	if o.n = len(details[topic].Partitions); o.n == 0 {
		return nil, fmt.Errorf("owner of %s: the topic has no partitions", topic)
	}
	return o, nil
}

// Start joins the group. Before partitions go (a rebalance, or Close),
// release runs with what says which companies leave; it must return once
// the stage has stopped working on them, for the next owner starts after.
func (o *Owner) Start(release func(ctx context.Context, gone func(company string) bool)) error {
	o.release = release
	cl, err := kgo.NewClient(append(ClientOpts(o.brokers, o.log),
		kgo.ConsumerGroup(o.group),
		kgo.ConsumeTopics(o.topic),
		kgo.SessionTimeout(o.session),
		kgo.HeartbeatInterval(max(o.session/5, 100*time.Millisecond)),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { o.assign(a[o.topic]) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, r map[string][]int32) { o.revoke(ctx, r[o.topic]) }),
		kgo.OnPartitionsLost(func(ctx context.Context, _ *kgo.Client, r map[string][]int32) { o.revoke(ctx, r[o.topic]) }),
	)...)
	if err != nil {
		return fmt.Errorf("owner of %s: %w", o.topic, err)
	}
	// Nothing of the topic is read: the group is only for its assignment.
	cl.PauseFetchTopics(o.topic)
	o.cl = cl
	return nil
}

// Close leaves the group, releasing what is held first.
func (o *Owner) Close() {
	if o.cl != nil {
		o.cl.Close()
	}
}

// Owns says whether company is this process's to work on now.
func (o *Owner) Owns(company string) bool {
	p := int32(o.place.Partition(&kgo.Record{Key: []byte(company)}, o.n))
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.held[p]
}

// Changed returns a channel closed when the partitions held next change.
func (o *Owner) Changed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

// Share is the part of the topic's partitions held, 0 to 1: this
// process's part of the companies, and so of any budget the stage's
// processes split between them.
func (o *Owner) Share() float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return float64(len(o.held)) / float64(o.n)
}

// Held lists the partitions held, for logs and tests.
func (o *Owner) Held() []int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]int32, 0, len(o.held))
	for p := range o.held {
		out = append(out, p)
	}
	return out
}

func (o *Owner) assign(ps []int32) {
	o.mu.Lock()
	for _, p := range ps {
		o.held[p] = true
	}
	o.fire()
	o.mu.Unlock()
	o.log.Info("partitions taken", "topic", o.topic, "partitions", ps)
}

func (o *Owner) revoke(ctx context.Context, ps []int32) {
	if len(ps) == 0 {
		return
	}
	gone := map[int32]bool{}
	o.mu.Lock()
	for _, p := range ps {
		delete(o.held, p)
		gone[p] = true
	}
	o.fire()
	o.mu.Unlock()
	// Owns says no for them from here; release waits out the work begun.
	o.release(ctx, func(company string) bool {
		return gone[int32(o.place.Partition(&kgo.Record{Key: []byte(company)}, o.n))]
	})
	o.log.Info("partitions released", "topic", o.topic, "partitions", ps)
}

func (o *Owner) fire() {
	close(o.changed)
	o.changed = make(chan struct{})
}
