package netsuite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// builder turns one kind of document into one NetSuite record.
type builder struct {
	// record is the REST record type (§4.2).
	record string
	// sublist is the line sublist an upsert replaces (?replace=, §4.2).
	sublist string
	build   func(doc *commercesyncv1.Document, ref connectors.Reference, st *accountState) ([]byte, error)
}

// builders maps Document.Type to its record. Journal mode is
// "ManualJournal" → journalentry. Invoice mode (issue 3's posting plan)
// adds its document types here, each with its record and sublist from
// §4.2: the daily invoice → invoice ("item"), payments → customerpayment
// ("apply"), the refund credit note → creditmemo ("item"), the fee bill →
// vendorbill ("expense"), the payout → transfer or deposit; Find then
// looks in each record type (findRecords), and Capabilities.InvoiceMode
// turns true.
var builders = map[string]builder{
	"ManualJournal": {record: "journalentry", sublist: "line", build: journalEntryBody},
}

// The request body of a journal entry, fields in the order of §4.2's
// example. Structs marshal in declaration order, so the same document and
// account state always give the same bytes.
type journalEntry struct {
	Subsidiary   recordRef       `json:"subsidiary"`
	Currency     recordRef       `json:"currency"`
	ExchangeRate json.RawMessage `json:"exchangeRate,omitempty"`
	TranDate     string          `json:"tranDate"`
	Memo         string          `json:"memo,omitempty"`
	Line         journalLines    `json:"line"`
}

type recordRef struct {
	ID string `json:"id"`
}

type journalLines struct {
	Items []journalLine `json:"items"`
}

type journalLine struct {
	Account recordRef `json:"account"`
	// Debit and Credit are number text written directly: money never
	// passes through float64.
	Debit  json.RawMessage `json:"debit,omitempty"`
	Credit json.RawMessage `json:"credit,omitempty"`
	Memo   string          `json:"memo,omitempty"`
	// The segments in §4.2's order; nil when the document has no tracking
	// in that segment, so untracked entries keep their earlier bytes.
	Department *recordRef `json:"department,omitempty"`
	Class      *recordRef `json:"class,omitempty"`
	Location   *recordRef `json:"location,omitempty"`
}

// lineTracking is the segments every line of a document carries.
type lineTracking struct {
	department, class, location *recordRef
}

// tracking reads Document.tracking. Category ids are the line fields
// Setup offers (trackingSegments), so anything else, a category named
// twice or an option without an id is the planner's bug (Fatal). Whether
// an option is active is NetSuite's to say: it refuses an inactive or
// unknown record as an invalid field value (§4.5), which names the line
// field, where the merchant can act on it.
func tracking(doc *commercesyncv1.Document) (lineTracking, error) {
	var lt lineTracking
	for i, t := range doc.GetTracking() {
		field := fmt.Sprintf("Tracking[%d]", i)
		if t.GetOptionId() == "" {
			return lt, &connectors.Error{Class: connectors.Fatal, Field: field + ".OptionId",
				Message: fmt.Sprintf("netsuite: tracking %q has no option id", t.GetCategoryId())}
		}
		var dst **recordRef
		switch t.GetCategoryId() {
		case "department":
			dst = &lt.department
		case "class":
			dst = &lt.class
		case "location":
			dst = &lt.location
		default:
			return lt, &connectors.Error{Class: connectors.Fatal, Field: field + ".CategoryId",
				Message: fmt.Sprintf("netsuite: tracking category %q is not one Setup offers (class, department, location)", t.GetCategoryId())}
		}
		if *dst != nil {
			// A line holds one value per segment (§4.2).
			return lt, &connectors.Error{Class: connectors.Fatal, Field: field + ".CategoryId",
				Message: fmt.Sprintf("netsuite: tracking category %q is given twice", t.GetCategoryId())}
		}
		*dst = &recordRef{t.GetOptionId()}
	}
	return lt, nil
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// journalEntryBody builds the journal entry for a ManualJournal. Shape
// problems are planner bugs (Fatal); a currency NetSuite does not have, or
// a subsidiary that cannot be chosen, are the merchant's to fix.
func journalEntryBody(doc *commercesyncv1.Document, ref connectors.Reference, st *accountState) ([]byte, error) {
	fatal := func(field, format string, args ...any) error {
		return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "netsuite: " + fmt.Sprintf(format, args...)}
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return nil, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if len(doc.GetLines()) < 2 {
		return nil, fatal("Lines", "a journal entry needs at least 2 lines, got %d", len(doc.GetLines()))
	}
	if st.sub == nil {
		return nil, st.subErr
	}
	code := strings.ToUpper(strings.TrimSpace(doc.GetCurrency()))
	cur, ok := st.bySymbol[code]
	if !ok {
		return nil, &connectors.Error{Class: connectors.MerchantActionable, Field: "Currency", Message: fmt.Sprintf(
			"The currency %s is not set up in NetSuite. Add it under Lists > Accounting > Currencies (Multiple Currencies must be enabled), then retry.", doc.GetCurrency())}
	}
	lt, err := tracking(doc)
	if err != nil {
		return nil, err
	}
	je := journalEntry{
		Subsidiary: recordRef{st.sub.id},
		Currency:   recordRef{cur.id},
		TranDate:   doc.GetDate(),
		Memo:       memo(doc.GetNarration(), ref.Value),
	}
	if cur.id == st.sub.currency {
		// §4.2's example sends 1.0 for a base-currency entry; a foreign
		// currency is left to NetSuite's rate for the date.
		je.ExchangeRate = json.RawMessage("1.0")
	}
	for i, l := range doc.GetLines() {
		field := fmt.Sprintf("Lines[%d]", i)
		d, err := decimal.NewFromString(strings.TrimSpace(l.GetAmount()))
		if err != nil {
			return nil, fatal(field+".Amount", "amount %q is not a decimal", l.GetAmount())
		}
		if !d.Equal(d.Round(cur.precision)) {
			// Rounding here would unbalance the entry: the planner must
			// send amounts at the currency's precision (§4.7).
			return nil, fatal(field+".Amount", "amount %q has more than %d decimal places for %s", l.GetAmount(), cur.precision, code)
		}
		if d.IsZero() {
			// A line must carry a debit or a credit; a zero line posts nothing.
			continue
		}
		id := l.GetAccountId()
		if id == "" && l.GetAccountCode() != "" {
			if id, ok = st.byNumber[l.GetAccountCode()]; !ok {
				return nil, &connectors.Error{Class: connectors.MerchantActionable, Field: field + ".AccountCode", Message: fmt.Sprintf(
					"No active NetSuite account has the number %s. Update the account mapping.", l.GetAccountCode())}
			}
		}
		if id == "" {
			return nil, fatal(field+".AccountId", "line %d has no account", i)
		}
		amount := json.RawMessage(d.Abs().StringFixed(cur.precision))
		line := journalLine{Account: recordRef{id}, Memo: l.GetDescription(),
			Department: lt.department, Class: lt.class, Location: lt.location}
		if d.IsPositive() {
			line.Debit = amount
		} else {
			line.Credit = amount
		}
		je.Line.Items = append(je.Line.Items, line)
	}
	if len(je.Line.Items) == 0 {
		return nil, fatal("Lines", "every line amount is zero")
	}
	b, err := json.Marshal(je)
	if err != nil {
		return nil, fatal("", "encode journal entry: %v", err)
	}
	return b, nil
}

// memo ends with "[reference]" so a person can find the entry in
// NetSuite, where external ids are not shown on forms.
func memo(text, ref string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return "[" + ref + "]"
	}
	return text + " [" + ref + "]"
}

var externalIDSafe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ExternalID is the externalId a reference is stored under. A reference of
// externalId's characters ("letters, digits, _ and -", §4.4) and at most
// MaxExternalIDLen long is used as it is (the planner's references, such
// as "CS-0123ABCD…", are); any other is replaced by "cs-" and 40 hex
// digits of its SHA-256, which also fits. NetSuite compares external ids
// without case, so two references differing only in case name one record.
func ExternalID(reference string) string {
	if len(reference) <= MaxExternalIDLen && externalIDSafe.MatchString(reference) {
		return reference
	}
	sum := sha256.Sum256([]byte(reference))
	return "cs-" + hex.EncodeToString(sum[:20])
}
