package control_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// These tests run two stores on one broker, as two gateways (or a gateway
// and a push worker) would: each has its own producer and its own view.

// await blocks until cond holds of s's view.
func await(t *testing.T, s *control.Store, what string, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	for {
		ch := s.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

func bump(field *string) error {
	v, err := strconv.Atoi(*field)
	if err != nil {
		return err
	}
	*field = strconv.Itoa(v + 1)
	return nil
}

// twoStores opens two stores on one broker sharing a connection "conn-1"
// whose counters start at "0".
func twoStores(t *testing.T) (a, b *control.Store, brokers kafka.Cluster) {
	t.Helper()
	br := startBroker(t)
	sealer := newSealer(t, newKey(t))
	a, _ = openStore(t, br.Cluster(), sealer, fixedClock())
	b, _ = openStore(t, br.Cluster(), sealer, fixedClock())
	conn := &v1.Connection{Id: "conn-1", CompanyId: "co-1", PlatformKey: "xero", Status: "PendingAuth", PlatformTenantName: "0", LastError: "0"}
	if err := a.PutConnection(testCtx(t), conn); err != nil {
		t.Fatal(err)
	}
	await(t, b, "the connection in the second store", func() bool { _, ok := b.Connection("conn-1"); return ok })
	return a, b, br.Cluster()
}

// A write based on a connection another process has changed since loses,
// and the update runs again on the newer connection: nothing is lost and
// nothing is applied twice.
func TestUpdateConnectionLosesToAnotherProcessThenRetries(t *testing.T) {
	a, b, _ := twoStores(t)
	ctx := testCtx(t)
	calls := 0
	got, err := a.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error {
		calls++
		if calls == 1 {
			// The other process writes between this one's read and its write.
			if _, err := b.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { return bump(&c.LastError) }); err != nil {
				return err
			}
		}
		return bump(&c.PlatformTenantName)
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("update ran %d times, want 2: the first write should have lost to the other process's", calls)
	}
	if got.GetPlatformTenantName() != "1" || got.GetLastError() != "1" {
		t.Errorf("returned connection has counters %s and %s, want 1 and 1", got.GetPlatformTenantName(), got.GetLastError())
	}
	for name, s := range map[string]*control.Store{"writer": a, "other": b} {
		await(t, s, name+"'s view of both updates", func() bool {
			c, _ := s.Connection("conn-1")
			return c.GetPlatformTenantName() == "1" && c.GetLastError() == "1"
		})
	}
}

// A process that loses every attempt gives up with ErrConflict after a
// bounded number, and none of its attempts shows in any view.
func TestUpdateConnectionGivesUpWithErrConflict(t *testing.T) {
	a, b, _ := twoStores(t)
	ctx := testCtx(t)
	calls := 0
	_, err := a.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error {
		calls++
		if _, err := b.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { return bump(&c.LastError) }); err != nil {
			return err
		}
		c.Status = "Linked"
		return nil
	})
	if !errors.Is(err, control.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if calls != 16 {
		t.Errorf("update ran %d times before giving up, want 16", calls)
	}
	want := strconv.Itoa(calls)
	for name, s := range map[string]*control.Store{"loser": a, "winner": b} {
		await(t, s, name+"'s view of the winner's updates", func() bool {
			c, _ := s.Connection("conn-1")
			return c.GetLastError() == want
		})
		if c, _ := s.Connection("conn-1"); c.GetStatus() != "PendingAuth" {
			t.Errorf("%s's view has status %q: a losing write was applied", name, c.GetStatus())
		}
	}
}

// An OAuth state spent by two processes at once is accepted once.
func TestSingleUseStateAcrossProcesses(t *testing.T) {
	a, b, _ := twoStores(t)
	ctx := testCtx(t)
	errSpent := errors.New("state already spent")
	const rounds = 100
	for i := range rounds {
		state := fmt.Sprintf("state-%d", i)
		if _, err := a.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { c.OauthStateSha256 = state; return nil }); err != nil {
			t.Fatal(err)
		}
		await(t, b, "the new state in the second store", func() bool {
			c, _ := b.Connection("conn-1")
			return c.GetOauthStateSha256() == state
		})
		var spent atomic.Int32
		var wg sync.WaitGroup
		for _, s := range []*control.Store{a, b} {
			wg.Go(func() {
				_, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error {
					if c.GetOauthStateSha256() != state {
						return errSpent
					}
					c.OauthStateSha256 = ""
					return nil
				})
				switch {
				case err == nil:
					spent.Add(1)
				case !errors.Is(err, errSpent):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := spent.Load(); n != 1 {
			t.Fatalf("round %d: the state was accepted %d times, want once", i, n)
		}
	}
}

// Saves of one company's configuration in two processes at once each get a
// version of their own: none overwrites another.
func TestPutConfigAcrossProcesses(t *testing.T) {
	a, b, _ := twoStores(t)
	ctx := testCtx(t)
	const n = 20
	type saved struct {
		version int64
		marker  string
	}
	var mu sync.Mutex
	var all []saved
	var wg sync.WaitGroup
	for name, s := range map[string]*control.Store{"a": a, "b": b} {
		wg.Go(func() {
			for i := range n {
				marker := fmt.Sprintf("%s-%d", name, i)
				cv, err := s.PutConfig(ctx, "co-1", &v1.SyncConfiguration{Schedule: &v1.Schedule{StartDate: marker}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, saved{cv.GetVersion(), marker})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(all) != 2*n {
		t.Fatalf("%d saves returned, want %d", len(all), 2*n)
	}
	slices.SortFunc(all, func(x, y saved) int { return int(x.version - y.version) })
	for i, sv := range all {
		if sv.version != int64(i+1) {
			t.Fatalf("versions returned %v: want 1 to %d, each once", all, 2*n)
		}
	}
	for name, s := range map[string]*control.Store{"a": a, "b": b} {
		await(t, s, name+"'s view of every version", func() bool { cv, _ := s.Config("co-1"); return cv.GetVersion() == 2*n })
		for _, sv := range all {
			cv, ok := s.ConfigVersion("co-1", sv.version)
			if !ok || cv.GetConfig().GetSchedule().GetStartDate() != sv.marker {
				t.Errorf("%s: version %d holds %q, want the save that was told it made it (%q)", name, sv.version,
					cv.GetConfig().GetSchedule().GetStartDate(), sv.marker)
			}
		}
	}
}

// The same idempotency key sent to two processes at once makes one company,
// and both callers get it.
func TestCreateCompanyOnceAcrossProcesses(t *testing.T) {
	a, b, _ := twoStores(t)
	ctx := testCtx(t)
	const rounds = 100
	for i := range rounds {
		key := fmt.Sprintf("key-%d", i)
		var got [2]*v1.Company
		var replayed [2]bool
		var wg sync.WaitGroup
		for j, s := range []*control.Store{a, b} {
			wg.Go(func() {
				c, r, err := s.CreateCompanyOnce(ctx, "tenant-1", key, "Corner Coffee", "")
				if err != nil {
					t.Error(err)
					return
				}
				got[j], replayed[j] = c, r
			})
		}
		wg.Wait()
		if got[0] == nil || got[1] == nil {
			t.FailNow()
		}
		if got[0].GetId() != got[1].GetId() {
			t.Fatalf("round %d: the two callers got companies %s and %s, want one", i, got[0].GetId(), got[1].GetId())
		}
		if replayed[0] == replayed[1] {
			t.Fatalf("round %d: replayed = %v; exactly one caller made the company", i, replayed)
		}
	}
	for name, s := range map[string]*control.Store{"a": a, "b": b} {
		await(t, s, name+"'s view of every company", func() bool { return len(s.Companies()) >= rounds })
		if n := len(s.Companies()); n != rounds {
			t.Errorf("%s's view holds %d companies after %d keys, want %d", name, n, rounds, rounds)
		}
	}

	// The key with other parameters is refused; under another tenant it
	// is another key.
	if _, _, err := b.CreateCompanyOnce(ctx, "tenant-1", "key-0", "Another Name", ""); !errors.Is(err, control.ErrIdempotencyMismatch) || !errors.Is(err, control.ErrConflict) {
		t.Errorf("same key, other name: err = %v, want ErrIdempotencyMismatch (an ErrConflict)", err)
	}
	first, _, _ := a.CreateCompanyOnce(ctx, "tenant-1", "key-0", "Corner Coffee", "")
	other, replayed, err := a.CreateCompanyOnce(ctx, "tenant-2", "key-0", "Corner Coffee", "")
	if err != nil || replayed || other.GetId() == first.GetId() || other.GetTenantId() != "tenant-2" {
		t.Errorf("same key, other tenant: %v, replayed %v, err %v; want a new company of tenant-2", other, replayed, err)
	}
}

// Compaction keeps the last record of each key, in order, and drops the
// removed ones: a store that reads the compacted topic holds the same
// view, so every process agrees on every guard's winner however long ago
// it was written.
func TestCompactedControlTopicGivesTheSameView(t *testing.T) {
	a, b, brokers := twoStores(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for name, s := range map[string]*control.Store{"a": a, "b": b} {
		wg.Go(func() {
			for i := range 15 {
				if _, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { return bump(&c.LastError) }); err != nil {
					t.Error(err)
				}
				if _, err := s.PutConfig(ctx, "co-1", &v1.SyncConfiguration{Schedule: &v1.Schedule{StartDate: fmt.Sprintf("%s-%d", name, i)}}); err != nil {
					t.Error(err)
				}
				if _, _, err := s.CreateCompanyOnce(ctx, "tenant-1", fmt.Sprintf("key-%d", i%5), "Corner Coffee", ""); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	await(t, a, "every write", func() bool {
		c, _ := a.Connection("conn-1")
		cv, _ := a.Config("co-1")
		return c.GetLastError() == "30" && cv.GetVersion() == 30
	})

	const compacted = "control.compacted"
	kept := compactInto(t, brokers, controlTopic, compacted)
	c, err := control.Open(ctx, brokers, compacted, newSealer(t, newKey(t)), testLog(), control.WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !viewsEqual(t, a, c) {
		t.Errorf("the compacted topic (%d records kept) gives another view", kept)
	}
	// The losers and the superseded records were removed: what is kept is
	// one record per connection, configuration version and company.
	if want := 1 + 30 + 5; kept != want {
		t.Errorf("compaction kept %d records, want %d: removed attempts are left behind", kept, want)
	}
	for i := range 5 {
		want, _, _ := a.CreateCompanyOnce(ctx, "tenant-1", fmt.Sprintf("key-%d", i), "Corner Coffee", "")
		got, replayed, err := c.CreateCompanyOnce(ctx, "tenant-1", fmt.Sprintf("key-%d", i), "Corner Coffee", "")
		if err != nil || !replayed || got.GetId() != want.GetId() {
			t.Errorf("key-%d after compaction: %s (replayed %v, err %v), want %s", i, got.GetId(), replayed, err, want.GetId())
		}
	}
}

// compactInto copies what compaction of topic from would keep into a new
// topic to, in order, and returns how many records that is.
func compactInto(t *testing.T, brokers kafka.Cluster, from, to string) int {
	t.Helper()
	ctx := testCtx(t)
	cl, err := kgo.NewClient(kafka.ClientOpts(brokers, testLog())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(from, 0)
	var recs []*kgo.Record
	last := map[string]int{}
	if err := kafka.ReadPartitionRange(ctx, brokers, from, 0, 0, end.Offset, testLog(), func(r *kgo.Record) error {
		last[string(r.Key)] = len(recs)
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, to); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i, r := range recs {
		if last[string(r.Key)] != i || r.Value == nil {
			continue
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: to, Key: r.Key, Value: r.Value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		kept++
	}
	return kept
}

// viewsEqual compares what two stores hold of the connection, the
// configuration versions and the companies these tests write.
func viewsEqual(t *testing.T, x, y *control.Store) bool {
	t.Helper()
	eq := true
	cx, _ := x.Connection("conn-1")
	cy, _ := y.Connection("conn-1")
	if !proto.Equal(cx, cy) {
		t.Errorf("connection: %v against %v", cx, cy)
		eq = false
	}
	vx, _ := x.Config("co-1")
	vy, _ := y.Config("co-1")
	if vx.GetVersion() != vy.GetVersion() {
		t.Errorf("latest configuration version %d against %d", vx.GetVersion(), vy.GetVersion())
		eq = false
	}
	for v := int64(1); v <= vx.GetVersion(); v++ {
		a, _ := x.ConfigVersion("co-1", v)
		b, _ := y.ConfigVersion("co-1", v)
		if !proto.Equal(a, b) {
			t.Errorf("configuration version %d: %v against %v", v, a, b)
			eq = false
		}
	}
	if a, b := x.Companies(), y.Companies(); !slices.Equal(a, b) {
		t.Errorf("companies %v against %v", a, b)
		eq = false
	}
	return eq
}

// A writer that dies between losing and removing its attempt leaves the
// attempt behind. Readers ignore it while its winner stands, and once a
// later write has superseded the winner (and removed it), the leftover is
// followed by that later write, which is what every reader ends with.
func TestLeftoverLosingAttemptNeverWins(t *testing.T) {
	br := startBroker(t)
	ctx := testCtx(t)
	cl, err := kgo.NewClient(kafka.ClientOpts(br.Cluster(), testLog())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	put := func(key string, rev int64, write, status string) {
		t.Helper()
		var value []byte
		if status != "" {
			value, err = proto.Marshal(&v1.ControlRecord{Entity: &v1.ControlRecord_Connection{Connection: &v1.Connection{Id: "conn-1", Status: status}},
				Guard: "connection/conn-1", Revision: rev, WriteId: write})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: controlTopic, Key: []byte(key), Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	view := func(topic string) string {
		t.Helper()
		s, err := control.Open(ctx, br.Cluster(), topic, newSealer(t, newKey(t)), testLog())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, _ := s.Connection("conn-1")
		return c.GetStatus()
	}
	put("connection/conn-1#w1", 1, "w1", "PendingAuth")
	put("connection/conn-1#w2", 2, "w2", "Linked")
	put("connection/conn-1#l2", 2, "l2", "Unlinked") // lost to w2; its writer died
	put("connection/conn-1#w1", 0, "", "")           // w2's writer removed what it superseded
	if got := view(controlTopic); got != "Linked" {
		t.Fatalf("with the leftover after its winner: status %q, want Linked", got)
	}
	compactInto(t, br.Cluster(), controlTopic, "c1")
	if got := view("c1"); got != "Linked" {
		t.Fatalf("compacted: status %q, want Linked", got)
	}
	put("connection/conn-1#w3", 3, "w3", "Deauthorized")
	put("connection/conn-1#w2", 0, "", "")
	compactInto(t, br.Cluster(), controlTopic, "c2")
	for _, topic := range []string{controlTopic, "c2"} {
		if got := view(topic); got != "Deauthorized" {
			t.Errorf("%s: status %q, want Deauthorized", topic, got)
		}
	}
}
