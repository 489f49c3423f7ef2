package sandbox

import (
	"log/slog"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// WithDataDir keeps the sandbox's state in dir (freeagent.json), so a
// restart forgets nothing: companies as tests or the API left them (account
// locks included), every journal set (deleted ones marked) and invoice, the
// create requests received, and the codes, grants and tokens issued. Rate
// windows, injected faults and held calls are not kept. The state is
// loaded by New (replacing seeded companies) and saved after every call
// that may change it; a folder that cannot be used makes Start fail.
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// state is what the sandbox keeps across a restart.
type state struct {
	OAuth     sandboxkit.OAuthState[grant] `json:"oauth"`
	Companies []companyState               `json:"companies"` // in seeding order
}

type companyState struct {
	Company     Company           `json:"company"`
	Invoices    []*Invoice        `json:"invoices"`
	NextInvoice int               `json:"nextInvoice"`
	JournalSets []journalSetState `json:"journalSets"`
	Creates     [][]byte          `json:"creates"`
	NextSet     int               `json:"nextSet"`
	NextLine    int               `json:"nextLine"`
}

// journalSetState is a journal set and whether it was deleted, which the
// API's JournalSet keeps unexported.
type journalSetState struct {
	Set     *JournalSet `json:"set"`
	Deleted bool        `json:"deleted,omitempty"`
}

// snapshot is the state to save. Caller holds s.mu.
func (s *Server) snapshot() state {
	st := state{OAuth: s.oauth.State()}
	for _, sd := range s.order {
		c := s.companies[sd]
		cs := companyState{Company: c.Company, Invoices: c.invoiceList, NextInvoice: c.nextInvoice, Creates: c.creates,
			NextSet: c.nextSet, NextLine: c.nextLine}
		for _, j := range c.journals {
			cs.JournalSets = append(cs.JournalSets, journalSetState{Set: j, Deleted: j.deleted})
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
		c := &company{Company: cs.Company, invoiceList: cs.Invoices, nextInvoice: cs.NextInvoice, creates: cs.Creates,
			nextSet: cs.NextSet, nextLine: cs.NextLine}
		for _, j := range cs.JournalSets {
			j.Set.deleted = j.Deleted
			c.journals = append(c.journals, j.Set)
		}
		s.order = append(s.order, cs.Company.Subdomain)
		s.companies[cs.Company.Subdomain] = c
	}
}

// keep loads and keeps the state in s.dataDir.
func (s *Server) keep() {
	if s.dataDir == "" {
		return
	}
	s.keeper, s.openErr = sandboxkit.Keep(s.dataDir, "freeagent", &s.mu, s.snapshot, s.restore,
		func() time.Time { return s.now() }, func() *slog.Logger { return s.log })
}

// change applies fn under the lock and keeps the result: the test-facing
// mutators change state outside any HTTP call.
func (s *Server) change(fn func() error) error { return sandboxkit.Change(&s.mu, s.keeper, fn) }
