package control_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/oauth2"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const controlTopic = "control.state"

var epoch = time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startBroker starts an in-process broker with the control topic.
func startBroker(t testing.TB, opts ...kafka.BrokerOption) *kafka.Broker {
	t.Helper()
	b, err := kafka.StartBroker(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ensureControlTopic(t, b.Cluster())
	return b
}

func ensureControlTopic(t testing.TB, brokers kafka.Cluster) {
	t.Helper()
	cl, err := kgo.NewClient(kafka.ClientOpts(brokers, testLog())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spec := kafka.DefaultTopics().Specs(1)
	if err := kafka.EnsureTopics(ctx, cl, spec[len(spec)-1:]); err != nil {
		t.Fatal(err)
	}
}

// openStore opens a Store and returns a function that closes it: it stops
// the tail and the producer, as a process exit would.
func openStore(t testing.TB, brokers kafka.Cluster, sealer *control.Sealer, now func() time.Time) (*control.Store, func()) {
	t.Helper()
	// Open's context also bounds the tail that keeps the view current, so
	// it is cancelled when the store closes, not after a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	s, err := control.Open(ctx, brokers, controlTopic, sealer, testLog(), control.WithClock(now))
	if err != nil {
		cancel()
		t.Fatalf("Open: %v", err)
	}
	var once sync.Once
	closeFn := func() { once.Do(func() { cancel(); s.Close() }) }
	t.Cleanup(closeFn)
	return s, closeFn
}

func fixedClock() func() time.Time { return func() time.Time { return epoch } }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStoreReadYourWrites(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	ten, err := s.CreateTenant(ctx, "Acme POS")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		c, err := s.CreateCompany(ctx, ten.GetId(), fmt.Sprintf("Shop %d", i), "a merchant")
		if err != nil {
			t.Fatal(err)
		}
		// No waiting: the write returned, so the view holds it.
		got, err := s.Company(ten.GetId(), c.GetId())
		if err != nil {
			t.Fatalf("company %d not visible right after CreateCompany: %v", i, err)
		}
		if got.GetName() != c.GetName() || got.GetDescription() != "a merchant" || got.GetTenantId() != ten.GetId() {
			t.Errorf("Company = %+v, want %+v", got, c)
		}
		if got.GetCreated() != "2026-03-29T10:00:00Z" {
			t.Errorf("Created = %q, want the injected clock's 2026-03-29T10:00:00Z", got.GetCreated())
		}
	}
	if n := len(s.Companies()); n != 20 {
		t.Errorf("Companies() lists %d, want 20", n)
	}
}

func TestStoreTenantIsolation(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	a, err := s.CreateTenant(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	bt, err := s.CreateTenant(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := s.CreateCompany(ctx, a.GetId(), "A's shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Company(bt.GetId(), ca.GetId()); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("tenant B reading A's company: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Company("", ca.GetId()); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("empty tenant reading A's company: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Company(a.GetId(), control.NewID()); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("missing company: err = %v, want ErrNotFound", err)
	}
	if c, err := s.Company(a.GetId(), ca.GetId()); err != nil || c.GetId() != ca.GetId() {
		t.Errorf("tenant A reading its company: %v, %v", c, err)
	}
	if c, ok := s.CompanyByID(ca.GetId()); !ok || c.GetTenantId() != a.GetId() {
		t.Errorf("CompanyByID = %v, %v", c, ok)
	}
}

func TestStoreAuthenticate(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	ta, _ := s.CreateTenant(ctx, "A")
	tb, _ := s.CreateTenant(ctx, "B")
	ka, err := s.CreateAPIKey(ctx, ta.GetId(), false)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := s.CreateAPIKey(ctx, tb.GetId(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{ka, kb} {
		if !strings.HasPrefix(k, "csk_") || len(k) < 32 {
			t.Errorf("key %q lacks the csk_ prefix or is short", k)
		}
	}
	if ka == kb {
		t.Fatal("two keys share a secret")
	}
	if got, ok := s.Authenticate(ka); !ok || got != ta.GetId() {
		t.Errorf("Authenticate(key A) = %q, %v; want %q", got, ok, ta.GetId())
	}
	if got, ok := s.Authenticate(kb); !ok || got != tb.GetId() {
		t.Errorf("Authenticate(key B) = %q, %v; want %q", got, ok, tb.GetId())
	}
	wrong := []string{
		"", "csk_", "csk_wrong", ka + "x", ka[:len(ka)-1], strings.TrimPrefix(ka, "csk_"),
		"CSK_" + strings.TrimPrefix(ka, "csk_"), " " + ka,
	}
	for _, w := range wrong {
		if got, ok := s.Authenticate(w); ok {
			t.Errorf("Authenticate(%q) = %q, true; want false", w, got)
		}
	}
}

// The development key survives a restart of the process: a new Store on the
// same topic, a rotated sealer, and a restart of a broker that keeps its data.
func TestDevKeySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	b, err := kafka.StartBroker(kafka.WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	closeBroker := sync.OnceFunc(b.Close)
	t.Cleanup(closeBroker)
	ensureControlTopic(t, b.Cluster())
	ctx := testCtx(t)

	s1, close1 := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	tenant, secret, err := s1.DevKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "csk_") {
		t.Errorf("dev key %q lacks csk_", secret)
	}
	if t2, s2, err := s1.DevKey(ctx); err != nil || t2 != tenant || s2 != secret {
		t.Errorf("second DevKey on one store = %q %q %v; want %q %q", t2, s2, err, tenant, secret)
	}
	co, err := s1.CreateCompany(ctx, tenant, "dev shop", "")
	if err != nil {
		t.Fatal(err)
	}
	close1()

	// A new process on the same broker and topic.
	s2, close2 := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	if gt, gs, err := s2.DevKey(ctx); err != nil || gt != tenant || gs != secret {
		t.Fatalf("after store restart DevKey = %q %q %v; want %q %q", gt, gs, err, tenant, secret)
	}
	if got, ok := s2.Authenticate(secret); !ok || got != tenant {
		t.Errorf("after store restart Authenticate = %q %v", got, ok)
	}
	close2()

	// The sealing key was rotated; the old one still opens the dev key.
	s3, close3 := openStore(t, b.Cluster(), newSealer(t, newKey(t), key), fixedClock())
	if gt, gs, err := s3.DevKey(ctx); err != nil || gt != tenant || gs != secret {
		t.Fatalf("with a rotated sealer DevKey = %q %q %v; want %q %q", gt, gs, err, tenant, secret)
	}
	close3()

	// Without the key that sealed it, DevKey says so rather than minting a new one.
	s4, close4 := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	if _, _, err := s4.DevKey(ctx); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("DevKey without the sealing key: err = %v, want an unknown-key error", err)
	}
	close4()

	// The broker itself restarts on its data folder.
	closeBroker()
	b2, err := kafka.StartBroker(kafka.WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Close)
	s5, _ := openStore(t, b2.Cluster(), newSealer(t, key), fixedClock())
	if gt, gs, err := s5.DevKey(ctx); err != nil || gt != tenant || gs != secret {
		t.Fatalf("after broker restart DevKey = %q %q %v; want %q %q", gt, gs, err, tenant, secret)
	}
	if _, err := s5.Company(tenant, co.GetId()); err != nil {
		t.Errorf("after broker restart the dev company is gone: %v", err)
	}
}

// When several development keys exist (two processes started on a fresh
// cluster, or keys created by hand), DevKey must pick the same one every
// time: it is the key printed at start and handed to users.
func TestDevKeyIsDeterministicWithSeveralDevKeys(t *testing.T) {
	b := startBroker(t)
	key := newKey(t)
	s, closeS := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	ctx := testCtx(t)
	ten, err := s.CreateTenant(ctx, "Development tenant")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]bool{}
	for range 2 {
		k, err := s.CreateAPIKey(ctx, ten.GetId(), true)
		if err != nil {
			t.Fatal(err)
		}
		secrets[k] = true
	}
	// Map iteration over a small map repeats its order often, so ask many
	// times: with two keys, a choice by map order differs within a few calls.
	first := ""
	for i := range 300 {
		_, got, err := s.DevKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !secrets[got] {
			t.Fatalf("DevKey returned a key that was not created here")
		}
		if first == "" {
			first = got
		} else if got != first {
			t.Fatalf("DevKey call %d returned a different key than call 0: the choice among keys created in the same second is map order", i)
		}
	}
	closeS()
	s2, _ := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	if _, got, err := s2.DevKey(ctx); err != nil || got != first {
		t.Errorf("after restart DevKey returned another key (err %v)", err)
	}
}

func TestPutConfigVersions(t *testing.T) {
	b := startBroker(t)
	key := newKey(t)
	s, closeS := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	ctx := testCtx(t)
	const co, other = "co-1", "co-2"
	if _, ok := s.Config(co); ok {
		t.Fatal("config before any PutConfig")
	}
	for v := int64(1); v <= 3; v++ {
		in := &v1.SyncConfiguration{AccountingSoftwareCompanyName: fmt.Sprintf("books v%d", v), Enable: true}
		cv, err := s.PutConfig(ctx, co, in)
		if err != nil {
			t.Fatal(err)
		}
		if cv.GetVersion() != v || cv.GetConfig().GetVersion() != v || cv.GetConfig().GetCompanyId() != co || cv.GetCreated() != "2026-03-29T10:00:00Z" {
			t.Errorf("PutConfig #%d = version %d (config %d, company %q, created %q)", v, cv.GetVersion(), cv.GetConfig().GetVersion(), cv.GetConfig().GetCompanyId(), cv.GetCreated())
		}
		if in.GetVersion() != 0 || in.GetCompanyId() != "" {
			t.Errorf("PutConfig changed the caller's message: %+v", in)
		}
		if latest, ok := s.Config(co); !ok || latest.GetVersion() != v {
			t.Errorf("Config after PutConfig #%d = %v, %v", v, latest.GetVersion(), ok)
		}
	}
	if cv, err := s.PutConfig(ctx, other, &v1.SyncConfiguration{}); err != nil || cv.GetVersion() != 1 {
		t.Errorf("another company's first config = version %d, %v; want 1", cv.GetVersion(), err)
	}
	check := func(s *control.Store) {
		t.Helper()
		for v := int64(1); v <= 3; v++ {
			cv, ok := s.ConfigVersion(co, v)
			if !ok || cv.GetConfig().GetAccountingSoftwareCompanyName() != fmt.Sprintf("books v%d", v) {
				t.Errorf("ConfigVersion(%d) = %v, %v", v, cv, ok)
			}
		}
		if _, ok := s.ConfigVersion(co, 4); ok {
			t.Error("ConfigVersion(4) exists")
		}
		if _, ok := s.ConfigVersion(co, 0); ok {
			t.Error("ConfigVersion(0) exists")
		}
	}
	check(s)
	closeS()
	s2, _ := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	check(s2)
	if cv, err := s2.PutConfig(ctx, co, &v1.SyncConfiguration{}); err != nil || cv.GetVersion() != 4 {
		t.Errorf("PutConfig after restart = version %d, %v; want 4", cv.GetVersion(), err)
	}
}

func TestPutConfigConcurrentVersionsAreDistinct(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range 2 {
		wg.Go(func() {
			for range n {
				if _, err := s.PutConfig(ctx, "co", &v1.SyncConfiguration{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for v := int64(1); v <= 2*n; v++ {
		if _, ok := s.ConfigVersion("co", v); !ok {
			t.Errorf("version %d missing", v)
		}
	}
	if cv, _ := s.Config("co"); cv.GetVersion() != 2*n {
		t.Errorf("latest version %d, want %d", cv.GetVersion(), 2*n)
	}
}

// Two goroutines update different fields of one connection; UpdateConnection
// hands each the latest state, so neither loses the other's updates.
func TestUpdateConnectionConcurrent(t *testing.T) {
	b := startBroker(t)
	sealer := newSealer(t, newKey(t))
	s, _ := openStore(t, b.Cluster(), sealer, fixedClock())
	ctx := testCtx(t)
	conn := &v1.Connection{Id: "conn-1", CompanyId: "co-1", PlatformKey: "xero", Status: "PendingAuth", PlatformTenantName: "0", LastError: "0"}
	if err := s.PutConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	const n = 25
	bump := func(field *string) error {
		v, err := strconv.Atoi(*field)
		if err != nil {
			return err
		}
		*field = strconv.Itoa(v + 1)
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	wg.Go(func() {
		for range n {
			if _, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { return bump(&c.PlatformTenantName) }); err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() {
		for range n {
			if _, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { return bump(&c.LastError) }); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, ok := s.Connection("conn-1")
	if !ok {
		t.Fatal("connection gone")
	}
	if got.GetPlatformTenantName() != strconv.Itoa(n) || got.GetLastError() != strconv.Itoa(n) {
		t.Errorf("after %d updates each: fields = %s and %s; updates were lost", n, got.GetPlatformTenantName(), got.GetLastError())
	}
	if got.GetStatus() != "PendingAuth" || got.GetPlatformKey() != "xero" {
		t.Errorf("untouched fields changed: %+v", got)
	}

	// A token rotated through UpdateConnection opens from the view.
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: epoch.Add(30 * time.Minute)}
	if _, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error {
		sec, err := control.SealToken(s.Sealer(), c.GetId(), tok)
		c.Token, c.Status = sec, "Linked"
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Connection("conn-1")
	opened, err := control.OpenToken(s.Sealer(), c)
	if err != nil || opened.RefreshToken != "rt" || !opened.Expiry.Equal(tok.Expiry) {
		t.Errorf("OpenToken from the view = %+v, %v", opened, err)
	}
	if lc, ok := s.AccountingConnection("co-1"); !ok || lc.GetId() != "conn-1" {
		t.Errorf("AccountingConnection = %v, %v", lc, ok)
	}

	// A failing update writes nothing; a missing connection is ErrNotFound.
	boom := errors.New("boom")
	if _, err := s.UpdateConnection(ctx, "conn-1", func(c *v1.Connection) error { c.Status = "Broken"; return boom }); !errors.Is(err, boom) {
		t.Errorf("failing update: err = %v", err)
	}
	if c, _ := s.Connection("conn-1"); c.GetStatus() != "Linked" {
		t.Errorf("failing update was applied: status %q", c.GetStatus())
	}
	if _, err := s.UpdateConnection(ctx, "nope", func(*v1.Connection) error { return nil }); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("missing connection: err = %v, want ErrNotFound", err)
	}
}

// A second process's writes reach this store's view, and Changed fires.
func TestStoreSeesOtherWriters(t *testing.T) {
	b := startBroker(t)
	key := newKey(t)
	reader, _ := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	writer, _ := openStore(t, b.Cluster(), newSealer(t, key), fixedClock())
	ctx := testCtx(t)
	changed := reader.Changed()
	ten, err := writer.CreateTenant(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	c, err := writer.CreateCompany(ctx, ten.GetId(), "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("Changed never fired")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := reader.Company(ten.GetId(), c.GetId()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other writer's company never reached this view")
		}
		select {
		case <-reader.Changed():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// The Store has no revoke command yet; a revocation arrives as an ApiKey
// record with Revoked set (from another writer or a future command). The
// view must honour it: Authenticate refuses the key, and DevKey stops
// handing it out.
func TestRevokedKeysAreRefused(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	tenant, secret, err := s.DevKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Find the key's record on the topic, as any reader would.
	var rec *kgo.Record
	var key *v1.ApiKey
	if err := kafka.ReadPartition(ctx, b.Cluster(), controlTopic, 0, testLog(), func(r *kgo.Record) error {
		var cr v1.ControlRecord
		if err := proto.Unmarshal(r.Value, &cr); err != nil {
			return err
		}
		if k := cr.GetApiKey(); k != nil {
			rec, key = r, k
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if key == nil {
		t.Fatal("no api key record on the control topic")
	}
	if strings.Contains(string(rec.Value), secret) {
		t.Error("the control record holds the secret in clear")
	}
	key.Revoked = true
	val, err := proto.Marshal(&v1.ControlRecord{Entity: &v1.ControlRecord_ApiKey{ApiKey: key}})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kgo.NewClient(append(kafka.ClientOpts(b.Cluster(), testLog()), kgo.DefaultProduceTopic(controlTopic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	changed := s.Changed()
	if err := prod.ProduceSync(ctx, &kgo.Record{Key: rec.Key, Value: val}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("the revocation never reached the view")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := s.Authenticate(secret); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Authenticate still accepts a revoked key")
		}
		select {
		case <-s.Changed():
		case <-time.After(20 * time.Millisecond):
		}
	}
	_, fresh, err := s.DevKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == secret {
		t.Error("DevKey handed out the revoked key")
	}
	if got, ok := s.Authenticate(fresh); !ok || got == "" {
		t.Errorf("the new dev key does not authenticate (tenant %q, old tenant %q)", got, tenant)
	}
}

// A refused grant marks a Linked connection Deauthorized with Codat's error
// record; a connection that is no longer Linked keeps its status, and the
// error list stays bounded.
func TestDeauthorize(t *testing.T) {
	b := startBroker(t)
	s, _ := openStore(t, b.Cluster(), newSealer(t, newKey(t)), fixedClock())
	ctx := testCtx(t)
	refused := &v1.DataConnectionError{StatusCode: "400", StatusText: "invalid_grant", ErrorMessage: "reconnect Xero", ErroredOnUtc: epoch.Format(time.RFC3339)}
	for _, c := range []*v1.Connection{
		{Id: "linked", CompanyId: "co-1", PlatformKey: "xero", Status: control.StatusLinked},
		{Id: "unlinked", CompanyId: "co-1", PlatformKey: "xero", Status: control.StatusUnlinked},
		{Id: "pending", CompanyId: "co-1", PlatformKey: "xero", Status: control.StatusPendingAuth},
	} {
		if err := s.PutConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	changed, err := s.Deauthorize(ctx, "linked", refused)
	if err != nil || !changed {
		t.Fatalf("deauthorize a linked connection: changed %t, %v", changed, err)
	}
	got, _ := s.Connection("linked")
	if got.GetStatus() != control.StatusDeauthorized || got.GetLastError() != "reconnect Xero" ||
		len(got.GetDataConnectionErrors()) != 1 || !proto.Equal(got.GetDataConnectionErrors()[0], refused) {
		t.Fatalf("after deauthorize: %v", got)
	}
	if _, ok := s.AccountingConnection("co-1"); ok {
		t.Fatal("a deauthorized connection still counts as the company's linked accounting connection")
	}
	if changed, err := s.Deauthorize(ctx, "linked", refused); err != nil || changed {
		t.Fatalf("deauthorize twice: changed %t, %v; want unchanged", changed, err)
	}
	if got, _ := s.Connection("linked"); len(got.GetDataConnectionErrors()) != 1 {
		t.Fatalf("a second refusal added an error: %v", got.GetDataConnectionErrors())
	}
	for _, id := range []string{"unlinked", "pending"} {
		before, _ := s.Connection(id)
		if changed, err := s.Deauthorize(ctx, id, refused); err != nil || changed {
			t.Fatalf("deauthorize %s: changed %t, %v; want unchanged", id, changed, err)
		}
		if got, _ := s.Connection(id); got.GetStatus() != before.GetStatus() || len(got.GetDataConnectionErrors()) != 0 {
			t.Fatalf("%s became %v", id, got)
		}
	}
	if _, err := s.Deauthorize(ctx, "missing", refused); !errors.Is(err, control.ErrNotFound) {
		t.Fatalf("deauthorize a missing connection: %v, want ErrNotFound", err)
	}

	// The list keeps the newest MaxConnectionErrors.
	many := &v1.Connection{Id: "many", CompanyId: "co-2", Status: control.StatusLinked}
	for i := range control.MaxConnectionErrors {
		many.DataConnectionErrors = append(many.DataConnectionErrors, &v1.DataConnectionError{StatusCode: strconv.Itoa(i)})
	}
	if err := s.PutConnection(ctx, many); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deauthorize(ctx, "many", refused); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Connection("many")
	errs := got.GetDataConnectionErrors()
	if len(errs) != control.MaxConnectionErrors || errs[0].GetStatusCode() != "1" || !proto.Equal(errs[len(errs)-1], refused) {
		t.Fatalf("%d errors, first %q: want the newest %d ending with the refusal", len(errs), errs[0].GetStatusCode(), control.MaxConnectionErrors)
	}
}
