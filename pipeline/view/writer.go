package view

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// OutboxWriter appends outbox entries and waits until the projection holds
// them, so the next decision is made on what was just written.
type OutboxWriter struct {
	topic string
	prod  *kgo.Client
	view  *Outbox
	// mu orders the writes of this process (the planner's and the push
	// worker's), so PutUnlessRebound's check and write are one step.
	mu sync.Mutex
}

// NewOutboxWriter makes a writer for the outbox topic.
func NewOutboxWriter(brokers kafka.Cluster, topic string, v *Outbox, log *slog.Logger) (*OutboxWriter, error) {
	cl, err := kgo.NewClient(append(kafka.ClientOpts(brokers, log), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return nil, fmt.Errorf("outbox writer: %w", err)
	}
	return &OutboxWriter{topic: topic, prod: cl, view: v}, nil
}

// Put writes an entry.
func (w *OutboxWriter) Put(ctx context.Context, e *v1.OutboxEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.put(ctx, e)
}

// PutUnlessRebound writes an entry that records what happened to the
// binding it was read with (a retry scheduled, a failure, a wait), unless
// the planner has bound the document again since (to a new connection or
// configuration): then the new binding stands, and wrote is false.
func (w *OutboxWriter) PutUnlessRebound(ctx context.Context, e *v1.OutboxEntry) (wrote bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.view.Doc(e.GetDocumentId()); ok &&
		(cur.GetConnectionId() != e.GetConnectionId() || cur.GetConfigVersion() != e.GetConfigVersion()) {
		return false, nil
	}
	return true, w.put(ctx, e)
}

func (w *OutboxWriter) put(ctx context.Context, e *v1.OutboxEntry) error {
	b, err := proto.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox entry %s: %w", e.GetDocumentId(), err)
	}
	r, err := w.prod.ProduceSync(ctx, &kgo.Record{Key: []byte(e.GetDocumentId()), Value: b}).First()
	if err != nil {
		return fmt.Errorf("write outbox entry %s: %w", e.GetDocumentId(), err)
	}
	return w.view.WaitFor(ctx, r.Partition, r.Offset)
}

// Close releases the producer.
func (w *OutboxWriter) Close() { w.prod.Close() }
