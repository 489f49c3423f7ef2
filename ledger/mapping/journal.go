// Package mapping binds a daily summary's semantic accounts to the
// merchant's own accounts and chooses the documents that carry it into the
// accounting platform. It is pure: configuration and summary in, documents or
// a merchant-actionable mapping error out.
package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// Binding is a merchant account chosen in the configuration.
type Binding struct {
	AccountID string
	Code      string
	Name      string
}

// Accounts resolves a configuration slot (section and key of Codat's
// accounts maps, e.g. "payments", "card") to the merchant's account.
type Accounts interface {
	Account(section, key string) (Binding, bool)
}

// Slot is where a semantic account is configured.
type Slot struct {
	Section string // sales | payments | fees
	Key     string // Codat's account-type key
	Label   string // what the merchant sees
}

// Path is the configuration field a merchant edits to fill the slot.
func (s Slot) Path() string {
	return fmt.Sprintf("configuration.%s.accounts.%s.selectedAccountId", s.Section, s.Key)
}

// SlotOf returns the configuration slot of a semantic account. The keys are
// Codat's (sales, gratuity, card, cash, paymentFee, …); "tax" and
// "unsettled" are commercesync's additions for journal mode.
func SlotOf(a day.Account) (Slot, error) {
	switch a {
	case day.Sales:
		return Slot{"sales", "sales", "Sales"}, nil
	case day.Tax:
		return Slot{"sales", "tax", "Sales tax"}, nil
	case day.Gratuity:
		return Slot{"sales", "gratuity", "Gratuity"}, nil
	case day.Unsettled:
		return Slot{"payments", "unsettled", "Unsettled sales"}, nil
	case day.PaymentFees:
		return Slot{"fees", "paymentFee", "Payment fees"}, nil
	case day.PaymentFeeRefunds:
		return Slot{"fees", "paymentFeeRefund", "Payment fee refunds"}, nil
	}
	if t, ok := a.TenderType(); ok && t != "" {
		// Codat's keys are the payment type in lowerCamelCase: Card → card,
		// OnlineCard → onlineCard.
		r, n := utf8.DecodeRuneInString(t)
		return Slot{"payments", string(unicode.ToLower(r)) + t[n:], t + " payments"}, nil
	}
	return Slot{}, fmt.Errorf("semantic account %q has no configuration slot", a)
}

// Error is a mapping problem only the merchant can fix; Field names the
// configuration field to change.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Line is one line of a document: Amount > 0 debits, < 0 credits, in the
// currency's minor units.
type Line struct {
	Account     Binding
	Semantic    day.Account
	Description string
	Amount      money.Amount
}

// Document is a platform-neutral accounting document.
type Document struct {
	Type      string // ManualJournal
	Date      string
	Currency  string
	Narration string
	Lines     []Line
}

// Planned is a document with its deterministic identity.
type Planned struct {
	Index      int
	DocumentID string
	Reference  string
	Document   Document
}

// DocumentID derives a document's id from its summary and position, so a
// re-plan of the same summary names the same document.
func DocumentID(summaryID string, index int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("doc\x00%s\x00%d", summaryID, index)))
	return hex.EncodeToString(sum[:16])
}

// Reference is the short, platform-safe reference that travels inside the
// document so it can be found again after the platform has forgotten an
// idempotency key. 23 characters fit every platform's reference field.
func Reference(documentID string) string {
	return "CS-" + strings.ToUpper(documentID[:20])
}

// Journal plans journal-entry mode for one summary: one balanced journal,
// each semantic account bound to the merchant's account.
func Journal(s day.Summary, accts Accounts) ([]Planned, error) {
	dp, ok := money.MinorUnits(s.Currency)
	if !ok {
		return nil, &Error{Field: "currency", Message: fmt.Sprintf("currency %s is not an ISO 4217 currency", s.Currency)}
	}
	lines := make([]Line, 0, len(s.Lines))
	type gap struct{ text, path string }
	var missing []gap
	for _, l := range s.Lines {
		slot, err := SlotOf(l.Account)
		if err != nil {
			return nil, err
		}
		b, ok := accts.Account(slot.Section, slot.Key)
		if !ok || b.AccountID == "" {
			missing = append(missing, gap{fmt.Sprintf("%s (%s)", slot.Label, slot.Path()), slot.Path()})
			continue
		}
		amt, err := l.Debit.Sub(l.Credit)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", l.Account, err)
		}
		if !amt.FitsDecimals(dp) {
			return nil, &Error{Field: string(l.Account), Message: fmt.Sprintf(
				"the %s total %s for %s has more than %d decimal places; rounding of sub-unit amounts is not configured",
				slot.Label, amt, s.Currency, dp)}
		}
		lines = append(lines, Line{Account: b, Semantic: l.Account, Description: slot.Label, Amount: amt})
	}
	if len(missing) > 0 {
		sort.Slice(missing, func(i, j int) bool { return missing[i].text < missing[j].text })
		texts := make([]string, len(missing))
		for i, m := range missing {
			texts[i] = m.text
		}
		return nil, &Error{Field: missing[0].path, Message: fmt.Sprintf(
			"No account is mapped for %s. Please configure your Sync settings to map these accounts.", strings.Join(texts, ", "))}
	}
	// Two semantic accounts may share one merchant account; the platform
	// still sees one line per semantic account, which keeps the journal
	// explainable line by line.
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Semantic < lines[j].Semantic })
	narration := fmt.Sprintf("Daily sales summary %s %s", s.Day, s.Currency)
	if s.Revision > 1 {
		narration = fmt.Sprintf("Adjustment %d to daily sales summary %s %s", s.Revision-1, s.Day, s.Currency)
	}
	id := DocumentID(s.ID, 0)
	return []Planned{{
		Index: 0, DocumentID: id, Reference: Reference(id),
		Document: Document{Type: "ManualJournal", Date: s.Day, Currency: s.Currency, Narration: narration, Lines: lines},
	}}, nil
}
