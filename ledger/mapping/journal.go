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
	// Fallbacks are keys of the same section tried in order when Key is
	// not mapped: a tax component falls back to the sales tax account,
	// discounts and refunds to sales (so they net there), and so on.
	Fallbacks []string
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
		return Slot{Section: "sales", Key: "sales", Label: "Sales"}, nil
	case day.Tax:
		return Slot{Section: "sales", Key: "tax", Label: "Sales tax"}, nil
	case day.Gratuity:
		return Slot{Section: "sales", Key: "gratuity", Label: "Gratuity"}, nil
	case day.Discounts:
		return Slot{Section: "sales", Key: "discounts", Label: "Discounts", Fallbacks: []string{"sales"}}, nil
	case day.Refunds:
		return Slot{Section: "sales", Key: "refund", Label: "Refunds", Fallbacks: []string{"sales"}}, nil
	case day.ServiceCharges:
		return Slot{Section: "sales", Key: "serviceCharges", Label: "Service charges", Fallbacks: []string{"sales"}}, nil
	case day.Shipping:
		return Slot{Section: "sales", Key: "shipping", Label: "Shipping", Fallbacks: []string{"serviceCharges", "sales"}}, nil
	case day.GiftCards:
		// A gift card sold is owed to its holder: it never falls back to sales.
		return Slot{Section: "sales", Key: "prepaid", Label: "Gift cards sold"}, nil
	case day.Rounding:
		return Slot{Section: "sales", Key: "rounding", Label: "Rounding"}, nil
	case day.Unsettled:
		return Slot{Section: "payments", Key: "unsettled", Label: "Unsettled sales"}, nil
	case day.Payouts:
		return Slot{Section: "payments", Key: "payout", Label: "Payouts"}, nil
	case day.PayoutClearing:
		return Slot{Section: "payments", Key: "payoutClearing", Label: "Payouts from the provider's balance", Fallbacks: []string{"card"}}, nil
	case day.PaymentFees:
		return Slot{Section: "fees", Key: "paymentFee", Label: "Payment fees"}, nil
	case day.PaymentFeeRefunds:
		return Slot{Section: "fees", Key: "paymentFeeRefund", Label: "Payment fee refunds"}, nil
	}
	if cat, ok := strings.CutPrefix(string(a), "sales:"); ok && cat != "" {
		return Slot{Section: "sales", Key: "category:" + cat, Label: "Sales of category " + cat, Fallbacks: []string{"sales"}}, nil
	}
	if key, ok := strings.CutPrefix(string(a), "tax:"); ok && key != "" {
		label := "Tax component " + key
		if rate, ok := strings.CutPrefix(key, "rate:"); ok {
			label = "Tax at " + rate + "%"
		}
		return Slot{Section: "sales", Key: "tax:" + key, Label: label, Fallbacks: []string{"tax"}}, nil
	}
	if t, ok := a.TenderType(); ok && t != "" {
		// Codat's keys are the payment type in lowerCamelCase: Card → card,
		// OnlineCard → onlineCard.
		r, n := utf8.DecodeRuneInString(t)
		return Slot{Section: "payments", Key: string(unicode.ToLower(r)) + t[n:], Label: t + " payments"}, nil
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

// Document is a platform-neutral accounting document. A journal has only
// Lines, signed debit positive. The documents of invoice mode (invoice.go)
// hold Lines in the document's own direction, positive adding to its
// total, and their money in Money (and To, for a transfer).
type Document struct {
	Type      string
	Date      string
	Currency  string
	Narration string
	Lines     []Line
	// Contact is the customer of a sales document or the supplier of a bill.
	Contact string
	// Status is a sales invoice's or credit note's status: Submitted or Draft.
	Status string
	// Money is the account a payment, refund, transfer, spend or receipt
	// moves money through, and the amount (positive).
	Money Line
	// To is where a transfer's money arrives.
	To Line
	// AppliesTo holds the indexes of the documents a payment or refund
	// settles; a credit allocation names the credit note, then the invoice.
	AppliesTo []int
	// Tracking is what every line carries: the location's tracking options
	// when the day is grouped by location.
	Tracking []Tracking
}

// Tracking names one option of one of the platform's tracking categories.
type Tracking struct {
	CategoryID, OptionID string
}

// Track gives every document the tracking of the summary's location.
func Track(planned []Planned, tracking []Tracking) []Planned {
	if len(tracking) == 0 {
		return planned
	}
	for i := range planned {
		planned[i].Document.Tracking = append([]Tracking(nil), tracking...)
	}
	return planned
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
	var b binder
	lines, err := b.lines(s, accts, dp)
	if err != nil {
		return nil, err
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	lines = merge(lines)
	narration := Narration(s)
	id := DocumentID(s.ID, 0)
	return []Planned{{
		Index: 0, DocumentID: id, Reference: Reference(id),
		Document: Document{Type: TypeJournal, Date: s.Day, Currency: s.Currency, Narration: narration, Lines: lines},
	}}, nil
}

// Narration names the day a summary's documents carry, and the adjustment
// when the summary is a later revision.
func Narration(s day.Summary) string {
	what := fmt.Sprintf("daily sales summary %s %s", s.Day, s.Currency)
	if s.Location != "" {
		what += " at " + s.Location
	}
	if s.Revision > 1 {
		return fmt.Sprintf("Adjustment %d to %s", s.Revision-1, what)
	}
	return "D" + what[1:]
}

// binder binds semantic accounts to the merchant's accounts, trying each
// slot's fallbacks, and collects every unmapped slot so that one message
// names them all.
type binder struct {
	missing []gap
}

type gap struct{ text, path string }

// bind returns the binding of a; ok is false when the slot is unmapped (the
// gap is recorded for err).
func (b *binder) bind(accts Accounts, a day.Account) (Binding, Slot, bool, error) {
	slot, err := SlotOf(a)
	if err != nil {
		return Binding{}, Slot{}, false, err
	}
	bound, ok := accts.Account(slot.Section, slot.Key)
	for _, f := range slot.Fallbacks {
		if ok && bound.AccountID != "" {
			break
		}
		bound, ok = accts.Account(slot.Section, f)
	}
	if !ok || bound.AccountID == "" {
		b.missing = append(b.missing, gap{fmt.Sprintf("%s (%s)", slot.Label, slot.Path()), slot.Path()})
		return Binding{}, slot, false, nil
	}
	return bound, slot, true, nil
}

func (b *binder) err() error {
	if len(b.missing) == 0 {
		return nil
	}
	sort.Slice(b.missing, func(i, j int) bool { return b.missing[i].text < b.missing[j].text })
	texts := make([]string, 0, len(b.missing))
	for i, m := range b.missing {
		if i > 0 && m.text == b.missing[i-1].text {
			continue
		}
		texts = append(texts, m.text)
	}
	return &Error{Field: b.missing[0].path, Message: fmt.Sprintf(
		"No account is mapped for %s. Please configure your Sync settings to map these accounts.", strings.Join(texts, ", "))}
}

// lines binds each of the summary's lines, its amount the net (debit
// positive); an unmapped one is left out and recorded for err.
func (b *binder) lines(s day.Summary, accts Accounts, dp int) ([]Line, error) {
	out := make([]Line, 0, len(s.Lines))
	for _, l := range s.Lines {
		bound, slot, ok, err := b.bind(accts, l.Account)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		net, err := l.Debit.Sub(l.Credit)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", l.Account, err)
		}
		if err := fits(net, dp, l.Account, slot, s.Currency); err != nil {
			return nil, err
		}
		out = append(out, Line{Account: bound, Semantic: l.Account, Description: slot.Label, Amount: net})
	}
	return out, nil
}

// fits refuses an amount finer than the currency's minor units.
func fits(amt money.Amount, dp int, a day.Account, slot Slot, currency string) error {
	if amt.FitsDecimals(dp) {
		return nil
	}
	return &Error{Field: string(a), Message: fmt.Sprintf(
		"the %s total %s for %s has more than %d decimal places; rounding of sub-unit amounts is not configured",
		slot.Label, amt, currency, dp)}
}

// merge makes one line per merchant account, as Codat's journals have it:
// discounts and refunds mapped to the sales account net there, tax
// components mapped to one tax account add up. Lines come out in the order
// of their first semantic account, and a line that nets to zero is left out.
func merge(lines []Line) []Line {
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Semantic < lines[j].Semantic })
	var out []Line
	at := map[string]int{}
	for _, l := range lines {
		key := l.Account.AccountID + "\x00" + l.Account.Code
		i, ok := at[key]
		if !ok {
			at[key] = len(out)
			out = append(out, l)
			continue
		}
		out[i].Amount += l.Amount // both fit a day's totals, which are checked
		out[i].Description += ", " + l.Description
	}
	kept := out[:0]
	for _, l := range out {
		if l.Amount != 0 {
			kept = append(kept, l)
		}
	}
	return kept
}
