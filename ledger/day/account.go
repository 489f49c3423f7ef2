package day

import "strings"

// Account is a semantic account: what the money is, before a merchant's
// configuration binds it to an account on their platform.
type Account string

// The fixed semantic accounts. Tenders are per payment type; see Tender.
const (
	Sales             Account = "sales"
	Tax               Account = "tax"
	Gratuity          Account = "gratuity"
	PaymentFees       Account = "payment_fees"
	PaymentFeeRefunds Account = "payment_fee_refunds"
	Unsettled         Account = "unsettled"
)

const tenderPrefix = "tender:"

// unknownTender names money whose payment type was not sent, so that it still
// lands on a tender the merchant can map rather than disappearing.
const unknownTender = "Unknown"

// Tender is the account holding money received by one payment type, such as
// "tender:Card". Surrounding spaces are ignored so that "Card " and "Card"
// share one account; an empty type becomes "tender:Unknown".
func Tender(paymentType string) Account {
	t := strings.TrimSpace(paymentType)
	if t == "" {
		t = unknownTender
	}
	return Account(tenderPrefix + t)
}

// TenderType returns the payment type of a tender account, and false for any
// other account.
func (a Account) TenderType() (string, bool) {
	return strings.CutPrefix(string(a), tenderPrefix)
}
