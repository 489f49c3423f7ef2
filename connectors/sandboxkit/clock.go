package sandboxkit

import (
	"sync"
	"time"
)

// Clock is a manual clock for tests: pass Now to a sandbox's WithClock and
// Advance it instead of sleeping, so token lifetimes and rate windows
// expire deterministically. It satisfies connectortest.Clock. The mutex is
// needed because the sandbox reads the clock from its handler goroutines
// while the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t, for tests that need a window boundary (the
// FreeAgent sandbox's hourly and per-minute windows reset on the clock).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
