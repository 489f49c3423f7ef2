package sandbox

import (
	"net/http"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Fault is an injected failure for API calls (apis.md §6.6: dropped
// responses after commit, 5xx, slow responses). Faults apply in injection
// order, each to its next Times matching calls. A fault is taken after the
// token and rate-limit checks, so a faulted call counts against the limits
// as it would at FreeAgent.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a prefix of the path below /v2, e.g. "/journal_sets"; ""
	// matches any.
	Path string
	// Status, when set (500, 502, 503), answers with that status before
	// the call is handled, so nothing is committed.
	Status int
	// DropResponse handles and commits the call, then closes the connection
	// without answering: the client cannot tell whether it worked.
	DropResponse bool
	// Delay holds the call for this long (real time) before handling it,
	// for running the sandbox by hand. Tests use Stall instead, which needs
	// no sleeping.
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

// ExpireAccessTokens makes every access token issued so far expired, as if
// their hour (apis.md §5.1) had passed for them only.
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	_ = s.change(func() error {
		s.oauth.ExpireAccessTokens(now)
		return nil
	})
}

// RevokeRefreshTokens makes every refresh token unusable, as FreeAgent
// may do ("FreeAgent may revoke refresh tokens", apis.md §5.1).
func (s *Server) RevokeRefreshTokens() {
	_ = s.change(func() error {
		s.oauth.RevokeRefreshTokens()
		return nil
	})
}

// takeFault consumes the first armed fault matching the call. Caller holds s.mu.
func (s *Server) takeFault(method, path string) (Fault, bool) { return s.faults.Take(method, path) }

// writeFaultStatus answers an injected 5xx. FreeAgent's 5xx body is not in
// the reference; the sandbox sends a short HTML page, as a failing Rails
// application or load balancer would, so clients must not expect JSON.
func (s *Server) writeFaultStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<html><body><h1>" + s.msg.ServerError + "</h1></body></html>"))
}

// Stall holds every API call, after it has been admitted by the rate
// limiter and before it is handled, until release is called; each held
// call sends once on arrived. Tests use it for slow answers without
// sleeping: a client that gives up while held has committed nothing.
func (s *Server) Stall() (arrived <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.stall)
}
