package window

// The lean decoder against proto.Unmarshal: it accepts and refuses the same
// values, with the same errors, and builds of a record exactly the fields
// leanEvent lists; and Apply does the same with what it builds as with the
// whole record.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// leanEvent is what the window reads of an event: for a record, the fields
// listed here; any other body whole. decodeLean builds exactly this.
func leanEvent(full *v1.CommerceEvent) *v1.CommerceEvent {
	out := &v1.CommerceEvent{CompanyId: full.GetCompanyId(), TenantId: full.GetTenantId(), ReceivedUnixMs: full.GetReceivedUnixMs()}
	re := full.GetRecord()
	if re == nil {
		if full.Body != nil {
			c := proto.Clone(full).(*v1.CommerceEvent)
			out.Body = c.Body
		}
		return out
	}
	ref := func(r *v1.Ref) *v1.Ref {
		if r == nil {
			return nil
		}
		return &v1.Ref{Id: r.GetId()}
	}
	taxes := func(ts []*v1.TaxLine) []*v1.TaxLine {
		var out []*v1.TaxLine
		for _, t := range ts {
			out = append(out, &v1.TaxLine{TaxComponentRef: ref(t.GetTaxComponentRef()), TaxAmount: t.GetTaxAmount()})
		}
		return out
	}
	r := &v1.RecordEvent{Kind: re.GetKind(), Id: re.GetId(), TransactionType: re.GetTransactionType(), Deleted: re.GetDeleted(),
		EventUnixMs: re.GetEventUnixMs(), SourceModifiedUnixMs: re.GetSourceModifiedUnixMs(), ContentHash: re.GetContentHash()}
	switch b := re.Body.(type) {
	case *v1.RecordEvent_Order:
		o := b.Order
		n := &v1.Order{Currency: o.GetCurrency(), TotalAmount: o.GetTotalAmount(), TotalTaxAmount: o.GetTotalTaxAmount(),
			TotalGratuity: o.GetTotalGratuity(), LocationRef: ref(o.GetLocationRef())}
		for _, l := range o.GetOrderLineItems() {
			nl := &v1.OrderLineItem{TaxPercentage: l.GetTaxPercentage(), TotalAmount: l.GetTotalAmount(), TotalTaxAmount: l.GetTotalTaxAmount(),
				Taxes: taxes(l.GetTaxes()), ProductRef: ref(l.GetProductRef())}
			for _, d := range l.GetDiscountAllocations() {
				nl.DiscountAllocations = append(nl.DiscountAllocations, &v1.DiscountAllocation{TotalAmount: d.GetTotalAmount()})
			}
			n.OrderLineItems = append(n.OrderLineItems, nl)
		}
		for _, c := range o.GetServiceCharges() {
			n.ServiceCharges = append(n.ServiceCharges, &v1.ServiceCharge{TotalAmount: c.GetTotalAmount(), TaxPercentage: c.GetTaxPercentage(),
				TaxAmount: c.GetTaxAmount(), Taxes: taxes(c.GetTaxes()), Type: c.GetType()})
		}
		r.Body = &v1.RecordEvent_Order{Order: n}
	case *v1.RecordEvent_Payment:
		p := b.Payment
		r.Body = &v1.RecordEvent_Payment{Payment: &v1.Payment{Amount: p.GetAmount(), Currency: p.GetCurrency(), Type: p.GetType(), Status: p.GetStatus()}}
	case *v1.RecordEvent_Transaction:
		t := b.Transaction
		n := &v1.Transaction{Id: t.GetId(), TotalAmount: t.GetTotalAmount(), Currency: t.GetCurrency(), Type: t.GetType(),
			SettledTransactionIds: t.GetSettledTransactionIds()}
		if s := t.GetTransactionSourceRef(); s != nil {
			n.TransactionSourceRef = &v1.TransactionSourceRef{Id: s.GetId(), Type: s.GetType()}
		}
		r.Body = &v1.RecordEvent_Transaction{Transaction: n}
	}
	out.Body = &v1.CommerceEvent_Record{Record: r}
	return out
}

// hotPathDecodeAgrees fails unless d and proto.Unmarshal agree on b: both
// refuse it with the same error, or both take it and d builds leanEvent of
// what proto.Unmarshal builds. It also holds the lean reader on its own to
// never take what proto.Unmarshal refuses. d has decoded other values
// before: nothing of them may show in this one.
func hotPathDecodeAgrees(t interface {
	Helper()
	Fatalf(string, ...any)
}, d *eventDecoder, b []byte) {
	t.Helper()
	var full v1.CommerceEvent
	werr := proto.Unmarshal(b, &full)
	var lean eventDecoder
	if lerr := lean.lean(b); lerr == nil && werr != nil {
		t.Fatalf("the lean reader took a value proto.Unmarshal refuses (%v): %x", werr, b)
	}
	got, gerr := d.decode(b)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("decode: %v; proto.Unmarshal: %v (value %x)", gerr, werr, b)
	}
	if werr != nil {
		return
	}
	if want := leanEvent(&full); !proto.Equal(got, want) && !proto.Equal(got, &full) {
		t.Fatalf("decode built\n%v\nwant\n%v", got, want)
	}
}

// hotPathDecorate fills every field of a record the window does not read,
// as platforms send them: dates, names, numbers, variants, the payments an
// order lists, supplemental data.
func hotPathDecorate(ev *v1.CommerceEvent, i int) *v1.CommerceEvent {
	ev = proto.Clone(ev).(*v1.CommerceEvent)
	date := fmt.Sprintf("2026-06-%02dT10:00:00.000Z", 1+i%28)
	sup := &v1.SupplementalData{Content: &structpb.Struct{Fields: map[string]*structpb.Value{
		"note": structpb.NewStringValue("sold at the café"), "n": structpb.NewNumberValue(float64(i)),
		"tags": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewBoolValue(true)}}),
	}}}
	switch b := ev.GetRecord().GetBody().(type) {
	case *v1.RecordEvent_Order:
		o := b.Order
		o.Id, o.OrderNumber, o.Country = ev.GetRecord().GetId(), fmt.Sprintf("#%06d", i), "GB"
		o.CreatedDate, o.ClosedDate, o.ModifiedDate, o.SourceModifiedDate = date, date, date, date
		o.TotalRefund, o.TotalDiscount = "0.00", "0.00"
		o.Payments = []*v1.PaymentRef{{Id: "pay", Amount: o.GetTotalAmount(), Currency: o.GetCurrency(), Type: "Card", CreatedDate: date}}
		o.CustomerRef = &v1.Ref{Id: "cust", Name: "Ada"}
		o.SupplementalData = sup
		if o.LocationRef != nil {
			o.LocationRef.Name = "High Street"
		}
		for j, l := range o.GetOrderLineItems() {
			l.Id, l.Quantity, l.UnitPrice = fmt.Sprintf("line-%d", j), "1", l.GetTotalAmount()
			l.ProductVariantRef = &v1.Ref{Id: "var", Name: "regular"}
			if l.ProductRef != nil {
				l.ProductRef.Name = "Flat white"
			}
			for _, t := range l.GetTaxes() {
				t.Rate = "0.20"
				if t.TaxComponentRef != nil {
					t.TaxComponentRef.Name = "VAT"
				}
			}
			for _, d := range l.GetDiscountAllocations() {
				d.Name = "happy hour"
			}
		}
		for _, c := range o.GetServiceCharges() {
			c.Description, c.Quantity = "service", "1"
		}
	case *v1.RecordEvent_Payment:
		p := b.Payment
		p.Id, p.PaymentProvider = ev.GetRecord().GetId(), "Stripe"
		p.PaymentMethodRef = &v1.Ref{Id: "visa", Name: "Visa"}
		p.DueDate, p.CreatedDate, p.ModifiedDate, p.SourceModifiedDate = date, date, date, date
		p.SupplementalData = sup
	case *v1.RecordEvent_Transaction:
		t := b.Transaction
		t.SubType = "Processing"
		t.CreatedDate, t.SourceCreatedDate, t.ModifiedDate, t.SourceModifiedDate = date, date, date, date
		t.SupplementalData = sup
	}
	return ev
}

// Whole streams, every record decorated with the fields the window does not
// read, each value decoded both ways.
func TestHotPathDecodeIsProtoUnmarshalProjected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		var d eventDecoder
		for i, ev := range s.closed(s.events) {
			b, err := proto.Marshal(hotPathDecorate(ev, i))
			if err != nil {
				t.Fatal(err)
			}
			hotPathDecodeAgrees(t, &d, b)
		}
	})
}

// Values proto.Unmarshal treats in ways the lean reader leaves to it, or
// refuses: each is decided as proto.Unmarshal decides it.
func TestHotPathDecodeEdgeCases(t *testing.T) {
	order := hotPathDecorate(hotPathOrder("co", "o-1", local(t, ldnZone, "2026-06-10 12:00:00"), 2, "Flat white"), 1)
	good, err := proto.Marshal(order)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := proto.Marshal(order.GetRecord())
	body, _ := proto.Marshal(order.GetRecord().GetOrder())
	line, _ := proto.Marshal(order.GetRecord().GetOrder().GetOrderLineItems()[0])
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendBytes(tag(b, num, protowire.BytesType), []byte(s))
	}
	nest := func(b []byte, num protowire.Number, m []byte) []byte {
		return protowire.AppendBytes(tag(b, num, protowire.BytesType), m)
	}
	event := func(r []byte) []byte { return nest(str(nil, 1, "co"), 10, r) }
	record := func(o []byte) []byte { return nest(str(nil, 2, "o-1"), 10, o) }
	deep := []byte{}
	for range 200 { // a Struct nested past maxLeanDepth in an order's supplemental data
		deep = nest(nil, 1, nest(str(nil, 1, "k"), 2, nest(nil, 5, deep)))
	}
	cases := map[string][]byte{
		"as marshalled":                     good,
		"an unknown field":                  append(bytes.Clone(good), str(nil, 99, "later")...),
		"an unknown group":                  append(tag(bytes.Clone(good), 98, protowire.StartGroupType), tag(nil, 98, protowire.EndGroupType)...),
		"an unknown field numbered 19500":   append(bytes.Clone(good), str(nil, 19500, "reserved")...),
		"a stray end of group":              append(bytes.Clone(good), tag(nil, 5, protowire.EndGroupType)...),
		"field number 0":                    append(bytes.Clone(good), 0, 0),
		"truncated":                         good[:len(good)-3],
		"an order number not UTF-8":         event(record(str(bytes.Clone(body), 2, "\xff\xfe"))),
		"a currency not UTF-8":              event(record(str(bytes.Clone(body), 4, "G\xffP"))),
		"a variant name not UTF-8":          event(record(nest(bytes.Clone(body), 14, nest(bytes.Clone(line), 9, str(nil, 2, "\xc3"))))),
		"a skipped message malformed":       event(record(nest(bytes.Clone(body), 18, []byte{0x0a, 0x05, 'x'}))),
		"an order twice (merged)":           event(record(nest(nest(nil, 10, body), 10, str(nil, 4, "USD")))),
		"a location twice (merged)":         event(record(nest(nest(bytes.Clone(body), 17, str(nil, 1, "a")), 17, str(nil, 2, "name")))),
		"a record and then a tick":          nest(event(rec), 12, protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 5)),
		"a string field sent as a varint":   event(record(protowire.AppendVarint(tag(bytes.Clone(body), 4, protowire.VarintType), 7))),
		"a skipped string sent as a varint": event(record(protowire.AppendVarint(tag(bytes.Clone(body), 2, protowire.VarintType), 7))),
		"a kind past int32":                 event(protowire.AppendVarint(tag(bytes.Clone(rec), 1, protowire.VarintType), 1<<40|1)),
		"deleted as 2":                      event(protowire.AppendVarint(tag(bytes.Clone(rec), 4, protowire.VarintType), 2)),
		"an empty content hash last":        event(nest(bytes.Clone(rec), 7, nil)),
		"supplemental data nested deep":     event(record(nest(bytes.Clone(body), 19, nest(nil, 1, deep)))),
		"empty":                             nil,
	}
	// Refs with names and no ids, sent after a record whose refs had ids:
	// nothing of the record before may stay in the reused messages.
	sparse := hotPathDecorate(hotPathOrder("co", "o-2", local(t, ldnZone, "2026-06-10 12:00:00"), 2, "Flat white"), 2)
	so := sparse.GetRecord().GetOrder()
	so.LocationRef = &v1.Ref{Name: "High Street"}
	for _, l := range so.GetOrderLineItems() {
		l.ProductRef = &v1.Ref{Name: "Flat white"}
		l.Taxes = []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Name: "VAT"}, Rate: "0.20"}}
	}
	if cases["refs with names only"], err = proto.Marshal(sparse); err != nil {
		t.Fatal(err)
	}
	fee := hotPathDecorate(hotPathFee("co", "f-1", "p-1", local(t, ldnZone, "2026-06-10 12:00:00")), 3)
	if cases["a fee, after an order"], err = proto.Marshal(fee); err != nil {
		t.Fatal(err)
	}
	fee.GetRecord().GetTransaction().TransactionSourceRef = &v1.TransactionSourceRef{}
	if cases["a fee with an empty source, after an order"], err = proto.Marshal(fee); err != nil {
		t.Fatal(err)
	}
	var d eventDecoder
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			hotPathDecodeAgrees(t, &d, good)
			hotPathDecodeAgrees(t, &d, b)
		})
	}
	// Most of them leave the lean reader for proto; the common ones do not.
	for _, name := range []string{"as marshalled", "an unknown field", "an unknown group", "a kind past int32", "deleted as 2"} {
		var d eventDecoder
		if err := d.lean(cases[name]); err != nil {
			t.Errorf("%s: the lean reader left it to proto: %v", name, err)
		}
	}
	if _, err := d.decode(cases["a currency not UTF-8"]); !strings.Contains(fmt.Sprint(err), "UTF-8") {
		t.Errorf("a currency not UTF-8 was refused with %v, not as proto refuses it", err)
	}
}

// Apply does the same with what the decoder builds of a decorated record,
// one record after another in the decoder's reused messages, as with the
// record whole: the window reads nothing the lean reader leaves out and
// keeps nothing of the messages it is given.
func TestHotPathLeanEventsApplyAlike(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		whole, wire := make([]*v1.CommerceEvent, len(evs)), make([][]byte, len(evs))
		for i, ev := range evs {
			whole[i] = hotPathDecorate(ev, i)
			b, err := proto.Marshal(whole[i])
			if err != nil {
				t.Fatal(err)
			}
			wire[i] = b
		}
		sizes := genBatchSizes(t, "batches")
		a, b := newRun(t, s.partitions()), newRun(t, s.partitions())
		a.feed(t, whole, sizes)
		var d eventDecoder
		for i, n := 0, 0; i < len(wire); n++ {
			j := min(i+sizes[n%len(sizes)], len(wire))
			for ; i < j; i++ {
				ev, err := d.decode(wire[i])
				if err != nil {
					t.Fatal(err)
				}
				if err := b.a.Apply(b.part[ev.GetCompanyId()], ev); err != nil {
					t.Fatalf("Apply event %d: %v", i, err)
				}
			}
			b.commit(t)
		}
		b.commit(t)
		sameSummaries(t, "lean vs whole records", a.summaries, b.summaries)
		if d := diffStates(a.log.state(), b.log.state()); d != "" {
			t.Fatalf("changelogs differ:\n%s", d)
		}
		if d := firstDiff(dumpState(a.a), dumpState(b.a)); d != "" {
			t.Fatalf("states differ: %s", d)
		}
	})
}

// Any value: decodeEvent decides as proto.Unmarshal does.
func FuzzHotPathDecodeEvent(f *testing.F) {
	at := int64(1781092800000)
	for i, ev := range []*v1.CommerceEvent{
		hotPathOrder("co", "o-1", time.UnixMilli(at), 3, "Flat white"),
		hotPathPayment("co", "p-1", time.UnixMilli(at), "3.60"),
		hotPathFee("co", "f-1", "p-1", time.UnixMilli(at)),
		settingsEvent("co", "tn", &v1.WindowSettings{TimeZone: ldnZone}),
		closeEvent("co", at),
	} {
		b, err := proto.Marshal(hotPathDecorate(ev, i))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dirty, err := proto.Marshal(hotPathDecorate(hotPathOrder("co", "o-0", time.UnixMilli(at), 4, "Latte"), 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d eventDecoder
		if _, err := d.decode(dirty); err != nil {
			t.Fatal(err)
		}
		hotPathDecodeAgrees(t, &d, b)
	})
}

// Short texts that recur (a currency, a tax component, a location) are read
// once and shared by the records after; products are not shared, and once
// maxCodes texts are kept a new one is read as any string is.
func TestHotPathDecoderSharesRecurringCodes(t *testing.T) {
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	var d eventDecoder
	read := func(ev *v1.CommerceEvent) *v1.Order {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return proto.Clone(got).(*v1.CommerceEvent).GetRecord().GetOrder() // clones share the strings
	}
	first, second := read(hotPathOrder("co", "o-1", at, 1, "Latte")), read(hotPathOrder("co", "o-2", at, 1, "Latte"))
	same := func(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }
	if !same(first.GetCurrency(), second.GetCurrency()) || !same(first.GetLocationRef().GetId(), second.GetLocationRef().GetId()) ||
		!same(first.GetOrderLineItems()[0].GetTaxes()[0].GetTaxComponentRef().GetId(), second.GetOrderLineItems()[0].GetTaxes()[0].GetTaxComponentRef().GetId()) {
		t.Error("a currency, location or tax component read twice is not shared")
	}
	if p, q := first.GetOrderLineItems()[0].GetProductRef().GetId(), second.GetOrderLineItems()[0].GetProductRef().GetId(); p != q || unsafe.StringData(p) == unsafe.StringData(q) {
		t.Errorf("product ids %q and %q: want equal and not shared", p, q)
	}
	for i := range maxCodes + 10 {
		o := hotPathOrder("co", fmt.Sprintf("o-%d", i), at, 1, "Latte")
		o.GetRecord().GetOrder().Currency = fmt.Sprintf("C%04d", i)
		if got := read(o).GetCurrency(); got != fmt.Sprintf("C%04d", i) {
			t.Fatalf("currency %d read as %q", i, got)
		}
	}
	if len(d.codes) != maxCodes {
		t.Errorf("the decoder keeps %d codes; the bound is %d", len(d.codes), maxCodes)
	}
}
