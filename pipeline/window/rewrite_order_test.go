package window

// Records re-applied because of another record go in key order, so the same
// input writes the same changelog in the same order.

import (
	"slices"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A payment that arrives after three of its fees rewrites itself and then
// the fees (each now on the payment's tender) in the order of their ids,
// whatever order they came in.
func TestPaymentRewritesItsWaitingFeesInIdOrder(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	e.push(exFee("fee-c", "pay-1", at, 1, "GBP", "-0.30"), exFee("fee-a", "pay-1", at, 1, "GBP", "-0.10"))
	e.push(exFee("fee-b", "pay-1", at, 1, "GBP", "-0.20"))
	e.r.apply(t, exPayment("pay-1", at, 1, "GBP", "50.00", "Card", "Paid"))
	out, err := e.r.a.Flush()
	if err != nil {
		t.Fatal(err)
	}
	e.r.a.Commit()
	name := map[string]string{}
	for _, k := range []recordKey{
		{v1.RecordKind_RECORD_KIND_PAYMENT, "", "pay-1"},
		{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-a"},
		{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-b"},
		{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", "fee-c"},
	} {
		name[string(appendRecordKey(nil, exCompany, k))] = k.id
	}
	var got []string
	for _, ch := range out.Changes {
		if id, ok := name[string(ch.Key)]; ok {
			got = append(got, id)
		}
	}
	if want := []string{"pay-1", "fee-a", "fee-b", "fee-c"}; !slices.Equal(got, want) {
		t.Errorf("the payment's batch writes records %v, want %v", got, want)
	}
	c := e.r.a.companies[exCompany]
	for _, id := range []string{"fee-a", "fee-b", "fee-c"} {
		if rs := c.rec(recordKey{v1.RecordKind_RECORD_KIND_TRANSACTION, "PaymentFee", id}); rs.tender != "Card" {
			t.Errorf("%s is on tender %q after its payment arrived, want Card", id, rs.tender)
		}
	}
}
