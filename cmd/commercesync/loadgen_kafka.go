package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
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
	// record adds one record's event: its times resolved, m hashed, and
	// body holding m.
	record := func(ev *v1.RecordEvent, event, modified string, m proto.Message) error {
		ev.ContentHash = records.ContentHash(m)
		var err error
		if ev.EventUnixMs, err = instant("event time", event); err != nil {
			return err
		}
		if ev.SourceModifiedUnixMs, err = instant("sourceModifiedDate", modified); err != nil {
			return err
		}
		return add(ev)
	}
	// The event time is the first of these the record has, as the gateway
	// reads it.
	first := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	for _, o := range recs.Orders {
		ev := &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: o.GetId(), Body: &v1.RecordEvent_Order{Order: o}}
		if err := record(ev, first(o.GetClosedDate(), o.GetCreatedDate()), o.GetSourceModifiedDate(), o); err != nil {
			return nil, err
		}
	}
	for _, p := range recs.Payments {
		ev := &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: p.GetId(), Body: &v1.RecordEvent_Payment{Payment: p}}
		if err := record(ev, p.GetCreatedDate(), p.GetSourceModifiedDate(), p); err != nil {
			return nil, err
		}
	}
	for _, t := range recs.Transactions {
		ev := &v1.RecordEvent{Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, Id: t.GetId(), TransactionType: t.GetType(),
			Body: &v1.RecordEvent_Transaction{Transaction: t}}
		if err := record(ev, first(t.GetSourceCreatedDate(), t.GetCreatedDate()), t.GetSourceModifiedDate(), t); err != nil {
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
	// The records share their bytes: one random buffer as long as the
	// largest, and a key per company, so the baseline's memory does not
	// grow with the bytes it sends. franz-go only reads them.
	keys := make([][]byte, max(companies, 1))
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("%036d", i))
	}
	random := make([]byte, slices.Max(append([]int{1}, sizes...)))
	_, _ = rand.Read(random)
	recs := make([]*kgo.Record, len(sizes))
	for i, n := range sizes {
		key := keys[i%len(keys)]
		recs[i] = &kgo.Record{Topic: topic, Key: key, Value: random[:max(n-len(key), 1)]}
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
