package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/loadgen"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// kafkaEvents encodes a merchant-day's records as the events the gateway
// writes for them once accepted: keyed by company, each with its event
// time, modification time and content hash resolved. It is what a platform
// that produces to commerce.events itself (a trusted producer, skipping
// the gateway's checks) must write. loadgen's records carry RFC 3339
// times with offsets, so no zone is needed to resolve them.
func kafkaEvents(topic, company, tenant string, received time.Time, recs loadgen.Records) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, recs.Len())
	add := func(ev *v1.RecordEvent) error {
		b, err := proto.Marshal(&v1.CommerceEvent{CompanyId: company, TenantId: tenant, ReceivedUnixMs: received.UnixMilli(),
			Body: &v1.CommerceEvent_Record{Record: ev}})
		if err != nil {
			return fmt.Errorf("loadgen: encode %s %s: %w", ev.GetKind(), ev.GetId(), err)
		}
		out = append(out, &kgo.Record{Topic: topic, Key: []byte(company), Value: b})
		return nil
	}
	instant := func(field, v string) (int64, error) {
		if v == "" {
			return 0, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, fmt.Errorf("loadgen: %s %q: %w", field, v, err)
		}
		return t.UnixMilli(), nil
	}
	record := func(kind v1.RecordKind, id, typ, event, modified string, m proto.Message) (*v1.RecordEvent, error) {
		ev := &v1.RecordEvent{Kind: kind, Id: id, TransactionType: typ, ContentHash: records.ContentHash(m)}
		var err error
		if ev.EventUnixMs, err = instant("event time", event); err != nil {
			return nil, err
		}
		if ev.SourceModifiedUnixMs, err = instant("sourceModifiedDate", modified); err != nil {
			return nil, err
		}
		return ev, nil
	}
	for _, o := range recs.Orders {
		event := o.GetClosedDate()
		if event == "" {
			event = o.GetCreatedDate()
		}
		ev, err := record(v1.RecordKind_RECORD_KIND_ORDER, o.GetId(), "", event, o.GetSourceModifiedDate(), o)
		if err != nil {
			return nil, err
		}
		ev.Body = &v1.RecordEvent_Order{Order: o}
		if err := add(ev); err != nil {
			return nil, err
		}
	}
	for _, p := range recs.Payments {
		ev, err := record(v1.RecordKind_RECORD_KIND_PAYMENT, p.GetId(), "", p.GetCreatedDate(), p.GetSourceModifiedDate(), p)
		if err != nil {
			return nil, err
		}
		ev.Body = &v1.RecordEvent_Payment{Payment: p}
		if err := add(ev); err != nil {
			return nil, err
		}
	}
	for _, t := range recs.Transactions {
		event := t.GetSourceCreatedDate()
		if event == "" {
			event = t.GetCreatedDate()
		}
		ev, err := record(v1.RecordKind_RECORD_KIND_TRANSACTION, t.GetId(), t.GetType(), event, t.GetSourceModifiedDate(), t)
		if err != nil {
			return nil, err
		}
		ev.Body = &v1.RecordEvent_Transaction{Transaction: t}
		if err := add(ev); err != nil {
			return nil, err
		}
	}
	for _, d := range recs.Deletes {
		if err := add(&v1.RecordEvent{Kind: d.Kind, Id: d.ID, Deleted: true}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pushKafka produces a merchant-day's events straight to commerce.events.
func (r *loadRun) pushKafka(ctx context.Context, company string, recs loadgen.Records) error {
	if recs.Len() == 0 {
		return nil
	}
	evs, err := kafkaEvents(kafka.DefaultTopics().Events, company, r.tenants[company], time.Now(), recs)
	if err != nil {
		return err
	}
	if err := r.limiter.WaitN(ctx, min(len(evs), r.limiter.Burst())); err != nil && r.limiter.Limit() != rate.Inf {
		return err
	}
	r.sent.Add(int64(len(evs)))
	if err := r.producer.ProduceSync(ctx, evs...).FirstErr(); err != nil {
		r.rejected.Add(int64(len(evs)))
		return fmt.Errorf("loadgen: produce to %s: %w", kafka.DefaultTopics().Events, err)
	}
	r.accepted.Add(int64(len(evs)))
	return nil
}

// rawProduce is the baseline: records of the sizes given, of random
// bytes, produced with franz-go as fast as it takes them to a scratch
// topic of as many partitions as commerce.events, keyed over as many
// companies, by workers producers' worth of concurrent batches of batch.
// It returns how long that took; the topic is deleted after.
func rawProduce(ctx context.Context, brokers kafka.Cluster, sizes []int, companies, workers, batch int) (time.Duration, error) {
	cl, err := kgo.NewClient(append(kafka.ClientOpts(brokers, nil), kgo.ProducerLinger(0))...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic := fmt.Sprintf("loadgen.baseline.%d", time.Now().UnixNano())
	parts := int32(6)
	if md, err := adm.ListTopics(ctx, kafka.DefaultTopics().Events); err == nil {
		if d, ok := md[kafka.DefaultTopics().Events]; ok && len(d.Partitions) > 0 {
			parts = int32(len(d.Partitions))
		}
	}
	if _, err := adm.CreateTopic(ctx, parts, -1, nil, topic); err != nil {
		return 0, fmt.Errorf("loadgen: baseline topic: %w", err)
	}
	defer func() { _, _ = adm.DeleteTopics(context.WithoutCancel(ctx), topic) }()
	recs := make([]*kgo.Record, len(sizes))
	for i, n := range sizes {
		key := []byte(fmt.Sprintf("%036d", i%max(companies, 1)))
		v := make([]byte, max(n-len(key), 1))
		_, _ = rand.Read(v)
		recs[i] = &kgo.Record{Topic: topic, Key: key, Value: v}
	}
	sem := make(chan struct{}, workers)
	errs := make(chan error, 1)
	began := time.Now()
	for start := 0; start < len(recs); start += batch {
		sem <- struct{}{}
		go func(part []*kgo.Record) {
			defer func() { <-sem }()
			if err := cl.ProduceSync(ctx, part...).FirstErr(); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}(recs[start:min(start+batch, len(recs))])
	}
	for range workers {
		sem <- struct{}{}
	}
	took := time.Since(began)
	select {
	case err := <-errs:
		return 0, fmt.Errorf("loadgen: baseline produce: %w", err)
	default:
	}
	return took, nil
}
