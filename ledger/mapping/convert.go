package mapping

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// FX is the semantic account the conversion remainder posts to.
const FX day.Account = "fx"

// Convert restates planned documents in the base currency at a fixed rate
// (units of base per unit of the documents' currency). Each line converts
// on its own, rounded half away from zero to the base currency's minor
// units; what that leaves unbalanced goes to the FX account, so the
// journal still balances to the cent.
func Convert(planned []Planned, base string, rate decimal.Decimal, accts Accounts) ([]Planned, error) {
	dp, ok := money.MinorUnits(base)
	if !ok {
		return nil, &Error{Field: "currency", Message: fmt.Sprintf("base currency %s is not an ISO 4217 currency", base)}
	}
	if !rate.IsPositive() {
		return nil, &Error{Field: "configuration.exchangeRates", Message: fmt.Sprintf("the exchange rate %s is not positive", rate)}
	}
	slot := Slot{Section: "sales", Key: "fx", Label: "Exchange differences"}
	out := make([]Planned, len(planned))
	for i, p := range planned {
		from := p.Document.Currency
		doc := p.Document
		doc.Currency = base
		doc.Narration = fmt.Sprintf("%s (converted from %s at %s)", doc.Narration, from, rate)
		doc.Lines = make([]Line, 0, len(p.Document.Lines)+1)
		var sum money.Amount
		for _, l := range p.Document.Lines {
			// shopspring's Round is half away from zero, from the exact product.
			conv, err := money.FromDecimal(l.Amount.Decimal().Mul(rate).Round(int32(dp)))
			if err != nil {
				return nil, fmt.Errorf("convert %s %s: %w", l.Amount, from, err)
			}
			l.Amount = conv
			if sum, err = sum.Add(conv); err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
			doc.Lines = append(doc.Lines, l)
		}
		if sum != 0 {
			b, ok := accts.Account(slot.Section, slot.Key)
			if !ok || b.AccountID == "" {
				side, amt := "debit", sum.Neg()
				if amt < 0 {
					side, amt = "credit", sum
				}
				return nil, &Error{Field: slot.Path(), Message: fmt.Sprintf(
					"Converting %s to %s leaves a rounding %s of %s %s to post to an exchange differences account. Please map %s.",
					from, base, side, amt, base, slot.Path())}
			}
			doc.Lines = append(doc.Lines, Line{Account: b, Semantic: FX, Description: slot.Label, Amount: sum.Neg()})
		}
		doc.Lines = merge(doc.Lines)
		p.Document = doc
		out[i] = p
	}
	return out, nil
}
