package sandbox

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// WithDataDir keeps the sandbox's state in dir (netsuite.json), so a
// restart forgets nothing: accounts as tests or the API left them (periods
// included), every journal entry, async jobs and their idempotency keys,
// and the codes, grants and tokens issued. Calls in flight, the
// concurrency gate's pretend calls, injected faults and held calls are not
// kept. The state is loaded by New (replacing seeded accounts) and saved
// after every call that may change it; a folder that cannot be used makes
// Start fail.
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// state is what the sandbox keeps across a restart.
type state struct {
	OAuth     sandboxkit.OAuthState[grant] `json:"oauth"`
	Companies []companyState               `json:"companies"` // in seeding order
}

type companyState struct {
	Company  Company           `json:"company"`
	Journals []*Journal        `json:"journals"`
	NextID   int               `json:"nextId"`
	Jobs     []jobState        `json:"jobs"`
	IdemKeys map[string]string `json:"idempotencyKeys"`
	NextJob  int               `json:"nextJob"`
}

type jobState struct {
	ID      string      `json:"id"`
	Created time.Time   `json:"created"`
	Done    bool        `json:"done"`
	Status  int         `json:"status"`
	Header  http.Header `json:"header"`
	Body    []byte      `json:"body"`
}

// snapshot is the state to save. Caller holds s.mu.
func (s *Server) snapshot() state {
	st := state{OAuth: s.oauth.State()}
	for _, k := range s.order {
		co := s.companies[k]
		cs := companyState{Company: co.Company, Journals: co.journals, NextID: co.nextID, IdemKeys: co.idemKeys, NextJob: co.nextJob}
		for _, j := range co.jobs {
			cs.Jobs = append(cs.Jobs, jobState{ID: j.id, Created: j.created, Done: j.done, Status: j.result.status, Header: j.result.header, Body: j.result.body})
		}
		st.Companies = append(st.Companies, cs)
	}
	return st
}

// restore replaces the state with st. Caller holds s.mu.
func (s *Server) restore(st state) {
	s.oauth.Restore(st.OAuth)
	s.companies, s.order = map[string]*company{}, nil
	for _, cs := range st.Companies {
		co := &company{Company: cs.Company, journals: cs.Journals, nextID: cs.NextID, jobs: map[string]*job{},
			idemKeys: cs.IdemKeys, nextJob: cs.NextJob}
		if co.idemKeys == nil {
			co.idemKeys = map[string]string{}
		}
		for _, j := range cs.Jobs {
			co.jobs[j.ID] = &job{id: j.ID, created: j.Created, done: j.Done, result: apiResponse{status: j.Status, header: j.Header, body: j.Body}}
		}
		k := HostForm(cs.Company.AccountID)
		s.order = append(s.order, k)
		s.companies[k] = co
	}
}

// keep loads and keeps the state in s.dataDir.
func (s *Server) keep() {
	if s.dataDir == "" {
		return
	}
	s.keeper, s.openErr = sandboxkit.Keep(s.dataDir, "netsuite", &s.mu, s.snapshot, s.restore,
		func() time.Time { return s.now() }, func() *slog.Logger { return s.log })
}

// change applies fn under the lock and keeps the result: the test-facing
// mutators change state outside any HTTP call.
func (s *Server) change(fn func() error) error { return sandboxkit.Change(&s.mu, s.keeper, fn) }
