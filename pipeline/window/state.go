package window

import (
	"sort"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// recordKey is a record's identity: Codat's Payment and PaymentFee
// transactions share ids, so the kind and transaction type are part of it.
type recordKey struct {
	kind v1.RecordKind
	typ  string
	id   string
}

func (k recordKey) String() string { return k.kind.String() + "|" + k.typ + "|" + k.id }

// recState is one version of one record. It is never changed in place: a
// new version is a new value, so the undo log can keep the old pointer.
type recState struct {
	srcMod   int64
	hash     []byte
	deleted  bool
	event    int64
	currency string
	day      string // "" when the record counts in no day
	// site is an order's location; location is the one its day is grouped
	// by, "" unless the company groups its days by location.
	site, location string
	total          money.Amount
	tax            money.Amount
	gratuity       money.Amount
	payType        string
	status         string
	linked         string
	tender         string
	seen           int64 // the latest event time of any version applied
	// An order's lines and service charges, and why it counts without
	// money when they do not add up.
	lines     []day.OrderLine
	charges   []day.Charge
	exception string
	settled   []string // a payout's settled payment ids
}

// links are the payments whose type a transaction's tender follows.
func (rs *recState) links() []string {
	if rs == nil {
		return nil
	}
	if rs.linked != "" {
		return []string{rs.linked}
	}
	return rs.settled
}

// recEntry holds a record's current value while a batch needs it: records
// live in the store, and the heap holds only those the open batch read or
// touched. base is the value the store holds, from which Commit works out
// what the record's derived keys become. gen says whether the open batch
// touched it (and so writes it to the changelog), seq whether the open
// savepoint scope logged how to undo it (undo.go).
type recEntry struct {
	cur  *recState
	base *recState
	gen  uint64
	seq  uint64
}

type dayKey struct {
	day      string
	currency string
	location string // "" unless the company groups its days by location
}

// dayState is one business day in one currency. Its exceptions are not
// here but in the company's excs, so that copying a day's scalars for the
// undo log costs the same whatever the day holds.
type dayState struct {
	totals   acctTotals
	posted   acctTotals
	revision int
	sealed   bool
	records  int
	dirty    bool
	start    int64
	end      int64
	// parked says why the day is parked: sealed, and no revision emitted
	// until it is resumed; "" when it is not.
	parked string
}

type dayEntry struct {
	cur *dayState // nil once the day emptied out in this batch
	gen uint64
	seq uint64
}

// excSet is a day's exceptions, by record id: cur are the records counted
// there without money now (derived from the records), posted those its last
// revision carried, which ledger.exceptions holds.
type excSet struct {
	cur, posted map[string]string
}

// company is the window's state of one merchant: its head, its reference
// data, its live days and outstanding exceptions on the heap, the rest in
// the store.
type company struct {
	agg       *Aggregator
	id        string
	tenant    string
	partition int32
	settings  *v1.WindowSettings
	cal       day.Calendar
	hasCal    bool
	watermark int64
	sequence  int64
	lastHash  string

	// records are those the open batch read or touched; Commit writes
	// them to the store and forgets them.
	records map[recordKey]*recEntry
	// days are the live days (open, or sealed with a revision due), and
	// the others the open batch read or touched.
	days map[dayKey]*dayEntry
	// daysPeak is the most days the map held since it was last made.
	daysPeak int
	// feesByPayment finds the fee transactions whose tender depends on a
	// payment, so a payment arriving after its fee still fixes the fee;
	// ordersByProduct finds the orders to move when a product's category
	// changes. Both index the records in memory; the store's P and O
	// sections index the rest.
	feesByPayment   map[string]map[recordKey]struct{}
	ordersByProduct map[string]map[recordKey]struct{}
	// refs are the company's reference data.
	refs map[refDataKey]*refEntry
	// hot says the company is on the aggregator's list of companies with
	// records in memory.
	hot bool
	// products says the company has product reference data, and so its
	// orders are indexed by product; indexProducts that Commit must index
	// every order it has, the company's first product having arrived.
	products, indexProducts bool
	// storedWM is the watermark the store holds.
	storedWM int64

	// excs are the exceptions of each day that has any.
	excs map[dayKey]*excSet

	headGen, headSeq uint64
	wmSeq            uint64

	// nextSeal is the earliest instant (end plus grace) at which an open
	// day seals by watermark; 0 means unknown. It spares a scan of the
	// company's days on every watermark step.
	nextSeal int64

	// The last day dayFor resolved: most records of a company fall in the
	// same day as the one before, and the zone lookup is the costly part.
	cacheFrom, cacheTo int64
	cacheDay           string
}

func newCompany(a *Aggregator, id string, partition int32) *company {
	return &company{
		agg: a, id: id, partition: partition,
		records:         map[recordKey]*recEntry{},
		days:            map[dayKey]*dayEntry{},
		feesByPayment:   map[string]map[recordKey]struct{}{},
		ordersByProduct: map[string]map[recordKey]struct{}{},
		refs:            map[refDataKey]*refEntry{},
		excs:            map[dayKey]*excSet{},
	}
}

func (c *company) rec(k recordKey) *recState {
	if e := c.recEntry(k); e != nil {
		return e.cur
	}
	return nil
}

// recEntry returns the record's entry, reading it from the store into
// memory when the batch has not yet: nil only when the record's key is too
// long to have been stored.
func (c *company) recEntry(k recordKey) *recEntry {
	if e := c.records[k]; e != nil {
		return e
	}
	rs := c.agg.loadRecord(c, k)
	e := &recEntry{cur: rs, base: rs}
	c.records[k] = e
	// The indexes in memory cover every record in memory: the store's
	// do not yet know what this batch wrote.
	for _, id := range rs.links() {
		addIndex(c.feesByPayment, id, k)
	}
	for _, id := range rs.products() {
		addIndex(c.ordersByProduct, id, k)
	}
	if !c.hot {
		c.hot = true
		c.agg.hot = append(c.agg.hot, c)
	}
	return e
}

func (c *company) dayState(k dayKey) *dayState {
	if e := c.dayEntry(k); e != nil {
		return e.cur
	}
	return nil
}

// dayEntry returns the day's entry, reading a day that is not live from
// the store; the entry's cur is nil when there is no such day.
func (c *company) dayEntry(k dayKey) *dayEntry {
	if e := c.days[k]; e != nil {
		return e
	}
	e := &dayEntry{cur: c.agg.loadDay(c, k)}
	c.days[k] = e
	c.agg.loadedDays = append(c.agg.loadedDays, dayTouch{c: c, k: k, e: e})
	return e
}

// companyHead is the part of a company saved and restored as one unit.
type companyHead struct {
	tenant    string
	settings  *v1.WindowSettings
	cal       day.Calendar
	hasCal    bool
	watermark int64
	sequence  int64
	lastHash  string
}

func (c *company) head() companyHead {
	return companyHead{c.tenant, c.settings, c.cal, c.hasCal, c.watermark, c.sequence, c.lastHash}
}

func (c *company) setHead(h companyHead) {
	c.tenant, c.settings, c.cal, c.hasCal = h.tenant, h.settings, h.cal, h.hasCal
	c.watermark, c.sequence, c.lastHash = h.watermark, h.sequence, h.lastHash
	c.cacheFrom, c.cacheTo, c.nextSeal = 0, 0, 0
}

// acctTotals is a day's amounts per semantic account, sorted by account. A
// day touches a handful of accounts, so a short slice copies and searches
// faster than a map on the hot path.
type acctTotals []acctAmt

type acctAmt struct {
	acct day.Account
	amt  money.Amount
}

func (t acctTotals) clone() acctTotals {
	if t == nil {
		return nil
	}
	return append(make(acctTotals, 0, len(t)+2), t...)
}

func (t acctTotals) find(a day.Account) (int, bool) {
	if len(t) > 16 {
		// A day near MaxDayAccounts would make every posting a long scan.
		i := sort.Search(len(t), func(i int) bool { return t[i].acct >= a })
		return i, i < len(t) && t[i].acct == a
	}
	for i := range t {
		if t[i].acct >= a {
			return i, t[i].acct == a
		}
	}
	return len(t), false
}

func (t acctTotals) get(a day.Account) money.Amount {
	if i, ok := t.find(a); ok {
		return t[i].amt
	}
	return 0
}

func (t *acctTotals) add(a day.Account, amt money.Amount) error {
	i, ok := t.find(a)
	if !ok {
		if amt == 0 {
			return nil
		}
		*t = append(*t, acctAmt{})
		copy((*t)[i+1:], (*t)[i:])
		(*t)[i] = acctAmt{a, amt}
		return nil
	}
	v, err := (*t)[i].amt.Add(amt)
	if err != nil {
		return err
	}
	if v == 0 {
		*t = append((*t)[:i], (*t)[i+1:]...)
		return nil
	}
	(*t)[i].amt = v
	return nil
}

func (t acctTotals) isZero() bool { return len(t) == 0 }

func (t acctTotals) totals() day.Totals {
	out := make(day.Totals, len(t))
	for _, x := range t {
		out[x.acct] = x.amt
	}
	return out
}

func fromTotals(d day.Totals) acctTotals {
	out := make(acctTotals, 0, len(d))
	for a, v := range d {
		if v != 0 {
			out = append(out, acctAmt{a, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].acct < out[j].acct })
	return out
}
