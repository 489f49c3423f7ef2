package sandbox

import (
	"net/http"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Fault is an injected failure for Accounting API calls (apis.md §6.6:
// dropped responses after commit, 5xx, slow answers). Faults apply in
// injection order, each to its next Times matching calls.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a prefix of the path below /v3.1, e.g. "/journals"; "" matches
	// any.
	Path string
	// Status, when set (500, 503), answers the call with that status before
	// it is handled, like a failing load balancer: nothing is committed and
	// nothing is remembered under the idempotency_id.
	Status int
	// DropResponse handles and commits the call (the idempotency store
	// keeps its answer), then closes the connection without answering.
	DropResponse bool
	// Delay holds the answer for this long in real time before writing it
	// (the work is already committed). Tests that must not sleep use Stall
	// instead.
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

// ExpireAccessTokens makes every access token issued so far expired, as
// if 5 minutes had passed for them only (apis.md §6.1 clock hook).
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	_ = s.change(func() error {
		s.oauth.ExpireAccessTokens(now)
		return nil
	})
}

// takeFault consumes the first armed fault matching the call. Caller holds s.mu.
func (s *Server) takeFault(method, path string) (Fault, bool) { return s.faults.Take(method, path) }

// writeFaultStatus answers an injected 5xx. apis.md §3.5 lists 500 and 503
// without bodies; the sandbox uses the $-keyed error array of §3.5 (the
// data codes are not in the reference).
func writeFaultStatus(w http.ResponseWriter, status int) {
	code := "InternalServerError"
	if status == http.StatusServiceUnavailable {
		code = "ServiceUnavailable"
	}
	writeErrors(w, status, sageError{Severity: "error", DataCode: code, Message: http.StatusText(status) + " (injected by the sandbox)", Source: ""})
}

// Stall holds every Accounting API call, after it has been admitted by the
// rate limiter and before it is handled, until release is called; each
// held call sends once on arrived. Tests use it for slow answers (a client
// timeout) and for calls in flight, without sleeping.
func (s *Server) Stall() (arrived <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.stall)
}
