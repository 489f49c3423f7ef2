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
