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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestStoreReplacesItsFileAndKeepsOnlyNewerSnapshots(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, "toy", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if found, err := s.Load(&got); found || err != nil {
		t.Fatalf("an empty folder loads %t, %v", found, err)
	}
	if err := s.Write(2, json.RawMessage(`{"n":2}`), t0); err != nil {
		t.Fatal(err)
	}
	// A snapshot taken before the one written (its writer was slower)
	// must not replace it.
	if err := s.Write(1, json.RawMessage(`{"n":1}`), t0); err != nil {
		t.Fatal(err)
	}
	if found, err := s.Load(&got); !found || err != nil || got["n"] != 2 {
		t.Fatalf("loaded %v (%t, %v), want n=2", got, found, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "toy.json" {
		t.Fatalf("the folder holds %v, want toy.json alone (no temporary files)", entries)
	}
	other, _ := OpenStore(dir, "other", 0)
	if err := os.Rename(s.Path(), other.Path()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Load(&got); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("another sandbox's file loads: %v", err)
	}
}

// TestKeeperSavesAfterChangesAndStopsAtItsLimit: a state-changing request
// is saved even when its handler drops the answer; reads save nothing;
// once a snapshot would pass the limit it is not written, the file keeps
// the last one that fit, and further changes are refused with 507.
func TestKeeperSavesAfterChangesAndStopsAtItsLimit(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir, "toy", 200)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var items []string
	k := NewKeeper(store, &mu, func() any { return items }, func() time.Time { return t0 }, func() *slog.Logger { return slog.New(slog.DiscardHandler) })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		items = append(items, string(b))
		mu.Unlock()
		if r.URL.Query().Has("drop") {
			DropResponse()
		}
	})
	mux.HandleFunc("GET /items", func(http.ResponseWriter, *http.Request) {})
	base, shutdown, err := Serve("127.0.0.1:0", k.Handler(mux), slog.New(slog.DiscardHandler), "toy")
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t.Context())
	post := func(body, query string) (int, error) {
		resp, err := http.Post(base+"/items"+query, "text/plain", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	saved := func() []string {
		var got []string
		if _, err := store.Load(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if code, err := post("a", ""); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d %v", code, err)
	}
	if _, err := post("b", "?drop"); err == nil {
		t.Fatal("a dropped answer arrived")
	}
	if got := saved(); strings.Join(got, ",") != "a,b" {
		t.Fatalf("saved %v, want a and the dropped b", got)
	}
	if _, err := post(strings.Repeat("x", 200), ""); err != nil {
		t.Fatal(err)
	}
	if !store.Full() || strings.Join(saved(), ",") != "a,b" {
		t.Fatalf("over the limit: full %t, saved %v; want full and a,b kept", store.Full(), saved())
	}
	if code, _ := post("c", ""); code != http.StatusInsufficientStorage {
		t.Fatalf("a change once full answered %d, want 507", code)
	}
	resp, err := http.Get(base + "/items")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a read once full: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := store.Write(99, json.RawMessage(`"`+strings.Repeat("y", 300)+`"`), t0); !errors.Is(err, ErrStateFull) {
		t.Fatalf("an oversized write: %v, want ErrStateFull", err)
	}
}

func TestKeepRestoresThenSavesWhatItBeganWith(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	state := []string{"seeded"}
	logf := func() *slog.Logger { return slog.New(slog.DiscardHandler) }
	now := func() time.Time { return t0 }
	if _, err := Keep(dir, "toy", &mu, func() []string { return state }, func(s []string) { state = s }, now, logf); err != nil {
		t.Fatal(err)
	}
	state = []string{"changed in memory only"}
	k, err := Keep(dir, "toy", &mu, func() []string { return state }, func(s []string) { state = s }, now, logf)
	if err != nil || k == nil || len(state) != 1 || state[0] != "seeded" {
		t.Fatalf("Keep restored %v (%v), want what the first one saved", state, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "toy.json")); err != nil {
		t.Fatal(err)
	}
}

// TestKeeperCommitsConcurrentChangesTogether: changes that queue behind a
// write are kept by the next single write, and none of their callers
// returns before its change is on disk.
func TestKeeperCommitsConcurrentChangesTogether(t *testing.T) {
	store, err := OpenStore(t.TempDir(), "toy", 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	items := map[int]bool{}
	snapshots := 0
	k := NewKeeper(store, &mu, func() any {
		snapshots++
		return items
	}, func() time.Time { return t0 }, func() *slog.Logger { return slog.New(slog.DiscardHandler) })
	const callers = 64
	k.wmu.Lock() // a write under way while the callers change the state
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			if err := Change(&mu, k, func() error { items[i] = true; return nil }); err != nil {
				errs <- err
				return
			}
			var got map[int]bool
			if _, err := store.Load(&got); err != nil || !got[i] {
				errs <- fmt.Errorf("caller %d returned before its change was kept (%v)", i, err)
			}
		})
	}
	for {
		mu.Lock()
		n := k.seq
		mu.Unlock()
		if n == callers {
			break
		}
		runtime.Gosched()
	}
	k.wmu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if snapshots != 1 {
		t.Errorf("%d changes queued behind one write took %d snapshots, want 1", callers, snapshots)
	}
}
