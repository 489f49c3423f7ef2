package day

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/money"
)

func netOf(t testing.TB, ps []Posting) map[Account]string {
	t.Helper()
	tot := Totals{}
	if err := tot.Apply(ps, 1); err != nil {
		t.Fatal(err)
	}
	out := map[Account]string{}
	for a, v := range tot {
		out[a] = v.String()
	}
	return out
}

func sameLines(t *testing.T, got map[Account]string, want map[Account]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("postings %v, want %v", got, want)
		return
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s = %s, want %s (all: %v)", a, got[a], w, got)
		}
	}
}

// Codat's AR/BNPL example (reference §3.3): an order of 5,500 with a 500
// discount and 1,000 tax is owed 6,000; sales are 5,000 once the discount is
// netted (the planner nets it when discounts map to the sales account).
func TestOrderWithDiscountAndTax(t *testing.T) {
	ps, err := OrderPostings(OrderFacts{Total: amt(t, "6000"), Tax: amt(t, "1000"), Unit: amt(t, "0.01"),
		Lines: []OrderLine{{Total: amt(t, "6000"), Tax: amt(t, "1000"), TaxKey: "rate:20", Discount: amt(t, "500")}}})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, netOf(t, ps), map[Account]string{
		Unsettled: "6000.00", Sales: "-5500.00", Discounts: "500.00", TaxOn("rate:20"): "-1000.00",
	})
}

// Codat's cash refund (§3.3): a refunded line of 100 plus 20 tax debits
// refunds and tax; the negative payment takes the cash back out.
func TestRefundLine(t *testing.T) {
	order, err := OrderPostings(OrderFacts{Total: amt(t, "-120"), Tax: amt(t, "-20"), Unit: amt(t, "0.01"),
		Lines: []OrderLine{{Total: amt(t, "-120"), Tax: amt(t, "-20"), Taxes: []TaxPart{{Key: "vat", Amount: amt(t, "-20")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	pay, err := PaymentPostings(PaymentFacts{Type: "Cash", Status: "Paid", Amount: amt(t, "-120")})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, netOf(t, append(order, pay...)), map[Account]string{
		Refunds: "100.00", TaxOn("vat"): "20.00", Tender("Cash"): "-120.00",
	})
}

func TestServiceChargesGiftCardsAndTaxComponents(t *testing.T) {
	ps, err := OrderPostings(OrderFacts{Total: amt(t, "86.00"), Gratuity: amt(t, "5"), Unit: amt(t, "0.01"),
		Lines: []OrderLine{
			{Total: amt(t, "54.00"), Tax: amt(t, "9.00"), Category: "drinks",
				Taxes: []TaxPart{{Key: "state", Amount: amt(t, "6.00")}, {Key: "city", Amount: amt(t, "3.00")}}},
			{Total: amt(t, "25.00"), GiftCard: true},
		},
		Charges: []Charge{{Shipping: true, Total: amt(t, "6.00"), Tax: amt(t, "1.00"), TaxKey: "rate:20"}, {Total: amt(t, "1.00")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, netOf(t, ps), map[Account]string{
		Unsettled: "91.00", SalesIn("drinks"): "-45.00", TaxOn("state"): "-6.00", TaxOn("city"): "-3.00",
		GiftCards: "-25.00", Shipping: "-5.00", TaxOn("rate:20"): "-1.00", ServiceCharges: "-1.00", Gratuity: "-5.00",
	})
}

func TestRoundingWithinAndBeyondTheBound(t *testing.T) {
	line := func(total string) OrderLine { return OrderLine{Total: amt(t, total)} }
	ps, err := OrderPostings(OrderFacts{Total: amt(t, "10.00"), Unit: amt(t, "0.01"), Lines: []OrderLine{line("3.34"), line("3.34"), line("3.33")}})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, netOf(t, ps), map[Account]string{Unsettled: "10.00", Sales: "-10.01", Rounding: "0.01"})

	_, err = OrderPostings(OrderFacts{Total: amt(t, "10.00"), Unit: amt(t, "0.01"), Lines: []OrderLine{line("9.97")}})
	if !errors.Is(err, ErrRounding) {
		t.Fatalf("a 0.03 gap on one line: %v, want ErrRounding", err)
	}
}

// Every order within the rounding bound balances, whatever its lines.
func TestOrderPostingsBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cents := func(label string, lo, hi int64) money.Amount {
			return money.FromMinor(rapid.Int64Range(lo, hi).Draw(t, label), 2)
		}
		var o OrderFacts
		o.Unit = money.FromMinor(1, 2)
		var sum money.Amount
		for range rapid.IntRange(0, 5).Draw(t, "lines") {
			l := OrderLine{Total: cents("total", -50000, 50000), Tax: cents("tax", -5000, 5000),
				Discount: cents("discount", 0, 2000), GiftCard: rapid.IntRange(0, 9).Draw(t, "gift") == 0,
				Category: rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "category")}
			if rapid.Bool().Draw(t, "parts") {
				part := cents("part", -5000, 5000)
				l.Taxes = []TaxPart{{Key: "c1", Amount: part}}
			}
			o.Lines = append(o.Lines, l)
			sum += l.Total
		}
		for range rapid.IntRange(0, 2).Draw(t, "charges") {
			c := Charge{Shipping: rapid.Bool().Draw(t, "shipping"), Total: cents("charge", 0, 2000), Tax: cents("charge tax", 0, 300)}
			o.Charges = append(o.Charges, c)
			sum += c.Total
		}
		n := int64(len(o.Lines) + len(o.Charges))
		o.Total = sum + money.FromMinor(rapid.Int64Range(-n, n).Draw(t, "rounding"), 2)
		o.Gratuity = cents("gratuity", 0, 1000)
		ps, err := OrderPostings(o)
		if err != nil {
			t.Fatalf("an order within the bound was refused: %v", err)
		}
		var total money.Amount
		for _, p := range ps {
			total += p.Amount
		}
		if total != 0 {
			t.Fatalf("postings do not balance: %v", ps)
		}
	})
}

// An order's postings to the same account fold into one, in the order the
// accounts first appear, so a day applies one sales and one tax posting for
// a basket of like items rather than one per line.
func TestOrderPostingsFoldRepeatedAccounts(t *testing.T) {
	cases := []struct {
		name string
		o    OrderFacts
		want []Posting
	}{
		{
			"two untaxed lines of one category",
			OrderFacts{Total: amt(t, "20"), Unit: amt(t, "0.01"), Lines: []OrderLine{{Total: amt(t, "10")}, {Total: amt(t, "10")}}},
			[]Posting{{Unsettled, amt(t, "20")}, {Sales, amt(t, "-20")}},
		},
		{
			"two taxed lines of one category and rate",
			OrderFacts{Total: amt(t, "24"), Tax: amt(t, "4"), Unit: amt(t, "0.01"), Lines: []OrderLine{
				{Total: amt(t, "12"), Tax: amt(t, "2"), TaxKey: "rate:20", Category: "Bakery"},
				{Total: amt(t, "12"), Tax: amt(t, "2"), TaxKey: "rate:20", Category: "Bakery"},
			}},
			[]Posting{{Unsettled, amt(t, "24")}, {SalesIn("Bakery"), amt(t, "-20")}, {TaxOn("rate:20"), amt(t, "-4")}},
		},
		{
			"lines of two categories, one rate, a tip",
			OrderFacts{Total: amt(t, "36"), Tax: amt(t, "6"), Gratuity: amt(t, "3"), Unit: amt(t, "0.01"), Lines: []OrderLine{
				{Total: amt(t, "12"), Tax: amt(t, "2"), TaxKey: "rate:20", Category: "Bakery"},
				{Total: amt(t, "12"), Tax: amt(t, "2"), TaxKey: "rate:20", Category: "Coffee"},
				{Total: amt(t, "12"), Tax: amt(t, "2"), TaxKey: "rate:20", Category: "Bakery"},
			}},
			[]Posting{{Unsettled, amt(t, "39")}, {Gratuity, amt(t, "-3")}, {SalesIn("Bakery"), amt(t, "-20")}, {TaxOn("rate:20"), amt(t, "-6")}, {SalesIn("Coffee"), amt(t, "-10")}},
		},
	}
	for _, c := range cases {
		ps, err := OrderPostings(c.o)
		if err != nil || !equalPostings(ps, c.want) {
			t.Errorf("%s: postings %v, %v; want %v", c.name, ps, err, c.want)
		}
	}
}

// A line whose tax parts cannot be taken from its tax without overflow is
// refused with the reason, not posted with part of its tax missing.
func TestOrderTaxPartsThatOverflowAreRefused(t *testing.T) {
	tax := money.Amount(math.MinInt64 + 10)
	_, err := OrderPostings(OrderFacts{Unit: amt(t, "0.01"), Lines: []OrderLine{
		{Tax: tax, Taxes: []TaxPart{{Key: "state", Amount: 100}}},
	}})
	if err == nil || !strings.Contains(err.Error(), "tax parts") || !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("err = %v, want the tax parts' overflow", err)
	}
}

// A line discounted to nothing (a free muffin) still shows its sale at
// gross and the discount that cancelled it, so a merchant who reports
// discounts apart sees it; only a line below zero is a refund.
func TestFullyDiscountedLineShowsItsSaleAndDiscount(t *testing.T) {
	ps, err := OrderPostings(OrderFacts{Total: amt(t, "3.50"), Unit: amt(t, "0.01"), Lines: []OrderLine{
		{Total: amt(t, "3.50"), Category: "Coffee"},
		{Total: amt(t, "0"), Discount: amt(t, "2.75"), Category: "Bakery"},
	}})
	want := []Posting{{Unsettled, amt(t, "3.50")}, {SalesIn("Coffee"), amt(t, "-3.50")}, {SalesIn("Bakery"), amt(t, "-2.75")}, {Discounts, amt(t, "2.75")}}
	if err != nil || !equalPostings(ps, want) {
		t.Fatalf("postings %v, %v; want %v", ps, err, want)
	}
}

// An order of service charges alone (a delivery fee, a booking charge) posts
// each charge net of its tax, with no sales.
func TestOrderOfChargesOnly(t *testing.T) {
	ps, err := OrderPostings(OrderFacts{Total: amt(t, "7.50"), Tax: amt(t, "0.50"), Unit: amt(t, "0.01"), Charges: []Charge{
		{Shipping: true, Total: amt(t, "4.50"), Tax: amt(t, "0.50"), TaxKey: "rate:12.5"},
		{Total: amt(t, "3.00")},
	}})
	want := []Posting{{Unsettled, amt(t, "7.50")}, {Shipping, amt(t, "-4.00")}, {TaxOn("rate:12.5"), amt(t, "-0.50")}, {ServiceCharges, amt(t, "-3.00")}}
	if err != nil || !equalPostings(ps, want) {
		t.Fatalf("postings %v, %v; want %v", ps, err, want)
	}
}

// Rounding explains up to one minor unit per line and charge, inclusive:
// exactly that is posted to rounding, a unit more refuses the order.
func TestRoundingBoundIsOneUnitPerLineAndCharge(t *testing.T) {
	order := func(total string) OrderFacts {
		return OrderFacts{Total: amt(t, total), Unit: amt(t, "0.01"),
			Lines:   []OrderLine{{Total: amt(t, "3.33")}, {Total: amt(t, "3.33")}},
			Charges: []Charge{{Total: amt(t, "3.33")}}}
	}
	for _, total := range []string{"10.02", "9.96"} { // 9.99 ± 0.03
		ps, err := OrderPostings(order(total))
		if err != nil {
			t.Errorf("total %s, three parts of 3.33: %v", total, err)
			continue
		}
		want := amt(t, "9.99")
		want -= amt(t, total) // the credit to rounding is what the parts leave
		if got := netOf(t, ps)[Rounding]; got != want.String() {
			t.Errorf("total %s: rounding %s, want %s", total, got, want)
		}
	}
	for _, total := range []string{"10.03", "9.95"} {
		if _, err := OrderPostings(order(total)); !errors.Is(err, ErrRounding) {
			t.Errorf("total %s, 0.04 from its parts: err = %v, want ErrRounding", total, err)
		}
	}
}

// Tax parts credit their components; what they leave of the line's tax goes
// to the line's tax key, and nothing goes there when they use it all.
func TestTaxPartsAndTheirRemainder(t *testing.T) {
	line := func(parts ...TaxPart) OrderFacts {
		return OrderFacts{Total: amt(t, "13"), Tax: amt(t, "3"), Unit: amt(t, "0.01"),
			Lines: []OrderLine{{Total: amt(t, "13"), Tax: amt(t, "3"), TaxKey: "rate:30", Taxes: parts}}}
	}
	sameLines(t, netOf(t, must(t)(OrderPostings(line(TaxPart{"state", amt(t, "2")})))), map[Account]string{
		Unsettled: "13.00", Sales: "-10.00", TaxOn("state"): "-2.00", TaxOn("rate:30"): "-1.00",
	})
	sameLines(t, netOf(t, must(t)(OrderPostings(line(TaxPart{"state", amt(t, "2")}, TaxPart{"city", amt(t, "1")})))), map[Account]string{
		Unsettled: "13.00", Sales: "-10.00", TaxOn("state"): "-2.00", TaxOn("city"): "-1.00",
	})
	sameLines(t, netOf(t, must(t)(OrderPostings(line()))), map[Account]string{
		Unsettled: "13.00", Sales: "-10.00", TaxOn("rate:30"): "-3.00",
	})
}
