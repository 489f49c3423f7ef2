package view_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup starts a broker with the system's topics at 3 partitions.
func setup(t testing.TB) (kafka.Topics, kafka.Cluster) {
	t.Helper()
	b, err := kafka.StartBroker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	cl, err := kgo.NewClient(kafka.ClientOpts(b.Cluster(), testLog())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics := kafka.DefaultTopics()
	if err := kafka.EnsureTopics(testCtx(t), cl, topics.Specs(3)); err != nil {
		t.Fatal(err)
	}
	return topics, b.Cluster()
}

// viewCtx is the lifetime of a projection: it ends with the test.
func viewCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// ---------------------------------------------------------------------------
// Ledger

type ledgerWriter struct {
	t     testing.TB
	cl    *kgo.Client
	topic string
	last  map[string]*v1.DaySummary
}

func newLedgerWriter(t testing.TB, brokers kafka.Cluster, topic string) *ledgerWriter {
	cl, err := kgo.NewClient(kafka.ClientOpts(brokers, testLog())...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &ledgerWriter{t: t, cl: cl, topic: topic, last: map[string]*v1.DaySummary{}}
}

// next appends the company's next summary to its chain, keyed by company as
// the window job writes it.
func (w *ledgerWriter) next(company, day string, revision int32) *v1.DaySummary {
	prev := w.last[company]
	s := &v1.DaySummary{
		Id: fmt.Sprintf("%s/%s/GBP/%d", company, day, revision), CompanyId: company, TenantId: "tenant-1",
		BusinessDay: day, Currency: "GBP", Revision: revision, Sequence: 1,
	}
	if prev != nil {
		s.Sequence, s.PrevHash = prev.GetSequence()+1, prev.GetHash()
	}
	s.Hash = fmt.Sprintf("hash-%s-%d", company, s.Sequence)
	w.last[company] = s
	w.write(s)
	return s
}

func (w *ledgerWriter) write(s *v1.DaySummary) {
	b, err := proto.Marshal(s)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.cl.ProduceSync(testCtx(w.t), &kgo.Record{Topic: w.topic, Key: []byte(s.GetCompanyId()), Value: b}).FirstErr(); err != nil {
		w.t.Fatal(err)
	}
}

func ids(ss []*v1.DaySummary) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.GetId()
	}
	return out
}

func TestLedgerOrdersCompanySummariesAndIgnoresRepeats(t *testing.T) {
	topics, brokers := setup(t)
	w := newLedgerWriter(t, brokers, topics.Ledger)
	a1 := w.next("co-a", "2026-03-27", 1)
	b1 := w.next("co-b", "2026-03-27", 1)
	a2 := w.next("co-a", "2026-03-28", 1)
	w.write(a2) // redelivered after a retry
	a3 := w.next("co-a", "2026-03-27", 2)
	w.write(a1)
	c1 := w.next("co-c", "2026-03-29", 1)

	l, err := view.OpenLedger(viewCtx(t), brokers, topics.Ledger, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	// OpenLedger has caught up: no waiting.
	if got, want := ids(l.Company("co-a")), ids([]*v1.DaySummary{a1, a2, a3}); !slices.Equal(got, want) {
		t.Errorf("Company(co-a) = %q, want %q", got, want)
	}
	if got := ids(l.Company("co-b")); !slices.Equal(got, []string{b1.GetId()}) {
		t.Errorf("Company(co-b) = %q", got)
	}
	if got := l.Companies(); !slices.Equal(got, []string{"co-a", "co-b", c1.GetCompanyId()}) {
		t.Errorf("Companies() = %q", got)
	}
	if got := l.Company("co-none"); len(got) != 0 {
		t.Errorf("Company(co-none) = %v", got)
	}
	// The returned slice is the caller's.
	got := l.Company("co-a")
	got[0] = nil
	if l.Company("co-a")[0] == nil {
		t.Error("Company returned the view's own slice")
	}

	// Live: a repeat then a new summary, in the company's partition order.
	changed := l.Changed()
	w.write(a3)
	a4 := w.next("co-a", "2026-03-29", 1)
	want := ids([]*v1.DaySummary{a1, a2, a3, a4})
	waitUntil(t, l.Changed, func() bool { return len(l.Company("co-a")) >= 4 })
	select {
	case <-changed:
	default:
		t.Error("Changed did not fire for the new summary")
	}
	if got := ids(l.Company("co-a")); !slices.Equal(got, want) {
		t.Errorf("Company(co-a) = %q, want %q", got, want)
	}
	for i, s := range l.Company("co-a") {
		if s.GetSequence() != int64(i+1) {
			t.Errorf("summary %d has sequence %d", i, s.GetSequence())
		}
	}
}

// waitUntil polls cond, woken by the projection's change channel, until a
// deadline.
func waitUntil(t testing.TB, changed func() <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ch := changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("condition not reached before the deadline")
		}
	}
}

// ---------------------------------------------------------------------------
// Outbox

func entry(company, day, currency string, revision, index int32) *v1.OutboxEntry {
	summary := fmt.Sprintf("%s/%s/%s/%d", company, day, currency, revision)
	return &v1.OutboxEntry{
		DocumentId: fmt.Sprintf("%s#%d", summary, index), CompanyId: company, TenantId: "tenant-1",
		SummaryId: summary, BusinessDay: day, Currency: currency, Revision: revision, DocumentIndex: index,
		State: v1.OutboxState_OUTBOX_STATE_PLANNED, ConfigVersion: 1,
	}
}

func openOutbox(t testing.TB, brokers kafka.Cluster, topic string) (*view.Outbox, *view.OutboxWriter) {
	t.Helper()
	o, err := view.OpenOutbox(viewCtx(t), brokers, topic, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	w, err := view.NewOutboxWriter(brokers, topic, o, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return o, w
}

func docIDs(es []*v1.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.GetDocumentId()
	}
	return out
}

// Put returns only once the view holds the entry, state changes included.
func TestOutboxWriterPutIsReadYourWrites(t *testing.T) {
	topics, brokers := setup(t)
	o, w := openOutbox(t, brokers, topics.Outbox)
	ctx := testCtx(t)
	for i := range 12 {
		e := entry("co-a", "2026-03-29", "GBP", 1, int32(i))
		for _, st := range []v1.OutboxState{v1.OutboxState_OUTBOX_STATE_PLANNED, v1.OutboxState_OUTBOX_STATE_SENT, v1.OutboxState_OUTBOX_STATE_CONFIRMED} {
			e.State, e.Attempts = st, int32(st)
			if st == v1.OutboxState_OUTBOX_STATE_CONFIRMED {
				e.ExternalId = fmt.Sprintf("ext-%d", i)
			}
			if err := w.Put(ctx, e); err != nil {
				t.Fatal(err)
			}
			got, ok := o.Doc(e.GetDocumentId())
			if !ok || !proto.Equal(got, e) {
				t.Fatalf("right after Put(%s, %s) the view holds %v (%v)", e.GetDocumentId(), st, got, ok)
			}
		}
	}
}

// The outbox keeps each document's latest entry, and lists entries in push
// order: company, day, currency, revision, document index.
func TestOutboxLatestEntryAndOrder(t *testing.T) {
	topics, brokers := setup(t)
	o, w := openOutbox(t, brokers, topics.Outbox)
	ctx := testCtx(t)

	var all []*v1.OutboxEntry
	for _, co := range []string{"co-b", "co-a"} {
		for _, d := range []string{"2026-03-29", "2026-03-28"} {
			for _, cur := range []string{"GBP", "EUR"} {
				for _, rev := range []int32{10, 2, 1} { // 10 sorts after 2 as a number
					for _, idx := range []int32{2, 0, 1} {
						all = append(all, entry(co, d, cur, rev, idx))
					}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, e := range all {
		if err := w.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Later states of some documents replace their earlier entries.
	for _, e := range all[:10] {
		e = proto.Clone(e).(*v1.OutboxEntry)
		e.State, e.ExternalId = v1.OutboxState_OUTBOX_STATE_CONFIRMED, "ext-"+e.GetDocumentId()
		if err := w.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	want := slices.Clone(all)
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		if a.GetCompanyId() != b.GetCompanyId() {
			return a.GetCompanyId() < b.GetCompanyId()
		}
		if a.GetBusinessDay() != b.GetBusinessDay() {
			return a.GetBusinessDay() < b.GetBusinessDay()
		}
		if a.GetCurrency() != b.GetCurrency() {
			return a.GetCurrency() < b.GetCurrency()
		}
		if a.GetRevision() != b.GetRevision() {
			return a.GetRevision() < b.GetRevision()
		}
		return a.GetDocumentIndex() < b.GetDocumentIndex()
	})
	confirmed := map[string]bool{}
	for _, e := range all[:10] {
		confirmed[e.GetDocumentId()] = true
	}

	check := func(name string, o *view.Outbox) {
		t.Helper()
		got := o.All()
		if !slices.Equal(docIDs(got), docIDs(want)) {
			t.Errorf("%s: All() = %q\nwant %q", name, docIDs(got), docIDs(want))
		}
		for _, e := range got {
			if isConf := e.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED; isConf != confirmed[e.GetDocumentId()] {
				t.Errorf("%s: %s has state %s, not its latest", name, e.GetDocumentId(), e.GetState())
			}
		}
		var wantA []string
		for _, e := range want {
			if e.GetCompanyId() == "co-a" {
				wantA = append(wantA, e.GetDocumentId())
			}
		}
		if got := docIDs(o.Company("co-a")); !slices.Equal(got, wantA) {
			t.Errorf("%s: Company(co-a) = %q\nwant %q", name, got, wantA)
		}
		if got := o.Company("co-none"); len(got) != 0 {
			t.Errorf("%s: Company(co-none) = %v", name, got)
		}
		for _, rev := range []int32{1, 2, 10} {
			sum := fmt.Sprintf("co-b/2026-03-28/EUR/%d", rev)
			wantS := []string{sum + "#0", sum + "#1", sum + "#2"}
			got := docIDs(o.ForSummary(sum))
			slices.Sort(got) // order: TestOutboxForSummaryIndexOrder
			if !slices.Equal(got, wantS) {
				t.Errorf("%s: ForSummary(%s) = %q, want %q (one entry per document)", name, sum, got, wantS)
			}
		}
		if got := o.ForSummary("no-such-summary"); len(got) != 0 {
			t.Errorf("%s: ForSummary(no-such-summary) = %v", name, got)
		}
	}
	check("live view", o)
	// A process started now rebuilds the same view from the topic.
	rebuilt, err := view.OpenOutbox(viewCtx(t), brokers, topics.Outbox, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rebuilt.Close)
	check("rebuilt view", rebuilt)
}

// ForSummary lists a summary's documents in index order, like All and
// Company, whatever order their entries were written or fetched in (entries
// are keyed by document id, so one summary's documents span partitions).
func TestOutboxForSummaryIndexOrder(t *testing.T) {
	topics, brokers := setup(t)
	o, w := openOutbox(t, brokers, topics.Outbox)
	ctx := testCtx(t)
	for _, idx := range []int32{2, 0, 1} {
		if err := w.Put(ctx, entry("co-a", "2026-03-29", "GBP", 1, idx)); err != nil {
			t.Fatal(err)
		}
	}
	sum := "co-a/2026-03-29/GBP/1"
	want := []string{sum + "#0", sum + "#1", sum + "#2"}
	if got := docIDs(o.Company("co-a")); !slices.Equal(got, want) {
		t.Errorf("Company(co-a) = %q, want %q", got, want)
	}
	if got := docIDs(o.ForSummary(sum)); !slices.Equal(got, want) {
		t.Errorf("ForSummary = %q, want %q (index order, as All and Company)", got, want)
	}
}
