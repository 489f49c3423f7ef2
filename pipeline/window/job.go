package window

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Job runs the aggregator against Kafka: each poll is one transaction that
// consumes input, appends summaries to the ledger, writes the changelog and
// commits the input offsets, all or nothing.
type Job struct {
	brokers    []string
	topics     kafka.Topics
	group      string
	txnID      string
	txnTimeout time.Duration
	session    time.Duration
	log        *slog.Logger
	inTxn      func(summaries int)
}

// Option configures a Job.
type Option func(*Job)

// WithTopics overrides the topic names.
func WithTopics(t kafka.Topics) Option { return func(j *Job) { j.topics = t } }

// WithGroup overrides the consumer group.
func WithGroup(g string) Option { return func(j *Job) { j.group = g } }

// WithTransactionalID names this instance's transactional producer. Each
// live instance needs its own.
func WithTransactionalID(id string) Option { return func(j *Job) { j.txnID = id } }

// WithTimeouts sets the transaction and group session timeouts: how long a
// dead instance holds its partitions before another takes them over.
func WithTimeouts(txn, session time.Duration) Option {
	return func(j *Job) { j.txnTimeout, j.session = txn, session }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(j *Job) { j.log = l } }

// WithInTransactionHook runs fn after a batch's output is produced and
// before its transaction ends, with the number of summaries in it: the place
// where a crash tests atomicity.
func WithInTransactionHook(fn func(summaries int)) Option { return func(j *Job) { j.inTxn = fn } }

// NewJob makes a window job.
func NewJob(brokers []string, opts ...Option) *Job {
	j := &Job{
		brokers: brokers, topics: kafka.DefaultTopics(), group: "commercesync-window",
		txnID: "commercesync-window-" + randomSuffix(), txnTimeout: 10 * time.Second, session: 10 * time.Second,
		log: slog.Default(),
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Run consumes until ctx ends.
func (j *Job) Run(ctx context.Context) error {
	var mu sync.Mutex
	var restoreErr error
	agg := NewAggregator(j.log)
	restore := func(ctx context.Context, assigned map[string][]int32) {
		for _, p := range assigned[j.topics.Events] {
			n := 0
			err := kafka.ReadPartition(ctx, j.brokers, j.topics.Changelog, p, j.log, func(r *kgo.Record) error {
				n++
				return agg.Restore(p, r.Key, r.Value)
			})
			if err != nil {
				// Without its state the partition would produce wrong days;
				// stopping lets another instance (or a restart) take it.
				restoreErr = fmt.Errorf("restore partition %d: %w", p, err)
				return
			}
			agg.RestoreDone(p)
			j.log.Info("partition restored", "partition", p, "changelog_entries", n)
		}
	}
	drop := func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range lost[j.topics.Events] {
			agg.Drop(p)
		}
	}
	opts := append(kafka.ClientOpts(j.brokers, j.log),
		kgo.TransactionalID(j.txnID),
		kgo.TransactionTimeout(j.txnTimeout),
		kgo.ConsumerGroup(j.group),
		kgo.ConsumeTopics(j.topics.Events),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequireStableFetchOffsets(),
		kgo.SessionTimeout(j.session),
		kgo.HeartbeatInterval(max(j.session/5, 100*time.Millisecond)),
		kgo.RecordPartitioner(kafka.SplitPartitioner(j.topics.Changelog)),
		kgo.OnPartitionsAssigned(func(ctx context.Context, _ *kgo.Client, a map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			restore(ctx, a)
		}),
		kgo.OnPartitionsRevoked(drop),
		kgo.OnPartitionsLost(drop),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return fmt.Errorf("window session: %w", err)
	}
	defer sess.Close()

	for {
		fs := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			j.log.Warn("window fetch", "topic", t, "partition", p, "err", err)
		})
		mu.Lock()
		rerr := restoreErr
		mu.Unlock()
		if rerr != nil {
			return rerr
		}
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			var ev v1.CommerceEvent
			if err := proto.Unmarshal(r.Value, &ev); err != nil {
				agg.Skipped++
				j.log.Error("undecodable event skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
				return
			}
			if err := agg.Apply(r.Partition, &ev); err != nil {
				j.log.Error("event not applied", "partition", r.Partition, "offset", r.Offset, "err", err)
			}
		})
		changes, summaries, err := agg.Flush()
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("flush window state: %w", err)
		}
		var produceMu sync.Mutex
		var produceErr error
		promise := func(_ *kgo.Record, err error) {
			if err != nil {
				produceMu.Lock()
				produceErr = err
				produceMu.Unlock()
			}
		}
		for _, ch := range changes {
			sess.Produce(ctx, &kgo.Record{Topic: j.topics.Changelog, Partition: ch.Partition, Key: ch.Key, Value: ch.Value}, promise)
		}
		for _, s := range summaries {
			b, err := proto.Marshal(s)
			if err != nil {
				return fmt.Errorf("encode summary %s: %w", s.GetId(), err)
			}
			sess.Produce(ctx, &kgo.Record{Topic: j.topics.Ledger, Key: []byte(s.GetCompanyId()), Value: b}, promise)
		}
		if err := sess.Client().Flush(ctx); err != nil && ctx.Err() != nil {
			return nil
		}
		if j.inTxn != nil {
			j.inTxn(len(summaries))
		}
		end := kgo.TryCommit
		produceMu.Lock()
		if produceErr != nil {
			j.log.Warn("window output not written; aborting the transaction", "err", produceErr)
			end = kgo.TryAbort
		}
		produceMu.Unlock()
		committed, err := sess.End(ctx, end)
		mu.Lock()
		if committed {
			agg.Commit()
		} else {
			agg.Abort()
		}
		mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			j.log.Warn("window transaction did not commit; input will be read again", "err", err)
		}
		if committed && len(summaries) > 0 {
			j.log.Info("days sealed", "summaries", len(summaries))
		}
	}
}
