package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Tail reads every partition of one topic from the start, committed records
// only, and hands each record to apply in partition order. Processes build
// their in-memory views this way at start and keep them current, so any
// process can die and be replaced.
//
// It keeps transaction markers so that it knows its exact position: that is
// what makes WaitCaughtUp and WaitFor (read-your-writes) precise.
type Tail struct {
	topic string
	cl    *kgo.Client
	adm   *kadm.Client
	apply func(*kgo.Record)
	log   *slog.Logger

	mu      sync.Mutex
	changed chan struct{}
	next    map[int32]int64

	stop context.CancelFunc
	done chan struct{}
}

// NewTail makes a tail of topic. apply runs on one goroutine.
func NewTail(brokers Cluster, topic string, log *slog.Logger, apply func(*kgo.Record)) (*Tail, error) {
	if log == nil {
		log = slog.Default()
	}
	opts := append(ClientOpts(brokers, log),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", topic, err)
	}
	return &Tail{
		topic: topic, cl: cl, adm: kadm.NewClient(cl), apply: apply, log: log,
		changed: make(chan struct{}), next: map[int32]int64{},
	}, nil
}

// Start runs the tail in the background until ctx ends or Stop.
func (t *Tail) Start(ctx context.Context) {
	ctx, t.stop = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		_ = t.Run(ctx)
	}()
}

// Stop ends a started tail and waits until its client is closed, so a
// broker stopped afterwards is not left with a client dialling it.
func (t *Tail) Stop() {
	if t.stop == nil {
		return
	}
	t.stop()
	<-t.done
}

// Run consumes until ctx ends.
func (t *Tail) Run(ctx context.Context) error {
	defer t.cl.Close()
	for {
		fs := t.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.log.Warn("tail fetch", "topic", topic, "partition", p, "err", err)
		})
		advanced := map[int32]int64{}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				t.apply(r)
			}
			advanced[r.Partition] = r.Offset + 1
		})
		if len(advanced) == 0 {
			continue
		}
		t.mu.Lock()
		for p, o := range advanced {
			t.next[p] = o
		}
		close(t.changed)
		t.changed = make(chan struct{})
		t.mu.Unlock()
	}
}

// WaitFor blocks until the record at offset in partition has been applied.
func (t *Tail) WaitFor(ctx context.Context, partition int32, offset int64) error {
	for {
		t.mu.Lock()
		done := t.next[partition] > offset
		ch := t.changed
		t.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s[%d]@%d: %w", t.topic, partition, offset, ctx.Err())
		}
	}
}

// WaitCaughtUp blocks until every record committed before the call has been
// applied.
func (t *Tail) WaitCaughtUp(ctx context.Context) error {
	ends, err := t.adm.ListCommittedOffsets(ctx, t.topic)
	if err != nil {
		return fmt.Errorf("list committed offsets of %s: %w", t.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("list committed offsets of %s: %w", t.topic, err)
	}
	var werr error
	ends.Each(func(o kadm.ListedOffset) {
		if werr != nil || o.Offset <= 0 {
			return
		}
		werr = t.WaitFor(ctx, o.Partition, o.Offset-1)
	})
	return werr
}
