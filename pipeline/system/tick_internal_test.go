package system

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestPartitionTickWriterOnePerPartition: each interval the clock writes
// exactly one tick into each partition of commerce.events, with no key,
// company or tenant, carrying the injected time; a second interval adds
// one more to each. A company count never enters into it.
func TestPartitionTickWriterOnePerPartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := kafka.StartBroker()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	topics := kafka.DefaultTopics()
	const partitions = 4
	cl, err := kgo.NewClient(append(kafka.ClientOpts(b.Cluster(), nil), kgo.RecordPartitioner(kafka.SplitPartitioner(topics.Events)))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, topics.Specs(partitions)); err != nil {
		t.Fatal(err)
	}
	at := []time.Time{time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC), time.Date(2026, 3, 12, 16, 1, 0, 0, time.UTC)}
	for _, now := range at {
		if err := writeTicks(ctx, cl, topics.Events, partitions, now); err != nil {
			t.Fatal(err)
		}
	}
	for p := range int32(partitions) {
		var got []int64
		err := kafka.ReadPartition(ctx, b.Cluster(), topics.Events, p, nil, func(r *kgo.Record) error {
			var ev v1.CommerceEvent
			if err := proto.Unmarshal(r.Value, &ev); err != nil {
				return err
			}
			if r.Key != nil || ev.GetCompanyId() != "" || ev.GetTenantId() != "" || ev.GetClockTick() == nil {
				t.Errorf("partition %d holds key %q, event %v; want a clock tick of no key, company or tenant", p, r.Key, &ev)
			}
			got = append(got, ev.GetClockTick().GetNowUnixMs())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != at[0].UnixMilli() || got[1] != at[1].UnixMilli() {
			t.Errorf("partition %d holds ticks %v; want one of each interval, %d and %d", p, got, at[0].UnixMilli(), at[1].UnixMilli())
		}
	}
}
