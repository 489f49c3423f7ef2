package sandbox

import (
	"net/http"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Fault is an injected failure for Accounting API calls (accounting-platform-apis.md §6.6:
// dropped responses after commit, 5xx). Faults apply in injection order,
// each to its next Times matching calls.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a prefix of the path below /api.xro/2.0, compared without
	// case (Xero's routes are case-insensitive), e.g. "/ManualJournals";
	// "" matches any.
	Path string
	// Status, when set (500, 503), answers the call with that status before
	// it is handled. It sits in front of the idempotency store, like a
	// failing load balancer, so it is not replayed.
	Status int
	// DropResponse handles and commits the call (the idempotency store
	// keeps its answer), then closes the connection without answering.
	DropResponse bool
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
// if 30 minutes had passed for them only.
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	_ = s.change(func() error { s.oauth.ExpireAccessTokens(now); return nil })
}

// RevokeRefreshTokens makes every refresh token unusable, as when the user
// disconnects the app from the organisation in Xero: the next refresh is
// invalid_grant (accounting-platform-apis.md §1.1).
func (s *Server) RevokeRefreshTokens() {
	_ = s.change(func() error { s.oauth.RevokeRefreshTokens(); return nil })
}

// takeFault consumes the first armed fault matching the call. Caller holds s.mu.
func (s *Server) takeFault(method, path string) (Fault, bool) { return s.faults.Take(method, path) }

func writeFaultStatus(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		// accounting-platform-apis.md §1.5: "The Xero API is currently offline for maintenance" (legacy).
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("The Xero API is currently offline for maintenance"))
		return
	}
	// The body of Xero's 500 is not in the reference; the problem envelope
	// of its 401/403 is the closest documented shape.
	writeProblem(w, status, http.StatusText(status), "An error occurred in the sandbox (injected fault)")
}

// Stall holds every Accounting API call, after it has been admitted by the
// rate limiter, until release is called; each held call sends once on
// arrived. Tests use it to keep calls in flight without sleeping, for
// example to reach the concurrency limit.
func (s *Server) Stall() (arrived <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.stall)
}
