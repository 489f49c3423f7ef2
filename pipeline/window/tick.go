package window

import (
	"fmt"
	"slices"
	"strings"
)

// Clock ticks. A tick carries wall-clock time into the input, so that quiet
// companies still seal their days once grace has passed and a replay seals
// the same days. The clock writes one tick per partition of commerce.events
// (CompanyId empty), which the aggregator applies to every company of that
// partition; a tick naming a company (what older topics hold, one per
// company per interval) applies to that company alone. Both seal exactly
// what the same instant would seal for each company.

// tick seals c's open days whose end plus grace is at or before now, and
// emits the revisions of its sealed days that changed since last posted.
func (a *Aggregator) tick(c *company, now int64) error {
	return a.sealAndEmit(c, ByClockTick, func(d *dayState) bool { return d.end+c.grace() <= now })
}

// tickPartition applies a partition's tick to each of the partition's
// companies that has a calendar (a company without one has no days to
// seal), in order of company id, so that what the tick emits is in the same
// order on every run whatever the map's order. A company's failure refuses
// the whole tick, naming the company; sealing a day that fails parks that
// day instead, so this is only reached by a fault in the aggregator itself.
func (a *Aggregator) tickPartition(partition int32, now int64) error {
	var cs []*company
	for _, c := range a.companies {
		if c.partition == partition && c.hasCal {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(x, y *company) int { return strings.Compare(x.id, y.id) })
	for _, c := range cs {
		if err := a.tick(c, now); err != nil {
			return fmt.Errorf("clock tick of partition %d, company %s: %w", partition, c.id, err)
		}
	}
	return nil
}
