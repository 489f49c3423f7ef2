// Package reconcile holds the rules that compare a company's three sources of
// truth, day by day: the commerce records (the window's contributions), the
// ledger (the day's revisions) and the accounting platform (what it
// acknowledged, and what reading it back finds). The store answers with
// sums; this package says what they mean.
package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// Category groups semantic accounts the way a finance team reads a day.
type Category string

// The categories, in the order a day's report lists them.
const (
	GrossSales     Category = "gross_sales"
	Discounts      Category = "discounts"
	Tax            Category = "tax"
	Gratuity       Category = "gratuity"
	ServiceCharges Category = "service_charges"
	Shipping       Category = "shipping"
	Refunds        Category = "refunds"
	GiftCards      Category = "gift_cards"
	Rounding       Category = "rounding"
	Tenders        Category = "tenders"
	Fees           Category = "fees"
	Payouts        Category = "payouts"
	Unsettled      Category = "unsettled"
	Other          Category = "other"
)

var order = map[Category]int{GrossSales: 1, Discounts: 2, Tax: 3, Gratuity: 4, ServiceCharges: 5, Shipping: 6, Refunds: 7,
	GiftCards: 8, Rounding: 9, Tenders: 10, Fees: 11, Payouts: 12, Unsettled: 13, Other: 14}

// Rank orders categories in a report.
func (c Category) Rank() int { return order[c] }

// creditNormal categories are reported as credits: a day's sales read
// 120.00, not -120.00.
var creditNormal = map[Category]bool{GrossSales: true, Tax: true, Gratuity: true, ServiceCharges: true, Shipping: true, GiftCards: true}

// byAccount names the category of each fixed semantic account.
var byAccount = map[day.Account]Category{
	day.Sales: GrossSales, day.Tax: Tax, day.Discounts: Discounts, day.Gratuity: Gratuity,
	day.ServiceCharges: ServiceCharges, day.Shipping: Shipping, day.Refunds: Refunds, day.GiftCards: GiftCards,
	day.Rounding: Rounding, day.PaymentFees: Fees, day.PaymentFeeRefunds: Fees, day.Payouts: Payouts,
	day.PayoutClearing: Payouts, day.Unsettled: Unsettled,
}

// Classify returns the category of a semantic account: a fixed one's, a
// product category's sales, a tax component's or rate's tax, a payment
// type's tender, or other.
func Classify(account string) Category {
	a := day.Account(account)
	if c, ok := byAccount[a]; ok {
		return c
	}
	if strings.HasPrefix(account, string(day.Sales)+":") {
		return GrossSales
	}
	if strings.HasPrefix(account, string(day.Tax)+":") {
		return Tax
	}
	if _, ok := a.TenderType(); ok {
		return Tenders
	}
	return Other
}

// Reported turns a net amount (debit positive) into the category's own
// sign: credits of credit-normal categories read positive.
func Reported(c Category, net money.Amount) money.Amount {
	if creditNormal[c] {
		return -net
	}
	return net
}

// Status is how one line of a day stands across the three sources.
type Status string

const (
	// Matched: the records, the ledger and the platform agree.
	Matched Status = "matched"
	// Pending: the ledger has not yet caught up with the records (the day
	// is open, or a late record awaits its revision).
	Pending Status = "pending"
	// Unsynced: the ledger agrees with the records, and the platform holds
	// nothing of the day yet.
	Unsynced Status = "unsynced"
	// Mismatch: the platform holds other than the ledger.
	Mismatch Status = "mismatch"
)

// bySeverity lists the statuses from the least serious; severity is each
// one's place in it.
var (
	bySeverity = []Status{Matched, Unsynced, Pending, Mismatch}
	severity   = map[Status]int{Matched: 0, Unsynced: 1, Pending: 2, Mismatch: 3}
)

// Worse returns the more serious of two statuses: a day is as bad as its
// worst line.
func Worse(a, b Status) Status {
	return bySeverity[max(severity[a], severity[b])]
}

// Sums are one account's net amounts on one day from each source. Platform
// is nil while the platform holds nothing of the day.
type Sums struct {
	Commerce, Ledger money.Amount
	Platform         *money.Amount
}

// Judge says how an account stands and by how much it is off: the
// records against the ledger first (the ledger must catch up before the
// platform can be judged), then the ledger against the platform.
func Judge(s Sums) (Status, money.Amount) {
	if s.Commerce != s.Ledger {
		return Pending, s.Commerce - s.Ledger
	}
	if s.Platform == nil {
		if s.Ledger == 0 {
			return Matched, 0 // nothing to send
		}
		return Unsynced, s.Ledger
	}
	if *s.Platform != s.Ledger {
		return Mismatch, s.Ledger - *s.Platform
	}
	return Matched, 0
}

// DayAccount is one semantic account of one day from each source, net
// (debit positive). Platform is what the documents the platform confirmed
// move on it.
type DayAccount struct {
	Day, Currency, Location    string
	Account                    string
	Commerce, Ledger, Platform money.Amount
}

// DayFacts is what the sources say of one day apart from its money.
type DayFacts struct {
	Day, Currency, Location string
	// Records counts the records the day holds now; LedgerRecords those
	// its last revision counted.
	Records, LedgerRecords int64
	// Revisions is how many the ledger holds (0: not sealed yet).
	Revisions      int32
	ExceptionCount int32
	ConfigVersion  int64
	// The day's documents by their current state: confirmed by the
	// platform, failed, or planned or sent and not yet answered; LastError
	// is a failed one's message.
	Confirmed, Failed, Waiting int32
	LastError                  string
}

// MaxRangeDays bounds the days one question may span.
const MaxRangeDays = 366

// CheckRange checks a range of business days (YYYY-MM-DD, inclusive).
func CheckRange(from, to string) error {
	f, err := time.Parse(day.DayLayout, from)
	if err != nil {
		return fmt.Errorf("from %q: send a date as YYYY-MM-DD", from)
	}
	t, err := time.Parse(day.DayLayout, to)
	if err != nil {
		return fmt.Errorf("to %q: send a date as YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return fmt.Errorf("to %s is before from %s", to, from)
	}
	if n := int(t.Sub(f).Hours()/24) + 1; n > MaxRangeDays {
		return fmt.Errorf("from %s to %s spans %d days; the limit is %d", from, to, n, MaxRangeDays)
	}
	return nil
}

// RecordLine is one account a record moves on its day now, net (debit
// positive).
type RecordLine struct {
	Account string
	Amount  money.Amount
}

// DayRecord is one record a day counts now, with what it moves there: the
// drill-down from a day to its records.
type DayRecord struct {
	Kind, Type, RecordID string
	// Exception says why the record counts without its money.
	Exception string
	Lines     []RecordLine
}
