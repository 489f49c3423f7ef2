package system_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestPartitionTickSealsAQuietDay: with the clock on, a configured company
// whose records stop after one day has that day sealed by a clock tick
// (nothing else can seal it: no later record moves its watermark and nobody
// asks for a sync) and posted; every tick in commerce.events names no
// company, and each partition holds them.
func TestPartitionTickSealsAQuietDay(t *testing.T) {
	t.Parallel()
	clk := newClock(testStart)
	sys, _ := start(t, clk, system.WithTick(100*time.Millisecond))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 2)
	// Past the day's end plus the configuration's grace (48 hours).
	clk.Jump(24 * time.Hour)
	m.waitConfirmed(day1, time.Minute)

	topics := kafka.DefaultTopics()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var summary *v1.DaySummary
	ticks := map[int32]int{}
	for p := range int32(6) {
		err := kafka.ReadPartition(ctx, kafka.Seeds(sys.Brokers...), topics.Ledger, p, nil, func(r *kgo.Record) error {
			var s v1.DaySummary
			if err := proto.Unmarshal(r.Value, &s); err != nil {
				return err
			}
			if s.GetCompanyId() == m.company && s.GetBusinessDay() == day1 {
				summary = &s
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = kafka.ReadPartition(ctx, kafka.Seeds(sys.Brokers...), topics.Events, p, nil, func(r *kgo.Record) error {
			var ev v1.CommerceEvent
			if err := proto.Unmarshal(r.Value, &ev); err != nil {
				return err
			}
			if ev.GetClockTick() == nil {
				return nil
			}
			ticks[p]++
			if ev.GetCompanyId() != "" || ev.GetTenantId() != "" || r.Key != nil {
				t.Errorf("a tick in partition %d names company %q, tenant %q, key %q; ticks are the partition's", p, ev.GetCompanyId(), ev.GetTenantId(), r.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if summary == nil || summary.GetSealedBy() != "clock_tick" {
		t.Fatalf("day %s's summary %v; want it sealed by a clock tick", day1, summary)
	}
	for p := range int32(6) {
		if ticks[p] == 0 {
			t.Errorf("partition %d holds no tick (ticks by partition: %v)", p, ticks)
		}
	}
}
