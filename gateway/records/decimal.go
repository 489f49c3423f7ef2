package records

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/ledger/money"
)

// plainScale and plainMax bound quantities, rates and percentages: finer than
// money (a 0.08875 tax rate, 0.125 kg) but still exact and sane.
const plainScale = 12

var plainMax = decimal.New(1, 12)

// decimalProblem returns "" when s is an exact decimal acceptable for a field
// of kind k, or what is wrong with it and what to send instead.
func decimalProblem(s string, k decimalKind) string {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "is empty; send a decimal such as 12.34"
	case len(t) > 64:
		return fmt.Sprintf("%s is too long for a decimal; send at most 64 characters, such as 12.34", quote(s))
	case strings.Contains(t, ","):
		return fmt.Sprintf("%s is not a decimal number; use a dot for the decimal point and no thousands separators, such as 1234.50", quote(s))
	case strings.Count(t, ".") > 1:
		return fmt.Sprintf("%s is not a decimal number: it has more than one decimal point; send one, such as 12.34", quote(s))
	case !isDecimalText(t):
		return fmt.Sprintf("%s is not a decimal number; send digits with an optional sign and decimal point, such as -12.34", quote(s))
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return fmt.Sprintf("%s is not a decimal number; send digits with an optional sign and decimal point, such as -12.34", quote(s))
	}
	scale, limit := int32(plainScale), plainMax
	if k == moneyDecimal {
		// money.Parse is the parse every later stage uses; checking with it
		// here means nothing accepted now can fail there.
		if _, err := money.Parse(t); err == nil {
			return ""
		}
		scale, limit = money.Scale, money.MaxAbs.Decimal()
	}
	if shifted := d.Shift(scale); !shifted.Equal(shifted.Truncate(0)) {
		return fmt.Sprintf("%s has more than %d decimal places; round it to %d or fewer", quote(s), scale, scale)
	}
	if d.Abs().GreaterThan(limit) {
		return fmt.Sprintf("%s is outside the accepted range of ±%s; check the value", quote(s), limit.String())
	}
	if k == moneyDecimal { // money.Parse refused it for a reason not covered above
		return fmt.Sprintf("%s is not an amount we can read; send a decimal such as -12.34", quote(s))
	}
	return ""
}

// isDecimalText checks [+-]digits[.digits][(e|E)[+-]digits], with an exponent
// of at most three digits so that "1e999999999" cannot make a huge number.
func isDecimalText(s string) bool {
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	n := digits(s[i:])
	if n == 0 {
		return false
	}
	i += n
	if i < len(s) && s[i] == '.' {
		i++
		n = digits(s[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n = digits(s[i:])
		if n == 0 || n > 3 {
			return false
		}
		i += n
	}
	return i == len(s)
}
