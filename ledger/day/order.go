package day

import (
	"errors"
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// Semantic accounts an order's lines post to, beside Sales, Tax, Gratuity
// and Unsettled.
const (
	Discounts      Account = "discounts"
	Refunds        Account = "refunds"
	ServiceCharges Account = "service_charges"
	Shipping       Account = "shipping"
	GiftCards      Account = "gift_card_liability"
	Rounding       Account = "rounding"
)

// SalesIn is the sales account of a product category; "" is Other sales.
func SalesIn(category string) Account {
	if category == "" {
		return Sales
	}
	return Account("sales:" + category)
}

// TaxOn is the tax account of a tax component, or of a rate when the
// record names no component ("rate:20"); "" is the order's untyped tax.
func TaxOn(key string) Account {
	if key == "" {
		return Tax
	}
	return Account("tax:" + key)
}

// TaxPart is one tax of a line or charge.
type TaxPart struct {
	Key    string // component id, or "rate:<percentage>"
	Amount money.Amount
}

// OrderLine is the money of one line item.
type OrderLine struct {
	// Total includes discounts and tax, as Codat's line totalAmount does;
	// negative for a refunded item.
	Total money.Amount
	// Tax is the line's totalTaxAmount; Taxes split it by component when
	// the record does. Without Taxes the whole of Tax goes to TaxKey.
	Tax    money.Amount
	Taxes  []TaxPart
	TaxKey string
	// Discount is the line's discount before tax (positive reduces it).
	Discount money.Amount
	// Product is the product sold; Category and GiftCard are what its
	// reference data said at the order's time.
	Product  string
	Category string
	GiftCard bool
}

// Charge is the money of one service charge.
type Charge struct {
	Shipping bool
	Total    money.Amount // including tax
	Tax      money.Amount
	Taxes    []TaxPart
	TaxKey   string
}

// OrderFacts are the money fields of an order. Total includes discounts,
// refunds, tax and service charges and excludes gratuity. Unit is the
// currency's minor unit (0.01 for GBP), which bounds rounding.
type OrderFacts struct {
	Total, Tax, Gratuity money.Amount
	Lines                []OrderLine
	Charges              []Charge
	Unit                 money.Amount
}

// ErrRounding reports an order whose lines do not add up to its total by
// more than rounding can explain.
var ErrRounding = errors.New("order lines do not add up to the order total")

// OrderPostings is an order's contribution. The order is owed in full
// (Dr unsettled, total plus gratuity) and its lines say where it goes:
//   - each sold line credits its category's sales gross of its discount and
//     debits discounts with the discount, so a merchant can see discounts
//     apart or, by mapping them to the sales account, net;
//   - a refunded line (negative net) debits refunds with its net; its
//     discount, already inside the net, posts nothing apart;
//   - a gift card sold credits the gift-card liability instead of sales;
//   - each tax part credits its component's or rate's tax account;
//   - service charges credit service charges or shipping, net of tax;
//   - gratuity credits gratuity.
//
// What the lines leave unexplained against the total goes to rounding, up
// to one minor unit per line and charge; beyond that the order is refused
// with ErrRounding (the window then names it instead of posting it). An
// order without lines posts its total less tax as sales.
func OrderPostings(o OrderFacts) ([]Posting, error) {
	owed, err := o.Total.Add(o.Gratuity)
	if err != nil {
		return nil, fmt.Errorf("order total %s plus gratuity %s: %w", o.Total, o.Gratuity, err)
	}
	b := builder{ps: make([]Posting, 0, 4+4*len(o.Lines)+3*len(o.Charges))}
	b.debit(Unsettled, owed)
	b.credit(Gratuity, o.Gratuity)
	if len(o.Lines) == 0 && len(o.Charges) == 0 {
		net, err := o.Total.Sub(o.Tax)
		if err != nil {
			return nil, fmt.Errorf("order total %s less tax %s: %w", o.Total, o.Tax, err)
		}
		b.credit(Sales, net)
		b.credit(Tax, o.Tax)
		return b.done("order")
	}
	var lines money.Amount // what the lines and charges come to
	add := func(a money.Amount) {
		if b.err != nil {
			return
		}
		if lines, err = lines.Add(a); err != nil {
			b.err = fmt.Errorf("order lines: %w", err)
		}
	}
	for _, l := range o.Lines {
		net, err := l.Total.Sub(l.Tax)
		if err != nil {
			return nil, fmt.Errorf("line total %s less tax %s: %w", l.Total, l.Tax, err)
		}
		if l.GiftCard {
			b.credit(GiftCards, net)
		} else if net < 0 {
			b.debit(Refunds, net.Neg())
		} else {
			gross, err := net.Add(l.Discount)
			if err != nil {
				return nil, fmt.Errorf("line net %s plus discount %s: %w", net, l.Discount, err)
			}
			b.credit(SalesIn(l.Category), gross)
			b.debit(Discounts, l.Discount)
		}
		b.taxes(l.Tax, l.Taxes, l.TaxKey)
		add(l.Total)
	}
	for _, c := range o.Charges {
		net, err := c.Total.Sub(c.Tax)
		if err != nil {
			return nil, fmt.Errorf("service charge total %s less tax %s: %w", c.Total, c.Tax, err)
		}
		if c.Shipping {
			b.credit(Shipping, net)
		} else {
			b.credit(ServiceCharges, net)
		}
		b.taxes(c.Tax, c.Taxes, c.TaxKey)
		add(c.Total)
	}
	if b.err != nil {
		return nil, fmt.Errorf("order postings: %w", b.err)
	}
	diff, err := o.Total.Sub(lines)
	if err != nil {
		return nil, fmt.Errorf("order rounding: %w", err)
	}
	if diff != 0 {
		bound := money.Amount(int64(o.Unit) * int64(len(o.Lines)+len(o.Charges)))
		if diff.Abs() > bound {
			return nil, fmt.Errorf("%w: the lines and service charges come to %s but the order total is %s, a difference of %s where rounding explains at most %s",
				ErrRounding, lines, o.Total, diff, bound)
		}
		b.credit(Rounding, diff)
	}
	b.merge()
	return b.done("order")
}

// merge folds postings to the same account into one (an order's lines often
// share a category and a tax), so a day applies fewer of them. Order is
// kept; no amount is lost, since each sum is one the day will hold anyway.
func (b *builder) merge() {
	if b.err != nil || len(b.ps) < 3 {
		return
	}
	out := b.ps[:0]
	for _, p := range b.ps {
		merged := false
		for i := range out {
			if out[i].Account == p.Account {
				v, err := out[i].Amount.Add(p.Amount)
				if err != nil {
					b.err = fmt.Errorf("order postings on %s: %w", p.Account, err)
					return
				}
				out[i].Amount, merged = v, true
				break
			}
		}
		if !merged {
			out = append(out, p)
		}
	}
	kept := out[:0]
	for _, p := range out {
		if p.Amount != 0 {
			kept = append(kept, p)
		}
	}
	b.ps = kept
}

// taxes credits a line's or charge's tax, split by part when it has parts;
// what the parts leave of the total goes to key.
func (b *builder) taxes(total money.Amount, parts []TaxPart, key string) {
	rest := total
	for _, p := range parts {
		b.credit(TaxOn(p.Key), p.Amount)
		var err error
		if rest, err = rest.Sub(p.Amount); err != nil && b.err == nil {
			b.err = fmt.Errorf("tax parts: %w", err)
		}
	}
	if len(parts) > 0 && rest == 0 {
		return
	}
	b.credit(TaxOn(key), rest)
}
