package sink_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const tenant = "tenant-1"

type harness struct {
	t       *testing.T
	ctx     context.Context
	brokers kafka.Cluster
	topics  kafka.Topics
	store   *chstore.Store
	prod    *kgo.Client
	sent    int
}

func start(t *testing.T) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	b, err := kafka.StartBroker(kafka.WithMinSessionTimeout(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	h := &harness{t: t, ctx: ctx, brokers: b.Cluster(), topics: kafka.DefaultTopics()}
	h.prod, err = kgo.NewClient(append(kafka.ClientOpts(h.brokers, nil), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	if err := kafka.EnsureTopics(ctx, h.prod, h.topics.Specs(3)); err != nil {
		t.Fatal(err)
	}
	tg := chtest.Start(t)
	h.store, err = chstore.Open(ctx, tg.Addr, tg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close() })
	return h
}

func (h *harness) produce(topic, key string, value []byte) {
	h.t.Helper()
	if err := h.prod.ProduceSync(h.ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: value}).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
	h.sent++
}

func (h *harness) marshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// runUntil runs a sink until it has read n records, then stops it.
func (h *harness) runUntil(n int64, w sink.Writer, opts ...sink.Option) sink.Stats {
	h.t.Helper()
	j := sink.NewJob(h.brokers, w, append([]sink.Option{sink.WithBatch(40, 20*time.Millisecond),
		sink.WithClock(time.Now, func(context.Context, time.Duration) error { return nil })}, opts...)...)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute)
	for j.Stats().Records < n {
		if time.Now().After(deadline) {
			cancel()
			h.t.Fatalf("the sink read %d of %d records in 2 minutes", j.Stats().Records, n)
		}
		select {
		case err := <-done:
			h.t.Fatalf("the sink stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		h.t.Fatalf("sink: %v", err)
	}
	return j.Stats()
}

// model is the test's own books: per company, day and account, the net
// amounts, and per day the records that count.
type model struct {
	sums    map[string]money.Amount // company|day|account
	records map[string]int64        // company|day
}

type version struct {
	day      string
	postings map[string]int64
}

// stream makes random contribution changes for companies: records that
// arrive, are replaced (possibly moving day) and are deleted, each change
// written as the window writes it (-old, +new). Every day is then sealed
// in one or two revisions whose lines add up to the day.
func (h *harness) stream(rng *rand.Rand, companies []string, days []string) model {
	m := model{sums: map[string]money.Amount{}, records: map[string]int64{}}
	accounts := []string{"sales", "sales:Drinks", "tax:rate:20", "gratuity", "tender:Card", "tender:Cash", "unsettled", "discounts", "payment_fees"}
	for _, co := range companies {
		for r := range 30 {
			id := fmt.Sprintf("ord-%d", r)
			var cur *version
			for range 1 + rng.IntN(3) {
				var next *version
				if rng.IntN(5) > 0 {
					next = &version{day: days[rng.IntN(len(days))], postings: map[string]int64{}}
					for range 1 + rng.IntN(3) {
						a := accounts[rng.IntN(len(accounts))]
						v := rng.Int64N(2_000_000) - 1_000_000
						next.postings[a] += v
						next.postings["unsettled"] -= v // each version balances
					}
				}
				if cur != nil {
					h.contribute(&m, co, id, cur, -1)
				}
				if next != nil {
					h.contribute(&m, co, id, next, +1)
				}
				cur = next
			}
		}
		for _, d := range days {
			h.seal(&m, co, d, rng)
		}
	}
	return m
}

func (h *harness) contribute(m *model, co, id string, v *version, sign int32) {
	c := &v1.Contribution{TenantId: tenant, CompanyId: co, BusinessDay: v.day, Currency: "GBP", Kind: v1.RecordKind_RECORD_KIND_ORDER,
		RecordId: id, Sign: sign, EventUnixMs: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixMilli()}
	accts := make([]string, 0, len(v.postings))
	for a := range v.postings {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for _, a := range accts {
		amt := v.postings[a] * int64(sign)
		c.Postings = append(c.Postings, &v1.AccountAmount{Account: a, Amount: amt})
		m.sums[co+"|"+v.day+"|"+a] += money.Amount(amt)
	}
	m.records[co+"|"+v.day] += int64(sign)
	h.produce(h.topics.Contributions, co, h.marshal(c))
}

// seal writes a day's revisions: the first with some accounts, the second
// with the rest, as a late record's revision would.
func (h *harness) seal(m *model, co, d string, rng *rand.Rand) {
	prefix := co + "|" + d + "|"
	var lines [2][]*v1.SummaryLine
	var accts []string
	for k := range m.sums {
		if strings.HasPrefix(k, prefix) {
			accts = append(accts, k)
		}
	}
	sort.Strings(accts)
	for _, k := range accts {
		v := m.sums[k]
		l := &v1.SummaryLine{Account: strings.TrimPrefix(k, prefix), Debit: money.Amount(max(v, 0)).String(), Credit: money.Amount(max(-v, 0)).String()}
		i := rng.IntN(2)
		lines[i] = append(lines[i], l)
	}
	for rev, ls := range lines {
		s := &v1.DaySummary{Id: fmt.Sprintf("%s-%s-%d", co, d, rev+1), TenantId: tenant, CompanyId: co, BusinessDay: d, Currency: "GBP",
			Revision: int32(rev + 1), Lines: ls, RecordCount: int32(m.records[co+"|"+d]), SealedBy: "close_up_to",
			StartUnixMs: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC).UnixMilli(), EndUnixMs: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC).UnixMilli()}
		h.produce(h.topics.Ledger, co, h.marshal(s))
	}
}

// answers is every query's answer for the companies, as text.
func (h *harness) answers(companies []string, from, to string) string {
	h.t.Helper()
	var b strings.Builder
	for _, co := range companies {
		accts, err := h.store.Accounts(h.ctx, tenant, co, from, to)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, a := range accts {
			fmt.Fprintf(&b, "%s %+v\n", co, a)
		}
		days, err := h.store.Days(h.ctx, tenant, co, from, to)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, d := range days {
			fmt.Fprintf(&b, "%s %+v\n", co, d)
		}
	}
	return b.String()
}

// check compares the store's answers with the model, to the cent.
func (h *harness) check(m model, companies []string, from, to string) {
	h.t.Helper()
	got := map[string]money.Amount{}
	for _, co := range companies {
		accts, err := h.store.Accounts(h.ctx, tenant, co, from, to)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, a := range accts {
			k := co + "|" + a.Day + "|" + a.Account
			if a.Commerce != a.Ledger {
				h.t.Errorf("%s: records %s, ledger %s; the test sealed every day with its records' sums", k, a.Commerce, a.Ledger)
			}
			if a.Commerce != 0 {
				got[k] = a.Commerce
			}
		}
		days, err := h.store.Days(h.ctx, tenant, co, from, to)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, d := range days {
			k := co + "|" + d.Day
			if d.Records != m.records[k] || d.LedgerRecords != m.records[k] || d.Revisions != 2 {
				h.t.Errorf("%s: %d records, ledger %d over %d revisions; want %d and 2 revisions", k, d.Records, d.LedgerRecords, d.Revisions, m.records[k])
			}
		}
	}
	// The unsettled records left after pairing off equal and opposite
	// amounts add up to each company's unsettled balance.
	exc, cut, err := h.store.Exceptions(h.ctx, tenant, "2100-01-01")
	if err != nil || cut {
		h.t.Fatalf("exceptions: %v (cut %v)", err, cut)
	}
	for _, co := range companies {
		var balance, listed money.Amount
		for k, v := range m.sums {
			if strings.HasPrefix(k, co+"|") && strings.HasSuffix(k, "|unsettled") {
				balance += v
			}
		}
		for _, e := range exc {
			if e.CompanyID == co && e.Kind == "unsettled" {
				listed += e.Amount
			}
		}
		if listed != balance {
			h.t.Errorf("%s: unsettled records listed add up to %s; the balance is %s", co, listed, balance)
		}
	}
	want := map[string]money.Amount{}
	for k, v := range m.sums {
		if v != 0 {
			want[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			h.t.Errorf("%s: the store says %s; the test's sum is %s", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			h.t.Errorf("%s: the store says %s; the test has nothing there", k, v)
		}
	}
}

// Random streams of contribution changes and revisions, with unreadable
// records among them, are stored exactly: per company, day and account
// the store's sums equal the test's own to the cent, each day's records
// count, and the unreadable records are kept with their reason while
// everything beside them is stored. Resetting the group's offsets and
// reading everything again changes no answer.
func TestSinkStoresExactlyAndRedeliveryChangesNothing(t *testing.T) {
	h := start(t)
	companies := []string{"co-a", "co-b", "co-c"}
	days := []string{"2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"}
	m := h.stream(rand.New(rand.NewPCG(1, 2)), companies, days)
	h.produce(h.topics.Contributions, "co-a", []byte("not a contribution"))
	h.produce(h.topics.Contributions, "co-b", h.marshal(&v1.Contribution{TenantId: tenant, CompanyId: "co-b", BusinessDay: "1900-01-01",
		Kind: v1.RecordKind_RECORD_KIND_ORDER, RecordId: "old", Sign: 1}))
	h.produce(h.topics.Ledger, "co-c", h.marshal(&v1.DaySummary{CompanyId: "someone-else", BusinessDay: "2026-03-10", Revision: 1}))

	st := h.runUntil(int64(h.sent), h.store)
	if st.Rejected != 3 {
		t.Fatalf("%d records rejected; want the 3 planted", st.Rejected)
	}
	h.check(m, companies, days[0], days[len(days)-1])
	first := h.answers(companies, days[0], days[len(days)-1])
	rejects := h.rejects()
	for _, want := range []string{"cannot be decoded as a Contribution", "business day 1900-01-01 is outside", `company id "someone-else" does not match its key "co-c"`} {
		if !strings.Contains(rejects, want) {
			t.Errorf("sink_rejects lacks %q:\n%s", want, rejects)
		}
	}

	adm := kadm.NewClient(h.prod)
	if _, err := adm.DeleteGroup(h.ctx, sink.DefaultGroup); err != nil {
		t.Fatal(err)
	}
	h.runUntil(int64(h.sent), h.store)
	if again := h.answers(companies, days[0], days[len(days)-1]); again != first {
		t.Fatalf("reading everything again changed the answers:\nfirst:\n%s\nagain:\n%s", first, again)
	}
	if again := h.rejects(); again != rejects {
		t.Fatalf("reading everything again changed the rejects:\nfirst:\n%s\nagain:\n%s", rejects, again)
	}
}

func (h *harness) rejects() string {
	h.t.Helper()
	out, err := h.store.Rejects(h.ctx, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range out {
		fmt.Fprintf(&b, "%s/%d/%d %s\n", r.Topic, r.Source.Partition, r.Source.Offset, r.Reason)
	}
	return b.String()
}

// halfWriter stores only the contributions of every other batch and then
// fails, as a server that goes away mid-batch would.
type halfWriter struct {
	w     *chstore.Store
	mu    sync.Mutex
	calls int
	fails int
}

var errAway = errors.New("server went away mid-batch")

func (f *halfWriter) Write(ctx context.Context, r *sink.Rows) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls%2 == 1
	f.mu.Unlock()
	if !fail {
		return f.w.Write(ctx, r)
	}
	part := &sink.Rows{Contributions: r.Contributions[:len(r.Contributions)/2]}
	if err := f.w.Write(ctx, part); err != nil {
		return err
	}
	f.mu.Lock()
	f.fails++
	f.mu.Unlock()
	return errAway
}

// A write that fails after storing part of its batch is written again
// whole, and the copies collapse: the answers are exact.
func TestSinkPartialWritesCollapse(t *testing.T) {
	h := start(t)
	companies := []string{"co-x", "co-y"}
	days := []string{"2026-04-01", "2026-04-02"}
	m := h.stream(rand.New(rand.NewPCG(7, 9)), companies, days)
	w := &halfWriter{w: h.store}
	st := h.runUntil(int64(h.sent), w)
	if w.fails == 0 || st.WriteFailures != int64(w.fails) {
		t.Fatalf("%d half-written batches, %d failures counted; the test needs some, all counted", w.fails, st.WriteFailures)
	}
	h.check(m, companies, days[0], days[len(days)-1])
}
