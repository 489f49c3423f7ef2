package qbo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// kind is the document type journal mode pushes: the QuickBooks entity
// it becomes and how its body is built. Invoice mode's types are routed
// in invoices.go (draft.steps), and Find searches them by the document's
// type (lookups).
type kind struct {
	entity string // URL path segment, e.g. "journalentry"
	name   string // entity name in queries and response wrappers
	build  func(doc *commercesyncv1.Document, ref connectors.Reference, co company) ([]byte, error)
}

var kinds = map[string]kind{
	"ManualJournal": {entity: "journalentry", name: "JournalEntry", build: journalEntryBody},
}

// kindOrder is the order Find searches entities in.
var kindOrder = []string{"ManualJournal"}

// company is what a body depends on besides the document.
type company struct {
	country string
	// accountByCode maps AcctNum to Id for lines that carry only a code.
	accountByCode map[string]string
	// track is the class and department the document's lines carry.
	track lineTracking
}

// The JournalEntry body (§2.2). Structs marshal fields in declaration
// order, so the same document always gives the same bytes.
type journalEntryJSON struct {
	TxnDate              string     `json:"TxnDate"`
	DocNumber            string     `json:"DocNumber"`
	PrivateNote          string     `json:"PrivateNote"`
	CurrencyRef          refJSON    `json:"CurrencyRef"`
	GlobalTaxCalculation string     `json:"GlobalTaxCalculation,omitempty"`
	Line                 []lineJSON `json:"Line"`
}

type refJSON struct {
	Value string `json:"value"`
}

type lineJSON struct {
	Description string `json:"Description,omitempty"`
	// Amount is the number's text, written directly: money never passes
	// through float64.
	Amount                 json.RawMessage `json:"Amount"`
	DetailType             string          `json:"DetailType"`
	JournalEntryLineDetail detailJSON      `json:"JournalEntryLineDetail"`
}

type detailJSON struct {
	PostingType string  `json:"PostingType"`
	AccountRef  refJSON `json:"AccountRef"`
	// Entity names the customer or vendor of a line on Accounts
	// Receivable or Accounts Payable (§2.2); only invoice mode's journal
	// entries post there.
	Entity *entityJSON `json:"Entity,omitempty"`
	// ClassRef and DepartmentRef are the document's tracking (§2.2).
	ClassRef      *refJSON `json:"ClassRef,omitempty"`
	DepartmentRef *refJSON `json:"DepartmentRef,omitempty"`
}

type entityJSON struct {
	Type      string  `json:"Type"`
	EntityRef refJSON `json:"EntityRef"`
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// journalEntryBody builds the POST /journalentry body for a ManualJournal.
// Lines keep the document's order; each signed amount becomes a positive
// Amount with PostingType Debit (+) or Credit (−) (§2.2). Zero lines are
// left out: they post nothing and have no side. CurrencyRef is always sent
// (required with multicurrency, §2.2); non-US companies get
// GlobalTaxCalculation TaxExcluded (required outside the US, §2.2; journal
// mode posts no tax lines, so nothing is calculated). Every line carries
// the document's class and department (tracking.go). Problems here are
// planner bugs, so they are Fatal.
func journalEntryBody(doc *commercesyncv1.Document, ref connectors.Reference, co company) ([]byte, error) {
	fatal := func(field, format string, args ...any) error {
		return &connectors.Error{Class: connectors.Fatal, Field: field, Message: "qbo: " + fmt.Sprintf(format, args...)}
	}
	if doc == nil {
		return nil, fatal("", "no document")
	}
	if !isoDate.MatchString(doc.GetDate()) {
		return nil, fatal("Date", "date %q is not YYYY-MM-DD", doc.GetDate())
	}
	if len(doc.GetCurrency()) != 3 {
		return nil, fatal("Currency", "currency %q is not an ISO 4217 code", doc.GetCurrency())
	}
	je := journalEntryJSON{
		TxnDate:     doc.GetDate(),
		DocNumber:   DocNumber(ref.Value),
		PrivateNote: privateNote(doc.GetNarration(), ref.Value),
		CurrencyRef: refJSON{Value: strings.ToUpper(doc.GetCurrency())},
	}
	if co.country != "" && co.country != "US" {
		je.GlobalTaxCalculation = "TaxExcluded"
	}
	for i, l := range doc.GetLines() {
		amt, side, err := lineAmount(l.GetAmount())
		if err != nil {
			return nil, fatal(fmt.Sprintf("Lines[%d].Amount", i), "%v", err)
		}
		if side == "" {
			continue
		}
		id := l.GetAccountId()
		if id == "" {
			id = co.accountByCode[l.GetAccountCode()]
		}
		if id == "" {
			return nil, fatal(fmt.Sprintf("Lines[%d].AccountId", i), "line %d has no account", i)
		}
		je.Line = append(je.Line, lineJSON{
			Description: l.GetDescription(), Amount: amt, DetailType: "JournalEntryLineDetail",
			JournalEntryLineDetail: detailJSON{PostingType: side, AccountRef: refJSON{Value: id}},
		})
	}
	if len(je.Line) < 2 {
		return nil, fatal("Lines", "a journal entry needs at least 2 non-zero lines, got %d", len(je.Line))
	}
	co.track.track(je.Line)
	b, err := json.Marshal(je)
	if err != nil {
		return nil, fatal("", "encode journal entry: %v", err)
	}
	return b, nil
}

// lineAmount turns a signed decimal string into QuickBooks' positive Amount
// with exactly 2 decimals and its PostingType; side is "" for zero.
// Amounts arrive at the currency's decimals; more than 2 is a bug upstream
// (§2.7: amounts have 2 dp), and rounding here would unbalance the entry.
func lineAmount(s string) (json.RawMessage, string, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return nil, "", fmt.Errorf("amount %q is not a decimal", s)
	}
	if !d.Equal(d.Round(2)) {
		return nil, "", fmt.Errorf("amount %q has more than 2 decimal places", s)
	}
	switch d.Sign() {
	case 0:
		return nil, "", nil
	case 1:
		return json.RawMessage(d.StringFixed(2)), "Debit", nil
	}
	return json.RawMessage(d.Neg().StringFixed(2)), "Credit", nil
}

// referenceTag is how a reference ends PrivateNote.
func referenceTag(ref string) string { return "[" + ref + "]" }

// privateNote is the narration followed by the reference tag, cut to
// PrivateNote's 4000 characters by shortening the narration (§2.2).
func privateNote(narration, ref string) string {
	tag := referenceTag(ref)
	narration = strings.TrimSpace(narration)
	if narration == "" {
		return tag
	}
	room := MaxPrivateNoteLen - utf8.RuneCountInString(tag) - 1
	if utf8.RuneCountInString(narration) > room {
		narration = strings.TrimSpace(string([]rune(narration)[:room]))
	}
	return narration + " " + tag
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// RequestID maps an idempotency key into QuickBooks' requestid (§2.4: at
// most 50 characters, unique per company; reuse it on every retry). A key
// of at most 50 URL-safe characters is used as it is; any other becomes a
// UUID-shaped SHA-256 digest of the key (36 characters), the same on every
// call.
func RequestID(key string) string {
	if len(key) <= MaxRequestIDLen && plainKey.MatchString(key) {
		return key
	}
	h := hex.EncodeToString(sha256Sum("requestid\x00" + key))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DocNumber maps a reference into JournalEntry.DocNumber (§2.2: at most 21
// characters). A reference that fits is used as it is; a longer one keeps
// its first 11 characters, so people can still recognise it, and adds 10
// hexadecimal digits of its SHA-256, so references sharing a prefix stay
// apart. The full reference is in PrivateNote, and Find checks it.
func DocNumber(ref string) string {
	if utf8.RuneCountInString(ref) <= MaxDocNumberLen {
		return ref
	}
	h := strings.ToUpper(hex.EncodeToString(sha256Sum("docnumber\x00" + ref)))
	return string([]rune(ref)[:11]) + h[:10]
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// sumRates adds the rates of a tax code's components, exactly, and gives
// the total with 4 decimals like the other connectors' tax rates.
func sumRates(ids []string, rateOf map[string]string) (string, error) {
	total := decimal.Zero
	for _, id := range ids {
		v, ok := rateOf[id]
		if !ok {
			continue // an inactive or hidden rate is not listed
		}
		d, err := decimal.NewFromString(v)
		if err != nil {
			return "", fmt.Errorf("rate %s value %q is not a decimal", id, v)
		}
		total = total.Add(d)
	}
	return total.StringFixed(4), nil
}
