package system_test

import (
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/system"
)

// Two push workers, each a member of the push group with its own Kafka
// client as two processes would be, share one injected clock with the Xero
// sandbox; it runs 20 times faster than real time, so minutes of pushing
// take seconds. A merchant's backlog of days goes to Xero, which allows 60
// calls to an organisation in any rolling minute. Midway the worker pushing
// them stops and the other takes the company over, with no way to know
// what the first spent in the last minute. The sandbox refuses no call:
// no rolling minute ever held more than 60 of this connection's calls,
// before, across or after the hand-over.
func TestTwoPushWorkersKeepAConnectionUnderItsLimit(t *testing.T) {
	clk := newFastClock(testStart, 20)
	sys, _ := start(t, clk, system.WithStageInstances(1, 2), system.WithPushSleep(clk.Sleep))
	eventually(t, 30*time.Second, "each push worker holding its share of the partitions", func() bool {
		a, b := len(sys.Pushers[0].Owner.Held()), len(sys.Pushers[1].Owner.Held())
		return a > 0 && b > 0 && a+b == 6
	})
	m := newMerchant(t, sys)
	m.onboard()
	// Ninety business days of one order each: ninety journals, more than a
	// minute's allowance, queued at once.
	const days = 90
	first := dayEnd(day2).AddDate(0, 0, -days)
	var last string
	for i := range days {
		last = first.AddDate(0, 0, i).Format(time.DateOnly)
		m.pushCardOrders(last, "ord-"+last, 1)
	}
	m.seal(last)
	confirmed := func() int {
		n := 0
		for _, d := range m.status().GetDocuments() {
			if d.GetState() == "Confirmed" {
				n++
			}
		}
		return n
	}
	eventually(t, 2*time.Minute, "a third of the journals confirmed", func() bool { return confirmed() >= days/3 })
	owner, other := 0, 1
	if !sys.Pushers[0].Owner.Owns(m.company) {
		owner, other = 1, 0
	}
	sys.Pushers[owner].Stop()
	eventually(t, 3*time.Minute, "every journal confirmed", func() bool { return confirmed() == days })

	if got := sys.Xero.Refused(tenant); len(got) != 0 {
		t.Errorf("the sandbox refused calls for its limits: %v", got)
	}
	if sys.Pushers[other].Confirmed() == 0 || sys.Pushers[owner].Confirmed() == 0 {
		t.Errorf("confirmed %d by the worker stopped and %d by the one that took over; want both to have pushed",
			sys.Pushers[owner].Confirmed(), sys.Pushers[other].Confirmed())
	}
}
