package window

// Which payment a fee follows: the payment its transactionSourceRef names
// when that is a Payment with an id, else the payment sharing the fee's own
// id (Codat's example reuses the payment's id as the fee's).

import (
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A fee whose source reference is not a usable Payment reference (a Payment
// with no id, or a reference of another type) follows the payment of its
// own id, and takes that payment's tender.
func TestFeeWithoutAUsablePaymentReferenceFollowsThePaymentOfItsOwnID(t *testing.T) {
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	for _, ref := range []*v1.TransactionSourceRef{
		{Type: "Payment", Id: ""},
		{Type: "Order", Id: "ord-1"},
		nil,
	} {
		e := newEx(t, ldnZone, 0, 0)
		fee := exFee("pay-1", "", at, 1, "GBP", "-1.49")
		fee.GetRecord().GetTransaction().TransactionSourceRef = ref
		e.push(exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"), fee)
		sums := e.push(far(at))
		count(t, sums, 1)
		wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
			"payment_fees": "1.49", "tender:Card": "48.51", "unsettled": "-50.00",
		})
	}
}

// A fee whose source reference names a Payment by id follows that payment,
// not the payment that happens to share the fee's own id.
func TestFeeFollowsThePaymentItsSourceReferenceNames(t *testing.T) {
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	e := newEx(t, ldnZone, 0, 0)
	e.push(
		exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"),
		exPayment("pay-2", at, 1, "GBP", "20.00", "Cash", "Paid"),
		exFee("pay-1", "pay-2", at, 1, "GBP", "-0.30"),
	)
	sums := e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
		"payment_fees": "0.30", "tender:Card": "50.00", "tender:Cash": "19.70", "unsettled": "-70.00",
	})
}
