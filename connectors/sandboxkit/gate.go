package sandboxkit

import (
	"context"
	"sync"
)

// Gate holds requests in a sandbox handler until the test opens it, so a
// test can keep calls in flight (to reach a concurrency limit, or to give up
// on a slow answer) without sleeping. The sandboxes' Stall hooks hand one
// out; the owner keeps the *Gate under its own lock and clears it itself.
type Gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

// gateBacklog bounds the arrivals a test may leave unread: Wait never
// blocks on reporting an arrival, so more than this many held calls simply
// go unreported rather than wedging the handler.
const gateBacklog = 1024

// NewGate returns a closed (holding) gate.
func NewGate() *Gate {
	return &Gate{arrived: make(chan struct{}, gateBacklog), release: make(chan struct{})}
}

// Arrived receives once for each call that reached Wait.
func (g *Gate) Arrived() <-chan struct{} { return g.arrived }

// Wait reports the call's arrival and blocks until Open is called or ctx
// is done. It returns false when ctx ended first: the client gave up and
// the handler should return without answering.
func (g *Gate) Wait(ctx context.Context) bool {
	select {
	case g.arrived <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
		return true
	case <-ctx.Done():
		return false
	}
}

// Open lets every held and future call through. It is safe to call more
// than once, since tests often both defer it and call it explicitly.
func (g *Gate) Open() { g.once.Do(func() { close(g.release) }) }

// Arm installs a new gate in *slot, which mu guards (the sandbox keeps its
// hooks next to the rest of its state, under its one mutex), and returns
// the gate's arrivals and a release function. Release clears the slot only
// if it still holds this gate, so releasing an old hook never removes a
// newer one, and then opens the gate; calling it again is harmless.
func Arm(mu sync.Locker, slot **Gate) (arrived <-chan struct{}, release func()) {
	g := NewGate()
	mu.Lock()
	*slot = g
	mu.Unlock()
	return g.Arrived(), func() {
		mu.Lock()
		if *slot == g {
			*slot = nil
		}
		mu.Unlock()
		g.Open()
	}
}
