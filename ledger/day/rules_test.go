package day

import (
	"maps"
	"testing"

	"github.com/commercesync/commercesync/ledger/money"
)

func amt(t testing.TB, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return a
}

// net applies every contribution and fails on any error or imbalance.
func net(t testing.TB, contributions ...[]Posting) Totals {
	t.Helper()
	tot := Totals{}
	for _, ps := range contributions {
		if sum := sumPostings(ps); sum != 0 {
			t.Fatalf("contribution %v sums to %s, want 0", ps, sum)
		}
		if err := tot.Apply(ps, 1); err != nil {
			t.Fatalf("apply %v: %v", ps, err)
		}
	}
	return tot
}

func sumPostings(ps []Posting) money.Amount {
	var s money.Amount
	for _, p := range ps {
		s += p.Amount
	}
	return s
}

// must unwraps a rule's result: must(t)(OrderPostings(o)).
func must(t testing.TB) func([]Posting, error) []Posting {
	return func(ps []Posting, err error) []Posting {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
}

func TestCodatCashSalesJournal(t *testing.T) {
	order := must(t)(OrderPostings(OrderFacts{Total: amt(t, "1200"), Tax: amt(t, "200"), Gratuity: amt(t, "50")}))
	pay := must(t)(PaymentPostings(PaymentFacts{Type: "Cash", Status: "Paid", Amount: amt(t, "1250")}))

	got := net(t, order, pay)
	want := Totals{
		Tender("Cash"): amt(t, "1250"),
		Sales:          amt(t, "-1000"),
		Gratuity:       amt(t, "-50"),
		Tax:            amt(t, "-200"),
	}
	if !maps.Equal(got, want) {
		t.Fatalf("cash sales journal = %v, want %v", got, want)
	}

	fee := must(t)(TransactionPostings(TransactionFacts{Type: "PaymentFee", TenderType: "Cash", Amount: amt(t, "-60")}))
	feeRefund := must(t)(TransactionPostings(TransactionFacts{Type: "PaymentFeeRefund", TenderType: "Cash", Amount: amt(t, "30")}))
	got = net(t, order, pay, fee, feeRefund)
	want = Totals{
		Tender("Cash"):    amt(t, "1220"),
		PaymentFees:       amt(t, "60"),
		Sales:             amt(t, "-1000"),
		Gratuity:          amt(t, "-50"),
		Tax:               amt(t, "-200"),
		PaymentFeeRefunds: amt(t, "-30"),
	}
	if !maps.Equal(got, want) {
		t.Fatalf("with fees = %v, want %v", got, want)
	}
}

// Codat's linked example (reference §2.3): the 85.00 card sale appears in the
// order, the payment and a Payment transaction, and must count once.
func TestCodatLinkedExampleCountsOnce(t *testing.T) {
	got := net(t,
		must(t)(OrderPostings(OrderFacts{Total: amt(t, "85")})),
		must(t)(PaymentPostings(PaymentFacts{Type: "Card", Status: "Paid", Amount: amt(t, "85")})),
		must(t)(TransactionPostings(TransactionFacts{Type: "Payment", TenderType: "Card", Amount: amt(t, "85")})),
		must(t)(TransactionPostings(TransactionFacts{Type: "PaymentFee", TenderType: "Card", Amount: amt(t, "-1.49")})),
	)
	want := Totals{Tender("Card"): amt(t, "83.51"), PaymentFees: amt(t, "1.49"), Sales: amt(t, "-85")}
	if !maps.Equal(got, want) {
		t.Fatalf("linked example = %v, want %v", got, want)
	}
}

func TestPaymentStatuses(t *testing.T) {
	for _, status := range []string{"Pending", "Authorized", "Failed", "Cancelled", "Unknown", "", "paid"} {
		ps := must(t)(PaymentPostings(PaymentFacts{Type: "Card", Status: status, Amount: amt(t, "10")}))
		if len(ps) != 0 {
			t.Errorf("status %q contributed %v, want nothing", status, ps)
		}
	}
	refund := must(t)(PaymentPostings(PaymentFacts{Type: "Card", Status: "Paid", Amount: amt(t, "-10")}))
	want := []Posting{{Tender("Card"), amt(t, "-10")}, {Unsettled, amt(t, "10")}}
	if !equalPostings(refund, want) {
		t.Errorf("refund payment = %v, want %v", refund, want)
	}
}

func TestTransactionsWithoutMoney(t *testing.T) {
	for _, typ := range []string{"Payment", "Refund", "Transfer", "Unknown"} {
		ps, err := TransactionPostings(TransactionFacts{Type: typ, TenderType: "Card", Amount: amt(t, "-5")})
		if err != nil || ps != nil {
			t.Errorf("%s = %v, %v; want nil, nil", typ, ps, err)
		}
	}
	if _, err := TransactionPostings(TransactionFacts{Type: "paymentFee", Amount: amt(t, "-1")}); err == nil {
		t.Error("a misspelt transaction type was accepted")
	}
}

// A payout moves the settled payments' money from their tender to the bank,
// whatever sign the platform gives it; a failed payout moves it back; with
// no known tender it empties the payout clearing account.
func TestPayouts(t *testing.T) {
	cases := []struct {
		typ, tender, amount string
		want                []Posting
	}{
		{"Payout", "Card", "250.00", []Posting{{Payouts, amt(t, "250")}, {Tender("Card"), amt(t, "-250")}}},
		{"Payout", "Card", "-250.00", []Posting{{Payouts, amt(t, "250")}, {Tender("Card"), amt(t, "-250")}}},
		{"FailedPayout", "Card", "250.00", []Posting{{Tender("Card"), amt(t, "250")}, {Payouts, amt(t, "-250")}}},
		{"Payout", "", "99.99", []Posting{{Payouts, amt(t, "99.99")}, {PayoutClearing, amt(t, "-99.99")}}},
	}
	for _, c := range cases {
		ps, err := TransactionPostings(TransactionFacts{Type: c.typ, TenderType: c.tender, Amount: amt(t, c.amount)})
		if err != nil || !equalPostings(ps, c.want) {
			t.Errorf("%s of %s (%q) = %v, %v; want %v", c.typ, c.amount, c.tender, ps, err, c.want)
		}
	}
}

func TestZeroPostingsOmitted(t *testing.T) {
	ps := must(t)(OrderPostings(OrderFacts{Total: amt(t, "10")}))
	want := []Posting{{Unsettled, amt(t, "10")}, {Sales, amt(t, "-10")}}
	if !equalPostings(ps, want) {
		t.Errorf("order without tax or gratuity = %v, want %v", ps, want)
	}
	if ps := must(t)(OrderPostings(OrderFacts{})); len(ps) != 0 {
		t.Errorf("zero order = %v, want none", ps)
	}
	if ps := must(t)(TransactionPostings(TransactionFacts{Type: "PaymentFee"})); len(ps) != 0 {
		t.Errorf("zero fee = %v, want none", ps)
	}
}

func TestRulesOverflow(t *testing.T) {
	const huge = money.Amount(1 << 62)
	if _, err := OrderPostings(OrderFacts{Total: huge, Gratuity: huge}); err == nil {
		t.Error("order total+gratuity overflow accepted")
	}
	if _, err := OrderPostings(OrderFacts{Total: -huge, Tax: huge}); err == nil {
		t.Error("order total-tax overflow accepted")
	}
	if _, err := PaymentPostings(PaymentFacts{Status: "Paid", Amount: money.Amount(-1 << 63)}); err == nil {
		t.Error("payment of MinInt64 accepted")
	}
}

func TestTender(t *testing.T) {
	cases := map[string]Account{"Card": "tender:Card", "Cash": "tender:Cash", "": "tender:Unknown", " Cash ": "tender:Cash"}
	for in, want := range cases {
		if got := Tender(in); got != want {
			t.Errorf("Tender(%q) = %q, want %q", in, got, want)
		}
	}
	if typ, ok := Tender("StoreCredit").TenderType(); !ok || typ != "StoreCredit" {
		t.Errorf("TenderType of tender:StoreCredit = %q, %v", typ, ok)
	}
	if _, ok := Sales.TenderType(); ok {
		t.Error("sales reported as a tender")
	}
}

func equalPostings(a, b []Posting) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
