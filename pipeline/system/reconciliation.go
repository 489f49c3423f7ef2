package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chserver"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
)

// Reconciliation configures the reconciliation store.
type Reconciliation struct {
	// Addr is a ClickHouse server's native host:port. "" starts a local
	// clickhouse-server, its data in the data folder, when one is
	// installed; when none is, the system runs without reconciliation and
	// says why (System.ReconciliationOff).
	Addr string
	// LocalPort is the local server's native port (default: a free one).
	LocalPort int
	// Database defaults to DefaultDatabase.
	Database string
	// SinkOptions are passed to the sink.
	SinkOptions []sink.Option
}

// DefaultDatabase is the reconciliation store's database.
const DefaultDatabase = "commercesync"

// WithReconciliation runs the sink into a ClickHouse store and serves
// reconciliation from it.
func WithReconciliation(r Reconciliation) Option { return func(c *config) { c.recon = &r } }

// startReconciliation opens the store (starting a local server when asked
// to) and runs the sink. A local server that cannot start turns
// reconciliation off, with the reason in s.ReconciliationOff; a server the
// caller named that cannot be reached is an error.
func (s *System) startReconciliation(ctx context.Context, r Reconciliation, dataDir string, cluster kafka.Cluster, topics kafka.Topics, log *slog.Logger) error {
	db := r.Database
	if db == "" {
		db = DefaultDatabase
	}
	addr := r.Addr
	if addr == "" {
		dir := filepath.Join(dataDir, "clickhouse")
		if dataDir == "" {
			tmp, err := os.MkdirTemp("", "commercesync-clickhouse-")
			if err != nil {
				return err
			}
			s.closers = append(s.closers, func() { _ = os.RemoveAll(tmp) })
			dir = tmp
		}
		srv, err := chserver.Start(ctx, dir, chserver.WithLogger(log), chserver.WithNativePort(r.LocalPort))
		if err != nil {
			s.ReconciliationOff = "reconciliation is off: " + err.Error()
			if !errors.Is(err, chserver.ErrNotInstalled) {
				s.ReconciliationOff += " (set CLICKHOUSE_ADDR to use a running server)"
			}
			log.Warn(s.ReconciliationOff)
			return nil
		}
		s.closers = append(s.closers, func() {
			if err := srv.Stop(); err != nil {
				log.Warn("clickhouse-server stop", "err", err)
			}
		})
		addr = srv.Addr
	}
	store, err := chstore.Open(ctx, addr, db, chstore.WithLogger(log))
	if err != nil {
		return fmt.Errorf("reconciliation store: %w", err)
	}
	s.closers = append(s.closers, func() { _ = store.Close() })
	s.Reconciliation, s.ClickHouseAddr = store, addr
	job := sink.NewJob(cluster, store, append([]sink.Option{sink.WithTopics(topics), sink.WithLogger(log)}, r.SinkOptions...)...)
	s.sink = job
	s.Metrics.WatchSink(job)
	s.goRun("sink", job.Run)
	return nil
}

// SinkStats is what the sink has stored (zero when reconciliation is off).
func (s *System) SinkStats() sink.Stats {
	if s.sink == nil {
		return sink.Stats{}
	}
	return s.sink.Stats()
}

// reconciliationOption serves reconciliation from the store, or says why
// there is none.
func (s *System) reconciliationOption() gateway.Option {
	if s.Reconciliation == nil {
		return gateway.WithReconciliation(nil, s.ReconciliationOff)
	}
	return gateway.WithReconciliation(s.Reconciliation, "")
}
