// Package clock holds what the stages' jobs wait with by default: real
// time. Each job takes its own sleep function as an option, so tests inject
// theirs.
package clock

import (
	"context"
	"time"
)

// Sleep waits d in real time, or until ctx ends, whose error it returns.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
