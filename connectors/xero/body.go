package xero

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The request body: spec schemas ManualJournals / ManualJournal /
// ManualJournalLine (accounting-platform-apis.md §1.2). Structs marshal
// fields in declaration order, so the same document always gives the same
// bytes, which Xero's idempotency store compares (§1.4).
type journalsBody struct {
	ManualJournals []journalBody `json:"ManualJournals"`
}

type journalBody struct {
	Narration       string     `json:"Narration"`
	Date            string     `json:"Date"`
	Status          string     `json:"Status"`
	LineAmountTypes string     `json:"LineAmountTypes"`
	JournalLines    []lineBody `json:"JournalLines"`
}

type lineBody struct {
	// LineAmount is the number's text, written directly: money never
	// passes through float64.
	LineAmount  json.RawMessage `json:"LineAmount"`
	AccountCode string          `json:"AccountCode,omitempty"`
	AccountID   string          `json:"AccountID,omitempty"`
	Description string          `json:"Description,omitempty"`
	// Tracking: at most 2 per line (spec ManualJournalLine.Tracking).
	Tracking []trackingRef `json:"Tracking,omitempty"`
}

// trackingRef is the spec's TrackingCategory / LineItemTracking by ids.
type trackingRef struct {
	TrackingCategoryID string `json:"TrackingCategoryID"`
	TrackingOptionID   string `json:"TrackingOptionID"`
}

// tracking is the document's tracking as every line carries it.
func tracking(doc *commercesyncv1.Document) []trackingRef {
	var out []trackingRef
	for _, t := range doc.GetTracking() {
		out = append(out, trackingRef{TrackingCategoryID: t.GetCategoryId(), TrackingOptionID: t.GetOptionId()})
	}
	return out
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

var maxAmount = decimal.RequireFromString(maxLineAmount)

// manualJournalBody builds the PUT /ManualJournals body. Problems here are
// planner bugs, not merchant data, so they are Fatal.
func manualJournalBody(doc *commercesyncv1.Document, ref connectors.Reference) ([]byte, error) {
	fatal := func(field, format string, args ...any) error {
		return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "xero: " + fmt.Sprintf(format, args...)}
	}
	if doc == nil {
		return nil, fatal("", "no document")
	}
	if doc.GetType() != "ManualJournal" {
		return nil, fatal("Type", "document type %q is not supported; only ManualJournal", doc.GetType())
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return nil, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if len(doc.GetLines()) < 2 {
		return nil, fatal("Lines", "a manual journal needs at least 2 lines, got %d", len(doc.GetLines()))
	}
	j := journalBody{
		Narration: narration(doc.GetNarration(), ref.Value),
		Date:      doc.GetDate(),
		// POSTED: a DRAFT would not reach the ledger (§1.2).
		Status:          "POSTED",
		LineAmountTypes: "NoTax",
		JournalLines:    make([]lineBody, 0, len(doc.GetLines())),
	}
	for i, l := range doc.GetLines() {
		amt, err := lineAmount(l.GetAmount())
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].Amount", i), "%v", err)
		}
		lb := lineBody{LineAmount: amt, Description: l.GetDescription(), Tracking: tracking(doc)}
		// The code is what the merchant sees and maps; the id is the fallback.
		switch {
		case l.GetAccountCode() != "":
			lb.AccountCode = l.GetAccountCode()
		case l.GetAccountId() != "":
			lb.AccountID = l.GetAccountId()
		default:
			return nil, fatal(fmt.Sprintf("Lines[%d].AccountCode", i), "line %d has no account", i)
		}
		j.JournalLines = append(j.JournalLines, lb)
	}
	b, err := json.Marshal(journalsBody{ManualJournals: []journalBody{j}})
	if err != nil {
		return nil, fatal("", "encode manual journal: %v", err)
	}
	return b, nil
}

// narration appends the reference in brackets; Find searches for it.
func narration(text, ref string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return "[" + ref + "]"
	}
	return text + " [" + ref + "]"
}

// lineAmount renders a signed decimal string as a JSON number with exactly
// 2 decimals. Amounts arrive at 2 dp already; more is a bug upstream, and
// rounding here would unbalance the journal.
func lineAmount(s string) (json.RawMessage, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("amount %q is not a decimal", s)
	}
	if !d.Equal(d.Round(2)) {
		return nil, fmt.Errorf("amount %q has more than 2 decimal places", s)
	}
	if d.Abs().GreaterThan(maxAmount) {
		return nil, fmt.Errorf("amount %q exceeds Xero's largest line amount %s", s, maxLineAmount)
	}
	return json.RawMessage(d.StringFixed(2)), nil
}
