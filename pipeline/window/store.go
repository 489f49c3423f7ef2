package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The window's state store. The changelog topic is the truth; the store is
// that changelog materialised on local disk (Pebble), with a few indexes
// derived from it, so that the heap holds only open work: a company's head,
// its reference data, its open days, the exceptions it has outstanding and
// whatever the open batch touched. A record or a sealed day is read back
// from the store when a record needs it, however long ago it was written.
//
// Keys are <section><partition, 4 bytes big-endian><rest>. The partition
// comes second so that a partition's keys of one section form one range:
// taking a partition over rebuilds (or wipes) exactly its ranges.
//
// Changelog sections hold each changelog entry's value as the topic holds
// it, under <company>\x00<kind>\x00<rest>, the changelog key itself:
//
//	m head   r record   d day   f reference   x posted exception
//
// Derived sections are written beside them, in the same batch:
//
//	E a record's current exception: <company>\x00<record key> → day key and message
//	P fee or payout → payment:      <company>\x00<payment id>\x00<record key>
//	O order → product:              <company>\x00<product id>\x00<record key>
//	L live days (open, or sealed with a revision due): <company>\x00<day key>
//	W watermark:                    <company> → 8 bytes
//	C checkpoint:                   (nothing) → next changelog offset, wall time
//
// P and O may name records that no longer link there (a restore does not
// read a record's previous value to unlink it): their readers check each
// record they find.
const (
	secExc        = 'E'
	secFees       = 'P'
	secProducts   = 'O'
	secLive       = 'L'
	secWatermark  = 'W'
	secCheckpoint = 'C'
)

// StoreFormat is the version of the store's layout, kept under formatKey
// ("V"). A store with no version was written before versions were kept:
// version 0, whose layout is version 1's, so it is read as it is. A store
// of any other version is emptied at open, and the changelog, the state's
// source of truth, rebuilds each partition as it is taken.
const StoreFormat = 1

var formatKey = []byte{'V'}

// sections lists every section a partition's state has, for wiping it.
var sections = []byte{kindHead, kindRecord, kindDay, kindRef, kindPosted, secExc, secFees, secProducts, secLive, secWatermark, secCheckpoint}

// Store is the window's local state store.
type Store struct {
	db   *pebble.DB
	hook func(*pebble.Batch) error
	// restoreBatch is how many bytes a restore's batch holds before it is
	// written (see newRestoreBatch).
	restoreBatch int
	// it serves a batch's reads: the store does not change until the batch
	// is written, so one iterator, made at the batch's first read, sees all
	// it needs, and seeking it costs less than a Get each time.
	it          *pebble.Iterator
	formatFound uint32
}

type storeConfig struct {
	mem       bool
	cache     int64
	memtable  uint64
	writeHook func(*pebble.Batch) error
	// restoreBatch, when set, replaces the restore batch's bound of
	// restoreBatchMemtables memtables.
	restoreBatch int
}

// StoreOption configures a Store.
type StoreOption func(*storeConfig)

// InMemory keeps the store in memory (Pebble's memory file system): for
// tests, and for runs without a data folder, which then rebuild their state
// from the changelog each time they start.
func InMemory() StoreOption { return func(c *storeConfig) { c.mem = true } }

// WithCacheBytes sets the size of the block cache (default 32 MiB).
func WithCacheBytes(n int64) StoreOption { return func(c *storeConfig) { c.cache = n } }

// WithMemtableBytes sets the size of a memtable (default 8 MiB).
func WithMemtableBytes(n uint64) StoreOption { return func(c *storeConfig) { c.memtable = n } }

// withRestoreBatchBytes bounds a restore's batch at n bytes instead of
// restoreBatchMemtables memtables: tests use it to write a restore in many
// batches.
func withRestoreBatchBytes(n int) StoreOption { return func(c *storeConfig) { c.restoreBatch = n } }

// withWriteHook runs fn before each batch is written; an error it returns
// fails the write. Tests use it to fail the store between a transaction's
// commit and the store's write.
func withWriteHook(fn func(*pebble.Batch) error) StoreOption {
	return func(c *storeConfig) { c.writeHook = fn }
}

// OpenStore opens (or creates) the store in dir.
//
// Pebble's write-ahead log is off: the changelog is the log. A batch and
// its checkpoint are written together, so after a crash the store holds
// some prefix of its batches with the checkpoint that matches it, and the
// changelog from that checkpoint on brings it up to date. Close flushes.
func OpenStore(dir string, opts ...StoreOption) (*Store, error) {
	cfg := storeConfig{cache: 32 << 20, memtable: 8 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	cache := pebble.NewCache(cfg.cache)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:        cache,
		DisableWAL:   true,
		MemTableSize: cfg.memtable,
		Logger:       quietLogger{},
	}
	// Most reads are of records never seen (a new order's identity
	// check): a Bloom filter in every table answers them without reading
	// a block. The fastest compression keeps the compactions that a stream
	// of new records causes cheap.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	po.EnsureDefaults()
	if cfg.mem {
		po.FS = vfs.NewMem()
		dir = ""
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open window state store in %q: %w", dir, err)
	}
	found, err := checkFormat(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("window state store in %q: %w", dir, err)
	}
	restoreBatch := cfg.restoreBatch
	if restoreBatch <= 0 {
		restoreBatch = int(min(restoreBatchMemtables*cfg.memtable, restoreBatchMax))
	}
	return &Store{db: db, hook: cfg.writeHook, restoreBatch: restoreBatch, formatFound: found}, nil
}

// checkFormat reads the store's format version (0 when it has none),
// empties a store of a version this code does not read, and records the
// current one. It returns the version found.
func checkFormat(db *pebble.DB) (uint32, error) {
	var found uint32
	v, closer, err := db.Get(formatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("read its format: %w", err)
	default:
		if len(v) == 4 {
			found = binary.BigEndian.Uint32(v)
		} else {
			found = ^uint32(0) // unreadable: not a format this code knows
		}
		_ = closer.Close()
	}
	if found == StoreFormat {
		return found, nil
	}
	if found != 0 {
		// Every key begins with its section's letter.
		if err := db.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
			return found, fmt.Errorf("empty a store of format %d: %w", found, err)
		}
	}
	if err := db.Set(formatKey, binary.BigEndian.AppendUint32(nil, StoreFormat), pebble.NoSync); err != nil {
		return found, fmt.Errorf("record its format: %w", err)
	}
	// The write-ahead log is off: the version (and an emptying) lasts once
	// flushed. Until then a crash leaves the store as it was, and the next
	// open decides again.
	if err := db.Flush(); err != nil {
		return found, fmt.Errorf("record its format: %w", err)
	}
	return found, nil
}

// FormatFound is the format version the store held when opened: 0 for one
// written before versions were kept or new, StoreFormat for a current one,
// any other for one emptied to be rebuilt from the changelog.
func (s *Store) FormatFound() uint32 { return s.formatFound }

// Close flushes the memtables (the write-ahead log is off) and closes the
// store.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	s.release()
	ferr := s.db.Flush()
	cerr := s.db.Close()
	s.db = nil
	return errors.Join(ferr, cerr)
}

// quietLogger keeps Pebble's informational lines out of the service's log;
// its errors come back as errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("window state store: "+format, args...))
}

// skey is the store key of section sec, partition p and rest.
func skey(dst []byte, sec byte, p int32, rest ...string) []byte {
	dst = append(dst, sec)
	dst = binary.BigEndian.AppendUint32(dst, uint32(p))
	for i, r := range rest {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, r...)
	}
	return dst
}

// changeSKey is the store key of a changelog entry of partition p.
func changeSKey(dst []byte, p int32, changeKey []byte) ([]byte, error) {
	i := bytes.IndexByte(changeKey, 0)
	if i < 0 || len(changeKey) < i+3 || changeKey[i+2] != 0 {
		return nil, fmt.Errorf("malformed changelog key %q", changeKey)
	}
	dst = append(dst, changeKey[i+1])
	dst = binary.BigEndian.AppendUint32(dst, uint32(p))
	return append(dst, changeKey...), nil
}

// prefixEnd is the first key after every key that starts with prefix.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// get calls fn with the value of key; the value is valid only inside fn.
func (s *Store) get(key []byte, fn func([]byte) error) (bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("window state store: read %q: %w", key, err)
	}
	defer closer.Close()
	return true, fn(v)
}

// iter returns the batch's iterator.
func (s *Store) iter() (*pebble.Iterator, error) {
	if s.it == nil {
		// Pebble skips the Bloom filters of the last level by default,
		// taking most reads there to find their key; here most do not (a
		// new record's identity check), and the last level holds most of
		// the store.
		it, err := s.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
		if err != nil {
			return nil, fmt.Errorf("window state store: %w", err)
		}
		s.it = it
	}
	return s.it, nil
}

// release closes the batch's iterator, before the store changes.
func (s *Store) release() {
	if s.it != nil {
		_ = s.it.Close()
		s.it = nil
	}
}

// lookup is get through the batch's iterator.
func (s *Store) lookup(key []byte, fn func([]byte) error) (bool, error) {
	it, err := s.iter()
	if err != nil {
		return false, err
	}
	// The iterator keeps the key it was last positioned by; the caller's
	// buffer is reused.
	key = bytes.Clone(key)
	if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
		return false, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return false, fmt.Errorf("window state store: read %q: %w", key, err)
	}
	return true, fn(v)
}

// seek is scan through the batch's iterator.
func (s *Store) seek(prefix []byte, fn func(k, v []byte) error) error {
	it, err := s.iter()
	if err != nil {
		return err
	}
	prefix = bytes.Clone(prefix)
	for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("window state store: scan %q: %w", prefix, err)
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return it.Error()
}

// scan calls fn for every key starting with prefix, in key order; key and
// value are valid only inside fn.
func (s *Store) scan(prefix []byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("window state store: scan %q: %w", prefix, err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("window state store: scan %q: %w", prefix, err)
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// write applies b to the store. Nothing waits for the disk: the
// changelog is the truth, and the checkpoint in the same batch says how far
// the store has come.
func (s *Store) write(b *pebble.Batch) error {
	defer b.Close()
	s.release()
	if s.hook != nil {
		if err := s.hook(b); err != nil {
			return fmt.Errorf("window state store: write: %w", err)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("window state store: write: %w", err)
	}
	return nil
}

// checkpoint is where a partition's store stands: the changelog offset it
// has applied up to (exclusive), and when it was written.
type checkpoint struct {
	next int64
	at   time.Time
}

func (s *Store) checkpoint(p int32) (checkpoint, bool, error) {
	var c checkpoint
	ok, err := s.get(skey(nil, secCheckpoint, p), func(v []byte) error {
		if len(v) != 16 {
			return fmt.Errorf("window state store: checkpoint of partition %d is %d bytes, not 16", p, len(v))
		}
		c.next = int64(binary.BigEndian.Uint64(v))
		c.at = time.UnixMilli(int64(binary.BigEndian.Uint64(v[8:])))
		return nil
	})
	return c, ok, err
}

func setCheckpoint(b *pebble.Batch, p int32, c checkpoint) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(c.next))
	v = binary.BigEndian.AppendUint64(v, uint64(c.at.UnixMilli()))
	return b.Set(skey(nil, secCheckpoint, p), v, nil)
}

// wipe deletes every key of partition p, in b.
func wipe(b *pebble.Batch, p int32) error {
	for _, sec := range sections {
		start := skey(nil, sec, p)
		if err := b.DeleteRange(start, prefixEnd(start), nil); err != nil {
			return err
		}
	}
	return nil
}
