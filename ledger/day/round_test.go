package day

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/money"
)

func TestRoundPostingsKeepsBalanceWithinHalfAUnit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dp := rapid.SampledFrom([]int{0, 2, 3}).Draw(t, "dp")
		n := rapid.IntRange(1, 8).Draw(t, "postings")
		var ps []Posting
		var sum money.Amount
		for i := range n - 1 {
			a := money.Amount(rapid.Int64Range(-10_000_000, 10_000_000).Draw(t, "amount"))
			ps = append(ps, Posting{Account: Account(string(rune('a' + i))), Amount: a})
			sum += a
		}
		ps = append(ps, Posting{Account: "z", Amount: -sum})
		out, err := RoundPostings(ps, dp)
		if err != nil {
			t.Fatal(err)
		}
		var total money.Amount
		for _, p := range out {
			if !p.Amount.FitsDecimals(dp) {
				t.Fatalf("%s = %s does not fit %d decimals", p.Account, p.Amount, dp)
			}
			total += p.Amount
		}
		if total != 0 {
			t.Fatalf("rounded postings do not balance: %v", out)
		}
		unit := money.FromMinor(1, dp)
		for _, p := range out {
			if p.Account == Rounding {
				if p.Amount.Abs() > money.Amount(int64(unit)*int64(n)/2+int64(unit)) {
					t.Fatalf("rounding %s beyond half a unit per posting (%d postings)", p.Amount, n)
				}
			}
		}
	})
}

func TestRoundPostingsJPY(t *testing.T) {
	ps := []Posting{{Tender("Card"), amt(t, "1000.4")}, {Sales, amt(t, "-909.5")}, {Tax, amt(t, "-90.9")}}
	out, err := RoundPostings(ps, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[Account]string{}
	for _, p := range out {
		got[p.Account] = p.Amount.String()
	}
	want := map[Account]string{Tender("Card"): "1000.00", Sales: "-910.00", Tax: "-91.00", Rounding: "1.00"}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s = %s, want %s (all %v)", a, got[a], w, got)
		}
	}
}

// What rounding leaves unbalanced joins a record's own rounding posting
// rather than adding a second one, and the record still balances.
func TestRoundPostingsMergesIntoTheRecordsRounding(t *testing.T) {
	ps := []Posting{{Tender("Card"), amt(t, "2.006")}, {Sales, amt(t, "-2.034")}, {Rounding, amt(t, "0.028")}}
	out, err := RoundPostings(ps, 2)
	if err != nil {
		t.Fatal(err)
	}
	// 2.01 - 2.03 + 0.03 leaves 0.01, taken off the rounding posting.
	want := []Posting{{Tender("Card"), amt(t, "2.01")}, {Sales, amt(t, "-2.03")}, {Rounding, amt(t, "0.02")}}
	if !equalPostings(out, want) {
		t.Fatalf("RoundPostings = %v, want %v", out, want)
	}
}
