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

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/clock"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Job runs the aggregator against Kafka: each poll is one transaction that
// consumes input, appends summaries to the ledger, writes the changelog,
// exceptions and quarantine entries and commits the input offsets, all or
// nothing.
//
// Nothing stops it and nothing vanishes. A record that cannot be decoded or
// applied goes to commerce.quarantine in the transaction that moves the
// offset on. A transaction that fails is retried after a backoff; when the
// failure is a record the broker refuses (too large, invalid), its culprit
// is found and given a bounded number of tries: a day whose summary or
// exception cannot be written is parked (quarantined as a day), an input
// record whose output cannot be written is quarantined, and everything else
// goes on. Failures with no culprit (the broker unreachable) stop Run after
// a bounded number of tries, so that another instance takes over.
type Job struct {
	brokers    kafka.Cluster
	topics     kafka.Topics
	group      string
	txnID      string
	txnTimeout time.Duration
	session    time.Duration
	log        *slog.Logger
	inTxn      func(summaries int)

	maxPoll     int
	maxAttempts int
	maxFailures int
	backoffBase time.Duration
	backoffCap  time.Duration
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
	version     string

	applyFault   func(FaultPoint) error
	produceFault func(*kgo.Record) error
	storeOpts    []StoreOption
	stateDir     string
	afterCommit  func() error
	observer     Observer

	mu    sync.Mutex
	stats JobStats
}

// Observer is told what the job's counts do not say: how far behind its
// input it is, how long after their end days seal, and how many days it
// holds live. Metrics implement it; calls come from the job's goroutine
// and its rebalance callbacks, so they must be quick.
type Observer interface {
	// Lag is the input records of partition not yet read after a poll
	// (-1: the partition is no longer this job's).
	Lag(partition int32, lag int64)
	// Sealed is a day's first summary committed delay after its end.
	Sealed(delay time.Duration)
	// LiveDays is how many days the job holds live after a transaction.
	LiveDays(n int)
}

type noObserver struct{}

func (noObserver) Lag(int32, int64)     {}
func (noObserver) Sealed(time.Duration) {}
func (noObserver) LiveDays(int)         {}

// WithObserver sets what the job tells of its lag, seal delays and live
// days (nothing by default).
func WithObserver(o Observer) Option { return func(j *Job) { j.observer = o } }

// JobStats counts what the job did. Records, Applied and Quarantined count
// input records of committed transactions: Records = Applied + Quarantined.
type JobStats struct {
	Records, Applied, Quarantined int64
	// DaysParked counts days quarantined as days.
	DaysParked int64
	// Transactions counts the transactions begun; Committed and Aborted
	// how they ended (a transaction a rebalance or shutdown ended counts
	// as aborted).
	Transactions, Committed, Aborted int64
	// AbortedBytes counts the bytes (keys and values) produced in
	// transactions that aborted: what retries added to the broker's log.
	AbortedBytes int64
	// Backoff is the total time spent backing off between failed
	// transactions.
	Backoff time.Duration
	// Resumed counts partitions taken over whose store was brought up to
	// date from its checkpoint, Rebuilt those rebuilt from the changelog's
	// start, and RestoredEntries the changelog entries either read.
	Resumed, Rebuilt, RestoredEntries int64
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

// WithMaxPollRecords bounds the input records of one transaction (default
// 5,000), and so what one transaction writes.
func WithMaxPollRecords(n int) Option { return func(j *Job) { j.maxPoll = max(n, 1) } }

// WithRetries sets how many times a transaction whose output a day or an
// input record makes fail is tried before that culprit is quarantined
// (default 5), how many transactions in a row may fail with no culprit
// before Run gives up (default 20), and the backoff between tries: base,
// doubling, at most limit (default 100 ms to 10 s).
func WithRetries(attempts, failures int, base, limit time.Duration) Option {
	return func(j *Job) {
		j.maxAttempts, j.maxFailures, j.backoffBase, j.backoffCap = max(attempts, 1), max(failures, 1), base, limit
	}
}

// WithSleep replaces how the job waits between tries: tests inject time.
func WithSleep(fn func(context.Context, time.Duration) error) Option {
	return func(j *Job) { j.sleep = fn }
}

// WithClock sets the clock quarantine entries are dated by.
func WithClock(now func() time.Time) Option { return func(j *Job) { j.now = now } }

// WithCodeVersion names the build in quarantine entries (default: the VCS
// revision the binary was built from, or its module version).
func WithCodeVersion(v string) Option { return func(j *Job) { j.version = v } }

// WithApplyFault passes fn to the aggregator's fault hook (WithFaultHook):
// tests poison records with it. Production code never sets it.
func WithApplyFault(fn func(FaultPoint) error) Option { return func(j *Job) { j.applyFault = fn } }

// WithProduceFault calls fn on every record the job is about to produce; an
// error it returns is taken as the broker's answer for that record (return
// kerr.MessageTooLarge to act as a record the broker refuses). Tests poison
// output with it. Production code never sets it.
func WithProduceFault(fn func(*kgo.Record) error) Option { return func(j *Job) { j.produceFault = fn } }

// WithStateDir keeps the window's state store in dir, so that a restart
// reuses it from its checkpoint instead of reading the whole changelog.
// Without it the store is kept in memory and rebuilt at every start. One
// directory serves one job at a time.
func WithStateDir(dir string) Option { return func(j *Job) { j.stateDir = dir } }

// WithStoreOptions passes options to the state store.
func WithStoreOptions(opts ...StoreOption) Option {
	return func(j *Job) { j.storeOpts = append(j.storeOpts, opts...) }
}

// withAfterCommit runs fn after a transaction commits and before the store
// is written; an error it returns stops Run there, as a crash would. Tests
// use it to crash between the transaction and the store.
func withAfterCommit(fn func() error) Option { return func(j *Job) { j.afterCommit = fn } }

// NewJob makes a window job.
func NewJob(brokers kafka.Cluster, opts ...Option) *Job {
	j := &Job{
		brokers: brokers, topics: kafka.DefaultTopics(), group: "commercesync-window",
		txnID: "commercesync-window-" + randomSuffix(), txnTimeout: 10 * time.Second, session: 10 * time.Second,
		log:     slog.Default(),
		maxPoll: 5000, maxAttempts: 5, maxFailures: 20, backoffBase: 100 * time.Millisecond, backoffCap: 10 * time.Second,
		sleep: clock.Sleep, now: time.Now, version: buildVersion(), observer: noObserver{},
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

// Stats returns the job's counts so far.
func (j *Job) Stats() JobStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stats
}

func (j *Job) count(fn func(*JobStats)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn(&j.stats)
}

// input is where an input record was read.
type input struct {
	topic     string
	partition int32
	offset    int64
}

// culprit is what made a produce fail: the day a summary or an exception
// record belongs to, or nothing more precise than the transaction.
type culprit struct {
	day   DayRef
	isDay bool
}

type produceFailure struct {
	culprit culprit
	err     error
}

// poison is an input record found to make its transaction fail: it is
// quarantined when next read.
type poison struct {
	reason   string
	attempts int
}

// Run consumes until ctx ends.
func (j *Job) Run(ctx context.Context) error {
	var mu sync.Mutex
	var restoreErr error
	var aggOpts []AggregatorOption
	if j.topics.Contributions != "" {
		aggOpts = append(aggOpts, WithContributions())
	}
	if j.applyFault != nil {
		aggOpts = append(aggOpts, WithFaultHook(j.applyFault))
	}
	storeOpts := j.storeOpts
	if j.stateDir == "" {
		storeOpts = append([]StoreOption{InMemory()}, storeOpts...)
	}
	st, err := OpenStore(j.stateDir, storeOpts...)
	if err != nil {
		return err
	}
	if f := st.FormatFound(); f != 0 && f != StoreFormat {
		j.log.Warn("window state store of another format emptied; its partitions are rebuilt from the changelog",
			"dir", j.stateDir, "found", f, "format", StoreFormat)
	}
	defer func() {
		if err := st.Close(); err != nil {
			j.log.Warn("window state store not closed cleanly; the next start brings it up to date from the changelog", "err", err)
		}
	}()
	agg := NewAggregator(j.log, append(aggOpts, WithStore(st))...)
	var dec eventDecoder
	restore := func(ctx context.Context, assigned map[string][]int32) {
		for _, p := range assigned[j.topics.Events] {
			n := 0
			err := func() error {
				start, end, err := kafka.PartitionBounds(ctx, j.brokers, j.topics.Changelog, p, j.log)
				if err != nil {
					return err
				}
				from, resumed, err := agg.ResumeFrom(p, start, end, j.now(), kafka.ChangelogTombstones)
				if err != nil {
					return err
				}
				err = kafka.ReadPartitionRange(ctx, j.brokers, j.topics.Changelog, p, from, end, j.log, func(r *kgo.Record) error {
					n++
					return agg.Restore(p, r.Key, r.Value)
				})
				if err != nil {
					return err
				}
				j.log.Info("partition restored", "partition", p, "from_checkpoint", resumed, "from_offset", from, "changelog_entries", n)
				j.count(func(s *JobStats) {
					s.RestoredEntries += int64(n)
					if resumed {
						s.Resumed++
					} else {
						s.Rebuilt++
					}
				})
				return agg.RestoreDone(p)
			}()
			if err != nil {
				// Without its state the partition would produce wrong days;
				// stopping lets another instance (or a restart) take it.
				restoreErr = fmt.Errorf("restore partition %d: %w", p, err)
				return
			}
		}
	}
	drop := func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range lost[j.topics.Events] {
			agg.Drop(p)
			j.observer.Lag(p, -1)
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
		kgo.RecordPartitioner(kafka.SplitPartitioner(j.topics.Changelog, j.topics.Exceptions)),
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

	limit := j.maxPoll
	failed, blind := 0, 0 // transactions in a row that failed; of those, with no culprit
	attempts := map[any]int{}
	poisoned := map[input]poison{}
	// narrow holds, while an unnamed culprit is narrowed down, the last
	// offset of the failed transaction's input in each partition.
	narrow := map[int32]int64{}
	for {
		fs := sess.PollRecords(ctx, limit)
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
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				j.observer.Lag(p.Partition, max(p.LastStableOffset-p.Records[n-1].Offset-1, 0))
			}
		})
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		// A transaction begun runs to its end, commit or abort, even when
		// ctx ends meanwhile: a shutdown waits for it, for at most the
		// transaction timeout, rather than throw its work away.
		tctx, tcancel := context.WithCancel(context.WithoutCancel(ctx))
		stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(j.txnTimeout, tcancel) })
		j.count(func(s *JobStats) { s.Transactions++ })
		var quarantined []*kgo.Record
		var parkedFrom, usedPoison []input
		var n, dropped int64
		emittedBy := map[DayRef]int64{} // the input record (its place in the poll) that emitted a day's output
		mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			n++
			in := input{r.Topic, r.Partition, r.Offset}
			if p, ok := poisoned[in]; ok {
				dropped++
				usedPoison = append(usedPoison, in)
				var ev *v1.CommerceEvent
				if e := new(v1.CommerceEvent); proto.Unmarshal(r.Value, e) == nil {
					ev = e // to key the entry by its company
				}
				quarantined = append(quarantined, j.recordEntry(r, ev, p.reason, p.attempts))
				return
			}
			ev, err := dec.decode(r.Value) // valid until the next record's
			if err != nil {
				dropped++
				quarantined = append(quarantined, j.recordEntry(r, nil, "it cannot be decoded as a CommerceEvent: "+err.Error(), 1))
				return
			}
			before, sums, excs := len(agg.b.parked), len(agg.b.summaries), len(agg.b.dayExc)
			if err := agg.Apply(r.Partition, ev); err != nil {
				quarantined = append(quarantined, j.recordEntry(r, ev, err.Error(), 1))
				return
			}
			for range agg.b.parked[before:] {
				parkedFrom = append(parkedFrom, in)
			}
			for _, s := range agg.b.summaries[sums:] {
				ref := DayRef{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}
				if _, ok := emittedBy[ref]; !ok {
					emittedBy[ref] = n - 1
				}
			}
			for _, e := range agg.b.dayExc[excs:] {
				ref := DayRef{e.CompanyID, e.Day, e.Currency, e.Location}
				if _, ok := emittedBy[ref]; !ok {
					emittedBy[ref] = n - 1
				}
			}
		})
		out, err := agg.Flush()
		applied, refused := agg.b.stats.Applied, agg.b.stats.Refused
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("flush window state: %w", err)
		}
		for i, p := range out.Parked {
			quarantined = append(quarantined, j.dayEntry(p, parkedFrom[i]))
		}

		var produceMu sync.Mutex
		var failures []produceFailure
		var produced int64
		next := map[int32]int64{} // per changelog partition, the offset after the batch's last record
		produce := func(r *kgo.Record, c culprit) {
			fail := func(err error) {
				produceMu.Lock()
				failures = append(failures, produceFailure{c, err})
				produceMu.Unlock()
			}
			if size := len(r.Key) + len(r.Value); size > kafka.MaxRecordBytes {
				fail(fmt.Errorf("%w: %d bytes; the limit is %d", kerr.MessageTooLarge, size, kafka.MaxRecordBytes))
				return
			}
			if j.produceFault != nil {
				if err := j.produceFault(r); err != nil {
					fail(err)
					return
				}
			}
			produced += int64(len(r.Key) + len(r.Value))
			sess.Produce(tctx, r, func(r *kgo.Record, err error) {
				if err != nil {
					fail(err)
					return
				}
				if r.Topic == j.topics.Changelog {
					produceMu.Lock()
					next[r.Partition] = max(next[r.Partition], r.Offset+1)
					produceMu.Unlock()
				}
			})
		}
		for _, ch := range out.Changes {
			produce(&kgo.Record{Topic: j.topics.Changelog, Partition: ch.Partition, Key: ch.Key, Value: ch.Value}, culprit{})
		}
		for _, s := range out.Summaries {
			b, err := proto.Marshal(s)
			if err != nil {
				return fmt.Errorf("encode summary %s: %w", s.GetId(), err)
			}
			ref := DayRef{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}
			produce(&kgo.Record{Topic: j.topics.Ledger, Key: []byte(s.GetCompanyId()), Value: b}, culprit{ref, true})
		}
		for _, e := range out.Exceptions {
			ref := DayRef{e.CompanyID, e.Day, e.Currency, e.Location}
			produce(&kgo.Record{Topic: j.topics.Exceptions, Partition: e.Partition, Key: e.Key, Value: e.Value}, culprit{ref, true})
		}
		for _, c := range out.Contributions {
			produce(&kgo.Record{Topic: j.topics.Contributions, Key: c.Key, Value: c.Value}, culprit{})
		}
		for _, q := range quarantined {
			produce(q, culprit{})
		}
		if err := sess.Client().Flush(tctx); err != nil && tctx.Err() != nil {
			// Shutting down, and the output did not reach the broker in
			// time: the broker aborts the transaction.
			stopAfter()
			tcancel()
			return nil
		}
		if j.inTxn != nil {
			j.inTxn(len(out.Summaries))
		}
		end := kgo.TryCommit
		produceMu.Lock()
		if len(failures) > 0 {
			j.log.Warn("window output not written; aborting the transaction", "failed_records", len(failures), "err", failures[0].err)
			end = kgo.TryAbort
		}
		produceMu.Unlock()
		committed, err := sess.End(tctx, end)
		stopAfter()
		tcancel()
		if committed && j.afterCommit != nil {
			if err := j.afterCommit(); err != nil {
				return err
			}
		}
		mu.Lock()
		var cerr error
		if committed {
			produceMu.Lock()
			cerr = agg.CommitAt(next, j.now())
			produceMu.Unlock()
			j.observer.LiveDays(agg.LiveDays())
		} else {
			agg.Abort()
		}
		mu.Unlock()
		if cerr != nil {
			return fmt.Errorf("window state store behind its changelog; the next start brings it up to date: %w", cerr)
		}
		if committed {
			at := j.now()
			for _, sum := range out.Summaries {
				if sum.GetRevision() == 1 {
					j.observer.Sealed(at.Sub(time.UnixMilli(sum.GetEndUnixMs())))
				}
			}
			j.count(func(s *JobStats) {
				s.Committed++
				s.Records += n
				s.Applied += applied
				s.Quarantined += refused + dropped
				s.DaysParked += int64(len(out.Parked))
			})
			failed, blind = 0, 0
			for ref := range emittedBy {
				delete(attempts, ref) // its output was written: it is no culprit
			}
			culprits := false
			for k := range attempts {
				if _, ok := k.(input); ok {
					delete(attempts, k) // committed: it is not read again
				} else {
					culprits = true
				}
			}
			fs.EachRecord(func(r *kgo.Record) {
				if end, ok := narrow[r.Partition]; ok && r.Offset >= end {
					delete(narrow, r.Partition) // past the failed input: its culprit did not fail again
				}
			})
			if !culprits && len(narrow) == 0 {
				// Transactions grow back once no culprit is being narrowed
				// down; while one is, they stay small, so its retries
				// rewrite little beside it.
				limit = min(limit*2, j.maxPoll)
			}
			for _, in := range usedPoison {
				delete(poisoned, in)
			}
			if len(out.Summaries) > 0 {
				j.log.Info("days sealed", "summaries", len(out.Summaries))
			}
			continue
		}
		j.count(func(s *JobStats) { s.Aborted++; s.AbortedBytes += produced })
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && len(failures) == 0 {
			continue // a rebalance ended it: the input is read again
		}
		failed++
		if err != nil {
			failures = append(failures, produceFailure{err: err})
		}
		if j.blame(agg, &mu, failures, n, emittedBy, &limit, attempts, poisoned, narrow, fs) {
			blind = 0
		} else if blind++; blind >= j.maxFailures {
			return fmt.Errorf("window: %d transactions in a row failed with no record to blame: %w", blind, failures[0].err)
		}
		wait := j.backoff(failed)
		j.log.Warn("window transaction did not commit; backing off before reading its input again", "failed_in_a_row", failed, "backoff", wait, "err", failures[0].err)
		j.count(func(s *JobStats) { s.Backoff += wait })
		if err := j.sleep(ctx, wait); err != nil {
			return nil
		}
	}
}

// blame finds the culprits of a failed transaction and spends one of their
// tries. Every refusal narrows the next transaction down to at most half the
// input of the failed one, and short of the input record that emitted a
// refused day's output, so that what is healthy before it commits and each
// retry rewrites less than the one before. A day whose summary or
// exceptions the broker refused is parked once it has used its tries; a
// refusal that names no day, once one input record is left, quarantines that
// record once it has used its tries. blame reports whether any failure was a
// refused record (rather than the broker's state).
func (j *Job) blame(agg *Aggregator, mu *sync.Mutex, failures []produceFailure, n int64, emittedBy map[DayRef]int64, limit *int,
	attempts map[any]int, poisoned map[input]poison, narrow map[int32]int64, fs kgo.Fetches) bool {
	days := map[DayRef]error{}
	var other error
	for _, f := range failures {
		if !refusedRecord(f.err) {
			continue
		}
		if f.culprit.isDay {
			days[f.culprit.day] = f.err
		} else if other == nil {
			other = f.err
		}
	}
	if len(days) == 0 && other == nil {
		return false
	}
	first := n
	for ref, err := range days {
		if i, ok := emittedBy[ref]; ok {
			first = min(first, i)
		}
		attempts[ref]++
		if tries := attempts[ref]; tries >= j.maxAttempts {
			delete(attempts, ref)
			mu.Lock()
			agg.ParkDay(ref, fmt.Sprintf("its summary could not be written after %d tries: %v", tries, err), tries)
			mu.Unlock()
		}
	}
	if other != nil {
		fs.EachRecord(func(r *kgo.Record) {
			narrow[r.Partition] = max(narrow[r.Partition], r.Offset)
		})
	}
	if n > 1 {
		*limit = max(1, int(min(first, n/2)))
		return true
	}
	if other == nil {
		return true
	}
	fs.EachRecord(func(r *kgo.Record) {
		in := input{r.Topic, r.Partition, r.Offset}
		attempts[in]++
		if tries := attempts[in]; tries >= j.maxAttempts {
			delete(attempts, in)
			clear(narrow)
			poisoned[in] = poison{fmt.Sprintf("its output could not be written after %d tries: %v", tries, other), tries}
		}
	})
	return true
}

// refusedRecord reports a produce error that is the record's own fault, not
// the broker's state: retrying the same record fails the same way.
func refusedRecord(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord) || errors.Is(err, kerr.CorruptMessage) ||
		errors.Is(err, kerr.InvalidTimestamp)
}

// backoff is the wait before the next try after failed transactions in a
// row: base, doubling, at most the cap.
func (j *Job) backoff(failed int) time.Duration {
	d := j.backoffBase
	for i := 1; i < failed && d < j.backoffCap; i++ {
		d *= 2
	}
	return min(d, j.backoffCap)
}
