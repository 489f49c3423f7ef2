package reconcile

import (
	"strings"
	"testing"

	"github.com/commercesync/commercesync/ledger/money"
)

func TestReportJudgesEachDayBySourcesAndDocuments(t *testing.T) {
	acct := func(day, a string, c, l, p money.Amount) DayAccount {
		return DayAccount{Day: day, Currency: "USD", Account: a, Commerce: c, Ledger: l, Platform: p}
	}
	accounts := []DayAccount{
		// matched: every source agrees, platform confirmed.
		acct("2026-03-01", "sales", -1000, -1000, -1000), acct("2026-03-01", "tender:Card", 1000, 1000, 1000),
		acct("2026-03-01", "unsettled", 0, 0, 0), // dropped: nothing on it
		// pending: a late record the ledger has not caught up with.
		acct("2026-03-02", "sales", -1500, -1000, -1000),
		// mismatch: the platform holds less than the ledger.
		acct("2026-03-03", "sales", -1000, -1000, -863),
		// unsynced: a document failed.
		acct("2026-03-04", "sales", -1000, -1000, 0),
		// unsynced: a document waits.
		acct("2026-03-05", "sales", -1000, -1000, 0),
		// open: no revision yet.
		acct("2026-03-06", "sales", -1000, 0, 0),
		// sealed, nothing on the platform.
		acct("2026-03-07", "sales", -1000, -1000, 0),
	}
	facts := []DayFacts{
		{Day: "2026-03-01", Currency: "USD", Records: 2, LedgerRecords: 2, Revisions: 1, Confirmed: 1},
		{Day: "2026-03-02", Currency: "USD", Records: 3, LedgerRecords: 2, Revisions: 1, Confirmed: 1},
		{Day: "2026-03-03", Currency: "USD", Records: 1, LedgerRecords: 1, Revisions: 1, Confirmed: 1},
		{Day: "2026-03-04", Currency: "USD", Records: 1, LedgerRecords: 1, Revisions: 1, Failed: 1, LastError: "Account code '200' has been archived"},
		{Day: "2026-03-05", Currency: "USD", Records: 1, LedgerRecords: 1, Revisions: 1, Waiting: 1},
		{Day: "2026-03-06", Currency: "USD", Records: 1},
		{Day: "2026-03-07", Currency: "USD", Records: 1, LedgerRecords: 1, Revisions: 1},
	}
	days := Report(accounts, facts)
	want := []struct {
		status Status
		reason string
		lines  int
	}{
		{Matched, "", 2},
		{Pending, "the ledger's revision 1 counts 2 records; the day holds 3", 1},
		{Mismatch, "move other than the ledger on 1 account(s)", 1},
		{Unsynced, "1 document(s) refused by the platform: Account code '200' has been archived", 1},
		{Unsynced, "1 document(s) not yet confirmed by the platform", 1},
		{Pending, "the day is open: 1 records, not sealed yet", 1},
		{Unsynced, "nothing of the day is on the platform yet", 1},
	}
	if len(days) != len(want) {
		t.Fatalf("%d days; want %d", len(days), len(want))
	}
	for i, w := range want {
		d := days[i]
		if d.Status != w.status || !strings.Contains(d.Reason, w.reason) || (w.reason == "" && d.Reason != "") || len(d.Lines) != w.lines {
			t.Errorf("%s: %s %q with %d lines; want %s %q with %d", d.Day, d.Status, d.Reason, len(d.Lines), w.status, w.reason, w.lines)
		}
	}
	// Lines read in their category's sign, sales first, then tenders.
	if l := days[0].Lines; l[0].Account != "sales" || l[0].Ledger != 1000 || l[1].Account != "tender:Card" || l[1].Ledger != 1000 {
		t.Errorf("day 1 lines %+v; want sales 0.10 then tender:Card 0.10, both positive", l)
	}
	if l := days[2].Lines[0]; l.Status != Mismatch || l.Difference != 137 || l.Platform != 863 {
		t.Errorf("the mismatched line %+v; want 0.0137 short on the platform", l)
	}
	if l := days[1].Lines[0]; l.Status != Pending || l.Difference != 500 {
		t.Errorf("the pending line %+v; want the records 0.05 ahead", l)
	}
}

func TestReportOrdersDaysAndKeepsDaysWithFactsAlone(t *testing.T) {
	days := Report(nil, []DayFacts{
		{Day: "2026-03-02", Currency: "USD"}, {Day: "2026-03-01", Currency: "USD", Location: "b"},
		{Day: "2026-03-01", Currency: "USD", Location: "a"}, {Day: "2026-03-01", Currency: "EUR"},
	})
	var got []string
	for _, d := range days {
		got = append(got, d.Day+"/"+d.Currency+"/"+d.Location+"/"+string(d.Status))
	}
	want := "2026-03-01/EUR//matched 2026-03-01/USD/a/matched 2026-03-01/USD/b/matched 2026-03-02/USD//matched"
	if strings.Join(got, " ") != want {
		t.Fatalf("days %v; want %s", got, want)
	}
}

func TestCheckRange(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"2026-03-01", "2026-03-01", ""},
		{"2025-03-02", "2026-03-02", ""}, // 366 days
		{"2025-03-01", "2026-03-02", "spans 367 days; the limit is 366"},
		{"2026-03-02", "2026-03-01", "to 2026-03-01 is before from 2026-03-02"},
		{"", "2026-03-01", `from "": send a date as YYYY-MM-DD`},
		{"2026-03-01", "03/02/2026", `to "03/02/2026": send a date as YYYY-MM-DD`},
	} {
		err := CheckRange(c.from, c.to)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckRange(%q, %q) = %v; want %q", c.from, c.to, err, c.want)
		}
	}
}

func TestUnexplainedPairsOffOldestFirst(t *testing.T) {
	got := Unexplained([]RecordBalance{
		{RecordID: "o-3", Day: "2026-03-03", Amount: 500},
		{RecordID: "o-1", Day: "2026-03-01", Amount: 500},
		{RecordID: "p-2", Day: "2026-03-02", Amount: -500},
		{RecordID: "o-2", Day: "2026-03-01", Amount: 500},
		{RecordID: "zero", Day: "2026-03-01", Amount: 0},
	})
	if len(got) != 2 || got[0].RecordID != "o-2" || got[1].RecordID != "o-3" {
		t.Fatalf("unexplained %+v; want o-2 and o-3 (o-1, the oldest, pairs with p-2)", got)
	}
	got = Unexplained([]RecordBalance{{RecordID: "r-1", Amount: -700}, {RecordID: "r-2", Amount: -700}, {RecordID: "o-1", Amount: 700}})
	if len(got) != 1 || got[0].RecordID != "r-2" {
		t.Fatalf("unexplained %+v; want r-2", got)
	}
}

func TestUnsettledMessageSaysWhatTheRecordIs(t *testing.T) {
	for _, c := range []struct {
		r    RecordBalance
		want string
	}{
		{RecordBalance{Kind: "order", Amount: 123400}, "order of 12.34 with no payment that settles it"},
		{RecordBalance{Kind: "order", Amount: -123400}, "refund order of 12.34 with no refund payment"},
		{RecordBalance{Kind: "payment", Amount: -123400}, "payment of 12.34 with no order that it pays for"},
		{RecordBalance{Kind: "payment", Amount: 123400}, "refund of 12.34 with no refund order to match it"},
	} {
		if got := UnsettledMessage(c.r); !strings.Contains(got, c.want) {
			t.Errorf("UnsettledMessage(%+v) = %q; want %q", c.r, got, c.want)
		}
	}
}

func TestSortExceptionsByKindCompanyAndDay(t *testing.T) {
	es := []Exception{
		{Kind: UnsettledBalance, CompanyID: "a", Day: "2026-03-01"},
		{Kind: QuarantinedRecord, CompanyID: "b"},
		{Kind: LateRevision, CompanyID: "a", Day: "2026-03-02", Revision: 3},
		{Kind: LateRevision, CompanyID: "a", Day: "2026-03-02", Revision: 2},
		{Kind: FailedDocument, CompanyID: "a", DocumentID: "d2"},
		{Kind: FailedDocument, CompanyID: "a", DocumentID: "d1"},
		{Kind: DayExceptions, CompanyID: "a", Day: "2026-03-01", Currency: "USD"},
		{Kind: DayExceptions, CompanyID: "a", Day: "2026-03-01", Currency: "EUR"},
		{Kind: QuarantinedRecord, CompanyID: "a", RecordID: "r2"},
		{Kind: QuarantinedRecord, CompanyID: "a", RecordID: "r1"},
		{Kind: DayExceptions, CompanyID: "a", Day: "2026-03-01", Currency: "EUR", Location: "x"},
	}
	SortExceptions(es)
	var got []string
	for _, e := range es {
		got = append(got, string(e.Kind)+":"+e.CompanyID+e.RecordID+e.DocumentID+e.Currency+e.Location+string(rune('0'+e.Revision)))
	}
	want := "quarantined:ar10 quarantined:ar20 quarantined:b0 failed_document:ad10 failed_document:ad20 " +
		"day_exceptions:aEUR0 day_exceptions:aEURx0 day_exceptions:aUSD0 revision_after_posting:a2 revision_after_posting:a3 unsettled:a0"
	if strings.Join(got, " ") != want {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(got, " "), want)
	}
}

func TestJudgePayout(t *testing.T) {
	for _, c := range []struct {
		p      Payout
		status Status
		diff   money.Amount
		reason string
	}{
		{Payout{PaidOut: 2111, Payments: 2278, Fees: 30, Settled: 2}, Mismatch, -137, "explain 0.2248: -0.0137 unexplained"},
		{Payout{PaidOut: 3579, Payments: 3579, Settled: 3}, Matched, 0, ""},
		{Payout{PaidOut: 1000, Payments: 1500, Refunds: 500, Settled: 2}, Matched, 0, ""},
		{Payout{PaidOut: 1000, Payments: 500, Settled: 2, Missing: []string{"p-2"}}, Mismatch, 500, "1 of its 2 payments have no paid payment record"},
		{Payout{PaidOut: 0, Settled: 0}, Unsynced, 0, "names no payments"},
	} {
		got := JudgePayout(c.p)
		if got.Status != c.status || got.Difference != c.diff || !strings.Contains(got.Reason, c.reason) || (c.reason == "" && got.Reason != "") {
			t.Errorf("JudgePayout(%+v) = %s %s %q; want %s %s %q", c.p, got.Status, got.Difference, got.Reason, c.status, c.diff, c.reason)
		}
		if got.Expected != c.p.Payments-c.p.Refunds-c.p.Fees {
			t.Errorf("expected %s; want payments - refunds - fees", got.Expected)
		}
	}
}

// A day whose records changed amount but not number is still pending; a
// day with a refused revision beside a confirmed one is unsynced, not
// judged against the half the platform holds.
func TestReportPendingByAmountAndUnsyncedBesideConfirmed(t *testing.T) {
	days := Report([]DayAccount{
		{Day: "2026-03-01", Currency: "USD", Account: "sales", Commerce: -1200, Ledger: -1000, Platform: -1000},
		{Day: "2026-03-02", Currency: "USD", Account: "sales", Commerce: -1500, Ledger: -1500, Platform: -1000},
	}, []DayFacts{
		{Day: "2026-03-01", Currency: "USD", Records: 1, LedgerRecords: 1, Revisions: 1, Confirmed: 1},
		{Day: "2026-03-02", Currency: "USD", Records: 2, LedgerRecords: 2, Revisions: 2, Confirmed: 1, Failed: 1, LastError: "locked period"},
	})
	if d := days[0]; d.Status != Pending || !strings.Contains(d.Reason, "a revision is on its way") {
		t.Errorf("%s: %s %q; want pending, a revision on its way", d.Day, d.Status, d.Reason)
	}
	if d := days[1]; d.Status != Unsynced || !strings.Contains(d.Reason, "refused by the platform: locked period") || d.Lines[0].Status != Unsynced {
		t.Errorf("%s: %s %q (line %s); want unsynced with the platform's words", d.Day, d.Status, d.Reason, d.Lines[0].Status)
	}
}
