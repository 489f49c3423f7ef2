package day

import (
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// Totals is the net amount per account (debit positive). Accounts that net to
// zero are absent, so two Totals with the same money compare equal.
type Totals map[Account]money.Amount

// Apply adds (sign +1) or removes (sign -1) postings. It is all or nothing:
// on overflow the totals are left as they were, so a window can refuse one
// record without corrupting the day.
func (t Totals) Apply(ps []Posting, sign int) error {
	if sign != 1 && sign != -1 {
		return fmt.Errorf("apply postings with sign %d: sign must be +1 or -1", sign)
	}
	for i, p := range ps {
		if err := t.add(p.Account, p.Amount, sign); err != nil {
			t.undo(ps[:i], sign)
			return fmt.Errorf("apply posting %d (%s %s) with sign %+d: %w", i, p.Account, p.Amount, sign, err)
		}
	}
	return nil
}

// undo reverses postings that were just applied; it cannot overflow because
// it restores values the map already held.
func (t Totals) undo(ps []Posting, sign int) {
	for i := len(ps) - 1; i >= 0; i-- {
		_ = t.add(ps[i].Account, ps[i].Amount, -sign)
	}
}

func (t Totals) add(a Account, amt money.Amount, sign int) error {
	cur := t[a]
	var next money.Amount
	var err error
	if sign > 0 {
		next, err = cur.Add(amt)
	} else {
		next, err = cur.Sub(amt)
	}
	if err != nil {
		return err
	}
	if next == 0 {
		delete(t, a)
	} else {
		t[a] = next
	}
	return nil
}

// Clone returns an independent copy.
func (t Totals) Clone() Totals {
	c := make(Totals, len(t))
	for a, v := range t {
		if v != 0 {
			c[a] = v
		}
	}
	return c
}

// Diff returns t - posted: what a new revision must carry so that the posted
// revisions plus it equal t.
func (t Totals) Diff(posted Totals) (Totals, error) {
	d := t.Clone()
	for a, v := range posted {
		if err := d.add(a, v, -1); err != nil {
			return nil, fmt.Errorf("diff on account %s (%s less %s): %w", a, t[a], v, err)
		}
	}
	return d, nil
}

// IsZero reports whether every account nets to zero.
func (t Totals) IsZero() bool {
	for _, v := range t {
		if v != 0 {
			return false
		}
	}
	return true
}

// sides returns the sum of debits and of credits (as a positive number).
// They are summed separately because their net can fit where a running
// total would not.
func (t Totals) sides() (debits, credits money.Amount, err error) {
	for a, v := range t {
		if v > 0 {
			debits, err = debits.Add(v)
		} else {
			credits, err = credits.Sub(v)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("sum of account %s (%s): %w", a, v, err)
		}
	}
	return debits, credits, nil
}
