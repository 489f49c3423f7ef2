package reconcile

import (
	"testing"

	"github.com/commercesync/commercesync/ledger/money"
)

func TestClassifyNamesEverySemanticAccount(t *testing.T) {
	for acct, want := range map[string]Category{
		"sales": GrossSales, "sales:Drinks": GrossSales, "tax": Tax, "tax:rate:20": Tax, "tax:vat-std": Tax,
		"discounts": Discounts, "gratuity": Gratuity, "service_charges": ServiceCharges, "shipping": Shipping,
		"refunds": Refunds, "gift_card_liability": GiftCards, "rounding": Rounding, "tender:Card": Tenders,
		"tender:Unknown": Tenders, "payment_fees": Fees, "payment_fee_refunds": Fees, "payouts": Payouts,
		"payout_clearing": Payouts, "unsettled": Unsettled, "salesman": Other, "": Other,
	} {
		if got := Classify(acct); got != want {
			t.Errorf("Classify(%q) = %s; want %s", acct, got, want)
		}
	}
}

func TestReportedReadsCreditsOfCreditNormalCategoriesPositive(t *testing.T) {
	if got := Reported(GrossSales, -12000); got != 12000 {
		t.Errorf("sales credit 1.20 reported as %s", got)
	}
	if got := Reported(Tenders, 12000); got != 12000 {
		t.Errorf("card debit 1.20 reported as %s", got)
	}
}

func TestJudge(t *testing.T) {
	p := func(a money.Amount) *money.Amount { return &a }
	for _, c := range []struct {
		s    Sums
		want Status
		diff money.Amount
	}{
		{Sums{Commerce: 100, Ledger: 100, Platform: p(100)}, Matched, 0},
		{Sums{Commerce: 0, Ledger: 0}, Matched, 0},
		{Sums{Commerce: 150, Ledger: 100, Platform: p(100)}, Pending, 50},
		{Sums{Commerce: 100, Ledger: 100}, Unsynced, 100},
		{Sums{Commerce: 100, Ledger: 100, Platform: p(0)}, Mismatch, 100},
		{Sums{Commerce: 100, Ledger: 100, Platform: p(137)}, Mismatch, -37},
	} {
		st, d := Judge(c.s)
		if st != c.want || d != c.diff {
			t.Errorf("Judge(%+v) = %s, %s; want %s, %s", c.s, st, d, c.want, c.diff)
		}
	}
	if Worse(Matched, Pending) != Pending || Worse(Mismatch, Unsynced) != Mismatch || Worse(Unsynced, Matched) != Unsynced {
		t.Error("Worse does not keep the more serious status")
	}
}
