// Command commercesync is the single binary of the system.
//
//	commercesync dev                   the whole pipeline in one process, sandboxes included
//	commercesync gateway               the API against KAFKA_BROKERS
//	commercesync window                a window (aggregator) worker against KAFKA_BROKERS
//	commercesync plan                  a planner against KAFKA_BROKERS
//	commercesync push                  a push worker against KAFKA_BROKERS
//	commercesync broker                the embedded broker alone
//	commercesync sandbox <platform>    one platform's sandbox on its own
//	commercesync admin …               tenants and API keys, through a gateway's admin API
//	commercesync loadgen               realistic traffic for many merchants, timed
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	freeagentsandbox "github.com/commercesync/commercesync/connectors/freeagent/sandbox"
	netsuitesandbox "github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	qbosandbox "github.com/commercesync/commercesync/connectors/qbo/sandbox"
	sagesandbox "github.com/commercesync/commercesync/connectors/sage/sandbox"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/ops"
	"github.com/commercesync/commercesync/pipeline/system"
	"github.com/commercesync/commercesync/pipeline/window"
)

const usage = `commercesync: push a merchant's commerce data, get balanced daily accounting.

Usage:
  commercesync dev [flags]            run everything in one process (embedded Kafka broker, sandboxes)
  commercesync gateway [flags]        serve the API against KAFKA_BROKERS (as many as wanted)
  commercesync window [flags]         run a window worker against KAFKA_BROKERS
  commercesync plan [flags]           run a planner against KAFKA_BROKERS (each plans its share of the companies)
  commercesync push [flags]           run a push worker against KAFKA_BROKERS (each pushes for its share)
  commercesync sink [flags]           copy what reconciliation reads from KAFKA_BROKERS into ClickHouse (CLICKHOUSE_ADDR)
  commercesync broker [flags]         run the embedded Kafka-protocol broker alone, to try the stages on one machine
  commercesync sandbox <platform>     run one platform's sandbox alone (xero, freeagent, …)
  commercesync admin …                make tenants and API keys (with COMMERCESYNC_ADMIN_TOKEN)
  commercesync loadgen [flags]        push realistic traffic for many merchants and time it (with COMMERCESYNC_API_KEY)
  commercesync reconcile [flags]      a company's days, payouts or the tenant's exceptions, three sources side by side (with COMMERCESYNC_API_KEY)

Run "commercesync <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "commercesync:", err)
		os.Exit(1)
	}
}

// run runs a command. windowOpts are added to the window job's options;
// the binary passes none (the end-to-end tests pass their fault hooks from
// the test binary, so no test hook ships in this one).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, windowOpts ...window.Option) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "window":
		return runWindow(ctx, args[1:], stderr, windowOpts...)
	case "gateway":
		return runGateway(ctx, args[1:], stderr)
	case "plan":
		return runPlan(ctx, args[1:], stderr)
	case "push":
		return runPush(ctx, args[1:], stderr)
	case "sink":
		return runSink(ctx, args[1:], stderr)
	case "broker":
		return runBroker(ctx, args[1:], stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args[1:], stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "loadgen":
		return runLoadgen(ctx, args[1:], stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, args[1:], stdout, stderr, time.Now)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// logger makes a command's logger: JSON lines for a log collector, text
// for people. format auto picks text when w is a terminal, JSON otherwise.
func logger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "auto":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: use auto (text on a terminal, else JSON), text or json", format)
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// logFlags adds the logging flags every long-running command takes.
func logFlags(fs *flag.FlagSet) (level, format *string) {
	return fs.String("log-level", "info", "debug, info, warn or error"),
		fs.String("log-format", "auto", "auto (text on a terminal, JSON lines otherwise), text or json")
}

// serveOps serves /metrics, /healthz and /readyz on addr until ctx ends,
// and returns the address it listens on.
func serveOps(ctx context.Context, addr string, m *ops.Metrics, ready *ops.Ready, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("-ops %s: %w", addr, err)
	}
	srv := &http.Server{Handler: ops.Handler(m, ready), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops server stopped", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

func brokersFromEnv() []string {
	v := strings.TrimSpace(os.Getenv("KAFKA_BROKERS"))
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// devFlags are the settings of `commercesync dev`.
type devFlags struct {
	data, httpAddr, grpcAddr, sandboxAddr, opsAddr *string
	kafkaPort                                      *int
	tick                                           *time.Duration
	level, format                                  *string
	kafka                                          *kafkaFlags
	clickhouse, clickhouseDB                       *string
	reconciliation                                 *bool
	clickhousePort                                 *int
}

func newDevFlags(stderr io.Writer) (*flag.FlagSet, *devFlags) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &devFlags{
		data:        fs.String("data", ".data", "folder that keeps the embedded broker's log, the sealing key and the sandboxes' state across restarts"),
		httpAddr:    fs.String("http", "127.0.0.1:8080", "REST listen address"),
		grpcAddr:    fs.String("grpc", "127.0.0.1:9090", "gRPC listen address"),
		kafkaPort:   fs.Int("kafka-port", 19092, "embedded broker port (ignored when KAFKA_BROKERS is set)"),
		sandboxAddr: fs.String("sandbox", "127.0.0.1:8091", "first sandbox listen address; the other platforms take the ports after it"),
		tick:        fs.Duration("tick", time.Minute, "how often clock ticks seal quiet companies' days (0 disables)"),
		opsAddr:     fs.String("ops", "127.0.0.1:9100", "where /metrics, /healthz and /readyz are served"),
	}
	f.level, f.format = logFlags(fs)
	f.kafka = newKafkaFlags(fs)
	f.clickhouse, f.clickhouseDB = clickhouseFlags(fs, "start a local clickhouse-server, its data in -data, when one is installed")
	f.clickhousePort = fs.Int("clickhouse-port", 19000, "native port of the local clickhouse-server dev starts (ignored with -clickhouse)")
	f.reconciliation = fs.Bool("reconciliation", true, "run the reconciliation sink and serve reconciliation (false: run without ClickHouse)")
	return fs, f
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newDevFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger(stderr, *f.level, *f.format)
	if err != nil {
		return err
	}
	opts := []system.Option{
		system.WithDataDir(*f.data), system.WithAddrs(*f.httpAddr, *f.grpcAddr, *f.sandboxAddr), system.WithOpsAddr(*f.opsAddr),
		system.WithBrokerPort(*f.kafkaPort), system.WithTick(*f.tick), system.WithLogger(log),
	}
	if b := os.Getenv("KAFKA_BROKERS"); strings.TrimSpace(b) != "" {
		cluster, err := f.kafka.cluster(b)
		if err != nil {
			return err
		}
		opts = append(opts, system.WithCluster(cluster))
	}
	if tok := strings.TrimSpace(os.Getenv("COMMERCESYNC_ADMIN_TOKEN")); tok != "" {
		if err := gateway.CheckOperatorToken(tok); err != nil {
			return fmt.Errorf("COMMERCESYNC_ADMIN_TOKEN: %w", err)
		}
		opts = append(opts, system.WithOperatorToken(tok))
	}
	if key := strings.TrimSpace(os.Getenv("COMMERCESYNC_SEALING_KEY")); key != "" {
		opts = append(opts, system.WithSealingKey(key))
	}
	if *f.reconciliation {
		opts = append(opts, system.WithReconciliation(system.Reconciliation{Addr: *f.clickhouse, Database: *f.clickhouseDB, LocalPort: *f.clickhousePort}))
	}
	sys, err := system.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer sys.Close()
	var sandboxLines strings.Builder
	keys := make([]string, 0, len(sys.SandboxURL))
	for k := range sys.SandboxURL {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&sandboxLines, "  %-18s %s\n", "Sandbox "+k, sys.SandboxURL[k])
	}
	fmt.Fprintf(stdout, `commercesync is running.

  REST API           %s   (OpenAPI: %s/openapi.json)
  gRPC API           %s
  Kafka brokers      %s
  API key            %s
  Operator token     %s   (admin API; COMMERCESYNC_ADMIN_TOKEN for commercesync admin)
  Metrics            %s/metrics   (and /healthz, /readyz)
  Reconciliation     %s
%s
Try:  curl -H "Authorization: Bearer %s" %s/v1/platforms
Stop with Ctrl-C; data is kept in %s.
`, sys.HTTPURL, sys.HTTPURL, sys.GRPCAddr, strings.Join(sys.Brokers, ","), sys.DevKey, sys.OperatorToken, sys.OpsURL,
		reconciliationLine(sys, *f.reconciliation), sandboxLines.String(), sys.DevKey,
		sys.HTTPURL, *f.data)
	select {
	case <-ctx.Done():
		return nil
	case <-sys.Done():
		return sys.Err()
	}
}

// windowFlags are the settings of `commercesync window`.
type windowFlags struct {
	brokers, txnID, stateDir, opsAddr *string
	session, txnTimeout               *time.Duration
	level, format                     *string
	kafka                             *kafkaFlags
}

func newWindowFlags(stderr io.Writer) (*flag.FlagSet, *windowFlags) {
	fs := flag.NewFlagSet("window", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &windowFlags{
		brokers:    fs.String("brokers", "", "Kafka brokers, comma separated"),
		txnID:      fs.String("transactional-id", "", "this worker's transactional id (default: unique per process)"),
		session:    fs.Duration("session-timeout", 10*time.Second, "group session timeout: how long a dead worker holds its partitions"),
		txnTimeout: fs.Duration("transaction-timeout", 10*time.Second, "transaction timeout"),
		stateDir:   fs.String("state-dir", "", "folder for the window's state store, reused from its checkpoint after a restart (default: kept in memory and rebuilt from the changelog at every start)"),
		opsAddr:    fs.String("ops", "127.0.0.1:0", "where /metrics, /healthz and /readyz are served (default: a free loopback port, logged at start)"),
	}
	f.level, f.format = logFlags(fs)
	f.kafka = newKafkaFlags(fs)
	return fs, f
}

func runWindow(ctx context.Context, args []string, stderr io.Writer, extra ...window.Option) error {
	fs, f := newWindowFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *f.brokers == "" {
		return errors.New("no brokers: set KAFKA_BROKERS or -brokers to the Kafka cluster's bootstrap servers")
	}
	log, err := logger(stderr, *f.level, *f.format)
	if err != nil {
		return err
	}
	metrics := ops.NewMetrics()
	opts := []window.Option{window.WithLogger(log), window.WithTimeouts(*f.txnTimeout, *f.session), window.WithStateDir(*f.stateDir),
		window.WithObserver(metrics.Window())}
	if *f.txnID != "" {
		opts = append(opts, window.WithTransactionalID(*f.txnID))
	}
	cluster, err := f.kafka.cluster(*f.brokers)
	if err != nil {
		return err
	}
	job := window.NewJob(cluster.WithMetrics(metrics.Registry(), "window"), append(opts, extra...)...)
	metrics.WatchJob(job)
	ready := ops.NewReady("starting")
	addr, err := serveOps(ctx, *f.opsAddr, metrics, ready, log)
	if err != nil {
		return err
	}
	log.Info("window worker started", "ops", "http://"+addr)
	ready.Set()
	return job.Run(ctx)
}

// sandboxes start each platform's sandbox alone, for a client registered
// with the given id, secret and redirect URIs, keeping its state in dir
// ("" keeps it in memory); Xero's holds orgs organisations.
var sandboxes = map[string]func(id, secret string, redirects []string, dir, addr string, orgs int) (string, func(context.Context) error, error){
	"xero": func(id, secret string, redirects []string, dir, addr string, orgs int) (string, func(context.Context) error, error) {
		opts := []xerosandbox.Option{xerosandbox.WithDataDir(dir), xerosandbox.WithClient(xerosandbox.Client{ID: id, Secret: secret, Name: "commercesync", RedirectURIs: redirects})}
		for i := range orgs {
			opts = append(opts, xerosandbox.WithOrganisation(xerosandbox.NumberedOrganisation(i)))
		}
		return xerosandbox.New(opts...).Start(addr)
	},
	"qbo": func(id, secret string, redirects []string, dir, addr string, _ int) (string, func(context.Context) error, error) {
		return qbosandbox.New(qbosandbox.WithDataDir(dir), qbosandbox.WithClient(qbosandbox.Client{ID: id, Secret: secret, Name: "commercesync", RedirectURIs: redirects})).Start(addr)
	},
	"sage": func(id, secret string, redirects []string, dir, addr string, _ int) (string, func(context.Context) error, error) {
		return sagesandbox.New(sagesandbox.WithDataDir(dir), sagesandbox.WithClient(sagesandbox.Client{ID: id, Secret: secret, Name: "commercesync", RedirectURIs: redirects})).Start(addr)
	},
	"netsuite": func(id, secret string, redirects []string, dir, addr string, _ int) (string, func(context.Context) error, error) {
		return netsuitesandbox.New(netsuitesandbox.WithDataDir(dir), netsuitesandbox.WithClient(netsuitesandbox.Client{ID: id, Secret: secret, Name: "commercesync", RedirectURIs: redirects})).Start(addr)
	},
	"freeagent": func(id, secret string, redirects []string, dir, addr string, _ int) (string, func(context.Context) error, error) {
		return freeagentsandbox.New(freeagentsandbox.WithDataDir(dir), freeagentsandbox.WithClient(freeagentsandbox.Client{ID: id, Secret: secret, Name: "commercesync", RedirectURIs: redirects})).Start(addr)
	},
}

// sandboxFlags are the settings of `commercesync sandbox <platform>`.
type sandboxFlags struct {
	addr, clientID, secret, redirect, data *string
	orgs                                   *int
}

func newSandboxFlags(platform string, stderr io.Writer) (*flag.FlagSet, *sandboxFlags) {
	fs := flag.NewFlagSet("sandbox "+platform, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, &sandboxFlags{
		addr:     fs.String("addr", "127.0.0.1:8091", "listen address"),
		clientID: fs.String("client-id", "commercesync-dev", "OAuth client id to accept"),
		secret:   fs.String("client-secret", "commercesync-dev-secret", "OAuth client secret to accept"),
		redirect: fs.String("redirect-uri", "http://127.0.0.1:8080/v1/oauth/callback", "redirect URI to accept (comma separated for several)"),
		data:     fs.String("data", "", "folder that keeps the sandbox's state across restarts (default: in memory)"),
		orgs: fs.Int("organisations", 1, "Xero: how many organisations to hold, each with its own limits; "+
			"the i-th has tenant id 00000000-0000-4000-8000-<i in 12 digits> (the first the demo company's)"),
	}
}

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var names []string
	for k := range sandboxes {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(args) == 0 || sandboxes[args[0]] == nil {
		return fmt.Errorf("usage: commercesync sandbox <%s> [-addr 127.0.0.1:8091]", strings.Join(names, "|"))
	}
	fs, f := newSandboxFlags(args[0], stderr)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *f.orgs < 1 || *f.orgs > 10000 {
		return errors.New("-organisations: between 1 and 10000")
	}
	url, shutdown, err := sandboxes[args[0]](*f.clientID, *f.secret, strings.Split(*f.redirect, ","), *f.data, *f.addr, *f.orgs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s sandbox listening on %s (client %s)\n", args[0], url, *f.clientID)
	<-ctx.Done()
	return shutdown(context.Background())
}
