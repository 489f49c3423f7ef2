package money

import (
	"math"
	"testing"
)

// The small helpers the rules lean on: which side a net amount posts to
// (Sign), a credit as the negation of a debit (Neg), a line's size (Abs) and
// whether an account is left at all (IsZero). A sign error in any of them
// posts money to the wrong side while every journal still balances.
func TestSignNegAbsIsZero(t *testing.T) {
	cases := []struct {
		a        Amount
		sign     int
		neg, abs Amount
		zero     bool
	}{
		{0, 0, 0, 0, true},
		{1, 1, -1, 1, false},
		{-1, -1, 1, 1, false},
		{850_000, 1, -850_000, 850_000, false},
		{-14_900, -1, 14_900, 14_900, false},
		{MaxAbs, 1, -MaxAbs, MaxAbs, false},
		{-MaxAbs, -1, MaxAbs, MaxAbs, false},
		{math.MaxInt64, 1, -math.MaxInt64, math.MaxInt64, false},
		{math.MinInt64 + 1, -1, math.MaxInt64, math.MaxInt64, false},
	}
	for _, c := range cases {
		if got := c.a.Sign(); got != c.sign {
			t.Errorf("Amount(%d).Sign() = %d, want %d", int64(c.a), got, c.sign)
		}
		if got := c.a.Neg(); got != c.neg {
			t.Errorf("Amount(%d).Neg() = %d, want %d", int64(c.a), int64(got), int64(c.neg))
		}
		if got := c.a.Abs(); got != c.abs {
			t.Errorf("Amount(%d).Abs() = %d, want %d", int64(c.a), int64(got), int64(c.abs))
		}
		if got := c.a.IsZero(); got != c.zero {
			t.Errorf("Amount(%d).IsZero() = %v, want %v", int64(c.a), got, c.zero)
		}
	}
}

// FromUnits and FromMinor put an integer count at the right scale for every
// number of minor units a currency can have, and Decimal hands the exact
// value to the edges: a factor of ten off anywhere here is a hundredfold
// error on a JPY or BHD day.
func TestScaleConversions(t *testing.T) {
	units := []struct {
		n    int64
		want Amount
	}{{0, 0}, {1, 10_000}, {-1, -10_000}, {85, 850_000}, {100_000_000_000, MaxAbs}}
	for _, c := range units {
		if got := FromUnits(c.n); got != c.want {
			t.Errorf("FromUnits(%d) = %d, want %d", c.n, int64(got), int64(c.want))
		}
	}
	minor := []struct {
		n    int64
		dp   int
		want Amount
	}{
		{7, 0, 70_000}, {7, 1, 7_000}, {7, 2, 700}, {7, 3, 70}, {7, 4, 7},
		{-123, 0, -1_230_000}, {-123, 2, -12_300}, {-123, 3, -1_230}, {-123, 4, -123},
		{0, 2, 0},
	}
	for _, c := range minor {
		if got := FromMinor(c.n, c.dp); got != c.want {
			t.Errorf("FromMinor(%d, %d) = %d, want %d", c.n, c.dp, int64(got), int64(c.want))
		}
	}
	decimals := []struct {
		a    Amount
		want string
	}{{0, "0"}, {1, "0.0001"}, {-1, "-0.0001"}, {-14_900, "-1.49"}, {12_345, "1.2345"}, {MaxAbs, "100000000000"}}
	for _, c := range decimals {
		if got := c.a.Decimal().String(); got != c.want {
			t.Errorf("Amount(%d).Decimal() = %s, want %s", int64(c.a), got, c.want)
		}
	}
}
