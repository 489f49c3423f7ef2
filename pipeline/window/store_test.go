package window

import (
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// storeClock dates checkpoints in these tests.
var storeClock = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func openTestStore(t cleaner, opts ...StoreOption) *Store {
	st, err := OpenStore("", append([]StoreOption{InMemory(), WithCacheBytes(1 << 20), WithMemtableBytes(1 << 20)}, opts...)...)
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// commitAt ends a batch as the job does with a store: the changelog entries
// reach the topic (the transaction commits), then the store gets them with
// each partition's checkpoint, the offset after its last entry (an entry's
// offset is its place in the log). With crash, the process dies between
// the two: nothing reaches the store.
func (r *run) commitAt(f fataler, crash bool) {
	out, err := r.a.Flush()
	if err != nil {
		f.Fatalf("Flush: %v", err)
	}
	first := len(r.log.entries)
	r.log.write(out.Changes)
	r.summaries = append(r.summaries, out.Summaries...)
	r.exceptions.write(out.Exceptions)
	r.parked = append(r.parked, out.Parked...)
	if crash {
		return
	}
	next := map[int32]int64{}
	for i, e := range r.log.entries[first:] {
		next[e.Partition] = int64(first + i + 1)
	}
	if err := r.a.CommitAt(next, r.now); err != nil {
		f.Fatalf("CommitAt: %v", err)
	}
}

// resumeStore brings a's store up to date with partition p of the log from
// its checkpoint, as the job does on taking a partition over.
func resumeStore(f fataler, a *Aggregator, log *changelogStore, p int32, now time.Time) (from int64) {
	from, _, err := a.ResumeFrom(p, 0, int64(len(log.entries)), now, time.Hour)
	if err != nil {
		f.Fatalf("ResumeFrom partition %d: %v", p, err)
	}
	for i := from; i < int64(len(log.entries)); i++ {
		e := log.entries[i]
		if e.Partition != p {
			continue
		}
		if err := a.Restore(p, e.Key, e.Value); err != nil {
			f.Fatalf("Restore partition %d offset %d: %v", p, i, err)
		}
	}
	if err := a.RestoreDone(p); err != nil {
		f.Fatalf("RestoreDone partition %d: %v", p, err)
	}
	return from
}

func storeSettings() *v1.CommerceEvent {
	return settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: "Europe/London", ConfigVersion: 1})
}

// A process that restarts on its store, after a clean stop or after dying
// between a transaction's commit and the store's write, or that loses its
// store and rebuilds it from the compacted changelog, at any batch
// boundary, ends with the same summaries and the same changelog as the
// uninterrupted run, and its state at each restart is the state it
// replaces.
func TestPropertyStoreRestartsAndCrashes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		sizes := genBatchSizes(t, "batches")
		want := newRun(t, s.partitions())
		want.feed(t, evs, sizes)

		st := openTestStore(t)
		r := newRun(t, s.partitions(), WithStore(st))
		r.now = storeClock
		for i, b := 0, 0; i < len(evs); b++ {
			j := min(i+sizes[b%len(sizes)], len(evs))
			r.apply(t, evs[i:j]...)
			mode := rapid.IntRange(0, 5).Draw(t, "after the batch")
			r.commitAt(t, mode == 1)
			i = j
			if mode == 0 {
				continue
			}
			before := dumpState(r.a)
			switch mode {
			case 1, 2: // died after the commit, or stopped cleanly: restart on the store
				a := NewAggregator(nil, WithStore(st))
				for _, p := range r.log.partitions() {
					resumeStore(t, a, r.log, p, r.now)
				}
				r.a = a
			case 3: // the store is lost: rebuild from the compacted changelog
				st = openTestStore(t)
				a := NewAggregator(nil, WithStore(st))
				for _, p := range r.log.partitions() {
					restorePartition(t, a, r.log, p, rapid.Bool().Draw(t, "tombstones?"))
				}
				r.a = a
			case 4: // a checkpoint too old to trust: rebuilt, from the uncompacted log
				a := NewAggregator(nil, WithStore(st))
				r.now = r.now.Add(2 * time.Hour)
				for _, p := range r.log.partitions() {
					if from := resumeStore(t, a, r.log, p, r.now); from != 0 {
						t.Fatalf("partition %d resumed from %d with a checkpoint older than its limit", p, from)
					}
				}
				r.a = a
			case 5: // a rebalance takes one partition away and back
				parts := r.log.partitions()
				if len(parts) == 0 {
					continue
				}
				p := rapid.SampledFrom(parts).Draw(t, "rebalanced partition")
				before = dumpState(r.a, p)
				r.a.Drop(p)
				resumeStore(t, r.a, r.log, p, r.now)
				if d := firstDiff(before, dumpState(r.a, p)); d != "" {
					t.Fatalf("rebalance of partition %d after event %d: state differs: %s", p, i, d)
				}
				continue
			}
			if d := firstDiff(before, dumpState(r.a)); d != "" {
				t.Fatalf("restart (mode %d) after event %d: state differs: %s", mode, i, d)
			}
		}
		r.commitAt(t, false)
		sameSummaries(t, "restarted and crashed vs uninterrupted", want.summaries, r.summaries)
		if d := diffStates(want.log.state(), r.log.state()); d != "" {
			t.Fatalf("compacted changelogs differ:\n%s", d)
		}
	})
}

// A store whose write fails after the transaction committed leaves CommitAt
// with an error and the store at its last checkpoint; resuming from there
// gives the state the failed write would have.
func TestStoreWriteFailureResumesFromTheCheckpoint(t *testing.T) {
	failing := false
	st := openTestStore(t, withWriteHook(func(*pebble.Batch) error {
		if failing {
			return errors.New("disk full")
		}
		return nil
	}))
	r := newRun(t, map[string]int32{exCompany: 0}, WithStore(st))
	r.now = storeClock
	at := time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC)
	r.apply(t, storeSettings(), exOrder("ord-1", at, 1, "GBP", "10.00", "0"))
	r.commitAt(t, false)
	r.apply(t, exOrder("ord-2", at.Add(time.Minute), 1, "GBP", "5.00", "0"), exOrder("ord-1", at, 2, "GBP", "12.00", "0"))
	out, err := r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	r.log.write(out.Changes)
	live := dumpState(r.a)
	failing = true
	if err := r.a.CommitAt(map[int32]int64{0: int64(len(r.log.entries))}, storeClock); err == nil {
		t.Fatal("CommitAt succeeded with a store that cannot write")
	}
	failing = false
	a := NewAggregator(nil, WithStore(st))
	if from := resumeStore(t, a, r.log, 0, storeClock); from == 0 {
		t.Fatal("resumed from the start; want the checkpoint of the first batch")
	}
	if d := firstDiff(live, dumpState(a)); d != "" {
		t.Fatalf("resumed state differs from the one the failed write held: %s", d)
	}
}

// ResumeFrom trusts a checkpoint only when the changelog can continue it:
// not past the partition's end (a topic made anew), not before its start
// (records deleted), and not older than the changelog keeps tombstones.
// Otherwise it wipes the partition and starts from the changelog's start.
func TestStoreCheckpointIsTrustedOnlyWhenTheChangelogCanContinueIt(t *testing.T) {
	cases := []struct {
		name       string
		start, end int64
		now        time.Time
		want       int64
	}{
		{"the changelog continues it", 0, 100, storeClock.Add(time.Minute), 40},
		{"at the end exactly", 0, 40, storeClock, 40},
		{"past the changelog's end", 0, 39, storeClock, 0},
		{"before the changelog's start", 41, 100, storeClock, 41},
		{"older than tombstones are kept", 0, 100, storeClock.Add(time.Hour + time.Millisecond), 0},
		{"as old as tombstones are kept", 0, 100, storeClock.Add(time.Hour), 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openTestStore(t)
			r := newRun(t, map[string]int32{exCompany: 0}, WithStore(st))
			r.apply(t, storeSettings(), exOrder("ord-1", time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC), 1, "GBP", "10.00", "0"))
			if _, err := r.a.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := r.a.CommitAt(map[int32]int64{0: 40}, storeClock); err != nil {
				t.Fatal(err)
			}
			a := NewAggregator(nil, WithStore(st))
			from, resumed, err := a.ResumeFrom(0, c.start, c.end, c.now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if from != c.want || resumed != (c.want == 40) {
				t.Fatalf("ResumeFrom = %d, %v; want %d, %v", from, resumed, c.want, c.want == 40)
			}
			if err := a.RestoreDone(0); err != nil {
				t.Fatal(err)
			}
			kept := a.companies[exCompany] != nil
			if wantKept := c.want == 40; kept != wantKept {
				t.Fatalf("company kept = %v after resuming from %d; want %v", kept, from, wantKept)
			}
		})
	}
}

// A restore not begun by ResumeFrom knows no changelog offsets, so it writes
// no checkpoint: a later ResumeFrom rebuilds rather than trust one.
func TestStoreRestoreWithoutOffsetsWritesNoCheckpoint(t *testing.T) {
	r := newRun(t, map[string]int32{exCompany: 0})
	r.apply(t, storeSettings(), exOrder("ord-1", time.Date(2026, 6, 10, 11, 0, 0, 0, time.UTC), 1, "GBP", "10.00", "0"))
	r.commit(t)
	st := openTestStore(t)
	a := NewAggregator(nil, WithStore(st))
	restorePartition(t, a, r.log, 0, true)
	if cp, ok, err := st.checkpoint(0); err != nil || ok {
		t.Fatalf("checkpoint after a restore without offsets: %+v, %v, %v; want none", cp, ok, err)
	}
	if from, resumed, err := a.ResumeFrom(0, 0, int64(len(r.log.entries)), storeClock, time.Hour); err != nil || resumed || from != 0 {
		t.Fatalf("ResumeFrom = %d, %v, %v; want a rebuild from 0", from, resumed, err)
	}
}

// A changelog key's store key takes its kind from after the company: a key
// with no company, no kind, or no separator after the kind is refused.
func TestStoreKeyOfAChangelogKey(t *testing.T) {
	for key, want := range map[string]string{
		"co\x00d\x002026-06-10\x00GBP": "d\x00\x00\x00\x07co\x00d\x002026-06-10\x00GBP",
		"co\x00r\x00":                  "r\x00\x00\x00\x07co\x00r\x00",
		"co":                           "",
		"co\x00":                       "",
		"co\x00d":                      "",
		"co\x00dx":                     "",
		"co\x00dx\x00":                 "",
	} {
		got, err := changeSKey(nil, 7, []byte(key))
		if want == "" {
			if err == nil {
				t.Errorf("changeSKey(%q) = %q; want it refused", key, got)
			}
			continue
		}
		if err != nil || string(got) != want {
			t.Errorf("changeSKey(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}

// Closing a store twice is no error, nor is closing none.
func TestStoreClosesOnce(t *testing.T) {
	st, err := OpenStore("", InMemory())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var none *Store
	if err := none.Close(); err != nil {
		t.Fatalf("Close of no store: %v", err)
	}
}

// prefixEnd is the first key after every key that starts with the prefix.
func TestStorePrefixEnd(t *testing.T) {
	for prefix, want := range map[string]string{
		"ab":           "ac",
		"a\xff":        "b",
		"\x01\xff\xff": "\x02",
		"\xffa":        "\xffb",
		"\xff":         "",
		"\xff\xff":     "",
	} {
		if got := prefixEnd([]byte(prefix)); string(got) != want {
			t.Errorf("prefixEnd(%q) = %q, want %q", prefix, got, want)
		}
	}
}

// A restore's batch is four memtables, so that Pebble takes it as a table of
// its own, up to a cap that keeps a large memtable from costing the heap as
// much again for each restoring partition; tests may set it.
func TestStoreRestoreBatchIsFourMemtablesUpToACap(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []StoreOption
		want int
	}{
		{"1 MiB memtable", []StoreOption{WithMemtableBytes(1 << 20)}, 4 << 20},
		{"8 MiB memtable", []StoreOption{WithMemtableBytes(8 << 20)}, 32 << 20},
		{"1 GiB memtable", []StoreOption{WithMemtableBytes(1 << 30)}, restoreBatchMax},
		{"bound set", []StoreOption{WithMemtableBytes(1 << 20), withRestoreBatchBytes(100)}, 100},
	} {
		st := openTestStore(t, c.opts...)
		if st.restoreBatch != c.want {
			t.Errorf("%s: a restore's batch holds %d bytes, want %d", c.name, st.restoreBatch, c.want)
		}
	}
}

// A restore's batch starts with 1 MiB of room, and once one has filled,
// with room for the bound and a quarter more; never with less than 1 MiB,
// which a bound of a few bytes would give and Pebble cannot reset when the
// batch is closed empty.
func TestRestoreBatchRoom(t *testing.T) {
	for _, c := range []struct {
		bound int
		next  bool
		want  int
	}{
		{1, false, 1 << 20},
		{1, true, 1 << 20},
		{9, true, 1 << 20},
		{32 << 20, false, 1 << 20},
		{32 << 20, true, 40 << 20},
	} {
		if got := restoreBatchRoom(c.bound, c.next); got != c.want {
			t.Errorf("restoreBatchRoom(%d, next %v) = %d, want %d", c.bound, c.next, got, c.want)
		}
	}
}
