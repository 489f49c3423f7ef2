package money

import (
	"strings"
	"testing"
)

func TestMinorUnits(t *testing.T) {
	cases := []struct {
		code string
		dp   int
	}{{"JPY", 0}, {"KRW", 0}, {"GBP", 2}, {"USD", 2}, {"EUR", 2}, {"BHD", 3}, {"KWD", 3}, {"CLF", 4}, {"UYW", 4}}
	for _, c := range cases {
		dp, ok := MinorUnits(c.code)
		if !ok || dp != c.dp {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d, true", c.code, dp, ok, c.dp)
		}
	}
	for _, code := range []string{"", "gbp", "GB", "GBPX", "ZZZ", "XTS"} {
		if dp, ok := MinorUnits(code); ok {
			t.Errorf("MinorUnits(%q) = %d, true; want unknown", code, dp)
		}
	}
}

// Every currency must be representable exactly: an Amount keeps Scale
// decimals, so a currency with more minor units could never be posted.
func TestEveryCurrencyFitsScale(t *testing.T) {
	if len(minorUnits) < 150 {
		t.Errorf("only %d currencies known; the ISO 4217 list has about 180", len(minorUnits))
	}
	for code, dp := range minorUnits {
		if dp < 0 || dp > Scale {
			t.Errorf("%s has %d minor units, outside 0..%d", code, dp, Scale)
		}
		if len(code) != 3 || strings.ToUpper(code) != code {
			t.Errorf("%q is not three upper-case letters", code)
		}
		if err := CheckCurrency(code); err != nil {
			t.Errorf("CheckCurrency(%q): %v", code, err)
		}
	}
}

func TestCheckCurrency(t *testing.T) {
	for _, code := range []string{"GBP", "JPY", "BHD", "CLF"} {
		if err := CheckCurrency(code); err != nil {
			t.Errorf("CheckCurrency(%q) = %v", code, err)
		}
	}
	cases := []struct {
		code     string
		mentions []string
	}{
		{"", []string{`""`, "three upper-case letters"}},
		{"GB", []string{`"GB"`, "three upper-case letters", "GBP"}},
		{"GBPP", []string{`"GBPP"`, "three upper-case letters"}},
		{"ZZZ", []string{`"ZZZ"`, "not an active ISO 4217 currency code"}},
		{"gbp", []string{`"gbp"`}},
	}
	for _, c := range cases {
		err := CheckCurrency(c.code)
		if err == nil {
			t.Errorf("CheckCurrency(%q) = nil, want an error", c.code)
			continue
		}
		for _, m := range c.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("CheckCurrency(%q) = %q, which does not mention %q", c.code, err, m)
			}
		}
	}
}

func TestFromMinor(t *testing.T) {
	cases := []struct {
		n    int64
		dp   int
		want string
	}{{150, 2, "1.50"}, {5, 0, "5.00"}, {1, 4, "0.0001"}, {-1234, 3, "-1.234"}, {0, 2, "0.00"}}
	for _, c := range cases {
		if got := FromMinor(c.n, c.dp).String(); got != c.want {
			t.Errorf("FromMinor(%d, %d) = %s, want %s", c.n, c.dp, got, c.want)
		}
	}
	if got := FromUnits(85); got != mustParse(t, "85") {
		t.Errorf("FromUnits(85) = %s", got)
	}
}
