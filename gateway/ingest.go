package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// futureHorizon bounds how far ahead of the gateway's clock a record may be
// dated; beyond it the record is refused with its reason, never dropped.
const futureHorizon = 7 * 24 * time.Hour

// pending is one record of a push on its way to Kafka.
type pending struct {
	index int
	id    string
	msg   proto.Message
	del   bool
	errs  []*v1.FieldError
	// wire is msg's encoding as records.Encode writes it, when the record
	// arrived in it (records.Item.Wire); nil otherwise.
	wire []byte
}

func fieldErr(field, format string, args ...any) *v1.FieldError {
	return &v1.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ingest turns decoded, validated records into events on commerce.events,
// keyed by company so that one window writer owns the company. Each record
// is answered on its own.
func (s *Server) ingest(ctx context.Context, c *v1.Company, kind v1.RecordKind, items []pending) (*v1.PushResponse, error) {
	b, err := s.prepare(c, kind, items)
	if err != nil {
		return nil, err
	}
	s.produce(ctx, c, b.resp, b.out, b.outIdx)
	b.recycle()
	return b.resp, nil
}

// prepare is ingest up to producing: the answers of the records refused,
// and the events of the others, to produce.
func (s *Server) prepare(c *v1.Company, kind v1.RecordKind, items []pending) (*batch, error) {
	if len(items) > s.limits.BatchRecords {
		return nil, fmt.Errorf("%d records sent; a push takes at most %d", len(items), s.limits.BatchRecords)
	}
	loc, hasZone := s.zoneOf(c)
	now := s.now()
	b := s.newBatch(c, now, len(items))
	for i, it := range items {
		res := b.result(i, it)
		ev := &v1.RecordEvent{Kind: kind, Id: it.id, Deleted: it.del}
		var bodyNum protowire.Number
		if len(it.errs) == 0 && !it.del {
			bodyNum, it.errs = s.describe(ev, it.msg, loc, hasZone, now)
		}
		if len(it.errs) > 0 {
			res.Status, res.Errors = "Rejected", it.errs
			continue
		}
		var body []byte
		if bodyNum != 0 && it.wire != nil {
			enc := records.EncodedAs(it.wire)
			body, ev.ContentHash = enc.Bytes, enc.Hash
		} else if bodyNum != 0 {
			// The record is encoded once: the hash is of the bytes written.
			enc, err := records.Encode(b.scratch[:0], it.msg)
			if err != nil {
				return nil, fmt.Errorf("encode record %d: %w", it.index, err)
			}
			b.scratch, body, ev.ContentHash = enc.Bytes[:0], enc.Bytes, enc.Hash
		}
		b.head = appendRecordHead(b.head[:0], ev)
		b.add(s, i, it, b.eventValue(eventRecord, bodyNum, body))
	}
	return b, nil
}

// batch is what ingest builds for one push: the answers, and the records
// to produce with the index of the answer each settles.
type batch struct {
	resp    *v1.PushResponse
	results []v1.RecordResult // the answers' storage, one allocation
	out     []*kgo.Record
	outIdx  []int
	stamp   stamp
	key     []byte // the company id: every record of a push shares it
	scratch []byte // a record's encoding until it is copied into its event
	head    []byte // an event's fields but its body
	// values is where the events' encodings are written, one after
	// another: a push's events take a few allocations rather than one
	// each. What is written is never written over; a full chunk is left
	// to the events in it.
	values  []byte
	records []kgo.Record // the produced records' storage
	// pool is the server's store of chunks for values, and chunks the ones
	// this batch took from it, given back by recycle.
	pool   *sync.Pool
	chunks []*[]byte
}

// valueChunk is the least that values grows by: some tens of events.
const valueChunk = 64 << 10

// eventValue is stamp.eventValue, with head as b.head, written in values.
func (b *batch) eventValue(num, bodyNum protowire.Number, body []byte) []byte {
	n := b.stamp.eventSize(num, b.head, bodyNum, body)
	if cap(b.values)-len(b.values) < n {
		b.values = b.chunk(n)
	}
	at := len(b.values)
	b.values = b.stamp.appendEventValue(b.values, num, b.head, bodyNum, body)
	return b.values[at:len(b.values):len(b.values)]
}

// chunk is room for at least n bytes of events: a chunk from the pool,
// whose bytes need no zeroing, or, for an event larger than a chunk, its
// own.
func (b *batch) chunk(n int) []byte {
	if n > valueChunk {
		return make([]byte, 0, n)
	}
	c, _ := b.pool.Get().(*[]byte)
	if c == nil {
		c = new([]byte)
		*c = make([]byte, 0, valueChunk)
	}
	b.chunks = append(b.chunks, c)
	return (*c)[:0]
}

// recycle gives the batch's chunks back to the pool. It is called once the
// produce of its records has returned: franz-go has then finished with
// every record, and nothing else reads the events.
func (b *batch) recycle() {
	for _, c := range b.chunks {
		b.pool.Put(c)
	}
	b.chunks, b.values = nil, nil
}

func (s *Server) newBatch(c *v1.Company, now time.Time, n int) *batch {
	return &batch{
		pool:    &s.values,
		resp:    &v1.PushResponse{Results: make([]*v1.RecordResult, n)},
		results: make([]v1.RecordResult, n),
		out:     make([]*kgo.Record, 0, n),
		outIdx:  make([]int, 0, n),
		stamp:   stamp{company: c.GetId(), tenant: c.GetTenantId(), receivedUnixMs: now.UnixMilli()},
		key:     []byte(c.GetId()),
	}
}

func (b *batch) result(i int, it pending) *v1.RecordResult {
	res := &b.results[i]
	res.Index, res.Id = int32(it.index), it.id
	b.resp.Results[i] = res
	return res
}

// add queues an event for commerce.events, unless the record is over its
// size limit as written.
func (b *batch) add(s *Server, i int, it pending, value []byte) {
	if e := s.limits.TooLarge(it.msg, len(b.key)+len(value)); e != nil {
		b.resp.Results[i].Status, b.resp.Results[i].Errors = "Rejected", []*v1.FieldError{e}
		return
	}
	if len(b.records) == 0 {
		b.records = make([]kgo.Record, max(1, cap(b.out)-len(b.out)))
	}
	r := &b.records[0]
	b.records = b.records[1:]
	r.Topic, r.Key, r.Value = s.topics.Events, b.key, value
	b.out = append(b.out, r)
	b.outIdx = append(b.outIdx, i)
}

// produce writes the accepted records and settles every record's answer:
// one the broker did not take is rejected, to be sent again.
func (s *Server) produce(ctx context.Context, c *v1.Company, resp *v1.PushResponse, out []*kgo.Record, outIdx []int) {
	s.settle(c, resp, outIdx, s.prod.ProduceSync(ctx, out...))
}

// settle answers a push's records from the broker's results of its
// produced ones, which outIdx places.
func (s *Server) settle(c *v1.Company, resp *v1.PushResponse, outIdx []int, results kgo.ProduceResults) {
	for j, r := range results {
		res := resp.Results[outIdx[j]]
		if r.Err != nil {
			s.log.Warn("record not stored", "company", c.GetId(), "err", r.Err)
			res.Status, res.Errors = "Rejected", []*v1.FieldError{fieldErr("", "the record could not be stored (%v); send it again", r.Err)}
			continue
		}
		res.Status = "Accepted"
	}
	var accepted, rejected int32
	for _, r := range resp.Results {
		if r.Status == "Accepted" {
			accepted++
		} else {
			rejected++
		}
	}
	resp.Accepted += accepted
	resp.Rejected += rejected
	s.records(int(accepted), int(rejected))
}

// describe fills the event's identity, version and event time from the
// record and returns the field number of its body, or says what is wrong
// with its timestamps.
func (s *Server) describe(ev *v1.RecordEvent, m proto.Message, loc *time.Location, hasZone bool, now time.Time) (protowire.Number, []*v1.FieldError) {
	var errs []*v1.FieldError
	at := func(field, value string) time.Time {
		if value == "" {
			return time.Time{}
		}
		if records.IsLocal(value) && !hasZone {
			errs = append(errs, fieldErr(field,
				"%q has no time zone and the company has no configured timeZone; send it with Z or an offset, or save the sync configuration first", value))
			return time.Time{}
		}
		t, err := records.ParseTime(value, loc)
		if err != nil {
			errs = append(errs, fieldErr(field, "%v", err))
		}
		return t
	}
	var event, modified time.Time
	var eventField, eventValue, modifiedValue string
	var body protowire.Number
	switch r := m.(type) {
	case *v1.Order:
		body = recordOrder
		eventField, eventValue = "closedDate", r.GetClosedDate()
		if eventValue == "" {
			eventField, eventValue = "createdDate", r.GetCreatedDate()
		}
		modifiedValue = r.GetSourceModifiedDate()
	case *v1.Payment:
		body = recordPayment
		eventField, eventValue = "createdDate", r.GetCreatedDate()
		modifiedValue = r.GetSourceModifiedDate()
	case *v1.Transaction:
		body = recordTransaction
		ev.TransactionType = r.GetType()
		eventField, eventValue = "sourceCreatedDate", r.GetSourceCreatedDate()
		if eventValue == "" {
			eventField, eventValue = "createdDate", r.GetCreatedDate()
		}
		modifiedValue = r.GetSourceModifiedDate()
	default:
		return 0, []*v1.FieldError{fieldErr("", "unsupported record type %T", m)}
	}
	event, modified = at(eventField, eventValue), at("sourceModifiedDate", modifiedValue)
	if len(errs) > 0 {
		return 0, errs
	}
	if errs := records.CheckDates(m, loc, now, s.skew); len(errs) > 0 {
		return 0, errs
	}
	// Presence is judged on the text: a date that parses to Go's zero time
	// (0001-01-01T00:00:00Z) was sent, and CheckDates has said what is wrong.
	if eventValue == "" {
		return 0, []*v1.FieldError{fieldErr(eventField, "is required")}
	}
	if event.After(now.Add(futureHorizon)) {
		return 0, []*v1.FieldError{fieldErr(eventField,
			"%s is more than 7 days ahead of the server's clock (%s); check the record's date and time zone",
			event.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	ev.EventUnixMs = event.UnixMilli()
	if !modified.IsZero() {
		ev.SourceModifiedUnixMs = modified.UnixMilli()
	}
	return body, nil
}

// ingestReference turns reference records into versions on the company's
// partition; each is in force from its sourceModifiedDate (or modifiedDate,
// or its arrival), so orders read the version of their own time.
func (s *Server) ingestReference(ctx context.Context, c *v1.Company, kind v1.ReferenceKind, items []pending) (*v1.PushResponse, error) {
	if len(items) > s.limits.BatchRecords {
		return nil, fmt.Errorf("%d records sent; a push takes at most %d", len(items), s.limits.BatchRecords)
	}
	loc, hasZone := s.zoneOf(c)
	now := s.now()
	b := s.newBatch(c, now, len(items))
	for i, it := range items {
		res := b.result(i, it)
		ev := &v1.ReferenceEvent{Kind: kind, Id: it.id, Deleted: it.del, ValidFromUnixMs: now.UnixMilli()}
		var bodyNum protowire.Number
		if len(it.errs) == 0 && !it.del {
			bodyNum, it.errs = referenceBody(ev, it.msg, loc, hasZone)
		}
		if len(it.errs) == 0 && !it.del {
			it.errs = records.CheckDates(it.msg, loc, now, s.skew)
		}
		if len(it.errs) > 0 {
			res.Status, res.Errors = "Rejected", it.errs
			continue
		}
		var body []byte
		if bodyNum != 0 {
			enc, err := records.Encode(b.scratch[:0], it.msg)
			if err != nil {
				return nil, fmt.Errorf("encode reference record %d: %w", it.index, err)
			}
			b.scratch, body, ev.ContentHash = enc.Bytes[:0], enc.Bytes, enc.Hash
		}
		b.head = appendReferenceHead(b.head[:0], ev)
		b.add(s, i, it, b.eventValue(eventReference, bodyNum, body))
	}
	s.produce(ctx, c, b.resp, b.out, b.outIdx)
	b.recycle()
	return b.resp, nil
}

// referenceBody sets the version's validity and returns the field number
// of its body.
func referenceBody(ev *v1.ReferenceEvent, m proto.Message, loc *time.Location, hasZone bool) (protowire.Number, []*v1.FieldError) {
	var modified, sourceModified string
	var body protowire.Number
	switch r := m.(type) {
	case *v1.Location:
		body = referenceLocation
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.Product:
		body = referenceProduct
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.ProductCategory:
		body = referenceProductCategory
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.TaxComponent:
		body = referenceTaxComponent
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.PaymentMethod:
		body = referencePaymentMethod
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	default:
		return 0, []*v1.FieldError{fieldErr("", "unsupported reference record %T", m)}
	}
	for _, f := range []struct{ name, value string }{{"sourceModifiedDate", sourceModified}, {"modifiedDate", modified}} {
		if f.value == "" {
			continue
		}
		if records.IsLocal(f.value) && !hasZone {
			return 0, []*v1.FieldError{fieldErr(f.name,
				"%q has no time zone and the company has no configured timeZone; send it with Z or an offset, or save the sync configuration first", f.value)}
		}
		t, err := records.ParseTime(f.value, loc)
		if err != nil {
			return 0, []*v1.FieldError{fieldErr(f.name, "%v", err)}
		}
		ev.ValidFromUnixMs = t.UnixMilli()
		break
	}
	return body, nil
}

// zoneOf is the company's configured zone, in which local timestamps are
// read; without a configuration there is none.
func (s *Server) zoneOf(c *v1.Company) (*time.Location, bool) {
	if cv, ok := s.store.Config(c.GetId()); ok {
		if z := cv.GetConfig().GetSchedule().GetTimeZone(); z != "" {
			if l, err := s.zones.load(z); err == nil {
				return l, true
			}
		}
	}
	return time.UTC, false
}
