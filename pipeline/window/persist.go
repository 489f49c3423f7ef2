package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// storeFailure is a store that cannot be read: not the record's fault, so
// Apply does not refuse the record for it but lets it end the process,
// whose successor rebuilds its state from the changelog.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }

// changePrefix is the start of the store key of a changelog entry of
// partition p, before the changelog key.
func changePrefix(dst []byte, kind byte, p int32) []byte {
	dst = append(dst, kind)
	return binary.BigEndian.AppendUint32(dst, uint32(p))
}

func (a *Aggregator) loadRecord(c *company, k recordKey) *recState {
	key := appendRecordKey(changePrefix(a.kb[:0], kindRecord, c.partition), c.id, k)
	a.kb = key
	var rs *recState
	_, err := a.st.lookup(key, func(v []byte) error {
		var wc v1.WindowChange
		if err := proto.Unmarshal(v, &wc); err != nil {
			return fmt.Errorf("window state store: record %s of %s: %w", k, c.id, err)
		}
		if wc.GetRecord() == nil {
			return fmt.Errorf("window state store: entry of record %s of %s holds no record", k, c.id)
		}
		rs = recordState(wc.GetRecord())
		return nil
	})
	if err != nil {
		panic(storeFailure{err})
	}
	return rs
}

func (a *Aggregator) loadDay(c *company, k dayKey) *dayState {
	key := appendDayKey(changePrefix(a.kb[:0], kindDay, c.partition), c.id, k)
	a.kb = key
	var d *dayState
	_, err := a.st.lookup(key, func(v []byte) error {
		var wc v1.WindowChange
		if err := proto.Unmarshal(v, &wc); err != nil {
			return fmt.Errorf("window state store: day %s %s of %s: %w", k.day, k.currency, c.id, err)
		}
		var err error
		if d, err = dayFromProto(wc.GetDay()); err != nil {
			return fmt.Errorf("window state store: day %s %s of %s: %w", k.day, k.currency, c.id, err)
		}
		return nil
	})
	if err != nil {
		panic(storeFailure{err})
	}
	return d
}

// shrinkDays lets go of the room the company's day map kept for days
// since forgotten (daysPeak is the most it held), so that ranging over its
// live days costs only them.
func (c *company) shrinkDays() {
	if n := len(c.days); c.daysPeak > 64 && n < c.daysPeak/4 {
		days := make(map[dayKey]*dayEntry, n)
		for k, e := range c.days {
			days[k] = e
		}
		c.days, c.daysPeak = days, n
	}
}

// live says whether a day stays on the heap between batches: open, or
// sealed with changes due in its next revision.
func live(d *dayState) bool {
	return d != nil && (!d.sealed || (d.dirty && d.parked == ""))
}

// indexed lists the keys of the records of the store section sec (P or O)
// that name id, with those in memory that index (which may have moved since
// the store was written), sorted, each once. An entry whose rest does not
// read as a record key belongs to another id that starts with id and a
// zero byte (ids are the platform's; anything may write to
// commerce.events): it is no candidate.
func (a *Aggregator) indexed(c *company, sec byte, id string, mem map[string]map[recordKey]struct{}) []recordKey {
	prefix := skey(nil, sec, c.partition, c.id, id)
	prefix = append(prefix, 0)
	var keys []recordKey
	err := a.st.seek(prefix, func(k, _ []byte) error {
		if rk, err := parseRecKey(string(k[len(prefix):])); err == nil {
			keys = append(keys, rk)
		}
		return nil
	})
	if err != nil {
		panic(storeFailure{err})
	}
	for k := range mem[id] {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return slices.Compact(keys)
}

// excValue is a current exception's value in the store: its day and its
// message.
func excValue(k dayKey, msg string) []byte {
	return []byte(exceptionKey(k, msg))
}

func parseExcValue(v []byte) (dayKey, string, error) {
	parts := bytes.SplitN(v, []byte{0}, 4)
	if len(parts) != 4 {
		return dayKey{}, "", fmt.Errorf("malformed exception %q", v)
	}
	return dayKey{string(parts[0]), string(parts[1]), string(parts[2])}, string(parts[3]), nil
}

// putDerived writes a record's derived keys as they follow from its value
// going from base to cur. With blind, base is unknown (a restore does not
// read a record's previous value): the exception is deleted unless set, and
// nothing is unlinked.
func putDerived(b *pebble.Batch, p int32, company string, rk string, base, cur *recState, blind, products bool) error {
	ek := skey(nil, secExc, p, company, rk)
	var err error
	if counts(cur) && cur.exception != "" {
		err = b.Set(ek, excValue(cur.dayKey(), cur.exception), nil)
	} else if blind || (counts(base) && base.exception != "") {
		err = b.Delete(ek, nil)
	}
	if err != nil {
		return err
	}
	link := func(sec byte, was, is []string) error {
		for _, id := range was {
			if !slices.Contains(is, id) {
				if err := b.Delete(skey(nil, sec, p, company, id, rk), nil); err != nil {
					return err
				}
			}
		}
		for _, id := range is {
			if !slices.Contains(was, id) {
				if err := b.Set(skey(nil, sec, p, company, id, rk), nil, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := link(secFees, base.links(), cur.links()); err != nil {
		return err
	}
	if !products {
		return nil
	}
	return link(secProducts, base.products(), cur.products())
}

func setLive(b *pebble.Batch, p int32, dayChangeKey []byte, d *dayState) error {
	k := append(changePrefix(nil, secLive, p), dayChangeKey...)
	if live(d) {
		return b.Set(k, nil, nil)
	}
	return b.Delete(k, nil)
}

func setWatermark(b *pebble.Batch, p int32, company string, wm int64) error {
	return b.Set(skey(nil, secWatermark, p, company), binary.BigEndian.AppendUint64(nil, uint64(wm)), nil)
}

// indexAllProducts indexes every order of the company by product, in b:
// its first product arrived in the batch.
func (a *Aggregator) indexAllProducts(b *pebble.Batch, c *company) error {
	for _, k := range a.allRecords(c) {
		rs := c.rec(k)
		for _, id := range rs.products() {
			if err := b.Set(skey(nil, secProducts, c.partition, c.id, id, recKeyString(k)), nil, nil); err != nil {
				return fmt.Errorf("window state store: %w", err)
			}
		}
	}
	return nil
}

// Commit ends a batch whose transaction committed, with no changelog
// offsets to checkpoint (tests, and stores rebuilt at every start).
func (a *Aggregator) Commit() {
	if err := a.CommitAt(nil, time.Time{}); err != nil {
		panic(storeFailure{err})
	}
}

// CommitAt ends a batch whose transaction committed: its changelog entries
// and their derived keys go to the store, with the offset after the
// batch's last changelog record of each partition (next) as that
// partition's checkpoint, and the heap forgets what is not live. Should the
// store write fail, the store is behind its changelog and the caller must
// stop: a successor brings it up to date from its checkpoint.
func (a *Aggregator) CommitAt(next map[int32]int64, now time.Time) error {
	if !a.b.flushed {
		if _, err := a.Flush(); err != nil {
			return err
		}
	}
	b := a.st.db.NewBatch()
	var kb []byte
	var err error
	for _, ch := range a.b.changes {
		if kb, err = changeSKey(kb[:0], ch.Partition, ch.Key); err != nil {
			b.Close()
			return err
		}
		if ch.Value == nil {
			err = b.Delete(kb, nil)
		} else {
			err = b.Set(kb, ch.Value, nil)
		}
		if err != nil {
			b.Close()
			return fmt.Errorf("window state store: %w", err)
		}
	}
	for _, t := range a.b.recs {
		if err := putDerived(b, t.c.partition, t.c.id, recKeyString(t.k), t.e.base, t.e.cur, false, t.c.products); err != nil {
			b.Close()
			return fmt.Errorf("window state store: %w", err)
		}
	}
	for _, t := range a.b.days {
		if live(t.e.cur) == t.stored {
			continue
		}
		if err := setLive(b, t.c.partition, appendDayKey(kb[:0], t.c.id, t.k), t.e.cur); err != nil {
			b.Close()
			return fmt.Errorf("window state store: %w", err)
		}
	}
	for _, c := range a.hot {
		if c.indexProducts {
			if err := a.indexAllProducts(b, c); err != nil {
				b.Close()
				return err
			}
		}
		if c.watermark != c.storedWM {
			if err := setWatermark(b, c.partition, c.id, c.watermark); err != nil {
				b.Close()
				return fmt.Errorf("window state store: %w", err)
			}
		}
	}
	for p, n := range next {
		if err := setCheckpoint(b, p, checkpoint{next: n, at: now}); err != nil {
			b.Close()
			return fmt.Errorf("window state store: %w", err)
		}
	}
	if err := a.st.write(b); err != nil {
		return err
	}
	for _, c := range a.hot {
		// A map keeps the room it once needed, and clearing or ranging
		// over it costs that room: the batch's maps are let go.
		c.records = map[recordKey]*recEntry{}
		c.feesByPayment, c.ordersByProduct = map[string]map[recordKey]struct{}{}, map[string]map[recordKey]struct{}{}
		c.storedWM, c.hot, c.indexProducts = c.watermark, false, false
	}
	clear(a.hot)
	a.hot = a.hot[:0]
	for _, ts := range [][]dayTouch{a.b.days, a.loadedDays} {
		for _, t := range ts {
			t.c.daysPeak = max(t.c.daysPeak, len(t.c.days))
		}
	}
	forget := func(ts []dayTouch) {
		for _, t := range ts {
			if t.c.days[t.k] == t.e && !live(t.e.cur) {
				delete(t.c.days, t.k)
			}
		}
	}
	forget(a.b.days)
	forget(a.loadedDays)
	for _, ts := range [][]dayTouch{a.b.days, a.loadedDays} {
		for _, t := range ts {
			t.c.shrinkDays()
		}
	}
	clear(a.loadedDays)
	a.loadedDays = a.loadedDays[:0]
	for _, ref := range a.b.parkUsed {
		delete(a.parks, ref)
	}
	a.stats.Applied += a.b.stats.Applied
	a.stats.Refused += a.b.stats.Refused
	a.stats.DaysParked += a.b.stats.DaysParked
	a.u.forget()
	a.b.reset()
	a.gen++
	a.seq++
	return nil
}

// restoreState is a partition being read from its changelog into the
// store.
type restoreState struct {
	b *pebble.Batch
	// wm is each company's latest event time among the records read.
	wm map[string]int64
	// end is the partition's end when ResumeFrom began the restore: read to
	// there, the store stands at end, checkpointed at at. A restore not
	// begun by ResumeFrom (hasEnd false) writes no checkpoint.
	end    int64
	hasEnd bool
	at     time.Time
	// wiped says the partition is being rebuilt from nothing: the store's
	// old values, wiped in the batch, no longer count.
	wiped bool
	// excs are the records this restore gave an exception.
	excs map[string]bool
	// products are the companies of which this restore read a product's
	// reference entry: their orders are indexed by product as they are
	// read. unindexed are the companies with orders selling a product read
	// before that: RestoreDone indexes them all, should the company have
	// product reference data when the restore ends (see load).
	products, unindexed map[string]bool
	// probed are the companies a resumed restore has looked for in the
	// store's product reference data, once each.
	probed map[string]bool
	// kb and vb are scratch for the keys and values written: the batch
	// copies them.
	kb, vb []byte
}

// restoreBatchMemtables is the size of a restore's batch in memtables:
// the batch is written when it holds that many bytes. Pebble writes a batch
// larger than half a memtable as a table of its own, sorted once, instead of
// inserting each key into a memtable's skiplist, where half of a restore's
// own time went: at four memtables a restore of 1,000,000 entries took
// three quarters of the time it took in batches of 1 MiB. A restoring
// partition holds its batch on the heap, and Pebble the last one written
// until it is flushed: about 80 MiB with the default 8 MiB memtable.
const restoreBatchMemtables = 4

// restoreBatchMax caps a restore's batch whatever the memtable: past it a
// store with memtables larger than 128 MiB restores through them, at the
// cost of the skiplist, rather than hold more on the heap.
const restoreBatchMax = 67108864 // 64 MiB

// newRestoreBatch is a batch for a restore. The first starts at 1 MiB, so
// that a short changelog takes little; once one has filled (next), the
// changelog is long and the batch starts with room for the bound and the
// entry that crosses it, instead of growing to it again. The batch pool
// keeps only small buffers, so the large ones go when the restore is done.
func (s *Store) newRestoreBatch(next bool) *pebble.Batch {
	return s.db.NewBatchWithSize(restoreBatchRoom(s.restoreBatch, next), pebble.WithMaxRetainedSizeBytes(restoreBatchRetained))
}

// restoreBatchRoom is the room a restore's batch starts with under a bound
// of bound bytes. It is never less than 1 MiB, whatever the bound: a new
// Pebble batch closed empty is reset to its header's 12 bytes, which a
// smaller room cannot hold (a test's bound of a few bytes made one panic).
func restoreBatchRoom(bound int, next bool) int {
	if next {
		return max(restoreBatchStart, bound+bound/4)
	}
	return restoreBatchStart
}

// restoreBatchStart is the room a restore's batch starts with, and
// restoreBatchRetained the largest buffer the batch pool keeps of one.
const (
	restoreBatchStart    = 1048576 // 1 MiB
	restoreBatchRetained = 2097152 // 2 MiB
)

func newRestoreState(b *pebble.Batch) *restoreState {
	return &restoreState{b: b, wm: map[string]int64{}, excs: map[string]bool{}, products: map[string]bool{}, unindexed: map[string]bool{},
		probed: map[string]bool{}}
}

// begin starts rebuilding partition p from the start of its changelog:
// whatever the store held of it is wiped in the same batch.
func (a *Aggregator) begin(p int32) (*restoreState, error) {
	if rs := a.restoring[p]; rs != nil {
		return rs, nil
	}
	b := a.st.newRestoreBatch(false)
	if err := wipe(b, p); err != nil {
		b.Close()
		return nil, fmt.Errorf("window state store: wipe partition %d: %w", p, err)
	}
	rs := newRestoreState(b)
	rs.wiped = true
	a.restoring[p] = rs
	return rs, nil
}

// resume starts reading changelog entries of partition p into the store as
// it is, to bring it up to date.
func (a *Aggregator) resume(p int32) *restoreState {
	rs := newRestoreState(a.st.newRestoreBatch(false))
	a.restoring[p] = rs
	return rs
}

// ResumeFrom starts bringing partition p's store up to date and returns the
// changelog offset to read from: the store's checkpoint (resumed) when the
// changelog can continue it (between start and end, the partition's first
// and next offsets, and younger than maxAge, the changelog's
// delete.retention.ms, after which tombstones it missed may be gone), else
// start, after wiping the partition. Feed it the entries from there up to
// end with Restore, then call RestoreDone.
func (a *Aggregator) ResumeFrom(p int32, start, end int64, now time.Time, maxAge time.Duration) (from int64, resumed bool, err error) {
	if rs := a.restoring[p]; rs != nil {
		rs.b.Close()
		delete(a.restoring, p)
	}
	cp, ok, err := a.st.checkpoint(p)
	if err != nil {
		return 0, false, err
	}
	if ok && cp.next >= start && cp.next <= end && now.Sub(cp.at) <= maxAge {
		rs := a.resume(p)
		rs.end, rs.hasEnd, rs.at = end, true, now
		return cp.next, true, nil
	}
	rs, err := a.begin(p)
	if err != nil {
		return 0, false, err
	}
	rs.end, rs.hasEnd, rs.at = end, true, now
	return start, false, nil
}

// Restore reads one changelog entry of partition p into the store. The
// first entry of a restore not begun by ResumeFrom starts a rebuild from
// nothing. Call RestoreDone when the partition's changelog has been read.
// An entry Restore refuses changes nothing.
func (a *Aggregator) Restore(p int32, key, value []byte) error {
	// The key is <company>\x00<kind>\x00<rest>, the kind one byte.
	i := bytes.IndexByte(key, 0)
	if i < 0 || len(key) < i+3 || key[i+1] == 0 || key[i+2] != 0 {
		return fmt.Errorf("malformed changelog key %q", key)
	}
	company, kind, rest := key[:i], key[i+1], key[i+3:]
	// The entry is read whole before anything changes.
	var e restored
	var err error
	isRec := false
	if kind == kindRecord {
		isRec, err = restoreRecord(&a.lean, rest, key, value)
	} else {
		e, err = restoreEntry(a.zones, kind, rest, key, value)
	}
	if err != nil {
		return err
	}
	rs, err := a.begin(p)
	if err != nil {
		return err
	}
	// changeSKey cannot fail on a key read above.
	rs.kb, _ = changeSKey(rs.kb[:0], p, key)
	b := rs.b
	if value == nil {
		err = b.Delete(rs.kb, nil)
	} else {
		err = b.Set(rs.kb, value, nil)
	}
	if err == nil {
		switch kind {
		case kindRecord:
			// A resumed restore continues a store that may hold the
			// company's product data already: asked once, the store
			// spares RestoreDone re-reading every order the company has
			// for the one this tail brings.
			if !rs.wiped && !rs.probed[string(company)] {
				rs.probed[string(company)] = true
				var has bool
				if has, err = a.hasProductRefs(p, company); has {
					rs.products[string(company)] = true
				}
			}
			if err == nil {
				err = rs.putRecord(p, company, rest, key, &a.lean, isRec)
			}
		case kindDay:
			err = setLive(b, p, key, e.day)
		case kindRef:
			if value != nil && productRef(rest) {
				rs.products[string(company)] = true
			}
		}
	}
	if err != nil {
		return fmt.Errorf("window state store: %w", err)
	}
	if b.Len() >= a.st.restoreBatch {
		if err := a.st.write(b); err != nil {
			return err
		}
		rs.b = a.st.newRestoreBatch(true)
	}
	return nil
}

// productRef says whether the rest of a reference entry's key, one
// restoreEntry read, names a product.
func productRef(rest []byte) bool {
	kind, _, _ := bytes.Cut(rest, []byte{0})
	n, err := strconv.Atoi(string(kind))
	return err == nil && v1.ReferenceKind(n) == v1.ReferenceKind_REFERENCE_KIND_PRODUCT
}

// putRecord writes the derived keys of a record read by Restore (nil: a
// tombstone), as putDerived does with no base and blind: the restore does
// not read the record's previous value. A partition rebuilt from nothing has
// no exception to delete but one this restore set.
func (rs *restoreState) putRecord(p int32, company, rest, key []byte, w *leanRecord, isRec bool) error {
	blind := !rs.wiped || rs.excs[string(key)]
	rs.kb = appendDerivedKey(rs.kb[:0], secExc, p, company, rest)
	var err error
	if isRec && w.counts() && len(w.exception) > 0 {
		rs.excs[string(key)] = true
		rs.vb = appendExcValue(rs.vb[:0], w)
		err = rs.b.Set(rs.kb, rs.vb, nil)
	} else if blind {
		err = rs.b.Delete(rs.kb, nil)
	}
	if err != nil || !isRec {
		return err
	}
	if w.seen > rs.wm[string(company)] {
		rs.wm[string(company)] = w.seen
	}
	for _, id := range w.links() {
		if err := rs.b.Set(appendDerivedKey(rs.kb[:0], secFees, p, company, id, rest), nil, nil); err != nil {
			return err
		}
	}
	// Orders are indexed by product only for companies with product
	// reference data (load sets products so); of the others the restore
	// does not know yet, and RestoreDone indexes them should they have
	// it.
	if !rs.products[string(company)] {
		if len(w.products) > 0 {
			rs.unindexed[string(company)] = true
		}
		return nil
	}
	for _, id := range w.products {
		if err := rs.b.Set(appendDerivedKey(rs.kb[:0], secProducts, p, company, id, rest), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// appendDerivedKey is skey(dst, sec, p, rest...) of byte slices.
func appendDerivedKey(dst []byte, sec byte, p int32, rest ...[]byte) []byte {
	dst = changePrefix(dst, sec, p)
	for i, r := range rest {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, r...)
	}
	return dst
}

// appendExcValue is excValue of a record's day and exception.
func appendExcValue(dst []byte, w *leanRecord) []byte {
	dst = append(dst, w.day...)
	dst = append(append(dst, 0), w.currency...)
	dst = append(append(dst, 0), w.location...)
	return append(append(dst, 0), w.exception...)
}

// RestoreDone finishes restoring partition p: the store gets the last of
// the entries, the product index of the companies that need one, the
// watermarks and the checkpoint, and the heap the partition's companies
// with their live days.
func (a *Aggregator) RestoreDone(p int32) error {
	rs, err := a.begin(p)
	if err != nil {
		return err
	}
	delete(a.restoring, p)
	// The entries go first, for the product index to be read from the
	// store; the checkpoint comes after it, so that a store that has the
	// one has the other.
	if err := a.st.write(rs.b); err != nil {
		return err
	}
	b := a.st.db.NewBatch()
	if err := a.indexRestored(b, p, rs.unindexed); err != nil {
		b.Close()
		return err
	}
	for company, wm := range rs.wm {
		var stored int64
		if rs.wiped {
			// nothing stored counts
		} else if _, err := a.st.get(skey(nil, secWatermark, p, company), func(v []byte) error {
			stored = int64(binary.BigEndian.Uint64(v))
			return nil
		}); err != nil {
			b.Close()
			return err
		}
		if wm > stored {
			if err := setWatermark(b, p, company, wm); err != nil {
				b.Close()
				return fmt.Errorf("window state store: %w", err)
			}
		}
	}
	if rs.hasEnd {
		if err := setCheckpoint(b, p, checkpoint{next: rs.end, at: rs.at}); err != nil {
			b.Close()
			return fmt.Errorf("window state store: %w", err)
		}
	}
	if err := a.st.write(b); err != nil {
		return err
	}
	return a.load(p)
}

// indexRestored indexes by product, in b, every order in the store of
// each of companies that has product reference data there: the restore
// read orders of theirs before it knew.
func (a *Aggregator) indexRestored(b *pebble.Batch, p int32, companies map[string]bool) error {
	for company := range companies {
		// A company's id holds no zero byte (Restore reads it up to the
		// first), so this prefix holds its entries and no other's.
		products, err := a.hasProductRefs(p, []byte(company))
		if err != nil {
			return err
		}
		if !products {
			continue
		}
		recs := append(append(changePrefix(nil, kindRecord, p), company...), 0, kindRecord, 0)
		var kb []byte
		err = a.st.scan(recs, func(k, v []byte) error {
			var wc v1.WindowChange
			if err := proto.Unmarshal(v, &wc); err != nil {
				return fmt.Errorf("window state store: record %q: %w", k, err)
			}
			for _, l := range wc.GetRecord().GetLines() {
				if l.GetProduct() == "" {
					continue
				}
				kb = appendDerivedKey(kb[:0], secProducts, p, []byte(company), []byte(l.GetProduct()), k[len(recs):])
				if err := b.Set(kb, nil, nil); err != nil {
					return fmt.Errorf("window state store: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// hasProductRefs says whether the store holds product reference data of
// company in partition p.
func (a *Aggregator) hasProductRefs(p int32, company []byte) (bool, error) {
	// A company's id holds no zero byte (Restore reads it up to the
	// first), so the prefix holds its entries and no other's.
	refs := append(append(changePrefix(nil, kindRef, p), company...), 0, kindRef, 0)
	products := false
	err := a.st.scan(refs, func(k, _ []byte) error {
		products = products || productRef(k[len(refs):])
		return nil
	})
	return products, err
}

// load puts on the heap what it holds of partition p's companies: heads,
// watermarks, reference data, exceptions and live days.
func (a *Aggregator) load(p int32) error {
	a.Drop(p)
	get := func(k []byte) (*company, []byte, error) {
		id, rest, ok := bytes.Cut(k[5:], []byte{0})
		if !ok && k[0] != secWatermark {
			return nil, nil, fmt.Errorf("window state store: malformed key %q", k)
		}
		c := a.companies[string(id)]
		if c == nil {
			c = newCompany(a, string(id), p)
			a.companies[string(id)] = c
		}
		return c, rest, nil
	}
	// Heads first: the other sections need the company's calendar.
	err := a.st.scan(changePrefix(nil, kindHead, p), func(k, v []byte) error {
		c, rest, err := get(k)
		if err != nil {
			return err
		}
		e, err := restoreEntry(a.zones, kindHead, rest[2:], k[5:], v)
		if err != nil {
			return err
		}
		e.head(c)
		return nil
	})
	if err != nil {
		return err
	}
	err = a.st.scan(changePrefix(nil, secWatermark, p), func(k, v []byte) error {
		c, _, err := get(k)
		if err != nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("window state store: watermark %q is %d bytes", k, len(v))
		}
		c.watermark = int64(binary.BigEndian.Uint64(v))
		c.storedWM = c.watermark
		return nil
	})
	if err != nil {
		return err
	}
	for _, kind := range []byte{kindRef, kindPosted} {
		err = a.st.scan(changePrefix(nil, kind, p), func(k, v []byte) error {
			c, rest, err := get(k)
			if err != nil {
				return err
			}
			e, err := restoreEntry(a.zones, kind, rest[2:], k[5:], v)
			if err != nil {
				return err
			}
			e.put(c)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, c := range a.companies {
		if c.partition == p {
			for k := range c.refs {
				c.products = c.products || k.kind == v1.ReferenceKind_REFERENCE_KIND_PRODUCT
			}
		}
	}
	err = a.st.scan(changePrefix(nil, secExc, p), func(k, v []byte) error {
		c, rest, err := get(k)
		if err != nil {
			return err
		}
		rk, err := parseRecKey(string(rest))
		if err != nil {
			return fmt.Errorf("window state store: exception key %q: %w", k, err)
		}
		dk, msg, err := parseExcValue(v)
		if err != nil {
			return fmt.Errorf("window state store: exception %q: %w", k, err)
		}
		c.putException(dk, rk.id, msg, true, false)
		return nil
	})
	if err != nil {
		return err
	}
	return a.st.scan(changePrefix(nil, secLive, p), func(k, _ []byte) error {
		c, rest, err := get(k)
		if err != nil {
			return err
		}
		dayChangeKey := k[5:]
		var d *dayState
		ok, err := a.st.get(append(changePrefix(nil, kindDay, p), dayChangeKey...), func(v []byte) error {
			e, err := restoreEntry(a.zones, kindDay, rest[2:], dayChangeKey, v)
			if err != nil {
				return err
			}
			d = e.day
			return nil
		})
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("window state store: live day " + string(dayChangeKey) + " has no entry")
		}
		c.days[parseDayKey(rest[2:])] = &dayEntry{cur: d}
		return nil
	})
}
