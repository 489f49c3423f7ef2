package reconcile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/commercesync/commercesync/ledger/money"
)

// ExceptionKind names what a finance team must look at.
type ExceptionKind string

const (
	// QuarantinedRecord: a stage could not process a record or a day.
	QuarantinedRecord ExceptionKind = "quarantined"
	// DayExceptions: a day counts records without their money.
	DayExceptions ExceptionKind = "day_exceptions"
	// FailedDocument: the platform refused a document, or it could not be
	// sent.
	FailedDocument ExceptionKind = "failed_document"
	// LateRevision: a day changed after the platform confirmed it.
	LateRevision ExceptionKind = "revision_after_posting"
	// UnsettledBalance: money parked on the unsettled account (an order
	// never paid, a refund whose order never arrived) for longer than the
	// age asked for.
	UnsettledBalance ExceptionKind = "unsettled"
)

var kindRank = map[ExceptionKind]int{QuarantinedRecord: 1, FailedDocument: 2, DayExceptions: 3, LateRevision: 4, UnsettledBalance: 5}

// Exception is one thing that does not reconcile, with where it is.
type Exception struct {
	Kind                               ExceptionKind
	CompanyID, Day, Currency, Location string
	RecordID, DocumentID               string
	Revision                           int32
	Amount                             money.Amount
	Message                            string
}

// SortExceptions orders exceptions by kind, company, day and what they name,
// so pages are stable.
func SortExceptions(es []Exception) {
	slices.SortFunc(es, func(a, b Exception) int {
		return cmp.Or(cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]), cmp.Compare(a.CompanyID, b.CompanyID),
			cmp.Compare(a.Day, b.Day), cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.Location, b.Location),
			cmp.Compare(a.RecordID, b.RecordID), cmp.Compare(a.DocumentID, b.DocumentID), cmp.Compare(a.Revision, b.Revision))
	})
}

// RecordBalance is one record's net amount on the unsettled account, and
// the day it counts in.
type RecordBalance struct {
	RecordID, Day string
	// Kind is order, payment or transaction.
	Kind   string
	Amount money.Amount
}

// UnsettledMessage says in words what an unexplained unsettled balance is.
func UnsettledMessage(r RecordBalance) string {
	a := r.Amount
	if r.Kind == "order" {
		if a > 0 {
			return fmt.Sprintf("order of %s with no payment that settles it", a)
		}
		return fmt.Sprintf("refund order of %s with no refund payment that settles it", -a)
	}
	if a < 0 {
		return fmt.Sprintf("payment of %s with no order that it pays for", -a)
	}
	return fmt.Sprintf("refund of %s with no refund order to match it: the refunded order never arrived", a)
}

// Unexplained pairs off, among records of one company and currency whose
// unsettled amounts have the same size, each debit with a credit (an order
// and the payment that settles it, oldest first), and returns what is left:
// the records that make up the unsettled balance.
func Unexplained(rs []RecordBalance) []RecordBalance {
	var debits, credits []RecordBalance
	for _, r := range rs {
		if r.Amount > 0 {
			debits = append(debits, r)
		} else if r.Amount < 0 {
			credits = append(credits, r)
		}
	}
	byDay := func(a, b RecordBalance) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.RecordID, b.RecordID))
	}
	slices.SortFunc(debits, byDay)
	slices.SortFunc(credits, byDay)
	n := min(len(debits), len(credits))
	return append(debits[n:], credits[n:]...)
}
