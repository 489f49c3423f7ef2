package money

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// ---------------------------------------------------------------------------
// Parse

func TestParseExact(t *testing.T) {
	cases := []struct {
		in   string
		want Amount
	}{
		{"85", 850_000},
		{"-1.49", -14_900},
		{"1e2", 1_000_000},
		{"1E2", 1_000_000},
		{"1.5e1", 150_000},
		{"1e-4", 1},
		{"-1E-4", -1},
		{"0.10", 1_000},
		{"1.23450", 12_345}, // a trailing zero past the fourth place is not precision
		{"1.234500000", 12_345},
		{"0.0001", 1},
		{"-0.0001", -1},
		{"0", 0},
		{"-0", 0},
		{"0.0000", 0},
		{" 12.34 ", 123_400}, // surrounding spaces from a string field
		{"100000000000", MaxAbs},
		{"-100000000000", -MaxAbs},
		{"99999999999.9999", MaxAbs - 1},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %d (%s), want %d (%s)", c.in, int64(got), got, int64(c.want), c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		in      string
		mention string // the message must say why
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"12,50", "not a decimal"},
		{"1.2.3", "not a decimal"},
		{"abc", "not a decimal"},
		{"12.5€", "not a decimal"},
		{"1.23456", "more than 4 decimal places"},
		{"-0.00001", "more than 4 decimal places"},
		{"1e-5", "more than 4 decimal places"},
		{"0.123450001", "more than 4 decimal places"},
		{"100000000000.0001", "outside the accepted range"},
		{"-100000000000.0001", "outside the accepted range"},
		{"1e12", "outside the accepted range"},
		{"922337203685477.5807", "outside the accepted range"}, // MaxInt64 ten-thousandths
		{"9223372036854775808", "outside the accepted range"},
		{"1e400", "outside the accepted range"},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want an error mentioning %q", c.in, got, c.mention)
			continue
		}
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("Parse(%q) error %q does not mention %q", c.in, err, c.mention)
		}
	}
}

// The most negative int64 count of ten-thousandths is far outside MaxAbs and
// must be refused like its positive mirror. abs64(MinInt64) is MinInt64
// (negative), so the range check in FromDecimal lets it through.
func TestParseRefusesMinInt64(t *testing.T) {
	for _, in := range []string{"-922337203685477.5808", "-9.223372036854775808e14"} {
		got, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %d, want an out-of-range error (|value| > MaxAbs %s)", in, int64(got), MaxAbs)
		}
	}
}

// Property: every amount within ±MaxAbs survives String → Parse unchanged,
// and Parse never accepts anything outside ±MaxAbs.
func TestParseStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Amount(rapid.Int64Range(-int64(MaxAbs), int64(MaxAbs)).Draw(t, "a"))
		got, err := Parse(a.String())
		if err != nil {
			t.Fatalf("Parse(%q): %v", a.String(), err)
		}
		if got != a {
			t.Fatalf("Parse(%q) = %d, want %d", a.String(), int64(got), int64(a))
		}
	})
}

func TestParseNeverExceedsMaxAbs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := edgeInt64().Draw(t, "v")
		s := Amount(v).String() // exact text of any int64 ten-thousandths
		got, err := Parse(s)
		inRange := v >= -int64(MaxAbs) && v <= int64(MaxAbs)
		switch {
		case inRange && err != nil:
			t.Fatalf("Parse(%q): %v", s, err)
		case inRange && got != Amount(v):
			t.Fatalf("Parse(%q) = %d, want %d", s, int64(got), v)
		case !inRange && err == nil:
			t.Fatalf("Parse(%q) = %d accepted a value outside ±%s", s, int64(got), MaxAbs)
		}
	})
}

// ---------------------------------------------------------------------------
// String, Fixed, FitsDecimals, Round

func TestString(t *testing.T) {
	cases := []struct {
		in   Amount
		want string
	}{
		{0, "0.00"},
		{850_000, "85.00"},
		{-14_900, "-1.49"},
		{1, "0.0001"},
		{-1, "-0.0001"},
		{12_340, "1.234"},
		{10, "0.001"},
		{100, "0.01"},
		{-5_000, "-0.50"},
		{MaxAbs, "100000000000.00"},
		{math.MaxInt64, "922337203685477.5807"},
		{math.MinInt64, "-922337203685477.5808"},
	}
	for _, c := range cases {
		if got := c.in.String(); got != c.want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(c.in), got, c.want)
		}
	}
}

func TestFixed(t *testing.T) {
	cases := []struct {
		in   Amount
		dp   int
		want string
	}{
		{850_000, 2, "85.00"},
		{850_000, 0, "85"},
		{-14_900, 2, "-1.49"},
		{12_300, 2, "1.23"},
		{12_345, 4, "1.2345"},
		{12_340, 3, "1.234"},
		{0, 2, "0.00"},
		{-1, 4, "-0.0001"},
		{1_000_000, 0, "100"}, // JPY
	}
	for _, c := range cases {
		got, err := c.in.Fixed(c.dp)
		if err != nil {
			t.Errorf("Amount(%d).Fixed(%d): %v", int64(c.in), c.dp, err)
			continue
		}
		if got != c.want {
			t.Errorf("Amount(%d).Fixed(%d) = %q, want %q", int64(c.in), c.dp, got, c.want)
		}
	}
	refused := []struct {
		in Amount
		dp int
	}{{12_345, 2}, {12_345, 3}, {10_500, 0}, {-1, 2}, {5, 3}}
	for _, c := range refused {
		if got, err := c.in.Fixed(c.dp); err == nil {
			t.Errorf("Amount(%s).Fixed(%d) = %q, want an error: digits would be dropped", c.in, c.dp, got)
		} else if !strings.Contains(err.Error(), "decimal places") {
			t.Errorf("Amount(%s).Fixed(%d) error %q does not say why", c.in, c.dp, err)
		}
	}
}

func TestFitsDecimals(t *testing.T) {
	cases := []struct {
		in   Amount
		dp   int
		want bool
	}{
		{850_000, 0, true},
		{855_000, 0, false},
		{-14_900, 2, true},
		{-14_910, 2, false},
		{-14_910, 3, true},
		{1, 3, false},
		{1, 4, true},
		{1, 6, true},
		{0, 0, true},
	}
	for _, c := range cases {
		if got := c.in.FitsDecimals(c.dp); got != c.want {
			t.Errorf("Amount(%s).FitsDecimals(%d) = %v, want %v", c.in, c.dp, got, c.want)
		}
	}
}

func TestRoundHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		in   string
		dp   int
		want string
	}{
		{"1.005", 2, "1.01"},
		{"-1.005", 2, "-1.01"},
		{"1.0049", 2, "1.00"},
		{"-1.0049", 2, "-1.00"},
		{"2.5", 0, "3"},
		{"-2.5", 0, "-3"},
		{"0.5", 0, "1"},
		{"-0.5", 0, "-1"},
		{"0.4999", 0, "0"},
		{"-0.4999", 0, "0"},
		{"1.2345", 3, "1.235"},
		{"-1.2345", 3, "-1.235"},
		{"99999999999.9999", 0, "100000000000"},
	}
	for _, c := range cases {
		a := mustParse(t, c.in)
		want := mustParse(t, c.want)
		if got, err := a.Round(c.dp); err != nil || got != want {
			t.Errorf("Parse(%q).Round(%d) = %s, %v; want %s", c.in, c.dp, got, err, want)
		}
	}
	a := mustParse(t, "1.2345")
	r4, err4 := a.Round(4)
	r9, err9 := a.Round(9)
	if r4 != a || r9 != a || err4 != nil || err9 != nil {
		t.Errorf("Round at or past Scale changed %s", a)
	}
}

// Property: Round agrees with exact rational rounding (half away from zero),
// its result fits dp decimals, and FitsDecimals(dp) holds exactly when
// rounding changes nothing. Inputs stay within ±MaxAbs, where the rounded
// value always fits.
func TestRoundProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Amount(rapid.Int64Range(-int64(MaxAbs), int64(MaxAbs)).Draw(t, "a"))
		dp := rapid.IntRange(0, Scale).Draw(t, "dp")
		want := roundRat(new(big.Rat).SetFrac64(int64(a), 1), pow10(Scale-dp)).Int64() * pow10(Scale-dp).Int64()
		got, err := a.Round(dp)
		if err != nil {
			t.Fatalf("Amount(%d).Round(%d): %v", int64(a), dp, err)
		}
		if int64(got) != want {
			t.Fatalf("Amount(%d).Round(%d) = %d, want %d", int64(a), dp, int64(got), want)
		}
		if !got.FitsDecimals(dp) {
			t.Fatalf("Round(%d) of %s = %s does not fit %d decimals", dp, a, got, dp)
		}
		if a.FitsDecimals(dp) != (got == a) {
			t.Fatalf("FitsDecimals(%d) of %s = %v but Round gives %s", dp, a, a.FitsDecimals(dp), got)
		}
	})
}

// Round must not silently wrap: the package promises that overflow is
// detected instead of wrapping. Near the int64 limit, rounding up would
// wrap to a large amount of the opposite sign; it is ErrOverflow instead.
func TestRoundNearLimitDoesNotWrap(t *testing.T) {
	for _, a := range []Amount{math.MaxInt64, math.MinInt64 + 1} {
		got, err := a.Round(0)
		if !errors.Is(err, ErrOverflow) {
			t.Errorf("Amount(%d).Round(0) = %d, %v; want ErrOverflow", int64(a), int64(got), err)
		}
	}
}

// Round's overflow guard is exact: the largest and smallest multiples of
// the rounding step that int64 holds round to themselves. A guard off by
// one refuses them as overflow.
func TestRoundKeepsTheExtremeMultiplesThatFit(t *testing.T) {
	for dp := 0; dp < Scale; dp++ {
		m := pow10(Scale - dp).Int64()
		for _, a := range []Amount{Amount(math.MaxInt64 / m * m), Amount(math.MinInt64 / m * m)} {
			got, err := a.Round(dp)
			if err != nil || got != a {
				t.Errorf("Amount(%d).Round(%d) = %d, %v; want it unchanged", int64(a), dp, int64(got), err)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Add, Sub

func TestAddSubExamples(t *testing.T) {
	a, b := mustParse(t, "10.25"), mustParse(t, "-0.75")
	if s, err := a.Add(b); err != nil || s != mustParse(t, "9.50") {
		t.Errorf("10.25 + -0.75 = %s, %v", s, err)
	}
	if s, err := a.Sub(b); err != nil || s != mustParse(t, "11.00") {
		t.Errorf("10.25 - -0.75 = %s, %v", s, err)
	}
	if _, err := Amount(math.MaxInt64).Add(1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MaxInt64 + 1: err = %v, want ErrOverflow", err)
	}
	if _, err := Amount(math.MinInt64).Add(-1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MinInt64 + -1: err = %v, want ErrOverflow", err)
	}
	if _, err := Amount(math.MinInt64).Sub(1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MinInt64 - 1: err = %v, want ErrOverflow", err)
	}
	if _, err := Amount(0).Sub(math.MinInt64); !errors.Is(err, ErrOverflow) {
		t.Errorf("0 - MinInt64: err = %v, want ErrOverflow", err)
	}
	if s, err := Amount(math.MaxInt64).Add(math.MinInt64); err != nil || s != -1 {
		t.Errorf("MaxInt64 + MinInt64 = %d, %v; want -1", int64(s), err)
	}
}

// Adding or taking away zero gives the amount back and is never an
// overflow, at every edge of the range: an empty posting must not refuse a
// record. (The property test below draws a zero only now and then.)
func TestAddSubZero(t *testing.T) {
	for _, a := range []Amount{0, 1, -1, MaxAbs, -MaxAbs, math.MaxInt64, math.MinInt64} {
		if s, err := a.Add(0); err != nil || s != a {
			t.Errorf("%d + 0 = %d, %v", int64(a), int64(s), err)
		}
		if s, err := Amount(0).Add(a); err != nil || s != a {
			t.Errorf("0 + %d = %d, %v", int64(a), int64(s), err)
		}
		if s, err := a.Sub(0); err != nil || s != a {
			t.Errorf("%d - 0 = %d, %v", int64(a), int64(s), err)
		}
	}
}

// -1 - MinInt64 = MaxInt64, which fits; Sub refuses every b == MinInt64.
func TestSubMinInt64FromNegative(t *testing.T) {
	for _, a := range []Amount{-1, math.MinInt64} {
		want := new(big.Int).Sub(big.NewInt(int64(a)), big.NewInt(math.MinInt64)).Int64()
		got, err := a.Sub(math.MinInt64)
		if err != nil || int64(got) != want {
			t.Errorf("Amount(%d).Sub(MinInt64) = %d, %v; want %d, nil", int64(a), int64(got), err, want)
		}
	}
}

// Property: Add and Sub agree with big.Int arithmetic and report ErrOverflow
// exactly when the exact result leaves int64.
func TestAddSubAgreeWithBigInt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := edgeInt64().Draw(t, "a")
		b := edgeInt64().Draw(t, "b")
		check := func(op string, got Amount, err error, exact *big.Int) {
			if exact.IsInt64() {
				if err != nil {
					t.Fatalf("%d %s %d: unexpected error %v (exact %s fits int64)", a, op, b, err, exact)
				}
				if int64(got) != exact.Int64() {
					t.Fatalf("%d %s %d = %d, want %s", a, op, b, int64(got), exact)
				}
				return
			}
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("%d %s %d = %d, %v; want ErrOverflow (exact %s)", a, op, b, int64(got), err, exact)
			}
		}
		s, err := Amount(a).Add(Amount(b))
		check("+", s, err, new(big.Int).Add(big.NewInt(a), big.NewInt(b)))
		d, err := Amount(a).Sub(Amount(b))
		check("-", d, err, new(big.Int).Sub(big.NewInt(a), big.NewInt(b)))
	})
}

// ---------------------------------------------------------------------------
// MulRatio

func TestMulRatioExamples(t *testing.T) {
	cases := []struct {
		a        string
		num, den int64
		want     string
	}{
		{"10", 1, 3, "3.3333"},
		{"20", 1, 3, "6.6667"},
		{"-20", 1, 3, "-6.6667"},
		{"20", -1, 3, "-6.6667"},
		{"20", 1, -3, "-6.6667"},
		{"-20", -1, -3, "-6.6667"},
		{"0.0001", 1, 2, "0.0001"},   // exactly half: away from zero
		{"-0.0001", 1, 2, "-0.0001"}, // exactly half: away from zero
		{"0.0001", 1, 3, "0"},
		{"120", 20, 120, "20"}, // VAT share of a gross amount
	}
	for _, c := range cases {
		got, err := mustParse(t, c.a).MulRatio(c.num, c.den)
		if err != nil {
			t.Errorf("%s * %d/%d: %v", c.a, c.num, c.den, err)
			continue
		}
		if got != mustParse(t, c.want) {
			t.Errorf("%s * %d/%d = %s, want %s", c.a, c.num, c.den, got, c.want)
		}
	}
	if _, err := Amount(1).MulRatio(1, 0); err == nil {
		t.Error("MulRatio by x/0 succeeded")
	}
	if _, err := Amount(math.MaxInt64).MulRatio(2, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MaxInt64 * 2: err = %v, want ErrOverflow", err)
	}
}

// Property: MulRatio equals a*num/den computed with big.Rat and rounded half
// away from zero, or reports ErrOverflow exactly when that leaves int64.
func TestMulRatioAgreesWithBigRat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := edgeInt64().Draw(t, "a")
		num := edgeInt64().Draw(t, "num")
		den := edgeInt64().Filter(func(v int64) bool { return v != 0 }).Draw(t, "den")
		exact := new(big.Rat).Mul(new(big.Rat).SetInt64(a), new(big.Rat).SetFrac(big.NewInt(num), big.NewInt(den)))
		want := roundRat(exact, big.NewInt(1))
		got, err := Amount(a).MulRatio(num, den)
		if want.IsInt64() {
			if err != nil || int64(got) != want.Int64() {
				t.Fatalf("%d * %d/%d = %d, %v; want %s", a, num, den, int64(got), err, want)
			}
			return
		}
		if !errors.Is(err, ErrOverflow) {
			t.Fatalf("%d * %d/%d = %d, %v; want ErrOverflow (exact %s)", a, num, den, int64(got), err, want)
		}
	})
}

// ---------------------------------------------------------------------------
// helpers

func mustParse(t testing.TB, s string) Amount {
	t.Helper()
	a, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return a
}

// edgeInt64 draws any int64, with the limits and small values well represented.
func edgeInt64() *rapid.Generator[int64] {
	return rapid.OneOf(
		rapid.Int64(),
		rapid.Int64Range(-100, 100),
		rapid.SampledFrom([]int64{
			math.MinInt64, math.MinInt64 + 1, math.MinInt64 / 2, -int64(MaxAbs) - 1, -int64(MaxAbs),
			-1, 0, 1, int64(MaxAbs), int64(MaxAbs) + 1, math.MaxInt64 / 2, math.MaxInt64 - 1, math.MaxInt64,
		}),
	)
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// roundRat returns r/step rounded half away from zero, as an integer count of steps.
func roundRat(r *big.Rat, step *big.Int) *big.Int {
	q := new(big.Rat).Quo(r, new(big.Rat).SetInt(step))
	num, den := q.Num(), q.Denom() // den > 0
	abs := new(big.Int).Abs(num)
	// floor(|q| + 1/2) = floor((2|num| + den) / (2 den))
	n := new(big.Int).Add(new(big.Int).Mul(abs, big.NewInt(2)), den)
	n.Quo(n, new(big.Int).Mul(den, big.NewInt(2)))
	if num.Sign() < 0 {
		n.Neg(n)
	}
	return n
}
