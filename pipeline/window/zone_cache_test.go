package window

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/day"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// zoneLoads counts the loads of each zone name.
type zoneLoads struct {
	mu sync.Mutex
	n  map[string]int
}

func (z *zoneLoads) cache() *day.Zones {
	z.n = map[string]int{}
	return day.NewZones(func(name string) (*time.Location, error) {
		z.mu.Lock()
		z.n[name]++
		z.mu.Unlock()
		return time.LoadLocation(name)
	})
}

// TestZoneCacheOneLoadPerZoneInTheWindow: the calendars of a hundred
// companies in two zones, set, set again and restored by a new owner of
// their partition, load each zone once per aggregator; the days come out
// as they do with zones loaded per calendar.
func TestZoneCacheOneLoadPerZoneInTheWindow(t *testing.T) {
	zones := []string{"Europe/London", "America/New_York"}
	var loads zoneLoads
	part := map[string]int32{}
	r := newRun(t, part, WithZoneCache(loads.cache()))
	plain := newRun(t, part)
	var evs []*v1.CommerceEvent
	for i := range 100 {
		id := fmt.Sprintf("co-%03d", i)
		part[id] = int32(i % 2)
		set := &v1.WindowSettings{TimeZone: zones[i%2], CutoffHour: int32(i % 5), ConfigVersion: 1}
		at := local(t, zones[i%2], "2026-03-08 01:30:00")
		evs = append(evs, settingsEvent(id, exTenant, set), goodOrder(id, "o-1", at, "10.00"),
			settingsEvent(id, exTenant, &v1.WindowSettings{TimeZone: zones[i%2], CutoffHour: int32(i%5 + 1), ConfigVersion: 2}))
	}
	r.apply(t, evs...)
	r.commit(t)
	plain.apply(t, evs...)
	plain.commit(t)
	for _, z := range zones {
		if loads.n[z] != 1 {
			t.Errorf("%s loaded %d times by one aggregator; want once", z, loads.n[z])
		}
	}
	if d := diffStates(plain.log.state(), r.log.state()); d != "" {
		t.Fatalf("the cached zones give other state than zones loaded per calendar:\n%s", d)
	}

	var again zoneLoads
	next := testAggregator(t, WithZoneCache(again.cache()))
	for _, p := range r.log.partitions() {
		restorePartition(t, next, r.log, p, false)
	}
	for _, z := range zones {
		if again.n[z] != 1 {
			t.Errorf("restoring 50 companies of %s loaded it %d times; want once", z, again.n[z])
		}
	}
	if d := firstDiff(dumpState(r.a), dumpState(next)); d != "" {
		t.Fatalf("the restored state differs: %s", d)
	}
}
