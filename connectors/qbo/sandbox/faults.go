package sandbox

import (
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// Fault is an injected failure for Accounting API calls (§6.6: dropped
// responses after commit, 5xx, slow responses, a stale SyncToken). Faults
// apply in injection order, each to its next Times matching calls. Calls
// refused before they are admitted (401, 403, 429) do not consume faults.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a prefix of the path below /v3/company/{realmId}, compared
	// without case (QBO entity names are case-insensitive), e.g.
	// "/journalentry" or "/query"; "" matches any.
	Path string
	// Status (500, 502, 503) answers the call with that status and a
	// SystemFault before it is handled, like a failing gateway: nothing is
	// committed and the requestid is not remembered.
	Status int
	// DropResponse handles and commits the call (the requestid keeps its
	// answer), then closes the connection without answering.
	DropResponse bool
	// Delay handles and commits the call, then holds the answer for Delay
	// of real time (or until the client gives up): a slow answer.
	Delay time.Duration
	// StaleSyncToken plays another user saving the entity first: an update
	// or delete gets the 5010 Stale Object Error (§2.2, §2.5).
	StaleSyncToken bool
	// FaultAs200 answers a validation Fault with HTTP 200 instead of 400
	// (§2.5: "and sometimes HTTP 200 with a Fault in the body").
	FaultAs200 bool
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
// if their 3600 seconds had passed; refresh tokens are unaffected.
func (s *Server) ExpireAccessTokens() {
	now := s.now()
	_ = s.change(func() error {
		s.oauth.ExpireAccessTokens(now)
		return nil
	})
}

// takeFault consumes the first armed fault matching the call. Caller holds s.mu.
func (s *Server) takeFault(method, path string) (Fault, bool) { return s.faults.Take(method, path) }

// Stall holds every Accounting API call, after the rate limiter admitted
// it, until release is called; each held call sends once on arrived. Tests
// use it to keep calls in flight without sleeping, for example to reach the
// concurrency limit.
func (s *Server) Stall() (arrived <-chan struct{}, release func()) {
	return sandboxkit.Arm(&s.mu, &s.stall)
}
