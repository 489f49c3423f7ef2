package window

import (
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// recAt returns record k's entry, read from the store if the batch has not
// yet, and its current version (nil when it has none): one lookup serves
// the version check and the write after it.
func (c *company) recAt(k recordKey) (*recEntry, *recState) {
	e := c.recEntry(k)
	return e, e.cur
}

// taxLines counts the tax lines of an order's lines.
func taxLines(ls []*v1.OrderLineItem) int {
	n := 0
	for _, l := range ls {
		n += len(l.GetTaxes())
	}
	return n
}

// taxPartsInto is taxParts appending to parts, which holds every line's
// parts of one order: the line's own are returned with their capacity
// capped, so that no later append reaches the next line's.
func taxPartsInto(parts []day.TaxPart, ts []*v1.TaxLine, parse func(string, string, *money.Amount)) (mine, all []day.TaxPart) {
	if len(ts) == 0 {
		return nil, parts
	}
	start := len(parts)
	for _, t := range ts {
		id := t.GetTaxComponentRef().GetId()
		if id == "" || t.GetTaxAmount() == "" {
			continue
		}
		var v money.Amount
		parse("taxes.taxAmount", t.GetTaxAmount(), &v)
		parts = append(parts, day.TaxPart{Key: id, Amount: v})
	}
	return parts[start:len(parts):len(parts)], parts
}
