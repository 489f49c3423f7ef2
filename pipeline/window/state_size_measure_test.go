package window

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestRecordStateLimitMeasuresTheChangelogEntryAsWritten pins what
// MaxRecordStateBytes bounds: the record's changelog entry, key and value,
// byte for byte as the window writes it. The largest payout accepted
// writes an entry of exactly the limit.
func TestRecordStateLimitMeasuresTheChangelogEntryAsWritten(t *testing.T) {
	const n = 2700
	_, err := agPayoutSettling(t, n, 0)
	m := agStateSizeRe.FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("a payout settling %d ids of 200 bytes: error %v, want its state size refused", n, err)
	}
	size, _ := strconv.Atoi(m[1])
	e, err := agPayoutSettling(t, n, size-MaxRecordStateBytes)
	if err != nil {
		t.Fatalf("the payout cut to the limit was refused: %v", err)
	}
	largest := 0
	for _, ch := range e.r.log.entries {
		if bytes.Contains(ch.Key, []byte("po-1")) {
			largest = max(largest, len(ch.Key)+len(ch.Value))
		}
	}
	if largest != MaxRecordStateBytes {
		t.Errorf("the payout's changelog entry takes %d bytes, key and value; the limit it was held to is %d", largest, MaxRecordStateBytes)
	}
}

// TestServiceChargeTaxesCountTowardsMeasuringARecordsState pins that a
// record made large by its service charges' tax parts alone is measured,
// and refused, like one made large by its lines: an order of 100 charges
// with 50 tax parts each fits the topic's record limit, but not the state
// limit.
func TestServiceChargeTaxesCountTowardsMeasuringARecordsState(t *testing.T) {
	o := &v1.Order{Id: "o-big", Currency: "GBP", TotalAmount: "0", TotalTaxAmount: "0", TotalGratuity: "0"}
	for i := range MaxServiceCharges {
		sc := &v1.ServiceCharge{Description: "charge", Quantity: "1", Type: "Generic", TotalAmount: "0", TaxAmount: "0"}
		for j := range MaxTaxesPerLine {
			sc.Taxes = append(sc.Taxes, &v1.TaxLine{
				TaxComponentRef: &v1.Ref{Id: pad(fmt.Sprintf("component-%03d-%02d-", i, j), 100)},
				TaxAmount:       "0.01",
			})
		}
		o.ServiceCharges = append(o.ServiceCharges, sc)
	}
	ev := recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: o.Id, EventUnixMs: local(t, ldnZone, "2026-06-10 12:00:00").UnixMilli(),
		SourceModifiedUnixMs: 1, ContentHash: []byte("big"), Body: &v1.RecordEvent_Order{Order: o},
	})
	if size := proto.Size(ev); size > kafka.MaxRecordBytes {
		t.Fatalf("the order takes %d bytes, past the topic's %d: the test means one that arrives", size, kafka.MaxRecordBytes)
	}
	e := newEx(t, ldnZone, 0, 0)
	err := e.r.a.Apply(0, ev)
	if err == nil || !strings.Contains(err.Error(), "its state would take") {
		t.Fatalf("an order whose charges' tax parts take its state past %d bytes: error %v, want its state size refused", MaxRecordStateBytes, err)
	}
}
