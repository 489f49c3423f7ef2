package day

import (
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
)

// Posting moves money on one account: Amount > 0 is a debit, < 0 a credit.
type Posting struct {
	Account Account
	Amount  money.Amount
}

// PaymentFacts are the money fields of a payment.
type PaymentFacts struct {
	Type, Status string
	Amount       money.Amount
}

// TransactionFacts are the money fields of a transaction. TenderType is the
// payment type of the payment the transaction links to.
type TransactionFacts struct {
	Type       string
	TenderType string
	Amount     money.Amount
}

// Codat payment status and transaction types the rules act on.
const (
	statusPaid = "Paid"

	txPayment          = "Payment"
	txPaymentFee       = "PaymentFee"
	txPaymentFeeRefund = "PaymentFeeRefund"
	txPayout           = "Payout"
	txFailedPayout     = "FailedPayout"
)

// Semantic accounts of payouts.
const (
	// Payouts is where paid-out money arrives (the merchant's bank).
	Payouts Account = "payouts"
	// PayoutClearing is what a payout empties when the payments it settles
	// are unknown or of several types; it falls back to the card account.
	PayoutClearing Account = "payout_clearing"
)

// txWithoutMoney are the Codat transaction types that carry no money yet. They
// are listed, rather than defaulted, so that a misspelt type is an error.
var txWithoutMoney = map[string]bool{
	txPayment:  true, // the Payment record is authoritative
	"Refund":   true, // the negative Payment is authoritative
	"Transfer": true,
	"Unknown":  true,
}

// PaymentPostings is a payment's contribution: when Paid, Dr tender, Cr
// unsettled; otherwise nothing.
func PaymentPostings(p PaymentFacts) ([]Posting, error) {
	if p.Status != statusPaid {
		return nil, nil
	}
	var b builder
	b.debit(Tender(p.Type), p.Amount)
	b.credit(Unsettled, p.Amount)
	return b.done("payment")
}

// TransactionPostings is a transaction's contribution; only fees and fee
// refunds carry money (see the package doc).
func TransactionPostings(t TransactionFacts) ([]Posting, error) {
	var b builder
	switch t.Type {
	case txPaymentFee:
		// Codat sends a fee negative (money the provider kept), so the
		// expense is its negation.
		fee, err := money.Zero.Sub(t.Amount)
		if err != nil {
			return nil, fmt.Errorf("PaymentFee transaction of %s: %w", t.Amount, err)
		}
		b.debit(PaymentFees, fee)
		b.credit(Tender(t.TenderType), fee)
	case txPaymentFeeRefund:
		b.debit(Tender(t.TenderType), t.Amount)
		b.credit(PaymentFeeRefunds, t.Amount)
	case txPayout, txFailedPayout:
		// A payout moves money from the provider's balance (the tender of
		// the payments it settles) to the bank; a failed one moves it back.
		// Platforms sign these either way, so the type alone sets direction.
		from := PayoutClearing
		if t.TenderType != "" {
			from = Tender(t.TenderType)
		}
		amt := t.Amount.Abs()
		if t.Type == txPayout {
			b.debit(Payouts, amt)
			b.credit(from, amt)
		} else {
			b.debit(from, amt)
			b.credit(Payouts, amt)
		}
	default:
		if txWithoutMoney[t.Type] {
			return nil, nil
		}
		return nil, fmt.Errorf("transaction type %q is not one of Payment, Refund, Payout, FailedPayout, Transfer, PaymentFee, PaymentFeeRefund, Unknown", t.Type)
	}
	return b.done(t.Type + " transaction")
}

// builder collects postings, keeping the first overflow so the rules read as
// straight-line code.
type builder struct {
	ps  []Posting
	err error
}

func (b *builder) debit(a Account, amt money.Amount) {
	if amt != 0 {
		b.ps = append(b.ps, Posting{Account: a, Amount: amt})
	}
}

func (b *builder) credit(a Account, amt money.Amount) {
	if amt == 0 {
		return
	}
	neg, err := money.Zero.Sub(amt)
	if err != nil {
		if b.err == nil {
			b.err = fmt.Errorf("credit %s of %s: %w", a, amt, err)
		}
		return
	}
	b.ps = append(b.ps, Posting{Account: a, Amount: neg})
}

func (b *builder) done(what string) ([]Posting, error) {
	if b.err != nil {
		return nil, fmt.Errorf("%s postings: %w", what, b.err)
	}
	return b.ps, nil
}
