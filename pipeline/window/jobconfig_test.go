package window

// The job's defaults, its backoff between failed transactions and the
// quarantine entries it writes, tested without a broker.

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/kafka"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A job built with no options uses the documented defaults: transactions
// and group sessions of 10 s, 5,000 input records a transaction, 5 tries of
// a culprit, 20 blind failures in a row, backoff from 100 ms to 10 s.
func TestJobDefaultsAreTheDocumentedTimeoutsAndRetries(t *testing.T) {
	j := NewJob(kafka.Cluster{})
	if j.txnTimeout != 10*time.Second || j.session != 10*time.Second {
		t.Errorf("transaction timeout %s, session timeout %s; want 10s and 10s", j.txnTimeout, j.session)
	}
	if j.maxPoll != 5000 || j.maxAttempts != 5 || j.maxFailures != 20 {
		t.Errorf("max poll %d, attempts %d, failures %d; want 5000, 5 and 20", j.maxPoll, j.maxAttempts, j.maxFailures)
	}
	if j.backoffBase != 100*time.Millisecond || j.backoffCap != 10*time.Second {
		t.Errorf("backoff %s to %s; want 100ms to 10s", j.backoffBase, j.backoffCap)
	}
	if j.group != "commercesync-window" || !strings.HasPrefix(j.txnID, "commercesync-window-") || j.txnID == NewJob(kafka.Cluster{}).txnID {
		t.Errorf("group %q, transactional id %q; want the window's group and an id of its own per instance", j.group, j.txnID)
	}
	if j.version == "" {
		t.Error("a job's quarantine entries name no code version")
	}
}

// The backoff after k failed transactions in a row is the base doubled k-1
// times, never more than the cap, and a cap a doubling would overflow past
// is still the cap.
func TestJobBackoffDoublesFromItsBaseUpToItsCap(t *testing.T) {
	j := NewJob(kafka.Cluster{}, WithRetries(5, 20, 100*time.Millisecond, time.Second))
	// In order, stopping at the first wrong wait: a backoff that doubles
	// past its cap would overflow and never reach it.
	for _, tc := range []struct {
		failed int
		want   time.Duration
	}{
		{0, 100 * time.Millisecond}, {1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond}, {5, time.Second}, {6, time.Second}, {200, time.Second},
	} {
		if got := j.backoff(tc.failed); got != tc.want {
			t.Fatalf("backoff after %d failures: %s, want %s", tc.failed, got, tc.want)
		}
	}
	const huge = time.Duration(1) << 62 // a second doubling overflows
	j = NewJob(kafka.Cluster{}, WithRetries(5, 20, huge, huge))
	for _, failed := range []int{1, 2, 3, 100} {
		if got := j.backoff(failed); got != huge {
			t.Fatalf("backoff after %d failures with base and cap %d: %d, want the cap", failed, huge, got)
		}
	}
}

func jbEntry(t *testing.T, j *Job, value []byte, ev *v1.CommerceEvent) *v1.QuarantineEntry {
	t.Helper()
	r := j.recordEntry(&kgo.Record{Topic: "commerce.events", Partition: 3, Offset: 42, Value: value}, ev, "why", 2)
	var e v1.QuarantineEntry
	if err := proto.Unmarshal(r.Value, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// A quarantined record of exactly MaxQuarantinedBytes is kept whole and not
// marked truncated; one byte more is cut to MaxQuarantinedBytes and marked.
func TestQuarantinedRecordIsCutOnlyPastItsLimit(t *testing.T) {
	j := NewJob(kafka.Cluster{}, WithLogger(slog.New(slog.DiscardHandler)), WithCodeVersion("v-test"),
		WithClock(func() time.Time { return time.UnixMilli(1_700_000_000_123) }))
	at := bytes.Repeat([]byte{7}, MaxQuarantinedBytes)
	e := jbEntry(t, j, at, nil)
	if e.GetRecordTruncated() || !bytes.Equal(e.GetRecord(), at) {
		t.Errorf("a record of exactly %d bytes: truncated %v, %d bytes kept; want it whole", MaxQuarantinedBytes, e.GetRecordTruncated(), len(e.GetRecord()))
	}
	past := append(bytes.Repeat([]byte{7}, MaxQuarantinedBytes), 8)
	e = jbEntry(t, j, past, nil)
	if !e.GetRecordTruncated() || !bytes.Equal(e.GetRecord(), at) {
		t.Errorf("a record of %d bytes: truncated %v, %d bytes kept; want the first %d, marked", len(past), e.GetRecordTruncated(), len(e.GetRecord()), MaxQuarantinedBytes)
	}
	if e.GetCodeVersion() != "v-test" || e.GetQuarantinedUnixMs() != 1_700_000_000_123 || e.GetAttempts() != 2 ||
		e.GetTopic() != "commerce.events" || e.GetPartition() != 3 || e.GetOffset() != 42 || e.GetKind() != "record" || e.GetStage() != "window" {
		t.Errorf("entry %v: want code version v-test, dated by the clock, 2 attempts, at commerce.events/3@42", e)
	}
}

// A quarantine entry names what it holds: a record by its kind, type and
// id, a piece of reference data by its kind and id, and an event that is
// neither (settings, a close) by nothing.
func TestQuarantineEntryNamesItsRecordOrReference(t *testing.T) {
	j := NewJob(kafka.Cluster{}, WithLogger(slog.New(slog.DiscardHandler)))
	product := &v1.CommerceEvent{CompanyId: "co", TenantId: "tn", Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
		Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: "p-1",
		Body: &v1.ReferenceEvent_Product{Product: &v1.Product{Id: "p-1"}},
	}}}
	order := recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "o-1"})
	closing := closeEvent("co", 1)
	closing.TenantId = "tn"
	for _, tc := range []struct {
		what string
		ev   *v1.CommerceEvent
		want string
	}{
		{"a product", product, "REFERENCE_KIND_PRODUCT|p-1"},
		{"an order", order, "RECORD_KIND_ORDER||o-1"},
		{"settings", settingsEvent("co", "tn", &v1.WindowSettings{TimeZone: "UTC"}), ""},
		{"a close", closing, ""},
	} {
		e := jbEntry(t, j, []byte("x"), tc.ev)
		if e.GetRecordId() != tc.want || e.GetCompanyId() != "co" || e.GetTenantId() != "tn" {
			t.Errorf("%s quarantined as record %q of company %q tenant %q; want record %q of co, tn", tc.what, e.GetRecordId(), e.GetCompanyId(), e.GetTenantId(), tc.want)
		}
	}
}
