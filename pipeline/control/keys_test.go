package control_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A clock the test moves.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) now() time.Time        { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) move(d time.Duration)  { c.ns.Add(int64(d)) }
func newTestClock(at time.Time) *testClock { c := &testClock{}; c.ns.Store(at.UnixNano()); return c }

// A rotated key keeps working for its grace and not a moment longer; its
// replacement has its scopes and works at once.
func TestRotatedKeyWorksForItsGrace(t *testing.T) {
	b := startBroker(t)
	clk := newTestClock(epoch)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), clk.now)
	ctx := testCtx(t)
	tenant, err := s.CreateTenant(ctx, "Shopfront POS")
	if err != nil {
		t.Fatal(err)
	}
	old, oldSecret, err := s.IssueAPIKey(ctx, tenant.GetId(), "orders", []v1.Scope{v1.Scope_SCOPE_INGEST, v1.Scope_SCOPE_INGEST})
	if err != nil {
		t.Fatal(err)
	}
	if got := old.GetScopes(); len(got) != 1 || got[0] != v1.Scope_SCOPE_INGEST {
		t.Errorf("scopes %v, want [SCOPE_INGEST] once", got)
	}
	nk, newSecret, err := s.RotateAPIKey(ctx, tenant.GetId(), old.GetId(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, scopes, ok := s.AuthenticateKey(newSecret); !ok || len(scopes) != 1 || scopes[0] != v1.Scope_SCOPE_INGEST || nk.GetName() != "orders" {
		t.Errorf("the new key: ok %v, scopes %v, name %q; want the old key's", ok, scopes, nk.GetName())
	}
	clk.move(time.Hour - time.Millisecond)
	if _, _, ok := s.AuthenticateKey(oldSecret); !ok {
		t.Error("the old key stopped before its grace ended")
	}
	clk.move(time.Millisecond)
	if _, _, ok := s.AuthenticateKey(oldSecret); ok {
		t.Error("the old key works after its grace ended")
	}
	if _, _, err := s.RotateAPIKey(ctx, tenant.GetId(), old.GetId(), 0); !errors.Is(err, control.ErrKeyRetired) {
		t.Errorf("rotating a rotated key: %v, want ErrKeyRetired", err)
	}
	if _, _, err := s.RotateAPIKey(ctx, tenant.GetId(), nk.GetId(), control.MaxRotationGrace+time.Second); err == nil {
		t.Error("a grace past 7 days was taken")
	}
	if _, _, err := s.RotateAPIKey(ctx, "another-tenant", nk.GetId(), 0); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("rotating under another tenant: %v, want ErrNotFound", err)
	}
}

// Two processes rotating one key at once: one rotation wins; the other
// fails with ErrKeyRetired and its new key is revoked, so the tenant ends
// with the old key (in its grace) and one working replacement.
func TestConcurrentRotationsMakeOneReplacement(t *testing.T) {
	b := startBroker(t)
	sealer := newSealer(t, newKey(t))
	x, _ := openStore(t, b.Cluster(), sealer, fixedClock())
	y, _ := openStore(t, b.Cluster(), sealer, fixedClock())
	ctx := testCtx(t)
	tenant, err := x.CreateTenant(ctx, "Shopfront POS")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		k, _, err := x.IssueAPIKey(ctx, tenant.GetId(), "", []v1.Scope{v1.Scope_SCOPE_READ})
		if err != nil {
			t.Fatal(err)
		}
		await(t, y, "the key in the second store", func() bool {
			for _, o := range y.APIKeys(tenant.GetId()) {
				if o.GetId() == k.GetId() {
					return true
				}
			}
			return false
		})
		var wg sync.WaitGroup
		var secrets [2]string
		var errs [2]error
		for i, s := range []*control.Store{x, y} {
			wg.Go(func() { _, secrets[i], errs[i] = s.RotateAPIKey(ctx, tenant.GetId(), k.GetId(), time.Hour) })
		}
		wg.Wait()
		won := 0
		for i := range 2 {
			switch {
			case errs[i] == nil:
				won++
			case !errors.Is(errs[i], control.ErrKeyRetired):
				t.Fatalf("round %d: %v", round, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d rotations won, want 1 (%v)", round, won, errs)
		}
		working := 0
		await(t, x, "both rotations", func() bool {
			working = 0
			for i := range 2 {
				if secrets[i] == "" {
					continue
				}
				if _, _, ok := x.AuthenticateKey(secrets[i]); ok {
					working++
				}
			}
			return working == 1
		})
		// Retire the round's keys so the tenant stays under its limit.
		for _, o := range x.APIKeys(tenant.GetId()) {
			if _, err := x.RevokeAPIKey(ctx, tenant.GetId(), o.GetId()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A tenant holds at most MaxActiveKeys working keys; revoking one makes
// room. Scopes are checked.
func TestKeyLimitAndScopes(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	tenant, err := s.CreateTenant(ctx, "Shopfront POS")
	if err != nil {
		t.Fatal(err)
	}
	var first *v1.ApiKey
	for i := range control.MaxActiveKeys {
		k, _, err := s.IssueAPIKey(ctx, tenant.GetId(), "", []v1.Scope{v1.Scope_SCOPE_READ})
		if err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
		if first == nil {
			first = k
		}
	}
	if _, _, err := s.IssueAPIKey(ctx, tenant.GetId(), "", []v1.Scope{v1.Scope_SCOPE_READ}); !errors.Is(err, control.ErrLimit) {
		t.Fatalf("key %d: %v, want ErrLimit", control.MaxActiveKeys+1, err)
	}
	if _, err := s.RevokeAPIKey(ctx, tenant.GetId(), first.GetId()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.IssueAPIKey(ctx, tenant.GetId(), "", []v1.Scope{v1.Scope_SCOPE_READ}); err != nil {
		t.Errorf("after a revocation: %v", err)
	}
	for _, bad := range [][]v1.Scope{nil, {v1.Scope_SCOPE_OPERATOR}, {v1.Scope_SCOPE_UNSPECIFIED}, {v1.Scope(99)}} {
		if _, err := control.CheckScopes(bad); err == nil {
			t.Errorf("CheckScopes(%v) took them", bad)
		}
	}
	if _, _, err := s.IssueAPIKey(ctx, "no-such-tenant", "", []v1.Scope{v1.Scope_SCOPE_READ}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("a key for no tenant: %v, want ErrNotFound", err)
	}
}
