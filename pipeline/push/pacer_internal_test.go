package push

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/commercesync/commercesync/connectors"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A connection's bucket, driven as hard as it allows, never lets more than
// its limit through in any rolling period, whatever the limit and burst,
// and across a hand-over to another worker's new bucket; it still lets
// through most of the limit once a backlog settles.
func TestWindowLimitKeepsEveryRollingPeriodUnderTheLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 200 {
		limit := 3 + r.IntN(600)
		burst := 1 + r.IntN(12)
		period := []time.Duration{time.Second, time.Minute, time.Hour}[r.IntN(3)]
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		l := newWindowLimit(limit, burst, period, t0)
		// Calls as soon as each is let through, some a little later, over
		// five periods. At a moment of the first two periods the company
		// moves to another worker, whose bucket is new; the old one makes
		// no more calls.
		handover := t0.Add(time.Duration(r.Int64N(int64(2 * period))))
		moved := false
		var calls []time.Time
		now := t0
		for now.Before(t0.Add(5 * period)) {
			if !moved && !now.Before(handover) {
				moved, l = true, newWindowLimit(limit, burst, period, now)
			}
			res := l.ReserveN(now, 1)
			at := now.Add(res.DelayFrom(now))
			if r.IntN(4) == 0 {
				at = at.Add(time.Duration(r.Int64N(int64(period) / int64(limit))))
			}
			calls = append(calls, at)
			now = at
		}
		worst, start := 0, 0
		for end, at := range calls {
			for !calls[start].After(at.Add(-period)) {
				start++
			}
			worst = max(worst, end-start+1)
		}
		if worst > limit {
			t.Fatalf("limit %d a %v, burst %d: a rolling period held %d calls", limit, period, burst, worst)
		}
		if n := len(calls); n < 3*(limit-min(burst, limit-2)-1) {
			t.Fatalf("limit %d a %v, burst %d: only %d calls in five periods", limit, period, burst, n)
		}
	}
}

type sharedOwner struct {
	mu    sync.Mutex
	share float64
}

func (o *sharedOwner) set(share float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.share = share
}

func (o *sharedOwner) Owns(string) bool         { return true }
func (o *sharedOwner) Changed() <-chan struct{} { return nil }
func (o *sharedOwner) Share() float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.share
}

type capsOnly struct {
	connectors.Connector
	caps connectors.Capabilities
}

func (c capsOnly) Capabilities() connectors.Capabilities { return c.caps }

// Every connection of a platform waits on one app-wide bucket, set to the
// process's share of the platform's app limit, which follows ownership.
func TestAppLimitIsSharedByConnectionsAndFollowsOwnership(t *testing.T) {
	owner := &sharedOwner{share: 0.5}
	c := capsOnly{caps: connectors.Capabilities{RequestsPerMinute: 60, AppRequestsPerMinute: 600}}
	w := New(nil, nil, nil, map[string]connectors.Connector{"xero": c}, "", nil, WithOwnership(owner))
	a := w.limiter(&v1.Connection{Id: "a", PlatformKey: "xero"}, c)
	b := w.limiter(&v1.Connection{Id: "b", PlatformKey: "xero"}, c)
	app := a.windows[len(a.windows)-1]
	if len(a.windows) != 2 || b.windows[len(b.windows)-1] != app {
		t.Fatalf("connections a and b do not share one app-wide bucket: %v, %v", a.windows, b.windows)
	}
	if got, want := app.Limit(), rate.Limit(600*0.95*0.5/60); got != want {
		t.Fatalf("app-wide rate %v, want %v: half of 95%% of 600 a minute", got, want)
	}
	owner.set(0.25)
	w.shareApps()
	if got, want := app.Limit(), rate.Limit(600*0.95*0.25/60); got != want {
		t.Fatalf("after a rebalance: app-wide rate %v, want %v", got, want)
	}
	owner.set(0)
	w.shareApps()
	if app.Limit() == 0 {
		t.Fatal("with nothing held the bucket was shut, and work being let go would wait for ever")
	}
}
