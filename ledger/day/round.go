package day

import (
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// RoundPostings rounds one record's postings to the currency's minor units
// (dp decimals), half away from zero, account by account, and puts what the
// rounding leaves unbalanced on Rounding. Rounding is per record, so a day's
// totals are sums of amounts each record really comes to in its currency,
// and every journal line fits the platform's decimals.
func RoundPostings(ps []Posting, dp int) ([]Posting, error) {
	if dp >= money.Scale {
		return ps, nil
	}
	fits := true
	for _, p := range ps {
		if !p.Amount.FitsDecimals(dp) {
			fits = false
			break
		}
	}
	if fits {
		return ps, nil
	}
	out := make([]Posting, 0, len(ps)+1)
	var sum money.Amount
	for _, p := range ps {
		r, err := p.Amount.Round(dp)
		if err != nil {
			return nil, fmt.Errorf("round %s of %s: %w", p.Account, p.Amount, err)
		}
		if sum, err = sum.Add(r); err != nil {
			return nil, fmt.Errorf("round: %w", err)
		}
		if r != 0 {
			out = append(out, Posting{Account: p.Account, Amount: r})
		}
	}
	if sum != 0 {
		merged := false
		for i := range out {
			if out[i].Account == Rounding {
				out[i].Amount -= sum
				merged = true
			}
		}
		if !merged {
			out = append(out, Posting{Account: Rounding, Amount: -sum})
		}
	}
	return out, nil
}
