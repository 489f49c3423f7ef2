package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Request shapes: the spec's ManualJournals / ManualJournal /
// ManualJournalLine schemas (accounting-platform-apis.md §1.2).
type manualJournalsIn struct {
	ManualJournals []manualJournalIn `json:"ManualJournals"`
}

type manualJournalIn struct {
	ManualJournalID        string          `json:"ManualJournalID"`
	Narration              string          `json:"Narration"`
	Date                   string          `json:"Date"`
	Status                 string          `json:"Status"`
	LineAmountTypes        string          `json:"LineAmountTypes"`
	URL                    string          `json:"Url"`
	ShowOnCashBasisReports *bool           `json:"ShowOnCashBasisReports"`
	JournalLines           []journalLineIn `json:"JournalLines"`
}

type journalLineIn struct {
	LineAmount  json.Number     `json:"LineAmount"`
	AccountCode string          `json:"AccountCode"`
	AccountID   string          `json:"AccountID"`
	Description string          `json:"Description"`
	TaxType     string          `json:"TaxType"`
	Tracking    json.RawMessage `json:"Tracking"`
}

// Response shapes, field order as in the spec's examples.
type manualJournalOut struct {
	Date                   string            `json:"Date"`
	Status                 string            `json:"Status"`
	LineAmountTypes        string            `json:"LineAmountTypes"`
	UpdatedDateUTC         string            `json:"UpdatedDateUTC,omitempty"`
	ManualJournalID        string            `json:"ManualJournalID,omitempty"`
	Narration              string            `json:"Narration"`
	URL                    string            `json:"Url,omitempty"`
	JournalLines           []journalLineOut  `json:"JournalLines"`
	ShowOnCashBasisReports bool              `json:"ShowOnCashBasisReports"`
	HasAttachments         bool              `json:"HasAttachments"`
	StatusAttributeString  string            `json:"StatusAttributeString,omitempty"`
	Warnings               []validationError `json:"Warnings,omitempty"`
	ValidationErrors       []validationError `json:"ValidationErrors,omitempty"`
}

type journalLineOut struct {
	Description string          `json:"Description,omitempty"`
	TaxType     string          `json:"TaxType"`
	TaxAmount   json.RawMessage `json:"TaxAmount"`
	LineAmount  json.RawMessage `json:"LineAmount"`
	AccountCode string          `json:"AccountCode,omitempty"`
	Tracking    []any           `json:"Tracking"`
	AccountID   string          `json:"AccountID,omitempty"`
	IsBlank     bool            `json:"IsBlank"`
}

type pagination struct {
	Page      int `json:"page"`
	PageSize  int `json:"pageSize"`
	PageCount int `json:"pageCount"`
	ItemCount int `json:"itemCount"`
}

// checked is one journal after validation: what would be stored, and
// what was wrong with it.
type checked struct {
	journal  Journal
	errors   []string
	warnings []string
}

// createManualJournals handles PUT (create) and POST (create-or-update;
// only creates are emulated). With summarizeErrors at its default any
// invalid journal fails the whole request with 400; with
// summarizeErrors=false the answer is 200 and each element carries its
// own status (accounting-platform-apis.md §1.5).
func (s *Server) createManualJournals(req *apiRequest) apiResponse {
	// The body must match the official schema first (schema.go): a body
	// Xero cannot deserialise never reaches its validation.
	if resp, ok := s.checkSchema(req, "/ManualJournals"); !ok {
		return resp
	}
	var in manualJournalsIn
	dec := json.NewDecoder(bytes.NewReader(req.body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		// Xero's answer to malformed JSON is not in the reference.
		return validationOnly("The request body could not be read: " + err.Error())
	}
	if len(in.ManualJournals) == 0 {
		return validationOnly("No ManualJournals were found in the request.") // not in the reference
	}
	summarize := !strings.EqualFold(req.query.Get("summarizeErrors"), "false")

	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(req.tenantID)
	results := make([]checked, len(in.ManualJournals))
	failed := false
	for i, mj := range in.ManualJournals {
		results[i] = o.check(mj, req.now)
		failed = failed || len(results[i].errors) > 0
	}
	out := make([]manualJournalOut, len(results))
	for i := range results {
		c := &results[i]
		if len(c.errors) == 0 && !(summarize && failed) {
			c.journal.ID = newUUID()
			c.journal.Updated = req.now
			j := c.journal
			o.journals = append(o.journals, &j)
		}
		out[i] = c.render(!summarize)
	}
	if summarize && failed {
		elements := make([]json.RawMessage, len(out))
		for i, e := range out {
			elements[i], _ = json.Marshal(e)
		}
		return validationException(elements)
	}
	return okEnvelope(req, field{"ManualJournals", out})
}

// check validates one journal against the organisation, collecting every
// error as Xero does. Caller holds s.mu.
func (o *org) check(mj manualJournalIn, now time.Time) checked {
	c := checked{journal: Journal{
		Narration: mj.Narration, Status: strings.ToUpper(mj.Status), LineAmountTypes: mj.LineAmountTypes,
		URL: mj.URL, ShowOnCashBasis: mj.ShowOnCashBasisReports == nil || *mj.ShowOnCashBasisReports,
	}}
	j := &c.journal
	if mj.ManualJournalID != "" {
		c.errors = append(c.errors, "Updating an existing manual journal is not supported by the sandbox.")
	}
	// Narration is the schema's only required field (spec ManualJournal.required).
	if strings.TrimSpace(mj.Narration) == "" {
		c.errors = append(c.errors, "Narration must be specified.") // wording not in the reference
	}
	// A journal sent without Status comes back DRAFT (accounting-platform-apis.md §1.2).
	switch j.Status {
	case "":
		j.Status = "DRAFT"
	case "DRAFT", "POSTED":
	default:
		c.errors = append(c.errors, fmt.Sprintf("A new manual journal cannot have the status %s.", j.Status)) // not in the reference
	}
	// Journals default to NoTax (accounting-platform-apis.md §1.2). The sandbox does not
	// compute tax for Exclusive/Inclusive; it stores the line amounts.
	switch j.LineAmountTypes {
	case "":
		j.LineAmountTypes = "NoTax"
	case "NoTax", "Exclusive", "Inclusive":
	default:
		c.errors = append(c.errors, fmt.Sprintf("LineAmountTypes %s is not valid.", j.LineAmountTypes)) // not in the reference
	}
	c.checkDate(mj.Date, o, now)
	c.checkLines(mj.JournalLines, o)
	return c
}

// checkDate parses the date (YYYY-MM-DD or ISO 8601, accounting-platform-apis.md §1.7) and
// refuses dates on or before a lock date (accounting-platform-apis.md §1.5, §6.4).
func (c *checked) checkDate(raw string, o *org, now time.Time) {
	var d time.Time
	if raw == "" {
		d = now.UTC().Truncate(24 * time.Hour) // not in the reference: Xero's default date is assumed to be today
	} else {
		var err error
		d, err = time.Parse(time.DateOnly, raw)
		if err != nil {
			d, err = time.Parse("2006-01-02T15:04:05", raw)
		}
		if err != nil {
			c.errors = append(c.errors, fmt.Sprintf("The Date '%s' is not a valid date.", raw)) // not in the reference
			return
		}
	}
	c.journal.Date = d.Format(time.DateOnly)
	// accounting-platform-apis.md §1.5: "The document date cannot be before the period lock
	// date of 30 June 2026" / "… end of year lock date …", for dates on or
	// before the lock date.
	for _, lock := range []struct{ date, name string }{
		{o.PeriodLockDate, "period lock date"}, {o.EndOfYearLockDate, "end of year lock date"},
	} {
		l, err := time.Parse(time.DateOnly, lock.date)
		if err != nil || d.After(l) {
			continue
		}
		c.errors = append(c.errors, fmt.Sprintf("The document date cannot be before the %s of %s", lock.name, l.Format("2 January 2006")))
		return
	}
}

// checkLines resolves accounts and checks amounts and balance.
func (c *checked) checkLines(lines []journalLineIn, o *org) {
	amountsOK := true
	for _, in := range lines {
		amount := decimal.Zero
		if in.LineAmount != "" {
			d, err := decimal.NewFromString(in.LineAmount.String())
			switch {
			case err != nil:
				c.errors = append(c.errors, fmt.Sprintf("LineAmount '%s' is not a number.", in.LineAmount)) // not in the reference
				amountsOK = false
			case !d.Equal(d.Round(2)):
				// Amounts have 2 decimal places (accounting-platform-apis.md §1.7); Xero's message for
				// more is not in the reference.
				c.errors = append(c.errors, fmt.Sprintf("LineAmount %s has more than 2 decimal places.", in.LineAmount))
				amountsOK = false
			}
			amount = d
		}
		a, keep := c.resolveAccount(in, o)
		if !keep {
			continue
		}
		line := JournalLine{Description: in.Description, TaxType: in.TaxType, Amount: amount}
		var terrs []string
		line.Tracking, terrs = o.tracking(in.Tracking)
		c.errors = append(c.errors, terrs...)
		if line.TaxType == "" {
			line.TaxType = "NONE"
		}
		if a != nil {
			line.AccountID, line.AccountCode = a.AccountID, a.Code
		} else {
			line.AccountID, line.AccountCode = in.AccountID, in.AccountCode
		}
		c.journal.Lines = append(c.journal.Lines, line)
	}
	// "at least 2 lines" (accounting-platform-apis.md §1.2); the wording is not in the reference.
	if len(c.journal.Lines) < 2 {
		c.errors = append(c.errors, "A manual journal must have at least two journal lines.")
	}
	if !amountsOK {
		return
	}
	// Balance is checked on the lines that remain after unknown codes were
	// removed (accounting-platform-apis.md §1.2 example: a removed line then an unbalanced total).
	debits, credits := decimal.Zero, decimal.Zero
	for _, l := range c.journal.Lines {
		if l.Amount.IsPositive() {
			debits = debits.Add(l.Amount)
		} else {
			credits = credits.Add(l.Amount)
		}
	}
	if !debits.Add(credits).IsZero() {
		// accounting-platform-apis.md §1.5 (spec example): "The total debits (100.00) must equal total credits (-10.00)".
		c.errors = append(c.errors, fmt.Sprintf("The total debits (%s) must equal total credits (%s)", debits.StringFixed(2), credits.StringFixed(2)))
	}
}

// resolveAccount finds the line's account. keep is false when the line is
// dropped (unknown code: a warning, not an error).
func (c *checked) resolveAccount(in journalLineIn, o *org) (a *Account, keep bool) {
	switch {
	case in.AccountID != "":
		for i := range o.Accounts {
			if strings.EqualFold(o.Accounts[i].AccountID, in.AccountID) {
				a = &o.Accounts[i]
				break
			}
		}
		if a == nil {
			c.errors = append(c.errors, fmt.Sprintf("Account ID '%s' does not match a recognised account.", in.AccountID)) // not in the reference
			return nil, true
		}
	case in.AccountCode != "":
		for i := range o.Accounts {
			if strings.EqualFold(o.Accounts[i].Code, in.AccountCode) {
				a = &o.Accounts[i]
				break
			}
		}
		if a == nil {
			// accounting-platform-apis.md §1.2/§1.5 (spec example): unknown codes are removed with a warning.
			c.warnings = append(c.warnings, fmt.Sprintf("Account code '%s' has been removed as it does not match a recognised account.", in.AccountCode))
			return nil, false
		}
	default:
		c.errors = append(c.errors, "Account code must be specified.") // not in the reference
		return nil, true
	}
	switch {
	case a.Status == "ARCHIVED" || a.Status == "DELETED":
		// accounting-platform-apis.md §1.5: "Account code '310' has been archived, or deleted."
		c.errors = append(c.errors, fmt.Sprintf("Account code '%s' has been archived, or deleted.", a.Code))
	case a.Type == "BANK":
		// accounting-platform-apis.md §1.2: journals cannot post to bank accounts. Xero's exact
		// wording is not in the reference.
		c.errors = append(c.errors, fmt.Sprintf("Account code '%s' is a bank account; bank accounts cannot be used in manual journals.", a.Code))
	case a.SystemAccount != "":
		// accounting-platform-apis.md §1.2: journals cannot post to system accounts (AR/AP/
		// retained earnings). Xero's exact wording is not in the reference.
		c.errors = append(c.errors, fmt.Sprintf("Account code '%s' is a system account (%s) and cannot be used in manual journals.", a.Code, a.SystemAccount))
	case a.Type == "INVENTORY":
		// accounting-platform-apis.md §1.2: nor to INVENTORY-type accounts. Wording not in the reference.
		c.errors = append(c.errors, fmt.Sprintf("Account code '%s' is an inventory account and cannot be used in manual journals.", a.Code))
	}
	return a, true
}

// render is the element echoed back: the created journal, or the input
// with its ValidationErrors.
func (c *checked) render(withStatusAttribute bool) manualJournalOut {
	out := c.journal.render(true)
	for _, w := range c.warnings {
		out.Warnings = append(out.Warnings, validationError{w})
	}
	for _, e := range c.errors {
		out.ValidationErrors = append(out.ValidationErrors, validationError{e})
	}
	if withStatusAttribute {
		switch {
		case len(c.errors) > 0:
			out.StatusAttributeString = "ERROR"
		case len(c.warnings) > 0:
			out.StatusAttributeString = "WARNING"
		default:
			out.StatusAttributeString = "OK"
		}
	}
	return out
}

func (j *Journal) render(withLines bool) manualJournalOut {
	out := manualJournalOut{
		Status: j.Status, LineAmountTypes: j.LineAmountTypes, ManualJournalID: j.ID, Narration: j.Narration,
		URL: j.URL, ShowOnCashBasisReports: j.ShowOnCashBasis, JournalLines: []journalLineOut{},
	}
	if d, err := time.Parse(time.DateOnly, j.Date); err == nil {
		out.Date = msDate(d)
	}
	if !j.Updated.IsZero() {
		out.UpdatedDateUTC = msDate(j.Updated)
	}
	if withLines {
		for _, l := range j.Lines {
			out.JournalLines = append(out.JournalLines, journalLineOut{
				Description: l.Description, TaxType: l.TaxType, TaxAmount: json.RawMessage("0.00"),
				LineAmount: json.RawMessage(l.Amount.StringFixed(2)), AccountCode: l.AccountCode,
				Tracking: trackingOut(l.Tracking), AccountID: l.AccountID,
			})
		}
	}
	return out
}

// listManualJournals answers GET /ManualJournals. Lines are included only
// when paging (spec: "page=1 – Up to 100 manual journals will be returned
// in a single API call with line items shown"); the list example has
// "JournalLines": [].
func (s *Server) listManualJournals(req *apiRequest) apiResponse {
	w, err := parseWhere(req.query.Get("where"))
	if err != nil {
		return queryParseException(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []*Journal
	for _, j := range s.org(req.tenantID).journals {
		ok, err := w.match(map[string]string{
			"manualjournalid": j.ID, "narration": j.Narration, "status": j.Status, "url": j.URL,
			"lineamounttypes": j.LineAmountTypes, "date": j.Date,
		})
		if err != nil {
			return queryParseException(err)
		}
		if ok {
			hits = append(hits, j)
		}
	}
	paged := req.query.Has("page")
	if !paged {
		out := make([]manualJournalOut, len(hits))
		for i, j := range hits {
			out[i] = j.render(false)
		}
		return okEnvelope(req, field{"ManualJournals", out})
	}
	// page + pageSize (default 100, up to 1000), accounting-platform-apis.md §1.8.
	page, _ := strconv.Atoi(req.query.Get("page"))
	page = max(page, 1)
	size, _ := strconv.Atoi(req.query.Get("pageSize"))
	if size <= 0 {
		size = 100
	}
	size = min(size, 1000)
	from := min((page-1)*size, len(hits))
	to := min(from+size, len(hits))
	out := make([]manualJournalOut, 0, to-from)
	for _, j := range hits[from:to] {
		out = append(out, j.render(true))
	}
	p := pagination{Page: page, PageSize: size, PageCount: (len(hits) + size - 1) / size, ItemCount: len(hits)}
	return okEnvelope(req, field{"pagination", p}, field{"ManualJournals", out})
}

func (s *Server) getManualJournal(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.org(req.tenantID).journals {
		if strings.EqualFold(j.ID, id) {
			return okEnvelope(req, field{"ManualJournals", []manualJournalOut{j.render(true)}})
		}
	}
	return notFound()
}

// fixed renders a decimal string with exactly dp places as a JSON number.
func fixed(s string, dp int32) (json.RawMessage, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("decimal %q: %w", s, err)
	}
	return json.RawMessage(d.StringFixed(dp)), nil
}

// trackingOut renders a line's tracking as the spec's TrackingCategory
// elements.
func trackingOut(ts []LineTracking) []any {
	out := []any{}
	for _, t := range ts {
		out = append(out, map[string]string{"Name": t.Category, "Option": t.Option, "TrackingCategoryID": t.CategoryID, "TrackingOptionID": t.OptionID})
	}
	return out
}
