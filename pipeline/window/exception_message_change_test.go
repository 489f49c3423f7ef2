package window

import (
	"strings"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// stExceptionMessages lists a summary's exceptions as "id: message".
func stExceptionMessages(s *v1.DaySummary) []string {
	var out []string
	for _, e := range s.GetExceptions() {
		out = append(out, e.GetRecordId()+": "+e.GetMessage())
	}
	return out
}

// stStoredExceptions lists what ledger.exceptions holds, as "id: message".
func stStoredExceptions(r *run) []string {
	var out []string
	for _, e := range r.exceptions {
		out = append(out, e.GetRecordId()+": "+e.GetMessage())
	}
	return out
}

// stPushOut applies evs as one batch like ex.push, but returns the whole
// output of the batch, exception records included.
func stPushOut(e *ex, evs ...*v1.CommerceEvent) Output {
	e.t.Helper()
	e.r.apply(e.t, evs...)
	out, err := e.r.a.Flush()
	if err != nil {
		e.t.Fatalf("Flush: %v", err)
	}
	e.r.log.write(out.Changes)
	e.r.summaries = append(e.r.summaries, out.Summaries...)
	e.r.exceptions.write(out.Exceptions)
	e.r.a.Commit()
	checkSummaries(e.t, e.r.summaries)
	return out
}

// An order still out of bounds but by another amount keeps its exception
// with a new message. With no money moving, the changed message alone makes
// a revision, which names the new message; ledger.exceptions gets exactly one
// record, with the new message, and the day's posted exception takes it: a
// later revision for other money posts nothing again, and a restored
// aggregator agrees.
func TestDayExceptionWithANewMessageIsPostedOnceWithTheNextRevision(t *testing.T) {
	const ldn = "Europe/London"
	at := local(t, ldn, "2026-06-10 12:00:00")
	line := &v1.OrderLineItem{TotalAmount: "12.00", TotalTaxAmount: "2.00", TaxPercentage: "20.00"}
	e := newEx(t, ldn, 0, 0)
	e.push(exLinesOrder("ord-1", at, 1, "12.50", line))
	out := stPushOut(e, far(at))
	if len(out.Summaries) != 1 || len(out.Exceptions) != 1 {
		t.Fatalf("revision 1: %d summaries and %d exception records, want 1 and 1", len(out.Summaries), len(out.Exceptions))
	}
	first := stExceptionMessages(out.Summaries[0])
	if len(first) != 1 || !strings.HasPrefix(first[0], "ord-1: ") {
		t.Fatalf("revision 1 names %v, want ord-1 alone", first)
	}

	e.push(exLinesOrder("ord-1", at, 2, "12.80", line))
	out = stPushOut(e, far(at))
	if len(out.Summaries) != 1 {
		t.Fatalf("a changed exception message alone emitted %d summaries, want one revision", len(out.Summaries))
	}
	wantSummary(t, out.Summaries[0], "2026-06-10", "GBP", 2, ByCloseUpTo, map[string]string{})
	second := stExceptionMessages(out.Summaries[0])
	if len(second) != 1 || !strings.HasPrefix(second[0], "ord-1: ") || second[0] == first[0] {
		t.Fatalf("revision 2 names %v, want ord-1 with a message other than %q", second, first[0])
	}
	if len(out.Exceptions) != 1 || out.Exceptions[0].Value == nil {
		t.Fatalf("revision 2 wrote %d exception records, want the changed one alone", len(out.Exceptions))
	}
	if got := stStoredExceptions(e.r); len(got) != 1 || got[0] != second[0] {
		t.Fatalf("ledger.exceptions holds %v, want [%s]", got, second[0])
	}

	// Money moving on the same day: revision 3 names the same exception and
	// writes no exception record, the message being posted already.
	out = stPushOut(e, exPayment("pay-1", at, 1, "GBP", "12.00", "Card", "Paid"), far(at))
	if len(out.Summaries) != 1 {
		t.Fatalf("a payment emitted %d summaries, want one revision", len(out.Summaries))
	}
	wantSummary(t, out.Summaries[0], "2026-06-10", "GBP", 3, ByCloseUpTo, map[string]string{"tender:Card": "12.00", "unsettled": "-12.00"})
	if got := stExceptionMessages(out.Summaries[0]); len(got) != 1 || got[0] != second[0] {
		t.Errorf("revision 3 names %v, want [%s]", got, second[0])
	}
	if len(out.Exceptions) != 0 {
		t.Errorf("revision 3 wrote %d exception records for an exception posted already, want none", len(out.Exceptions))
	}

	// The changelog holds the posted message too: restored, the aggregator
	// is the live one.
	b := testAggregator(t)
	restorePartition(t, b, e.r.log, 0, true)
	if live, restored := dumpState(e.r.a), dumpState(b); live != restored {
		t.Errorf("restored state differs from the live one: %s", firstDiff(live, restored))
	}
}
