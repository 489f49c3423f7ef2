package money

import (
	"strings"
	"testing"
)

// iso4217ByMinorUnits is ISO 4217's list of active codes (list one, with
// its fund codes such as BOV and CHE) by number of minor units, written down
// for this test from the standard rather than from iso4217.go, so that a
// wrong digit or a missing code in the table is a failure and not a copy.
// The codes the standard gives no minor units (precious metals, XDR, XSU,
// XUA, the bond-market units, XTS and XXX) are not currencies money can be
// posted in and are left out.
var iso4217ByMinorUnits = map[int][]string{
	0: {
		"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF",
	},
	2: {
		"AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
		"BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
		"CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP",
		"DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD",
		"GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES",
		"KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL",
		"MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR",
		"MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR",
		"PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
		"SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
		"TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST",
		"XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
	},
	3: {
		"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
	},
	4: {
		"CLF", "UYW",
	},
}

// keptAfterWithdrawal are codes iso4217.go accepts although, as far as the
// list above knows, ISO 4217 has withdrawn them or dated their withdrawal:
// ANG (replaced by XCG in 2025), BGN (Bulgaria's euro, 2026), CUC (ended by
// Cuba in 2021), SLL (redenominated as SLE in 2022) and ZWL (replaced by ZWG
// in 2024). Accepting them lets a platform's older records still post;
// refusing them is a product decision this test only makes visible.
var keptAfterWithdrawal = map[string]int{"ANG": 2, "BGN": 2, "CUC": 2, "SLL": 2, "ZWL": 2}

// Every active code posts with its standard number of decimals: a currency
// posted with the wrong minor units rounds every line of its days wrongly.
func TestISO4217EveryActiveCodeHasItsMinorUnits(t *testing.T) {
	n := 0
	for dp, codes := range iso4217ByMinorUnits {
		for _, code := range codes {
			n++
			got, ok := MinorUnits(code)
			if !ok || got != dp {
				t.Errorf("MinorUnits(%q) = %d, %v; ISO 4217 gives %d", code, got, ok, dp)
			}
			if err := CheckCurrency(code); err != nil {
				t.Errorf("CheckCurrency(%q) = %v; it is an active ISO 4217 code", code, err)
			}
		}
	}
	if n != 164 {
		t.Fatalf("the independent list has %d codes; it was written down with 164", n)
	}
}

// The table holds nothing beyond the standard and the codes kept on
// purpose: a code added by mistake (a typo, a fund or metal code) would let
// records in a currency no platform has through to posting.
func TestISO4217TableHoldsNothingElse(t *testing.T) {
	active := map[string]int{}
	for dp, codes := range iso4217ByMinorUnits {
		for _, code := range codes {
			active[code] = dp
		}
	}
	for code, dp := range minorUnits {
		want, ok := active[code]
		if !ok {
			want, ok = keptAfterWithdrawal[code]
		}
		if !ok {
			t.Errorf("the table has %q (%d minor units), which is not an active ISO 4217 code", code, dp)
		} else if dp != want {
			t.Errorf("the table gives %q %d minor units, want %d", code, dp, want)
		}
	}
	for code, dp := range keptAfterWithdrawal {
		if got, ok := MinorUnits(code); !ok || got != dp {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d, true (kept for older records)", code, got, ok, dp)
		}
	}
	if want := len(active) + len(keptAfterWithdrawal); len(minorUnits) != want {
		t.Errorf("the table has %d codes, want %d", len(minorUnits), want)
	}
}

// Codes that name no currency a merchant is paid in, withdrawn codes and
// codes in the wrong case are refused, each with the reason.
func TestISO4217RefusesCodesThatAreNotActiveCurrencies(t *testing.T) {
	notActive := []string{
		"XAU", "XAG", "XPD", "XPT", // precious metals
		"XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", // units of account
		"XTS", "XXX", // testing, no currency
		"HRK", "LTL", "LVL", "EEK", "SKK", "DEM", "FRF", // replaced by the euro
		"VEF", "VEB", "ZMK", "MRO", "STD", "BYR", "ZWD", // redenominated
	}
	for _, code := range notActive {
		if dp, ok := MinorUnits(code); ok {
			t.Errorf("MinorUnits(%q) = %d, true; want unknown", code, dp)
		}
		err := CheckCurrency(code)
		if err == nil || !strings.Contains(err.Error(), "not an active ISO 4217 currency code") {
			t.Errorf("CheckCurrency(%q) = %v; want it refused as not active", code, err)
		}
	}
	for _, code := range []string{"usd", "Usd", " USD", "USD ", "US", "USDD", ""} {
		if dp, ok := MinorUnits(code); ok {
			t.Errorf("MinorUnits(%q) = %d, true; want unknown", code, dp)
		}
		if err := CheckCurrency(code); err == nil {
			t.Errorf("CheckCurrency(%q) = nil; want an error", code)
		}
	}
}
