package mapping_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

// A converted journal still balances to the cent, every line in the base
// currency's units, whatever the rate; rounding goes to the FX account.
func TestConvertBalances(t *testing.T) {
	chartFX := codatChart{"sales/fx": "FX"}
	for k, v := range chart {
		chartFX[k] = v
	}
	rapid.Check(t, func(t *rapid.T) {
		tot := day.Totals{}
		n := rapid.IntRange(1, 6).Draw(t, "orders")
		for range n {
			c := rapid.Int64Range(1, 100000).Draw(t, "cents")
			tax := c / 6
			ps, err := day.OrderPostings(day.OrderFacts{Total: money.FromMinor(c, 2), Tax: money.FromMinor(tax, 2)})
			if err != nil {
				t.Fatal(err)
			}
			if err := tot.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
			ps, _ = day.PaymentPostings(day.PaymentFacts{Type: "Cash", Status: "Paid", Amount: money.FromMinor(c, 2)})
			if err := tot.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
		}
		s, err := day.NewSummary(day.Header{CompanyID: "c", Day: "2026-03-10", Currency: "GBP", Revision: 1,
			Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}, tot)
		if err != nil {
			t.Fatal(err)
		}
		planned, err := mapping.Journal(s, chartFX)
		if err != nil {
			t.Fatal(err)
		}
		base := rapid.SampledFrom([]string{"USD", "JPY", "BHD"}).Draw(t, "base")
		rate := decimal.New(rapid.Int64Range(1, 2_000_000).Draw(t, "rate"), -5)
		conv, err := mapping.Convert(planned, base, rate, chartFX)
		if err != nil {
			t.Fatal(err)
		}
		dp, _ := money.MinorUnits(base)
		var sum money.Amount
		for _, l := range conv[0].Document.Lines {
			if !l.Amount.FitsDecimals(dp) {
				t.Fatalf("%s line %s does not fit %d decimals", l.Account.Name, l.Amount, dp)
			}
			sum += l.Amount
		}
		if sum != 0 || conv[0].Document.Currency != base {
			t.Fatalf("converted journal sums to %s in %s", sum, conv[0].Document.Currency)
		}
	})
}
