package sandbox

import (
	"log/slog"
	"time"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// WithDataDir keeps the sandbox's state in dir (qbo.json), so a restart
// forgets nothing: companies as tests or the API left them, every journal
// entry and transaction with what payments applied of each, the codes,
// grants and tokens issued, and the requestids remembered (for ever by
// default, §2.4; Rules.RequestIDMemory bounds them). Rate windows,
// injected faults and held calls are not kept. The state is loaded by New
// (replacing seeded companies) and saved after every call that may change
// it; a folder that cannot be used makes Start fail.
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// state is what the sandbox keeps across a restart.
type state struct {
	OAuth     sandboxkit.OAuthState[grant] `json:"oauth"`
	Companies []companyState               `json:"companies"` // in seeding order
}

type companyState struct {
	Company   Company                    `json:"company"`
	Journals  []*JournalEntry            `json:"journals"`
	Txns      []txnState                 `json:"transactions"`
	Applied   map[string]decimal.Decimal `json:"applied"`
	AppliedBy map[string][]Link          `json:"appliedBy"`
	NextID    int                        `json:"nextId"`
	Requests  []requestState             `json:"requests"`
}

// txnState is a transaction with its unapplied amount, which the API's
// Txn keeps unexported.
type txnState struct {
	Txn       *Txn            `json:"txn"`
	Unapplied decimal.Decimal `json:"unapplied"`
}

// requestState is a remembered requestid and the answer it replays.
type requestState struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Status int       `json:"status"`
	Body   []byte    `json:"body"`
}

// snapshot is the state to save. Caller holds s.mu.
func (s *Server) snapshot() state {
	st := state{OAuth: s.oauth.State()}
	for _, id := range s.order {
		c := s.companies[id]
		cs := companyState{Company: c.Company, Journals: c.journals, Applied: c.applied, AppliedBy: c.appliedBy, NextID: c.nextID}
		for _, t := range c.txns {
			cs.Txns = append(cs.Txns, txnState{Txn: t, Unapplied: t.unapplied})
		}
		for rid, e := range c.requests {
			select {
			case <-e.done: // only answered requests; their answer is final
			default:
				continue
			}
			cs.Requests = append(cs.Requests, requestState{ID: rid, At: e.at, Status: e.resp.status, Body: e.resp.body})
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
		c := &company{Company: cs.Company, journals: cs.Journals, applied: cs.Applied, appliedBy: cs.AppliedBy,
			nextID: cs.NextID, requests: map[string]*idemEntry{}}
		if c.applied == nil {
			c.applied = map[string]decimal.Decimal{}
		}
		if c.appliedBy == nil {
			c.appliedBy = map[string][]Link{}
		}
		for _, t := range cs.Txns {
			t.Txn.unapplied = t.Unapplied
			c.txns = append(c.txns, t.Txn)
		}
		for _, r := range cs.Requests {
			done := make(chan struct{})
			close(done)
			c.requests[r.ID] = &idemEntry{at: r.At, done: done, resp: apiResponse{status: r.Status, body: r.Body}}
		}
		s.order = append(s.order, cs.Company.RealmID)
		s.companies[cs.Company.RealmID] = c
	}
}

// keep loads and keeps the state in s.dataDir.
func (s *Server) keep() {
	if s.dataDir == "" {
		return
	}
	s.keeper, s.openErr = sandboxkit.Keep(s.dataDir, "qbo", &s.mu, s.snapshot, s.restore,
		func() time.Time { return s.now() }, func() *slog.Logger { return s.log })
}

// change applies fn under the lock and keeps the result: the test-facing
// mutators change state outside any HTTP call.
func (s *Server) change(fn func() error) error { return sandboxkit.Change(&s.mu, s.keeper, fn) }
