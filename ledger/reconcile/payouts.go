package reconcile

import (
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// Payout is one payout against what it settles. Amounts are positive as a
// finance team reads them: the money paid out, the payments it settles,
// the refunds (negative payments) and the fees taken from them.
type Payout struct {
	PayoutID, Day, Currency string
	PaidOut                 money.Amount
	Payments, Refunds, Fees money.Amount
	// Expected is what the settled records leave to pay out: payments
	// less refunds less fees.
	Expected money.Amount
	// Difference is what the settled records do not explain: paid out
	// less expected.
	Difference money.Amount
	// Settled counts the payments the payout names; Missing lists those
	// with no paid payment record (at most MaxMissingNamed).
	Settled int
	Missing []string
	Status  Status
	Reason  string
}

// MaxMissingNamed bounds the missing payments a payout names.
const MaxMissingNamed = 20

// SettledAmounts is what a payout's settled records move on their tenders,
// net (debit positive): payments and refunds, and the fees and fee refunds
// of those payments.
type SettledAmounts struct {
	Payments, Refunds, Fees money.Amount
}

// JudgePayout compares a payout with what it settles. paidOut is the
// payout's own amount (positive).
func JudgePayout(p Payout) Payout {
	p.Expected = p.Payments - p.Refunds - p.Fees
	p.Difference = p.PaidOut - p.Expected
	p.Status = Matched
	if p.Difference != 0 {
		p.Status = Mismatch
		p.Reason = fmt.Sprintf("paid out %s; its payments, refunds and fees explain %s: %s unexplained", p.PaidOut, p.Expected, p.Difference)
		if len(p.Missing) > 0 {
			p.Reason = fmt.Sprintf("paid out %s; its settled records explain %s, and %d of its %d payments have no paid payment record", p.PaidOut, p.Expected, len(p.Missing), p.Settled)
		}
	} else if p.Settled == 0 {
		p.Status = Unsynced
		p.Reason = "the payout names no payments, so nothing explains it"
	}
	return p
}
