package window

import (
	"testing"

	"github.com/shopspring/decimal"
)

// TestRateFastPathTakesExactlyThePlainSpellings pins which percentages
// rateKey names without a big decimal: digits with at most one dot after
// the first digit. Every other text goes to the slow path, and wherever the
// fast path answers it names the account the slow path would.
func TestRateFastPathTakesExactlyThePlainSpellings(t *testing.T) {
	slow := func(pct string) string {
		d, err := decimal.NewFromString(pct)
		if err != nil || d.IsZero() {
			return ""
		}
		return "rate:" + d.String()
	}
	for _, tc := range []struct {
		pct  string
		fast bool
	}{
		{"20", true}, {"10", true}, {"19", true}, {"90", true}, {"0", true}, {"00", true},
		{"8.50", true}, {"8.5", true}, {"17.", true}, {"0.0", true}, {"007.250", true}, {"100.000", true},
		{"", true}, // no digits at all: no rate, as the slow path says of an unreadable text
		{".5", false}, {".", false}, {"1.2.3", false}, {"1..2", false}, {"-5", false}, {"+5", false},
		{"5e1", false}, {"5%", false}, {" 5", false}, {"5/", false}, {"5:", false}, {"١٥", false},
	} {
		key, ok := plainRate(tc.pct)
		if ok != tc.fast {
			t.Errorf("plainRate(%q) took the fast path: %v, want %v", tc.pct, ok, tc.fast)
			continue
		}
		if ok && tc.pct != "" && key != slow(tc.pct) {
			t.Errorf("plainRate(%q) = %q, the slow path names %q", tc.pct, key, slow(tc.pct))
		}
		if got, want := rateKey(tc.pct), slow(tc.pct); tc.pct != "" && got != want {
			t.Errorf("rateKey(%q) = %q, want %q", tc.pct, got, want)
		}
	}
}
