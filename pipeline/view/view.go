// Package view keeps in-memory projections of the ledger and the outbox,
// rebuilt from their topics at start and kept current, for the planner, the
// push worker and the read routes.
package view

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// notifier hands out a channel closed at the next change.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) fire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
	}
	n.ch = make(chan struct{})
}

// Ledger is the projection of ledger.days.
type Ledger struct {
	tail *kafka.Tail
	log  *slog.Logger
	n    notifier

	mu         sync.RWMutex
	byCompany  map[string][]*v1.DaySummary
	seen       map[string]bool
	unreadable []Unreadable
}

// Unreadable is a record a projection could not decode: kept, with a
// bounded copy of its bytes, for the stage that quarantines it.
type Unreadable struct {
	CompanyID string // the record's key
	Topic     string
	Partition int32
	Offset    int64
	Value     []byte
	Truncated bool
	Err       string
}

// Bounds on what a projection keeps of records it cannot read.
const (
	maxUnreadable      = 1000
	MaxQuarantineBytes = 64 << 10
)

func unreadable(r *kgo.Record, err error) Unreadable {
	u := Unreadable{CompanyID: string(r.Key), Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err.Error()}
	u.Value = r.Value
	if len(u.Value) > MaxQuarantineBytes {
		u.Value, u.Truncated = u.Value[:MaxQuarantineBytes], true
	}
	u.Value = append([]byte(nil), u.Value...)
	return u
}

// Unreadable lists the ledger records that could not be decoded (at most
// the first thousand; the log names every one).
func (l *Ledger) Unreadable() []Unreadable {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]Unreadable(nil), l.unreadable...)
}

// OpenLedger starts the projection and returns once it has caught up.
func OpenLedger(ctx context.Context, brokers kafka.Cluster, topic string, log *slog.Logger) (*Ledger, error) {
	l := &Ledger{log: log, byCompany: map[string][]*v1.DaySummary{}, seen: map[string]bool{}}
	t, err := kafka.NewTail(brokers, topic, log, l.apply)
	if err != nil {
		return nil, err
	}
	l.tail = t
	t.Start(ctx)
	if err := t.WaitCaughtUp(ctx); err != nil {
		t.Stop()
		return nil, err
	}
	return l, nil
}

// Close stops the projection.
func (l *Ledger) Close() { l.tail.Stop() }

func (l *Ledger) apply(r *kgo.Record) {
	var s v1.DaySummary
	if err := proto.Unmarshal(r.Value, &s); err != nil {
		l.log.Error("ledger record unreadable", "partition", r.Partition, "offset", r.Offset, "err", err)
		l.mu.Lock()
		if len(l.unreadable) < maxUnreadable {
			l.unreadable = append(l.unreadable, unreadable(r, err))
		}
		l.mu.Unlock()
		l.n.fire()
		return
	}
	l.mu.Lock()
	if l.seen[s.GetId()] {
		l.mu.Unlock()
		return
	}
	l.seen[s.GetId()] = true
	list := l.byCompany[s.GetCompanyId()]
	if n := len(list); n > 0 && (list[n-1].GetHash() != s.GetPrevHash() || list[n-1].GetSequence()+1 != s.GetSequence()) {
		l.log.Error("ledger chain break", "company", s.GetCompanyId(), "summary", s.GetId(), "sequence", s.GetSequence())
	}
	l.byCompany[s.GetCompanyId()] = append(list, &s)
	l.mu.Unlock()
	l.n.fire()
}

// Changed returns a channel closed at the next new summary.
func (l *Ledger) Changed() <-chan struct{} { return l.n.wait() }

// Company returns a company's summaries in chain order.
func (l *Ledger) Company(companyID string) []*v1.DaySummary {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]*v1.DaySummary(nil), l.byCompany[companyID]...)
}

// Companies lists the companies that have summaries.
func (l *Ledger) Companies() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.byCompany))
	for c := range l.byCompany {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Outbox is the projection of push.outbox: each document's latest state.
type Outbox struct {
	tail *kafka.Tail
	log  *slog.Logger
	n    notifier

	mu         sync.RWMutex
	docs       map[string]*v1.OutboxEntry
	bySummary  map[string][]string
	unreadable []Unreadable
}

// Unreadable lists the outbox records that could not be decoded (at most
// the first thousand; the log names every one).
func (o *Outbox) Unreadable() []Unreadable {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return append([]Unreadable(nil), o.unreadable...)
}

// OpenOutbox starts the projection and returns once it has caught up.
func OpenOutbox(ctx context.Context, brokers kafka.Cluster, topic string, log *slog.Logger) (*Outbox, error) {
	o := &Outbox{log: log, docs: map[string]*v1.OutboxEntry{}, bySummary: map[string][]string{}}
	t, err := kafka.NewTail(brokers, topic, log, o.apply)
	if err != nil {
		return nil, err
	}
	o.tail = t
	t.Start(ctx)
	if err := t.WaitCaughtUp(ctx); err != nil {
		t.Stop()
		return nil, err
	}
	return o, nil
}

// Close stops the projection.
func (o *Outbox) Close() { o.tail.Stop() }

func (o *Outbox) apply(r *kgo.Record) {
	if r.Value == nil {
		return
	}
	var e v1.OutboxEntry
	if err := proto.Unmarshal(r.Value, &e); err != nil {
		o.log.Error("outbox record unreadable", "partition", r.Partition, "offset", r.Offset, "err", err)
		o.mu.Lock()
		if len(o.unreadable) < maxUnreadable {
			u := unreadable(r, err)
			u.CompanyID = "" // the key is a document id: no company can be named
			o.unreadable = append(o.unreadable, u)
		}
		o.mu.Unlock()
		o.n.fire()
		return
	}
	o.mu.Lock()
	if _, ok := o.docs[e.GetDocumentId()]; !ok {
		o.bySummary[e.GetSummaryId()] = append(o.bySummary[e.GetSummaryId()], e.GetDocumentId())
	}
	o.docs[e.GetDocumentId()] = &e
	o.mu.Unlock()
	o.n.fire()
}

// WaitFor blocks until the outbox record at partition/offset is applied.
func (o *Outbox) WaitFor(ctx context.Context, partition int32, offset int64) error {
	return o.tail.WaitFor(ctx, partition, offset)
}

// Changed returns a channel closed at the next change.
func (o *Outbox) Changed() <-chan struct{} { return o.n.wait() }

// ByState counts the documents in each state.
func (o *Outbox) ByState() map[v1.OutboxState]int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := map[v1.OutboxState]int{}
	for _, e := range o.docs {
		out[e.GetState()]++
	}
	return out
}

// Doc returns a document's latest entry.
func (o *Outbox) Doc(id string) (*v1.OutboxEntry, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	e, ok := o.docs[id]
	return e, ok
}

// ForSummary returns the entries planned for a summary.
func (o *Outbox) ForSummary(summaryID string) []*v1.OutboxEntry {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []*v1.OutboxEntry
	for _, id := range o.bySummary[summaryID] {
		out = append(out, o.docs[id])
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// All returns every entry, ordered by company, day, currency, revision and
// document index, which is also the order they must reach the platform.
func (o *Outbox) All() []*v1.OutboxEntry {
	o.mu.RLock()
	out := make([]*v1.OutboxEntry, 0, len(o.docs))
	for _, e := range o.docs {
		out = append(out, e)
	}
	o.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// Company returns a company's entries in push order.
func (o *Outbox) Company(companyID string) []*v1.OutboxEntry {
	var out []*v1.OutboxEntry
	for _, e := range o.All() {
		if e.GetCompanyId() == companyID {
			out = append(out, e)
		}
	}
	return out
}

func less(a, b *v1.OutboxEntry) bool {
	switch {
	case a.GetCompanyId() != b.GetCompanyId():
		return a.GetCompanyId() < b.GetCompanyId()
	case a.GetBusinessDay() != b.GetBusinessDay():
		return a.GetBusinessDay() < b.GetBusinessDay()
	case a.GetCurrency() != b.GetCurrency():
		return a.GetCurrency() < b.GetCurrency()
	case a.GetRevision() != b.GetRevision():
		return a.GetRevision() < b.GetRevision()
	case a.GetSummaryId() != b.GetSummaryId():
		// A day grouped by location has a summary per location: each one's
		// documents go together.
		return a.GetSummaryId() < b.GetSummaryId()
	}
	return a.GetDocumentIndex() < b.GetDocumentIndex()
}
