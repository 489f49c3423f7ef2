package money

import "fmt"

// MinorUnits returns the number of decimal places of an ISO 4217 currency
// (JPY 0, GBP 2, BHD 3), and whether the code is known.
func MinorUnits(code string) (int, bool) {
	dp, ok := minorUnits[code]
	return dp, ok
}

// CheckCurrency validates an ISO 4217 alphabetic code.
func CheckCurrency(code string) error {
	if len(code) != 3 {
		return fmt.Errorf("%q is not an ISO 4217 code; send three upper-case letters such as GBP", code)
	}
	if _, ok := minorUnits[code]; !ok {
		return fmt.Errorf("%q is not an active ISO 4217 currency code", code)
	}
	return nil
}
