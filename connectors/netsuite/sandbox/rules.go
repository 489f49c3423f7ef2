package sandbox

import "strings"

// Rules are the behaviours the reference marks [UNVERIFIED] or leaves
// open. DefaultRules is what the sandbox does unless a test changes it
// with WithRules.
type Rules struct {
	// RotateRefreshTokens makes each refresh answer a new refresh token and
	// retire the old one. §0 and §6.1 list rotation for Xero, QBO, Sage and
	// FreeAgent but not NetSuite, and §4.1 does not say; off by default. A
	// rotated token keeps the grant's 7-day end: auth-code tokens "expire
	// after 7 days and cannot be refreshed" (§4.1).
	RotateRefreshTokens bool
	// LockedPeriodsRefused refuses postings into a period whose "all
	// locked" flag is set, unless the role may override period
	// restrictions. §4.3 names the flags but not their effect; on by
	// default. Closed periods are always refused (§6.4).
	LockedPeriodsRefused bool
	// UpsertAppendsLines: an upsert (PUT …/eid:…) that updates an existing
	// entry appends the request's lines to the stored ones unless the
	// request has ?replace=line. §4.2 says ?replace=line replaces a
	// sublist; that a plain update appends is Oracle's "Updating a
	// Sublist" (non-keyed sublists), not in the reference. On by default.
	UpsertAppendsLines bool
	// RequireEntityOnARAP refuses journal lines on Accounts Receivable or
	// Accounts Payable accounts that name no customer or vendor (entity).
	// Not in the reference; on by default.
	RequireEntityOnARAP bool
	// ExternalIDCaseSensitive: NetSuite documents external ids as case
	// insensitive for SOAP (not in the reference); off by default, so
	// "ABC" and "abc" name the same record.
	ExternalIDCaseSensitive bool
	// MaxExternalIDLen bounds externalId. §4.4 gives the characters
	// (letters, digits, "_" and "-") but no length; 255 by default.
	MaxExternalIDLen int
	// DefaultPropertyNameValidation applies when a request has no
	// X-NetSuite-PropertyNameValidation header (§4.2 names the header and
	// its values Error|Warning|Ignore, not the default): unknown properties
	// are refused only under "Error". "Warning" by default.
	DefaultPropertyNameValidation string
	// Messages are the error texts the reference does not capture.
	Messages Messages
}

// DefaultRules returns the sandbox's defaults.
func DefaultRules() Rules {
	return Rules{
		LockedPeriodsRefused:          true,
		UpsertAppendsLines:            true,
		RequireEntityOnARAP:           true,
		MaxExternalIDLen:              255,
		DefaultPropertyNameValidation: "Warning",
		Messages:                      DefaultMessages(),
	}
}

// Messages are the `detail` texts of 400 USER_ERROR answers whose wording
// the reference does not capture: "Closed period, unbalanced journal,
// inactive account and currency texts: not captured [UNVERIFIED]. Emulate
// them as 400 USER_ERROR with detail "Error while accessing a resource. …""
// (§4.5). Placeholders in braces are filled in: {field}, {value},
// {debits}, {credits}, {period}, {date}, {places}.
type Messages struct {
	// InvalidFieldValue is §4.5's captured text (an inactive or unknown
	// account, subsidiary, currency, segment, or an unreadable value).
	InvalidFieldValue string
	// Required follows §4.5's "You must enter a value for …".
	Required string
	// Unbalanced: debits differ from credits (§4.2, §6.4).
	Unbalanced string
	// ClosedPeriod and LockedPeriod: the date falls in a closed or locked
	// accounting period (§4.3, §6.4).
	ClosedPeriod string
	LockedPeriod string
	// NoPeriod: no posting period covers the date.
	NoPeriod string
	// TooManyDecimals: an amount has more decimals than the currency
	// (§4.7 "Amounts follow the currency's precision").
	TooManyDecimals string
	// TaxFields: "Tax-related fields are not supported in REST" for
	// journal entries (§4.2).
	TaxFields string
	// NoLines: a journal entry without lines.
	NoLines string
	// DebitAndCredit: a line with both, neither, or a negative amount.
	DebitAndCredit string
	// NeedsEntity: see Rules.RequireEntityOnARAP.
	NeedsEntity string
	// ForeignCurrency: a currency other than the subsidiary's base while
	// the Multiple Currencies feature is off (§4.7).
	ForeignCurrency string
	// UnknownProperty: a property the record does not have, under
	// X-NetSuite-PropertyNameValidation: Error (§4.2).
	UnknownProperty string
	// BadJSON: a body that is not a JSON object.
	BadJSON string
}

// DefaultMessages returns the sandbox's texts. Only InvalidFieldValue's
// pattern and the "Error while accessing a resource." prefix come from the
// reference (§4.5); the rest are the sandbox's wording.
func DefaultMessages() Messages {
	const p = "Error while accessing a resource. "
	return Messages{
		InvalidFieldValue: p + "You have entered an Invalid Field Value {value} for the following field: {field}.",
		Required:          p + "You must enter a value for {field}.",
		Unbalanced:        p + "The transaction is out of balance: total debits {debits} must equal total credits {credits}.",
		ClosedPeriod:      p + "The accounting period {period} for the transaction date {date} is closed.",
		LockedPeriod:      p + "The accounting period {period} for the transaction date {date} is locked.",
		NoPeriod:          p + "No open accounting period covers the transaction date {date}.",
		TooManyDecimals:   p + "The amount {value} for the following field: {field} has more than {places} decimal places.",
		TaxFields:         p + "Tax-related fields are not supported in REST: {field}.",
		NoLines:           p + "You must enter at least one line item for this transaction.",
		DebitAndCredit:    p + "Enter either a debit or a credit amount of zero or more on each line: {field}.",
		NeedsEntity:       p + "You must enter a customer or vendor (entity) on lines that post to {value}: {field}.",
		ForeignCurrency:   p + "The currency {value} is not the subsidiary's base currency and Multiple Currencies is not enabled.",
		UnknownProperty:   p + "Invalid content in the request body: unknown property {field}.",
		BadJSON:           p + "Invalid content in the request body: {value}",
	}
}

func fill(tmpl string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(tmpl)
}
