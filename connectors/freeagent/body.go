package freeagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// documentKind is how one commercesync document type becomes a FreeAgent
// resource: where it is created, how its exact body is built, how the
// created resource's URL is read back, and how it is found again by its
// reference. Journal mode is the journal set kind; invoice mode adds its
// kinds to documentKinds (an invoice with its reference, bank transaction
// explanations for payments, fees and transfers, a credit note; apis.md
// §5.2) without touching Push or Find.
type documentKind struct {
	// docType is commercesyncv1.Document.Type.
	docType string
	// collection is the create path below the API base ("/journal_sets").
	collection string
	// build returns the byte-stable create body. Its errors are Fatal: a
	// document the planner should not have produced.
	build func(apiBase string, doc *commercesyncv1.Document, ref connectors.Reference) ([]byte, error)
	// createdURL reads the new resource's URL from a 201 body.
	createdURL func(body []byte) (string, error)
	// find looks the resource up by reference; found is false when none
	// carries it.
	find func(ctx findContext, ref connectors.Reference) (connectors.Result, bool, error)
}

// documentKinds lists the kinds Push accepts and Find searches, in order.
var documentKinds = []documentKind{journalSetKind}

func kindOf(doc *commercesyncv1.Document) (documentKind, error) {
	for _, k := range documentKinds {
		if doc.GetType() == k.docType {
			return k, nil
		}
	}
	return documentKind{}, &connectors.Error{Class: connectors.Fatal, Field: "Type",
		Message: fmt.Sprintf("freeagent: document type %q is not supported; journal mode takes ManualJournal (invoice mode is not built yet)", doc.GetType())}
}

var journalSetKind = documentKind{
	docType:    "ManualJournal",
	collection: "/journal_sets",
	build:      journalSetBody,
	createdURL: func(body []byte) (string, error) {
		var out struct {
			JournalSet struct {
				URL string `json:"url"`
			} `json:"journal_set"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return "", err
		}
		if out.JournalSet.URL == "" {
			return "", fmt.Errorf("no journal_set.url in the answer")
		}
		return out.JournalSet.URL, nil
	},
	find: findJournalSet,
}

// The journal set payload (apis.md §5.2). Structs marshal in declaration
// order, so the same document always gives the same bytes.
type journalSetEnvelope struct {
	JournalSet journalSetBodyJSON `json:"journal_set"`
}

type journalSetBodyJSON struct {
	DatedOn        string             `json:"dated_on"`
	Description    string             `json:"description"`
	Tag            string             `json:"tag"`
	JournalEntries []journalEntryJSON `json:"journal_entries"`
}

type journalEntryJSON struct {
	// Category is the category's full URL: references between resources
	// are URLs (apis.md §5.2).
	Category    string `json:"category"`
	Description string `json:"description,omitempty"`
	// DebitValue is decimal text with 2 places, written directly (money
	// never passes through float64); negative = credit (apis.md §5.2, §5.7).
	DebitValue string `json:"debit_value"`
}

var (
	isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	// nominalCode allows FreeAgent's codes and sub-account codes ("001",
	// "750-1").
	nominalCode = regexp.MustCompile(`^[0-9A-Za-z]+(-[0-9A-Za-z]+)?$`)
)

// journalSetBody builds POST /v2/journal_sets. The reference travels in the
// tag, which Find filters on (apis.md §5.2 "you can filter by tag", §5.4).
func journalSetBody(apiBase string, doc *commercesyncv1.Document, ref connectors.Reference) ([]byte, error) {
	fatal := func(field, format string, args ...any) error {
		return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "freeagent: " + fmt.Sprintf(format, args...)}
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return nil, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if _, err := time.Parse(time.DateOnly, doc.GetDate()); err != nil {
		return nil, fatal("Date", "date %q is not a calendar date", doc.GetDate())
	}
	// A set must balance (apis.md §5.2), so it needs a debit and a credit.
	if len(doc.GetLines()) < 2 {
		return nil, fatal("Lines", "a journal set needs at least 2 entries, got %d", len(doc.GetLines()))
	}
	description := strings.TrimSpace(doc.GetNarration())
	if description == "" {
		// description is required (FreeAgent's journal sets page); the
		// reference is a stable stand-in.
		description = ref.Value
	}
	set := journalSetBodyJSON{
		DatedOn:        doc.GetDate(),
		Description:    description,
		Tag:            ref.Value,
		JournalEntries: make([]journalEntryJSON, 0, len(doc.GetLines())),
	}
	for i, l := range doc.GetLines() {
		amount, err := debitValue(l.GetAmount())
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].Amount", i), "%v", err)
		}
		category, err := categoryURL(apiBase, l)
		if bank, ok := errors.AsType[bankAccountError](err); ok {
			// The mapping points a line at a bank account, which journal sets
			// cannot post to: the merchant fixes the mapping.
			return nil, &connectors.Error{Class: connectors.MerchantActionable, Field: fmt.Sprintf("Lines[%d].AccountId", i), Message: fmt.Sprintf(
				"%s is a FreeAgent bank account, and FreeAgent journal sets can no longer post to or from bank accounts; "+
					"map this line (%s) to an accounting category instead", bank.url, l.GetSemanticAccount())}
		}
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].AccountCode", i), "line %d: %v", i, err)
		}
		set.JournalEntries = append(set.JournalEntries, journalEntryJSON{Category: category, Description: l.GetDescription(), DebitValue: amount})
	}
	b, err := json.Marshal(journalSetEnvelope{JournalSet: set})
	if err != nil {
		return nil, fatal("", "encode journal set: %v", err)
	}
	return b, nil
}

// categoryURL names the line's category as a full URL under apiBase. The
// nominal code is preferred: it gives the same URL whatever host the
// account was read from. A full category URL in AccountId is used as it is;
// a bank account gives a bankAccountError, since journals can no longer
// post to bank accounts (FreeAgent's journal sets page, apis.md §7).
func categoryURL(apiBase string, l *commercesyncv1.DocumentLine) (string, error) {
	code := strings.TrimSpace(l.GetAccountCode())
	id := strings.TrimSpace(l.GetAccountId())
	if code == "" && id != "" && !strings.Contains(id, "/") {
		code = id // a bare nominal code in the id
	}
	if code != "" {
		if !nominalCode.MatchString(code) {
			return "", fmt.Errorf("%q is not a FreeAgent nominal code", code)
		}
		return apiBase + "/categories/" + code, nil
	}
	switch {
	case id == "":
		return "", fmt.Errorf("no account")
	case strings.Contains(id, "/bank_accounts/"):
		return "", bankAccountError{url: id}
	case (strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")) && strings.Contains(id, "/categories/"):
		return id, nil
	}
	return "", fmt.Errorf("account id %q is neither a nominal code nor a category URL", id)
}

// bankAccountError is a line whose account is a bank account.
type bankAccountError struct{ url string }

func (e bankAccountError) Error() string { return e.url + " is a bank account" }

// codeOf is the nominal code at the end of a category URL.
func codeOf(categoryURL string) string {
	return categoryURL[strings.LastIndexByte(categoryURL, '/')+1:]
}

// debitValue renders a signed decimal string with exactly 2 places
// (apis.md §5.7 "amounts have 2 dp"). More places are a bug upstream;
// rounding here would unbalance the set.
func debitValue(s string) (string, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("amount %q is not a decimal", s)
	}
	if !d.Equal(d.Round(2)) {
		return "", fmt.Errorf("amount %q has more than 2 decimal places", s)
	}
	return d.StringFixed(2), nil
}
