package window

// How the job sizes its transactions around a record the broker refuses,
// through the real (kfake) broker: each transaction's input is recorded by
// the apply hook and closed by the in-transaction hook, so a test reads the
// exact sequence of transaction sizes.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// jbTxns records, for each transaction the job ran, how many input records
// it applied; and the job's backoffs, with its aborted bytes at each.
type jbTxns struct {
	mu      sync.Mutex
	job     *Job
	cur     int
	sizes   []int
	waits   []time.Duration
	aborted []int64
}

func (r *jbTxns) apply(p FaultPoint) error {
	if p.Where == "start" {
		r.mu.Lock()
		r.cur++
		r.mu.Unlock()
	}
	return nil
}

func (r *jbTxns) inTxn(int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sizes = append(r.sizes, r.cur)
	r.cur = 0
}

func (r *jbTxns) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	if r.job != nil {
		r.aborted = append(r.aborted, r.job.Stats().AbortedBytes)
	}
	return ctx.Err()
}

func (r *jbTxns) opts() []Option {
	return []Option{WithApplyFault(r.apply), WithInTransactionHook(r.inTxn), WithSleep(r.sleep),
		WithTimeouts(10*time.Second, 10*time.Second)}
}

func (r *jbTxns) start(h *jobHarness, opts ...Option) *Job {
	r.mu.Lock() // the job waits for its first backoff until it is known
	defer r.mu.Unlock()
	r.job = h.runJob(append(r.opts(), opts...)...)
	return r.job
}

func (r *jbTxns) got() ([]int, []time.Duration, []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sizes), slices.Clone(r.waits), slices.Clone(r.aborted)
}

// jbOrders are orders o-<from>..o-<to-1> of company c at one instant.
func jbOrders(c string, from, to int, at time.Time) []*v1.CommerceEvent {
	var out []*v1.CommerceEvent
	for i := from; i < to; i++ {
		out = append(out, goodOrder(c, fmt.Sprintf("o-%02d", i), at, "1.00"))
	}
	return out
}

// A refusal that names no day narrows the next transaction to half the
// failed one's input; the transactions stay that small until one commits
// the failed transaction's last input record (here the refusal does not
// recur), and then grow back, doubling up to the poll limit.
func TestTransactionsStaySmallUntilTheFailedInputCommitsThenGrowBack(t *testing.T) {
	h := startJobHarness(t, 1, false)
	at := local(t, "Europe/London", "2026-03-10 12:00:00")
	// Offsets: 0 settings, 1..24 orders o-00..o-23; o-05 is offset 6.
	h.push(append([]*v1.CommerceEvent{londonSettings("c")}, jbOrders("c", 0, 24, at)...)...)
	var once sync.Once
	rec := &jbTxns{}
	j := rec.start(h, WithMaxPollRecords(8), WithProduceFault(func(r *kgo.Record) error {
		var err error
		if r.Topic == h.topics.Changelog && strings.HasSuffix(string(r.Key), "\x00o-05") {
			once.Do(func() { err = kerr.MessageTooLarge })
		}
		return err
	}))
	h.waitConsumed(time.Minute)
	h.stopJob(j)
	sizes, waits, _ := rec.got()
	// 0..7 fail; 0..3 commit; 4..7 commit and pass the failed input (7);
	// then 8 at a time again.
	if want := []int{8, 4, 4, 8, 8, 1}; !slices.Equal(sizes, want) {
		t.Errorf("transactions of %v input records, want %v", sizes, want)
	}
	if want := []time.Duration{100 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}
	st := j.Stats()
	if st.Transactions != 6 || st.Committed != 5 || st.Aborted != 1 || st.Records != 25 || st.Applied != 25 || st.Quarantined != 0 {
		t.Errorf("stats %+v: want 6 transactions, 1 aborted, 25 records applied", st)
	}
	if q := h.quarantine(); len(q) != 0 {
		t.Errorf("quarantine %v: a refusal that did not recur quarantined something", q)
	}
}

// jbLogs keeps the job's log records at Info and above.
type jbLogs struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *jbLogs) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *jbLogs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}
func (l *jbLogs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *jbLogs) WithGroup(string) slog.Handler      { return l }

// sealed returns the summaries count of every "days sealed" record.
func (l *jbLogs) sealed() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, r := range l.recs {
		if r.Message != "days sealed" {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "summaries" {
				out = append(out, a.Value.Int64())
			}
			return true
		})
	}
	return out
}

// A day whose summary the broker refuses: the retry stops short of the
// input record that emitted it (the close at offset 6), so the records
// before it commit; the close alone is tried until the day has used its 3
// tries, the day is parked with the close's coordinates, and transactions
// grow back from one record, doubling. The job's counts add up over every
// transaction: days parked, backoff, aborted bytes.
func TestRefusedDayRetriesStopShortOfTheRecordThatEmittedIt(t *testing.T) {
	h := startJobHarness(t, 1, false)
	const ldn = "Europe/London"
	day1 := "2026-03-10"
	at1, at2 := local(t, ldn, day1+" 12:00:00"), local(t, ldn, "2026-03-11 12:00:00")
	closeAt := local(t, ldn, "2026-03-11 00:00:00").UnixMilli()
	// Offsets: 0 settings, 1..5 day 1's orders, 6 the close, 7..24 day 2's
	// orders.
	evs := append([]*v1.CommerceEvent{londonSettings("c")}, jbOrders("c", 0, 5, at1)...)
	evs = append(evs, closeEvent("c", closeAt))
	evs = append(evs, jbOrders("c", 10, 28, at2)...)
	h.push(evs...)
	refuseC, refuseD := refuseSummaries(h.topics.Ledger, "c", day1), refuseSummaries(h.topics.Ledger, "d", day1)
	logs := &jbLogs{}
	rec := &jbTxns{}
	j := rec.start(h, WithRetries(3, 20, 100*time.Millisecond, 10*time.Second), WithLogger(slog.New(logs)),
		WithCodeVersion("v-test"), WithProduceFault(func(r *kgo.Record) error {
			if err := refuseC(r); err != nil {
				return err
			}
			return refuseD(r)
		}))
	h.waitConsumed(time.Minute)

	sizes, waits, aborted := rec.got()
	// All 25 fail; 0..5 commit; 6..11 fail with the close first; the close
	// alone fails (3rd try: parked), then commits parking the day; then
	// 2, 4, 8 and the last 4.
	if want := []int{25, 6, 6, 1, 1, 2, 4, 8, 4}; !slices.Equal(sizes, want) {
		t.Errorf("transactions of %v input records, want %v", sizes, want)
	}
	if want := []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}
	for i := 1; i < len(aborted); i++ {
		if aborted[i] <= aborted[i-1] {
			t.Errorf("aborted bytes after each failed transaction %v: want them adding up", aborted)
			break
		}
	}
	q := h.quarantine()
	if len(q) != 1 || q[0].GetKind() != "day" || q[0].GetCompanyId() != "c" || q[0].GetBusinessDay() != day1 || q[0].GetOffset() != 6 ||
		q[0].GetAttempts() != 3 || q[0].GetCodeVersion() != "v-test" || !strings.Contains(q[0].GetReason(), "could not be written after 3 tries: MESSAGE_TOO_LARGE") {
		t.Fatalf("quarantine %v, want c's %s parked after 3 tries, at the close (offset 6)", q, day1)
	}

	// A second company's refused day is parked in a later transaction, and
	// a healthy company's day seals.
	h.push(londonSettings("d"), goodOrder("d", "d-1", at1, "2.00"), closeEvent("d", closeAt),
		londonSettings("e"), goodOrder("e", "e-1", at1, "3.00"), closeEvent("e", closeAt))
	h.waitConsumed(time.Minute)
	h.stopJob(j)
	_, waits, _ = rec.got()
	var total time.Duration
	for _, w := range waits {
		total += w
	}
	st := j.Stats()
	if st.DaysParked != 2 || st.Backoff != total || st.Aborted != int64(len(waits)) || st.Records != int64(len(evs)+6) {
		t.Errorf("stats %+v: want 2 days parked, %d records, backoff %s over %d aborted transactions", st, len(evs)+6, total, len(waits))
	}
	if len(aborted) > 0 && st.AbortedBytes <= aborted[len(aborted)-1] {
		t.Errorf("aborted bytes %d after d's failures, not more than %d before", st.AbortedBytes, aborted[len(aborted)-1])
	}
	if sums := ofCompany(h.summaries(), "e"); len(sums) != 1 {
		t.Errorf("e's summaries %v, want its day", sums)
	}
	if got := logs.sealed(); len(got) != 1 || got[0] != 1 {
		t.Errorf("\"days sealed\" logged with summaries %v; want it once, for e's one summary", got)
	}
}

// When the broker fails a transaction for a reason no record explains
// (here it refuses every commit of the input offsets), the job backs off
// and reads the same input again, and after maxFailures such transactions
// in a row Run stops with the broker's error, so that another instance
// takes over; it neither skips the input nor retries forever.
func TestBlindFailuresInARowStopTheJobWithTheBrokersError(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h := &jobHarness{t: t, topics: kafka.DefaultTopics(), group: "window-test", brokers: kafka.Seeds(c.ListenAddrs()...)}
	h.prod = h.client()
	if err := kafka.EnsureTopics(h.ctx(), h.prod, h.topics.Specs(1)); err != nil {
		t.Fatal(err)
	}
	at := local(t, "Europe/London", "2026-03-10 12:00:00")
	h.push(londonSettings("c"), goodOrder("c", "o-1", at, "1.00"))
	c.ControlKey(int16(kmsg.TxnOffsetCommit), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.TxnOffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		resp.Version = req.Version
		for _, rt := range req.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.OffsetMetadataTooLarge.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &jbTxns{}
	j := NewJob(h.brokers, append(rec.opts(), WithTopics(h.topics), WithGroup(h.group), WithLogger(slog.New(slog.DiscardHandler)),
		WithRetries(5, 2, 100*time.Millisecond, 10*time.Second),
		WithInTransactionHook(func(n int) {
			rec.inTxn(n)
			if sizes, _, _ := rec.got(); len(sizes) >= 10 {
				cancel() // it would go on forever
			}
		}))...)
	rec.job = j
	err = j.Run(ctx)
	sizes, waits, _ := rec.got()
	if err == nil || !errors.Is(err, kerr.OffsetMetadataTooLarge) || !strings.Contains(err.Error(), "2 transactions in a row failed with no record to blame") {
		t.Fatalf("Run returned %v after transactions of %v records; want it to stop after 2 blind failures with the broker's error", err, sizes)
	}
	if want := []int{2, 2}; !slices.Equal(sizes, want) {
		t.Errorf("transactions of %v input records, want %v: the same input read again", sizes, want)
	}
	if want := []time.Duration{100 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}
	if st := j.Stats(); st.Transactions != 2 || st.Aborted != 2 || st.Committed != 0 || st.Records != 0 || st.Backoff != 100*time.Millisecond {
		t.Errorf("stats %+v: want 2 transactions, both aborted, nothing counted in, 100ms backed off", st)
	}
}
