package sink

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// FuzzSinkRecord feeds arbitrary keys and values on each topic the sink
// reads. Nothing panics; a refused record adds no row; every row it keeps
// fits the store: days and times in range, amounts within Decimal(18, 4),
// text within MaxStringBytes, and the source the record's own.
func FuzzSinkRecord(f *testing.F) {
	topics := kafka.DefaultTopics()
	names := []string{topics.Contributions, topics.Ledger, topics.Outbox, topics.Quarantine}
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixMilli()
	seed := func(topic uint8, key string, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(topic, []byte(key), b)
	}
	seed(0, "co", &v1.Contribution{TenantId: "t", CompanyId: "co", BusinessDay: "2026-03-10", Currency: "GBP", Kind: v1.RecordKind_RECORD_KIND_TRANSACTION,
		TransactionType: "Payout", RecordId: "po", Sign: -1, EventUnixMs: at, Settled: []string{"p1", "p2"},
		Postings: []*v1.AccountAmount{{Account: "payouts", Amount: 10000}, {Account: "tender:Card", Amount: -10000}}})
	seed(1, "co", &v1.DaySummary{Id: "s", TenantId: "t", CompanyId: "co", BusinessDay: "2026-03-10", Currency: "GBP", Revision: 2,
		StartUnixMs: at, EndUnixMs: at, Lines: []*v1.SummaryLine{{Account: "sales", Debit: "0", Credit: "12.34"}}})
	seed(2, "doc", &v1.OutboxEntry{DocumentId: "doc", CompanyId: "co", TenantId: "t", BusinessDay: "2026-03-10", Currency: "GBP",
		State: v1.OutboxState_OUTBOX_STATE_CONFIRMED, UpdatedUnixMs: at, Document: &v1.Document{Type: "SalesInvoice", Currency: "GBP",
			Lines: []*v1.DocumentLine{{AccountId: "a", Amount: "12.34", SemanticAccount: "sales"}}}})
	seed(3, "co", &v1.QuarantineEntry{Id: "q", CompanyId: "co", TenantId: "t", Stage: "window", Kind: "record", QuarantinedUnixMs: at, Reason: "why"})
	f.Add(uint8(0), []byte("co"), []byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, topic uint8, key, value []byte) {
		rec := &kgo.Record{Topic: names[int(topic)%len(names)], Key: key, Value: value, Partition: 3, Offset: 41}
		var r Rows
		if err := r.add(topics, rec); err != nil {
			if n := r.Len(); n != 0 {
				t.Fatalf("refused (%v) yet added %d rows", err, n)
			}
			return
		}
		text := func(what, s string) {
			if len(s) > MaxStringBytes {
				t.Fatalf("%s of %d bytes kept", what, len(s))
			}
		}
		amount := func(a int64) {
			if a > maxAmount || a < -maxAmount {
				t.Fatalf("amount %d kept", a)
			}
		}
		inRange := func(what string, tm time.Time) {
			if tm.Before(firstDay) || tm.After(lastDay) {
				t.Fatalf("%s %s kept", what, tm)
			}
		}
		src := func(s Source) {
			if s != (Source{3, 41}) {
				t.Fatalf("source %+v; the record's is 3/41", s)
			}
		}
		for _, c := range r.Contributions {
			inRange("day", c.Day)
			inRange("event time", c.EventTime)
			amount(int64(c.Amount))
			src(c.Source)
			text("account", c.Account)
			text("record id", c.RecordID)
			if c.Sign != 1 && c.Sign != -1 {
				t.Fatalf("sign %d kept", c.Sign)
			}
		}
		for _, d := range r.Days {
			inRange("day", d.Day)
			src(d.Source)
		}
		for _, l := range r.Lines {
			amount(int64(l.Amount))
			text("account", l.Account)
		}
		for _, m := range r.Movements {
			amount(int64(m.Amount))
			src(m.Source)
		}
		for _, d := range r.Documents {
			inRange("day", d.Day)
			text("error", d.ErrorMessage)
		}
		for _, q := range r.Quarantine {
			inRange("quarantined", q.At)
			text("reason", q.Reason)
		}
		for _, s := range r.Settlements {
			text("payment id", s.PaymentID)
			src(s.Source)
		}
	})
}
