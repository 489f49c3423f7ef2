package system_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/system"
)

// Two planners and two push workers share the companies through their
// consumer groups, as two processes of each stage would: every day posts
// once, whichever worker owns its company. When one worker stops, the
// other takes its companies over and the next days post once too.
func TestPushWorkersShareCompaniesAndHandOver(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC))
	sys, _ := start(t, clk, system.WithStageInstances(2, 2))
	if len(sys.Pushers) != 2 {
		t.Fatalf("%d push workers, want 2", len(sys.Pushers))
	}
	eventually(t, 30*time.Second, "each push worker holding its share of the partitions", func() bool {
		a, b := len(sys.Pushers[0].Owner.Held()), len(sys.Pushers[1].Owner.Held())
		return a > 0 && b > 0 && a+b == 6
	})
	var ms []*merchant
	owners := map[int]int{}
	for range 4 {
		m := newMerchant(t, sys)
		m.onboard()
		ms = append(ms, m)
		for i, p := range sys.Pushers {
			if p.Owner.Owns(m.company) {
				owners[i]++
			}
		}
	}
	postOnce := func(d string) {
		t.Helper()
		for _, m := range ms {
			m.pushDay(d, 3)
			m.seal(d)
		}
		for _, m := range ms {
			m.waitConfirmed(d, time.Minute)
		}
		js := journals(sys, d)
		refs := map[string]bool{}
		for _, j := range js {
			refs[j.Narration] = true
		}
		if len(js) != len(ms) || len(refs) != len(ms) {
			t.Fatalf("day %s: the sandbox holds %d journals (%d distinct), want one per merchant (%d)", d, len(js), len(refs), len(ms))
		}
	}
	postOnce("2026-03-10")
	// Each worker confirmed its own companies' days, and no other's.
	for i, p := range sys.Pushers {
		if got := p.Confirmed(); got != int64(owners[i]) {
			t.Errorf("push worker %d confirmed %d documents; it owns %d companies of one day each", i, got, owners[i])
		}
	}

	sys.Pushers[0].Stop()
	eventually(t, 30*time.Second, "the other push worker holding every partition", func() bool {
		return len(sys.Pushers[1].Owner.Held()) == 6
	})
	for _, m := range ms {
		if !sys.Pushers[1].Owner.Owns(m.company) {
			t.Fatalf("company %s is owned by no worker after the hand-over", m.company)
		}
	}
	postOnce("2026-03-11")
	if got := sys.Pushers[1].Confirmed(); got != int64(owners[1]+len(ms)) {
		t.Errorf("the remaining worker confirmed %d documents in all, want %d: its own first day and every company's second", got, owners[1]+len(ms))
	}
	if got := fmt.Sprint(len(journals(sys, "2026-03-10"))); got != fmt.Sprint(len(ms)) {
		t.Errorf("day 2026-03-10 after the hand-over: %s journals, want %d", got, len(ms))
	}
}
