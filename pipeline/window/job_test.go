package window

// Tests of the Kafka job against the real (kfake) broker: the harness here
// starts a broker, creates the topics, writes events keyed by company as the
// gateway does, runs the job, and reads back what it committed.

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

type jobHarness struct {
	t       testing.TB
	brokers kafka.Cluster
	topics  kafka.Topics
	dataDir string
	prod    *kgo.Client
	group   string
	// stops ends each job runJob started and returns what its Run did.
	stops map[*Job]func() error
}

func startJobHarness(t testing.TB, partitions int32, persist bool) *jobHarness {
	t.Helper()
	h := &jobHarness{t: t, topics: kafka.DefaultTopics(), group: "window-test"}
	var opts []kafka.BrokerOption
	if persist {
		h.dataDir = t.TempDir()
		opts = append(opts, kafka.WithDataDir(h.dataDir))
	}
	b, err := kafka.StartBroker(append(opts, kafka.WithMinSessionTimeout(100*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	h.brokers = b.Cluster()
	h.prod = h.client()
	if err := kafka.EnsureTopics(h.ctx(), h.prod, h.topics.Specs(partitions)); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *jobHarness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	h.t.Cleanup(cancel)
	return ctx
}

func (h *jobHarness) client(extra ...kgo.Opt) *kgo.Client {
	h.t.Helper()
	cl, err := kgo.NewClient(append(kafka.ClientOpts(h.brokers, nil), extra...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cl.Close)
	return cl
}

// push writes events to commerce.events keyed by company, as the gateway
// does, in order.
func (h *jobHarness) push(evs ...*v1.CommerceEvent) {
	h.t.Helper()
	rs := make([]*kgo.Record, 0, len(evs))
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			h.t.Fatal(err)
		}
		rs = append(rs, &kgo.Record{Topic: h.topics.Events, Key: []byte(ev.GetCompanyId()), Value: b})
	}
	h.pushRaw(rs...)
}

func (h *jobHarness) pushRaw(rs ...*kgo.Record) {
	h.t.Helper()
	for start := 0; start < len(rs); start += 2000 {
		if err := h.prod.ProduceSync(h.ctx(), rs[start:min(start+2000, len(rs))]...).FirstErr(); err != nil {
			h.t.Fatalf("push events: %v", err)
		}
	}
}

// runJob runs a window job until the test ends; it fails the test if Run
// returns an error before then.
func (h *jobHarness) runJob(opts ...Option) *Job {
	h.t.Helper()
	j := NewJob(h.brokers, append([]Option{
		WithTopics(h.topics), WithGroup(h.group), WithLogger(slog.New(slog.DiscardHandler)),
		WithTimeouts(10*time.Second, time.Second),
	}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	var once sync.Once
	var err error
	if h.stops == nil {
		h.stops = map[*Job]func() error{}
	}
	h.stops[j] = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	h.t.Cleanup(func() {
		if err := h.stops[j](); err != nil {
			h.t.Errorf("window job: %v", err)
		}
	})
	return j
}

// stopJob ends a job runJob started, once its last transaction has ended:
// its stats then count everything it did. The group's committed offsets
// say a transaction committed before the job has counted it.
func (h *jobHarness) stopJob(j *Job) {
	h.t.Helper()
	if err := h.stops[j](); err != nil {
		h.t.Fatalf("window job: %v", err)
	}
}

// waitConsumed waits until the job's group has committed every event
// written so far, or fails the test after timeout.
func (h *jobHarness) waitConsumed(timeout time.Duration) {
	h.t.Helper()
	adm := kadm.NewClient(h.client())
	ctx := h.ctx()
	ends, err := adm.ListEndOffsets(ctx, h.topics.Events)
	if err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		committed, err := adm.FetchOffsets(ctx, h.group)
		if err == nil {
			done := true
			ends.Each(func(o kadm.ListedOffset) {
				c, ok := committed.Lookup(h.topics.Events, o.Partition)
				if o.Offset > 0 && (!ok || c.At < o.Offset) {
					done = false
				}
			})
			if done {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the window did not consume every event within %s (committed %v, ends %v)", timeout, committed, ends)
		}
		// Waiting on another process's progress, not on time: the job
		// commits asynchronously and says nothing when it does.
		time.Sleep(20 * time.Millisecond)
	}
}

// read returns every committed record of topic, partition by partition.
func (h *jobHarness) read(topic string) []*kgo.Record {
	h.t.Helper()
	details, err := kadm.NewClient(h.client()).ListTopics(h.ctx(), topic)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*kgo.Record
	for _, p := range details[topic].Partitions.Numbers() {
		err := kafka.ReadPartition(h.ctx(), h.brokers, topic, p, nil, func(r *kgo.Record) error {
			out = append(out, r)
			return nil
		})
		if err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func (h *jobHarness) summaries() []*v1.DaySummary {
	h.t.Helper()
	var out []*v1.DaySummary
	for _, r := range h.read(h.topics.Ledger) {
		var s v1.DaySummary
		if err := proto.Unmarshal(r.Value, &s); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, &s)
	}
	return out
}

// contributions adds up what ledger.contributions holds per day and
// account.
func (h *jobHarness) contributions() accountSums {
	h.t.Helper()
	out := accountSums{}
	for _, r := range h.read(h.topics.Contributions) {
		var c v1.Contribution
		if err := proto.Unmarshal(r.Value, &c); err != nil {
			h.t.Fatal(err)
		}
		if string(r.Key) != c.GetCompanyId() {
			h.t.Fatalf("contribution of %s keyed %q", c.GetCompanyId(), r.Key)
		}
		k := dayCur{c.GetCompanyId(), c.GetBusinessDay(), c.GetCurrency(), c.GetLocation()}
		for _, p := range c.GetPostings() {
			out.add(k, p.GetAccount(), p.GetAmount())
		}
	}
	return out
}

// ofCompany keeps the summaries of one company.
func ofCompany(sums []*v1.DaySummary, company string) []*v1.DaySummary {
	var out []*v1.DaySummary
	for _, s := range sums {
		if s.GetCompanyId() == company {
			out = append(out, s)
		}
	}
	return out
}

// dirSize is the bytes of every file under dir.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// missOrder is an order of company whose one line comes to 10.00 against a
// total of 11.00: its lines miss it by 1.00, more than rounding explains,
// so its day counts it without money and names it.
func missOrder(company, id string, at time.Time) *v1.CommerceEvent {
	line := &v1.OrderLineItem{TotalAmount: "10.00", TotalTaxAmount: "0"}
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1,
		ContentHash: exHash(company, id),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: "11.00", TotalGratuity: "0",
			OrderLineItems: []*v1.OrderLineItem{line}}},
	})
}

// goodOrder is an order of company with no lines: total as sales.
func goodOrder(company, id string, at time.Time, total string) *v1.CommerceEvent {
	return recordEvent(company, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1,
		ContentHash: exHash(company, id, total),
		Body:        &v1.RecordEvent_Order{Order: &v1.Order{Id: id, Currency: "GBP", TotalAmount: total, TotalTaxAmount: "0", TotalGratuity: "0"}},
	})
}

func londonSettings(company string) *v1.CommerceEvent {
	return settingsEvent(company, exTenant, &v1.WindowSettings{TimeZone: "Europe/London", ConfigVersion: 1})
}

// Finding 1, as reported: 8,000 orders whose totals miss their lines by
// 1.00, pushed for one company on one day and then sealed, made a summary
// past the broker's 1 MB limit; the window retried the transaction forever
// and no other company sealed a day. Five orders with 200 KB ids did the
// same. Every company here shares one partition. Now the day's summary
// names the first 100 exceptions and counts all 8,000, ledger.exceptions
// lists every one, the five orders are quarantined (their ids pass the
// window's limit), and every company seals, with no transaction retried.
func TestFindingOversizedDayStopsEveryCompany(t *testing.T) {
	h := startJobHarness(t, 1, false)
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-03-10 12:00:00")
	closeAt := local(t, ldn, "2026-03-11 00:00:00").UnixMilli()
	var evs []*v1.CommerceEvent
	for _, c := range []string{"big", "ids", "ok"} {
		evs = append(evs, londonSettings(c))
	}
	for i := range 8000 {
		evs = append(evs, missOrder("big", fmt.Sprintf("big-%05d", i), at))
	}
	for i := range 5 {
		id := fmt.Sprintf("%d-", i) + strings.Repeat("x", 200<<10)
		evs = append(evs, missOrder("ids", id, at))
	}
	evs = append(evs, goodOrder("ids", "ids-good", at, "7.00"), goodOrder("ok", "ok-1", at, "5.00"))
	evs = append(evs, closeEvent("big", closeAt), closeEvent("ids", closeAt), closeEvent("ok", closeAt))
	h.push(evs...)
	j := h.runJob()
	h.waitConsumed(time.Minute)

	sums := h.summaries()
	for _, s := range sums {
		b, _ := proto.Marshal(s)
		if n := len(b) + len(s.GetCompanyId()); n > kafka.MaxRecordBytes {
			t.Errorf("summary %s is %d bytes, over %d", s.GetId(), n, kafka.MaxRecordBytes)
		}
	}
	ok := ofCompany(sums, "ok")
	if len(ok) != 1 || netLines(t, ok[0])["sales"] != "-5.00" {
		t.Fatalf("company ok has summaries %v, want one revision of 2026-03-10 with its sale", ok)
	}
	ids := ofCompany(sums, "ids")
	if len(ids) != 1 || netLines(t, ids[0])["sales"] != "-7.00" || len(ids[0].GetExceptions()) != 0 {
		t.Fatalf("company ids has summaries %v, want one revision with its good order and no exception", ids)
	}
	big := ofCompany(sums, "big")
	if len(big) != 1 {
		t.Fatalf("company big has %d summaries, want 1", len(big))
	}
	if got := big[0].GetExceptionCount(); got != 8000 {
		t.Errorf("big's summary counts %d exceptions, want 8000", got)
	}
	var want []string
	for i := range MaxExceptionsNamed {
		want = append(want, fmt.Sprintf("big-%05d", i))
	}
	if got := exceptionIDs(big[0]); !slices.Equal(got, want) {
		t.Errorf("big's summary names %d exceptions (%v…), want the first %d by id", len(got), got[:min(3, len(got))], MaxExceptionsNamed)
	}
	if got := big[0].GetRecordCount(); got != 8000 {
		t.Errorf("big's summary counts %d records, want 8000", got)
	}

	listed := map[string]bool{}
	for _, r := range h.read(h.topics.Exceptions) {
		var e v1.DayException
		if err := proto.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		if e.GetCompanyId() == "big" && e.GetBusinessDay() == "2026-03-10" && strings.Contains(e.GetMessage(), e.GetRecordId()) {
			listed[e.GetRecordId()] = true
		}
	}
	if len(listed) != 8000 {
		t.Errorf("ledger.exceptions lists %d of big's exceptions, want all 8000", len(listed))
	}

	q := h.quarantine()
	if len(q) != 5 {
		t.Fatalf("%d quarantine entries, want the 5 orders with 200 KB ids: %v", len(q), q)
	}
	for _, e := range q {
		if e.GetCompanyId() != "ids" || e.GetKind() != "record" || !strings.Contains(e.GetReason(), "id is 204802 bytes; the limit is 255") ||
			!e.GetRecordTruncated() || len(e.GetRecord()) != MaxQuarantinedBytes {
			t.Errorf("quarantine entry %s: company %q kind %q reason %q truncated %v with %d bytes", e.GetId(), e.GetCompanyId(), e.GetKind(), e.GetReason(),
				e.GetRecordTruncated(), len(e.GetRecord()))
		}
	}

	h.stopJob(j)
	st := j.Stats()
	if st.Records != int64(len(evs)) || st.Applied+st.Quarantined != st.Records || st.Quarantined != 5 {
		t.Errorf("job stats %+v: want %d records in, 5 quarantined, the rest applied", st, len(evs))
	}
	if st.Aborted != 0 || st.Committed != st.Transactions || st.Backoff != 0 {
		t.Errorf("job stats %+v: the job retried transactions", st)
	}
}

func (h *jobHarness) quarantine() []*v1.QuarantineEntry {
	h.t.Helper()
	var out []*v1.QuarantineEntry
	for _, r := range h.read(h.topics.Quarantine) {
		var e v1.QuarantineEntry
		if err := proto.Unmarshal(r.Value, &e); err != nil {
			h.t.Fatal(err)
		}
		if string(r.Key) != e.GetCompanyId() && e.GetCompanyId() != "" {
			h.t.Errorf("quarantine entry %s keyed %q, not by its company %q", e.GetId(), r.Key, e.GetCompanyId())
		}
		out = append(out, &e)
	}
	return out
}
