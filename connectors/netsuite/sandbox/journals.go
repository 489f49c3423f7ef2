package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// externalIDChars: "letters, digits, `_` and `-`" (§4.4).
var externalIDChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Journal entry body fields the sandbox knows (§4.2 example and field
// list); others are unknown properties (§4.2 X-NetSuite-PropertyNameValidation).
var (
	journalFields = map[string]bool{
		"externalId": true, "subsidiary": true, "currency": true, "exchangeRate": true, "tranDate": true,
		"memo": true, "line": true, "department": true, "class": true, "location": true, "postingPeriod": true,
	}
	lineFields = map[string]bool{
		"account": true, "debit": true, "credit": true, "memo": true, "entity": true,
		"department": true, "class": true, "location": true,
	}
	// taxFields are refused on journal entries: "Tax-related fields are not
	// supported in REST" (§4.2).
	taxFields = map[string]bool{
		"taxCode": true, "taxRate1": true, "tax1Amt": true, "tax1Acct": true, "grossAmt": true,
		"taxAccount": true, "taxAmount": true, "taxDetails": true, "taxDetailsReference": true,
		"taxDetailsOverride": true, "taxPointDate": true, "taxTotal": true,
	}
)

// rejection is a 400 the validation ends with.
type rejection struct {
	code, path, detail string
}

func (r *rejection) response() apiResponse {
	return errorResponse(http.StatusBadRequest, detail{Detail: r.detail, Code: r.code, Path: r.path})
}

// checker validates one journal entry request. Caller holds s.mu.
type checker struct {
	s    *Server
	req  *apiRequest
	co   *company
	msgs Messages
}

func (c *checker) user(path, tmpl string, kv ...string) *rejection {
	return &rejection{code: "USER_ERROR", path: path, detail: fill(tmpl, kv...)}
}

func (c *checker) invalid(path, field, value string) *rejection {
	return c.user(path, c.msgs.InvalidFieldValue, "{field}", field, "{value}", value)
}

func (c *checker) required(path, field string) *rejection {
	return c.user(path, c.msgs.Required, "{field}", field)
}

// decodeObject reads a JSON object keeping numbers as text.
func decodeObject(raw []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("the body is not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	return m, nil
}

// refID reads a record reference {"id": "…"}.
func refID(raw json.RawMessage) (string, bool) {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(raw, &r); err != nil || r == nil {
		return "", false
	}
	idRaw, ok := r["id"]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(idRaw, &s) == nil {
		return s, s != ""
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(idRaw))
	dec.UseNumber()
	if dec.Decode(&n) == nil {
		return n.String(), true
	}
	return "", false
}

// number reads a JSON number's exact text; strings are not numbers.
func number(raw json.RawMessage) (decimal.Decimal, string, bool) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t[0] == '"' || t == "null" {
		return decimal.Decimal{}, t, false
	}
	d, err := decimal.NewFromString(t)
	return d, t, err == nil
}

func str(raw json.RawMessage) (string, bool) {
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// propertyCheck applies X-NetSuite-PropertyNameValidation (§4.2) and the
// tax-field limitation (§4.2) to the body and its lines.
func (c *checker) propertyCheck(body map[string]json.RawMessage) *rejection {
	mode := c.req.header.Get("X-NetSuite-PropertyNameValidation")
	if mode == "" {
		mode = c.s.rules.DefaultPropertyNameValidation
	}
	strict := strings.EqualFold(mode, "Error")
	for _, k := range sortedKeys(body) {
		if taxFields[k] {
			return c.user(k, c.msgs.TaxFields, "{field}", k)
		}
		if strict && !journalFields[k] {
			return &rejection{code: "INVALID_CONTENT", path: k, detail: fill(c.msgs.UnknownProperty, "{field}", k)}
		}
	}
	items, _ := lineItems(body["line"])
	for i, it := range items {
		for _, k := range sortedKeys(it) {
			path := fmt.Sprintf("line.items[%d].%s", i, k)
			if taxFields[k] {
				return c.user(path, c.msgs.TaxFields, "{field}", path)
			}
			if strict && !lineFields[k] {
				return &rejection{code: "INVALID_CONTENT", path: path, detail: fill(c.msgs.UnknownProperty, "{field}", path)}
			}
		}
	}
	return nil
}

// lineItems reads the "line": {"items": [...]} sublist (§4.2).
func lineItems(raw json.RawMessage) ([]map[string]json.RawMessage, bool) {
	if raw == nil {
		return nil, false
	}
	var sub struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&sub); err != nil {
		return nil, false
	}
	return sub.Items, true
}

func sortedKeys[V any](m map[string]V) []string {
	// Sorted, so the error reported when several properties are wrong is
	// always the same one.
	return slices.Sorted(maps.Keys(m))
}

// build validates the body against the account and returns the journal
// it describes. prev is the entry an upsert updates (nil for a create);
// replaceLines is ?replace=line. Caller holds s.mu.
func (c *checker) build(body map[string]json.RawMessage, prev *Journal, replaceLines bool) (*Journal, *rejection) {
	if r := c.propertyCheck(body); r != nil {
		return nil, r
	}
	co, m := c.co, c.msgs
	j := &Journal{}
	if prev != nil {
		cl := prev.clone()
		j = &cl
	}

	// Subsidiary: journal entries need one (§4.2 example; OneWorld).
	if raw, ok := body["subsidiary"]; ok {
		id, ok := refID(raw)
		if !ok {
			return nil, c.invalid("subsidiary", "subsidiary", strings.TrimSpace(string(raw)))
		}
		j.Subsidiary = id
	}
	if j.Subsidiary == "" {
		return nil, c.required("subsidiary", "subsidiary")
	}
	sub := co.subsidiary(j.Subsidiary)
	if sub == nil || sub.Inactive || sub.Elimination {
		return nil, c.invalid("subsidiary", "subsidiary", j.Subsidiary)
	}

	// Currency: defaults to the subsidiary's; must exist and be active
	// (§6.4 "currencies that are not enabled"), and a foreign one needs
	// Multiple Currencies (§4.7).
	if raw, ok := body["currency"]; ok {
		id, ok := refID(raw)
		if !ok {
			return nil, c.invalid("currency", "currency", strings.TrimSpace(string(raw)))
		}
		j.Currency = id
	}
	if j.Currency == "" {
		j.Currency = sub.Currency
	}
	cur := co.currency(j.Currency)
	if cur == nil || cur.Inactive {
		return nil, c.invalid("currency", "currency", j.Currency)
	}
	if j.Currency != sub.Currency && !co.MultiCurrency {
		return nil, c.user("currency", m.ForeignCurrency, "{value}", cur.Symbol)
	}
	if raw, ok := body["exchangeRate"]; ok {
		d, text, ok := number(raw)
		if !ok || !d.IsPositive() {
			return nil, c.invalid("exchangeRate", "exchangeRate", text)
		}
		j.ExchangeRate = text
	}

	// Date (§4.7 YYYY-MM-DD) and its posting period (§4.3, §6.4).
	if raw, ok := body["tranDate"]; ok {
		d, ok := str(raw)
		if _, err := time.Parse(time.DateOnly, d); !ok || !isoDate.MatchString(d) || err != nil {
			return nil, c.invalid("tranDate", "tranDate", strings.Trim(strings.TrimSpace(string(raw)), `"`))
		}
		j.TranDate = d
		j.PostingPeriod = ""
	}
	if j.TranDate == "" {
		// Not in the reference: NetSuite defaults the date to today.
		j.TranDate = c.req.now.UTC().Format(time.DateOnly)
	}
	if raw, ok := body["postingPeriod"]; ok {
		id, ok := refID(raw)
		p := co.period(id)
		if !ok || p == nil || p.Summary {
			return nil, c.invalid("postingPeriod", "postingPeriod", id)
		}
		j.PostingPeriod = id
	}
	if j.PostingPeriod == "" {
		p := co.postingPeriod(j.TranDate)
		if p == nil {
			return nil, c.user("tranDate", m.NoPeriod, "{date}", j.TranDate)
		}
		j.PostingPeriod = p.ID
	}
	periods := []string{j.PostingPeriod}
	if prev != nil && prev.PostingPeriod != j.PostingPeriod {
		// Editing an entry moves it out of its old period too.
		periods = append(periods, prev.PostingPeriod)
	}
	for _, id := range periods {
		if r := c.periodOpen(co.period(id), j.TranDate); r != nil {
			return nil, r
		}
	}

	if raw, ok := body["memo"]; ok {
		s, ok := str(raw)
		if !ok {
			return nil, c.invalid("memo", "memo", strings.TrimSpace(string(raw)))
		}
		j.Memo = s
	}
	for _, seg := range co.segmentFields() {
		if raw, ok := body[seg.key]; ok {
			if _, r := c.segment(seg.key, seg, raw); r != nil {
				return nil, r
			}
		}
	}

	// Lines (§4.2).
	if raw, ok := body["line"]; ok {
		items, ok := lineItems(raw)
		if !ok {
			return nil, &rejection{code: "INVALID_CONTENT", path: "line", detail: fill(m.BadJSON, "{value}", "line must be {\"items\": [...]}")}
		}
		lines := make([]JournalLine, 0, len(items))
		for i, it := range items {
			l, r := c.line(i, it, sub, cur)
			if r != nil {
				return nil, r
			}
			lines = append(lines, l)
		}
		if prev != nil && !replaceLines && c.s.rules.UpsertAppendsLines {
			j.Lines = append(j.Lines, lines...)
		} else {
			j.Lines = lines
		}
	}
	if len(j.Lines) == 0 {
		return nil, c.user("line", m.NoLines)
	}
	// "Debits must equal credits" (§4.2, §6.4).
	debits, credits := decimal.Zero, decimal.Zero
	for _, l := range j.Lines {
		debits, credits = debits.Add(l.Debit), credits.Add(l.Credit)
	}
	if !debits.Equal(credits) {
		p := int32(cur.Precision)
		return nil, c.user("line", m.Unbalanced, "{debits}", debits.StringFixed(p), "{credits}", credits.StringFixed(p))
	}
	return j, nil
}

// periodOpen refuses closed periods, and locked ones for roles that may
// not override them (§4.3, §6.4; Rules.LockedPeriodsRefused).
func (c *checker) periodOpen(p *Period, date string) *rejection {
	if p == nil {
		return nil
	}
	if p.Closed {
		return c.user("tranDate", c.msgs.ClosedPeriod, "{period}", p.Name, "{date}", date)
	}
	if p.AllLocked && c.s.rules.LockedPeriodsRefused && !c.req.tok.Info.Role.OverridePeriodRestrictions {
		return c.user("tranDate", c.msgs.LockedPeriod, "{period}", p.Name, "{date}", date)
	}
	return nil
}

// line validates one line item.
func (c *checker) line(i int, it map[string]json.RawMessage, sub *Subsidiary, cur *Currency) (JournalLine, *rejection) {
	co, m := c.co, c.msgs
	at := func(f string) string { return fmt.Sprintf("line.items[%d].%s", i, f) }
	var l JournalLine
	raw, ok := it["account"]
	if !ok {
		return l, c.required(at("account"), "account")
	}
	id, ok := refID(raw)
	a := co.account(id)
	// §6.4: existing and active accounts. The subsidiary restriction and a
	// bank account's own currency are NetSuite's OneWorld rules, reported
	// the same way (§4.5 pattern).
	if !ok || a == nil || a.Inactive || !accountInSubsidiary(a, sub.ID) || (a.Currency != "" && a.Currency != cur.ID) {
		return l, c.invalid(at("account"), "account", id)
	}
	l.Account = a.ID
	if raw, ok := it["entity"]; ok {
		e, ok := refID(raw)
		if !ok {
			return l, c.invalid(at("entity"), "entity", strings.TrimSpace(string(raw)))
		}
		l.Entity = e
	}
	if c.s.rules.RequireEntityOnARAP && (a.Type == "AcctRec" || a.Type == "AcctPay") && l.Entity == "" {
		return l, c.user(at("entity"), m.NeedsEntity, "{field}", at("entity"), "{value}", a.Number+" "+a.Name)
	}
	var set []string
	for _, f := range []string{"debit", "credit"} {
		raw, ok := it[f]
		if !ok {
			continue
		}
		d, text, ok := number(raw)
		if !ok {
			return l, c.invalid(at(f), f, text)
		}
		if d.IsNegative() {
			return l, c.user(at(f), m.DebitAndCredit, "{field}", at(f))
		}
		// §4.7: amounts follow the currency's precision.
		if d.Exponent() < 0 && !d.Equal(d.Round(int32(cur.Precision))) {
			return l, c.user(at(f), m.TooManyDecimals, "{field}", f, "{value}", text, "{places}", strconv.Itoa(cur.Precision))
		}
		if f == "debit" {
			l.Debit = d
		} else {
			l.Credit = d
		}
		set = append(set, f)
	}
	if len(set) != 1 {
		return l, c.user(at("debit"), m.DebitAndCredit, "{field}", fmt.Sprintf("line.items[%d]", i))
	}
	if raw, ok := it["memo"]; ok {
		s, ok := str(raw)
		if !ok {
			return l, c.invalid(at("memo"), "memo", strings.TrimSpace(string(raw)))
		}
		l.Memo = s
	}
	// What a line carried is stored, so tests can read the tracking back.
	dst := map[string]*string{"department": &l.Department, "class": &l.Class, "location": &l.Location}
	for _, seg := range co.segmentFields() {
		if raw, ok := it[seg.key]; ok {
			id, r := c.segment(at(seg.key), seg, raw)
			if r != nil {
				return l, r
			}
			*dst[seg.key] = id
		}
	}
	return l, nil
}

// segmentField is a department, class or location field of a journal
// entry or line (§4.2) with the record type it references (§4.3).
type segmentField struct {
	key, recordType string
	list            []Segment
}

func (co *company) segmentFields() []segmentField {
	return []segmentField{
		{"department", "department", co.Departments},
		{"class", "classification", co.Classes},
		{"location", "location", co.Locations},
	}
}

// segment reads a segment reference at path. An unknown or inactive
// record is refused like an inactive account (§6.4), with §4.5's
// invalid-field-value text. So is any record of a feature the account has
// turned off (Company.Disabled): the reference does not say how NetSuite
// answers one, and this envelope names the field the merchant must
// change.
func (c *checker) segment(path string, f segmentField, raw json.RawMessage) (string, *rejection) {
	id, ok := refID(raw)
	if !ok {
		return "", c.invalid(path, f.key, strings.TrimSpace(string(raw)))
	}
	if slices.Contains(c.co.Disabled, f.recordType) || !segmentActive(f.list, id) {
		return "", c.invalid(path, f.key, id)
	}
	return id, nil
}

func accountInSubsidiary(a *Account, sub string) bool {
	if len(a.Subsidiaries) == 0 {
		return true
	}
	for _, s := range a.Subsidiaries {
		if s == sub {
			return true
		}
	}
	return false
}

func (s *Server) checker(req *apiRequest) *checker {
	return &checker{s: s, req: req, co: req.co, msgs: s.rules.Messages}
}

// checkExternalID applies §4.4's character set and Rules.MaxExternalIDLen.
func (c *checker) checkExternalID(ext string) *rejection {
	if !externalIDChars.MatchString(ext) || (c.s.rules.MaxExternalIDLen > 0 && len(ext) > c.s.rules.MaxExternalIDLen) {
		return c.invalid("externalId", "externalId", ext)
	}
	return nil
}

func badJSON(m Messages, err error) apiResponse {
	return errorResponse(http.StatusBadRequest, detail{Detail: fill(m.BadJSON, "{value}", err.Error()), Code: "INVALID_CONTENT"})
}

// created answers a successful write: 204 No Content with Location naming
// the record (§4.2).
func created(req *apiRequest, id string) apiResponse {
	return apiResponse{status: http.StatusNoContent, header: http.Header{"Location": {req.recordURL("journalentry", id)}}}
}

// createJournal is POST /record/v1/journalentry (§4.2). A taken externalId
// is refused (§4.4).
func (s *Server) createJournal(req *apiRequest) apiResponse {
	body, err := decodeObject(req.body)
	if err != nil {
		return badJSON(s.rules.Messages, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.checker(req)
	ext := ""
	if raw, ok := body["externalId"]; ok {
		v, ok := str(raw)
		if !ok {
			return c.invalid("externalId", "externalId", strings.TrimSpace(string(raw))).response()
		}
		if r := c.checkExternalID(v); r != nil {
			return r.response()
		}
		ext = v
	}
	j, r := c.build(body, nil, true)
	if r != nil {
		return r.response()
	}
	if ext != "" && req.co.byExternalID(ext, s.rules) != nil {
		return errorResponse(http.StatusBadRequest, entityExists)
	}
	j.ExternalID = ext
	s.store(req, j)
	return created(req, j.ID)
}

// upsertJournal is PUT /record/v1/journalentry/eid:{externalId} (§4.4):
// create when no entry has the external id, else update it.
func (s *Server) upsertJournal(req *apiRequest, ext string) apiResponse {
	body, err := decodeObject(req.body)
	if err != nil {
		return badJSON(s.rules.Messages, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.checker(req)
	if r := c.checkExternalID(ext); r != nil {
		return r.response()
	}
	if raw, ok := body["externalId"]; ok {
		if v, ok := str(raw); !ok || v != ext {
			return c.invalid("externalId", "externalId", strings.Trim(strings.TrimSpace(string(raw)), `"`)).response()
		}
	}
	prev := req.co.byExternalID(ext, s.rules)
	replace := false
	for _, v := range strings.Split(req.query.Get("replace"), ",") {
		replace = replace || strings.EqualFold(strings.TrimSpace(v), "line")
	}
	j, r := c.build(body, prev, replace)
	if r != nil {
		return r.response()
	}
	if prev == nil {
		j.ExternalID = ext
		s.store(req, j)
		return created(req, j.ID)
	}
	j.Modified = req.now
	j.Updates++
	*prev = *j
	return created(req, prev.ID)
}

// store saves a new entry under the next internal id. Caller holds s.mu.
func (s *Server) store(req *apiRequest, j *Journal) {
	j.ID = strconv.Itoa(req.co.nextID)
	req.co.nextID++
	j.Created, j.Modified = req.now, req.now
	req.co.journals = append(req.co.journals, j)
}

type journalLineJSON struct {
	Links      []link          `json:"links"`
	Line       int             `json:"line"`
	Account    refJSON         `json:"account"`
	Debit      json.RawMessage `json:"debit,omitempty"`
	Credit     json.RawMessage `json:"credit,omitempty"`
	Memo       string          `json:"memo,omitempty"`
	Entity     *refJSON        `json:"entity,omitempty"`
	Department *refJSON        `json:"department,omitempty"`
	Class      *refJSON        `json:"class,omitempty"`
	Location   *refJSON        `json:"location,omitempty"`
}

type journalJSON struct {
	Links            []link          `json:"links"`
	ID               string          `json:"id"`
	ExternalID       string          `json:"externalId,omitempty"`
	TranID           string          `json:"tranId"`
	TranDate         string          `json:"tranDate"`
	PostingPeriod    refJSON         `json:"postingPeriod"`
	Subsidiary       refJSON         `json:"subsidiary"`
	Currency         refJSON         `json:"currency"`
	ExchangeRate     json.RawMessage `json:"exchangeRate"`
	Memo             string          `json:"memo,omitempty"`
	CreatedDate      string          `json:"createdDate"`
	LastModifiedDate string          `json:"lastModifiedDate"`
	Line             any             `json:"line"`
}

// getJournal is GET /record/v1/journalentry/{id|eid:…} (§4.4 "You can read
// it back with GET …/eid:…"). ?expandSubResources=true inlines the lines.
func (s *Server) getJournal(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findJournal(req, id)
	if j == nil {
		return errorResponse(http.StatusNotFound, nonexistentID())
	}
	co := req.co
	periodName, subName, curName := "", "", ""
	if p := co.period(j.PostingPeriod); p != nil {
		periodName = p.Name
	}
	if sub := co.subsidiary(j.Subsidiary); sub != nil {
		subName = sub.Name
	}
	cur := co.currency(j.Currency)
	if cur != nil {
		curName = cur.Name
	}
	rate := j.ExchangeRate
	if rate == "" {
		rate = "1.0" // not in the reference: the default rate shown for base-currency entries
	}
	out := journalJSON{
		Links: self(req.recordURL("journalentry", j.ID)), ID: j.ID, ExternalID: j.ExternalID, TranID: "JE" + j.ID,
		TranDate:      j.TranDate,
		PostingPeriod: req.ref("accountingperiod", j.PostingPeriod, periodName),
		Subsidiary:    req.ref("subsidiary", j.Subsidiary, subName),
		Currency:      req.ref("currency", j.Currency, curName),
		ExchangeRate:  rawJSON(rate), Memo: j.Memo,
		CreatedDate: j.Created.UTC().Format(time.RFC3339), LastModifiedDate: j.Modified.UTC().Format(time.RFC3339),
	}
	lineURL := req.recordURL("journalentry", j.ID) + "/line"
	if strings.EqualFold(req.query.Get("expandSubResources"), "true") {
		out.Line = s.lineCollection(req, j, cur, lineURL)
	} else {
		out.Line = struct {
			Links []link `json:"links"`
		}{self(lineURL)}
	}
	return jsonResponse(http.StatusOK, ctSingular, out)
}

func (s *Server) getJournalLines(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findJournal(req, id)
	if j == nil {
		return errorResponse(http.StatusNotFound, nonexistentID())
	}
	return jsonResponse(http.StatusOK, ctCollection, s.lineCollection(req, j, req.co.currency(j.Currency), req.recordURL("journalentry", j.ID)+"/line"))
}

// findJournal resolves an internal id or "eid:…". Caller holds s.mu.
func (s *Server) findJournal(req *apiRequest, id string) *Journal {
	if ext, ok := strings.CutPrefix(id, "eid:"); ok {
		return req.co.byExternalID(ext, s.rules)
	}
	return req.co.journal(id)
}

// lineCollection renders the line sublist. Caller holds s.mu.
func (s *Server) lineCollection(req *apiRequest, j *Journal, cur *Currency, u string) collection {
	prec := int32(2)
	if cur != nil {
		prec = int32(cur.Precision)
	}
	opt := func(recordType, id string) *refJSON {
		if id == "" {
			return nil
		}
		r := req.ref(recordType, id, "")
		return &r
	}
	items := make([]journalLineJSON, len(j.Lines))
	for i, l := range j.Lines {
		a := req.co.account(l.Account)
		acctName := ""
		if a != nil {
			acctName = a.Number + " " + a.Name
		}
		it := journalLineJSON{
			Links: []link{}, Line: i, Account: req.ref("account", l.Account, acctName), Memo: l.Memo,
			Entity: opt("customer", l.Entity), Department: opt("department", l.Department),
			Class: opt("classification", l.Class), Location: opt("location", l.Location),
		}
		if l.Debit.IsPositive() || l.Credit.IsZero() {
			it.Debit = rawJSON(l.Debit.StringFixed(prec))
		}
		if l.Credit.IsPositive() {
			it.Credit = rawJSON(l.Credit.StringFixed(prec))
		}
		items[i] = it
	}
	return collection{Links: self(u), Count: len(items), Items: items, TotalResults: len(items)}
}
