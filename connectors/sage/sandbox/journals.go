package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Field limits from the spec's Journal schema.
const (
	maxReference   = 255 // Journal.reference maxLength
	maxDescription = 200 // Journal.description maxLength
)

// postJournalsIn is the spec's postJournals body. Pointers tell a missing
// field from an empty one.
type postJournalsIn struct {
	Journal *journalIn `json:"journal"`
}

type journalIn struct {
	Date         *string          `json:"date"`
	Reference    *string          `json:"reference"`
	Description  *string          `json:"description"`
	JournalLines *[]journalLineIn `json:"journal_lines"`
}

type journalLineIn struct {
	LedgerAccountID        *string  `json:"ledger_account_id"`
	Debit                  *amount  `json:"debit"`
	Credit                 *amount  `json:"credit"`
	Details                *string  `json:"details"`
	AnalysisTypeCategories []string `json:"analysis_type_categories"`
	IncludeOnTaxReturn     *bool    `json:"include_on_tax_return"`
}

// amount is a money field. apis.md §3.7: amounts are JSON numbers (format
// double) and strings such as "55.55" work too; the text is kept exactly.
type amount struct {
	text string
	ok   bool
}

func (a *amount) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	a.text = s
	_, err := decimal.NewFromString(s)
	a.ok = err == nil && s != ""
	return nil
}

// createJournal handles POST /journals (spec postJournals; apis.md §3.2)
// with the validation of apis.md §6.4: required fields, field lengths,
// existing and active ledger accounts, 2 decimal places (§3.7), balance,
// the lock date (financial_settings.year_end_lockdown_date, §3.3, §3.5)
// and the lines' analysis type categories (§3.3, lineAnalysis).
// Every problem found is reported at once in the 422 array of §3.5.
func (s *Server) createJournal(req *apiRequest) apiResponse {
	var in postJournalsIn
	dec := json.NewDecoder(bytes.NewReader(req.body))
	if err := dec.Decode(&in); err != nil {
		// Sage's answer to malformed JSON is not in the reference; §3.5 lists
		// ValidationError as a seen $dataCode.
		return invalid(sageError{Severity: "error", DataCode: "ValidationError", Message: "The request body is not valid JSON: " + err.Error(), Source: "base"})
	}
	if in.Journal == nil {
		return invalid(required("journal"))
	}
	j := in.Journal
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	m := s.rules.Messages
	var errs []sageError
	tooLong := func(src string, max int) sageError {
		return recordInvalid(src, expand(m.TooLong, "{max}", strconv.Itoa(max)))
	}

	// date, reference and journal_lines are required (spec postJournals.required).
	var date time.Time
	switch {
	case j.Date == nil || *j.Date == "":
		errs = append(errs, required("date"))
	default:
		d, err := time.Parse(time.DateOnly, *j.Date)
		if err != nil {
			errs = append(errs, recordInvalid("date", m.InvalidDate))
			break
		}
		date = d
		// Dates on or before the lockdown date are refused (apis.md §3.3
		// year_end_lockdown_date, §6.4; text [UNVERIFIED] §3.5).
		if lock, err := time.Parse(time.DateOnly, b.YearEndLockdownDate); err == nil && !date.After(lock) {
			errs = append(errs, recordInvalid("date", expand(m.LockedDate, "{date}", *j.Date, "{lock_date}", b.YearEndLockdownDate)))
		}
	}
	if j.Reference == nil || *j.Reference == "" {
		errs = append(errs, required("reference"))
	} else if utf8.RuneCountInString(*j.Reference) > maxReference {
		errs = append(errs, tooLong("reference", maxReference))
	}
	if j.Description != nil && utf8.RuneCountInString(*j.Description) > maxDescription {
		errs = append(errs, tooLong("description", maxDescription))
	}

	journal := Journal{Date: date.Format(time.DateOnly), Reference: deref(j.Reference), Description: deref(j.Description)}
	if j.JournalLines == nil || len(*j.JournalLines) == 0 {
		errs = append(errs, required("journal_lines"))
	} else {
		var lineErrs []sageError
		var missing string
		journal.Lines, lineErrs, missing = s.checkLines(b, *j.JournalLines)
		if missing != "" {
			// A line naming a ledger account the business does not have
			// answers the 404 of apis.md §3.5 (text not in the reference).
			return notFound(m.UnknownAccount)
		}
		errs = append(errs, lineErrs...)
	}
	if len(errs) > 0 {
		return invalid(errs...)
	}
	journal.ID, journal.TransactionID = newID(), newID()
	journal.CreatedAt, journal.UpdatedAt = req.now, req.now
	for i := range journal.Lines {
		journal.Lines[i].ID = newID()
		journal.Total = journal.Total.Add(journal.Lines[i].Debit)
	}
	journal.IdempotencyID = idempotencyIDOf(req.body)
	b.journals = append(b.journals, &journal)
	s.log.Debug("sage sandbox: journal created", "business", req.businessID, "journal", journal.ID, "reference", journal.Reference)
	return jsonResponse(http.StatusCreated, journalObject(&journal, b))
}

// checkLines validates the lines. missing is the first ledger account id
// the business does not have. Caller holds s.mu.
func (s *Server) checkLines(b *business, in []journalLineIn) (lines []JournalLine, errs []sageError, missing string) {
	m := s.rules.Messages
	amountsOK := true
	seen := map[string]bool{}
	add := func(e sageError) {
		// One error per kind, as the $source has no line index (apis.md §3.5
		// example "line_items.tax_rate_id").
		k := e.Source + "\x00" + e.Message
		if !seen[k] {
			seen[k] = true
			errs = append(errs, e)
		}
	}
	money := func(a *amount, src string) decimal.Decimal {
		switch {
		case a == nil || a.text == "" || a.text == "null":
			// debit and credit are required (spec postJournals journal_lines.required).
			add(required(src))
		case !a.ok:
			add(recordInvalid(src, "This field is not a valid number."))
		default:
			d := decimal.RequireFromString(a.text)
			if d.IsNegative() {
				add(recordInvalid(src, m.NegativeAmount))
			}
			if !d.Equal(d.Round(2)) {
				if !s.rules.RoundExtraDecimals {
					add(recordInvalid(src, m.DecimalPlaces))
				} else {
					return d.Round(2)
				}
			}
			return d
		}
		amountsOK = false
		return decimal.Zero
	}
	if len(in) < 2 {
		add(recordInvalid("journal_lines", m.TooFewLines))
	}
	debits, credits := decimal.Zero, decimal.Zero
	for _, l := range in {
		line := JournalLine{Details: deref(l.Details), IncludeOnTaxReturn: l.IncludeOnTaxReturn != nil && *l.IncludeOnTaxReturn}
		line.Debit = money(l.Debit, "journal_lines.debit")
		line.Credit = money(l.Credit, "journal_lines.credit")
		if line.Debit.IsPositive() && line.Credit.IsPositive() {
			add(recordInvalid("journal_lines", m.DebitAndCredit))
		}
		debits, credits = debits.Add(line.Debit), credits.Add(line.Credit)
		switch {
		case l.LedgerAccountID == nil || *l.LedgerAccountID == "":
			add(required("journal_lines.ledger_account_id"))
		default:
			a := b.ledgerAccount(*l.LedgerAccountID)
			if a == nil {
				if missing == "" {
					missing = *l.LedgerAccountID
				}
				break
			}
			line.LedgerAccountID = a.ID
			if a.Inactive {
				// Accounts outside the chart are inactive (spec
				// LedgerAccount.included_in_chart); apis.md §6.4 "reject
				// inactive accounts", text [UNVERIFIED] §3.5.
				add(recordInvalid("journal_lines.ledger_account_id",
					expand(m.InactiveAccount, "{ledger_account}", a.Name, "{nominal_code}", strconv.Itoa(a.NominalCode))))
			}
		}
		line.Analysis = s.lineAnalysis(b, l.AnalysisTypeCategories, add)
		lines = append(lines, line)
	}
	// The journal must balance (apis.md §6.4; text [UNVERIFIED] §3.5).
	if amountsOK && !debits.Equal(credits) {
		add(recordInvalid("journal_lines", expand(m.Unbalanced, "{debits}", debits.StringFixed(2), "{credits}", credits.StringFixed(2))))
	}
	return lines, errs, missing
}

func (b *business) ledgerAccount(id string) *LedgerAccount {
	for i := range b.LedgerAccounts {
		if b.LedgerAccounts[i].ID == id {
			return &b.LedgerAccounts[i]
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// idempotencyIDOf records the id the journal was created under, for
// read-back, wherever the body carried it.
func idempotencyIDOf(body []byte) string {
	var in struct {
		IdempotencyID string `json:"idempotency_id"`
		Journal       struct {
			IdempotencyID string `json:"idempotency_id"`
		} `json:"journal"`
	}
	_ = json.Unmarshal(body, &in)
	if in.Journal.IdempotencyID != "" {
		return in.Journal.IdempotencyID
	}
	return in.IdempotencyID
}

// journalObject renders a journal with the spec's Journal fields in the
// spec's order. Caller holds s.mu.
func journalObject(j *Journal, b *business) object {
	lines := make([]object, 0, len(j.Lines))
	for _, l := range j.Lines {
		var ref object
		if a := b.ledgerAccount(l.LedgerAccountID); a != nil {
			ref = base(a.ID, fmt.Sprintf("%s (%d)", a.Name, a.NominalCode), "/ledger_accounts/"+a.ID)
		}
		lines = append(lines, object{
			{"id", l.ID}, {"ledger_account", ref}, {"details", l.Details},
			{"debit", json.RawMessage(l.Debit.StringFixed(2))}, {"credit", json.RawMessage(l.Credit.StringFixed(2))},
			{"analysis_type_categories", lineAnalysisObjects(l.Analysis)}, {"include_on_tax_return", l.IncludeOnTaxReturn},
			{"tax_reconciled", false}, {"cleared", false}, {"bank_reconciled", false},
		})
	}
	var deleted any
	if !j.DeletedAt.IsZero() {
		deleted = timestamp(j.DeletedAt)
	}
	return object{
		{"id", j.ID}, {"displayed_as", j.Reference}, {"$path", "/journals/" + j.ID},
		{"created_at", timestamp(j.CreatedAt)}, {"updated_at", timestamp(j.UpdatedAt)},
		{"transaction", base(j.TransactionID, j.Reference, "/transactions/"+j.TransactionID)},
		{"transaction_type", base("JOURNAL", "Journal", "/transaction_types/JOURNAL")},
		{"deleted_at", deleted},
		{"date", j.Date}, {"reference", j.Reference}, {"description", j.Description},
		{"total", json.RawMessage(j.Total.StringFixed(2))}, {"journal_code", nil},
		{"journal_lines", lines}, {"migrated", false},
	}
}

// listJournals answers GET /journals (spec getJournals): journals not
// deleted, oldest first, filtered by updated_or_created_since (inclusive)
// and paged. The spec has no reference filter: a client looking for a
// reference pages through with attributes=reference.
func (s *Server) listJournals(req *apiRequest) apiResponse {
	var since time.Time
	if v := req.query.Get("updated_or_created_since"); v != "" {
		t, err := parseSince(v)
		if err != nil {
			return invalid(recordInvalid("updated_or_created_since", "This field is not a valid date-time."))
		}
		since = t
	}
	s.mu.Lock()
	b := s.businesses[req.businessID]
	var items []object
	for _, j := range b.journals {
		if !j.DeletedAt.IsZero() || j.UpdatedAt.Before(since) {
			continue
		}
		items = append(items, journalObject(j, b))
	}
	s.mu.Unlock()
	return page(req, items, "$itemsPerPage")
}

// parseSince reads the spec's date-time filter formats
// (YYYY-MM-DDThh:mm:ss(+|-)hh:mm, RFC 3339, or a date).
func parseSince(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-07:00", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date-time: %q", v)
}

func (s *Server) getJournal(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	for _, j := range b.journals {
		if j.ID == key && j.DeletedAt.IsZero() {
			return jsonResponse(http.StatusOK, journalObject(j, b))
		}
	}
	return notFound("Journal not found")
}

// deleteJournal handles DELETE /journals/{key}: 204 (apis.md §3.2, §3.5).
func (s *Server) deleteJournal(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.businesses[req.businessID].journals {
		if j.ID == key && j.DeletedAt.IsZero() {
			j.DeletedAt, j.UpdatedAt = req.now, req.now
			return apiResponse{status: http.StatusNoContent}
		}
	}
	return notFound("Journal not found")
}
