package sandbox

import (
	"encoding/json"
	"net/http"
	"reflect"
)

// Messages is the wording of the sandbox's answers. Each default says
// where it comes from; the ones the reference does not give verbatim can
// be replaced with WithMessages when FreeAgent's real wording is known.
type Messages struct {
	// Unauthorized answers a missing, unknown or expired access token, in
	// the nested form 401s use (apis.md §5.5). The wording is not in the
	// reference; "Access token not recognised" is what client libraries
	// match on.
	Unauthorized string
	// Forbidden answers a user below an endpoint's access level (nested
	// form, apis.md §5.5). Wording not in the reference.
	Forbidden string
	// NotFound: `{"errors":{"error":{"message":"Resource not found"}}}`
	// (apis.md §5.5), also for a journal entry naming a category that does
	// not exist (apis.md §5.2, forum report).
	NotFound string
	// RateLimit is a format with the limit and the window in seconds:
	// "You must not exceed 120 requests per 60 seconds" (apis.md §5.6).
	// The hourly variant follows the same pattern (not in the reference).
	RateLimit string
	// Concurrency answers Limits.Concurrent (not in the reference: FreeAgent
	// publishes no concurrency limit).
	Concurrency string
	// UserAgentRequired answers a call without User-Agent (the rule is
	// apis.md §5.1; status and wording are not in the reference).
	UserAgentRequired string
	// DatedOnBlank: "Dated on can't be blank" (apis.md §5.5).
	DatedOnBlank string
	// DatedOnInvalid is the keyed form's text for dated_on:
	// {"errors":{"dated_on":["is not a valid date"]}} (apis.md §5.5).
	DatedOnInvalid string
	// The following follow the "<Attribute> can't be blank" pattern of
	// apis.md §5.5; their exact wording is not in the reference.
	DescriptionBlank string
	EntriesBlank     string
	CategoryBlank    string
	DebitValueBlank  string
	// DebitValueInvalid and DecimalPlaces are formats with the value (the
	// 2 dp rule is apis.md §5.7; wording not in the reference).
	DebitValueInvalid string
	DecimalPlaces     string
	// Unbalanced: the entries must balance (apis.md §5.2); wording not in
	// the reference. A format with total debits and total credits.
	Unbalanced string
	// LockedPeriod refuses a date on or before an account lock
	// (apis.md §6.4). Wording not in the reference; "dated_on is in a
	// locked period" is what FreeAgent's forum reports (t/1036).
	LockedPeriod string
	// TagTooLong is a format with the limit (see DefaultMaxTagLen).
	TagTooLong string
	// BankAccountJournal refuses entries with a bank_account (FreeAgent's
	// journal sets page, apis.md §7).
	BankAccountJournal string
	// MissingRoot answers a body without the journal_set root element
	// (apis.md §5.2 payload shape); wording not in the reference.
	MissingRoot string
	// InvalidGrant is the error_description of invalid_grant
	// (apis.md §5.5 gives the envelope, not the text).
	InvalidGrant string
	// ServerError is the body of an injected 5xx (not in the reference).
	ServerError string
	// ContactRequired: "Contact is required" (apis.md §5.5).
	ContactRequired string
	// The invoice forms of the "can't be blank" pattern (apis.md §5.5);
	// wording not in the reference.
	InvoiceItemsBlank  string
	PriceBlank         string
	MissingInvoiceRoot string
	// ValueInvalid is a format with the attribute and the value (not in
	// the reference).
	ValueInvalid string
	// CurrencyNotEnabled refuses an invoice in a currency the company does
	// not invoice in (apis.md §6.4); a format with the code. Wording not in
	// the reference.
	CurrencyNotEnabled string
}

// DefaultMessages returns the default wording (see each field).
func DefaultMessages() Messages {
	return Messages{
		Unauthorized:       "Access token not recognised",
		Forbidden:          "Access denied: your access level does not allow this action",
		NotFound:           "Resource not found",
		RateLimit:          "You must not exceed %d requests per %d seconds",
		Concurrency:        "You must not exceed %d concurrent requests",
		UserAgentRequired:  "A User-Agent header is required",
		DatedOnBlank:       "Dated on can't be blank",
		DatedOnInvalid:     "is not a valid date",
		DescriptionBlank:   "Description can't be blank",
		EntriesBlank:       "Journal entries can't be blank",
		CategoryBlank:      "Journal entries category can't be blank",
		DebitValueBlank:    "Journal entries debit value can't be blank",
		DebitValueInvalid:  "Journal entries debit value %s is not a number",
		DecimalPlaces:      "Journal entries debit value %s must have at most 2 decimal places",
		Unbalanced:         "Journal entries must balance (debits %s, credits %s)",
		LockedPeriod:       "dated_on is in a locked period",
		TagTooLong:         "Tag is too long (maximum is %d characters)",
		BankAccountJournal: "It is no longer possible to journal to/from bank accounts",
		MissingRoot:        "The request must have a journal_set root element",
		InvalidGrant:       "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
		ServerError:        "We're sorry, but something went wrong.",
		ContactRequired:    "Contact is required",
		InvoiceItemsBlank:  "Invoice items can't be blank",
		PriceBlank:         "Invoice items price can't be blank",
		MissingInvoiceRoot: "The request must have an invoice root element",
		ValueInvalid:       "Invoice items %s %s is not a number",
		CurrencyNotEnabled: "Currency %s is not enabled for this company",
	}
}

// merge returns m with the non-empty fields of o.
func (m Messages) merge(o Messages) Messages {
	dst, src := reflect.ValueOf(&m).Elem(), reflect.ValueOf(o)
	for i := range src.NumField() {
		if v := src.Field(i); v.String() != "" {
			dst.Field(i).Set(v)
		}
	}
	return m
}

// The three error envelopes of apis.md §5.5.

// listErrors is the 422 validation form: {"errors":[{"message":…},…]}.
type listErrors struct {
	Errors []errorMessage `json:"errors"`
}

type errorMessage struct {
	Message string `json:"message"`
}

// nestedError is the form of 401/403/404/429:
// {"errors":{"error":{"message":…}}}.
type nestedError struct {
	Errors struct {
		Error errorMessage `json:"error"`
	} `json:"errors"`
}

func nested(msg string) nestedError {
	var e nestedError
	e.Errors.Error.Message = msg
	return e
}

// keyedErrors is the form keyed by attribute:
// {"errors":{"dated_on":["is not a valid date"]}}.
type keyedErrors struct {
	Errors map[string][]string `json:"errors"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
