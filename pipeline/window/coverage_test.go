package window

import (
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestGeneratorCoverage keeps the generator honest: over five rounds of
// rapid's default 100 streams, every situation the properties are meant to
// exercise occurs in at least five of them. A generator change that stops
// producing one fails here instead of silently weakening every property.
//
// Under -short (mutation runs) rapid draws 20 streams a round, too few for a
// feature drawn one time in twenty to reach five: the test would fail about
// one run in three, whatever the code under test does, and so kill mutants
// it never looked at. It checks the generator, not the window, so it runs
// only at full size (make test).
func TestGeneratorCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("the generator's coverage needs rapid's full 100 checks a round; make test runs it")
	}
	seen := map[string]int{}
	runs := 0
	for range 5 {
		rapid.Check(t, func(rt *rapid.T) { coverStream(rt, seen, &runs) })
	}
	checkCoverage(t, seen, runs)
}

func coverStream(rt *rapid.T, seen map[string]int, runs *int) {
	s := genStream(rt)
	r := newRun(rt, s.partitions())
	r.feed(rt, s.closed(s.events), nil)
	*runs++
	f := map[string]bool{}
	if len(s.companies) > 1 {
		f["several companies"] = true
	}
	for _, c := range s.companies {
		f["zone "+c.settings.GetTimeZone()] = true
		if c.settings.GetStartDate() != "" {
			f["start date"] = true
		}
	}
	settingsSeen := map[string]int{}
	for _, ev := range s.events {
		if ev.GetSettings() != nil {
			settingsSeen[ev.GetCompanyId()]++
			if settingsSeen[ev.GetCompanyId()] > 1 {
				f["settings sent again"] = true
			}
		} else if isData(ev) && settingsSeen[ev.GetCompanyId()] == 0 {
			f["record before settings"] = true
		}
	}
	ptrs := map[*v1.CommerceEvent]bool{}
	type vk struct {
		k   refKey
		src int64
	}
	srcs := map[vk]int{}
	payStatuses := map[refKey][]string{}
	paymentSeen := map[refKey]bool{}
	namedBy := map[string]bool{} // company/product named by an order line seen so far
	for _, ev := range s.events {
		switch b := ev.Body.(type) {
		case *v1.CommerceEvent_Reference:
			rf := b.Reference
			f["reference "+strings.ToLower(strings.TrimPrefix(rf.GetKind().String(), "REFERENCE_KIND_"))] = true
			if rf.GetDeleted() {
				f["reference deleted"] = true
			}
			if namedBy[ev.GetCompanyId()+"/"+rf.GetId()] {
				f["product version after an order naming it"] = true
			}
		case *v1.CommerceEvent_ClockTick:
			f["clock tick"] = true
		case *v1.CommerceEvent_CloseUpTo:
			f["close-up-to mid-stream"] = true
		case *v1.CommerceEvent_Record:
			re := b.Record
			if ptrs[ev] {
				f["exact duplicate"] = true
			}
			ptrs[ev] = true
			k := keyOf(ev.GetCompanyId(), re)
			if re.GetDeleted() {
				f["delete"] = true
				if re.GetKind() == v1.RecordKind_RECORD_KIND_TRANSACTION && re.GetTransactionType() == "" {
					f["sparse transaction delete"] = true
				}
				continue
			}
			if re.GetSourceModifiedUnixMs() == 0 {
				f["undated version"] = true
			} else {
				srcs[vk{k, re.GetSourceModifiedUnixMs()}]++
			}
			switch body := re.Body.(type) {
			case *v1.RecordEvent_Order:
				f["currency "+body.Order.GetCurrency()] = true
				o := body.Order
				if len(o.GetOrderLineItems())+len(o.GetServiceCharges()) > 0 {
					f["order with lines"] = true
					if o.GetCurrency() == "JPY" {
						f["JPY order with lines"] = true
					}
				}
				for _, l := range o.GetOrderLineItems() {
					if id := l.GetProductRef().GetId(); id != "" {
						namedBy[ev.GetCompanyId()+"/"+id] = true
					}
					if len(l.GetDiscountAllocations()) > 0 {
						f["discount"] = true
					}
					if p := l.GetTaxPercentage(); p != "" && p != strings.TrimRight(p, "0") && strings.Contains(p, ".") {
						f["rate spelled with trailing zeros"] = true
					}
				}
				for _, c := range o.GetServiceCharges() {
					if c.GetType() == "Shipping" {
						f["service charge Shipping"] = true
					} else {
						f["service charge of another type"] = true
					}
				}
				if strings.HasPrefix(body.Order.GetTotalAmount(), "-") {
					f["refund order"] = true
				}
				if a := body.Order.GetTotalAmount(); strings.Contains(a, ".") && len(a)-strings.Index(a, ".") == 5 && !strings.HasSuffix(a, "00") {
					f["four-decimal amount"] = true
				}
			case *v1.RecordEvent_Payment:
				paymentSeen[k] = true
				payStatuses[k] = append(payStatuses[k], body.Payment.GetStatus())
			case *v1.RecordEvent_Transaction:
				tx := body.Transaction
				if tx.GetType() == "PaymentFee" || tx.GetType() == "PaymentFeeRefund" {
					f[tx.GetType()] = true
					linked := tx.GetId()
					if ref := tx.GetTransactionSourceRef(); ref.GetType() == "Payment" {
						linked = ref.GetId()
					}
					if linked == tx.GetId() && strings.HasPrefix(tx.GetId(), "pay-") {
						f["fee sharing its payment's id"] = true
					}
					pk := refKey{ev.GetCompanyId(), v1.RecordKind_RECORD_KIND_PAYMENT, "", linked}
					if !paymentSeen[pk] && strings.HasPrefix(linked, "pay-") {
						f["fee before its payment"] = true
					}
				}
				if tx.GetType() == "Payment" {
					f["Payment transaction"] = true
				}
				if tx.GetType() == "Payout" || tx.GetType() == "FailedPayout" {
					f[tx.GetType()] = true
					if len(tx.GetSettledTransactionIds()) > 1 {
						f["payout settling several payments"] = true
					}
					for _, id := range tx.GetSettledTransactionIds() {
						if !paymentSeen[refKey{ev.GetCompanyId(), v1.RecordKind_RECORD_KIND_PAYMENT, "", id}] {
							f["payout before (or without) a payment it settles"] = true
						}
					}
				}
			}
		}
	}
	for _, n := range srcs {
		if n > 1 {
			f["version tie broken by hash"] = true
		}
	}
	for _, st := range payStatuses {
		sort.Strings(st)
		if strings.Join(st, ",") == "Failed,Paid,Pending" {
			f["payment Pending, Paid and Failed"] = true
		}
	}
	for k := range referenceState(rt, s.refSettings(), s.events).features {
		f[k] = true
	}
	lastExc := map[dayCur]int{}
	for _, sum := range r.summaries {
		k := dayCur{sum.GetCompanyId(), sum.GetBusinessDay(), sum.GetCurrency(), sum.GetLocation()}
		if n := len(sum.GetExceptions()); n > 0 {
			f["revision with exceptions"] = true
			if len(sum.GetLines()) == 0 {
				f["revision of exceptions alone"] = true
			}
		} else if lastExc[k] > 0 {
			f["exceptions cleared by a later revision"] = true
		}
		lastExc[k] = len(sum.GetExceptions())
		for _, l := range sum.GetLines() {
			a := l.GetAccount()
			switch {
			case strings.HasPrefix(a, "tax:rate:"):
				f["account tax:rate:*"] = true
			case strings.HasPrefix(a, "tax:"):
				f["account tax:<component>"] = true
			case strings.HasPrefix(a, "tender:"):
			default:
				f["account "+a] = true
			}
		}
		f["sealed by "+sum.GetSealedBy()] = true
		if sum.GetLocation() != "" {
			f["location summary"] = true
			if sum.GetRevision() > 1 {
				f["later revision of a location summary"] = true
			}
		}
		if sum.GetRevision() > 1 {
			f["later revision"] = true
		}
		if d := time.Duration(sum.GetEndUnixMs()-sum.GetStartUnixMs()) * time.Millisecond; d != 24*time.Hour {
			f["day of "+d.String()] = true
		}
	}
	for k := range f {
		seen[k]++
	}
}

func checkCoverage(t *testing.T, seen map[string]int, runs int) {
	want := []string{
		"several companies", "start date", "record before settings", "settings sent again", "clock tick", "close-up-to mid-stream", "exact duplicate", "delete",
		"sparse transaction delete", "undated version", "version tie broken by hash", "refund order", "four-decimal amount",
		"PaymentFee", "PaymentFeeRefund", "Payment transaction", "fee sharing its payment's id", "fee before its payment",
		"payment Pending, Paid and Failed", "later revision",
		"sealed by " + ByWatermark, "sealed by " + ByClockTick, "sealed by " + ByCloseUpTo,
		"day of 23h0m0s", "day of 25h0m0s", "day of 23h30m0s", "day of 24h30m0s",
		// Orders with lines and service charges.
		"order with lines", "JPY order with lines", "discount", "rate spelled with trailing zeros",
		"service charge Shipping", "service charge of another type", "tax by component", "refund line",
		"order within the rounding bound, not exact", "order beyond the rounding bound",
		"revision with exceptions", "revision of exceptions alone", "exceptions cleared by a later revision",
		"account sales", "account tax", "account tax:rate:*", "account tax:<component>", "account discounts", "account refunds",
		"account shipping", "account service_charges", "account rounding", "account gratuity",
		"location summary", "later revision of a location summary",
		// Reference data.
		"reference product", "reference location", "reference tax_component", "reference deleted",
		"product version after an order naming it", "gift card line", "categorised line",
		"account gift_card_liability", "account sales:food", "account sales:drink",
		// Payouts.
		"Payout", "FailedPayout", "payout settling several payments", "payout before (or without) a payment it settles",
		"payout to a tender", "payout to payout_clearing", "account payouts", "account payout_clearing",
	}
	for _, z := range genZones {
		want = append(want, "zone "+z)
	}
	for _, c := range genCurrencies {
		want = append(want, "currency "+c)
	}
	for _, w := range want {
		if seen[w] < 5 {
			t.Errorf("generator produced %q in %d of %d streams", w, seen[w], runs)
		}
	}
	t.Logf("feature counts over %d streams: %v", runs, seen)
}
