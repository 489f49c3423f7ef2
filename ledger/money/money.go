// Package money holds exact amounts. An Amount is an integer count of
// ten-thousandths of a currency unit, so sums are exact and overflow is
// detected instead of wrapping. Floats never hold money here.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/shopspring/decimal"
)

// Scale is the number of decimal places an Amount keeps.
const Scale = 4

const unit = 10000

// MaxAbs bounds any single amount accepted from outside. Sums of many such
// amounts are still checked for overflow.
var MaxAbs = Amount(100_000_000_000 * unit)

// Amount is a quantity of money in 1/10000 units of its currency.
type Amount int64

// Zero is the zero amount.
const Zero Amount = 0

// ErrOverflow reports a sum or product outside the range an Amount holds.
var ErrOverflow = errors.New("amount overflows the exact range")

// FromUnits makes an Amount of whole currency units.
func FromUnits(n int64) Amount { return Amount(n * unit) }

// FromMinor makes an Amount from an integer count of 10^-dp units.
func FromMinor(n int64, dp int) Amount {
	m := int64(1)
	for i := dp; i < Scale; i++ {
		m *= 10
	}
	return Amount(n * m)
}

// Parse reads a decimal from its exact text ("85", "-1.49", "1e2").
// It refuses more than Scale decimal places rather than rounding silently.
func Parse(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty; send a decimal such as 12.34")
	}
	if a, ok := parsePlain(s); ok {
		return a, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal number; send digits with an optional sign and decimal point, such as -12.34", s)
	}
	return FromDecimal(d)
}

// parsePlain reads the common form, an optional sign, digits and at most
// Scale decimals, without going through a big decimal; anything else (an
// exponent, more decimals, a huge value) is left to the exact slow path.
func parsePlain(s string) (Amount, bool) {
	i, neg := 0, false
	if s[0] == '-' || s[0] == '+' {
		neg, i = s[0] == '-', 1
	}
	var v int64
	digits, frac, dot := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if dot {
				if frac == Scale {
					return 0, false
				}
				frac++
			}
			digits++
			if digits > 15 { // 15 digits stay well inside int64 after scaling
				return 0, false
			}
			v = v*10 + int64(c-'0')
		} else if c == '.' && !dot {
			dot = true
		} else {
			return 0, false
		}
	}
	if digits == 0 || (dot && frac == 0) {
		return 0, false
	}
	for ; frac < Scale; frac++ {
		if v > int64(MaxAbs)/10 {
			return 0, false
		}
		v *= 10
	}
	if v > int64(MaxAbs) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return Amount(v), true
}

// FromDecimal converts an exact decimal, refusing lost precision or range.
func FromDecimal(d decimal.Decimal) (Amount, error) {
	scaled := d.Shift(Scale)
	if !scaled.Equal(scaled.Truncate(0)) {
		return 0, fmt.Errorf("%s has more than %d decimal places", d.String(), Scale)
	}
	bi := scaled.BigInt()
	if bi.CmpAbs(big.NewInt(int64(MaxAbs))) > 0 {
		return 0, fmt.Errorf("%s is outside the accepted range of ±%s", d.String(), MaxAbs.String())
	}
	return Amount(bi.Int64()), nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Decimal returns the amount as a shopspring decimal, for rounding and
// allocation at the edges.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(int64(a), -Scale) }

// Add returns a+b, or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sub returns a-b, or ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b == math.MinInt64 {
		// -b does not exist, but a-b does when a is negative.
		if a < 0 {
			return a - b, nil
		}
		return 0, ErrOverflow
	}
	return a.Add(-b)
}

// Neg returns -a. MinInt64 never arises: Parse bounds inputs and Add checks sums.
func (a Amount) Neg() Amount { return -a }

// Abs returns |a|.
func (a Amount) Abs() Amount {
	if a < 0 {
		return -a
	}
	return a
}

// IsZero reports a == 0.
func (a Amount) IsZero() bool { return a == 0 }

// Sign returns -1, 0 or 1.
func (a Amount) Sign() int {
	if a < 0 {
		return -1
	}
	if a > 0 {
		return 1
	}
	return 0
}

// String renders the amount with at least two and at most four decimals,
// dropping trailing zeros past the second: "85.00", "-1.49", "0.0001".
func (a Amount) String() string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-a)
	}
	whole, frac := u/unit, u%unit
	fs := fmt.Sprintf("%04d", frac)
	for len(fs) > 2 && fs[len(fs)-1] == '0' {
		fs = fs[:len(fs)-1]
	}
	s := fmt.Sprintf("%d.%s", whole, fs)
	if neg {
		s = "-" + s
	}
	return s
}

// Fixed renders the amount with exactly dp decimals; it fails when that
// would drop non-zero digits.
func (a Amount) Fixed(dp int) (string, error) {
	if !a.FitsDecimals(dp) {
		return "", fmt.Errorf("%s has more than %d decimal places", a.String(), dp)
	}
	return a.Decimal().StringFixed(int32(dp)), nil
}

// FitsDecimals reports whether the amount is exact at dp decimal places.
func (a Amount) FitsDecimals(dp int) bool {
	if dp >= Scale {
		return true
	}
	m := int64(1)
	for i := dp; i < Scale; i++ {
		m *= 10
	}
	return int64(a)%m == 0
}

// Round rounds half away from zero to dp decimals. Amounts within ±MaxAbs,
// which is all Parse accepts, always round; beyond, a result that would not
// fit is ErrOverflow.
func (a Amount) Round(dp int) (Amount, error) {
	if dp >= Scale {
		return a, nil
	}
	m := int64(1)
	for i := dp; i < Scale; i++ {
		m *= 10
	}
	q, r := int64(a)/m, int64(a)%m
	if 2*abs64(r) >= m {
		if a < 0 {
			q--
		} else {
			q++
		}
	}
	if q > math.MaxInt64/m || q < math.MinInt64/m {
		return 0, ErrOverflow
	}
	return Amount(q * m), nil
}

// MulRatio returns a*num/den rounded half away from zero to Scale, exactly.
func (a Amount) MulRatio(num, den int64) (Amount, error) {
	if den == 0 {
		return 0, errors.New("division by zero")
	}
	p := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(p, d, new(big.Int))
	r2 := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	if r2.Cmp(new(big.Int).Abs(d)) >= 0 {
		if (p.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return Amount(q.Int64()), nil
}
