package window

import "testing"

// TestWindowLimitsAreTheDocumentedValues pins the window's limits to the
// values the README's Limits table promises, so that changing one is a
// decision that changes the table too.
func TestWindowLimitsAreTheDocumentedValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"MaxIDBytes", MaxIDBytes, 255},
		{"MaxNumberBytes", MaxNumberBytes, 64},
		{"MaxOrderLines", MaxOrderLines, 1000},
		{"MaxServiceCharges", MaxServiceCharges, 100},
		{"MaxTaxesPerLine", MaxTaxesPerLine, 50},
		{"MaxDiscountsPerLine", MaxDiscountsPerLine, 50},
		{"MaxSettledIDs", MaxSettledIDs, 10_000},
		{"MaxRecordStateBytes", MaxRecordStateBytes, 512 * 1024},
		{"MaxReferenceVersions", MaxReferenceVersions, 1000},
		{"MaxDayAccounts", MaxDayAccounts, 1000},
		{"MaxSummaryLines", MaxSummaryLines, 1000},
		{"MaxExceptionsNamed", MaxExceptionsNamed, 100},
		{"MaxQuarantinedBytes", MaxQuarantinedBytes, 64 * 1024},
		{"MaxReasonBytes", MaxReasonBytes, 4 * 1024},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d; the README's Limits table says %d", tc.name, tc.got, tc.want)
		}
	}
}
