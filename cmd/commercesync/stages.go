package main

// The stage commands: each runs one stage of the pipeline against
// KAFKA_BROKERS, as many processes of it as wanted. Each is a small
// starter: its flags, the adapters it needs, its ops endpoints.

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/freeagent"
	"github.com/commercesync/commercesync/connectors/netsuite"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/sage"
	"github.com/commercesync/commercesync/connectors/xero"
	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/buildinfo"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/ops"
	"github.com/commercesync/commercesync/pipeline/plan"
	"github.com/commercesync/commercesync/pipeline/push"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/view"
)

// stageFlags are what every stage command takes.
type stageFlags struct {
	brokers, opsAddr *string
	partitions       *int
	level, format    *string
	kafka            *kafkaFlags
}

func newStageFlags(fs *flag.FlagSet, opsDefault string) *stageFlags {
	f := &stageFlags{
		brokers:    fs.String("brokers", "", "Kafka brokers, comma separated"),
		partitions: fs.Int("partitions", 6, "partitions of the company-keyed topics, made when missing; every process must say the same"),
		opsAddr:    fs.String("ops", opsDefault, "where /metrics, /healthz and /readyz are served"),
	}
	f.level, f.format = logFlags(fs)
	f.kafka = newKafkaFlags(fs)
	return f
}

// stage is what a stage command has started: its logger, metrics,
// readiness, brokers and what to close, newest last.
type stage struct {
	log     *slog.Logger
	metrics *ops.Metrics
	ready   *ops.Ready
	brokers kafka.Cluster
	topics  kafka.Topics
	closers []func()
}

func (s *stage) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// startStage checks the common flags, makes the topics when missing and
// serves the ops endpoints.
func startStage(ctx context.Context, name string, f *stageFlags, stderr io.Writer) (*stage, error) {
	if *f.brokers == "" {
		return nil, errors.New("no brokers: set KAFKA_BROKERS or -brokers to the Kafka cluster's bootstrap servers")
	}
	if *f.partitions < 1 || *f.partitions > 10000 {
		return nil, errors.New("-partitions: between 1 and 10000")
	}
	log, err := logger(stderr, *f.level, *f.format)
	if err != nil {
		return nil, err
	}
	cluster, err := f.kafka.cluster(*f.brokers)
	if err != nil {
		return nil, err
	}
	s := &stage{log: log.With("stage", name), metrics: ops.NewMetrics(), ready: ops.NewReady("starting"), topics: kafka.DefaultTopics()}
	s.brokers = cluster.WithMetrics(s.metrics.Registry(), name)
	admin, err := kgo.NewClient(kafka.ClientOpts(s.brokers, s.log)...)
	if err != nil {
		return nil, err
	}
	err = kafka.EnsureTopics(ctx, admin, s.topics.Specs(int32(*f.partitions)))
	admin.Close()
	if err != nil {
		return nil, err
	}
	addr, err := serveOps(ctx, *f.opsAddr, s.metrics, s.ready, s.log)
	if err != nil {
		return nil, err
	}
	s.log.Info("stage starting", "ops", "http://"+addr, "version", buildinfo.Version())
	return s, nil
}

// openControl opens the control plane with the sealing key every process
// shares.
func (s *stage) openControl(ctx context.Context) (*control.Store, error) {
	raw := strings.TrimSpace(os.Getenv("COMMERCESYNC_SEALING_KEY"))
	key, err := base64.StdEncoding.DecodeString(raw)
	if raw == "" || err != nil || len(key) != 32 {
		return nil, errors.New("COMMERCESYNC_SEALING_KEY: set it to the base64 of 32 random bytes, the same in every process " +
			"(head -c 32 /dev/urandom | base64); tokens one process seals, the others must open")
	}
	sealer, err := control.NewSealer(key)
	if err != nil {
		return nil, err
	}
	store, err := control.Open(ctx, s.brokers, s.topics.Control, sealer, s.log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, store.Close)
	return store, nil
}

// platformFlags say which accounting platforms a process serves and how
// to reach each.
type platformFlags struct {
	served          *string
	id, sandbox     map[string]*string
	netsuiteAccount *string
	allPlatforms    []string
}

func newPlatformFlags(fs *flag.FlagSet) *platformFlags {
	p := &platformFlags{allPlatforms: []string{"xero", "qbo", "sage", "netsuite", "freeagent"}, id: map[string]*string{}, sandbox: map[string]*string{}}
	p.served = fs.String("platforms", strings.Join(p.allPlatforms, ","), "the accounting platforms served, comma separated")
	for _, k := range p.allPlatforms {
		p.id[k] = fs.String(k+"-client-id", "", "the OAuth client id registered with "+k+" (its secret: COMMERCESYNC_"+strings.ToUpper(k)+"_CLIENT_SECRET)")
		p.sandbox[k] = fs.String(k+"-sandbox", "", "the base URL of a "+k+" sandbox (commercesync sandbox "+k+") to use instead of the real API")
	}
	p.netsuiteAccount = fs.String("netsuite-account", "", "the NetSuite account id")
	return p
}

// connectors builds a connector for each platform served. Without
// credentials, a connector still says what its platform takes (the
// planner needs no more); withCredentials refuses a platform that has
// none.
func (p *platformFlags) connectors(log *slog.Logger, withCredentials bool) (map[string]connectors.Connector, error) {
	out := map[string]connectors.Connector{}
	for _, k := range strings.Split(*p.served, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(p.allPlatforms, k) {
			return nil, fmt.Errorf("-platforms: %q is not one of %s", k, strings.Join(p.allPlatforms, ", "))
		}
		id, base := *p.id[k], *p.sandbox[k]
		secret := strings.TrimSpace(os.Getenv("COMMERCESYNC_" + strings.ToUpper(k) + "_CLIENT_SECRET"))
		if withCredentials && (id == "" || secret == "") {
			return nil, fmt.Errorf("platform %s: set -%s-client-id and COMMERCESYNC_%s_CLIENT_SECRET, or leave it out of -platforms", k, k, strings.ToUpper(k))
		}
		switch k {
		case "xero":
			opts := []xero.Option{xero.WithClientID(id), xero.WithClientSecret(secret), xero.WithLogger(log)}
			if base != "" {
				opts = append(opts, xero.WithSandboxBase(base))
			}
			out[k] = xero.New(opts...)
		case "qbo":
			opts := []qbo.Option{qbo.WithClientID(id), qbo.WithClientSecret(secret), qbo.WithLogger(log)}
			if base != "" {
				opts = append(opts, qbo.WithSandboxBase(base))
			}
			out[k] = qbo.New(opts...)
		case "sage":
			opts := []sage.Option{sage.WithClientID(id), sage.WithClientSecret(secret), sage.WithLogger(log)}
			if base != "" {
				opts = append(opts, sage.WithSandboxBase(base))
			}
			out[k] = sage.New(opts...)
		case "netsuite":
			opts := []netsuite.Option{netsuite.WithClientID(id), netsuite.WithClientSecret(secret), netsuite.WithLogger(log)}
			if *p.netsuiteAccount != "" {
				opts = append(opts, netsuite.WithAccountID(*p.netsuiteAccount))
			}
			if base != "" {
				opts = append(opts, netsuite.WithSandboxBase(base))
			}
			out[k] = netsuite.New(opts...)
		case "freeagent":
			opts := []freeagent.Option{freeagent.WithClientID(id), freeagent.WithClientSecret(secret), freeagent.WithLogger(log)}
			if base != "" {
				opts = append(opts, freeagent.WithSandboxBase(base))
			}
			out[k] = freeagent.New(opts...)
		}
	}
	return out, nil
}

// platformsOf is what the planner needs of each platform.
func platformsOf(conns map[string]connectors.Connector) plan.Option {
	return plan.WithPlatforms(func(key string) plan.Platform {
		c, ok := conns[key]
		if !ok {
			return plan.Platform{}
		}
		caps := c.Capabilities()
		return plan.Platform{InvoiceMode: caps.InvoiceMode, BankThroughTransactions: caps.JournalForbidsBankAccounts && caps.BankTransactions}
	})
}

type ownedStageFlags struct {
	*stageFlags
	session   *time.Duration
	platforms *platformFlags
}

func newOwnedStageFlags(name string, stderr io.Writer) (*flag.FlagSet, *ownedStageFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &ownedStageFlags{stageFlags: newStageFlags(fs, "127.0.0.1:0")}
	f.session = fs.Duration("session-timeout", 10*time.Second, "group session timeout: how long a dead process keeps its companies")
	f.platforms = newPlatformFlags(fs)
	return fs, f
}

// newPlanFlags are the settings of `commercesync plan`.
func newPlanFlags(stderr io.Writer) (*flag.FlagSet, *ownedStageFlags) {
	return newOwnedStageFlags("plan", stderr)
}

// newPushFlags are the settings of `commercesync push`.
func newPushFlags(stderr io.Writer) (*flag.FlagSet, *ownedStageFlags, *string) {
	fs, f := newOwnedStageFlags("push", stderr)
	return fs, f, fs.String("callback", "http://127.0.0.1:8080/v1/oauth/callback",
		"the gateway's OAuth callback URL, as the connections were authorised with (platforms check it on refresh)")
}

// runPlan runs a planner that plans for its share of the companies.
func runPlan(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f := newPlanFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := startStage(ctx, "plan", f.stageFlags, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	conns, err := f.platforms.connectors(s.log, false)
	if err != nil {
		return err
	}
	store, err := s.openControl(ctx)
	if err != nil {
		return err
	}
	ledger, outbox, writer, quarantine, qwriter, err := s.openPlanViews(ctx)
	if err != nil {
		return err
	}
	s.metrics.WatchViews(outbox, quarantine)
	owner, err := kafka.NewOwner(ctx, s.brokers, "commercesync-plan", s.topics.Ledger, s.log, kafka.WithOwnerSession(*f.session))
	if err != nil {
		return err
	}
	planner := plan.New(ledger, outbox, writer, store, s.log, time.Now, platformsOf(conns),
		plan.WithQuarantine(quarantine, qwriter, buildinfo.Version()), plan.WithOwnership(owner))
	if err := owner.Start(planner.Release); err != nil {
		return err
	}
	// The owner leaves the group only once the planner has stopped.
	defer owner.Close()
	s.ready.Set()
	defer s.ready.NotReady("stopping")
	return planner.Run(ctx)
}

func (s *stage) openPlanViews(ctx context.Context) (*view.Ledger, *view.Outbox, *view.OutboxWriter, *view.Quarantine, *view.QuarantineWriter, error) {
	ledger, err := view.OpenLedger(ctx, s.brokers, s.topics.Ledger, s.log)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	s.closers = append(s.closers, ledger.Close)
	outbox, writer, err := s.openOutbox(ctx)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	quarantine, err := view.OpenQuarantine(ctx, s.brokers, s.topics.Quarantine, s.log)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	s.closers = append(s.closers, quarantine.Close)
	qwriter, err := view.NewQuarantineWriter(s.brokers, s.topics.Quarantine, quarantine, s.log)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	s.closers = append(s.closers, qwriter.Close)
	return ledger, outbox, writer, quarantine, qwriter, nil
}

func (s *stage) openOutbox(ctx context.Context) (*view.Outbox, *view.OutboxWriter, error) {
	outbox, err := view.OpenOutbox(ctx, s.brokers, s.topics.Outbox, s.log)
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, outbox.Close)
	writer, err := view.NewOutboxWriter(s.brokers, s.topics.Outbox, outbox, s.log)
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, writer.Close)
	return outbox, writer, nil
}

// runPush runs a push worker that pushes for its share of the companies.
func runPush(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f, callback := newPushFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := startStage(ctx, "push", f.stageFlags, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	conns, err := f.platforms.connectors(s.log, true)
	if err != nil {
		return err
	}
	store, err := s.openControl(ctx)
	if err != nil {
		return err
	}
	outbox, writer, err := s.openOutbox(ctx)
	if err != nil {
		return err
	}
	owner, err := kafka.NewOwner(ctx, s.brokers, "commercesync-push", s.topics.Ledger, s.log, kafka.WithOwnerSession(*f.session))
	if err != nil {
		return err
	}
	worker := push.New(outbox, writer, store, conns, *callback, s.log, push.WithObserver(s.metrics.Push()), push.WithOwnership(owner))
	if err := owner.Start(worker.Release); err != nil {
		return err
	}
	defer owner.Close()
	s.ready.Set()
	defer s.ready.NotReady("stopping")
	return worker.Run(ctx)
}

// newGatewayFlags are the settings of `commercesync gateway`.
type gatewayFlags struct {
	*stageFlags
	httpAddr, grpcAddr, publicURL *string
	platforms                     *platformFlags
	clickhouse, clickhouseDB      *string
}

func newGatewayFlags(stderr io.Writer) (*flag.FlagSet, *gatewayFlags) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &gatewayFlags{stageFlags: newStageFlags(fs, "127.0.0.1:0")}
	f.httpAddr = fs.String("http", "127.0.0.1:8080", "REST listen address")
	f.grpcAddr = fs.String("grpc", "127.0.0.1:9090", "gRPC listen address")
	f.publicURL = fs.String("public-url", "", "the URL merchants' browsers and platforms reach this API at (default: http:// and the REST address); the OAuth callback is under it")
	f.platforms = newPlatformFlags(fs)
	f.clickhouse, f.clickhouseDB = clickhouseFlags(fs, "none: the reconciliation routes answer 503 saying so")
	return fs, f
}

// runGateway serves the API: stateless, as many as wanted behind a load
// balancer.
func runGateway(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f := newGatewayFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := startStage(ctx, "gateway", f.stageFlags, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	conns, err := f.platforms.connectors(s.log, true)
	if err != nil {
		return err
	}
	var gopts []gateway.Option
	if tok := strings.TrimSpace(os.Getenv("COMMERCESYNC_ADMIN_TOKEN")); tok != "" {
		if err := gateway.CheckOperatorToken(tok); err != nil {
			return fmt.Errorf("COMMERCESYNC_ADMIN_TOKEN: %w", err)
		}
		gopts = append(gopts, gateway.WithOperatorToken(tok))
	}
	store, err := s.openControl(ctx)
	if err != nil {
		return err
	}
	ledger, outbox, _, quarantine, _, err := s.openPlanViews(ctx)
	if err != nil {
		return err
	}
	exceptions, err := view.OpenExceptions(ctx, s.brokers, s.topics.Exceptions, s.log)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, exceptions.Close)
	s.metrics.WatchViews(outbox, quarantine)
	prod, err := kgo.NewClient(kafka.RequestProducerOpts(s.brokers, s.log)...)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, prod.Close)
	if *f.clickhouse != "" {
		// The store the sinks fill; the gateway only reads it.
		rs, err := chstore.Open(ctx, *f.clickhouse, *f.clickhouseDB, chstore.WithLogger(s.log))
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { _ = rs.Close() })
		gopts = append(gopts, gateway.WithReconciliation(rs, ""))
	} else {
		gopts = append(gopts, gateway.WithReconciliation(nil, "reconciliation is off: this gateway names no reconciliation store (-clickhouse or CLICKHOUSE_ADDR)"))
	}

	httpLn, err := net.Listen("tcp", *f.httpAddr)
	if err != nil {
		return fmt.Errorf("-http %s: %w", *f.httpAddr, err)
	}
	grpcLn, err := net.Listen("tcp", *f.grpcAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("-grpc %s: %w", *f.grpcAddr, err)
	}
	public := strings.TrimRight(*f.publicURL, "/")
	if public == "" {
		public = "http://" + httpLn.Addr().String()
	}
	api := gateway.NewServer(store, prod, ledger, outbox, conns, public+"/v1/oauth/callback", s.log,
		append(gopts, gateway.WithTopics(s.topics), gateway.WithQuarantine(quarantine), gateway.WithExceptions(exceptions),
			gateway.WithRecordsObserver(s.metrics.GatewayRecords))...)
	gs := api.GRPC()
	go func() { _ = gs.Serve(grpcLn) }()
	cc, err := grpc.NewClient(grpcLn.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		gs.Stop()
		return err
	}
	defer cc.Close()
	h, err := api.HTTP(ctx, cc)
	if err != nil {
		gs.Stop()
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(httpLn) }()
	s.log.Info("gateway serving", "rest", "http://"+httpLn.Addr().String(), "grpc", grpcLn.Addr().String(), "public", public)
	s.ready.Set()
	select {
	case <-ctx.Done():
	case err := <-served:
		gs.Stop()
		return fmt.Errorf("REST server: %w", err)
	}
	// Stop taking work, then let what is in flight finish.
	s.ready.NotReady("stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = hs.Shutdown(stopCtx)
	gs.GracefulStop()
	return nil
}

// newBrokerFlags are the settings of `commercesync broker`.
func newBrokerFlags(stderr io.Writer) (*flag.FlagSet, *string, *int) {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, fs.String("kafka-data", ".data/kafka", "folder that keeps the broker's log across restarts"),
		fs.Int("kafka-port", 19092, "port to listen on (127.0.0.1)")
}

// runBroker runs the embedded Kafka-protocol broker on its own, for trying
// the stage commands on one machine; production uses a Kafka cluster.
func runBroker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data, port := newBrokerFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := kafka.StartBroker(kafka.WithDataDir(*data), kafka.WithPort(*port))
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(stdout, "broker listening on %s (data in %s)\n", strings.Join(b.Addrs(), ","), *data)
	<-ctx.Done()
	return nil
}
