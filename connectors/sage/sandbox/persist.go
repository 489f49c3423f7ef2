package sandbox

import (
	"log/slog"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// WithDataDir keeps the sandbox's state in dir (sage.json), so a restart
// forgets nothing: businesses as tests or the API left them, every journal
// and sales invoice, the codes, grants and tokens issued, and the
// idempotency_ids still remembered. Rate windows, injected faults and held
// calls are not kept. The state is loaded by New (replacing seeded
// businesses) and saved after every call that may change it; a folder that
// cannot be used makes Start fail.
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// state is what the sandbox keeps across a restart.
type state struct {
	OAuth       sandboxkit.OAuthState[grant] `json:"oauth"`
	Businesses  []businessState              `json:"businesses"` // in seeding order
	Idempotency []idemState                  `json:"idempotency"`
}

type businessState struct {
	Business Business        `json:"business"`
	Journals []*Journal      `json:"journals"`
	Invoices []*SalesInvoice `json:"salesInvoices"`
}

// idemState is a finished create under an idempotency_id and the answer it
// replays.
type idemState struct {
	BusinessID  string    `json:"businessId"`
	Path        string    `json:"path"`
	ID          string    `json:"id"`
	Fingerprint [32]byte  `json:"fingerprint"`
	Expires     time.Time `json:"expires"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
}

// snapshot is the state to save. Caller holds s.mu.
func (s *Server) snapshot() state {
	st := state{OAuth: s.oauth.State()}
	for _, id := range s.order {
		b := s.businesses[id]
		st.Businesses = append(st.Businesses, businessState{Business: b.Business, Journals: b.journals, Invoices: b.invoices})
	}
	for k, e := range s.idem {
		select {
		case <-e.done: // only answered creates; their answer is final
		default:
			continue
		}
		st.Idempotency = append(st.Idempotency, idemState{
			BusinessID: k.businessID, Path: k.path, ID: k.id, Fingerprint: e.fingerprint, Expires: e.expires,
			Status: e.resp.status, Body: e.resp.body,
		})
	}
	return st
}

// restore replaces the state with st. Caller holds s.mu.
func (s *Server) restore(st state) {
	s.oauth.Restore(st.OAuth)
	s.businesses, s.order = map[string]*business{}, nil
	for _, b := range st.Businesses {
		s.order = append(s.order, b.Business.ID)
		s.businesses[b.Business.ID] = &business{Business: b.Business, journals: b.Journals, invoices: b.Invoices}
	}
	s.idem = map[idemKey]*idemEntry{}
	for _, e := range st.Idempotency {
		done := make(chan struct{})
		close(done)
		s.idem[idemKey{e.BusinessID, e.Path, e.ID}] = &idemEntry{
			fingerprint: e.Fingerprint, expires: e.Expires, done: done, resp: apiResponse{status: e.Status, body: e.Body},
		}
	}
}

// keep loads and keeps the state in s.dataDir.
func (s *Server) keep() {
	if s.dataDir == "" {
		return
	}
	s.keeper, s.openErr = sandboxkit.Keep(s.dataDir, "sage", &s.mu, s.snapshot, s.restore,
		func() time.Time { return s.now() }, func() *slog.Logger { return s.log })
}

// change applies fn under the lock and keeps the result: the test-facing
// mutators change state outside any HTTP call.
func (s *Server) change(fn func() error) error { return sandboxkit.Change(&s.mu, s.keeper, fn) }
