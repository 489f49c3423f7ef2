package sandbox

import (
	"net/http"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Fault is an injected failure for REST calls (§6.6: dropped responses
// after commit, 5xx, slow responses). Faults apply in injection order, each
// to its next Times matching calls. Token and consent endpoints are never
// faulted.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a case-insensitive prefix of the path below /services/rest,
	// e.g. "/record/v1/journalentry"; "" matches any.
	Path string
	// Status, when set (500, 503), answers the call with that status and
	// NetSuite's error envelope before it is handled: nothing is committed.
	Status int
	// DropResponse handles and commits the call, then closes the
	// connection without answering.
	DropResponse bool
	// Delay handles and commits the call, then waits this long in wall
	// time (or until the client gives up) before answering: a slow
	// answer whose outcome the client may never see.
	Delay time.Duration
	// Times is how many matching calls are affected; <= 0 means 1.
	Times int
}

func (f Fault) match() sandboxkit.FaultMatch {
	return sandboxkit.FaultMatch{Method: f.Method, Path: f.Path, Times: f.Times}
}

// InjectFault arms f.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Arm(f)
}

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Clear()
}

// takeFault consumes the first armed fault matching the call. Caller holds s.mu.
func (s *Server) takeFault(method, path string) (Fault, bool) { return s.faults.Take(method, path) }

// Stall holds every REST call, after the concurrency gate admitted it,
// until release is called; each held call sends once on arrived. Tests
// use it to keep calls in flight without sleeping, for example to reach
// the concurrency limit.
func (s *Server) Stall() (arrived <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.stall)
}

// HoldAnswers lets every REST call be handled and committed, then holds
// its answer until release is called (or the client gives up); each held
// call sends once on committed. It is the deterministic form of a slow
// answer (§6.6): tests cancel the client after the commit without waiting
// on the wall clock.
func (s *Server) HoldAnswers() (committed <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.hold)
}

// ExhaustConcurrency fills every free concurrency slot of the account with
// pretend requests that finish when the sandbox clock reaches now+d, so the
// next call is refused with CONCURRENCY_LIMIT_EXCEEDED (§4.6) until then.
func (s *Server) ExhaustConcurrency(accountID string, d time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.companies[HostForm(accountID)]
	if co == nil {
		return
	}
	limit := s.limitOf(co)
	for n := co.busy(now); n < limit; n++ {
		co.phantom = append(co.phantom, now.Add(d))
	}
}

// ReleaseConcurrency ends the pretend requests of ExhaustConcurrency.
func (s *Server) ReleaseConcurrency(accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if co := s.companies[HostForm(accountID)]; co != nil {
		co.phantom = nil
	}
}

// limitOf is the account's concurrency limit; <= 0 is unlimited. Caller holds s.mu.
func (s *Server) limitOf(co *company) int {
	if co.Concurrency != 0 {
		return co.Concurrency
	}
	return s.concurrency
}

// busy counts calls in flight, pretend ones included. Caller holds s.mu.
func (co *company) busy(now time.Time) int {
	live := co.phantom[:0]
	for _, end := range co.phantom {
		if now.Before(end) {
			live = append(live, end)
		}
	}
	co.phantom = live
	return co.inFlight + len(live)
}

// admit applies the account concurrency limit (§4.6: per account, covering
// SOAP, REST and RESTlets together). Caller holds s.mu; on success the
// caller must call s.release(co).
func (s *Server) admit(co *company, now time.Time) bool {
	limit := s.limitOf(co)
	if limit > 0 && co.busy(now) >= limit {
		return false
	}
	co.inFlight++
	return true
}

func (s *Server) release(co *company) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if co.inFlight > 0 {
		co.inFlight--
	}
}

// tooMany is §4.6's 429, without Retry-After.
func tooMany(w http.ResponseWriter) {
	writeError(w, http.StatusTooManyRequests, nil, concurrencyExceeded)
}
