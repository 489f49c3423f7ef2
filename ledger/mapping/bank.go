package mapping

import (
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// MoveBankLines takes the lines on bank accounts out of a journal, for
// platforms whose journals refuse bank accounts (Xero, accounting-platform-
// apis.md §1.2). Each bank line becomes the money of a receive money (a
// debit) or spend money (a credit) whose lines take the same amount off
// the journal's opposite lines, largest first; money between two bank
// accounts is a transfer. What is left of the journal still balances and
// goes first, unless nothing is left of it. Per
// account, the documents move exactly what the journal moved. contact is
// who the bank transactions are with (the platform may require one).
func MoveBankLines(p Planned, summaryID string, isBank func(accountID string) bool, contact string) ([]Planned, error) {
	doc := p.Document
	if doc.Type != TypeJournal || isBank == nil {
		return []Planned{p}, nil
	}
	var bank, rest []Line
	for _, l := range doc.Lines {
		if isBank(l.Account.AccountID) {
			bank = append(bank, l)
		} else {
			rest = append(rest, l)
		}
	}
	if len(bank) == 0 {
		return []Planned{p}, nil
	}
	if contact == "" {
		return nil, &Error{Field: CustomerPath, Message: fmt.Sprintf(
			"This platform's journals cannot post to bank accounts, so money into or out of %s goes as a bank transaction, which needs a contact; select one in %s.",
			bank[0].Account.label(), CustomerPath)}
	}
	var moved []Document
	left := make([]Line, 0, len(bank)) // what non-bank lines could not cover
	for _, b := range bank {
		typ, want := TypeReceiveMoney, -1 // a debit to the bank takes credits off the journal
		if b.Amount < 0 {
			typ, want = TypeSpendMoney, 1
		}
		need := b.Amount.Abs()
		m := Document{Type: typ, Date: doc.Date, Currency: doc.Currency, Narration: doc.Narration, Contact: contact}
		for need > 0 {
			i := largest(rest, want)
			if i < 0 {
				break
			}
			a := min(need, rest[i].Amount.Abs())
			// A bank transaction's lines are positive on the side opposite
			// the bank: what receive money credits, what spend money debits.
			m.Lines = append(m.Lines, with(rest[i], a))
			rest[i].Amount += money.Amount(want) * -a
			need -= a
		}
		if len(m.Lines) > 0 {
			m.Lines = merge(m.Lines)
			m.Money = with(b, total(m.Lines))
			moved = append(moved, m)
		}
		if need > 0 {
			left = append(left, with(b, money.Amount(-want)*need))
		}
	}
	// Bank accounts that are each other's counterpart: transfers.
	for {
		to, from := largest(left, 1), largest(left, -1)
		if to < 0 && from < 0 {
			break
		}
		if to < 0 || from < 0 {
			return nil, fmt.Errorf("journal %s does not balance: bank lines %v are left", p.DocumentID, left)
		}
		a := min(left[to].Amount, -left[from].Amount)
		moved = append(moved, Document{Type: TypeTransfer, Date: doc.Date, Currency: doc.Currency, Narration: doc.Narration,
			Contact: contact, Money: with(left[from], a), To: with(left[to], a)})
		left[to].Amount -= a
		left[from].Amount += a
	}
	kept := rest[:0]
	for _, l := range rest {
		if l.Amount != 0 {
			kept = append(kept, l)
		}
	}
	var docs []Document
	if len(kept) > 0 {
		j := doc
		j.Lines = kept
		docs = append(docs, j)
	}
	docs = append(docs, moved...)
	out := make([]Planned, len(docs))
	for i, d := range docs {
		idx := p.Index + i
		id := DocumentID(summaryID, idx)
		out[i] = Planned{Index: idx, DocumentID: id, Reference: Reference(id), Document: d}
	}
	return out, nil
}

// largest returns the index of the line of sign sign with the largest
// amount, or -1.
func largest(lines []Line, sign int) int {
	best := -1
	for i, l := range lines {
		if l.Amount.Sign() != sign {
			continue
		}
		if best < 0 || l.Amount.Abs() > lines[best].Amount.Abs() {
			best = i
		}
	}
	return best
}

func (b Binding) label() string {
	switch {
	case b.Code != "" && b.Name != "":
		return b.Code + " " + b.Name
	case b.Code != "":
		return "account " + b.Code
	}
	return "account " + b.AccountID
}
