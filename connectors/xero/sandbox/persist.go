package sandbox

import (
	"log/slog"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// WithDataDir keeps the sandbox's state in dir (xero.json), so a restart
// forgets nothing: organisations as tests or the API left them, every
// posted document, the identity service's connections, the codes, grants
// and tokens it issued, and the idempotency keys it still remembers. Rate
// windows, injected faults and held calls are not kept. The state is
// loaded by New (replacing seeded organisations) and saved after every
// call that may change it; a folder that cannot be used makes Start fail.
func WithDataDir(dir string) Option { return func(s *Server) { s.dataDir = dir } }

// state is what the sandbox keeps across a restart.
type state struct {
	OAuth         sandboxkit.OAuthState[grant] `json:"oauth"`
	Organisations []orgState                   `json:"organisations"` // in seeding order
	Connections   []*connection                `json:"connections"`
	Idempotency   []idemState                  `json:"idempotency"`
}

type orgState struct {
	Organisation Organisation       `json:"organisation"`
	Journals     []*Journal         `json:"journals"`
	Invoices     []*Invoice         `json:"invoices"`
	Payments     []*Payment         `json:"payments"`
	Allocations  []*Allocation      `json:"allocations"`
	BankTxns     []*BankTransaction `json:"bankTransactions"`
	Transfers    []*BankTransfer    `json:"bankTransfers"`
}

// idemState is a finished idempotent call and the answer it replays.
type idemState struct {
	ClientID    string    `json:"clientId"`
	Key         string    `json:"key"`
	Fingerprint [32]byte  `json:"fingerprint"`
	Expires     time.Time `json:"expires"`
	Status      int       `json:"status"`
	ContentType string    `json:"contentType"`
	Body        []byte    `json:"body"`
}

// snapshot is the state to save. Caller holds s.mu.
func (s *Server) snapshot() state {
	st := state{OAuth: s.oauth.State(), Connections: s.connections}
	for _, id := range s.orgOrder {
		o := s.orgs[id]
		st.Organisations = append(st.Organisations, orgState{
			Organisation: o.Organisation, Journals: o.journals, Invoices: o.invoices, Payments: o.payments,
			Allocations: o.allocations, BankTxns: o.bankTxns, Transfers: o.transfers,
		})
	}
	for k, e := range s.idem {
		select {
		case <-e.done: // only answered calls; their answer is final
		default:
			continue
		}
		st.Idempotency = append(st.Idempotency, idemState{
			ClientID: k.clientID, Key: k.key, Fingerprint: e.fingerprint, Expires: e.expires,
			Status: e.resp.status, ContentType: e.resp.contentType, Body: e.resp.body,
		})
	}
	return st
}

// restore replaces the state with st. Caller holds s.mu.
func (s *Server) restore(st state) {
	s.oauth.Restore(st.OAuth)
	s.orgs, s.orgOrder = map[string]*org{}, nil
	for _, o := range st.Organisations {
		id := o.Organisation.TenantID
		s.orgOrder = append(s.orgOrder, id)
		s.orgs[id] = &org{Organisation: o.Organisation, journals: o.Journals, books: books{
			invoices: o.Invoices, payments: o.Payments, allocations: o.Allocations, bankTxns: o.BankTxns, transfers: o.Transfers,
		}}
	}
	s.connections = st.Connections
	s.idem = map[idemKey]*idemEntry{}
	for _, e := range st.Idempotency {
		done := make(chan struct{})
		close(done)
		s.idem[idemKey{e.ClientID, e.Key}] = &idemEntry{
			fingerprint: e.Fingerprint, expires: e.Expires, done: done,
			resp: apiResponse{status: e.Status, contentType: e.ContentType, body: e.Body},
		}
	}
}

// keep loads and keeps the state in s.dataDir.
func (s *Server) keep() {
	if s.dataDir == "" {
		return
	}
	s.keeper, s.openErr = sandboxkit.Keep(s.dataDir, "xero", &s.mu, s.snapshot, s.restore,
		func() time.Time { return s.now() }, func() *slog.Logger { return s.log })
}

// change applies fn under the lock and keeps the result: the test-facing
// mutators change state outside any HTTP call.
func (s *Server) change(fn func() error) error { return sandboxkit.Change(&s.mu, s.keeper, fn) }
