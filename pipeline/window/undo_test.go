package window

// Partial rollback, example by example: for each kind of state a record
// touches (records, days and their totals, exceptions, the fee and product
// indexes, reference data, the head, companies created in the batch), a
// fault at every step of its Apply leaves the state and the batch's output
// exactly as before it, and the same record applied afterwards ends where a
// run without the fault ends.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

type undoCase struct {
	name    string
	setup   [][]*v1.CommerceEvent // batches committed before
	pre     []*v1.CommerceEvent   // applied in the open batch before ev
	ev      *v1.CommerceEvent     // the record that fails
	minStep int                   // fault points ev must pass through at least
}

func undoCases(t *testing.T) []undoCase {
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	next := local(t, ldnZone, "2026-06-11 12:00:00")
	settings := settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, ConfigVersion: 1})
	seal10 := closeEvent(exCompany, local(t, ldnZone, "2026-06-11 00:00:00").UnixMilli())
	line := &v1.OrderLineItem{TotalAmount: "12.00", TotalTaxAmount: "2.00", TaxPercentage: "20.00"}
	other := recordEvent("co-new", "tenant-new", &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "ord-x", EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1,
		ContentHash: exHash("ord-x"), Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: "ord-x", Currency: "GBP", TotalAmount: "1.00", TotalTaxAmount: "0", TotalGratuity: "0"}},
	})
	return []undoCase{
		{
			name:  "the first record of a company new in the batch",
			setup: [][]*v1.CommerceEvent{{settings}},
			pre:   []*v1.CommerceEvent{exOrder("ord-1", at, 1, "GBP", "5.00", "0")},
			ev:    other, minStep: 3,
		},
		{
			name: "a corrected order moving to another day, out of its exception",
			setup: [][]*v1.CommerceEvent{{settings,
				exLinesOrder("ord-1", at, 1, "12.50", line), exOrder("ord-2", at, 1, "GBP", "3.00", "0")}},
			ev: exLinesOrder("ord-1", next, 2, "12.00", line), minStep: 5,
		},
		{
			name: "an order taking an exception, in a day the batch already touched",
			setup: [][]*v1.CommerceEvent{{settings,
				exOrder("ord-2", at, 1, "GBP", "3.00", "0")}},
			pre: []*v1.CommerceEvent{exOrder("ord-3", at, 1, "GBP", "4.00", "1.00")},
			ev:  exLinesOrder("ord-1", at, 1, "12.50", line), minStep: 4,
		},
		{
			name: "a new version of a record the batch already changed",
			setup: [][]*v1.CommerceEvent{{settings,
				exOrder("ord-2", at, 1, "GBP", "3.00", "0")}},
			pre: []*v1.CommerceEvent{exOrder("ord-2", at, 2, "GBP", "4.00", "0")},
			ev:  exOrder("ord-2", next, 3, "GBP", "5.00", "1.00"), minStep: 5,
		},
		{
			name: "a payment relinking its fee in a sealed day",
			setup: [][]*v1.CommerceEvent{{settings,
				exFee("fee-1", "pay-1", at, 1, "GBP", "-1.49"), exOrder("ord-2", at, 1, "GBP", "3.00", "0")}, {seal10}},
			ev: exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"), minStep: 8,
		},
		{
			name: "a sparse transaction delete removing a fee and a payment transaction",
			setup: [][]*v1.CommerceEvent{{settings,
				exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"),
				exFee("pay-1", "pay-1", at, 1, "GBP", "-0.45"),
				recordEvent(exCompany, exTenant, &v1.RecordEvent{
					Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payment", Id: "pay-1",
					EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash("tx"),
					Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{Id: "pay-1", TotalAmount: "50.00", Currency: "GBP", Type: "Payment"}},
				})}},
			ev: deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_TRANSACTION, "", "pay-1", next.UnixMilli()), minStep: 6,
		},
		{
			name: "a payment delete relinking its fee",
			setup: [][]*v1.CommerceEvent{{settings,
				exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"),
				exFee("fee-1", "pay-1", at, 1, "GBP", "-0.45")}},
			ev: deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1", next.UnixMilli()), minStep: 6,
		},
		{
			name: "a settings change moving open records to other days and locations",
			setup: [][]*v1.CommerceEvent{{settings,
				exOrderAt(t, "ord-a", "2026-06-10 12:00:00", "shop-1", "10.00"),
				exOrderAt(t, "ord-b", "2026-06-11 02:00:00", "shop-1", "4.00"),
				exOrderAt(t, "ord-c", "2026-06-11 03:00:00", "", "3.00")}},
			ev: settingsEvent(exCompany, exTenant, &v1.WindowSettings{
				TimeZone: ldnZone, CutoffHour: 4, GroupByLocation: true, ConfigVersion: 2,
			}), minStep: 8,
		},
		{
			name: "a product's category change recategorising its orders",
			setup: [][]*v1.CommerceEvent{{settings,
				exProduct("p1", at.Add(-time.Hour), "books", false),
				exOrderOf("ord-1", at, 1, [2]string{"p1", "10.00"}),
				exOrderOf("ord-2", at.Add(time.Minute), 1, [2]string{"p1", "5.00"})}},
			ev: exProduct("p1", at.Add(-30*time.Minute), "games", false), minStep: 4,
		},
		{
			name: "a product first seen, building the product index",
			setup: [][]*v1.CommerceEvent{{settings,
				exOrderOf("ord-1", at, 1, [2]string{"p1", "10.00"})}},
			ev: exProduct("p1", at.Add(-time.Hour), "books", false), minStep: 3,
		},
	}
}

// shape counts what of each company's state the open batch holds, empty
// entries included, which dumpState leaves out: the records and days the
// batch touched (read ones are only a cache of the store), the live days,
// the references and the exception sets. An entry a rollback should have
// let go of would stay in the batch, and be written at its Commit.
func shape(a *Aggregator) string {
	var lines []string
	for id, c := range a.companies {
		recs, days := 0, 0
		for _, e := range c.records {
			if e.gen == a.gen {
				recs++
			}
		}
		for _, e := range c.days {
			if e.gen == a.gen || live(e.cur) {
				days++
			}
		}
		lines = append(lines, fmt.Sprintf("\n%q holds %d records, %d days, %d references, %d exception sets",
			id, recs, days, len(c.refs), len(c.excs)))
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

func replay(t *testing.T, r *run, c undoCase) {
	t.Helper()
	for _, b := range c.setup {
		r.apply(t, b...)
		r.commit(t)
	}
	r.apply(t, c.pre...)
}

// finish applies ev, commits, closes every day and renders what the run
// emitted and holds.
func finish(t *testing.T, r *run, ev *v1.CommerceEvent) string {
	t.Helper()
	r.apply(t, ev)
	r.commit(t)
	r.apply(t, closeEvent(exCompany, local(t, ldnZone, "2027-01-01 00:00:00").UnixMilli()),
		closeEvent("co-new", local(t, ldnZone, "2027-01-01 00:00:00").UnixMilli()))
	r.commit(t)
	checkSummaries(t, r.summaries)
	var b strings.Builder
	for _, s := range r.summaries {
		fmt.Fprintf(&b, "%s %s %s rev %d by %s seq %d lines %v exceptions %v\n", s.GetCompanyId(), s.GetBusinessDay(), s.GetLocation(),
			s.GetRevision(), s.GetSealedBy(), s.GetSequence(), netLines(t, s), exceptionIDs(s))
	}
	b.WriteString(dumpState(r.a))
	log := r.log.state()
	keys := slices.Sorted(maps.Keys(log))
	for _, k := range keys {
		fmt.Fprintf(&b, "\nchangelog %q %x", k, log[k])
	}
	return b.String()
}

// A fault at each step of a record's Apply, an error or a panic, puts back
// every kind of state the record had touched, and the batch's output; the
// record applied again afterwards gives what a run without the fault gives.
func TestRollbackRestoresEveryKindOfTouchedState(t *testing.T) {
	for _, c := range undoCases(t) {
		t.Run(c.name, func(t *testing.T) {
			clean := newRun(t, map[string]int32{exCompany: 0, "co-new": 0})
			replay(t, clean, c)
			want := finish(t, clean, c.ev)

			steps := 0
			for at := 1; ; at++ {
				in := &injector{at: at, panic: at%2 == 0}
				r := newRun(t, map[string]int32{exCompany: 0, "co-new": 0}, WithFaultHook(in.hook))
				replay(t, r, c)
				before, beforeOut := dumpState(r.a)+shape(r.a), pending(t, r.a)
				in.target = c.ev
				err := r.a.Apply(0, c.ev)
				in.target = nil
				if in.fired == "" {
					if err != nil {
						t.Fatalf("refused with no fault: %v", err)
					}
					break
				}
				steps++
				if err == nil {
					// A fault while sealing parks the day instead; the
					// refused-record property covers that path.
					continue
				}
				if !errors.Is(err, errInjected) && !strings.Contains(err.Error(), "injected panic") {
					t.Fatalf("fault at %s (step %d): refused with %v, not the injected fault", in.fired, at, err)
				}
				if d := firstDiff(before, dumpState(r.a)+shape(r.a)); d != "" {
					t.Fatalf("fault at %s (step %d) left the state changed: %s", in.fired, at, d)
				}
				if d := firstDiff(beforeOut, pending(t, r.a)); d != "" {
					t.Fatalf("fault at %s (step %d) left the batch's output changed: %s", in.fired, at, d)
				}
				if got := finish(t, r, c.ev); got != want {
					t.Fatalf("after a fault at %s (step %d), applying the record again: %s", in.fired, at, firstDiff(want, got))
				}
			}
			if steps < c.minStep {
				t.Errorf("the record passed %d fault points, want at least %d: the case no longer exercises what it names", steps, c.minStep)
			}
		})
	}
}

// Abort puts back everything the open batch changed, whatever it touched,
// and the batch applied again gives what it gives without the abort.
func TestAbortRestoresTheLastCommit(t *testing.T) {
	for _, c := range undoCases(t) {
		t.Run(c.name, func(t *testing.T) {
			clean := newRun(t, map[string]int32{exCompany: 0, "co-new": 0})
			replay(t, clean, c)
			want := finish(t, clean, c.ev)

			r := newRun(t, map[string]int32{exCompany: 0, "co-new": 0})
			for _, b := range c.setup {
				r.apply(t, b...)
				r.commit(t)
			}
			before := dumpState(r.a) + shape(r.a)
			r.apply(t, c.pre...)
			r.apply(t, c.ev)
			r.a.Abort()
			if d := firstDiff(before, dumpState(r.a)+shape(r.a)); d != "" {
				t.Fatalf("Abort left the state changed: %s", d)
			}
			if out := pending(t, r.a); out != "" {
				t.Fatalf("Abort left output in the batch: %s", out)
			}
			r.apply(t, c.pre...)
			if got := finish(t, r, c.ev); got != want {
				t.Fatalf("the batch applied again after Abort: %s", firstDiff(want, got))
			}
		})
	}
}

// Abort forgets when the batch worked out the next seal was due: the days
// it removed come back, and the earliest of them seals as soon as the
// watermark passes its end.
func TestAbortForgetsTheNextSealTime(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	e.push(exOrder("ord-1", local(t, ldnZone, "2026-06-10 12:00:00"), 1, "GBP", "10.00", "0"))
	// The batch empties 10 June and moves the watermark into 11 June: the
	// next seal is then due at the end of 11 June.
	e.r.apply(t,
		deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_ORDER, "", "ord-1", local(t, ldnZone, "2026-06-10 13:00:00").UnixMilli()),
		exOrder("ord-2", local(t, ldnZone, "2026-06-11 01:00:00"), 1, "GBP", "2.00", "0"))
	e.r.a.Abort()
	sums := e.push(exOrder("ord-3", local(t, ldnZone, "2026-06-11 00:30:00"), 1, "GBP", "3.00", "0"))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByWatermark, map[string]string{"unsettled": "10.00", "sales": "-10.00"})
}
