package window

import (
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// The undo log. Applying a record is all or nothing: whatever fails inside
// Apply (an error, or a panic recovered), the state is put back exactly as
// it was before that record, and a day that cannot be sealed is put back as
// it was before its sealing began. Every change to the state goes through a
// method that first logs how to reverse it; a savepoint is a position in
// the log, and rolling back to it reverses every change logged since, newest
// first. Abort is a rollback to the start of the batch.
//
// An entry is logged once per savepoint scope (its seq says in which), and a
// day's totals are logged posting by posting, so the log grows with what a
// record changes, never with the size of the day it changes.

type undoLog struct {
	recs   []recOp
	days   []dayOp
	totals []totalsOp
	refs   []refOp
	heads  []headOp
	wms    []wmOp
	excs   []excOp
}

// Entries of records and days are never created by a change: reading a
// key makes its entry (its value nil when the store has none), and a
// rollback puts back that value; Commit forgets the entries the batch read.
type recOp struct {
	e      *recEntry
	c      *company
	k      recordKey
	prev   *recState
	joined bool // this change made the entry part of the batch
}

type dayOp struct {
	e      *dayEntry
	c      *company
	k      dayKey
	ptr    *dayState // the entry's value then; its totals are undone apart
	val    dayState
	joined bool
}

type totalsOp struct {
	d    *dayState
	acct day.Account
	amt  money.Amount
}

type refOp struct {
	e      *refEntry
	c      *company
	k      refDataKey
	prev   []refVersion
	joined bool
	fresh  bool
}

type headOp struct {
	c      *company
	saved  companyHead
	joined bool
}

type wmOp struct {
	c     *company
	saved int64
}

type excOp struct {
	c      *company
	k      dayKey
	id     string
	prev   string
	had    bool
	posted bool
}

// savepoint is a position in the undo log and in the batch's lists.
type savepoint struct {
	recs, days, totals, refs, heads, wms, excs int
	created, summaries, dayExc, posted, parked int
	parkUsed, contribs                         int
	idx                                        uint64
}

// savepoint opens a scope: changes from here on can be rolled back to it.
func (a *Aggregator) savepoint() savepoint {
	a.seq++
	u := &a.u
	return savepoint{
		recs: len(u.recs), days: len(u.days), totals: len(u.totals), refs: len(u.refs), heads: len(u.heads), wms: len(u.wms), excs: len(u.excs),
		created: len(a.b.created), summaries: len(a.b.summaries), dayExc: len(a.b.dayExc), posted: len(a.b.posted), parked: len(a.b.parked),
		parkUsed: len(a.b.parkUsed), contribs: len(a.b.contribs), idx: a.idx,
	}
}

// rollback reverses every change logged since sp. The indexes (fees by
// payment, orders by product) are not logged: when the rolled-back changes
// may have touched them, they are rebuilt from the records of every company
// those changes touched, and of scope.
func (a *Aggregator) rollback(sp savepoint, scope *company) {
	u := &a.u
	reindex := a.idx != sp.idx || len(u.recs) > sp.recs || len(u.refs) > sp.refs
	touched := map[*company]bool{}
	if scope != nil {
		touched[scope] = true
	}
	for i := len(u.totals) - 1; i >= sp.totals; i-- {
		op := u.totals[i]
		_ = op.d.totals.add(op.acct, -op.amt) // it held this value a moment ago
	}
	for i := len(u.days) - 1; i >= sp.days; i-- {
		op := u.days[i]
		touched[op.c] = true
		if op.ptr != nil {
			t := op.ptr.totals
			*op.ptr = op.val
			op.ptr.totals = t
		}
		op.e.cur = op.ptr
		if op.joined {
			a.b.days = a.b.days[:len(a.b.days)-1]
			op.e.gen = 0
		}
		op.e.seq = 0
	}
	for i := len(u.recs) - 1; i >= sp.recs; i-- {
		op := u.recs[i]
		touched[op.c] = true
		op.e.cur = op.prev
		if op.joined {
			a.b.recs = a.b.recs[:len(a.b.recs)-1]
			op.e.gen = 0
		}
		op.e.seq = 0
	}
	for i := len(u.refs) - 1; i >= sp.refs; i-- {
		op := u.refs[i]
		touched[op.c] = true
		if op.fresh {
			delete(op.c.refs, op.k)
		} else {
			op.e.cur = op.prev
		}
		if op.joined {
			a.b.refs = a.b.refs[:len(a.b.refs)-1]
			op.e.gen = 0
		}
		op.e.seq = 0
	}
	for i := len(u.heads) - 1; i >= sp.heads; i-- {
		op := u.heads[i]
		touched[op.c] = true
		op.c.setHead(op.saved)
		if op.joined {
			a.b.heads = a.b.heads[:len(a.b.heads)-1]
			op.c.headGen = 0
		}
		op.c.headSeq = 0
	}
	for i := len(u.wms) - 1; i >= sp.wms; i-- {
		op := u.wms[i]
		touched[op.c] = true
		op.c.watermark = op.saved
		op.c.wmSeq = 0
	}
	for i := len(u.excs) - 1; i >= sp.excs; i-- {
		op := u.excs[i]
		touched[op.c] = true
		op.c.putException(op.k, op.id, op.prev, op.had, op.posted)
	}
	for _, c := range a.b.created[sp.created:] {
		delete(a.companies, c.id)
		delete(touched, c)
	}
	u.recs, u.days, u.totals, u.refs = u.recs[:sp.recs], u.days[:sp.days], u.totals[:sp.totals], u.refs[:sp.refs]
	u.heads, u.wms, u.excs = u.heads[:sp.heads], u.wms[:sp.wms], u.excs[:sp.excs]
	clear(a.b.created[sp.created:])
	a.b.created = a.b.created[:sp.created]
	a.b.summaries = a.b.summaries[:sp.summaries]
	a.b.dayExc = a.b.dayExc[:sp.dayExc]
	a.b.posted = a.b.posted[:sp.posted]
	a.b.parked = a.b.parked[:sp.parked]
	a.b.parkUsed = a.b.parkUsed[:sp.parkUsed]
	if sp.contribs < len(a.b.contribs) {
		a.b.cbuf = a.b.cbuf[:a.b.contribs[sp.contribs].start]
		clear(a.b.contribs[sp.contribs:])
		a.b.contribs = a.b.contribs[:sp.contribs]
	}
	for c := range touched {
		c.nextSeal, c.cacheFrom, c.cacheTo = 0, 0, 0
		if reindex {
			c.reindex()
		}
	}
	// Whatever is touched next is logged afresh.
	a.seq++
}

// forget drops the log: the batch committed.
func (u *undoLog) forget() {
	clear(u.recs)
	clear(u.days)
	clear(u.totals)
	clear(u.refs)
	clear(u.heads)
	clear(u.wms)
	clear(u.excs)
	u.recs, u.days, u.totals, u.refs = u.recs[:0], u.days[:0], u.totals[:0], u.refs[:0]
	u.heads, u.wms, u.excs = u.heads[:0], u.wms[:0], u.excs[:0]
}

// addTotals adds (sign +1) or removes (-1) postings from a day's totals,
// logging each so that a rollback takes them back out.
func (a *Aggregator) addTotals(d *dayState, ps []day.Posting, sign int) error {
	for _, p := range ps {
		amt := p.Amount
		if sign < 0 {
			amt = -amt
		}
		if err := d.totals.add(p.Account, amt); err != nil {
			return err
		}
		a.u.totals = append(a.u.totals, totalsOp{d, p.Account, amt})
	}
	return nil
}
