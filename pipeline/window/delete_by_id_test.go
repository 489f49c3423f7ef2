package window

// Sparse deletes: a delete of a transaction id naming no type reaches every
// transaction sharing the id, and a payment's delete is all or nothing with
// the fees that take its tender.

import (
	"errors"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// apPaymentTx is the Payment transaction of a payment (it carries no money
// of its own: the Payment record does).
func apPaymentTx(id string, at time.Time, srcMod int64, amount string) *v1.CommerceEvent {
	return recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payment", Id: id,
		EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: srcMod, ContentHash: exHash(id, "Payment", srcMod, amount),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{Id: id, TotalAmount: amount, Currency: "GBP", Type: "Payment"}},
	})
}

// A delete {id} of a transaction naming no type removes each transaction of
// that id modified at the source no later than the delete, even when one of
// an earlier type in the list (here the Payment transaction, changed at the
// source after the delete) stays: the fee that reuses the payment's id, as
// in Codat's example, still leaves the day.
func TestUntypedTransactionDeleteRemovesEveryOlderTypeSharingTheID(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	deleted := at.Add(10 * time.Minute).UnixMilli()
	e.push(
		exPayment("pay-1", at, at.UnixMilli(), "GBP", "50.00", "Card", "Paid"),
		apPaymentTx("pay-1", at, deleted+10*60*1000, "50.00"),
		exFee("pay-1", "pay-1", at, at.UnixMilli(), "GBP", "-1.49"),
	)
	e.push(deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_TRANSACTION, "", "pay-1", deleted))
	c := e.r.a.companies[exCompany]
	if rs := c.rec(recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "Payment", "pay-1"}); rs == nil || rs.deleted {
		t.Errorf("the Payment transaction changed after the delete was deleted: %+v", rs)
	}
	if rs := c.rec(recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "pay-1"}); rs == nil || !rs.deleted {
		t.Errorf("the PaymentFee modified before the delete was kept: %+v", rs)
	}
	sums := e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{"tender:Card": "50.00", "unsettled": "-50.00"})
}

// A payment's delete moves its fees to tender:Unknown; should moving a fee
// fail, the delete is refused whole: the payment stays, and so does the
// fee's tender.
func TestPaymentDeleteIsRefusedWholeWhenItsFeeCannotMove(t *testing.T) {
	fail := false
	r := newRun(t, map[string]int32{exCompany: 0}, WithFaultHook(func(p FaultPoint) error {
		if fail && p.Where == "relink" {
			return errInjected
		}
		return nil
	}))
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	r.apply(t, settingsEvent(exCompany, exTenant, &v1.WindowSettings{TimeZone: ldnZone, ConfigVersion: 1}),
		exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"),
		exFee("fee-1", "pay-1", at, 1, "GBP", "-1.49"))
	r.commit(t)

	fail = true
	del := deleteEvent(exCompany, exTenant, v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1", at.Add(time.Hour).UnixMilli())
	if err := r.a.Apply(0, del); !errors.Is(err, errInjected) {
		t.Fatalf("Apply of the payment's delete with its fee failing to move = %v, want the fee's error", err)
	}
	fail = false
	r.apply(t, far(at))
	sums := r.commit(t)
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
		"payment_fees": "1.49", "tender:Card": "48.51", "unsettled": "-50.00",
	})
	if c := r.a.companies[exCompany]; c.rec(recordKey{v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1"}).deleted {
		t.Errorf("the refused delete left the payment deleted")
	}
	if s := r.a.Stats(); s.Refused != 1 {
		t.Errorf("stats %+v, want the delete counted as refused", s)
	}
}
