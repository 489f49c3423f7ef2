package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
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
}

func fieldErr(field, format string, args ...any) *v1.FieldError {
	return &v1.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ingest turns decoded, validated records into events on commerce.events,
// keyed by company so that one window writer owns the company. Each record
// is answered on its own.
func (s *Server) ingest(ctx context.Context, c *v1.Company, kind v1.RecordKind, items []pending) (*v1.PushResponse, error) {
	if len(items) > s.limits.BatchRecords {
		return nil, fmt.Errorf("%d records sent; a push takes at most %d", len(items), s.limits.BatchRecords)
	}
	loc, hasZone := s.zoneOf(c)
	now := s.now()
	resp := &v1.PushResponse{Results: make([]*v1.RecordResult, len(items))}
	var out []*kgo.Record
	var outIdx []int
	for i, it := range items {
		res := &v1.RecordResult{Index: int32(it.index), Id: it.id}
		resp.Results[i] = res
		ev := &v1.RecordEvent{Kind: kind, Id: it.id, Deleted: it.del}
		if len(it.errs) == 0 && !it.del {
			it.errs = s.describe(ev, it.msg, loc, hasZone, now)
		}
		if len(it.errs) > 0 {
			res.Status, res.Errors = "Rejected", it.errs
			continue
		}
		rec, err := s.eventRecord(c, now, &v1.CommerceEvent{Body: &v1.CommerceEvent_Record{Record: ev}})
		if err != nil {
			return nil, fmt.Errorf("encode record %d: %w", it.index, err)
		}
		if e := s.limits.TooLarge(it.msg, len(rec.Key)+len(rec.Value)); e != nil {
			res.Status, res.Errors = "Rejected", []*v1.FieldError{e}
			continue
		}
		out = append(out, rec)
		outIdx = append(outIdx, i)
	}
	s.produce(ctx, c, resp, out, outIdx)
	return resp, nil
}

// produce writes the accepted records and settles every record's answer:
// one the broker did not take is rejected, to be sent again.
func (s *Server) produce(ctx context.Context, c *v1.Company, resp *v1.PushResponse, out []*kgo.Record, outIdx []int) {
	for j, r := range s.prod.ProduceSync(ctx, out...) {
		res := resp.Results[outIdx[j]]
		if r.Err != nil {
			s.log.Warn("record not stored", "company", c.GetId(), "err", r.Err)
			res.Status, res.Errors = "Rejected", []*v1.FieldError{fieldErr("", "the record could not be stored (%v); send it again", r.Err)}
			continue
		}
		res.Status = "Accepted"
	}
	for _, r := range resp.Results {
		if r.Status == "Accepted" {
			resp.Accepted++
		} else {
			resp.Rejected++
		}
	}
}

// describe fills the event's identity, version and event time from the
// record, or says what is wrong with its timestamps.
func (s *Server) describe(ev *v1.RecordEvent, m proto.Message, loc *time.Location, hasZone bool, now time.Time) []*v1.FieldError {
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
	switch r := m.(type) {
	case *v1.Order:
		ev.Body = &v1.RecordEvent_Order{Order: r}
		eventField, eventValue = "closedDate", r.GetClosedDate()
		if eventValue == "" {
			eventField, eventValue = "createdDate", r.GetCreatedDate()
		}
		modifiedValue = r.GetSourceModifiedDate()
	case *v1.Payment:
		ev.Body = &v1.RecordEvent_Payment{Payment: r}
		eventField, eventValue = "createdDate", r.GetCreatedDate()
		modifiedValue = r.GetSourceModifiedDate()
	case *v1.Transaction:
		ev.Body = &v1.RecordEvent_Transaction{Transaction: r}
		ev.TransactionType = r.GetType()
		eventField, eventValue = "sourceCreatedDate", r.GetSourceCreatedDate()
		if eventValue == "" {
			eventField, eventValue = "createdDate", r.GetCreatedDate()
		}
		modifiedValue = r.GetSourceModifiedDate()
	default:
		return []*v1.FieldError{fieldErr("", "unsupported record type %T", m)}
	}
	event, modified = at(eventField, eventValue), at("sourceModifiedDate", modifiedValue)
	if len(errs) > 0 {
		return errs
	}
	if errs := records.CheckDates(m, loc, now, s.skew); len(errs) > 0 {
		return errs
	}
	// Presence is judged on the text: a date that parses to Go's zero time
	// (0001-01-01T00:00:00Z) was sent, and CheckDates has said what is wrong.
	if eventValue == "" {
		return []*v1.FieldError{fieldErr(eventField, "is required")}
	}
	if event.After(now.Add(futureHorizon)) {
		return []*v1.FieldError{fieldErr(eventField,
			"%s is more than 7 days ahead of the server's clock (%s); check the record's date and time zone",
			event.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	ev.EventUnixMs = event.UnixMilli()
	if !modified.IsZero() {
		ev.SourceModifiedUnixMs = modified.UnixMilli()
	}
	ev.ContentHash = records.ContentHash(m)
	return nil
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
	resp := &v1.PushResponse{Results: make([]*v1.RecordResult, len(items))}
	var out []*kgo.Record
	var outIdx []int
	for i, it := range items {
		res := &v1.RecordResult{Index: int32(it.index), Id: it.id}
		resp.Results[i] = res
		ev := &v1.ReferenceEvent{Kind: kind, Id: it.id, Deleted: it.del, ValidFromUnixMs: now.UnixMilli()}
		if len(it.errs) == 0 && !it.del {
			it.errs = referenceBody(ev, it.msg, loc, hasZone)
		}
		if len(it.errs) == 0 && !it.del {
			it.errs = records.CheckDates(it.msg, loc, now, s.skew)
		}
		if len(it.errs) > 0 {
			res.Status, res.Errors = "Rejected", it.errs
			continue
		}
		rec, err := s.eventRecord(c, now, &v1.CommerceEvent{Body: &v1.CommerceEvent_Reference{Reference: ev}})
		if err != nil {
			return nil, fmt.Errorf("encode reference record %d: %w", it.index, err)
		}
		if e := s.limits.TooLarge(it.msg, len(rec.Key)+len(rec.Value)); e != nil {
			res.Status, res.Errors = "Rejected", []*v1.FieldError{e}
			continue
		}
		out = append(out, rec)
		outIdx = append(outIdx, i)
	}
	s.produce(ctx, c, resp, out, outIdx)
	return resp, nil
}

// referenceBody sets the version's body, validity and content hash.
func referenceBody(ev *v1.ReferenceEvent, m proto.Message, loc *time.Location, hasZone bool) []*v1.FieldError {
	var modified, sourceModified string
	switch r := m.(type) {
	case *v1.Location:
		ev.Body = &v1.ReferenceEvent_Location{Location: r}
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.Product:
		ev.Body = &v1.ReferenceEvent_Product{Product: r}
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.ProductCategory:
		ev.Body = &v1.ReferenceEvent_ProductCategory{ProductCategory: r}
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.TaxComponent:
		ev.Body = &v1.ReferenceEvent_TaxComponent{TaxComponent: r}
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	case *v1.PaymentMethod:
		ev.Body = &v1.ReferenceEvent_PaymentMethod{PaymentMethod: r}
		modified, sourceModified = r.GetModifiedDate(), r.GetSourceModifiedDate()
	default:
		return []*v1.FieldError{fieldErr("", "unsupported reference record %T", m)}
	}
	for _, f := range []struct{ name, value string }{{"sourceModifiedDate", sourceModified}, {"modifiedDate", modified}} {
		if f.value == "" {
			continue
		}
		if records.IsLocal(f.value) && !hasZone {
			return []*v1.FieldError{fieldErr(f.name,
				"%q has no time zone and the company has no configured timeZone; send it with Z or an offset, or save the sync configuration first", f.value)}
		}
		t, err := records.ParseTime(f.value, loc)
		if err != nil {
			return []*v1.FieldError{fieldErr(f.name, "%v", err)}
		}
		ev.ValidFromUnixMs = t.UnixMilli()
		break
	}
	ev.ContentHash = records.ContentHash(m)
	return nil
}

// zoneOf is the company's configured zone, in which local timestamps are
// read; without a configuration there is none.
func (s *Server) zoneOf(c *v1.Company) (*time.Location, bool) {
	if cv, ok := s.store.Config(c.GetId()); ok {
		if z := cv.GetConfig().GetSchedule().GetTimeZone(); z != "" {
			if l, err := time.LoadLocation(z); err == nil {
				return l, true
			}
		}
	}
	return time.UTC, false
}
