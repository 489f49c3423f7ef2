package connectortest

import (
	"sync"
	"time"
)

// StartTime is the instant every sandbox run begins at: a fixed time keeps
// dates, lock dates and rate windows the same on every run.
var StartTime = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// ManualClock is a Clock that moves only when told to. Each check gets its
// own, so advancing time in one never touches another.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var _ Clock = (*ManualClock)(nil)
