package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/clock"
	"github.com/commercesync/commercesync/pipeline/kafka"
)

// Writer is the reconciliation store, as the sink sees it: Write returns
// only once every row of the batch is stored, and writing the same batch
// again changes no answer the store gives.
type Writer interface {
	Write(ctx context.Context, rows *Rows) error
}

// Job is the sink: a consumer group over ledger.contributions,
// ledger.days, push.outbox and commerce.quarantine that writes bounded
// batches to a Writer.
type Job struct {
	brokers kafka.Cluster
	w       Writer
	topics  kafka.Topics
	group   string
	log     *slog.Logger
	maxRows int
	linger  time.Duration
	backoff time.Duration
	maxWait time.Duration
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	stats chan Stats
}

// Stats counts what the sink has stored.
type Stats struct {
	Batches, Records, Rows, Rejected, WriteFailures int64
}

// Option configures a Job.
type Option func(*Job)

// WithTopics sets the topic names.
func WithTopics(t kafka.Topics) Option { return func(j *Job) { j.topics = t } }

// WithGroup sets the consumer group.
func WithGroup(g string) Option { return func(j *Job) { j.group = g } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(j *Job) { j.log = l } }

// WithBatch bounds a batch: it is written once it holds maxRows rows,
// linger after its first record, or once the topics have nothing more to
// read for a moment (idleWait), whichever comes first.
func WithBatch(maxRows int, linger time.Duration) Option {
	return func(j *Job) { j.maxRows, j.linger = max(maxRows, 1), max(linger, time.Millisecond) }
}

// WithRetry sets the wait after a failed write, doubled up to maxWait.
func WithRetry(first, maxWait time.Duration) Option {
	return func(j *Job) { j.backoff, j.maxWait = first, max(first, maxWait) }
}

// WithClock injects the time the sink stamps rejects with and sleeps by.
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error) Option {
	return func(j *Job) { j.now, j.sleep = now, sleep }
}

// DefaultGroup is the sink's consumer group.
const DefaultGroup = "commercesync-sink"

// NewJob makes a sink writing to w.
func NewJob(brokers kafka.Cluster, w Writer, opts ...Option) *Job {
	j := &Job{brokers: brokers, w: w, topics: kafka.DefaultTopics(), group: DefaultGroup, log: slog.New(slog.DiscardHandler),
		maxRows: 100_000, linger: time.Second, backoff: 100 * time.Millisecond, maxWait: 30 * time.Second,
		now: time.Now, sleep: clock.Sleep, stats: make(chan Stats, 1)}
	for _, o := range opts {
		o(j)
	}
	j.stats <- Stats{}
	return j
}

// Stats returns what the sink has stored so far.
func (j *Job) Stats() Stats {
	s := <-j.stats
	j.stats <- s
	return s
}

func (j *Job) count(fn func(*Stats)) {
	s := <-j.stats
	fn(&s)
	j.stats <- s
}

// Run consumes until ctx ends. A batch whose write fails is written again,
// after a growing wait, until it is stored: its offsets are committed only
// then, so nothing is skipped while the store is away.
func (j *Job) Run(ctx context.Context) error {
	topics := []string{j.topics.Contributions, j.topics.Ledger, j.topics.Outbox, j.topics.Quarantine}
	cl, err := kgo.NewClient(append(kafka.ClientOpts(j.brokers, j.log),
		kgo.ConsumerGroup(j.group),
		kgo.ConsumeTopics(topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		// A partition moves only between batches, after their commit, so
		// a new owner starts where this one stopped.
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	if err != nil {
		return fmt.Errorf("sink client: %w", err)
	}
	defer cl.Close()
	var rows Rows
	for {
		n, err := j.fill(ctx, cl, &rows)
		if err != nil {
			cl.AllowRebalance()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if n == 0 {
			cl.AllowRebalance()
			continue
		}
		if err := j.write(ctx, &rows); err != nil {
			cl.AllowRebalance()
			return nil // only a cancelled context stops a write
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			cl.AllowRebalance()
			if ctx.Err() != nil {
				return nil
			}
			// The rows are stored; written again after a redelivery they
			// change nothing.
			j.log.Warn("sink offsets not committed; the batch will be read again", "err", err)
		}
		cl.AllowRebalance()
		j.count(func(s *Stats) {
			s.Batches++
			s.Records += int64(n)
			s.Rows += int64(rows.Len() - len(rows.Rejects))
			s.Rejected += int64(len(rows.Rejects))
		})
		rows.reset()
	}
}

// fill polls into rows until the batch is full or has lingered; it returns
// how many records it read.
func (j *Job) fill(ctx context.Context, cl *kgo.Client, rows *Rows) (int, error) {
	n := 0
	var deadline time.Time
	for rows.Len() < j.maxRows {
		pctx := ctx
		var cancel context.CancelFunc = func() {}
		if n > 0 {
			// Once the batch has begun, a poll waits no longer than the
			// linger left, and no longer than idleWait: the topics are
			// drained, and waiting on would only delay what is read.
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			pctx, cancel = context.WithTimeout(ctx, min(left, idleWait))
		}
		// A record makes three or four rows as a rule (at most
		// MaxRecordPostings+1), so asking for a quarter of the room left
		// fills the batch in few polls; it passes its bound by one poll's
		// records at most.
		want := min(max(1, (j.maxRows-rows.Len())/4), maxPollRecords)
		before := n
		fs := cl.PollRecords(pctx, want)
		cancel()
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) {
				continue
			}
			return n, fmt.Errorf("sink fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if n == 0 {
				deadline = time.Now().Add(j.linger)
			}
			n++
			if err := rows.add(j.topics, r); err != nil {
				reason := clip(err.Error())
				rows.Rejects = append(rows.Rejects, Reject{Topic: r.Topic, Source: Source{r.Partition, r.Offset}, Reason: reason, RejectedAt: j.now().UTC()})
				j.log.Warn("sink record rejected; it is kept in sink_rejects", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "reason", reason)
			}
		})
		if n == 0 {
			return 0, nil
		}
		if n == before {
			break // idle: nothing more to read now
		}
	}
	return n, nil
}

// idleWait is how long a batch that has begun waits for more records
// before it is written; maxPollRecords bounds one poll.
const (
	idleWait       = 100 * time.Millisecond
	maxPollRecords = 10_000
)

// write stores rows, trying again until it succeeds or ctx ends.
func (j *Job) write(ctx context.Context, rows *Rows) error {
	wait := j.backoff
	for attempt := 1; ; attempt++ {
		err := j.w.Write(ctx, rows)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		j.count(func(s *Stats) { s.WriteFailures++ })
		j.log.Warn("sink batch not stored; trying again", "attempt", attempt, "rows", rows.Len(), "wait", wait, "err", err)
		if err := j.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, j.maxWait)
	}
}
