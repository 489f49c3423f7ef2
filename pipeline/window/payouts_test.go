package window

import (
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func exPayout(typ, id string, at time.Time, amount string, settles ...string) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: typ, Id: id,
		EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1, ContentHash: exHash(id, typ, amount),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
			Id: id, TotalAmount: amount, Currency: "GBP", Type: typ, SettledTransactionIds: settles,
		}},
	})
}

// A payout on the third day that settles card payments of the first two
// moves their money from the card clearing account to the bank on its own
// day; a failed payout moves it back; a payout of unknown payments empties
// the payout clearing account.
func TestPayoutSettlingTwoDaysAndAFailedPayout(t *testing.T) {
	const ldn = "Europe/London"
	e := newEx(t, ldn, 0, 0)
	d1, d2, d3 := local(t, ldn, "2026-06-10 12:00:00"), local(t, ldn, "2026-06-11 12:00:00"), local(t, ldn, "2026-06-12 09:00:00")
	e.push(
		exPayment("pay-1", d1, 1, "GBP", "40.00", "Card", "Paid"),
		exPayment("pay-2", d2, 1, "GBP", "60.00", "Card", "Paid"),
		// The payout arrives before one of the payments it settles: its
		// tender follows once the payment is known.
		exPayout("Payout", "po-1", d3, "100.00", "pay-1", "pay-2", "pay-3"),
		exPayment("pay-3", d2, 1, "GBP", "0.00", "Card", "Paid"),
		exPayout("FailedPayout", "fpo-1", d3, "-30.00", "pay-1"),
		exPayout("Payout", "po-2", d3, "5.00"),
	)
	var day3 *v1.DaySummary
	for _, s := range e.push(far(d3)) {
		if s.GetBusinessDay() == "2026-06-12" {
			day3 = s
		}
	}
	if day3 == nil {
		t.Fatal("no summary for the payout day")
	}
	wantSummary(t, day3, "2026-06-12", "GBP", 1, ByCloseUpTo, map[string]string{
		"payouts": "75.00", "tender:Card": "-70.00", "payout_clearing": "-5.00",
	})
}
