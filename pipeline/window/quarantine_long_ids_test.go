package window

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestQuarantineEntryKeepsAnOverlongIdUpToItsLimit pins how much of an
// overlong id a quarantine entry names: a record or reference refused for
// its id still names it in MaxIDBytes+64 bytes, kind included, enough to
// find it by: its start, and a mark saying it was cut.
func TestQuarantineEntryKeepsAnOverlongIdUpToItsLimit(t *testing.T) {
	j := NewJob(kafka.Cluster{}, WithLogger(slog.New(slog.DiscardHandler)))
	long := strings.Repeat("x", 2*MaxIDBytes)
	product := &v1.CommerceEvent{CompanyId: "co", TenantId: "tn", Body: &v1.CommerceEvent_Reference{Reference: &v1.ReferenceEvent{
		Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: long,
		Body: &v1.ReferenceEvent_Product{Product: &v1.Product{Id: long}},
	}}}
	order := recordEvent("co", "tn", &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: long})
	for _, tc := range []struct {
		what, prefix string
		ev           *v1.CommerceEvent
	}{
		{"a product", "REFERENCE_KIND_PRODUCT|", product},
		{"an order", "RECORD_KIND_ORDER||", order},
	} {
		id := jbEntry(t, j, []byte("x"), tc.ev).GetRecordId()
		const cut = "…"
		if want := (tc.prefix + long)[:MaxIDBytes+64-len(cut)] + cut; id != want {
			t.Errorf("%s with an id of %d bytes is named %q (%d bytes); want its start and %q in %d bytes", tc.what, len(long), id, len(id), cut, MaxIDBytes+64)
		}
	}
}
