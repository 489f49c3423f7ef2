package window

// Property tests of the Aggregator over generated event streams (gen_test.go).
// Each runs rapid's default number of checks (100; -rapid.checks=N for more).

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/plan"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// straight runs the whole stream plus the final close-up-to, one batch.
func straight(t *rapid.T, s *stream, evs []*v1.CommerceEvent) *run {
	r := newRun(t, s.partitions())
	r.feed(t, s.closed(evs), nil)
	return r
}

// Every emitted summary balances line by line, revisions of a day are
// numbered 1, 2, 3, … and each company's summaries verify as a hash chain
// (day.Verify over the summaries converted back to the domain type).
func TestPropertySummariesBalanceAndChain(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		r := newRun(t, s.partitions())
		r.feed(t, s.closed(s.events), genBatchSizes(t, "batches"))
		checkSummaries(t, r.summaries)
	})
}

// After a final close-up-to, the revisions of each (company, day, currency)
// add up, per account, to what the final state of that day's records says
// (reference model), whatever order the data records arrived in.
func TestPropertyRevisionsSumToFinalStateInAnyOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		want := referenceState(t, s.refSettings(), s.events)
		for i, evs := range [][]*v1.CommerceEvent{s.events, permuteData(t, s)} {
			r := newRun(t, s.partitions())
			r.feed(t, s.closed(evs), genBatchSizes(t, "batches"))
			checkSummaries(t, r.summaries)
			if d := diffSums(want.sums, sumRevisions(t, r.summaries)); d != "" {
				t.Fatalf("order %d: revisions do not sum to the reference:\n%s", i, d)
			}
			checkLastExceptions(t, want.exceptions, r.summaries)
			checkContributions(t, want, r)
		}
	})
}

// After a final close-up-to, the last revision of each (company, day,
// currency) names as exceptions exactly the orders of that day whose final
// version's lines and service charges miss its total by more than one minor
// unit each (reference model), whatever the arrival order and batching: an
// exception corrected by a later version leaves the day's last revision.
func TestPropertyLastRevisionExceptionsAreOutOfBoundOrders(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		want := referenceState(t, s.refSettings(), s.events)
		r := newRun(t, s.partitions())
		r.feed(t, s.closed(permuteData(t, s)), genBatchSizes(t, "batches"))
		checkSummaries(t, r.summaries)
		checkLastExceptions(t, want.exceptions, r.summaries)
		checkListedExceptions(t, want.exceptions, r.exceptions)
	})
}

// checkListedExceptions requires ledger.exceptions, compacted, to list
// exactly the out-of-bound orders of each day: one record each, and a
// tombstone for every one a later version corrected.
func checkListedExceptions(t *rapid.T, want map[dayCur][]string, got exceptionStore) {
	days := map[dayCur]bool{}
	for _, e := range got {
		days[dayCur{e.GetCompanyId(), e.GetBusinessDay(), e.GetCurrency(), e.GetLocation()}] = true
	}
	for k := range want {
		days[k] = true
	}
	for k := range days {
		if ids := got.ofDay(k); !slices.Equal(ids, want[k]) {
			t.Fatalf("ledger.exceptions lists %v for %s, want %v", ids, k, want[k])
		}
	}
}

// Each revision brings its day up to the state of the records applied so
// far: when a revision is emitted, the revisions of that day up to it sum,
// per account, to the reference model of the stream's prefix, and it names
// the prefix's out-of-bound orders of that day, and it counts the prefix's
// records of that day, with money or without. Events are applied one
// batch each, so the prefix of every summary is known.
func TestPropertyEveryRevisionMatchesTheStateSoFar(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.events
		if rapid.Bool().Draw(t, "permute?") {
			evs = permuteData(t, s)
		}
		checkEveryRevision(t, s, s.closed(evs))
	})
}

// checkEveryRevision applies evs one batch each and checks every revision
// against the reference model of the prefix that emitted it.
func checkEveryRevision(t *rapid.T, s *stream, evs []*v1.CommerceEvent) {
	settings := s.refSettings()
	r := newRun(t, s.partitions())
	posted := accountSums{}
	for i, ev := range evs {
		r.apply(t, ev)
		sums := r.commit(t)
		if len(sums) == 0 {
			continue
		}
		want := referenceState(t, settings, evs[:i+1])
		for _, sm := range sums {
			k := dayCur{sm.GetCompanyId(), sm.GetBusinessDay(), sm.GetCurrency(), sm.GetLocation()}
			for a, v := range sumRevisions(t, []*v1.DaySummary{sm})[k] {
				posted.add(k, a, v)
			}
			if d := diffSums(accountSums{k: want.sums[k]}, accountSums{k: posted[k]}); d != "" {
				t.Fatalf("after event %d (%s), %s revision %d leaves the day at other than the records so far:\n%s", i, describe(ev), k, sm.GetRevision(), d)
			}
			if got := exceptionIDs(sm); !slices.Equal(got, want.exceptions[k]) {
				t.Fatalf("after event %d (%s), %s revision %d names exceptions %v; the records so far have %v", i, describe(ev), k, sm.GetRevision(), got, want.exceptions[k])
			}
			if got := int(sm.GetRecordCount()); got != want.records[k] {
				t.Fatalf("after event %d (%s), %s revision %d counts %d records; the records so far have %d", i, describe(ev), k, sm.GetRevision(), got, want.records[k])
			}
			// ledger.contributions, written in the same batch, agrees.
			if d := diffSums(accountSums{k: want.sums[k]}, accountSums{k: r.contribs[k]}); d != "" {
				t.Fatalf("after event %d (%s), %s: the contributions so far add up to other than the records so far:\n%s", i, describe(ev), k, d)
			}
			if got := r.records[k]; got != want.records[k] {
				t.Fatalf("after event %d (%s), %s: the contributions so far count %d records; the records so far are %d", i, describe(ev), k, got, want.records[k])
			}
		}
	}
	checkSummaries(t, r.summaries)
	checkContributions(t, referenceState(t, settings, evs), r)
}

// checkContributions requires ledger.contributions, added up, to equal the
// reference model's final state of every day, sealed or not, and to count
// its records.
func checkContributions(t *rapid.T, want *refResult, r *run) {
	if d := diffSums(want.sums, r.contribs); d != "" {
		t.Fatalf("the contributions add up to other than the records:\n%s", d)
	}
	if !maps.Equal(want.records, r.records) {
		t.Fatalf("the contributions count records %v; the records are %v", r.records, want.records)
	}
}

// Re-applying every data record after the final close adds no revision and
// changes no state: duplicates never count twice.
func TestPropertyDuplicatesNeverCountTwice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		r := straight(t, s, s.events)
		before := dumpState(r.a)
		again := s.data()
		if rapid.Bool().Draw(t, "shuffle replay?") {
			again = rapid.Permutation(again).Draw(t, "replay order")
		}
		r.apply(t, again...)
		out, err := r.a.Flush()
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Summaries) != 0 {
			t.Fatalf("re-applied records emitted %d summaries, first %v", len(out.Summaries), out.Summaries[0])
		}
		if len(out.Changes) != 0 || len(out.Exceptions) != 0 {
			t.Fatalf("re-applied records wrote %d changelog entries and %d exceptions", len(out.Changes), len(out.Exceptions))
		}
		r.a.Commit()
		r.apply(t, s.finalClose()...)
		if got := r.commit(t); len(got) != 0 {
			t.Fatalf("a second final close emitted %d summaries", len(got))
		}
		if d := firstDiff(before, dumpState(r.a)); d != "" {
			t.Fatalf("state changed by duplicates: %s", d)
		}
	})
}

// The same input gives byte-identical summaries (ids, hashes, lines) and
// the same compacted state in a fresh aggregator, however it is cut into
// Flush+Commit batches.
func TestPropertyDeterministicAcrossBatching(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		one := newRun(t, s.partitions())
		one.feed(t, evs, nil)
		many := newRun(t, s.partitions())
		many.feed(t, evs, genBatchSizes(t, "batches"))
		sameSummaries(t, "one batch vs many", one.summaries, many.summaries)
		if d := diffStates(one.log.state(), many.log.state()); d != "" {
			t.Fatalf("compacted changelogs differ:\n%s", d)
		}
		if d := firstDiff(dumpState(one.a), dumpState(many.a)); d != "" {
			t.Fatalf("states differ: %s", d)
		}
	})
}

// Restarting from the compacted changelog at any batch boundary (a fresh
// process restoring every partition, or a rebalance that drops and restores
// one partition), then continuing with the rest of the stream, gives the
// same summaries as the uninterrupted run. At each restart the restored
// state equals the state it replaces.
func TestPropertyRestoreFromChangelog(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		want := newRun(t, s.partitions())
		want.feed(t, evs, nil)

		r := newRun(t, s.partitions())
		sizes := genBatchSizes(t, "batches")
		for i, b := 0, 0; i < len(evs); b++ {
			j := min(i+sizes[b%len(sizes)], len(evs))
			r.apply(t, evs[i:j]...)
			r.commit(t)
			i = j
			if !rapid.Bool().Draw(t, "restart?") {
				continue
			}
			tombstones := rapid.Bool().Draw(t, "tombstones still in the log?")
			parts := r.log.partitions()
			if len(parts) == 0 {
				continue
			}
			if rapid.Bool().Draw(t, "whole process?") {
				before := dumpState(r.a)
				// Small batches make the restore write its entries in
				// many batches, as a long changelog does.
				bound := rapid.IntRange(1, 1<<12).Draw(t, "restore batch bytes")
				a := testAggregator(t, WithStore(openTestStore(t, withRestoreBatchBytes(bound))))
				for _, p := range parts {
					restorePartition(t, a, r.log, p, tombstones)
				}
				if d := firstDiff(before, dumpState(a)); d != "" {
					t.Fatalf("restore after event %d: state differs: %s", i, d)
				}
				r.a = a
			} else {
				p := rapid.SampledFrom(parts).Draw(t, "rebalanced partition")
				before := dumpState(r.a)
				r.a.Drop(p)
				restorePartition(t, r.a, r.log, p, tombstones)
				if d := firstDiff(before, dumpState(r.a)); d != "" {
					t.Fatalf("rebalance of partition %d after event %d: state differs: %s", p, i, d)
				}
			}
		}
		r.commit(t)
		sameSummaries(t, "restored vs uninterrupted", want.summaries, r.summaries)
	})
}

// Applying a batch, then Abort (with or without a Flush first), then
// applying the same batch again and committing gives the same summaries and
// state as applying it once; Abort itself restores the exact state of the
// last commit.
func TestPropertyAbortThenRetry(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		evs := s.closed(s.events)
		want := newRun(t, s.partitions())
		sizes := genBatchSizes(t, "batches")
		want.feed(t, evs, sizes)

		r := newRun(t, s.partitions())
		for i, b := 0, 0; i < len(evs); b++ {
			j := min(i+sizes[b%len(sizes)], len(evs))
			if rapid.Bool().Draw(t, "abort this batch first?") {
				before := dumpState(r.a)
				r.apply(t, evs[i:j]...)
				if rapid.Bool().Draw(t, "flush before abort?") {
					if _, err := r.a.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				r.a.Abort()
				if d := firstDiff(before, dumpState(r.a)); d != "" {
					t.Fatalf("Abort of events %d..%d left state changed: %s", i, j, d)
				}
			}
			r.apply(t, evs[i:j]...)
			r.commit(t)
			i = j
		}
		r.commit(t)
		sameSummaries(t, "with aborts vs without", want.summaries, r.summaries)
		if d := diffSums(want.contribs, r.contribs); d != "" {
			t.Fatalf("contributions with aborts vs without:\n%s", d)
		}
		if d := diffStates(want.log.state(), r.log.state()); d != "" {
			t.Fatalf("compacted changelogs differ:\n%s", d)
		}
	})
}

// Long streams (up to 6× the records per company, ~250 events) with every
// property checked on each: balance and chain, the reference sums for two
// arrival orders, determinism across batching, restore at random points,
// abort-and-retry, duplicates after the final close, and every revision
// against the state that emitted it. Skipped with -short.
func TestPropertyLongStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("long streams")
	}
	rapid.Check(t, func(t *rapid.T) {
		s := genStreamScaled(t, 6)
		evs := s.closed(s.events)
		sizes := genBatchSizes(t, "batches")
		base := newRun(t, s.partitions())
		base.feed(t, evs, nil)
		checkSummaries(t, base.summaries)
		want := referenceState(t, s.refSettings(), s.events)
		if d := diffSums(want.sums, sumRevisions(t, base.summaries)); d != "" {
			t.Fatalf("revisions do not sum to the reference:\n%s", d)
		}
		checkLastExceptions(t, want.exceptions, base.summaries)
		other := newRun(t, s.partitions())
		other.feed(t, s.closed(permuteData(t, s)), sizes)
		checkSummaries(t, other.summaries)
		if d := diffSums(want.sums, sumRevisions(t, other.summaries)); d != "" {
			t.Fatalf("permuted: revisions do not sum to the reference:\n%s", d)
		}
		checkLastExceptions(t, want.exceptions, other.summaries)

		// One run that is batched, aborts and retries some batches, and
		// restarts from its changelog at some boundaries.
		r := newRun(t, s.partitions())
		for i, b := 0, 0; i < len(evs); b++ {
			j := min(i+sizes[b%len(sizes)], len(evs))
			if rapid.IntRange(0, 3).Draw(t, "abort?") == 0 {
				r.apply(t, evs[i:j]...)
				r.a.Abort()
			}
			r.apply(t, evs[i:j]...)
			r.commit(t)
			i = j
			if rapid.IntRange(0, 3).Draw(t, "restart?") == 0 {
				a := testAggregator(t)
				for _, p := range r.log.partitions() {
					restorePartition(t, a, r.log, p, rapid.Bool().Draw(t, "tombstones?"))
				}
				r.a = a
			}
		}
		r.commit(t)
		sameSummaries(t, "batched, aborted and restored vs straight", base.summaries, r.summaries)

		r.apply(t, s.data()...)
		if sums := r.commit(t); len(sums) != 0 {
			t.Fatalf("duplicates emitted %d summaries", len(sums))
		}

		// Every revision, one event per batch, against the reference of
		// the prefix that emitted it.
		checkEveryRevision(t, s, s.closed(permuteData(t, s)))
	})
}

// anyAccount maps every configuration slot to an account of its own, except
// the refund, discount and service-charge slots, which fall back to the
// sales account as a merchant who nets them there would leave them.
type anyAccount struct{}

func (anyAccount) Account(section, key string) (mapping.Binding, bool) {
	switch key {
	case "refund", "discounts", "serviceCharges", "shipping":
		return mapping.Binding{}, false
	}
	return mapping.Binding{AccountID: section + "/" + key}, true
}

// Every summary the aggregator emits from random streams of every record
// type, with updates, deletes, status changes and any arrival order, plans
// in invoice mode to documents that move on each merchant account exactly
// what its journal moves, and whose receivable and payable net to zero.
func TestPropertyInvoiceModeMovesWhatJournalModeMoves(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStream(t)
		r := newRun(t, s.partitions())
		r.feed(t, s.closed(permuteData(t, s)), genBatchSizes(t, "batches"))
		opts := mapping.InvoiceOptions{Customer: "provider", Supplier: "provider"}
		for _, ws := range r.summaries {
			ds, err := plan.DomainSummary(ws)
			if err != nil {
				t.Fatal(err)
			}
			journal, err := mapping.Journal(ds, anyAccount{})
			if err != nil {
				t.Fatalf("Journal(%s): %v", ds.ID, err)
			}
			docs, err := mapping.Invoices(ds, anyAccount{}, opts)
			if err != nil {
				t.Fatalf("Invoices(%s): %v", ds.ID, err)
			}
			moved := map[string]money.Amount{}
			for _, d := range journal {
				for _, l := range d.Document.Movements() {
					moved[l.Account.AccountID] += l.Amount
				}
			}
			for _, d := range append(docs, journal...) {
				// Read back from its wire form (as the reconciliation
				// sink reads the outbox), a document moves the same.
				wire, err := plan.DomainDocument(plan.DocumentProto(d.Document, func(string) bool { return false }))
				if err != nil {
					t.Fatalf("DomainDocument(%s): %v", d.Document.Type, err)
				}
				want, got := d.Document.Movements(), wire.Movements()
				if len(want) != len(got) {
					t.Fatalf("%s read back moves %d lines; it moved %d", d.Document.Type, len(got), len(want))
				}
				for i := range want {
					if want[i].Account.AccountID != got[i].Account.AccountID || want[i].Semantic != got[i].Semantic || want[i].Amount != got[i].Amount {
						t.Fatalf("%s read back moves %+v; it moved %+v", d.Document.Type, got[i], want[i])
					}
				}
			}
			for _, d := range docs {
				for _, l := range d.Document.Movements() {
					moved[l.Account.AccountID] -= l.Amount
				}
			}
			for acct, diff := range moved {
				if diff != 0 {
					t.Fatalf("summary %s (%s %s rev %d): journal and invoice modes differ by %s on %s",
						ds.ID, ds.Day, ds.Currency, ds.Revision, diff, acct)
				}
			}
		}
	})
}
