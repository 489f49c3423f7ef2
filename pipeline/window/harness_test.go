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
	a         *Aggregator
	part      map[string]int32
	summaries []*v1.DaySummary
	log       *changelogStore
}

func newRun(part map[string]int32) *run {
	return &run{a: NewAggregator(nil), part: part, log: &changelogStore{live: map[string]int{}}}
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
	changes, sums, err := r.a.Flush()
	if err != nil {
		f.Fatalf("Flush: %v", err)
	}
	r.log.write(changes)
	r.summaries = append(r.summaries, sums...)
	r.a.Commit()
	return sums
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
	a.RestoreDone(p)
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
		for k, e := range c.records {
			if e.cur == nil {
				continue
			}
			b, _ := det.Marshal(recordProto(k, e.cur))
			lines = append(lines, fmt.Sprintf("%q rec %s %x", id, k.String(), b))
		}
		for k, e := range c.days {
			if e.cur == nil {
				continue
			}
			b, _ := det.Marshal(dayProto(k, e.cur))
			lines = append(lines, fmt.Sprintf("%q day %s %s %x", id, k.day, k.currency, b))
		}
		for p, set := range c.feesByPayment {
			for k := range set {
				lines = append(lines, fmt.Sprintf("%q fee %s -> %s", id, p, k.String()))
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

type dayCur struct{ company, day, currency string }

func (k dayCur) String() string { return k.company + "/" + k.day + "/" + k.currency }

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
		k := dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency()}
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
			CompanyID: p.GetCompanyId(), TenantID: p.GetTenantId(), Day: p.GetBusinessDay(), Currency: p.GetCurrency(),
			Revision: int(p.GetRevision()), Zone: p.GetTimeZone(), CutoffHour: int(p.GetCutoffHour()),
			Start: time.UnixMilli(p.GetStartUnixMs()).UTC(), End: time.UnixMilli(p.GetEndUnixMs()).UTC(),
			SealedBy: p.GetSealedBy(), ConfigVersion: p.GetConfigVersion(), RecordCount: int(p.GetRecordCount()),
		},
		ID: p.GetId(), Sequence: p.GetSequence(), PrevHash: p.GetPrevHash(), Hash: p.GetHash(),
	}
	for _, l := range p.GetLines() {
		s.Lines = append(s.Lines, day.Line{Account: day.Account(l.GetAccount()), Debit: parseAmount(f, l.GetDebit()), Credit: parseAmount(f, l.GetCredit())})
	}
	return s
}

// checkSummaries checks what every emitted summary must satisfy: each line
// has one positive side, debits equal credits, revisions of a day count
// 1, 2, 3, … in emission order, each company's summaries verify as one hash
// chain, and the header describes a real day of 23 to 25 hours.
func checkSummaries(f fataler, sums []*v1.DaySummary) {
	chains := map[string][]day.Summary{}
	var order []string
	revs := map[dayCur]int32{}
	for i, s := range sums {
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
		if len(s.GetLines()) == 0 {
			f.Fatalf("summary %d (%s %s rev %d) has no lines: a zero revision must not be emitted", i, s.GetBusinessDay(), s.GetCurrency(), s.GetRevision())
		}
		k := dayCur{s.GetCompanyId(), s.GetBusinessDay(), s.GetCurrency()}
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
// package doc and the architecture), not from the aggregator's code: its own
// decimal reader, its own business-day rule, its own postings.

// refSettings is what the model needs of a company's settings.
type refSettings struct {
	zone      string
	cutoff    int
	startDate string
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

// reference computes, from the final state of each record, the money of
// every (company, day, currency) per account. A delete is a version dated
// when it was received, winning ties (the aggregator's rule, written again
// here independently), so the order of arrival never matters.
func reference(f fataler, settings map[string]refSettings, evs []*v1.CommerceEvent) accountSums {
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
	out := accountSums{}
	for k, re := range final {
		s := settings[k.company]
		d := refDay(s, re.GetEventUnixMs())
		if s.startDate != "" && d < s.startDate {
			continue
		}
		switch b := re.Body.(type) {
		case *v1.RecordEvent_Order:
			o := b.Order
			dk := dayCur{k.company, d, o.GetCurrency()}
			total, tax, grat := refDecimal(f, o.GetTotalAmount()), refDecimal(f, o.GetTotalTaxAmount()), refDecimal(f, o.GetTotalGratuity())
			out.add(dk, "unsettled", total+grat)
			out.add(dk, "sales", -(total - tax))
			out.add(dk, "tax", -tax)
			out.add(dk, "gratuity", -grat)
		case *v1.RecordEvent_Payment:
			p := b.Payment
			if p.GetStatus() != "Paid" {
				continue
			}
			dk := dayCur{k.company, d, p.GetCurrency()}
			amt := refDecimal(f, p.GetAmount())
			out.add(dk, tenderName(p.GetType()), amt)
			out.add(dk, "unsettled", -amt)
		case *v1.RecordEvent_Transaction:
			tx := b.Transaction
			dk := dayCur{k.company, d, tx.GetCurrency()}
			amt := refDecimal(f, tx.GetTotalAmount())
			linked := tx.GetId()
			if ref := tx.GetTransactionSourceRef(); ref.GetType() == "Payment" && ref.GetId() != "" {
				linked = ref.GetId()
			}
			tender := tenderName("")
			if p := final[refKey{k.company, v1.RecordKind_RECORD_KIND_PAYMENT, "", linked}]; p != nil {
				tender = tenderName(p.GetPayment().GetType())
			}
			switch tx.GetType() {
			case "PaymentFee": // sent negative: the expense is its negation
				out.add(dk, "payment_fees", -amt)
				out.add(dk, tender, amt)
			case "PaymentFeeRefund":
				out.add(dk, tender, amt)
				out.add(dk, "payment_fee_refunds", -amt)
			}
		}
	}
	return out
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

func isData(ev *v1.CommerceEvent) bool { return ev.GetRecord() != nil }
