package reconcile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/commercesync/commercesync/ledger/money"
)

// Day is one business day's reconciliation in one currency and location.
type Day struct {
	Day, Currency, Location string
	Status                  Status
	// Reason says why the day is not matched, in words a finance team can
	// act on; "" when it is.
	Reason string
	Facts  DayFacts
	Lines  []Line
}

// Line is one semantic account of a day, in its category's reported sign
// (sales read positive).
type Line struct {
	Category                   Category
	Account                    string
	Commerce, Ledger, Platform money.Amount
	// Difference is what separates the sources the status compares: the
	// records from the ledger while pending, the ledger from the platform
	// once synced.
	Difference money.Amount
	Status     Status
}

// Report builds each day's reconciliation from the store's sums. A day is
// pending while its ledger lags its records; unsynced while any of its
// documents is unconfirmed (with the platform's error when one failed);
// mismatch when the platform's confirmed documents move other than the
// ledger; matched otherwise.
func Report(accounts []DayAccount, facts []DayFacts) []Day {
	type key struct{ day, currency, location string }
	days := map[key]*Day{}
	get := func(k key) *Day {
		d := days[k]
		if d == nil {
			d = &Day{Day: k.day, Currency: k.currency, Location: k.location, Status: Matched}
			d.Facts = DayFacts{Day: k.day, Currency: k.currency, Location: k.location}
			days[k] = d
		}
		return d
	}
	for _, f := range facts {
		get(key{f.Day, f.Currency, f.Location}).Facts = f
	}
	for _, a := range accounts {
		if a.Commerce == 0 && a.Ledger == 0 && a.Platform == 0 {
			continue
		}
		d := get(key{a.Day, a.Currency, a.Location})
		c := Classify(a.Account)
		d.Lines = append(d.Lines, Line{Category: c, Account: a.Account,
			Commerce: Reported(c, a.Commerce), Ledger: Reported(c, a.Ledger), Platform: Reported(c, a.Platform)})
	}
	out := make([]Day, 0, len(days))
	for _, d := range days {
		judgeDay(d)
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Day) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Location, b.Location))
	})
	return out
}

func judgeDay(d *Day) {
	f := d.Facts
	synced := f.Failed == 0 && f.Waiting == 0 && f.Confirmed > 0
	for i := range d.Lines {
		l := &d.Lines[i]
		s := Sums{Commerce: l.Commerce, Ledger: l.Ledger}
		if synced {
			p := l.Platform
			s.Platform = &p
		}
		l.Status, l.Difference = Judge(s)
		d.Status = Worse(d.Status, l.Status)
	}
	slices.SortFunc(d.Lines, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Category.Rank(), b.Category.Rank()), cmp.Compare(a.Account, b.Account))
	})
	if f.Records != f.LedgerRecords || d.Status == Pending {
		d.Status = Pending
		if f.Revisions == 0 {
			d.Reason = fmt.Sprintf("the day is open: %d records, not sealed yet", f.Records)
		} else {
			d.Reason = fmt.Sprintf("the ledger's revision %d counts %d records; the day holds %d: a revision is on its way", f.Revisions, f.LedgerRecords, f.Records)
		}
	} else if f.Failed > 0 {
		d.Status = Worse(d.Status, Unsynced)
		d.Reason = fmt.Sprintf("%d document(s) refused by the platform: %s", f.Failed, f.LastError)
	} else if f.Waiting > 0 {
		d.Status = Worse(d.Status, Unsynced)
		d.Reason = fmt.Sprintf("%d document(s) not yet confirmed by the platform", f.Waiting)
	} else if d.Status == Unsynced {
		d.Reason = "nothing of the day is on the platform yet"
	} else if d.Status == Mismatch {
		n := 0
		for _, l := range d.Lines {
			if l.Status == Mismatch {
				n++
			}
		}
		d.Reason = fmt.Sprintf("the platform's confirmed documents move other than the ledger on %d account(s)", n)
	}
}
