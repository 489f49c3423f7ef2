package sandboxkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultMaxStateBytes bounds one sandbox's saved state: tens of
// thousands of documents, far more than a development system posts.
const DefaultMaxStateBytes = 64 << 20

// stateFormat names the file layout; a file of another format is refused
// at start rather than half read.
const stateFormat = "commercesync-sandbox-state/1"

// ErrStateFull is returned when a snapshot is larger than the store's
// limit: it is not written, and the file keeps the last one that fit.
var ErrStateFull = errors.New("sandbox state is larger than its limit")

// Store keeps one sandbox's state in one file of a data folder
// (<dir>/<name>.json), replaced atomically by each snapshot: written to a
// temporary file, synced, renamed over the old one, and the folder synced,
// so a crash leaves either the old snapshot or the new one, never a mix.
type Store struct {
	dir, name, path string
	max             int64

	mu   sync.Mutex
	last uint64 // sequence of the newest snapshot written
	full bool
}

// OpenStore makes dir if needed and returns the store of the sandbox
// called name in it; max <= 0 means DefaultMaxStateBytes.
func OpenStore(dir, name string, max int64) (*Store, error) {
	if dir == "" || name == "" {
		return nil, errors.New("sandbox store: a folder and a name are needed")
	}
	if max <= 0 {
		max = DefaultMaxStateBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox store folder: %w", err)
	}
	return &Store{dir: dir, name: name, path: filepath.Join(dir, name+".json"), max: max}, nil
}

// Path is the file the state is kept in.
func (s *Store) Path() string { return s.path }

// envelope is the file's content: what wrote it and the sandbox's own
// state.
type envelope struct {
	Format   string          `json:"format"`
	Platform string          `json:"platform"`
	Saved    time.Time       `json:"saved"`
	State    json.RawMessage `json:"state"`
}

// Load decodes the saved state into v; found is false when nothing was
// saved yet. A file that cannot be read as this sandbox's state is an
// error naming the file, so a start never silently drops what was kept.
func (s *Store) Load(v any) (found bool, err error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", s.path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", s.path, err)
	}
	if int64(len(b)) > s.max {
		return false, fmt.Errorf("%s is larger than the %d-byte limit; remove it to start the %s sandbox afresh", s.path, s.max, s.name)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return false, fmt.Errorf("%s is not a sandbox state (%v); remove it to start the %s sandbox afresh", s.path, err, s.name)
	}
	if env.Format != stateFormat || env.Platform != s.name {
		return false, fmt.Errorf("%s holds %q state of %q, not %q of %q; remove it to start the %s sandbox afresh",
			s.path, env.Format, env.Platform, stateFormat, s.name, s.name)
	}
	if err := json.Unmarshal(env.State, v); err != nil {
		return false, fmt.Errorf("%s: the %s sandbox's state does not decode (%v); remove it to start afresh", s.path, s.name, err)
	}
	return true, nil
}

// Write replaces the saved state with state, the seq-th snapshot. Snapshots
// are taken under the sandbox's lock but written outside it, so one older
// than a snapshot already written is dropped. A snapshot over the limit is
// not written: Write returns ErrStateFull and Full reports true from then
// on.
func (s *Store) Write(seq uint64, state json.RawMessage, now time.Time) error {
	b, err := json.Marshal(envelope{Format: stateFormat, Platform: s.name, Saved: now.UTC(), State: state})
	if err != nil {
		return fmt.Errorf("encode sandbox state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.last {
		return nil
	}
	if int64(len(b)) > s.max {
		s.full = true
		return fmt.Errorf("%w: %d bytes, limit %d; %s keeps the last state that fit", ErrStateFull, len(b), s.max, s.path)
	}
	if err := s.replace(b); err != nil {
		return err
	}
	s.last = seq
	return nil
}

// Full reports whether a snapshot was refused for its size.
func (s *Store) Full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full
}

func (s *Store) replace(b []byte) error {
	tmp, err := os.CreateTemp(s.dir, s.name+".*.tmp")
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("replace %s: %w", s.path, err)
	}
	// The rename is durable only once the folder's entry is.
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", s.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.dir, err)
	}
	return nil
}

// Keeper saves a sandbox's state to its Store after each change. A nil
// Keeper keeps nothing: sandboxes started without a data folder stay in
// memory.
type Keeper struct {
	store    *Store
	mu       sync.Locker
	snapshot func() any
	now      func() time.Time
	log      func() *slog.Logger

	seq uint64 // changes so far; guarded by mu

	// Writers take turns, and each writes a snapshot that covers every
	// change counted before it was taken: callers that queued behind a
	// write find their change already kept and return at once (a group
	// commit), so a sandbox with thousands of documents and many callers
	// writes its file a few times a second rather than once per call.
	wmu     sync.Mutex
	written uint64 // newest change kept on disk; guarded by wmu
}

// NewKeeper ties store to a sandbox: snapshot returns its state (called
// with mu, the sandbox's lock, held; it is encoded before the lock is let
// go, so it may share the live data).
func NewKeeper(store *Store, mu sync.Locker, snapshot func() any, now func() time.Time, log func() *slog.Logger) *Keeper {
	return &Keeper{store: store, mu: mu, snapshot: snapshot, now: now, log: log}
}

// Load decodes the saved state into v (see Store.Load).
func (k *Keeper) Load(v any) (bool, error) {
	if k == nil {
		return false, nil
	}
	return k.store.Load(v)
}

// Save snapshots the state and writes it. A failure is logged: the sandbox
// goes on serving from memory, and the next change tries again.
func (k *Keeper) Save() {
	if k == nil {
		return
	}
	if err := k.write(); err != nil {
		k.log().Error(k.store.name+" sandbox: state not saved", "file", k.store.Path(), "err", err)
	}
}

func (k *Keeper) write() error {
	k.mu.Lock()
	k.seq++
	want := k.seq
	k.mu.Unlock()
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if k.written >= want {
		return nil
	}
	k.mu.Lock()
	seq := k.seq
	b, err := json.Marshal(k.snapshot())
	k.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode the %s sandbox's state: %w", k.store.name, err)
	}
	if err := k.store.Write(seq, b, k.now()); err != nil {
		return err
	}
	k.written = seq
	return nil
}

// Handler saves the state after each request that may change it (every
// method but GET, HEAD and OPTIONS), also when the handler drops its
// response after committing (DropResponse). Once the store is full such
// requests are refused with 507 and a plain message, so nothing is
// accepted that would not be kept; reads go on.
func (k *Keeper) Handler(h http.Handler) http.Handler {
	if k == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			h.ServeHTTP(w, r)
			return
		}
		if k.store.Full() {
			http.Error(w, fmt.Sprintf("The %s sandbox's saved state reached its limit of %d bytes; remove %s (or start it without a data folder) to go on.",
				k.store.name, k.store.max, k.store.Path()), http.StatusInsufficientStorage)
			return
		}
		defer k.Save()
		h.ServeHTTP(w, r)
	})
}

// Keep opens the store of the sandbox called name in dir and ties it to the
// sandbox: what the store holds is decoded and handed to restore (with mu
// held), and the state as it then is saved at once, so the folder holds it
// even before the first change. S is the sandbox's snapshot type; snapshot
// is called with mu held.
func Keep[S any](dir, name string, mu sync.Locker, snapshot func() S, restore func(S), now func() time.Time, log func() *slog.Logger) (*Keeper, error) {
	store, err := OpenStore(dir, name, 0)
	if err != nil {
		return nil, err
	}
	var st S
	found, err := store.Load(&st)
	if err != nil {
		return nil, err
	}
	if found {
		mu.Lock()
		restore(st)
		mu.Unlock()
	}
	k := NewKeeper(store, mu, func() any { return snapshot() }, now, log)
	if err := k.write(); err != nil {
		return nil, fmt.Errorf("the %s sandbox cannot keep its state: %w", name, err)
	}
	return k, nil
}

// Change runs fn under mu, the lock that guards a sandbox's state, and then
// saves the state through k (nil: in memory only) when fn succeeded: how the
// test-facing mutators, which change state outside any HTTP call, keep it.
func Change(mu sync.Locker, k *Keeper, fn func() error) error {
	mu.Lock()
	err := fn()
	mu.Unlock()
	if err == nil {
		k.Save()
	}
	return err
}
