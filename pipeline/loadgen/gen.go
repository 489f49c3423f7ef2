// Package loadgen makes realistic commerce traffic for many merchants in
// many time zones: orders with several lines and taxes, their payments,
// refunds, card fees and the evening payout, with a share of records that
// arrive late, are updated, or are deleted. Everything is decided by a seed,
// so a run can be repeated exactly and its totals worked out on their own.
package loadgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Spec is what to generate.
type Spec struct {
	Merchants    int
	Days         int
	OrdersPerDay int
	// Start is the first business day (its date; the time is ignored).
	Start time.Time
	Seed  uint64
	// Late, Updated and Deleted are the shares of a day's orders that
	// arrive a day late, are sent again changed the next day, or are
	// deleted the next day (each with its payment).
	Late, Updated, Deleted float64
}

// Limits of a Spec: a run past them is a mistake, not a load test.
const (
	MaxMerchants    = 1_000_000
	MaxDays         = 366
	MaxOrdersPerDay = 100_000
)

// Check says what is wrong with s, naming the flag-like field.
func (s Spec) Check() error {
	switch {
	case s.Merchants < 1 || s.Merchants > MaxMerchants:
		return fmt.Errorf("merchants: must be between 1 and %d", MaxMerchants)
	case s.Days < 1 || s.Days > MaxDays:
		return fmt.Errorf("days: must be between 1 and %d", MaxDays)
	case s.OrdersPerDay < 1 || s.OrdersPerDay > MaxOrdersPerDay:
		return fmt.Errorf("orders per day: must be between 1 and %d", MaxOrdersPerDay)
	case s.Late < 0 || s.Updated < 0 || s.Deleted < 0 || s.Late+s.Updated+s.Deleted > 1:
		return fmt.Errorf("late, updated and deleted shares: each 0 or more, together at most 1")
	}
	return nil
}

// Merchant is one generated merchant.
type Merchant struct {
	Index    int
	Name     string
	Zone     string
	Currency string
	// TaxRate is the sales tax of its lines, in basis points.
	TaxRate int64
}

// regions are where merchants are: zone, currency and the usual tax.
var regions = []struct {
	zone, currency string
	taxBP          int64
}{
	{"America/New_York", "USD", 888},
	{"America/Chicago", "USD", 1025},
	{"America/Los_Angeles", "USD", 950},
	{"Europe/London", "GBP", 2000},
	{"Europe/Berlin", "EUR", 1900},
	{"Australia/Sydney", "AUD", 1000},
}

// Merchant returns merchant i (from 0).
func (s Spec) Merchant(i int) Merchant {
	r := regions[i%len(regions)]
	return Merchant{Index: i, Name: fmt.Sprintf("Loadgen merchant %d", i), Zone: r.zone, Currency: r.currency, TaxRate: r.taxBP}
}

// Day is what a merchant's platform sends on one day: the day's own
// records (On), and the records of the day before that arrive now (Late:
// late ones, updates and deletes).
type Day struct {
	Merchant int
	Index    int // from 0
	Date     string
	On, Late Records
}

// Records are records to push, each kind in the order to send them.
type Records struct {
	Orders       []*v1.Order
	Payments     []*v1.Payment
	Transactions []*v1.Transaction
	// Deletes are ids to delete, with their kind.
	Deletes []Delete
}

// Delete is a sparse delete of one record.
type Delete struct {
	Kind v1.RecordKind
	ID   string
}

// Len counts the records.
func (r Records) Len() int {
	return len(r.Orders) + len(r.Payments) + len(r.Transactions) + len(r.Deletes)
}

// sale is one generated order and what depends on it.
type sale struct {
	order   *v1.Order
	payment *v1.Payment
	txns    []*v1.Transaction // the Payment link and the card fee
	card    bool
	fate    int // fateOnTime, fateLate, fateUpdated, fateDeleted
	// What the order was made from, to make it again changed.
	m         Merchant
	id        string
	at        time.Time
	sign      int64
	qty, unit []int64
}

const (
	fateOnTime = iota
	fateLate
	fateUpdated
	fateDeleted
)

// Day returns merchant m's day d. It is a function of the seed, m and d
// alone, so days can be made in any order, and again.
func (s Spec) Day(m Merchant, d int) Day {
	date := time.Date(s.Start.Year(), s.Start.Month(), s.Start.Day()+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	out := Day{Merchant: m.Index, Index: d, Date: date}
	today := s.sales(m, d)
	for _, sl := range today {
		if sl.fate == fateLate {
			continue
		}
		out.On.add(sl)
	}
	if len(today) > 0 {
		out.On.Transactions = append(out.On.Transactions, payout(m, date, today, s.zone(m)))
	}
	if d == 0 {
		return out
	}
	for _, sl := range s.sales(m, d-1) {
		switch sl.fate {
		case fateLate:
			out.Late.add(sl)
		case fateUpdated:
			out.Late.add(updated(sl))
		case fateDeleted:
			out.Late.Deletes = append(out.Late.Deletes, Delete{v1.RecordKind_RECORD_KIND_ORDER, sl.order.GetId()},
				Delete{v1.RecordKind_RECORD_KIND_PAYMENT, sl.payment.GetId()})
			for _, t := range sl.txns {
				out.Late.Deletes = append(out.Late.Deletes, Delete{v1.RecordKind_RECORD_KIND_TRANSACTION, t.GetId()})
			}
		}
	}
	return out
}

func (r *Records) add(sl sale) {
	r.Orders = append(r.Orders, sl.order)
	r.Payments = append(r.Payments, sl.payment)
	r.Transactions = append(r.Transactions, sl.txns...)
}

func (s Spec) zone(m Merchant) *time.Location {
	loc, err := time.LoadLocation(m.Zone)
	if err != nil {
		// The zones are this package's own and ship in every Go build's
		// zone database (time/tzdata is linked by the binary).
		panic(fmt.Sprintf("loadgen: zone %s: %v", m.Zone, err))
	}
	return loc
}

// sales makes merchant m's orders of day d, with their fates.
func (s Spec) sales(m Merchant, d int) []sale {
	rng := rand.New(rand.NewPCG(s.Seed, uint64(m.Index)<<20|uint64(d)))
	loc := s.zone(m)
	open := time.Date(s.Start.Year(), s.Start.Month(), s.Start.Day()+d, 8, 0, 0, 0, loc)
	prefix := fmt.Sprintf("m%d-d%d", m.Index, d)
	out := make([]sale, 0, s.OrdersPerDay)
	for i := range s.OrdersPerDay {
		// Twelve opening hours, orders spread across them in order.
		at := open.Add(time.Duration(i) * 12 * time.Hour / time.Duration(s.OrdersPerDay)).Add(time.Duration(rng.IntN(30)) * time.Second)
		id := fmt.Sprintf("%s-o%d", prefix, i)
		refund := rng.Float64() < 0.02
		sl := newSale(m, id, at, rng, refund)
		switch f := rng.Float64(); {
		case f < s.Late:
			sl.fate = fateLate
		case f < s.Late+s.Updated:
			sl.fate = fateUpdated
		case f < s.Late+s.Updated+s.Deleted:
			sl.fate = fateDeleted
		}
		out = append(out, sl)
	}
	return out
}

// newSale makes an order of 1 to 4 lines taxed at the merchant's rate, paid
// in full by card (80%) or in cash; a refund is the same with negative
// quantities and a negative payment.
func newSale(m Merchant, id string, at time.Time, rng *rand.Rand, refund bool) sale {
	sl := sale{m: m, id: id, at: at, sign: 1, card: rng.Float64() < 0.8}
	if refund {
		sl.sign = -1
	}
	for range 1 + rng.IntN(4) {
		sl.qty = append(sl.qty, sl.sign*int64(1+rng.IntN(3)))
		sl.unit = append(sl.unit, int64(100+rng.IntN(2900))) // 1.00 to 29.99
	}
	sl.build(at)
	return sl
}

// build makes the sale's records from its lines, modified at modified.
func (sl *sale) build(modified time.Time) {
	m, id := sl.m, sl.id
	when, mod := sl.at.Format(time.RFC3339), modified.Format(time.RFC3339)
	o := &v1.Order{Id: id, OrderNumber: id, Currency: m.Currency, CreatedDate: when, ClosedDate: when, SourceModifiedDate: mod,
		TotalRefund: "0", TotalDiscount: "0", TotalGratuity: "0", LocationRef: &v1.Ref{Id: "loc-1"}}
	var total, tax int64
	for l, qty := range sl.qty {
		net := qty * sl.unit[l]
		lineTax := roundHalfUp(net*m.TaxRate, 10000)
		o.OrderLineItems = append(o.OrderLineItems, &v1.OrderLineItem{Id: fmt.Sprintf("%s-l%d", id, l), Quantity: fmt.Sprint(qty),
			UnitPrice: cents(sl.unit[l]), TaxPercentage: bpPercent(m.TaxRate), TotalAmount: cents(net + lineTax), TotalTaxAmount: cents(lineTax)})
		total += net + lineTax
		tax += lineTax
	}
	o.TotalAmount, o.TotalTaxAmount = cents(total), cents(tax)
	kind := "Cash"
	if sl.card {
		kind = "Card"
	}
	sl.order = o
	sl.payment = &v1.Payment{Id: "pay-" + id, Amount: cents(total), Currency: m.Currency, Type: kind, Status: "Paid",
		CreatedDate: when, SourceModifiedDate: mod}
	sl.txns = nil
	if sl.card && sl.sign > 0 {
		// The processor's link (sharing the payment's id, as Codat's
		// examples do) and its fee: 2.9% + 0.30.
		sl.txns = append(sl.txns,
			&v1.Transaction{Id: sl.payment.GetId(), Type: "Payment", TotalAmount: cents(total), Currency: m.Currency, CreatedDate: when,
				SourceCreatedDate: when, SourceModifiedDate: mod, TransactionSourceRef: &v1.TransactionSourceRef{Id: id, Type: "Order"}},
			&v1.Transaction{Id: "fee-" + id, Type: "PaymentFee", TotalAmount: cents(-fee(total)), Currency: m.Currency,
				CreatedDate: when, SourceCreatedDate: when, SourceModifiedDate: mod,
				TransactionSourceRef: &v1.TransactionSourceRef{Id: sl.payment.GetId(), Type: "Payment"}})
	}
}

// fee is a card processor's fee on total cents: 2.9% + 0.30.
func fee(total int64) int64 { return roundHalfUp(total*290, 10000) + 30 }

// updated is sl sent again a day later with one more unit on its first
// line: the order, its payment and its fee change together.
func updated(sl sale) sale {
	out := sl
	out.qty = append([]int64(nil), sl.qty...)
	out.qty[0] += sl.sign
	out.build(sl.at.Add(24 * time.Hour))
	return out
}

// payout is the evening payout of the day's card payments, late ones
// included (processors pay out what they took, whenever the platform
// reports it), less their fees, as first sent.
func payout(m Merchant, date string, sales []sale, loc *time.Location) *v1.Transaction {
	var sum int64
	var ids []string
	for _, sl := range sales {
		if !sl.card || sl.sign < 0 || sl.fate == fateDeleted {
			continue
		}
		amt, _ := parseCents(sl.payment.GetAmount())
		sum += amt - fee(amt)
		ids = append(ids, sl.payment.GetId())
	}
	d, _ := time.ParseInLocation(time.DateOnly, date, loc)
	when := d.Add(21*time.Hour + 30*time.Minute).Format(time.RFC3339)
	return &v1.Transaction{Id: fmt.Sprintf("payout-m%d-%s", m.Index, date), Type: "Payout", TotalAmount: cents(sum), Currency: m.Currency,
		SettledTransactionIds: ids, CreatedDate: when, SourceCreatedDate: when}
}

// cents writes an amount in cents as a decimal: -1234 is "-12.34".
func cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// parseCents reads what cents writes.
func parseCents(s string) (int64, error) {
	var whole, frac int64
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if _, err := fmt.Sscanf(s, "%d.%02d", &whole, &frac); err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	v := whole*100 + frac
	if neg {
		v = -v
	}
	return v, nil
}

// roundHalfUp is n/d rounded half away from zero (d > 0).
func roundHalfUp(n, d int64) int64 {
	if n < 0 {
		return -((-n + d/2) / d)
	}
	return (n + d/2) / d
}

// bpPercent writes basis points as a percentage: 1025 is "10.25".
func bpPercent(bp int64) string {
	return fmt.Sprintf("%d.%02d", bp/100, bp%100)
}
