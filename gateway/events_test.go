package gateway

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The events ingest writes are byte for byte what proto.Marshal writes for
// the same CommerceEvent, for every kind of body and any field values,
// defaults and negatives included.
func TestRESTFastEventEncodingMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 10))
	texts := []string{"", "c", "company-1", "ten\u00e9ant", string(make([]byte, 300))}
	ints := []int64{0, 1, -1, 1_773_331_200_000, -62_135_596_800_000, 1 << 62}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	for range 500 {
		st := stamp{company: pick(texts), tenant: pick(texts), receivedUnixMs: ints[r.IntN(len(ints))]}
		order := &v1.Order{Id: pick(texts), TotalAmount: "1.5", OrderLineItems: []*v1.OrderLineItem{{Id: "l"}}}
		hash := make([]byte, r.IntN(2)*32)
		rec := &v1.RecordEvent{Kind: v1.RecordKind(r.IntN(4)), Id: pick(texts), TransactionType: pick(texts), Deleted: r.IntN(2) == 0,
			EventUnixMs: ints[r.IntN(len(ints))], SourceModifiedUnixMs: ints[r.IntN(len(ints))], ContentHash: hash}
		var bodyNum protowire.Number
		var body []byte
		if r.IntN(3) > 0 {
			enc, err := records.Encode(nil, order)
			if err != nil {
				t.Fatal(err)
			}
			bodyNum, body = recordOrder, enc.Bytes
			rec.Body = &v1.RecordEvent_Order{Order: order}
		}
		got := st.eventValue(eventRecord, appendRecordHead(nil, rec), bodyNum, body)
		want, err := proto.Marshal(&v1.CommerceEvent{CompanyId: st.company, TenantId: st.tenant, ReceivedUnixMs: st.receivedUnixMs,
			Body: &v1.CommerceEvent_Record{Record: rec}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("record event\n%x\nproto.Marshal\n%x", got, want)
		}

		loc := &v1.Location{Id: pick(texts), Name: "Shop"}
		ref := &v1.ReferenceEvent{Kind: v1.ReferenceKind(r.IntN(6)), Id: pick(texts), Deleted: r.IntN(2) == 0,
			ValidFromUnixMs: ints[r.IntN(len(ints))], ContentHash: hash}
		bodyNum, body = 0, nil
		if r.IntN(3) > 0 {
			enc, err := records.Encode(nil, loc)
			if err != nil {
				t.Fatal(err)
			}
			bodyNum, body = referenceLocation, enc.Bytes
			ref.Body = &v1.ReferenceEvent_Location{Location: loc}
		}
		got = st.eventValue(eventReference, appendReferenceHead(nil, ref), bodyNum, body)
		want, err = proto.Marshal(&v1.CommerceEvent{CompanyId: st.company, TenantId: st.tenant, ReceivedUnixMs: st.receivedUnixMs,
			Body: &v1.CommerceEvent_Reference{Reference: ref}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reference event\n%x\nproto.Marshal\n%x", got, want)
		}
	}
}

// The body field numbers are the ones events.proto gives each record type.
func TestRESTFastBodyFieldNumbers(t *testing.T) {
	rec := (&v1.RecordEvent{}).ProtoReflect().Descriptor().Fields()
	ref := (&v1.ReferenceEvent{}).ProtoReflect().Descriptor().Fields()
	ev := (&v1.CommerceEvent{}).ProtoReflect().Descriptor().Fields()
	for name, want := range map[string]protowire.Number{"order": recordOrder, "payment": recordPayment, "transaction": recordTransaction} {
		if got := rec.ByName(protoreflect.Name(name)).Number(); got != want {
			t.Errorf("RecordEvent.%s is %d, written as %d", name, got, want)
		}
	}
	for name, want := range map[string]protowire.Number{"location": referenceLocation, "product": referenceProduct,
		"product_category": referenceProductCategory, "tax_component": referenceTaxComponent, "payment_method": referencePaymentMethod} {
		if got := ref.ByName(protoreflect.Name(name)).Number(); got != want {
			t.Errorf("ReferenceEvent.%s is %d, written as %d", name, got, want)
		}
	}
	if ev.ByName("record").Number() != eventRecord || ev.ByName("reference").Number() != eventReference {
		t.Error("CommerceEvent's record or reference field moved")
	}
}

// Each zone is loaded once and shared; a name that does not load is an
// error every time and is not kept.
func TestRESTFastZonesLoadOnce(t *testing.T) {
	var z zoneCache
	a, err := z.load("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	b, err := z.load("Europe/London")
	if err != nil || a != b {
		t.Fatalf("second load: %p %v; first %p", b, err, a)
	}
	if _, err := z.load("Mars/Olympus"); err == nil {
		t.Fatal("a zone that does not exist loaded")
	}
	if _, kept := z.zones.Load("Mars/Olympus"); kept {
		t.Error("a failed zone was kept")
	}
	ny, _ := z.load("America/New_York")
	if at := time.Date(2026, 7, 1, 12, 0, 0, 0, ny); at.UTC().Hour() != 16 {
		t.Errorf("New York noon in July is %v UTC", at.UTC())
	}
}
