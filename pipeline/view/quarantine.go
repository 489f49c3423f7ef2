package view

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// MaxQuarantinePerCompany bounds the entries the projection keeps for one
// company: the newest ones are listed, the rest only counted, so a company
// whose producer sends a flood of broken records costs bounded memory. The
// topic itself keeps every entry.
const MaxQuarantinePerCompany = 1000

// Quarantine is the projection of commerce.quarantine: per company, what
// could not be processed and why.
type Quarantine struct {
	tail *kafka.Tail
	log  *slog.Logger
	n    notifier

	mu        sync.RWMutex
	byCompany map[string]*companyQuarantine
	// byStage counts the entries each stage quarantined.
	byStage map[string]int
}

type companyQuarantine struct {
	entries []*v1.QuarantineEntry // oldest first, at most MaxQuarantinePerCompany
	ids     map[string]bool
	total   int
}

// OpenQuarantine starts the projection and returns once it has caught up.
func OpenQuarantine(ctx context.Context, brokers kafka.Cluster, topic string, log *slog.Logger) (*Quarantine, error) {
	q := newQuarantine(log)
	t, err := kafka.NewTail(brokers, topic, log, q.apply)
	if err != nil {
		return nil, err
	}
	q.tail = t
	t.Start(ctx)
	if err := t.WaitCaughtUp(ctx); err != nil {
		t.Stop()
		return nil, err
	}
	return q, nil
}

func newQuarantine(log *slog.Logger) *Quarantine {
	return &Quarantine{log: log, byCompany: map[string]*companyQuarantine{}, byStage: map[string]int{}}
}

// Close stops the projection.
func (q *Quarantine) Close() { q.tail.Stop() }

func (q *Quarantine) apply(r *kgo.Record) {
	if r.Value == nil {
		return
	}
	var e v1.QuarantineEntry
	if err := proto.Unmarshal(r.Value, &e); err != nil {
		// The quarantine is the last stop: an entry that cannot be read
		// is still counted against the company its key names.
		e = v1.QuarantineEntry{
			Id: fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset), CompanyId: string(r.Key), Stage: "view", Kind: "record",
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Reason: "quarantine entry unreadable: " + err.Error(),
		}
	}
	q.add(&e)
}

func (q *Quarantine) add(e *v1.QuarantineEntry) {
	q.mu.Lock()
	cq := q.byCompany[e.GetCompanyId()]
	if cq == nil {
		cq = &companyQuarantine{ids: map[string]bool{}}
		q.byCompany[e.GetCompanyId()] = cq
	}
	if cq.ids[e.GetId()] {
		q.mu.Unlock()
		return // the same failure quarantined again: one entry
	}
	cq.total++
	q.byStage[e.GetStage()]++
	cq.ids[e.GetId()] = true
	cq.entries = append(cq.entries, e)
	if len(cq.entries) > MaxQuarantinePerCompany {
		// The oldest entry leaves the listing; its id stays known so a
		// stage that checks "already quarantined" still sees it.
		cq.entries[0] = nil
		cq.entries = cq.entries[1:]
	}
	q.mu.Unlock()
	q.n.fire()
}

// ByStage counts the entries each stage (window, plan, push, view)
// quarantined.
func (q *Quarantine) ByStage() map[string]int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return maps.Clone(q.byStage)
}

// Changed returns a channel closed at the next new entry.
func (q *Quarantine) Changed() <-chan struct{} { return q.n.wait() }

// Has reports whether an entry with id was quarantined for company.
func (q *Quarantine) Has(companyID, id string) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	cq := q.byCompany[companyID]
	return cq != nil && cq.ids[id]
}

// Company returns the company's listed entries, oldest first, and how many
// it has had in all.
func (q *Quarantine) Company(companyID string) ([]*v1.QuarantineEntry, int) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	cq := q.byCompany[companyID]
	if cq == nil {
		return nil, 0
	}
	return append([]*v1.QuarantineEntry(nil), cq.entries...), cq.total
}

// QuarantineWriter appends quarantine entries from stages that read no
// input transactionally (the planner and the push worker), and waits until
// the projection holds them.
type QuarantineWriter struct {
	prod *kgo.Client
	view *Quarantine
}

// NewQuarantineWriter makes a writer for the quarantine topic.
func NewQuarantineWriter(brokers kafka.Cluster, topic string, v *Quarantine, log *slog.Logger) (*QuarantineWriter, error) {
	cl, err := kgo.NewClient(append(kafka.ClientOpts(brokers, log), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return nil, fmt.Errorf("quarantine writer: %w", err)
	}
	return &QuarantineWriter{prod: cl, view: v}, nil
}

// Put writes an entry once: an id already quarantined is not written again.
func (w *QuarantineWriter) Put(ctx context.Context, e *v1.QuarantineEntry) error {
	if w.view.Has(e.GetCompanyId(), e.GetId()) {
		return nil
	}
	b, err := proto.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode quarantine entry %s: %w", e.GetId(), err)
	}
	r, err := w.prod.ProduceSync(ctx, &kgo.Record{Key: []byte(e.GetCompanyId()), Value: b}).First()
	if err != nil {
		return fmt.Errorf("write quarantine entry %s: %w", e.GetId(), err)
	}
	return w.view.tail.WaitFor(ctx, r.Partition, r.Offset)
}

// Close releases the producer.
func (w *QuarantineWriter) Close() { w.prod.Close() }

// Exceptions is the projection of ledger.exceptions: every record each day
// counts without its money.
type Exceptions struct {
	tail *kafka.Tail
	log  *slog.Logger

	mu sync.RWMutex
	// company → business day → key → exception
	byDay map[string]map[string]map[string]*v1.DayException
}

// OpenExceptions starts the projection and returns once it has caught up.
func OpenExceptions(ctx context.Context, brokers kafka.Cluster, topic string, log *slog.Logger) (*Exceptions, error) {
	x := &Exceptions{log: log, byDay: map[string]map[string]map[string]*v1.DayException{}}
	t, err := kafka.NewTail(brokers, topic, log, x.apply)
	if err != nil {
		return nil, err
	}
	x.tail = t
	t.Start(ctx)
	if err := t.WaitCaughtUp(ctx); err != nil {
		t.Stop()
		return nil, err
	}
	return x, nil
}

// Close stops the projection.
func (x *Exceptions) Close() { x.tail.Stop() }

// ExceptionKey is the key of a day exception on ledger.exceptions.
func ExceptionKey(e *v1.DayException) []byte {
	return []byte(strings.Join([]string{e.GetCompanyId(), e.GetBusinessDay(), e.GetCurrency(), e.GetLocation(), e.GetRecordId()}, "\x00"))
}

func (x *Exceptions) apply(r *kgo.Record) {
	parts := strings.SplitN(string(r.Key), "\x00", 5)
	if len(parts) != 5 {
		x.log.Error("day exception with a malformed key", "partition", r.Partition, "offset", r.Offset)
		return
	}
	company, businessDay, key := parts[0], parts[1], string(r.Key)
	x.mu.Lock()
	defer x.mu.Unlock()
	days := x.byDay[company]
	if r.Value == nil {
		if set := days[businessDay]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(days, businessDay)
			}
		}
		return
	}
	var e v1.DayException
	if err := proto.Unmarshal(r.Value, &e); err != nil {
		x.log.Error("day exception unreadable", "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	if days == nil {
		days = map[string]map[string]*v1.DayException{}
		x.byDay[company] = days
	}
	if days[businessDay] == nil {
		days[businessDay] = map[string]*v1.DayException{}
	}
	days[businessDay][key] = &e
}

// WaitCaughtUp blocks until the projection holds what the topic held when
// it was called.
func (x *Exceptions) WaitCaughtUp(ctx context.Context) error { return x.tail.WaitCaughtUp(ctx) }

// Day lists a company's exceptions of one business day, ordered by
// currency, location and record id.
func (x *Exceptions) Day(companyID, businessDay string) []*v1.DayException {
	x.mu.RLock()
	set := x.byDay[companyID][businessDay]
	out := make([]*v1.DayException, 0, len(set))
	for _, e := range set {
		out = append(out, e)
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.GetCurrency() != b.GetCurrency() {
			return a.GetCurrency() < b.GetCurrency()
		}
		if a.GetLocation() != b.GetLocation() {
			return a.GetLocation() < b.GetLocation()
		}
		return a.GetRecordId() < b.GetRecordId()
	})
	return out
}
