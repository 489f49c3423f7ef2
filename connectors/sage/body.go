package sage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// payload is one create call: the collection to POST to and the body.
type payload struct {
	path string
	body []byte
}

// payloadFor builds the create call for a document. This is where each
// document type gets its Sage resource: journal mode is ManualJournal →
// POST /journals. Invoice mode (issue 3's invoice-mode plan) adds its cases
// here, each with a builder beside journalBody that puts the same
// idempotency_id inside its resource and ref.Value in its reference:
// SalesInvoice → /sales_invoices, CustomerReceipt/CustomerRefund →
// /contact_payments, SalesCreditNote → /sales_credit_notes, FeeBill →
// /other_payments, Payout → /bank_transfers (apis.md §3.2).
func payloadFor(doc *commercesyncv1.Document, ref connectors.Reference) (payload, error) {
	if doc == nil {
		return payload{}, fatal("", "no document")
	}
	switch doc.GetType() {
	case "ManualJournal":
		b, err := journalBody(doc, ref)
		return payload{path: "/journals", body: b}, err
	}
	return payload{}, fatal("Type", "document type %q is not supported; only ManualJournal (journal mode)", doc.GetType())
}

// The request body: spec postJournals (apis.md §3.2). Structs marshal
// fields in declaration order and amounts are written as text, so the same
// document and reference always give the same bytes.
type journalRequest struct {
	Journal journalPayload `json:"journal"`
}

type journalPayload struct {
	Date        string `json:"date"`
	Reference   string `json:"reference"`
	Description string `json:"description,omitempty"`
	// IdempotencyID sits inside the resource ("in the namespace of the
	// resource", apis.md §3.4).
	IdempotencyID string        `json:"idempotency_id"`
	JournalLines  []linePayload `json:"journal_lines"`
}

type linePayload struct {
	LedgerAccountID string `json:"ledger_account_id"`
	// Debit and Credit are the numbers' text, written directly: money never
	// passes through float64.
	Debit   json.RawMessage `json:"debit"`
	Credit  json.RawMessage `json:"credit"`
	Details string          `json:"details,omitempty"`
	// AnalysisTypeCategories are category ids (spec postJournals
	// journal_lines.analysis_type_categories, an array of strings; apis.md
	// §3.3). Left out when the document has no tracking, so untracked
	// journals keep the body they always had.
	AnalysisTypeCategories []string `json:"analysis_type_categories,omitempty"`
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// maxSignificant keeps every amount exactly representable in the double
// Sage parses it into (spec: format double).
const maxSignificant = 15

var zero = json.RawMessage("0.00")

// journalBody builds the POST /journals body. Problems here are planner
// bugs, not merchant data, so they are Fatal.
func journalBody(doc *commercesyncv1.Document, ref connectors.Reference) ([]byte, error) {
	if !isoDate.MatchString(doc.GetDate()) {
		return nil, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if _, err := time.Parse(time.DateOnly, doc.GetDate()); err != nil {
		return nil, fatal("Date", "date %q is not a calendar date", doc.GetDate())
	}
	if len(doc.GetLines()) < 2 {
		return nil, fatal("Lines", "a journal needs at least 2 lines, got %d", len(doc.GetLines()))
	}
	analysis, err := analysisCategories(doc)
	if err != nil {
		return nil, err
	}
	j := journalPayload{
		Date:      doc.GetDate(),
		Reference: ref.Value,
		// Journal.description is at most 200 characters (spec Journal).
		Description:   truncate(strings.TrimSpace(doc.GetNarration()), MaxDescriptionLen),
		IdempotencyID: IdempotencyID(ref),
		JournalLines:  make([]linePayload, 0, len(doc.GetLines())),
	}
	for i, l := range doc.GetLines() {
		if l.GetAccountId() == "" {
			// Sage journal lines name ledger accounts by id (spec postJournals
			// journal_lines.required ledger_account_id).
			return nil, fatal(fmt.Sprintf("Lines[%d].AccountId", i), "line %d has no ledger account id", i)
		}
		d, err := lineAmount(l.GetAmount())
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].Amount", i), "%v", err)
		}
		lp := linePayload{LedgerAccountID: l.GetAccountId(), Debit: zero, Credit: zero, Details: l.GetDescription(), AnalysisTypeCategories: analysis}
		// + is a debit, - a credit (DocumentLine.amount).
		if d.IsNegative() {
			lp.Credit = json.RawMessage(d.Neg().StringFixed(2))
		} else {
			lp.Debit = json.RawMessage(d.StringFixed(2))
		}
		j.JournalLines = append(j.JournalLines, lp)
	}
	b, err := json.Marshal(journalRequest{Journal: j})
	if err != nil {
		return nil, fatal("", "encode journal: %v", err)
	}
	return b, nil
}

// analysisCategories is the document's tracking as every Sage line carries
// it: the option ids, which are analysis type category ids (Setup.Tracking
// lists analysis types as categories and their categories as options). A
// Sage category belongs to one analysis type, so the type's id is not sent.
// Whether the categories go together (active, one per type, how many) is
// left to Sage: its refusal names the merchant's tracking set-up, which the
// merchant fixes, while an option without an id is a planner bug.
func analysisCategories(doc *commercesyncv1.Document) ([]string, error) {
	var out []string
	for i, t := range doc.GetTracking() {
		if t.GetOptionId() == "" {
			return nil, fatal(fmt.Sprintf("Tracking[%d].OptionId", i), "tracking %d (category %q) has no option id", i, t.GetCategoryId())
		}
		out = append(out, t.GetOptionId())
	}
	return out, nil
}

// lineAmount parses a signed decimal string with at most 2 decimals (Sage
// uses 2 dp, apis.md §3.7). More is a bug upstream: rounding here would
// unbalance the journal.
func lineAmount(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("amount %q is not a decimal", s)
	}
	if !d.Equal(d.Round(2)) {
		return decimal.Decimal{}, fmt.Errorf("amount %q has more than 2 decimal places", s)
	}
	if digits := len(strings.TrimLeft(d.Abs().StringFixed(2), "0.")) - 1; digits > maxSignificant {
		return decimal.Decimal{}, fmt.Errorf("amount %q has more than %d significant digits", s, maxSignificant)
	}
	return d, nil
}

var guid32 = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// IdempotencyID is the idempotency_id sent for ref: Sage wants "a random
// 32 character hyphenless GUID" (apis.md §3.4). A key already in that form
// is used as it is (lower-cased); any other key (the worker's
// "<document id>-c<config version>") is hashed: the first 32 hex digits of
// its SHA-256. With no key, ref.Value is hashed. The same reference always
// gives the same id.
func IdempotencyID(ref connectors.Reference) string {
	k := ref.IdempotencyKey
	if k == "" {
		k = ref.Value
	}
	if guid32.MatchString(k) {
		return strings.ToLower(k)
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:16])
}

// truncate cuts s to at most n characters without splitting one.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func fatal(field, format string, args ...any) error {
	return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "sage: " + fmt.Sprintf(format, args...)}
}
