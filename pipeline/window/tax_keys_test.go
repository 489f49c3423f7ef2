package window

// How an order line's taxes reach their accounts: the rate key its
// percentage names, and the parts it splits its tax into.

import (
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A zero percentage names no rate, however a platform spells it: its tax
// (if any) is left to the plain tax account, as for "0". Other spellings the
// fast path does not read still name their rate.
func TestZeroTaxPercentageNamesNoRateHoweverSpelled(t *testing.T) {
	for pct, want := range map[string]string{
		"0": "", "0.00": "", "-0": "", "-0.00": "", ".0": "", "0e2": "", "0E-3": "",
		"": "", "abc": "",
		"20": "rate:20", "20.50": "rate:20.5", ".5": "rate:0.5", "2E1": "rate:20",
	} {
		if got := rateKey(pct); got != want {
			t.Errorf("rateKey(%q) = %q, want %q", pct, got, want)
		}
	}
}

// A tax part naming no component, or no amount, is left to the line's own
// tax total (credited to the line's rate) and the parts after it still
// count on their components.
func TestTaxPartWithoutComponentOrAmountLeavesTheLaterPartsTheirAccounts(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 10:00:00")
	e.push(recordEvent(exCompany, exTenant, &v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: "ord-1", EventUnixMs: at.UnixMilli(), SourceModifiedUnixMs: 1,
		ContentHash: exHash("ord-1", "taxes"),
		Body: &v1.RecordEvent_Order{Order: &v1.Order{Id: "ord-1", Currency: "GBP", TotalAmount: "12.00", TotalTaxAmount: "2.00", TotalGratuity: "0",
			OrderLineItems: []*v1.OrderLineItem{{
				TotalAmount: "12.00", TotalTaxAmount: "2.00", TaxPercentage: "20",
				Taxes: []*v1.TaxLine{
					{TaxAmount: "0.20"},
					{TaxComponentRef: &v1.Ref{Id: "county"}},
					{TaxComponentRef: &v1.Ref{Id: "state"}, TaxAmount: "1.50"},
				},
			}},
		}},
	}))
	sums := e.push(far(at))
	count(t, sums, 1)
	wantSummary(t, sums[0], "2026-06-10", "GBP", 1, ByCloseUpTo, map[string]string{
		"unsettled": "12.00", "sales": "-10.00", "tax:state": "-1.50", "tax:rate:20": "-0.50",
	})
}
