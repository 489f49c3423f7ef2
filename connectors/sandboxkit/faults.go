package sandboxkit

import "strings"

// FaultMatch is what an injected fault applies to: calls whose method is
// Method ("" any) and whose path starts with Path ("" any), its next Times
// of them (<= 0 means 1).
type FaultMatch struct {
	Method, Path string
	Times        int
}

// Faults is a sandbox's queue of injected failures (accounting-platform-apis.md
// §6.6): each applies, in injection order, to its next Times matching
// calls. F is the platform's own Fault type, which says what happens;
// match reads what it applies to. A Faults is used under the sandbox's
// lock.
type Faults[F any] struct {
	match func(F) FaultMatch
	// foldCase compares paths without case, for platforms whose routes are
	// case-insensitive (Xero, QuickBooks, NetSuite).
	foldCase bool
	armed    []*armedFault[F]
}

type armedFault[F any] struct {
	f    F
	m    FaultMatch
	left int
}

// NewFaults returns an empty queue; foldCase compares paths without case.
func NewFaults[F any](match func(F) FaultMatch, foldCase bool) *Faults[F] {
	return &Faults[F]{match: match, foldCase: foldCase}
}

// Arm adds f at the end of the queue.
func (q *Faults[F]) Arm(f F) {
	m := q.match(f)
	q.armed = append(q.armed, &armedFault[F]{f: f, m: m, left: max(m.Times, 1)})
}

// Clear disarms every fault.
func (q *Faults[F]) Clear() { q.armed = nil }

// Take consumes the first armed fault matching the call.
func (q *Faults[F]) Take(method, path string) (F, bool) {
	for i, a := range q.armed {
		if a.m.Method != "" && !strings.EqualFold(a.m.Method, method) {
			continue
		}
		if a.m.Path != "" && !q.hasPrefix(path, a.m.Path) {
			continue
		}
		a.left--
		if a.left <= 0 {
			q.armed = append(q.armed[:i], q.armed[i+1:]...)
		}
		return a.f, true
	}
	var zero F
	return zero, false
}

func (q *Faults[F]) hasPrefix(path, prefix string) bool {
	if q.foldCase {
		return strings.HasPrefix(strings.ToLower(path), strings.ToLower(prefix))
	}
	return strings.HasPrefix(path, prefix)
}
