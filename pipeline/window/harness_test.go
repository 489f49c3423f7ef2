package window

// Test harness shared by the property, example and bug tests: a runner that
// feeds events in batches, a compacted changelog, a white-box state dump,
// summary checks (balance, chain) and an independent reference model.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// fataler is what both *testing.T and *rapid.T offer.
type fataler interface {
	Fatalf(format string, args ...any)
}

// ---------------------------------------------------------------------------
// Runner and changelog.

// run feeds one aggregator and keeps what it emitted.
type run struct {
	a          *Aggregator
	part       map[string]int32
	summaries  []*v1.DaySummary
	log        *changelogStore
	exceptions exceptionStore
	parked     []ParkedDay
	now        time.Time // checkpoints' date (store_test.go)
	// contribs adds up ledger.contributions per day and account, and
	// records counts each day's records by the same.
	contribs accountSums
	records  map[dayCur]int
}

func newRun(t cleaner, part map[string]int32, opts ...AggregatorOption) *run {
	return &run{a: testAggregator(t, opts...), part: part, log: &changelogStore{live: map[string]int{}}, exceptions: exceptionStore{},
		contribs: accountSums{}, records: map[dayCur]int{}}
}

// cleaner is what *testing.T, *testing.B and *rapid.T offer to run a
// function when the test ends.
type cleaner interface{ Cleanup(func()) }

// testAggregator is an aggregator with its own in-memory store, closed when
// the test (or rapid check) ends. It writes contributions, so that every
// property runs with them in the loop.
func testAggregator(t cleaner, opts ...AggregatorOption) *Aggregator {
	a := NewAggregator(nil, append([]AggregatorOption{WithContributions()}, opts...)...)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// exceptionStore is ledger.exceptions compacted: key → DayException.
type exceptionStore map[string]*v1.DayException

func (s exceptionStore) write(chs []ExceptionChange) {
	for _, c := range chs {
		if c.Value == nil {
			delete(s, string(c.Key))
			continue
		}
		var e v1.DayException
		if err := proto.Unmarshal(c.Value, &e); err != nil {
			panic(err)
		}
		s[string(c.Key)] = &e
	}
}

// ofDay lists the record ids a day's exceptions name, sorted.
func (s exceptionStore) ofDay(k dayCur) []string {
	var out []string
	for _, e := range s {
		if e.GetCompanyId() == k.company && e.GetBusinessDay() == k.day && e.GetCurrency() == k.currency && e.GetLocation() == k.location {
			out = append(out, e.GetRecordId())
		}
	}
	sort.Strings(out)
	return out
}

func (r *run) apply(f fataler, evs ...*v1.CommerceEvent) {
	for i, ev := range evs {
		if err := r.a.Apply(r.part[ev.GetCompanyId()], ev); err != nil {
			f.Fatalf("Apply event %d (%s): %v", i, describe(ev), err)
		}
	}
}

// commit ends a batch the way the Kafka job does: Flush, write the output,
// Commit. It returns the summaries of this batch.
func (r *run) commit(f fataler) []*v1.DaySummary {
	out, err := r.a.Flush()
	if err != nil {
		f.Fatalf("Flush: %v", err)
	}
	r.log.write(out.Changes)
	r.summaries = append(r.summaries, out.Summaries...)
	r.exceptions.write(out.Exceptions)
	r.parked = append(r.parked, out.Parked...)
	r.addContributions(f, out.Contributions)
	r.a.Commit()
	return out.Summaries
}

// addContributions decodes a batch's contributions and adds them up.
func (r *run) addContributions(f fataler, chs []Change) {
	for _, ch := range chs {
		var c v1.Contribution
		if err := proto.Unmarshal(ch.Value, &c); err != nil {
			f.Fatalf("contribution: %v", err)
		}
		if string(ch.Key) != c.GetCompanyId() || ch.Partition != r.part[c.GetCompanyId()] {
			f.Fatalf("contribution of %s keyed %q in partition %d", c.GetCompanyId(), ch.Key, ch.Partition)
		}
		if s := c.GetSign(); s != 1 && s != -1 {
			f.Fatalf("contribution with sign %d", s)
		}
		if c.GetException() != "" && len(c.GetPostings()) > 0 {
			f.Fatalf("contribution of %s counts without money (%s) yet has postings", c.GetRecordId(), c.GetException())
		}
		k := dayCur{c.GetCompanyId(), c.GetBusinessDay(), c.GetCurrency(), c.GetLocation()}
		for _, p := range c.GetPostings() {
			r.contribs.add(k, p.GetAccount(), p.GetAmount())
		}
		r.records[k] += int(c.GetSign())
		if r.records[k] == 0 {
			delete(r.records, k)
		}
	}
}

// feed applies evs in batches of the given sizes (cycled), committing after
// each batch and once at the end.
func (r *run) feed(f fataler, evs []*v1.CommerceEvent, sizes []int) {
	i, b := 0, 0
	for i < len(evs) {
		n := len(evs)
		if len(sizes) > 0 {
			n = sizes[b%len(sizes)]
			b++
		}
		j := min(i+n, len(evs))
		r.apply(f, evs[i:j]...)
		r.commit(f)
		i = j
	}
	r.commit(f)
}

// changelogStore is the changelog topic: every write in offset order, and
// for each key the offset of its latest write, which is all that compaction
// keeps.
type changelogStore struct {
	entries []Change
	live    map[string]int
}

func (s *changelogStore) write(chs []Change) {
	for _, c := range chs {
		e := Change{Partition: c.Partition, Key: bytes.Clone(c.Key)}
		if c.Value != nil {
			e.Value = bytes.Clone(c.Value)
		}
		s.live[string(e.Key)] = len(s.entries)
		s.entries = append(s.entries, e)
	}
}

// compacted returns what a reader of a compacted partition sees: the latest
// value of each key, in the order those values were written. Tombstones are
// kept or, as after delete.retention.ms, gone.
func (s *changelogStore) compacted(partition int32, tombstones bool) []Change {
	var out []Change
	for i, e := range s.entries {
		if e.Partition != partition || s.live[string(e.Key)] != i {
			continue
		}
		if e.Value == nil && !tombstones {
			continue
		}
		out = append(out, e)
	}
	return out
}

// state is the compacted changelog without tombstones, as key → value.
func (s *changelogStore) state() map[string]string {
	out := map[string]string{}
	for k, i := range s.live {
		if v := s.entries[i].Value; v != nil {
			out[k] = string(v)
		}
	}
	return out
}

func (s *changelogStore) partitions() []int32 {
	var ps []int32
	for _, e := range s.entries {
		if !slices.Contains(ps, e.Partition) {
			ps = append(ps, e.Partition)
		}
	}
	slices.Sort(ps)
	return ps
}

// restorePartition loads a partition's compacted changelog into a.
func restorePartition(f fataler, a *Aggregator, s *changelogStore, p int32, tombstones bool) {
	for _, e := range s.compacted(p, tombstones) {
		if err := a.Restore(p, e.Key, e.Value); err != nil {
			f.Fatalf("Restore partition %d key %q: %v", p, e.Key, err)
		}
	}
	if err := a.RestoreDone(p); err != nil {
		f.Fatalf("RestoreDone partition %d: %v", p, err)
	}
}

func diffStates(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, fmt.Sprintf("key %q only in first", k))
		} else if v != w {
			out = append(out, fmt.Sprintf("key %q differs", k))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("key %q only in second", k))
		}
	}
	sort.Strings(out)
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("... %d more", len(out)-8))
	}
	return strings.Join(out, "\n")
}

// ---------------------------------------------------------------------------
// White-box state dump: the whole in-memory state of the companies of the
// given partitions (all when none given), one line per fact, sorted. Used to
// check that Restore and Abort rebuild exactly what the live aggregator held,
// including the fee index that is not itself in the changelog.

func dumpState(a *Aggregator, partitions ...int32) string {
	var lines []string
	det := proto.MarshalOptions{Deterministic: true}
	for id, c := range a.companies {
		if len(partitions) > 0 && !slices.Contains(partitions, c.partition) {
			continue
		}
		set, _ := det.Marshal(c.settings)
		zone := ""
		if c.hasCal {
			zone = fmt.Sprintf("%s/%d", c.cal.Loc.String(), c.cal.CutoffHour)
		}
		lines = append(lines, fmt.Sprintf("%q head tenant=%q part=%d settings=%x cal=%v:%s wm=%d seq=%d last=%s",
			id, c.tenant, c.partition, set, c.hasCal, zone, c.watermark, c.sequence, c.lastHash))
		recs := map[recordKey]*recState{}
		for _, k := range a.allRecords(c) {
			recs[k] = c.rec(k)
		}
		days := map[dayKey]*dayState{}
		prefix := append(append(changePrefix(nil, kindDay, c.partition), id...), 0, kindDay, 0)
		if err := a.st.scan(prefix, func(k, _ []byte) error {
			dk := parseDayKey(k[len(prefix):])
			days[dk] = nil
			return nil
		}); err != nil {
			panic(err)
		}
		for k := range c.days {
			days[k] = nil
		}
		for k := range days {
			days[k] = c.dayState(k)
		}
		for k, rs := range recs {
			if rs == nil {
				continue
			}
			b, _ := det.Marshal(recordProto(k, rs))
			lines = append(lines, fmt.Sprintf("%q rec %s %x", id, k.String(), b))
			for _, p := range rs.links() {
				lines = append(lines, fmt.Sprintf("%q fee %s -> %s", id, p, k.String()))
			}
		}
		for k, d := range days {
			if d == nil {
				continue
			}
			b, _ := det.Marshal(dayProto(k, d))
			lines = append(lines, fmt.Sprintf("%q day %s %s %x", id, k.day, k.currency, b))
		}
		for k, s := range c.excs {
			for rid, msg := range s.cur {
				lines = append(lines, fmt.Sprintf("%q exception %s %q %q", id, exceptionKey(k, ""), rid, msg))
			}
			for rid, msg := range s.posted {
				lines = append(lines, fmt.Sprintf("%q posted %s %q %q", id, exceptionKey(k, ""), rid, msg))
			}
		}
		for k, e := range c.refs {
			for _, v := range e.cur {
				lines = append(lines, fmt.Sprintf("%q ref %s %s from=%d hash=%x deleted=%t category=%q gift=%t",
					id, k.kind, k.id, v.from, v.hash, v.deleted, v.category, v.gift))
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i, x, y)
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// Summaries.

type dayCur struct{ company, day, currency, location string }

func (k dayCur) String() string {
	if k.location != "" {
		return k.company + "/" + k.day + "/" + k.currency + "@" + k.location
	}
	return k.company + "/" + k.day + "/" + k.currency
}

// accountSums is net money (debit positive) in 1/10000 units per account.
type accountSums map[dayCur]map[string]int64

func (s accountSums) add(k dayCur, account string, v int64) {
	if v == 0 {
		return
	}
	m := s[k]
	if m == nil {
		m = map[string]int64{}
		s[k] = m
	}
	m[account] += v
	if m[account] == 0 {
		delete(m, account)
		if len(m) == 0 {
			delete(s, k)
		}
	}
}

func diffSums(want, got accountSums) string {
	var out []string
	keys := map[dayCur]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		accts := map[string]bool{}
		for a := range want[k] {
			accts[a] = true
		}
		for a := range got[k] {
			accts[a] = true
		}
		for a := range accts {
			if w, g := want[k][a], got[k][a]; w != g {
				out = append(out, fmt.Sprintf("%s %s: want %s, got %s", k, a, money.Amount(w), money.Amount(g)))
			}
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... %d more", len(out)-10))
	}
	return strings.Join(out, "\n")
}

func parseAmount(f fataler, s string) money.Amount {
	a, err := money.Parse(s)
	if err != nil {
		f.Fatalf("summary amount %q: %v", s, err)
	}
	return a
}

// sumRevisions adds every revision's lines per (company, day, currency).
func sumRevisions(f fataler, sums []*v1.DaySummary) accountSums {
	out := accountSums{}
	for _, s := range sums {
		k := dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}
		for _, l := range s.GetLines() {
			out.add(k, l.GetAccount(), int64(parseAmount(f, l.GetDebit()))-int64(parseAmount(f, l.GetCredit())))
		}
	}
	return out
}

// netLines renders a summary as account → signed amount text (debit
// positive), for examples.
func netLines(f fataler, s *v1.DaySummary) map[string]string {
	out := map[string]string{}
	for _, l := range s.GetLines() {
		v := parseAmount(f, l.GetDebit()) - parseAmount(f, l.GetCredit())
		out[l.GetAccount()] = v.String()
	}
	return out
}

func toDomain(f fataler, p *v1.DaySummary) day.Summary {
	s := day.Summary{
		Header: day.Header{
			CompanyID: p.GetCompanyId(), TenantID: p.GetTenantId(), Day: p.GetBusinessDay(), Currency: p.GetCurrency(), Location: p.GetLocation(),
			Revision: int(p.GetRevision()), Zone: p.GetTimeZone(), CutoffHour: int(p.GetCutoffHour()),
			Start: time.UnixMilli(p.GetStartUnixMs()).UTC(), End: time.UnixMilli(p.GetEndUnixMs()).UTC(),
			SealedBy: p.GetSealedBy(), ConfigVersion: p.GetConfigVersion(), RecordCount: int(p.GetRecordCount()),
			ExceptionCount: int(p.GetExceptionCount()),
		},
		ID: p.GetId(), Sequence: p.GetSequence(), PrevHash: p.GetPrevHash(), Hash: p.GetHash(),
	}
	for _, l := range p.GetLines() {
		s.Lines = append(s.Lines, day.Line{Account: day.Account(l.GetAccount()), Debit: parseAmount(f, l.GetDebit()), Credit: parseAmount(f, l.GetCredit())})
	}
	for _, e := range p.GetExceptions() {
		s.Exceptions = append(s.Exceptions, day.Exception{RecordID: e.GetRecordId(), Message: e.GetMessage()})
	}
	return s
}

// exceptionIDs are the record ids a summary names as exceptions.
func exceptionIDs(s *v1.DaySummary) []string {
	var out []string
	for _, e := range s.GetExceptions() {
		out = append(out, e.GetRecordId())
	}
	return out
}

// exceptionText is a summary's exceptions, ids and messages, as one string.
func exceptionText(s *v1.DaySummary) string {
	var b strings.Builder
	for _, e := range s.GetExceptions() {
		fmt.Fprintf(&b, "%q %q\n", e.GetRecordId(), e.GetMessage())
	}
	return b.String()
}

// checkLastExceptions requires the last revision of every day to name
// exactly the orders the reference finds beyond the rounding bound in that
// day's final state: a day with such orders has a revision naming them, and
// a day whose exceptions were corrected ends on a revision naming none.
func checkLastExceptions(f fataler, want map[dayCur][]string, sums []*v1.DaySummary) {
	last := map[dayCur]*v1.DaySummary{}
	for _, s := range sums {
		last[dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}] = s
	}
	var out []string
	for k, ids := range want {
		s := last[k]
		if s == nil {
			out = append(out, fmt.Sprintf("%s: orders %v are beyond the rounding bound, but the day has no revision", k, ids))
			continue
		}
		if got := exceptionIDs(s); !slices.Equal(got, ids) {
			out = append(out, fmt.Sprintf("%s revision %d names exceptions %v, want %v", k, s.GetRevision(), got, ids))
		}
	}
	for k, s := range last {
		if _, ok := want[k]; !ok && len(s.GetExceptions()) > 0 {
			out = append(out, fmt.Sprintf("%s revision %d names exceptions %v, want none", k, s.GetRevision(), exceptionIDs(s)))
		}
	}
	if len(out) > 0 {
		sort.Strings(out)
		f.Fatalf("last revisions' exceptions:\n%s", strings.Join(out, "\n"))
	}
}

// checkSummaries checks what every emitted summary must satisfy: each line
// has one positive side, debits equal credits, revisions of a day count
// 1, 2, 3, … in emission order, a revision without lines changes the day's
// exceptions (and none is emitted that changes nothing), exceptions are
// orders sorted by id, each with a message, each company's summaries verify
// as one hash chain (exceptions included), and the header describes a real
// day of 23 to 25 hours.
func checkSummaries(f fataler, sums []*v1.DaySummary) {
	chains := map[string][]day.Summary{}
	var order []string
	revs := map[dayCur]int32{}
	excs := map[dayCur]string{}
	for i, s := range sums {
		k := dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetLocation()}
		exc := exceptionText(s)
		if len(s.GetLines()) == 0 && exc == excs[k] {
			f.Fatalf("summary %d (%s rev %d) has no lines and the exceptions of the revision before (%v): a zero revision must not be emitted",
				i, k, s.GetRevision(), exceptionIDs(s))
		}
		excs[k] = exc
		for j, e := range s.GetExceptions() {
			if e.GetMessage() == "" || !strings.Contains(e.GetMessage(), e.GetRecordId()) {
				f.Fatalf("summary %d (%s rev %d): exception %q has message %q, which does not name the order", i, k, s.GetRevision(), e.GetRecordId(), e.GetMessage())
			}
			if j > 0 && s.GetExceptions()[j-1].GetRecordId() >= e.GetRecordId() {
				f.Fatalf("summary %d (%s rev %d): exceptions not sorted by record id: %v", i, k, s.GetRevision(), exceptionIDs(s))
			}
		}
		var debits, credits money.Amount
		for _, l := range s.GetLines() {
			d, c := parseAmount(f, l.GetDebit()), parseAmount(f, l.GetCredit())
			if d < 0 || c < 0 || (d == 0) == (c == 0) {
				f.Fatalf("summary %d (%s) line %s: debit %s credit %s: want exactly one positive side", i, s.GetId(), l.GetAccount(), l.GetDebit(), l.GetCredit())
			}
			debits += d
			credits += c
		}
		if debits != credits {
			f.Fatalf("summary %d (%s %s %s rev %d) does not balance: debits %s, credits %s", i, s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency(), s.GetRevision(), debits, credits)
		}
		revs[k]++
		if s.GetRevision() != revs[k] {
			f.Fatalf("summary %d: %s revision %d, want %d", i, k, s.GetRevision(), revs[k])
		}
		if h := time.Duration(s.GetEndUnixMs()-s.GetStartUnixMs()) * time.Millisecond; h < 23*time.Hour || h > 25*time.Hour {
			f.Fatalf("summary %d: %s spans %s", i, k, h)
		}
		switch s.GetSealedBy() {
		case ByWatermark, ByClockTick, ByCloseUpTo:
		default:
			f.Fatalf("summary %d: sealed by %q", i, s.GetSealedBy())
		}
		if _, ok := chains[s.GetCompanyId()]; !ok {
			order = append(order, s.GetCompanyId())
		}
		chains[s.GetCompanyId()] = append(chains[s.GetCompanyId()], toDomain(f, s))
	}
	for _, c := range order {
		if i, err := day.Verify(chains[c]); err != nil {
			f.Fatalf("chain of %s breaks at %d: %v", c, i, err)
		}
	}
}

func marshalSummaries(f fataler, sums []*v1.DaySummary) [][]byte {
	out := make([][]byte, len(sums))
	for i, s := range sums {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(s)
		if err != nil {
			f.Fatalf("marshal summary: %v", err)
		}
		out[i] = b
	}
	return out
}

// sameSummaries requires byte-identical summaries (ids, hashes, lines) in
// the same order.
func sameSummaries(f fataler, what string, want, got []*v1.DaySummary) {
	w, g := marshalSummaries(f, want), marshalSummaries(f, got)
	for i := 0; i < min(len(w), len(g)); i++ {
		if !bytes.Equal(w[i], g[i]) {
			f.Fatalf("%s: summary %d differs:\n  want %v\n  got  %v", what, i, want[i], got[i])
		}
	}
	if len(w) != len(g) {
		f.Fatalf("%s: %d summaries, want %d", what, len(g), len(w))
	}
}

// ---------------------------------------------------------------------------
// Reference model. It is written from the rules as documented (ledger/day's
// package doc, the doc comments of OrderPostings, TransactionPostings and
// RoundPostings, and the architecture), not from the aggregator's code and
// without calling ledger/day for money: its own decimal reader, its own
// business-day rule, its own postings for orders with lines and service
// charges, its own rounding bound and per-record rounding, and its own
// payout tender resolution.

// refSettings is what the model needs of a company's settings.
type refSettings struct {
	zone       string
	cutoff     int
	startDate  string
	byLocation bool
}

type refKey struct {
	company string
	kind    v1.RecordKind
	typ     string
	id      string
}

func keyOf(company string, re *v1.RecordEvent) refKey {
	k := refKey{company, re.GetKind(), "", re.GetId()}
	if re.GetKind() == v1.RecordKind_RECORD_KIND_TRANSACTION {
		k.typ = re.GetTransactionType()
	}
	return k
}

// refNewer: a later sourceModifiedDate wins; a tie goes to the larger
// content hash.
func refNewer(a, b *v1.RecordEvent) bool {
	if a.GetSourceModifiedUnixMs() != b.GetSourceModifiedUnixMs() {
		return a.GetSourceModifiedUnixMs() > b.GetSourceModifiedUnixMs()
	}
	return bytes.Compare(a.GetContentHash(), b.GetContentHash()) > 0
}

// refDecimal reads a decimal string into 1/10000 units without any library.
func refDecimal(f fataler, s string) int64 {
	if s == "" {
		return 0
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 4 {
		f.Fatalf("reference: %q has more than 4 decimals", s)
	}
	frac += strings.Repeat("0", 4-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	fr, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		f.Fatalf("reference: %q is not a decimal", s)
	}
	v := w*10000 + fr
	if neg {
		v = -v
	}
	return v
}

var zoneCache = map[string]*time.Location{}

func mustZone(name string) *time.Location {
	if l, ok := zoneCache[name]; ok {
		return l
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	zoneCache[name] = l
	return l
}

// refDay is the business day of an instant: the local date, or the date
// before when the local clock reads earlier than the cutoff hour. For whole
// cutoff hours in the zones the generator uses (no fall-back crosses a whole
// hour from above), this is the calendar's "first instant the clock reads D
// cutoff:00 or later" rule.
func refDay(s refSettings, ms int64) string {
	lt := time.UnixMilli(ms).In(mustZone(s.zone))
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
	if lt.Hour() < s.cutoff {
		d = d.AddDate(0, 0, -1)
	}
	return d.Format("2006-01-02")
}

func tenderName(t string) string {
	t = strings.TrimSpace(t)
	if t == "" {
		t = "Unknown"
	}
	return "tender:" + t
}

// refResult is what the reference model says of a stream.
type refResult struct {
	// sums is the money of every (company, day, currency) per account.
	sums accountSums
	// exceptions are, per day, the ids of the orders counted there whose
	// lines miss their total by more than rounding explains, sorted.
	exceptions map[dayCur][]string
	// records counts, per day, the records that count there, with money or
	// without (a Pending payment, a Payment transaction, an exception).
	records map[dayCur]int
	// features notes situations the model met, for the coverage test.
	features map[string]bool
}

// reference computes, from the final state of each record, the money of
// every (company, day, currency) per account.
func reference(f fataler, settings map[string]refSettings, evs []*v1.CommerceEvent) accountSums {
	return referenceState(f, settings, evs).sums
}

// referenceState computes the final state of each record and what it
// contributes. A delete is a version dated when it was received, winning
// ties (the aggregator's rule, written again here independently), so the
// order of arrival never matters.
func referenceState(f fataler, settings map[string]refSettings, evs []*v1.CommerceEvent) *refResult {
	type version struct {
		re     *v1.RecordEvent // nil for a delete
		srcMod int64
		hash   []byte
	}
	win := func(a, b version) bool {
		if a.srcMod != b.srcMod {
			return a.srcMod > b.srcMod
		}
		return bytes.Compare(a.hash, b.hash) > 0
	}
	tomb := bytes.Repeat([]byte{0xff}, 64)
	latest := map[refKey]version{}
	offer := func(k refKey, v version) {
		if cur, ok := latest[k]; !ok || win(v, cur) {
			latest[k] = v
		}
	}
	txTypes := []string{"Payment", "Refund", "Payout", "FailedPayout", "Transfer", "PaymentFee", "PaymentFeeRefund", "Unknown"}
	// Product versions, each kept once, ordered by valid-from time then
	// content hash (a deletion's hash above all).
	type productVersion struct {
		from     int64
		hash     []byte
		deleted  bool
		category string
		gift     bool
	}
	products := map[[2]string][]productVersion{}
	for _, ev := range evs {
		rf := ev.GetReference()
		if rf == nil || rf.GetKind() != v1.ReferenceKind_REFERENCE_KIND_PRODUCT {
			continue
		}
		v := productVersion{from: rf.GetValidFromUnixMs(), hash: rf.GetContentHash(), deleted: rf.GetDeleted()}
		if v.deleted {
			v.hash = tomb
		}
		if p := rf.GetProduct(); p != nil {
			v.gift = p.GetIsGiftCard()
			if refs := p.GetProductCategoryRefs(); len(refs) > 0 {
				v.category = refs[0].GetId()
			}
		}
		k := [2]string{ev.GetCompanyId(), rf.GetId()}
		if !slices.ContainsFunc(products[k], func(o productVersion) bool { return o.from == v.from && bytes.Equal(o.hash, v.hash) }) {
			products[k] = append(products[k], v)
		}
	}
	for _, vs := range products {
		sort.Slice(vs, func(i, j int) bool {
			if vs[i].from != vs[j].from {
				return vs[i].from < vs[j].from
			}
			return bytes.Compare(vs[i].hash, vs[j].hash) < 0
		})
	}
	// productAt is the version in force at t: the last one valid by then,
	// or the first one for an order older than every version.
	productAt := func(company, id string, t int64) (string, bool) {
		vs := products[[2]string{company, id}]
		if id == "" || len(vs) == 0 {
			return "", false
		}
		v := vs[0]
		for _, x := range vs {
			if x.from <= t {
				v = x
			}
		}
		if v.deleted {
			return "", false
		}
		return v.category, v.gift
	}
	for _, ev := range evs {
		re := ev.GetRecord()
		if re == nil {
			continue
		}
		k := keyOf(ev.GetCompanyId(), re)
		if !re.GetDeleted() {
			offer(k, version{re, re.GetSourceModifiedUnixMs(), re.GetContentHash()})
			continue
		}
		del := version{nil, ev.GetReceivedUnixMs(), tomb}
		if k.kind == v1.RecordKind_RECORD_KIND_TRANSACTION && k.typ == "" {
			for _, t := range txTypes {
				k.typ = t
				offer(k, del)
			}
			continue
		}
		offer(k, del)
	}
	final := map[refKey]*v1.RecordEvent{}
	for k, v := range latest {
		if v.re != nil {
			final[k] = v.re
		}
	}
	res := &refResult{sums: accountSums{}, exceptions: map[dayCur][]string{}, records: map[dayCur]int{}, features: map[string]bool{}}
	out := res.sums
	// paymentType is the type of a payment in the final state, whatever its
	// status, and false when there is none (never pushed, or deleted).
	paymentType := func(company, id string) (string, bool) {
		if p := final[refKey{company, v1.RecordKind_RECORD_KIND_PAYMENT, "", id}]; p != nil {
			return p.GetPayment().GetType(), true
		}
		return "", false
	}
	for k, re := range final {
		s := settings[k.company]
		d := refDay(s, re.GetEventUnixMs())
		if s.startDate != "" && d < s.startDate {
			continue
		}
		// ps is the record's contribution (debit positive) per account,
		// before rounding to its currency's minor units.
		ps := map[string]int64{}
		post := func(a string, v int64) { ps[a] += v }
		cur := recordCurrency(re)
		loc := ""
		if s.byLocation {
			loc = re.GetOrder().GetLocationRef().GetId()
		}
		res.records[dayCur{k.company, d, cur, loc}]++
		switch b := re.Body.(type) {
		case *v1.RecordEvent_Order:
			o := b.Order
			var ok bool
			product := func(id string) (string, bool) { return productAt(k.company, id, re.GetEventUnixMs()) }
			if ps, ok = refOrder(f, o, product, res.features); !ok {
				dk := dayCur{k.company, d, cur, loc}
				res.exceptions[dk] = append(res.exceptions[dk], k.id)
				continue
			}
		case *v1.RecordEvent_Payment:
			p := b.Payment
			if p.GetStatus() != "Paid" {
				continue
			}
			amt := refDecimal(f, p.GetAmount())
			post(tenderName(p.GetType()), amt)
			post("unsettled", -amt)
		case *v1.RecordEvent_Transaction:
			tx := b.Transaction
			amt := refDecimal(f, tx.GetTotalAmount())
			switch tx.GetType() {
			case "PaymentFee", "PaymentFeeRefund":
				linked := tx.GetId()
				if ref := tx.GetTransactionSourceRef(); ref.GetType() == "Payment" && ref.GetId() != "" {
					linked = ref.GetId()
				}
				typ, _ := paymentType(k.company, linked)
				tender := tenderName(typ)
				if tx.GetType() == "PaymentFee" { // sent negative: the expense is its negation
					post("payment_fees", -amt)
					post(tender, amt)
				} else {
					post(tender, amt)
					post("payment_fee_refunds", -amt)
				}
			case "Payout", "FailedPayout":
				// The money moves between the bank and the tender of the
				// one payment type every settled payment has; otherwise
				// (none settled, one unknown, types differ) the clearing
				// account. Direction comes from the type, not the sign.
				from, common := "payout_clearing", ""
				shared := len(tx.GetSettledTransactionIds()) > 0
				for _, id := range tx.GetSettledTransactionIds() {
					typ, ok := paymentType(k.company, id)
					if !ok || typ == "" || (common != "" && typ != common) {
						shared = false
						break
					}
					common = typ
				}
				if shared {
					from = tenderName(common)
					res.features["payout to a tender"] = true
				} else {
					res.features["payout to payout_clearing"] = true
				}
				if amt < 0 {
					amt = -amt
				}
				if tx.GetType() == "Payout" {
					post("payouts", amt)
					post(from, -amt)
				} else {
					post(from, amt)
					post("payouts", -amt)
				}
			}
		}
		dk := dayCur{k.company, d, cur, loc}
		for a, v := range refRound(ps, refUnit(f, cur)) {
			out.add(dk, a, v)
		}
	}
	for _, ids := range res.exceptions {
		sort.Strings(ids)
	}
	return res
}

// recordCurrency is the currency a record counts in.
func recordCurrency(re *v1.RecordEvent) string {
	switch b := re.Body.(type) {
	case *v1.RecordEvent_Order:
		return b.Order.GetCurrency()
	case *v1.RecordEvent_Payment:
		return b.Payment.GetCurrency()
	case *v1.RecordEvent_Transaction:
		return b.Transaction.GetCurrency()
	}
	return ""
}

// refUnit is a currency's minor unit in 1/10000 units.
func refUnit(f fataler, cur string) int64 {
	switch cur {
	case "GBP", "USD", "EUR":
		return 100
	case "JPY":
		return 10000
	}
	f.Fatalf("reference: no minor unit for %q", cur)
	return 0
}

// refRound rounds one record's contribution to its currency's minor unit
// (unit, in 1/10000 units), half away from zero, account by account, and
// puts what that leaves unbalanced on rounding (ledger/day.RoundPostings'
// rule), so a day holds what each record really comes to in its currency.
func refRound(ps map[string]int64, unit int64) map[string]int64 {
	out := map[string]int64{}
	var sum int64
	for a, v := range ps {
		neg := v < 0
		if neg {
			v = -v
		}
		r := v / unit * unit
		if 2*(v%unit) >= unit {
			r += unit
		}
		if neg {
			r = -r
		}
		out[a] += r
		sum += r
	}
	out["rounding"] -= sum
	return out
}

// refRateKey is the tax account of a percentage: "tax:rate:<value>" with
// the value written without superfluous zeros ("20.00" → "20", ".5" →
// "0.5"); no percentage, or zero, is the untyped "tax".
func refRateKey(f fataler, pct string) string {
	whole, frac, _ := strings.Cut(pct, ".")
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if strings.Trim(whole+frac, "0123456789") != "" {
		f.Fatalf("reference: percentage %q is not a plain decimal", pct)
	}
	if whole == "" && frac == "" {
		return "tax"
	}
	if whole == "" {
		whole = "0"
	}
	if frac != "" {
		whole += "." + frac
	}
	return "tax:rate:" + whole
}

// refOrder is an order's postings (debit positive) as ledger/day's
// OrderPostings documents them, and false when its lines and service
// charges miss its total by more than one minor unit each: such an order
// counts in its day without money.
//
//   - The order is owed in full: Dr unsettled total + gratuity; Cr gratuity.
//   - Without lines or charges: Cr sales total - tax; Cr tax.
//   - A sold line credits sales with its net (total - tax) plus its
//     discounts and debits discounts; a refunded line (negative total)
//     debits refunds with its net, negated.
//   - A service charge credits shipping (type Shipping) or service charges
//     with its net.
//   - Each tax part naming a component and an amount credits
//     tax:<component>; what the parts leave of the tax credits the rate's
//     account, or the untyped tax.
//   - What the lines and charges leave of the total credits rounding.
func refOrder(f fataler, o *v1.Order, product func(id string) (category string, gift bool), features map[string]bool) (map[string]int64, bool) {
	ps := map[string]int64{}
	post := func(a string, v int64) {
		if v != 0 {
			ps[a] += v
		}
	}
	total, grat := refDecimal(f, o.GetTotalAmount()), refDecimal(f, o.GetTotalGratuity())
	post("unsettled", total+grat)
	post("gratuity", -grat)
	lines, charges := o.GetOrderLineItems(), o.GetServiceCharges()
	if len(lines) == 0 && len(charges) == 0 {
		tax := refDecimal(f, o.GetTotalTaxAmount())
		post("sales", -(total - tax))
		post("tax", -tax)
		return ps, true
	}
	taxes := func(tax int64, parts []*v1.TaxLine, pct string) {
		rest := tax
		for _, p := range parts {
			id := p.GetTaxComponentRef().GetId()
			if id == "" || p.GetTaxAmount() == "" {
				continue // left to the line's own tax
			}
			v := refDecimal(f, p.GetTaxAmount())
			post("tax:"+id, -v)
			rest -= v
			features["tax by component"] = true
		}
		post(refRateKey(f, pct), -rest)
	}
	var sum int64
	for _, l := range lines {
		lt, tax := refDecimal(f, l.GetTotalAmount()), refDecimal(f, l.GetTotalTaxAmount())
		net := lt - tax
		category, gift := product(l.GetProductRef().GetId())
		switch {
		case gift:
			// Owed to the card's holder, refunded or not; its discount is
			// inside its net.
			post("gift_card_liability", -net)
			features["gift card line"] = true
		case lt < 0:
			post("refunds", -net)
			features["refund line"] = true
		default:
			var disc int64
			for _, d := range l.GetDiscountAllocations() {
				disc += refDecimal(f, d.GetTotalAmount())
			}
			acct := "sales"
			if category != "" {
				acct = "sales:" + category
				features["categorised line"] = true
			}
			post(acct, -(net + disc))
			post("discounts", disc)
		}
		taxes(tax, l.GetTaxes(), l.GetTaxPercentage())
		sum += lt
	}
	for _, c := range charges {
		ct, tax := refDecimal(f, c.GetTotalAmount()), refDecimal(f, c.GetTaxAmount())
		if c.GetType() == "Shipping" {
			post("shipping", -(ct - tax))
		} else {
			post("service_charges", -(ct - tax))
		}
		taxes(tax, c.GetTaxes(), c.GetTaxPercentage())
		sum += ct
	}
	diff := total - sum
	bound := refUnit(f, o.GetCurrency()) * int64(len(lines)+len(charges))
	if diff > bound || -diff > bound {
		features["order beyond the rounding bound"] = true
		return nil, false
	}
	if diff != 0 {
		features["order within the rounding bound, not exact"] = true
	}
	post("rounding", -diff)
	return ps, true
}

// ---------------------------------------------------------------------------
// Event builders.

func describe(ev *v1.CommerceEvent) string {
	switch b := ev.Body.(type) {
	case *v1.CommerceEvent_Record:
		re := b.Record
		if re.GetDeleted() {
			return fmt.Sprintf("%s delete %v/%s/%s", ev.GetCompanyId(), re.GetKind(), re.GetTransactionType(), re.GetId())
		}
		return fmt.Sprintf("%s %v/%s/%s srcMod=%d hash=%s at=%s", ev.GetCompanyId(), re.GetKind(), re.GetTransactionType(), re.GetId(),
			re.GetSourceModifiedUnixMs(), hex.EncodeToString(re.GetContentHash())[:min(8, 2*len(re.GetContentHash()))],
			time.UnixMilli(re.GetEventUnixMs()).UTC().Format(time.RFC3339))
	case *v1.CommerceEvent_CloseUpTo:
		return fmt.Sprintf("%s close-up-to %s", ev.GetCompanyId(), time.UnixMilli(b.CloseUpTo.GetUpToUnixMs()).UTC().Format(time.RFC3339))
	case *v1.CommerceEvent_ClockTick:
		return fmt.Sprintf("%s tick %s", ev.GetCompanyId(), time.UnixMilli(b.ClockTick.GetNowUnixMs()).UTC().Format(time.RFC3339))
	case *v1.CommerceEvent_Settings:
		return fmt.Sprintf("%s settings %v", ev.GetCompanyId(), b.Settings)
	}
	return ev.GetCompanyId() + " ?"
}

func settingsEvent(company, tenant string, s *v1.WindowSettings) *v1.CommerceEvent {
	return &v1.CommerceEvent{CompanyId: company, TenantId: tenant, Body: &v1.CommerceEvent_Settings{Settings: s}}
}

func closeEvent(company string, upTo int64) *v1.CommerceEvent {
	return &v1.CommerceEvent{CompanyId: company, Body: &v1.CommerceEvent_CloseUpTo{CloseUpTo: &v1.CloseUpTo{UpToUnixMs: upTo, RequestId: "close-" + strconv.FormatInt(upTo, 10)}}}
}

func tickEvent(company string, now int64) *v1.CommerceEvent {
	return &v1.CommerceEvent{CompanyId: company, Body: &v1.CommerceEvent_ClockTick{ClockTick: &v1.ClockTick{NowUnixMs: now}}}
}

func recordEvent(company, tenant string, re *v1.RecordEvent) *v1.CommerceEvent {
	return &v1.CommerceEvent{CompanyId: company, TenantId: tenant, ReceivedUnixMs: re.GetEventUnixMs() + 1000, Body: &v1.CommerceEvent_Record{Record: re}}
}

// deleteEvent is a sparse {id} delete the gateway received at received.
func deleteEvent(company, tenant string, kind v1.RecordKind, typ, id string, received int64) *v1.CommerceEvent {
	ev := recordEvent(company, tenant, &v1.RecordEvent{Kind: kind, TransactionType: typ, Id: id, Deleted: true})
	ev.ReceivedUnixMs = received
	return ev
}

// isData reports a record or a reference data version: what a merchant's
// platform pushes, in any order.
func isData(ev *v1.CommerceEvent) bool { return ev.GetRecord() != nil || ev.GetReference() != nil }
