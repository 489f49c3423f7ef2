package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// journalSetIn is the create payload: a journal_set root (apis.md §5.2).
// Unknown attributes are ignored, as FreeAgent ignores them.
type createIn struct {
	JournalSet *journalSetIn `json:"journal_set"`
}

type journalSetIn struct {
	DatedOn        string           `json:"dated_on"`
	Description    string           `json:"description"`
	Tag            string           `json:"tag"`
	JournalEntries []journalEntryIn `json:"journal_entries"`
}

type journalEntryIn struct {
	Category    string      `json:"category"`
	Description string      `json:"description"`
	DebitValue  decimalText `json:"debit_value"`
	User        string      `json:"user"`
	BankAccount string      `json:"bank_account"`
}

// decimalText keeps a decimal's text exactly as sent, whether a JSON
// string ("-1000.00", apis.md §5.7 "Decimals are strings") or a number.
type decimalText struct {
	text string
	set  bool
}

func (d *decimalText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d.text, d.set = strings.TrimSpace(s), true
	default:
		d.text, d.set = string(b), true
	}
	return nil
}

// createJournalSet is POST /v2/journal_sets (apis.md §5.2). There is no
// idempotency (apis.md §5.4, §6.3): every accepted request makes a new
// journal set. Validation (apis.md §6.4) answers the 422 envelopes of
// apis.md §5.5; success is 201 with Location (FreeAgent's journal sets
// page).
func (s *Server) createJournalSet(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[req.subdomain]
	c.creates = append(c.creates, slices.Clone(req.body))
	if !s.allowed(req, levelAccounting) {
		return s.forbidden()
	}
	var in createIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		// FreeAgent's answer to malformed JSON is not in the reference.
		return jsonResponse(http.StatusBadRequest, nested("The request body is not valid JSON: "+err.Error()))
	}
	if in.JournalSet == nil {
		return jsonResponse(http.StatusBadRequest, nested(s.msg.MissingRoot))
	}
	js := in.JournalSet

	// A date that does not parse is answered in the keyed form
	// {"errors":{"dated_on":["is not a valid date"]}} (apis.md §5.5).
	var dated time.Time
	if js.DatedOn != "" {
		d, err := time.Parse(time.DateOnly, js.DatedOn) // YYYY-MM-DD, apis.md §5.7
		if err != nil {
			return jsonResponse(http.StatusUnprocessableEntity, keyedErrors{Errors: map[string][]string{"dated_on": {s.msg.DatedOnInvalid}}})
		}
		dated = d
	}

	set := &JournalSet{DatedOn: js.DatedOn, Description: js.Description, Tag: js.Tag}
	var errs []string
	amountsOK := true
	for _, e := range js.JournalEntries {
		entry := JournalEntry{CategoryURL: e.Category, Description: e.Description, User: e.User}
		if strings.TrimSpace(e.Category) == "" {
			errs = append(errs, s.msg.CategoryBlank)
		} else {
			code, ok := categoryCode(e.Category)
			cat := c.category(code)
			if !ok || cat == nil || cat.Hidden {
				// A category that cannot be found fails the whole request as
				// "Resource not found" (apis.md §5.2 forum report, §5.5
				// nested form).
				return s.notFound()
			}
			entry.Category = code
		}
		if e.BankAccount != "" && !s.bankJournals {
			errs = append(errs, s.msg.BankAccountJournal)
		}
		switch v, err := decimal.NewFromString(e.DebitValue.text); {
		case !e.DebitValue.set || e.DebitValue.text == "":
			errs = append(errs, s.msg.DebitValueBlank)
			amountsOK = false
		case err != nil:
			errs = append(errs, fmt.Sprintf(s.msg.DebitValueInvalid, strconv.Quote(e.DebitValue.text)))
			amountsOK = false
		case !v.Equal(v.Round(2)):
			// Amounts have 2 dp (apis.md §5.7).
			errs = append(errs, fmt.Sprintf(s.msg.DecimalPlaces, e.DebitValue.text))
			amountsOK = false
		default:
			entry.DebitValue = v
		}
		set.Entries = append(set.Entries, entry)
	}
	// Required attributes (apis.md §5.2, §5.5 "Dated on can't be blank").
	if js.DatedOn == "" {
		errs = append(errs, s.msg.DatedOnBlank)
	}
	if strings.TrimSpace(js.Description) == "" {
		errs = append(errs, s.msg.DescriptionBlank)
	}
	if len(js.JournalEntries) == 0 {
		errs = append(errs, s.msg.EntriesBlank)
	}
	if s.maxTagLen > 0 && len([]rune(js.Tag)) > s.maxTagLen {
		errs = append(errs, fmt.Sprintf(s.msg.TagTooLong, s.maxTagLen))
	}
	// Dates on or before an account lock are refused (apis.md §6.4).
	if lock := c.lockedTo(); lock != "" && !dated.IsZero() && dated.Format(time.DateOnly) <= lock {
		errs = append(errs, s.msg.LockedPeriod)
	}
	// The entries must balance: debit_value only, negative = credit
	// (apis.md §5.2).
	if amountsOK && len(set.Entries) > 0 {
		debits, credits := decimal.Zero, decimal.Zero
		for _, e := range set.Entries {
			if e.DebitValue.IsPositive() {
				debits = debits.Add(e.DebitValue)
			} else {
				credits = credits.Add(e.DebitValue)
			}
		}
		if !debits.Add(credits).IsZero() {
			errs = append(errs, fmt.Sprintf(s.msg.Unbalanced, debits.StringFixed(2), credits.StringFixed(2)))
		}
	}
	if len(errs) > 0 {
		out := listErrors{Errors: make([]errorMessage, len(errs))}
		for i, e := range errs {
			out.Errors[i] = errorMessage{e}
		}
		return jsonResponse(http.StatusUnprocessableEntity, out)
	}

	c.nextSet++
	set.ID = c.nextSet
	set.CreatedAt, set.UpdatedAt = req.now, req.now
	for i := range set.Entries {
		c.nextLine++
		set.Entries[i].ID = c.nextLine
	}
	c.journals = append(c.journals, set)
	resp := jsonResponse(http.StatusCreated, map[string]journalSetJSON{"journal_set": set.render(req.base)})
	resp.header.Set("Location", fmt.Sprintf("%s/journal_sets/%d", req.base, set.ID))
	return resp
}

// categoryCode reads the nominal code from a category reference, which
// must be a full URL ending in /v2/categories/<code> (apis.md §5.2:
// "references are full resource URLs"). The host is not compared: the
// same company is reachable under several names.
func categoryCode(ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", false
	}
	code, ok := strings.CutPrefix(u.Path, APIPath+"/categories/")
	if !ok || code == "" || strings.Contains(code, "/") {
		return "", false
	}
	return code, true
}
