package window

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The state store records its format. A store written before formats
// were kept (version 0, the current layout) is read as it is, checkpoint
// and all; a store of a format this code does not know is emptied, so its
// partitions are rebuilt from the changelog rather than misread.
func TestStoreReadsThePreviousFormatAndEmptiesAnUnknownOne(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	open := func(want uint32) *Store {
		t.Helper()
		st, err := OpenStore(dir, WithCacheBytes(1<<20), WithMemtableBytes(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.FormatFound(); got != want {
			t.Fatalf("format found %d, want %d", got, want)
		}
		return st
	}
	st := open(0) // a new store
	b := st.db.NewBatch()
	if err := setCheckpoint(b, 3, checkpoint{next: 42, at: at}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	// As the previous version left it: no format key.
	if err := st.db.Delete(formatKey, pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(0)
	cp, ok, err := st.checkpoint(3)
	if err != nil || !ok || cp.next != 42 {
		t.Fatalf("the previous format's checkpoint: %+v, %v, %v; want offset 42", cp, ok, err)
	}
	// Now marked current, and read as such.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(StoreFormat)
	// A later format than this code knows.
	if err := st.db.Set(formatKey, binary.BigEndian.AppendUint32(nil, StoreFormat+1), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(StoreFormat + 1)
	defer st.Close()
	if _, ok, err := st.checkpoint(3); err != nil || ok {
		t.Fatalf("a store of an unknown format kept its checkpoint (%v, %v); want it emptied", ok, err)
	}
	it, err := st.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if string(it.Key()) != string(formatKey) {
			t.Errorf("key %q left in an emptied store", it.Key())
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d keys in the emptied store, want the format alone", n)
	}
}
