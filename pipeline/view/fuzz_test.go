package view

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The projections read what other stages wrote, and a topic can hold
// anything a producer sent: whatever the bytes, a projection never panics,
// keeps a record it cannot read for the quarantine (bounded), and keeps
// one it can.
func FuzzLedgerRecord(f *testing.F) {
	good, _ := proto.Marshal(&v1.DaySummary{Id: "s1", CompanyId: "c1", BusinessDay: "2026-03-10", Currency: "USD", Revision: 1, Sequence: 1,
		Lines: []*v1.SummaryLine{{Account: "sales", Debit: "0", Credit: "12.3.4"}}})
	f.Add([]byte("c1"), good)
	f.Add([]byte("c1"), []byte{0xff, 0xff, 0x01})
	f.Add([]byte{}, bytes.Repeat([]byte{0x0a}, 70<<10))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		l := &Ledger{log: slog.New(slog.DiscardHandler), byCompany: map[string][]*v1.DaySummary{}, seen: map[string]bool{}}
		l.apply(&kgo.Record{Topic: "ledger.days", Key: key, Value: value, Offset: 7})
		var s v1.DaySummary
		if err := proto.Unmarshal(value, &s); err != nil {
			u := l.Unreadable()
			if len(u) != 1 || u[0].Offset != 7 || len(u[0].Value) > MaxQuarantineBytes || u[0].CompanyID != string(key) {
				t.Fatalf("an unreadable record was not kept for the quarantine: %+v", u)
			}
			return
		}
		if got := l.Company(s.GetCompanyId()); len(got) != 1 || got[0].GetId() != s.GetId() {
			t.Fatalf("a readable summary was not kept: %v", got)
		}
	})
}

func FuzzOutboxRecord(f *testing.F) {
	good, _ := proto.Marshal(&v1.OutboxEntry{DocumentId: "d1", CompanyId: "c1", SummaryId: "s1", State: v1.OutboxState_OUTBOX_STATE_PLANNED})
	f.Add(good)
	f.Add([]byte{0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, value []byte) {
		o := &Outbox{log: slog.New(slog.DiscardHandler), docs: map[string]*v1.OutboxEntry{}, bySummary: map[string][]string{}}
		o.apply(&kgo.Record{Topic: "push.outbox", Key: []byte("d1"), Value: value})
		var e v1.OutboxEntry
		if value != nil && proto.Unmarshal(value, &e) != nil && len(o.Unreadable()) != 1 {
			t.Fatal("an unreadable outbox record was not kept for the quarantine")
		}
		_ = o.All()
	})
}

func FuzzQuarantineRecord(f *testing.F) {
	good, _ := proto.Marshal(&v1.QuarantineEntry{Id: "q1", CompanyId: "c1", Stage: "window", Reason: "why"})
	f.Add([]byte("c1"), good)
	f.Add([]byte("c1"), []byte{0xff})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		q := newQuarantine(slog.New(slog.DiscardHandler))
		r := &kgo.Record{Topic: "commerce.quarantine", Key: key, Value: value}
		q.apply(r)
		q.apply(r) // a redelivery lists nothing twice
		if value == nil {
			return
		}
		n := 0
		for c := range q.byCompany {
			es, total := q.Company(c)
			n += total
			if len(es) != total {
				t.Fatalf("company %q: %d listed of %d", c, len(es), total)
			}
		}
		if n != 1 {
			t.Fatalf("one record gave %d entries", n)
		}
	})
}

func FuzzExceptionRecord(f *testing.F) {
	e := &v1.DayException{CompanyId: "c1", BusinessDay: "2026-03-10", Currency: "USD", RecordId: "o1", Message: "lines miss"}
	good, _ := proto.Marshal(e)
	f.Add(ExceptionKey(e), good)
	f.Add([]byte("c1"), []byte{0xff})
	f.Add(ExceptionKey(e), []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		x := &Exceptions{log: slog.New(slog.DiscardHandler), byDay: map[string]map[string]map[string]*v1.DayException{}}
		x.apply(&kgo.Record{Topic: "ledger.exceptions", Key: key, Value: value})
		x.apply(&kgo.Record{Topic: "ledger.exceptions", Key: key}) // a tombstone removes what the key held
		for c, days := range x.byDay {
			for d := range days {
				if n := len(x.Day(c, d)); n != 0 {
					t.Fatalf("a tombstone left %d exceptions of %s %s", n, c, d)
				}
			}
		}
	})
}

// Entries past the per-company bound leave the listing but are still known,
// so nothing is quarantined twice and memory stays bounded.
func TestQuarantineBoundedPerCompany(t *testing.T) {
	q := newQuarantine(slog.New(slog.DiscardHandler))
	for i := range MaxQuarantinePerCompany + 5 {
		q.add(&v1.QuarantineEntry{Id: string(rune('a'+i%26)) + string(rune(i)), CompanyId: "c1"})
	}
	es, total := q.Company("c1")
	if total != MaxQuarantinePerCompany+5 || len(es) != MaxQuarantinePerCompany {
		t.Fatalf("listed %d of %d; want the newest %d of %d", len(es), total, MaxQuarantinePerCompany, MaxQuarantinePerCompany+5)
	}
	if es[0].GetId() != string(rune('a'+5%26))+string(rune(5)) {
		t.Errorf("the oldest listed entry is %q, want the sixth one pushed", es[0].GetId())
	}
	if !q.Has("c1", string(rune('a'))+string(rune(0))) {
		t.Error("an entry that left the listing is no longer known")
	}
}

// ByStage counts each entry once, by its stage, listed or not.
func TestQuarantineCountsByStage(t *testing.T) {
	q := newQuarantine(slog.New(slog.DiscardHandler))
	for i, stage := range []string{"window", "window", "plan", "window"} {
		q.add(&v1.QuarantineEntry{Id: string(rune('a' + i)), CompanyId: "c1", Stage: stage})
	}
	q.add(&v1.QuarantineEntry{Id: "a", CompanyId: "c1", Stage: "window"}) // the same failure again
	got := q.ByStage()
	if len(got) != 2 || got["window"] != 3 || got["plan"] != 1 {
		t.Errorf("ByStage = %v, want window 3 and plan 1", got)
	}
	got["window"] = 100
	if q.ByStage()["window"] != 3 {
		t.Error("ByStage handed out the view's own map")
	}
}

// ByState counts each document once, in its latest state.
func TestOutboxCountsByState(t *testing.T) {
	o := &Outbox{log: slog.New(slog.DiscardHandler), docs: map[string]*v1.OutboxEntry{}, bySummary: map[string][]string{}}
	put := func(doc string, st v1.OutboxState) {
		b, err := proto.Marshal(&v1.OutboxEntry{DocumentId: doc, SummaryId: "s-" + doc, State: st})
		if err != nil {
			t.Fatal(err)
		}
		o.apply(&kgo.Record{Key: []byte(doc), Value: b})
	}
	put("d1", v1.OutboxState_OUTBOX_STATE_PLANNED)
	put("d2", v1.OutboxState_OUTBOX_STATE_PLANNED)
	put("d1", v1.OutboxState_OUTBOX_STATE_SENT)
	put("d1", v1.OutboxState_OUTBOX_STATE_CONFIRMED)
	got := o.ByState()
	if len(got) != 2 || got[v1.OutboxState_OUTBOX_STATE_PLANNED] != 1 || got[v1.OutboxState_OUTBOX_STATE_CONFIRMED] != 1 {
		t.Errorf("ByState = %v, want one planned and one confirmed", got)
	}
}
