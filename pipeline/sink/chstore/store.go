// Package chstore is the reconciliation store on ClickHouse, through
// clickhouse-go v2.25.0 over the native protocol: the newest driver that
// still writes batches to ClickHouse 18.16, the release Debian ships.
package chstore

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	schema "github.com/commercesync/commercesync/deploy/clickhouse"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/sink"
)

// Store is one database on one server.
type Store struct {
	conn driver.Conn
	db   string
	log  *slog.Logger
}

type options struct {
	log      *slog.Logger
	user     string
	password string
	timeout  time.Duration
}

// Option configures Open.
type Option func(*options)

// WithLogger logs migrations.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithAuth sets the user and password (default: user default, no password).
func WithAuth(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithTimeout bounds each query (default 30 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

var dbName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Open connects to the server at addr (host:port of the native protocol),
// creates database when missing and applies the migrations it has not
// recorded.
func Open(ctx context.Context, addr, database string, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler), user: "default", timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if !dbName.MatchString(database) {
		return nil, fmt.Errorf("clickhouse database %q: use letters, digits and _, starting with a letter or _, at most 64", database)
	}
	boot, err := connect(addr, "default", o)
	if err != nil {
		return nil, err
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: create database %s: %w", addr, database, err)
	}
	conn, err := connect(addr, database, o)
	if err != nil {
		return nil, err
	}
	s := &Store{conn: conn, db: database, log: o.log}
	if err := s.migrate(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func connect(addr, database string, o options) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		Auth:        clickhouse.Auth{Database: database, Username: o.user, Password: o.password},
		DialTimeout: 10 * time.Second,
		ReadTimeout: o.timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", addr, err)
	}
	return conn, nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// Database is the database the store uses.
func (s *Store) Database() string { return s.db }

// migrate applies every migration not yet recorded. Each statement is
// idempotent (IF NOT EXISTS), so two processes starting together, or one
// that stopped between a statement and its record, apply nothing twice.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := schema.Migrations()
	if err != nil {
		return err
	}
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime('UTC')) ENGINE = ReplacingMergeTree() ORDER BY version`); err != nil {
		return fmt.Errorf("clickhouse migrations table: %w", err)
	}
	done := map[int]bool{}
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		done[int(v)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		for i, st := range m.Statements {
			if err := s.conn.Exec(ctx, st); err != nil {
				return fmt.Errorf("migration %04d_%s, statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := s.record(ctx, m); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		s.log.Info("clickhouse migration applied", "version", m.Version, "name", m.Name, "database", s.db)
	}
	return nil
}

// record notes a migration as applied. It is a batch insert: an INSERT
// with inline values never returns over the native protocol with this
// driver.
func (s *Store) record(ctx context.Context, m schema.Migration) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations")
	if err != nil {
		return err
	}
	if err := b.Append(uint32(m.Version), m.Name, time.Now().UTC()); err != nil {
		_ = b.Abort()
		return err
	}
	return b.Send()
}

// Applied lists the recorded migrations' versions.
func (s *Store) Applied(ctx context.Context) ([]int, error) {
	rows, err := s.conn.Query(ctx, "SELECT version FROM schema_migrations FINAL ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, int(v))
	}
	return out, rows.Err()
}

func dec(a money.Amount) decimal.Decimal { return decimal.New(int64(a), -money.Scale) }

// Write stores a batch, one insert per table. A table's insert is atomic
// per partition only, so a failure may leave part of a batch stored; the
// batch is then written again whole, and the copies collapse.
func (s *Store) Write(ctx context.Context, r *sink.Rows) error {
	if err := s.insert(ctx, "contributions", len(r.Contributions), func(i int) []any {
		c := &r.Contributions[i]
		return []any{c.TenantID, c.CompanyID, c.Day, c.Currency, c.Location, c.Kind, c.RecordType, c.RecordID, c.Sign,
			c.Account, dec(c.Amount), c.Exception, c.EventTime, c.PaymentType, c.LinkedPaymentID,
			c.Source.Partition, c.Source.Offset, c.Index}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "ledger_days", len(r.Days), func(i int) []any {
		d := &r.Days[i]
		return []any{d.TenantID, d.CompanyID, d.Day, d.Currency, d.Location, d.Revision, d.SummaryID, d.SealedBy,
			d.ConfigVersion, d.RecordCount, d.ExceptionCount, d.Start, d.End, d.Source.Partition, d.Source.Offset}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "ledger_lines", len(r.Lines), func(i int) []any {
		l := &r.Lines[i]
		return []any{l.TenantID, l.CompanyID, l.Day, l.Currency, l.Location, l.Revision, l.Account, dec(l.Amount)}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "documents", len(r.Documents), func(i int) []any {
		d := &r.Documents[i]
		return []any{d.TenantID, d.CompanyID, d.Day, d.Currency, d.Location, d.DocumentID, d.SummaryID, d.Revision, d.ConfigVersion,
			d.PlatformKey, d.ConnectionID, d.Reference, d.State, d.Type, d.DocCurrency, d.ExternalID, d.ErrorClass, d.ErrorMessage,
			d.Attempts, d.UpdatedAt, d.Source.Partition, d.Source.Offset}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "document_movements", len(r.Movements), func(i int) []any {
		m := &r.Movements[i]
		return []any{m.TenantID, m.CompanyID, m.Day, m.Currency, m.Location, m.DocumentID, m.SemanticAccount, m.AccountID,
			dec(m.Amount), m.Source.Partition, m.Source.Offset, m.Index}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "quarantine", len(r.Quarantine), func(i int) []any {
		q := &r.Quarantine[i]
		return []any{q.TenantID, q.CompanyID, q.EntryID, q.Stage, q.Kind, q.Topic, q.Partition, q.Offset, q.RecordID, q.Day,
			q.Currency, q.Location, q.Reason, q.Attempts, q.At, q.Source.Partition, q.Source.Offset}
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, "payout_settlements", len(r.Settlements), func(i int) []any {
		x := &r.Settlements[i]
		return []any{x.TenantID, x.CompanyID, x.Day, x.PayoutID, x.PaymentID, x.Sign, x.Source.Partition, x.Source.Offset, x.Index}
	}); err != nil {
		return err
	}
	return s.insert(ctx, "sink_rejects", len(r.Rejects), func(i int) []any {
		x := &r.Rejects[i]
		return []any{x.Topic, x.Source.Partition, x.Source.Offset, x.Reason, x.RejectedAt}
	})
}

// insert sends n rows to table as one batch.
func (s *Store) insert(ctx context.Context, table string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	for i := range n {
		if err := b.Append(row(i)...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("%s row %d: %w", table, i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}
