package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The JournalEntry request body (§2.2). Decoding refuses unknown
// properties, as QBO does with 2010 (not in the reference), so a
// misspelt field is an error rather than silently dropped.

type refIn struct {
	Value string `json:"value"`
	Name  string `json:"name"`
	Type  string `json:"type"`
}

type entityIn struct {
	Type      string `json:"Type"`
	EntityRef *refIn `json:"EntityRef"`
}

type jeDetailIn struct {
	PostingType     string      `json:"PostingType"`
	AccountRef      *refIn      `json:"AccountRef"`
	Entity          *entityIn   `json:"Entity"`
	ClassRef        *refIn      `json:"ClassRef"`
	DepartmentRef   *refIn      `json:"DepartmentRef"`
	TaxCodeRef      *refIn      `json:"TaxCodeRef"`
	TaxApplicableOn string      `json:"TaxApplicableOn"`
	TaxAmount       json.Number `json:"TaxAmount"`
	BillableStatus  string      `json:"BillableStatus"`
	JournalCodeRef  *refIn      `json:"JournalCodeRef"`
}

type lineIn struct {
	ID                     string          `json:"Id"`
	LineNum                json.Number     `json:"LineNum"`
	Description            *string         `json:"Description"`
	Amount                 json.Number     `json:"Amount"`
	DetailType             string          `json:"DetailType"`
	JournalEntryLineDetail *jeDetailIn     `json:"JournalEntryLineDetail"`
	LinkedTxn              json.RawMessage `json:"LinkedTxn"`
	ProjectRef             *refIn          `json:"ProjectRef"`
}

type jeIn struct {
	ID                   string          `json:"Id"`
	SyncToken            *string         `json:"SyncToken"`
	Sparse               bool            `json:"sparse"`
	Domain               string          `json:"domain"`
	Status               string          `json:"status"`
	MetaData             json.RawMessage `json:"MetaData"`
	TxnDate              *string         `json:"TxnDate"`
	DocNumber            *string         `json:"DocNumber"`
	PrivateNote          *string         `json:"PrivateNote"`
	CurrencyRef          *refIn          `json:"CurrencyRef"`
	ExchangeRate         json.Number     `json:"ExchangeRate"`
	Adjustment           *bool           `json:"Adjustment"`
	GlobalTaxCalculation *string         `json:"GlobalTaxCalculation"`
	TxnTaxDetail         json.RawMessage `json:"TxnTaxDetail"`
	JournalCodeRef       *refIn          `json:"JournalCodeRef"`
	Line                 *[]lineIn       `json:"Line"`
	TotalAmt             json.Number     `json:"TotalAmt"`
	HomeTotalAmt         json.Number     `json:"HomeTotalAmt"`
}

// Fault texts used by journal validation; sources are given where used.
func requiredParam(name string) faultError {
	// §2.5: 2020 "Required param missing, need to supply the required value
	// for the API"; the Detail wording is not in the reference.
	return faultError{Message: "Required param missing, need to supply the required value for the API",
		Detail: "Required parameter " + name + " is missing in the request", Code: "2020", Element: name}
}

func invalidEnum(name, v string) faultError {
	// §2.5: 2170 "Invalid Enumeration" (e.g. bad PostingType); Detail not in the reference.
	return faultError{Message: "Invalid Enumeration", Detail: fmt.Sprintf("Invalid Enumeration : %s for %s", v, name), Code: "2170", Element: name}
}

func invalidProperty(name string) faultError {
	// QBO's 2010 for unknown or unreadable properties; not in the reference.
	return faultError{Message: "Request has invalid or unsupported property",
		Detail: "Property Name:" + name + " specified is unsupported or invalid", Code: "2010", Element: name}
}

func stringLength(name string, limit, got int) faultError {
	// §2.2 gives the limits (DocNumber ≤ 21, PrivateNote ≤ 4000); the fault
	// (QBO's 2050) is not in the reference.
	return faultError{Message: "String length is either shorter or longer than supported by specification",
		Detail: fmt.Sprintf("%s: Min:0 Max:%d supported. Supplied length:%d", name, limit, got), Code: "2050", Element: name}
}

func invalidReference(list, id string) faultError {
	// §2.5: 2500 "Invalid Reference Id : Accounts element id 999 not found".
	return faultError{Message: "Invalid Reference Id", Detail: fmt.Sprintf("Invalid Reference Id : %s element id %s not found", list, id), Code: "2500"}
}

func inactiveObject() faultError {
	// §2.5: 610 for an inactive account, item or name.
	return faultError{Message: "Object Not Found",
		Detail: "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
		Code:   "610"}
}

func business(detail string) faultError {
	// §2.5: 6000 "A business validation error has occurred while processing
	// your request" / "Business Validation Error: …"; the specific detail is
	// the sandbox's wording.
	return faultError{Message: businessValidation, Detail: "Business Validation Error: " + detail, Code: "6000"}
}

func periodClosed() faultError {
	// §2.5, verbatim: 6210 for a date on or before BookCloseDate.
	return faultError{Message: "Account Period Closed, Cannot Update Through Services API",
		Detail: "The account period has closed and the account books cannot be updated through the QBO Services API. Please use the QBO website to make these changes.",
		Code:   "6210"}
}

func staleObject() faultError {
	// §2.5: 5010 "Stale Object Error" for a wrong SyncToken; Detail not in the reference.
	return faultError{Message: "Stale Object Error",
		Detail: "Stale Object Error : You and Sandbox User were working on this at the same time. Sandbox User finished before you did, so your work was not saved.",
		Code:   "5010", Element: "SyncToken"}
}

func fill(t FaultText, kv ...string) faultError {
	return faultError{Message: t.Message, Detail: strings.NewReplacer(kv...).Replace(t.Detail), Code: t.Code}
}

// writeJournalEntry handles POST /journalentry: create, update (body has
// Id, or operation=update) and delete (operation=delete), §2.2. Caller
// holds s.mu.
func (s *Server) writeJournalEntry(co *company, req *apiRequest) apiResponse {
	op := strings.ToLower(req.query.Get("operation"))
	if op != "" && op != "create" && op != "update" && op != "delete" {
		return unsupported(co, req.now, "operation="+op, "journalentry")
	}
	var in jeIn
	dec := json.NewDecoder(bytes.NewReader(req.body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return validationFault(co, req.now, invalidProperty(decodeProblem(err)))
	}
	if op == "delete" {
		return s.deleteJournalEntry(co, req, in)
	}
	if in.ID != "" || op == "update" {
		return s.updateJournalEntry(co, req, in)
	}
	j, fe := s.checkJournal(co, in, nil, req.now)
	if fe != nil {
		return validationFault(co, req.now, *fe)
	}
	j.ID, j.SyncToken, j.Created, j.Updated = co.newTxnID(), "0", req.now, req.now
	j.RequestID = req.query.Get("requestid")
	for i := range j.Lines {
		j.Lines[i].ID = strconv.Itoa(i)
	}
	co.journals = append(co.journals, j)
	return entityResponse(co, req.now, "JournalEntry", co.journalJSON(j))
}

// decodeProblem names the property a decode error is about.
func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return te.Field
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
	case errors.Is(err, io.EOF):
		return "body"
	}
	return "body"
}

// lockedAt reports whether a transaction dated day falls in the closed
// period: on or before BookCloseDate (§2.3, §2.5, §6.4).
func (co *company) lockedAt(day string) bool {
	return co.BookCloseDate != "" && day <= co.BookCloseDate
}

// checkSyncToken applies the optimistic lock of §2.2: the update or delete
// must carry the entity's current SyncToken, else 5010.
func checkSyncToken(in jeIn, cur *JournalEntry, f Fault, now time.Time) *faultError {
	if in.SyncToken == nil {
		fe := requiredParam("SyncToken")
		return &fe
	}
	if f.StaleSyncToken {
		cur.bump(now) // another user saved first (§6.6 fault injection)
	}
	if *in.SyncToken != cur.SyncToken {
		fe := staleObject()
		return &fe
	}
	return nil
}

func (s *Server) updateJournalEntry(co *company, req *apiRequest, in jeIn) apiResponse {
	if in.ID == "" {
		return validationFault(co, req.now, requiredParam("Id"))
	}
	cur := co.journal(in.ID)
	if cur == nil {
		return objectNotFound(co, req.now)
	}
	if fe := checkSyncToken(in, cur, req.fault, req.now); fe != nil {
		return validationFault(co, req.now, *fe)
	}
	if co.lockedAt(cur.TxnDate) {
		return validationFault(co, req.now, periodClosed())
	}
	if in.Sparse {
		in = mergeSparse(in, cur)
	}
	j, fe := s.checkJournal(co, in, cur, req.now)
	if fe != nil {
		return validationFault(co, req.now, *fe)
	}
	j.ID, j.SyncToken, j.Created, j.RequestID = cur.ID, cur.SyncToken, cur.Created, cur.RequestID
	for i := range j.Lines {
		j.Lines[i].ID = strconv.Itoa(i)
	}
	j.bump(req.now)
	*cur = *j
	return entityResponse(co, req.now, "JournalEntry", co.journalJSON(cur))
}

// mergeSparse fills what a sparse update omits from the stored entity
// (§2.2: "send "sparse": true for a partial update").
func mergeSparse(in jeIn, cur *JournalEntry) jeIn {
	keep := func(p **string, v string) {
		if *p == nil {
			*p = &v
		}
	}
	keep(&in.TxnDate, cur.TxnDate)
	keep(&in.DocNumber, cur.DocNumber)
	keep(&in.PrivateNote, cur.PrivateNote)
	if cur.GlobalTaxCalculation != "" {
		keep(&in.GlobalTaxCalculation, cur.GlobalTaxCalculation)
	}
	if in.CurrencyRef == nil {
		in.CurrencyRef = &refIn{Value: cur.Currency}
	}
	if in.ExchangeRate == "" {
		in.ExchangeRate = json.Number(cur.ExchangeRate)
	}
	if in.Adjustment == nil {
		adj := cur.Adjustment
		in.Adjustment = &adj
	}
	if in.Line == nil {
		lines := make([]lineIn, len(cur.Lines))
		for i, l := range cur.Lines {
			d := l.Description
			lines[i] = lineIn{ID: l.ID, Description: &d, Amount: json.Number(l.Amount.String()), DetailType: "JournalEntryLineDetail",
				JournalEntryLineDetail: &jeDetailIn{PostingType: l.PostingType, AccountRef: &refIn{Value: l.AccountID},
					TaxApplicableOn: l.TaxApplicableOn, TaxAmount: json.Number(l.TaxAmount)}}
			if l.EntityID != "" {
				lines[i].JournalEntryLineDetail.Entity = &entityIn{Type: l.EntityType, EntityRef: &refIn{Value: l.EntityID}}
			}
			if l.TaxCodeID != "" {
				lines[i].JournalEntryLineDetail.TaxCodeRef = &refIn{Value: l.TaxCodeID}
			}
			if l.ClassID != "" {
				lines[i].JournalEntryLineDetail.ClassRef = &refIn{Value: l.ClassID}
			}
			if l.DepartmentID != "" {
				lines[i].JournalEntryLineDetail.DepartmentRef = &refIn{Value: l.DepartmentID}
			}
		}
		in.Line = &lines
	}
	return in
}

func (s *Server) deleteJournalEntry(co *company, req *apiRequest, in jeIn) apiResponse {
	if in.ID == "" {
		return validationFault(co, req.now, requiredParam("Id"))
	}
	cur := co.journal(in.ID)
	if cur == nil {
		return objectNotFound(co, req.now)
	}
	if fe := checkSyncToken(in, cur, req.fault, req.now); fe != nil {
		return validationFault(co, req.now, *fe)
	}
	if co.lockedAt(cur.TxnDate) {
		return validationFault(co, req.now, periodClosed())
	}
	for i, j := range co.journals {
		if j == cur {
			co.journals = append(co.journals[:i], co.journals[i+1:]...)
			break
		}
	}
	// §2.2: delete is POST …?operation=delete with Id and SyncToken.
	return entityResponse(co, req.now, "JournalEntry", struct {
		ID     string `json:"Id"`
		Status string `json:"status"`
		Domain string `json:"domain"`
	}{cur.ID, "Deleted", "QBO"})
}

// checkJournal validates a journal entry against the company and returns
// what would be stored, or the first fault, checked in this order:
// request shape, references, currency, date, balance, duplicate number.
// self is the entry being updated, or nil. Caller holds s.mu.
func (s *Server) checkJournal(co *company, in jeIn, self *JournalEntry, now time.Time) (*JournalEntry, *faultError) {
	fail := func(fe faultError) (*JournalEntry, *faultError) { return nil, &fe }
	j := &JournalEntry{Currency: co.HomeCurrency}
	if in.Adjustment != nil {
		j.Adjustment = *in.Adjustment
	}
	if in.DocNumber != nil {
		j.DocNumber = *in.DocNumber
	}
	if in.PrivateNote != nil {
		j.PrivateNote = *in.PrivateNote
	}

	// Shape.
	if in.Line == nil || len(*in.Line) == 0 {
		return fail(requiredParam("Line"))
	}
	type parsed struct {
		line JournalLine
		in   *jeDetailIn
	}
	lines := make([]parsed, 0, len(*in.Line))
	for i := range *in.Line {
		l := &(*in.Line)[i]
		switch {
		case l.DetailType == "":
			return fail(requiredParam("Line.DetailType"))
		case l.DetailType != "JournalEntryLineDetail":
			return fail(invalidEnum("Line.DetailType", l.DetailType))
		case l.JournalEntryLineDetail == nil:
			return fail(requiredParam("Line.JournalEntryLineDetail"))
		}
		d := l.JournalEntryLineDetail
		switch {
		case d.PostingType == "":
			return fail(requiredParam("Line.JournalEntryLineDetail.PostingType"))
		case d.PostingType != "Debit" && d.PostingType != "Credit":
			return fail(invalidEnum("Line.JournalEntryLineDetail.PostingType", d.PostingType))
		case d.AccountRef == nil || d.AccountRef.Value == "":
			return fail(requiredParam("Line.JournalEntryLineDetail.AccountRef"))
		case l.Amount == "":
			return fail(requiredParam("Line.Amount"))
		}
		amt, err := decimal.NewFromString(l.Amount.String())
		if err != nil {
			return fail(invalidProperty("Line.Amount"))
		}
		if amt.IsNegative() {
			// §2.2: "Amount is always positive; the side comes from
			// PostingType". The wording is not in the reference.
			return fail(business(fmt.Sprintf("Amount %s is negative; journal entry amounts are positive and PostingType gives the side.", l.Amount)))
		}
		if !amt.Equal(amt.Round(2)) {
			// §2.7: amounts have 2 dp; the fault is a Rule.
			return fail(fill(s.rules.TooManyDecimals, "{amount}", l.Amount.String()))
		}
		pl := JournalLine{PostingType: d.PostingType, Amount: amt, AccountID: d.AccountRef.Value,
			TaxApplicableOn: d.TaxApplicableOn, TaxAmount: d.TaxAmount.String()}
		if l.Description != nil {
			pl.Description = *l.Description
		}
		lines = append(lines, parsed{pl, d})
	}
	if n := utf8.RuneCountInString(j.DocNumber); n > MaxDocNumberLen {
		return fail(stringLength("DocNumber", MaxDocNumberLen, n))
	}
	if n := utf8.RuneCountInString(j.PrivateNote); n > MaxPrivateNoteLen {
		return fail(stringLength("PrivateNote", MaxPrivateNoteLen, n))
	}
	if in.GlobalTaxCalculation != nil {
		switch g := *in.GlobalTaxCalculation; g {
		case "TaxExcluded", "TaxInclusive", "NotApplicable":
			j.GlobalTaxCalculation = g
		default:
			return fail(invalidEnum("GlobalTaxCalculation", g))
		}
	} else if co.Country != "US" {
		// §2.2: "Non-US companies must send GlobalTaxCalculation".
		return fail(requiredParam("GlobalTaxCalculation"))
	}

	// References.
	for i := range lines {
		l, d := &lines[i].line, lines[i].in
		a := co.account(l.AccountID)
		if a == nil {
			return fail(invalidReference("Accounts", l.AccountID))
		}
		if a.Inactive {
			return fail(inactiveObject())
		}
		if d.Entity != nil {
			if d.Entity.EntityRef == nil || d.Entity.EntityRef.Value == "" {
				return fail(requiredParam("Line.JournalEntryLineDetail.Entity.EntityRef"))
			}
			var list []Entity
			switch d.Entity.Type {
			case "Customer":
				list = co.Customers
			case "Vendor":
				list = co.Vendors
			case "Employee":
			default:
				return fail(invalidEnum("Line.JournalEntryLineDetail.Entity.Type", d.Entity.Type))
			}
			e := findEntity(list, d.Entity.EntityRef.Value)
			if e == nil {
				return fail(invalidReference("Names", d.Entity.EntityRef.Value))
			}
			if e.Inactive {
				return fail(inactiveObject())
			}
			l.EntityType, l.EntityID = d.Entity.Type, e.ID
		}
		// §2.2: "Lines on A/R accounts need "Entity":{"Type":"Customer",…};
		// lines on A/P accounts need a Vendor." Wording not in the reference.
		switch {
		case a.AccountType == "Accounts Receivable" && l.EntityType != "Customer":
			return fail(business("When you use Accounts Receivable, you must choose a customer in the Name field."))
		case a.AccountType == "Accounts Payable" && l.EntityType != "Vendor":
			return fail(business("When you use Accounts Payable, you must select a vendor in the Name field."))
		}
		if d.TaxCodeRef != nil && d.TaxCodeRef.Value != "" {
			if fe := co.checkTax(a, d); fe != nil {
				return nil, fe
			}
			l.TaxCodeID = d.TaxCodeRef.Value
		}
		// §2.2: a line's ClassRef and DepartmentRef.
		var fe *faultError
		if l.ClassID, fe = co.trackingRef(classList, d.ClassRef); fe != nil {
			return nil, fe
		}
		if l.DepartmentID, fe = co.trackingRef(departmentList, d.DepartmentRef); fe != nil {
			return nil, fe
		}
	}

	// Currency (§2.2 CurrencyRef "required if multicurrency enabled"; §2.3
	// CurrencyPrefs and CompanyCurrency; §2.7 one currency per account).
	switch {
	case in.CurrencyRef != nil && in.CurrencyRef.Value != "":
		j.Currency = in.CurrencyRef.Value
	case co.MultiCurrencyEnabled:
		return fail(requiredParam("CurrencyRef"))
	}
	if j.Currency != co.HomeCurrency {
		cur := co.currency(j.Currency)
		if !co.MultiCurrencyEnabled || cur == nil || cur.Inactive {
			return fail(fill(s.rules.CurrencyNotEnabled, "{currency}", j.Currency))
		}
		j.ExchangeRate = in.ExchangeRate.String()
	}
	for _, p := range lines {
		a := co.account(p.line.AccountID)
		if a.Currency != co.HomeCurrency && a.Currency != j.Currency {
			return fail(business(fmt.Sprintf("The account %s is in %s; a transaction in %s cannot use it.", a.Name, a.Currency, j.Currency)))
		}
	}

	// Date (§2.7: TxnDate YYYY-MM-DD, defaults to today on the server;
	// §2.5 6210 on or before the book close date).
	if in.TxnDate == nil || *in.TxnDate == "" {
		j.TxnDate = now.In(co.location()).Format(time.DateOnly)
	} else {
		d, err := time.Parse(time.DateOnly, *in.TxnDate)
		if err != nil {
			return fail(invalidProperty("TxnDate"))
		}
		j.TxnDate = d.Format(time.DateOnly)
	}
	if co.lockedAt(j.TxnDate) {
		return fail(periodClosed())
	}

	// Balance (§2.2: at least one Debit and one Credit line; debits equal
	// credits). The fault is a Rule ([UNVERIFIED] in §2.5).
	debits, credits := decimal.Zero, decimal.Zero
	nd, nc := 0, 0
	for _, p := range lines {
		if p.line.PostingType == "Debit" {
			debits, nd = debits.Add(p.line.Amount), nd+1
		} else {
			credits, nc = credits.Add(p.line.Amount), nc+1
		}
	}
	if nd == 0 || nc == 0 || !debits.Equal(credits) {
		return fail(fill(s.rules.Unbalanced, "{debits}", debits.StringFixed(2), "{credits}", credits.StringFixed(2)))
	}

	// Duplicate number (§2.4, §2.5 6140), when the company warns on it.
	if co.WarnDuplicateDocNumber && j.DocNumber != "" {
		for _, other := range co.journals {
			if other != self && other.DocNumber == j.DocNumber {
				return fail(faultError{Message: "Duplicate Document Number Error",
					Detail: fmt.Sprintf("Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=%s is assigned to TxnType=Journal Entry with TxnId=%s", j.DocNumber, other.ID),
					Code:   "6140"})
			}
		}
	}
	for _, p := range lines {
		j.Lines = append(j.Lines, p.line)
	}
	return j, nil
}

// trackingOut renders a stored class or department id as a reference
// with its full name, as accounts carry theirs; nil for none.
func (co *company) trackingOut(list, id string) *refJSON {
	if id == "" {
		return nil
	}
	r := &refJSON{Value: id}
	all := co.trackingList(list)
	if c := findClass(all, id); c != nil {
		r.Name, _ = fullName(all, *c)
	}
	return r
}

// checkTax validates a line's TaxCodeRef (§2.2: "A line with TaxCodeRef
// needs TaxApplicableOn (Sales|Purchase) and TaxAmount"; §2.3 TaxCode with
// Sales/PurchaseTaxRateList; §6.4 "tax codes not valid for the account").
// US pseudo-codes TAX and NON are accepted as they are (§2.3). Caller holds s.mu.
func (co *company) checkTax(a *Account, d *jeDetailIn) *faultError {
	fail := func(fe faultError) *faultError { return &fe }
	tc := co.taxCode(d.TaxCodeRef.Value)
	if tc == nil {
		return fail(invalidReference("TaxCode", d.TaxCodeRef.Value))
	}
	if tc.Inactive {
		return fail(inactiveObject())
	}
	if co.Country == "US" {
		return nil
	}
	switch {
	case d.TaxApplicableOn == "":
		return fail(requiredParam("Line.JournalEntryLineDetail.TaxApplicableOn"))
	case d.TaxApplicableOn != "Sales" && d.TaxApplicableOn != "Purchase":
		return fail(invalidEnum("Line.JournalEntryLineDetail.TaxApplicableOn", d.TaxApplicableOn))
	case d.TaxAmount == "":
		return fail(requiredParam("Line.JournalEntryLineDetail.TaxAmount"))
	}
	rates := tc.SalesRates
	if d.TaxApplicableOn == "Purchase" {
		rates = tc.PurchaseRates
	}
	if len(rates) == 0 {
		return fail(business(fmt.Sprintf("Tax code %s has no %s rate and cannot be used on account %s.", tc.Name, strings.ToLower(d.TaxApplicableOn), a.Name)))
	}
	return nil
}

type lineOut struct {
	ID                     string          `json:"Id"`
	Description            string          `json:"Description,omitempty"`
	Amount                 json.RawMessage `json:"Amount"`
	DetailType             string          `json:"DetailType"`
	JournalEntryLineDetail detailOut       `json:"JournalEntryLineDetail"`
}

type detailOut struct {
	PostingType     string          `json:"PostingType"`
	Entity          *entityOut      `json:"Entity,omitempty"`
	AccountRef      refJSON         `json:"AccountRef"`
	ClassRef        *refJSON        `json:"ClassRef,omitempty"`
	DepartmentRef   *refJSON        `json:"DepartmentRef,omitempty"`
	TaxCodeRef      *refJSON        `json:"TaxCodeRef,omitempty"`
	TaxApplicableOn string          `json:"TaxApplicableOn,omitempty"`
	TaxAmount       json.RawMessage `json:"TaxAmount,omitempty"`
}

type entityOut struct {
	Type      string  `json:"Type"`
	EntityRef refJSON `json:"EntityRef"`
}

// journalOut is a JournalEntry as QBO answers it; field order after §2.2's
// response example, TotalAmt always 0.
type journalOut struct {
	SyncToken            string          `json:"SyncToken"`
	Domain               string          `json:"domain"`
	TxnDate              string          `json:"TxnDate"`
	DocNumber            string          `json:"DocNumber,omitempty"`
	PrivateNote          string          `json:"PrivateNote,omitempty"`
	CurrencyRef          refJSON         `json:"CurrencyRef"`
	ExchangeRate         json.RawMessage `json:"ExchangeRate,omitempty"`
	GlobalTaxCalculation string          `json:"GlobalTaxCalculation,omitempty"`
	Line                 []lineOut       `json:"Line"`
	Adjustment           bool            `json:"Adjustment"`
	ID                   string          `json:"Id"`
	TxnTaxDetail         struct{}        `json:"TxnTaxDetail"`
	TotalAmt             json.RawMessage `json:"TotalAmt"`
	MetaData             metaJSON        `json:"MetaData"`
}

const metaLayout = "2006-01-02T15:04:05-07:00"

func (co *company) journalJSON(j *JournalEntry) journalOut {
	loc := co.location()
	out := journalOut{
		SyncToken: j.SyncToken, Domain: "QBO", TxnDate: j.TxnDate, DocNumber: j.DocNumber, PrivateNote: j.PrivateNote,
		CurrencyRef: refJSON{Value: j.Currency, Name: co.currencyName(j.Currency)}, GlobalTaxCalculation: j.GlobalTaxCalculation,
		Line: make([]lineOut, 0, len(j.Lines)), Adjustment: j.Adjustment, ID: j.ID, TotalAmt: json.RawMessage("0"),
		MetaData: metaJSON{j.Created.In(loc).Format(metaLayout), j.Updated.In(loc).Format(metaLayout)},
	}
	if j.ExchangeRate != "" {
		out.ExchangeRate = json.RawMessage(j.ExchangeRate)
	}
	for _, l := range j.Lines {
		d := detailOut{PostingType: l.PostingType, AccountRef: refJSON{Value: l.AccountID}, TaxApplicableOn: l.TaxApplicableOn}
		if a := co.account(l.AccountID); a != nil {
			d.AccountRef.Name = a.Name
		}
		if l.EntityID != "" {
			d.Entity = &entityOut{Type: l.EntityType, EntityRef: refJSON{Value: l.EntityID}}
		}
		d.ClassRef, d.DepartmentRef = co.trackingOut(classList, l.ClassID), co.trackingOut(departmentList, l.DepartmentID)
		if l.TaxCodeID != "" {
			d.TaxCodeRef = &refJSON{Value: l.TaxCodeID}
		}
		if l.TaxAmount != "" {
			d.TaxAmount = json.RawMessage(l.TaxAmount)
		}
		out.Line = append(out.Line, lineOut{ID: l.ID, Description: l.Description, Amount: json.RawMessage(l.Amount.StringFixed(2)),
			DetailType: "JournalEntryLineDetail", JournalEntryLineDetail: d})
	}
	return out
}

func journalRows(co *company, _ time.Time) []row {
	loc := co.location()
	out := make([]row, 0, len(co.journals))
	for _, j := range co.journals {
		out = append(out, row{json: co.journalJSON(j), fields: map[string]value{
			"id": str(j.ID), "docnumber": str(j.DocNumber), "txndate": tm(j.TxnDate),
			"metadata.createtime": tm(j.Created.In(loc).Format(metaLayout)), "metadata.lastupdatedtime": tm(j.Updated.In(loc).Format(metaLayout)),
		}})
	}
	return out
}
