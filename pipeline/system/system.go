// Package system assembles the whole pipeline in one process: an embedded
// broker (or an external cluster), the control plane, the window, planner
// and push jobs, the gateway, and sandbox accounting platforms. It is what
// `commercesync dev` runs, and what the end-to-end tests start.
package system

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	freeagentsandbox "github.com/commercesync/commercesync/connectors/freeagent/sandbox"
	netsuitesandbox "github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	qbosandbox "github.com/commercesync/commercesync/connectors/qbo/sandbox"
	sagesandbox "github.com/commercesync/commercesync/connectors/sage/sandbox"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/buildinfo"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/ops"
	"github.com/commercesync/commercesync/pipeline/plan"
	"github.com/commercesync/commercesync/pipeline/push"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/view"
	"github.com/commercesync/commercesync/pipeline/window"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Dev OAuth client the embedded sandboxes know; real platforms use the
// client registered with them (XERO_CLIENT_ID / XERO_CLIENT_SECRET).
const (
	devClientID     = "commercesync-dev"
	devClientSecret = "commercesync-dev-secret"
)

type config struct {
	dataDir     string
	cluster     kafka.Cluster
	brokerPort  int
	httpAddr    string
	grpcAddr    string
	sandboxAddr string
	partitions  int32
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
	tick        time.Duration
	window      bool
	log         *slog.Logger
	minSession  time.Duration
	sandboxOpts []xerosandbox.Option
	wrap        func(key string, c connectors.Connector) connectors.Connector
	windowOpts  []window.Option
	operator    string
	opsAddr     string
	sealingKey  string
	// planners and pushers, when set, run that many planners and push
	// workers, each owning its share of the companies through a consumer
	// group, as that many processes of each stage would.
	planners, pushers int
	recon             *Reconciliation
}

// Option configures Start.
type Option func(*config)

// WithDataDir keeps the broker's log, the sealing key and the sandboxes'
// state under dir, so a restart keeps everything, connections included.
// Empty means in memory.
func WithDataDir(dir string) Option { return func(c *config) { c.dataDir = dir } }

// WithBrokers uses an external Kafka cluster instead of the embedded broker.
func WithBrokers(b []string) Option { return func(c *config) { c.cluster = kafka.Seeds(b...) } }

// WithCluster uses an external Kafka cluster reached as c says (TLS, SASL).
func WithCluster(c kafka.Cluster) Option { return func(cfg *config) { cfg.cluster = c } }

// WithBrokerPort fixes the embedded broker's port.
func WithBrokerPort(p int) Option { return func(c *config) { c.brokerPort = p } }

// WithAddrs sets the HTTP, gRPC and first sandbox listen addresses
// (loopback; empty picks a free port). The other sandboxes listen on the
// ports after the first one's, or on free ports when it has none.
func WithAddrs(httpAddr, grpcAddr, sandboxAddr string) Option {
	return func(c *config) { c.httpAddr, c.grpcAddr, c.sandboxAddr = httpAddr, grpcAddr, sandboxAddr }
}

// WithClock injects time into the gateway, jobs and sandboxes.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithPushSleep injects how push workers wait out rate limits, so a test
// whose clock runs faster than real time waits on that clock.
func WithPushSleep(fn func(context.Context, time.Duration) error) Option {
	return func(c *config) { c.sleep = fn }
}

// WithTick sets how often clock ticks are written; 0 writes none.
func WithTick(d time.Duration) Option { return func(c *config) { c.tick = d } }

// WithoutWindow leaves the window job to another process.
func WithoutWindow() Option { return func(c *config) { c.window = false } }

// WithOperatorToken sets the operator token that opens the admin API
// (gateway.CheckOperatorToken says what one looks like). Without it the
// token is derived from the sealing key, so a development system keeps
// the same one across restarts.
func WithOperatorToken(token string) Option { return func(c *config) { c.operator = token } }

// WithSealingKey sets the key that seals OAuth tokens and the development
// key: the base64 encoding of 32 random bytes. Without it the key is kept
// in the data folder (or, with none, made for this run only).
func WithSealingKey(b64 string) Option { return func(c *config) { c.sealingKey = b64 } }

// WithStageInstances runs planners planners and pushers push workers,
// each owning its share of the companies through a consumer group as
// separate processes would; 0 runs one of each owning every company.
func WithStageInstances(planners, pushers int) Option {
	return func(c *config) { c.planners, c.pushers = planners, pushers }
}

// WithOpsAddr sets where /metrics, /healthz and /readyz are served (default:
// a free loopback port).
func WithOpsAddr(addr string) Option { return func(c *config) { c.opsAddr = addr } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMinSessionTimeout lowers the embedded broker's group session floor.
func WithMinSessionTimeout(d time.Duration) Option { return func(c *config) { c.minSession = d } }

// WithSandboxOptions passes options to the Xero sandbox.
func WithSandboxOptions(o ...xerosandbox.Option) Option {
	return func(c *config) { c.sandboxOpts = append(c.sandboxOpts, o...) }
}

// WithConnectorMiddleware wraps each platform's connector, for
// instrumentation or fault injection; key is the platform's key.
func WithConnectorMiddleware(wrap func(key string, c connectors.Connector) connectors.Connector) Option {
	return func(c *config) { c.wrap = wrap }
}

// WithWindowOptions passes options to the in-process window job.
func WithWindowOptions(o ...window.Option) Option {
	return func(c *config) { c.windowOpts = append(c.windowOpts, o...) }
}

// System is a running commercesync.
type System struct {
	HTTPURL  string
	GRPCAddr string
	Brokers  []string
	TenantID string
	DevKey   string
	// OperatorToken opens the admin API.
	OperatorToken string
	// OpsURL serves /metrics, /healthz and /readyz; Metrics is what it
	// serves.
	OpsURL  string
	Metrics *ops.Metrics
	ready   *ops.Ready
	// Pushers are the push workers WithStageInstances runs.
	Pushers    []*PushInstance
	SandboxURL map[string]string
	Xero       *xerosandbox.Server
	FreeAgent  *freeagentsandbox.Server
	NetSuite   *netsuitesandbox.Server
	Sage       *sagesandbox.Server
	QBO        *qbosandbox.Server
	Store      *control.Store
	// Quarantine is what every stage could not process, per company.
	Quarantine *view.Quarantine
	window     *window.Job
	// Reconciliation is the reconciliation store, nil when it is off;
	// ReconciliationOff then says why, and ClickHouseAddr is the server's
	// native address when it is on.
	Reconciliation    *chstore.Store
	ReconciliationOff string
	ClickHouseAddr    string
	sink              *sink.Job

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stops   []func() // servers, stopped before waiting for goroutines
	closers []func() // clients and the broker, closed after, newest first
	errMu   sync.Mutex
	errs    []error
}

// Start brings the system up and returns once it serves.
func Start(ctx context.Context, opts ...Option) (_ *System, err error) {
	cfg := config{partitions: 6, now: time.Now, tick: time.Minute, window: true, log: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &System{ctx: ctx, cancel: cancel, SandboxURL: map[string]string{}, Metrics: ops.NewMetrics(), ready: ops.NewReady("starting")}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	log := cfg.log

	cluster := cfg.cluster
	if len(cluster.Seeds) == 0 {
		bopts := []kafka.BrokerOption{kafka.WithPort(cfg.brokerPort)}
		if cfg.dataDir != "" {
			bopts = append(bopts, kafka.WithDataDir(filepath.Join(cfg.dataDir, "kafka")))
		}
		if cfg.minSession > 0 {
			bopts = append(bopts, kafka.WithMinSessionTimeout(cfg.minSession))
		}
		b, err := kafka.StartBroker(bopts...)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, b.Close)
		cluster = kafka.Seeds(b.Addrs()...)
	}
	s.Brokers = cluster.Seeds
	cluster = cluster.WithMetrics(s.Metrics.Registry(), "dev")
	topics := kafka.DefaultTopics()
	admin, err := kgo.NewClient(kafka.ClientOpts(cluster, log)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	err = kafka.EnsureTopics(ctx, admin, topics.Specs(cfg.partitions))
	admin.Close()
	if err != nil {
		return nil, err
	}

	if cfg.recon != nil {
		if err := s.startReconciliation(ctx, *cfg.recon, cfg.dataDir, cluster, topics, log); err != nil {
			return nil, err
		}
	}

	key, err := sealingKey(cfg.sealingKey, cfg.dataDir)
	if err != nil {
		return nil, err
	}
	sealer, err := control.NewSealer(key)
	if err != nil {
		return nil, err
	}
	store, err := control.Open(ctx, cluster, topics.Control, sealer, log, control.WithClock(cfg.now))
	if err != nil {
		return nil, err
	}
	s.Store = store
	s.closers = append(s.closers, store.Close)
	if s.TenantID, s.DevKey, err = store.DevKey(ctx); err != nil {
		return nil, err
	}
	s.OperatorToken = cfg.operator
	if s.OperatorToken == "" {
		s.OperatorToken = operatorToken(key)
	}
	if err := gateway.CheckOperatorToken(s.OperatorToken); err != nil {
		return nil, fmt.Errorf("operator token: %w", err)
	}

	ledger, err := view.OpenLedger(ctx, cluster, topics.Ledger, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, ledger.Close)
	outbox, err := view.OpenOutbox(ctx, cluster, topics.Outbox, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, outbox.Close)
	writer, err := view.NewOutboxWriter(cluster, topics.Outbox, outbox, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, writer.Close)
	quarantine, err := view.OpenQuarantine(ctx, cluster, topics.Quarantine, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, quarantine.Close)
	s.Quarantine = quarantine
	qwriter, err := view.NewQuarantineWriter(cluster, topics.Quarantine, quarantine, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, qwriter.Close)
	s.Metrics.WatchViews(outbox, quarantine)
	exceptions, err := view.OpenExceptions(ctx, cluster, topics.Exceptions, log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, exceptions.Close)

	httpLn, err := listen(cfg.httpAddr)
	if err != nil {
		return nil, err
	}
	grpcLn, err := listen(cfg.grpcAddr)
	if err != nil {
		httpLn.Close()
		return nil, err
	}
	opsLn, err := listen(cfg.opsAddr)
	if err != nil {
		httpLn.Close()
		grpcLn.Close()
		return nil, err
	}
	s.OpsURL = "http://" + opsLn.Addr().String()
	opsServer := &http.Server{Handler: ops.Handler(s.Metrics, s.ready), ReadHeaderTimeout: 10 * time.Second}
	s.goRun("ops", func(context.Context) error {
		if err := opsServer.Serve(opsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	s.stops = append(s.stops, func() { _ = opsServer.Close() })
	s.HTTPURL = "http://" + httpLn.Addr().String()
	s.GRPCAddr = grpcLn.Addr().String()
	callback := s.HTTPURL + "/v1/oauth/callback"

	conns, err := s.startPlatforms(cfg, callback)
	if err != nil {
		return nil, err
	}
	if cfg.wrap != nil {
		for k, c := range conns {
			conns[k] = cfg.wrap(k, c)
		}
	}

	prod, err := kgo.NewClient(kafka.RequestProducerOpts(cluster, log)...)
	if err != nil {
		return nil, fmt.Errorf("gateway producer: %w", err)
	}
	s.closers = append(s.closers, prod.Close)
	api := gateway.NewServer(store, prod, ledger, outbox, conns, callback, log, gateway.WithClock(cfg.now), gateway.WithTopics(topics),
		gateway.WithQuarantine(quarantine), gateway.WithExceptions(exceptions), gateway.WithOperatorToken(s.OperatorToken),
		gateway.WithRecordsObserver(s.Metrics.GatewayRecords), s.reconciliationOption())
	gs := api.GRPC()
	s.goRun("grpc", func(context.Context) error { return gs.Serve(grpcLn) })
	s.stops = append(s.stops, gs.Stop)
	cc, err := grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("gateway client: %w", err)
	}
	s.closers = append(s.closers, func() { _ = cc.Close() })
	h, err := api.HTTP(ctx, cc)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.goRun("http", func(context.Context) error {
		if err := hs.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	s.stops = append(s.stops, func() { _ = hs.Close() })

	if cfg.window {
		wopts := []window.Option{window.WithLogger(log), window.WithTopics(topics), window.WithObserver(s.Metrics.Window())}
		if cfg.dataDir != "" {
			// The window's store beside the broker's log: a restart reuses it
			// from its checkpoint instead of reading the whole changelog.
			wopts = append(wopts, window.WithStateDir(filepath.Join(cfg.dataDir, "window-state")))
		}
		job := window.NewJob(cluster, append(wopts, cfg.windowOpts...)...)
		s.window = job
		s.Metrics.WatchJob(job)
		s.goRun("window", job.Run)
	}
	planOpts := []plan.Option{plan.WithPlatforms(func(key string) plan.Platform {
		c, ok := conns[key]
		if !ok {
			return plan.Platform{}
		}
		caps := c.Capabilities()
		return plan.Platform{InvoiceMode: caps.InvoiceMode, BankThroughTransactions: caps.JournalForbidsBankAccounts && caps.BankTransactions}
	}), plan.WithQuarantine(quarantine, qwriter, buildinfo.Version())}
	pushOpts := []push.Option{push.WithClock(cfg.now), push.WithObserver(s.Metrics.Push())}
	if cfg.sleep != nil {
		pushOpts = append(pushOpts, push.WithSleep(cfg.sleep))
	}
	if cfg.planners == 0 {
		s.goRun("plan", plan.New(ledger, outbox, writer, store, log, cfg.now, planOpts...).Run)
	}
	for i := range cfg.planners {
		owner, err := kafka.NewOwner(ctx, cluster, "commercesync-plan", topics.Ledger, log)
		if err != nil {
			return nil, err
		}
		planner := plan.New(ledger, outbox, writer, store, log, cfg.now, append(planOpts, plan.WithOwnership(owner))...)
		if err := owner.Start(planner.Release); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, owner.Close)
		s.goRun(fmt.Sprintf("plan-%d", i), planner.Run)
	}
	if cfg.pushers == 0 {
		s.goRun("push", push.New(outbox, writer, store, conns, callback, log, pushOpts...).Run)
	}
	for i := range cfg.pushers {
		owner, err := kafka.NewOwner(ctx, cluster, "commercesync-push", topics.Ledger, log)
		if err != nil {
			return nil, err
		}
		inst := &PushInstance{Owner: owner}
		inst.obs = countingObserver{next: s.Metrics.Push(), confirmed: &inst.confirmed}
		worker := push.New(outbox, writer, store, conns, callback, log, append(pushOpts, push.WithOwnership(owner), push.WithObserver(inst.obs))...)
		if err := owner.Start(worker.Release); err != nil {
			return nil, err
		}
		inst.Worker, inst.stop = worker, s.goStoppable(fmt.Sprintf("push-%d", i), worker.Run)
		s.Pushers = append(s.Pushers, inst)
	}
	if cfg.tick > 0 {
		// The clock names each tick's partition itself: a tick belongs to a
		// partition, not to a key.
		clock, err := kgo.NewClient(append(kafka.ClientOpts(cluster, log), kgo.RecordPartitioner(kafka.SplitPartitioner(topics.Events)))...)
		if err != nil {
			return nil, fmt.Errorf("clock producer: %w", err)
		}
		s.closers = append(s.closers, clock.Close)
		s.goRun("clock", func(ctx context.Context) error {
			return tick(ctx, clock, topics.Events, cfg.partitions, store, cfg.now, cfg.tick)
		})
	}
	s.ready.Set()
	return s, nil
}

// PushInstance is one of the push workers WithStageInstances runs.
type PushInstance struct {
	Worker    *push.Worker
	Owner     *kafka.Owner
	stop      func()
	obs       push.Observer
	confirmed atomic.Int64
}

// Confirmed counts the documents this worker confirmed.
func (p *PushInstance) Confirmed() int64 { return p.confirmed.Load() }

// countingObserver counts confirmations and tells next everything.
type countingObserver struct {
	next      push.Observer
	confirmed *atomic.Int64
}

func (o countingObserver) Outcome(platform, outcome string) {
	if outcome == "confirmed" {
		o.confirmed.Add(1)
	}
	o.next.Outcome(platform, outcome)
}

func (o countingObserver) Waited(platform string, d time.Duration) { o.next.Waited(platform, d) }

// Stop ends the worker and takes it out of its group, as a process
// stopping would: its companies go to the others.
func (p *PushInstance) Stop() {
	p.stop()
	p.Owner.Close()
}

// goStoppable runs fn like goRun, until the returned function is called
// (which waits for fn to return) or the system stops.
func (s *System) goStoppable(name string, fn func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			slog.Error("component stopped", "component", name, "err", err)
			s.errMu.Lock()
			s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
			s.errMu.Unlock()
			s.cancel()
		}
	}()
	s.closers = append(s.closers, cancel)
	return func() {
		cancel()
		<-done
	}
}

// WindowStats counts what the window did: records in, applied and
// quarantined, days parked, transactions (zero without a window).
func (s *System) WindowStats() window.JobStats {
	if s.window == nil {
		return window.JobStats{}
	}
	return s.window.Stats()
}

func (s *System) goRun(name string, fn func(context.Context) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(s.ctx); err != nil && s.ctx.Err() == nil {
			slog.Error("component stopped", "component", name, "err", err)
			s.errMu.Lock()
			s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
			s.errMu.Unlock()
			s.cancel()
		}
	}()
}

// Done is closed when the system stops, by Close or because a component
// failed (Err says which).
func (s *System) Done() <-chan struct{} { return s.ctx.Done() }

// Err reports components that stopped with an error.
func (s *System) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops everything: servers and jobs first, then their clients,
// then the broker.
func (s *System) Close() {
	s.ready.NotReady("stopping")
	s.cancel()
	for _, stop := range s.stops {
		stop()
	}
	s.wg.Wait()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// operatorToken derives a development system's operator token from its
// sealing key: the same across restarts, and nothing more to keep.
func operatorToken(sealingKey []byte) string {
	m := hmac.New(sha256.New, sealingKey)
	m.Write([]byte("commercesync operator token"))
	return "cso_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sealingKey returns the key that seals OAuth tokens and the development
// key: given (base64 of 32 bytes) when set, else a key kept in the data
// folder, else (no data folder) a key for this run only.
func sealingKey(given, dataDir string) ([]byte, error) {
	if given != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(given))
		if err != nil || len(k) != 32 {
			return nil, errors.New("COMMERCESYNC_SEALING_KEY must be the base64 encoding of 32 random bytes")
		}
		return k, nil
	}
	fresh := func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	}
	if dataDir == "" {
		return fresh()
	}
	path := filepath.Join(dataDir, "sealing.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s is not a base64 32-byte key; restore it from backup (tokens sealed with it cannot be opened otherwise)", path)
		}
		return k, nil
	}
	k, err := fresh()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write sealing key: %w", err)
	}
	return k, nil
}

// tick writes a clock tick into every partition of commerce.events each
// interval, so quiet companies still seal their days once grace has passed,
// and sealing stays part of the input. One tick per partition, not one per
// company: the window applies it to every company of the partition, so
// what the topic keeps forever grows with partitions, not with companies.
// Until a company is configured there is nothing to seal, and nothing is
// written.
func tick(ctx context.Context, prod *kgo.Client, topic string, partitions int32, store *control.Store, now func() time.Time, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !anyConfigured(store) {
			continue
		}
		if err := writeTicks(ctx, prod, topic, partitions, now()); err != nil && ctx.Err() == nil {
			slog.Warn("clock tick not written", "err", err)
		}
	}
}

func anyConfigured(store *control.Store) bool {
	for _, id := range store.Companies() {
		if _, ok := store.Config(id); ok {
			return true
		}
	}
	return false
}

// writeTicks writes one tick of now to each partition of topic. The ticks
// name no company and no tenant, and carry no key; prod must send records
// of topic to the partition they name (kafka.SplitPartitioner).
func writeTicks(ctx context.Context, prod *kgo.Client, topic string, partitions int32, now time.Time) error {
	ms := now.UnixMilli()
	b, err := proto.Marshal(&v1.CommerceEvent{ReceivedUnixMs: ms, Body: &v1.CommerceEvent_ClockTick{ClockTick: &v1.ClockTick{NowUnixMs: ms}}})
	if err != nil {
		return fmt.Errorf("encode clock tick: %w", err)
	}
	recs := make([]*kgo.Record, partitions)
	for p := range partitions {
		recs[p] = &kgo.Record{Topic: topic, Partition: p, Value: b}
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write clock ticks to %s: %w", topic, err)
	}
	return nil
}
