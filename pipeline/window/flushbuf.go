package window

import "strconv"

// flushBufs are the memory Flush writes a batch's changelog entries into:
// the list of changes, their values and their keys. They are kept from one
// batch to the next, so that a steady stream of batches encodes its
// changelog without allocating.
//
// Lifetime: the Changes of an Output (the slice, every Key and every Value)
// point into these buffers. They stay valid until the batch that returned
// them ends with Commit or Abort; the first Flush after that writes over
// them. The job produces them to Kafka and ends the transaction (which
// waits for every produced record) before it calls Commit or Abort, so the
// producer is done with them by then; a caller that keeps an entry longer
// copies it. A second Flush within the same batch leaves the first one's
// output alone and writes into fresh memory.
type flushBufs struct {
	changes []Change
	vals    []byte
	keys    []byte
	// gen is the batch (Aggregator.gen) whose output the buffers hold; 0
	// when they hold none.
	gen uint64
	// perEntry is the average size of the last batch's values, to size the
	// buffer once rather than grow it entry by entry.
	perEntry int
}

// maxKeptFlushBytes bounds the value buffer kept between batches: after a
// batch of unusually large entries (a record's state may take up to
// MaxRecordStateBytes), its memory goes back to the garbage collector
// rather than staying with the aggregator for good.
const maxKeptFlushBytes = 16 << 20

// Sizes of a batch's first entries, before any batch was measured: an
// order's record entry with a few lines takes 300–500 bytes, a day's entry
// 200–400, a key under 100.
const (
	firstPerEntry = 384
	keyPerEntry   = 96
)

// take returns the emptied buffers for the output of batch gen, with room
// for entries entries.
func (f *flushBufs) take(gen uint64, entries int) (changes []Change, vals, keys []byte) {
	if f.gen == gen || cap(f.vals) > maxKeptFlushBytes {
		// The output Flush returned earlier in this batch may still be in
		// use; a batch of large entries is not kept.
		f.changes, f.vals, f.keys = nil, nil, nil
	}
	f.gen = gen
	clear(f.changes) // the previous batch's keys and values are not kept alive by the list
	changes, vals, keys = f.changes[:0], f.vals[:0], f.keys[:0]
	if cap(changes) < entries {
		changes = make([]Change, 0, entries)
	}
	per := f.perEntry
	if per == 0 {
		per = firstPerEntry
	}
	if want := per * entries; cap(vals) < want {
		vals = make([]byte, 0, want+want/8)
	}
	if want := keyPerEntry * entries; cap(keys) < want {
		keys = make([]byte, 0, want)
	}
	return changes, vals, keys
}

// keep holds on to the buffers Flush wrote (append may have replaced them
// with larger ones) for the next batch.
func (f *flushBufs) keep(changes []Change, vals, keys []byte) {
	f.changes, f.vals, f.keys = changes, vals, keys
	if n := len(changes); n > 0 {
		f.perEntry = len(vals)/n + 1
	}
}

// The changelog keys of each kind, appended to a shared key buffer: the
// same bytes as changeKey(company, kind, rest) with rest as Restore reads
// it.

func appendHeadKey(b []byte, company string) []byte {
	b = append(b, company...)
	return append(b, 0, kindHead, 0)
}

func appendDayKey(b []byte, company string, k dayKey) []byte {
	b = append(b, company...)
	b = append(b, 0, kindDay, 0)
	b = append(b, k.day...)
	b = append(b, 0)
	b = append(b, k.currency...)
	if k.location != "" {
		// Only grouped days name a location, so other keys are as before.
		b = append(b, 0)
		b = append(b, k.location...)
	}
	return b
}

func appendRefKey(b []byte, company string, k refDataKey) []byte {
	b = append(b, company...)
	b = append(b, 0, kindRef, 0)
	b = strconv.AppendInt(b, int64(k.kind), 10)
	b = append(b, 0)
	return append(b, k.id...)
}

// appendPostedKey is changeKey(company, kindPosted, exceptionKey(k, id)).
func appendPostedKey(b []byte, company string, k dayKey, id string) []byte {
	b = append(b, company...)
	b = append(b, 0, kindPosted, 0)
	b = append(b, k.day...)
	b = append(b, 0)
	b = append(b, k.currency...)
	b = append(b, 0)
	b = append(b, k.location...)
	b = append(b, 0)
	return append(b, id...)
}
