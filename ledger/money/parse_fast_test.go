package money

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// The fast path of Parse must agree with the exact decimal path on every
// text, accepting or refusing alike.
func TestParsePlainAgreesWithDecimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[+-]?[0-9]{0,17}(\.[0-9]{0,6})?`).Draw(t, "s")
		if strings.TrimLeft(s, "+-") == "" {
			return
		}
		fast, ok := parsePlain(s)
		d, err := decimal.NewFromString(s)
		if err != nil {
			if ok {
				t.Fatalf("parsePlain(%q) = %s, but it is not a decimal", s, fast)
			}
			return
		}
		slow, serr := FromDecimal(d)
		if ok && (serr != nil || slow != fast) {
			t.Fatalf("parsePlain(%q) = %s; the exact path gives %s, %v", s, fast, slow, serr)
		}
		got, gerr := Parse(s)
		if (gerr == nil) != (serr == nil) || (gerr == nil && got != slow) {
			t.Fatalf("Parse(%q) = %s, %v; the exact path gives %s, %v", s, got, gerr, slow, serr)
		}
	})
}

// The fast path takes the forms platforms send almost always (an optional
// sign, up to 15 digits, at most four of them decimals, within ±MaxAbs) and
// leaves everything else to the exact path. A fast path that quietly stops
// taking them costs every record a big decimal; one that takes too much
// parses what only the exact path can.
func TestParsePlainTakesTheCommonFormsOnly(t *testing.T) {
	taken := []struct {
		s    string
		want Amount
	}{
		{"0", 0},
		{"85", 850_000},
		{"-1.49", -14_900},
		{"+3", 30_000},
		{"10.5", 105_000},
		{"0.0001", 1},
		{"-.5", -5_000},
		{"00012.50", 125_000},
		{"99999999999.9999", MaxAbs - 1}, // 15 digits
		{"100000000000", MaxAbs},
		{"-100000000000", -MaxAbs},
		{"100000000000.000", MaxAbs},
		{"10000000000.0000", MaxAbs / 10},
	}
	for _, c := range taken {
		got, ok := parsePlain(c.s)
		if !ok || got != c.want {
			t.Errorf("parsePlain(%q) = %d, %v; want %d, true", c.s, int64(got), ok, int64(c.want))
		}
	}
	left := []string{
		"1e2", "1E2", // exponents
		"1.23456",                 // a fifth decimal
		"1234567890123456",        // 16 digits
		"0.000000000000001",       // 16 digits, all but one zero
		"100000000000.0001",       // past MaxAbs
		"999999999999999",         // 15 digits past MaxAbs: scaling them would overflow int64
		"-999999999999999",        //
		"100000000000000.00",      // 17 digits
		"1.", "-", "+", ".", "-.", // a sign or point without digits after it
		"1.2.3", "12a", "1,5", " 1", "--1", "+-1",
	}
	for _, s := range left {
		if got, ok := parsePlain(s); ok {
			t.Errorf("parsePlain(%q) = %d, true; want it left to the exact path", s, int64(got))
		}
	}
}

// A sign or a point alone is no number, on either path.
func TestParseRefusesASignOrPointAlone(t *testing.T) {
	for _, s := range []string{"-", "+", ".", "-.", "+.", " - "} {
		if got, err := Parse(s); err == nil || !strings.Contains(err.Error(), "not a decimal") {
			t.Errorf("Parse(%q) = %s, %v; want it refused as not a decimal", s, got, err)
		}
	}
}

// The range is ±MaxAbs inclusive whichever path reads the text: exactly
// MaxAbs through an exponent or a fifth zero decimal is accepted, one
// ten-thousandth past it is refused, and so are wide integers the fast path
// must not scale into an overflow.
func TestParseRangeIsTheSameOnBothPaths(t *testing.T) {
	for _, c := range []struct {
		s    string
		want Amount
	}{
		{"1e11", MaxAbs},
		{"-1e11", -MaxAbs},
		{"100000000000.00000", MaxAbs},
		{"-100000000000.00000", -MaxAbs},
		{"9.99999999999999e10", MaxAbs - 1},
	} {
		got, err := Parse(c.s)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.s, int64(got), err, int64(c.want))
		}
	}
	for _, s := range []string{"1.000000000000001e11", "100000000000.00010", "999999999999999", "-999999999999999", "1000000000000"} {
		if got, err := Parse(s); err == nil || !strings.Contains(err.Error(), "outside the accepted range") {
			t.Errorf("Parse(%q) = %d, %v; want it refused as out of range", s, int64(got), err)
		}
	}
	if got, err := FromDecimal(decimal.New(1, 11)); err != nil || got != MaxAbs {
		t.Errorf("FromDecimal(1e11) = %d, %v; want MaxAbs", int64(got), err)
	}
	if got, err := FromDecimal(decimal.New(-1, 11)); err != nil || got != -MaxAbs {
		t.Errorf("FromDecimal(-1e11) = %d, %v; want -MaxAbs", int64(got), err)
	}
}
