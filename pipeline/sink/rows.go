// Package sink copies what reconciliation reads from Kafka into its store:
// the window's contribution changes (ledger.contributions) and the ledger's
// revisions (ledger.days). It never re-implements versioning: a day's
// commerce side is the sum of its contributions, exactly as the window
// decided them. Rows name their source (a Kafka offset, or a day's
// revision), so the store can collapse a batch written twice, and offsets
// are committed only once the store has acknowledged the batch.
package sink

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/plan"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Rows is one batch for the store, table by table.
type Rows struct {
	Contributions []Contribution
	Days          []Day
	Lines         []Line
	Documents     []Document
	Movements     []Movement
	Quarantine    []Quarantined
	Settlements   []Settlement
	Rejects       []Reject
}

// Len counts the batch's rows.
func (r *Rows) Len() int {
	return len(r.Contributions) + len(r.Days) + len(r.Lines) + len(r.Documents) + len(r.Movements) + len(r.Quarantine) + len(r.Settlements) + len(r.Rejects)
}

func (r *Rows) reset() {
	clear(r.Contributions)
	clear(r.Days)
	clear(r.Lines)
	clear(r.Rejects)
	clear(r.Documents)
	clear(r.Movements)
	clear(r.Quarantine)
	clear(r.Settlements)
	r.Settlements = r.Settlements[:0]
	r.Contributions, r.Days, r.Lines, r.Rejects = r.Contributions[:0], r.Days[:0], r.Lines[:0], r.Rejects[:0]
	r.Documents, r.Movements, r.Quarantine = r.Documents[:0], r.Movements[:0], r.Quarantine[:0]
}

// DayKey names one company's business day in one currency and location.
type DayKey struct {
	TenantID, CompanyID string
	Day                 time.Time // midnight UTC of the business day
	Currency, Location  string
}

// Source is the Kafka record a row came from.
type Source struct {
	Partition int32
	Offset    int64
}

// Contribution is one posting of one contribution change. A change with no
// postings is one row with Account "" and Index 0.
type Contribution struct {
	DayKey
	Kind                         string // order | payment | transaction
	RecordType, RecordID         string
	Sign                         int8
	Account                      string
	Amount                       money.Amount
	Exception                    string
	EventTime                    time.Time
	PaymentType, LinkedPaymentID string
	Source                       Source
	Index                        uint16
}

// Settlement links a payout to one payment it settles, with the sign of
// the contribution change that listed it.
type Settlement struct {
	TenantID, CompanyID string
	Day                 time.Time
	PayoutID, PaymentID string
	Sign                int8
	Source              Source
	Index               uint16
}

// MaxSettledIDs bounds the payments one payout settles (the window's
// limit).
const MaxSettledIDs = 10_000

// Day is one revision of one day on ledger.days.
type Day struct {
	DayKey
	Revision                    int32
	SummaryID, SealedBy         string
	ConfigVersion               int64
	RecordCount, ExceptionCount int32
	Start, End                  time.Time
	Source                      Source
}

// Line is one account of one revision, net (debit positive).
type Line struct {
	DayKey
	Revision int32
	Account  string
	Amount   money.Amount
}

// Reject is a record the sink could not read or place.
type Reject struct {
	Topic      string
	Source     Source
	Reason     string
	RejectedAt time.Time
}

// The store's Date and DateTime columns hold 1970-01-01 to 2105-12-31
// (older servers' range); a value outside is refused here, with its record,
// rather than stored wrong.
var (
	firstDay = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	lastDay  = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
)

// maxAmount is the largest magnitude Decimal(18, 4) holds, in 1/10000 units.
const maxAmount = 999_999_999_999_999_999

// MaxRecordPostings bounds the postings of one contribution (the window's
// days hold at most 1,000 accounts), and so a row's index.
const MaxRecordPostings = 1000

// MaxStringBytes bounds every text column. The window's ids, accounts and
// codes are far shorter; a longer value is refused with its record.
const MaxStringBytes = 4096

var kinds = map[v1.RecordKind]string{
	v1.RecordKind_RECORD_KIND_ORDER:       "order",
	v1.RecordKind_RECORD_KIND_PAYMENT:     "payment",
	v1.RecordKind_RECORD_KIND_TRANSACTION: "transaction",
}

func dayOf(s string) (time.Time, error) {
	d, err := time.Parse(day.DayLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("business day %q is not a date (YYYY-MM-DD)", s)
	}
	if d.Before(firstDay) || d.After(lastDay) {
		return time.Time{}, fmt.Errorf("business day %s is outside %s to %s, the range the store holds", s, firstDay.Format(day.DayLayout), lastDay.Format(day.DayLayout))
	}
	return d, nil
}

func instant(ms int64, what string) (time.Time, error) {
	t := time.UnixMilli(ms).UTC()
	if t.Before(firstDay) || t.After(lastDay) {
		return time.Time{}, fmt.Errorf("%s %d ms is outside %s to %s, the range the store holds", what, ms, firstDay.Format(day.DayLayout), lastDay.Format(day.DayLayout))
	}
	return t, nil
}

// checkText checks text fields, given as name, value pairs, against
// MaxStringBytes: the first too long is named, always the same one for the
// same record, and a record's check allocates nothing.
func checkText(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; len(v) > MaxStringBytes {
			return fmt.Errorf("%s takes %d bytes; the limit is %d", pairs[i], len(v), MaxStringBytes)
		}
	}
	return nil
}

// clip cuts free text (a reason, a platform's message) to MaxStringBytes:
// it is kept, shortened, rather than refused with its record.
func clip(s string) string {
	if len(s) > MaxStringBytes {
		return s[:MaxStringBytes]
	}
	return s
}

func checkAmount(a int64, what string) error {
	if a > maxAmount || a < -maxAmount {
		return fmt.Errorf("%s %s is beyond what Decimal(18, 4) holds", what, money.Amount(a))
	}
	return nil
}

// add appends the rows of one record of any topic the sink reads. A record
// it refuses adds no row.
func (r *Rows) add(t kafka.Topics, rec *kgo.Record) error {
	switch rec.Topic {
	case t.Contributions:
		return r.addContribution(rec)
	case t.Ledger:
		return r.addDay(rec)
	case t.Outbox:
		return r.addOutbox(rec)
	case t.Quarantine:
		return r.addQuarantine(rec)
	}
	return fmt.Errorf("topic %s is not one the sink reads", rec.Topic)
}

// addContribution appends the rows of one ledger.contributions record.
func (r *Rows) addContribution(rec *kgo.Record) error {
	var c v1.Contribution
	if err := proto.Unmarshal(rec.Value, &c); err != nil {
		return fmt.Errorf("it cannot be decoded as a Contribution: %w", err)
	}
	if c.GetCompanyId() == "" || string(rec.Key) != c.GetCompanyId() {
		return fmt.Errorf("its company id %q does not match its key %q", c.GetCompanyId(), rec.Key)
	}
	d, err := dayOf(c.GetBusinessDay())
	if err != nil {
		return err
	}
	kind, ok := kinds[c.GetKind()]
	if !ok {
		return fmt.Errorf("record kind %v is none of order, payment, transaction", c.GetKind())
	}
	if s := c.GetSign(); s != 1 && s != -1 {
		return fmt.Errorf("sign %d is neither +1 nor -1", s)
	}
	if n := len(c.GetPostings()); n > MaxRecordPostings {
		return fmt.Errorf("it holds %d postings; the limit is %d", n, MaxRecordPostings)
	}
	if n := len(c.GetSettled()); n > MaxSettledIDs {
		return fmt.Errorf("it settles %d payments; the limit is %d", n, MaxSettledIDs)
	}
	for _, id := range c.GetSettled() {
		if err := checkText("settled payment id", id); err != nil {
			return err
		}
	}
	at, err := instant(c.GetEventUnixMs(), "event time")
	if err != nil {
		return err
	}
	if err := checkText("tenant id", c.GetTenantId(), "company id", c.GetCompanyId(), "currency", c.GetCurrency(),
		"location", c.GetLocation(), "transaction type", c.GetTransactionType(), "record id", c.GetRecordId(),
		"exception", c.GetException(), "payment type", c.GetPaymentType(), "linked payment id", c.GetLinkedPaymentId()); err != nil {
		return err
	}
	for _, p := range c.GetPostings() {
		if err := checkAmount(p.GetAmount(), "posting"); err != nil {
			return err
		}
		if err := checkText("account", p.GetAccount()); err != nil {
			return err
		}
	}
	row := Contribution{
		DayKey: DayKey{c.GetTenantId(), c.GetCompanyId(), d, c.GetCurrency(), c.GetLocation()},
		Kind:   kind, RecordType: c.GetTransactionType(), RecordID: c.GetRecordId(), Sign: int8(c.GetSign()),
		Exception: c.GetException(), EventTime: at, PaymentType: c.GetPaymentType(), LinkedPaymentID: c.GetLinkedPaymentId(),
		Source: Source{rec.Partition, rec.Offset},
	}
	for i, id := range c.GetSettled() {
		r.Settlements = append(r.Settlements, Settlement{TenantID: c.GetTenantId(), CompanyID: c.GetCompanyId(), Day: d,
			PayoutID: c.GetRecordId(), PaymentID: id, Sign: int8(c.GetSign()), Source: row.Source, Index: uint16(i)})
	}
	if len(c.GetPostings()) == 0 {
		r.Contributions = append(r.Contributions, row)
		return nil
	}
	for i, p := range c.GetPostings() {
		row.Account, row.Amount, row.Index = p.GetAccount(), money.Amount(p.GetAmount()), uint16(i)
		r.Contributions = append(r.Contributions, row)
	}
	return nil
}

// addDay appends the rows of one ledger.days record.
func (r *Rows) addDay(rec *kgo.Record) error {
	var s v1.DaySummary
	if err := proto.Unmarshal(rec.Value, &s); err != nil {
		return fmt.Errorf("it cannot be decoded as a DaySummary: %w", err)
	}
	if s.GetCompanyId() == "" || string(rec.Key) != s.GetCompanyId() {
		return fmt.Errorf("its company id %q does not match its key %q", s.GetCompanyId(), rec.Key)
	}
	d, err := dayOf(s.GetBusinessDay())
	if err != nil {
		return err
	}
	if s.GetRevision() < 1 {
		return fmt.Errorf("revision %d; revisions start at 1", s.GetRevision())
	}
	if n := len(s.GetLines()); n > MaxRecordPostings {
		return fmt.Errorf("it holds %d lines; the limit is %d", n, MaxRecordPostings)
	}
	start, err := instant(s.GetStartUnixMs(), "start")
	if err != nil {
		return err
	}
	end, err := instant(s.GetEndUnixMs(), "end")
	if err != nil {
		return err
	}
	if err := checkText("tenant id", s.GetTenantId(), "company id", s.GetCompanyId(), "currency", s.GetCurrency(),
		"location", s.GetLocation(), "summary id", s.GetId(), "sealed by", s.GetSealedBy()); err != nil {
		return err
	}
	k := DayKey{s.GetTenantId(), s.GetCompanyId(), d, s.GetCurrency(), s.GetLocation()}
	lines := make([]Line, 0, len(s.GetLines()))
	for _, l := range s.GetLines() {
		dr, err := money.Parse(l.GetDebit())
		if err != nil {
			return fmt.Errorf("line %s: debit %q: %w", l.GetAccount(), l.GetDebit(), err)
		}
		cr, err := money.Parse(l.GetCredit())
		if err != nil {
			return fmt.Errorf("line %s: credit %q: %w", l.GetAccount(), l.GetCredit(), err)
		}
		if err := checkAmount(int64(dr-cr), "line "+l.GetAccount()); err != nil {
			return err
		}
		if err := checkText("account", l.GetAccount()); err != nil {
			return err
		}
		lines = append(lines, Line{DayKey: k, Revision: s.GetRevision(), Account: l.GetAccount(), Amount: dr - cr})
	}
	r.Days = append(r.Days, Day{DayKey: k, Revision: s.GetRevision(), SummaryID: s.GetId(), SealedBy: s.GetSealedBy(),
		ConfigVersion: s.GetConfigVersion(), RecordCount: s.GetRecordCount(), ExceptionCount: s.GetExceptionCount(),
		Start: start, End: end, Source: Source{rec.Partition, rec.Offset}})
	r.Lines = append(r.Lines, lines...)
	return nil
}

// Document is one state of one outbox document.
type Document struct {
	DayKey
	DocumentID, SummaryID                string
	Revision                             int32
	ConfigVersion                        int64
	PlatformKey, ConnectionID            string
	Reference, State, Type, DocCurrency  string
	ExternalID, ErrorClass, ErrorMessage string
	Attempts                             int32
	UpdatedAt                            time.Time
	Source                               Source
}

// Movement is what one line of one document state moves on a merchant
// account, net (debit positive).
type Movement struct {
	DayKey
	DocumentID, SemanticAccount, AccountID string
	Amount                                 money.Amount
	Source                                 Source
	Index                                  uint16
}

// Quarantined is one entry of commerce.quarantine.
type Quarantined struct {
	TenantID, CompanyID, EntryID, Stage, Kind, Topic string
	Partition                                        int32
	Offset                                           int64
	RecordID, Day, Currency, Location, Reason        string
	Attempts                                         int32
	At                                               time.Time
	Source                                           Source
}

var states = map[v1.OutboxState]string{
	v1.OutboxState_OUTBOX_STATE_UNSPECIFIED: "unspecified", v1.OutboxState_OUTBOX_STATE_PLANNED: "planned",
	v1.OutboxState_OUTBOX_STATE_SENT: "sent", v1.OutboxState_OUTBOX_STATE_CONFIRMED: "confirmed",
	v1.OutboxState_OUTBOX_STATE_FAILED: "failed", v1.OutboxState_OUTBOX_STATE_SUPERSEDED: "superseded",
}

// addOutbox appends the rows of one push.outbox record. A tombstone adds
// none: the document's last state stays what the store last saw.
func (r *Rows) addOutbox(rec *kgo.Record) error {
	if rec.Value == nil {
		return nil
	}
	var e v1.OutboxEntry
	if err := proto.Unmarshal(rec.Value, &e); err != nil {
		return fmt.Errorf("it cannot be decoded as an OutboxEntry: %w", err)
	}
	if e.GetCompanyId() == "" || e.GetDocumentId() == "" {
		return fmt.Errorf("it names no company (%q) or document (%q)", e.GetCompanyId(), e.GetDocumentId())
	}
	d, err := dayOf(e.GetBusinessDay())
	if err != nil {
		return err
	}
	state, ok := states[e.GetState()]
	if !ok {
		return fmt.Errorf("state %v is not one the store knows", e.GetState())
	}
	at, err := instant(e.GetUpdatedUnixMs(), "updated time")
	if err != nil {
		return err
	}
	doc := e.GetDocument()
	if err := checkText("tenant id", e.GetTenantId(), "company id", e.GetCompanyId(), "document id", e.GetDocumentId(),
		"summary id", e.GetSummaryId(), "currency", e.GetCurrency(), "location", e.GetLocation(), "platform key", e.GetPlatformKey(),
		"connection id", e.GetConnectionId(), "reference", e.GetReference(), "external id", e.GetExternalId(),
		"document type", doc.GetType(), "document currency", doc.GetCurrency()); err != nil {
		return err
	}
	k := DayKey{e.GetTenantId(), e.GetCompanyId(), d, e.GetCurrency(), e.GetLocation()}
	src := Source{rec.Partition, rec.Offset}
	var moves []Movement
	if doc != nil {
		dd, err := plan.DomainDocument(doc)
		if err != nil {
			return fmt.Errorf("document %s: %w", e.GetDocumentId(), err)
		}
		ms := dd.Movements()
		if len(ms) > MaxRecordPostings {
			return fmt.Errorf("document %s moves %d lines; the limit is %d", e.GetDocumentId(), len(ms), MaxRecordPostings)
		}
		for i, m := range ms {
			if err := checkAmount(int64(m.Amount), "line"); err != nil {
				return err
			}
			if err := checkText("account id", m.Account.AccountID, "semantic account", string(m.Semantic)); err != nil {
				return err
			}
			moves = append(moves, Movement{DayKey: k, DocumentID: e.GetDocumentId(), SemanticAccount: string(m.Semantic),
				AccountID: m.Account.AccountID, Amount: m.Amount, Source: src, Index: uint16(i)})
		}
	}
	msg := clip(e.GetErrorMessage())
	r.Documents = append(r.Documents, Document{DayKey: k, DocumentID: e.GetDocumentId(), SummaryID: e.GetSummaryId(), Revision: e.GetRevision(),
		ConfigVersion: e.GetConfigVersion(), PlatformKey: e.GetPlatformKey(), ConnectionID: e.GetConnectionId(), Reference: e.GetReference(),
		State: state, Type: doc.GetType(), DocCurrency: doc.GetCurrency(), ExternalID: e.GetExternalId(),
		ErrorClass: e.GetErrorClass().String(), ErrorMessage: msg, Attempts: e.GetAttempts(), UpdatedAt: at, Source: src})
	r.Movements = append(r.Movements, moves...)
	return nil
}

// addQuarantine appends one commerce.quarantine entry.
func (r *Rows) addQuarantine(rec *kgo.Record) error {
	var q v1.QuarantineEntry
	if err := proto.Unmarshal(rec.Value, &q); err != nil {
		return fmt.Errorf("it cannot be decoded as a QuarantineEntry: %w", err)
	}
	if q.GetId() == "" {
		return fmt.Errorf("it has no id")
	}
	at, err := instant(q.GetQuarantinedUnixMs(), "quarantine time")
	if err != nil {
		return err
	}
	reason := clip(q.GetReason())
	if err := checkText("tenant id", q.GetTenantId(), "company id", q.GetCompanyId(), "id", q.GetId(),
		"stage", q.GetStage(), "kind", q.GetKind(), "topic", q.GetTopic(), "record id", q.GetRecordId(), "business day", q.GetBusinessDay(),
		"currency", q.GetCurrency(), "location", q.GetLocation()); err != nil {
		return err
	}
	r.Quarantine = append(r.Quarantine, Quarantined{TenantID: q.GetTenantId(), CompanyID: q.GetCompanyId(), EntryID: q.GetId(), Stage: q.GetStage(),
		Kind: q.GetKind(), Topic: q.GetTopic(), Partition: q.GetPartition(), Offset: q.GetOffset(), RecordID: q.GetRecordId(),
		Day: q.GetBusinessDay(), Currency: q.GetCurrency(), Location: q.GetLocation(), Reason: reason, Attempts: q.GetAttempts(), At: at,
		Source: Source{rec.Partition, rec.Offset}})
	return nil
}
