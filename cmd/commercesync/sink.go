package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/commercesync/commercesync/pipeline/ops"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/system"
)

// clickhouseFlags adds the reconciliation store's flags; def says what an
// empty -clickhouse does.
func clickhouseFlags(fs *flag.FlagSet, def string) (addr, database *string) {
	return fs.String("clickhouse", "", "ClickHouse native host:port of the reconciliation store (default: "+def+")"),
		fs.String("clickhouse-database", system.DefaultDatabase, "the reconciliation store's database, created with its tables when missing")
}

// reconciliationLine is what dev prints about reconciliation.
func reconciliationLine(sys *system.System, on bool) string {
	switch {
	case !on:
		return "off (-reconciliation=false)"
	case sys.Reconciliation == nil:
		return sys.ReconciliationOff
	}
	return fmt.Sprintf("ClickHouse %s, database %s (clickhouse-client --port %s)", sys.ClickHouseAddr, sys.Reconciliation.Database(), portOf(sys.ClickHouseAddr))
}

func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return addr
}

// sinkFlags are the settings of `commercesync sink`.
type sinkFlags struct {
	brokers, group, opsAddr  *string
	clickhouse, clickhouseDB *string
	batchRows                *int
	linger                   *time.Duration
	level, format            *string
	kafka                    *kafkaFlags
}

func newSinkFlags(stderr io.Writer) (*flag.FlagSet, *sinkFlags) {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &sinkFlags{
		brokers:   fs.String("brokers", "", "Kafka brokers, comma separated"),
		group:     fs.String("group", sink.DefaultGroup, "consumer group the sinks share"),
		opsAddr:   fs.String("ops", "127.0.0.1:0", "where /metrics, /healthz and /readyz are served (default: a free loopback port, logged at start)"),
		batchRows: fs.Int("batch-rows", 100_000, "rows a batch holds at most before it is written"),
		linger:    fs.Duration("linger", time.Second, "how long a batch waits for more records after its first"),
	}
	f.clickhouse, f.clickhouseDB = clickhouseFlags(fs, "none; it is required")
	f.level, f.format = logFlags(fs)
	f.kafka = newKafkaFlags(fs)
	return fs, f
}

// runSink copies ledger.contributions, ledger.days, push.outbox and
// commerce.quarantine into the reconciliation store, as one member of the
// sinks' consumer group.
func runSink(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f := newSinkFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *f.brokers == "" {
		return errors.New("no brokers: set KAFKA_BROKERS or -brokers to the Kafka cluster's bootstrap servers")
	}
	if *f.clickhouse == "" {
		return errors.New("no ClickHouse: set CLICKHOUSE_ADDR or -clickhouse to the server's native host:port (9000 by default)")
	}
	if *f.batchRows < 1 || *f.batchRows > 10_000_000 {
		return fmt.Errorf("-batch-rows %d: use 1 to 10000000", *f.batchRows)
	}
	if *f.linger <= 0 || *f.linger > time.Minute {
		return fmt.Errorf("-linger %s: use more than 0 and at most 1m", *f.linger)
	}
	log, err := logger(stderr, *f.level, *f.format)
	if err != nil {
		return err
	}
	cluster, err := f.kafka.cluster(*f.brokers)
	if err != nil {
		return err
	}
	store, err := chstore.Open(ctx, *f.clickhouse, *f.clickhouseDB, chstore.WithLogger(log))
	if err != nil {
		return err
	}
	defer store.Close()
	metrics := ops.NewMetrics()
	job := sink.NewJob(cluster.WithMetrics(metrics.Registry(), "sink"), store, sink.WithGroup(*f.group), sink.WithLogger(log),
		sink.WithBatch(*f.batchRows, *f.linger))
	metrics.WatchSink(job)
	ready := ops.NewReady("starting")
	addr, err := serveOps(ctx, *f.opsAddr, metrics, ready, log)
	if err != nil {
		return err
	}
	log.Info("sink started", "ops", "http://"+addr, "clickhouse", *f.clickhouse, "database", store.Database())
	ready.Set()
	return job.Run(ctx)
}
