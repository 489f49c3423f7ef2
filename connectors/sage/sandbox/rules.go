package sandbox

import (
	"strings"
	"time"
)

// Placement says where the sandbox looks for idempotency_id.
type Placement int

const (
	// InResource: inside the resource object ({"journal":{"idempotency_id":…}}),
	// the reading of "in the namespace of the resource" (apis.md §3.4).
	InResource Placement = iota
	// AtRoot: beside the resource key ({"idempotency_id":…,"journal":{…}}).
	AtRoot
	// Either accepts both, the resource's first.
	Either
)

// Conflict says what a repeat of an idempotency_id with a different body
// gets.
type Conflict int

const (
	// Replay returns the first answer whatever the body (the key alone
	// identifies the request).
	Replay Conflict = iota
	// Reject answers 422 with Messages.IdempotencyConflict.
	Reject
)

// Rules are the behaviours the reference marks [UNVERIFIED] or does not
// document at all; each can be switched per sandbox (WithRules).
type Rules struct {
	// IdempotencyPlacement: apis.md §3.4, "[UNVERIFIED] placement".
	IdempotencyPlacement Placement
	// IdempotencyTTL: apis.md §3.4, "How long keys are retained is not
	// documented". Default 24 hours.
	IdempotencyTTL time.Duration
	// IdempotencyConflict: apis.md §3.4 documents only "the exact POST
	// request … two times"; a different body under one id is undocumented.
	IdempotencyConflict Conflict
	// IdempotencyReplaysErrors: whether a failed create (4xx) is remembered
	// and replayed too. apis.md §3.4 speaks of creating "the record once";
	// default false, so a repeat after the merchant fixed the cause is
	// validated afresh.
	IdempotencyReplaysErrors bool
	// IdempotencyAnyFormat turns off the check that idempotency_id is 32
	// hexadecimal digits (apis.md §3.4 "a random 32 character hyphenless
	// GUID"; whether Sage refuses other values is not documented).
	IdempotencyAnyFormat bool

	// RetryAfter adds a Retry-After header (seconds) to 429 answers. apis.md
	// §3.6: "No rate-limit or Retry-After headers are documented
	// [UNVERIFIED]"; default off.
	RetryAfter bool
	// TooManyRequestsBody is the 429 body. apis.md §3.5/§3.6 give the status
	// only; the default follows the $-keyed error array of §3.5.
	TooManyRequestsBody string

	// RoundExtraDecimals rounds amounts with more than 2 decimal places
	// (half away from zero) instead of refusing them. apis.md §3.7 says "Use
	// 2 dp"; what Sage does with more is not documented. Default: refuse.
	RoundExtraDecimals bool

	// MaxAnalysisTypesPerLine is how many analysis type categories one
	// journal line may carry; 0 or less is unlimited. Lines carry
	// analysis_type_categories (apis.md §3.3) but neither the reference nor
	// the spec gives a number. The default, 3, is the connector's
	// assumption (sage.MaxAnalysisTypesPerLine): the three transaction
	// analysis types Sage's knowledgebase lists as defaults.
	MaxAnalysisTypesPerLine int

	// Messages are the $message texts the reference did not find.
	Messages Messages
}

// Messages are the 422 texts apis.md §3.5 marks [UNVERIFIED] ("Exact texts
// for unbalanced journals, lock dates (…), inactive ledgers and currency
// not enabled were not found"), plus others the reference does not give.
// Placeholders in braces are replaced: {debits} {credits} {date}
// {lock_date} {ledger_account} {nominal_code} {max} {currency}
// {analysis_type} {analysis_type_category}.
type Messages struct {
	Unbalanced          string
	LockedDate          string
	InactiveAccount     string
	UnknownAccount      string
	DecimalPlaces       string
	NegativeAmount      string
	DebitAndCredit      string
	TooFewLines         string
	TooLong             string
	InvalidDate         string
	IdempotencyFormat   string
	IdempotencyConflict string
	UnknownBusiness     string
	CurrencyNotEnabled  string

	// Analysis on journal lines (apis.md §3.3); the reference gives no
	// texts for them. {analysis_type_category} is the id sent in
	// UnknownAnalysisCategory and the category's name elsewhere.
	UnknownAnalysisCategory string
	InactiveAnalysisType    string
	GroupAnalysisType       string
	DuplicateAnalysisType   string
	TooManyAnalysisTypes    string
}

// DefaultRules are the sandbox's defaults for the [UNVERIFIED] behaviours.
func DefaultRules() Rules {
	return Rules{
		IdempotencyPlacement:    InResource,
		IdempotencyTTL:          24 * time.Hour,
		IdempotencyConflict:     Replay,
		TooManyRequestsBody:     `[{"$severity":"error","$dataCode":"TooManyRequests","$message":"Too many requests. Please try again later.","$source":""}]`,
		MaxAnalysisTypesPerLine: 3,
		Messages: Messages{
			Unbalanced:          "The total debits ({debits}) must equal the total credits ({credits}).",
			LockedDate:          "The date {date} is on or before the year end lockdown date {lock_date}.",
			InactiveAccount:     "The ledger account {ledger_account} ({nominal_code}) is not included in the chart of accounts.",
			UnknownAccount:      "Ledger account not found",
			DecimalPlaces:       "Amounts can have at most 2 decimal places.",
			NegativeAmount:      "Amounts cannot be negative.",
			DebitAndCredit:      "A journal line can have a debit or a credit, not both.",
			TooFewLines:         "A journal must have at least two journal lines.",
			TooLong:             "This field is too long (maximum is {max} characters).",
			InvalidDate:         "This field is not a valid date.",
			IdempotencyFormat:   "The idempotency_id must be a 32 character hyphenless GUID.",
			IdempotencyConflict: "This idempotency_id was already used with a different request.",
			UnknownBusiness:     "Business not found",
			CurrencyNotEnabled:  "The currency {currency} is not enabled for this business.",

			UnknownAnalysisCategory: "The analysis type category {analysis_type_category} was not found.",
			InactiveAnalysisType:    "The analysis type {analysis_type} is not active for journals.",
			GroupAnalysisType:       "The analysis type {analysis_type} is a group analysis type and cannot be used on transaction lines.",
			DuplicateAnalysisType:   "A journal line can have only one category of the analysis type {analysis_type}.",
			TooManyAnalysisTypes:    "A journal line can have at most {max} analysis type categories.",
		},
	}
}

// expand fills a message's placeholders.
func expand(msg string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(msg)
}
