package day

import (
	"errors"
	"maps"
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/commercesync/commercesync/ledger/money"
	"pgregory.net/rapid"
)

// genAmount draws amounts anywhere in the accepted range, often small and
// often negative, so refunds and reversals are exercised.
func genAmount() *rapid.Generator[money.Amount] {
	return rapid.Map(rapid.OneOf(
		rapid.Int64Range(-int64(money.MaxAbs), int64(money.MaxAbs)),
		rapid.Int64Range(-1_000_000, 1_000_000),
		rapid.Just(int64(0)),
	), func(v int64) money.Amount { return money.Amount(v) })
}

var tenderTypes = []string{"Card", "Cash", "", "StoreCredit"}

// genContribution draws one record's postings through the real rules.
func genContribution() *rapid.Generator[[]Posting] {
	return rapid.Custom(func(t *rapid.T) []Posting {
		var ps []Posting
		var err error
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			ps, err = OrderPostings(OrderFacts{
				Total: genAmount().Draw(t, "total"), Tax: genAmount().Draw(t, "tax"), Gratuity: genAmount().Draw(t, "gratuity"),
			})
		case 1:
			ps, err = PaymentPostings(PaymentFacts{
				Type:   rapid.SampledFrom(tenderTypes).Draw(t, "type"),
				Status: rapid.SampledFrom([]string{"Paid", "Paid", "Pending", "Failed"}).Draw(t, "status"),
				Amount: genAmount().Draw(t, "amount"),
			})
		default:
			ps, err = TransactionPostings(TransactionFacts{
				Type:       rapid.SampledFrom([]string{"PaymentFee", "PaymentFeeRefund", "Payment", "Refund", "Payout"}).Draw(t, "txtype"),
				TenderType: rapid.SampledFrom(tenderTypes).Draw(t, "tender"),
				Amount:     genAmount().Draw(t, "amount"),
			})
		}
		if err != nil {
			t.Fatalf("rule refused in-range amounts: %v", err)
		}
		return ps
	})
}

// netSum adds every account exactly, so the check itself cannot overflow.
func netSum(t Totals) *big.Int {
	s := new(big.Int)
	for _, v := range t {
		s.Add(s, big.NewInt(int64(v)))
	}
	return s
}

func requireBalanced(t *rapid.T, tot Totals, when string) {
	if s := netSum(tot); s.Sign() != 0 {
		t.Fatalf("%s: totals %v net to %s, want 0", when, tot, s)
	}
	for a, v := range tot {
		if v == 0 {
			t.Fatalf("%s: zero entry for %s kept", when, a)
		}
	}
}

func TestPropertyApplyRemoveStaysBalanced(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// At most 40 records of at most 2*MaxAbs each keep every
		// account far inside int64, so no error is expected here.
		cs := rapid.SliceOfN(genContribution(), 0, 40).Draw(t, "contributions")
		tot := Totals{}
		applied := map[int]bool{}
		pending := rapid.Permutation(indices(len(cs))).Draw(t, "apply order")
		for len(pending) > 0 || len(applied) > 0 {
			// Interleave: apply the next record, or remove a random applied one.
			if len(pending) > 0 && (len(applied) == 0 || rapid.Bool().Draw(t, "apply")) {
				i := pending[0]
				pending = pending[1:]
				if err := tot.Apply(cs[i], 1); err != nil {
					t.Fatalf("apply %d: %v", i, err)
				}
				applied[i] = true
				requireBalanced(t, tot, "after apply")
				continue
			}
			i := rapid.SampledFrom(sortedKeys(applied)).Draw(t, "remove")
			if err := tot.Apply(cs[i], -1); err != nil {
				t.Fatalf("remove %d: %v", i, err)
			}
			delete(applied, i)
			requireBalanced(t, tot, "after remove")
		}
		if !tot.IsZero() || len(tot) != 0 {
			t.Fatalf("after removing everything totals = %v, want empty", tot)
		}
	})
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cs := rapid.SliceOfN(genContribution(), 0, 40).Draw(t, "contributions")
		first := Totals{}
		for _, ps := range cs {
			if err := first.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
		}
		second := Totals{}
		for _, ps := range rapid.Permutation(cs).Draw(t, "permutation") {
			if err := second.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
		}
		if !maps.Equal(first, second) {
			t.Fatalf("totals depend on order: %v vs %v", first, second)
		}
	})
}

func TestPropertyDiffAddsBack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cs := rapid.SliceOfN(genContribution(), 0, 20).Draw(t, "contributions")
		cut := rapid.IntRange(0, len(cs)).Draw(t, "sealed after")
		posted, now := Totals{}, Totals{}
		for i, ps := range cs {
			if i < cut {
				_ = posted.Apply(ps, 1)
			}
			_ = now.Apply(ps, 1)
		}
		d, err := now.Diff(posted)
		if err != nil {
			t.Fatal(err)
		}
		requireBalanced(t, d, "diff")
		back := posted.Clone()
		for a, v := range d {
			_ = back.Apply([]Posting{{a, v}}, 1)
		}
		if !maps.Equal(back, now) {
			t.Fatalf("posted + diff = %v, want %v", back, now)
		}
	})
}

func TestApplyIsAtomicOnOverflow(t *testing.T) {
	tot := Totals{Sales: money.Amount(-1 << 62), Unsettled: money.Amount(1 << 62)}
	before := tot.Clone()
	huge := money.Amount(1<<63 - 1)
	// The first posting fits, the second overflows: neither may stick.
	err := tot.Apply([]Posting{{Sales, huge}, {Unsettled, huge}}, 1)
	if !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("Apply error = %v, want ErrOverflow", err)
	}
	if !maps.Equal(tot, before) {
		t.Fatalf("failed Apply left %v, want %v", tot, before)
	}
	if err := tot.Apply(nil, 0); err == nil {
		t.Fatal("sign 0 accepted")
	}
}

func TestCloneIsIndependent(t *testing.T) {
	a := Totals{Sales: 5, Tax: 0}
	b := a.Clone()
	b[Sales] = 7
	if a[Sales] != 5 {
		t.Fatal("Clone shares storage")
	}
	if _, ok := b[Tax]; ok {
		t.Fatal("Clone kept a zero entry")
	}
	if !(Totals{Tax: 0}).IsZero() || (Totals{Tax: 1}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}

func BenchmarkApply(b *testing.B) {
	order := must(b)(OrderPostings(OrderFacts{Total: money.FromUnits(1200), Tax: money.FromUnits(200), Gratuity: money.FromUnits(50)}))
	pay := must(b)(PaymentPostings(PaymentFacts{Type: "Card", Status: "Paid", Amount: money.FromUnits(1250)}))
	fee := must(b)(TransactionPostings(TransactionFacts{Type: "PaymentFee", TenderType: "Card", Amount: money.FromMinor(-149, 2)}))
	tot := Totals{}
	b.ReportAllocs()
	for b.Loop() {
		if err := tot.Apply(order, 1); err != nil {
			b.Fatal(err)
		}
		if err := tot.Apply(pay, 1); err != nil {
			b.Fatal(err)
		}
		if err := tot.Apply(fee, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func indices(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func sortedKeys(m map[int]bool) []int {
	return slices.Sorted(maps.Keys(m))
}

// Removing what was applied (sign -1, as when a record is replaced or
// deleted) leaves the day as it was, and a later revision carries exactly
// the difference from what was posted: zero-net when nothing changed.
func TestRemoveAndDiff(t *testing.T) {
	sale := []Posting{{Unsettled, amt(t, "12.50")}, {Sales, amt(t, "-10.00")}, {Tax, amt(t, "-2.50")}}
	pay := []Posting{{Tender("Card"), amt(t, "12.50")}, {Unsettled, amt(t, "-12.50")}}
	tot := Totals{}
	for _, ps := range [][]Posting{sale, pay} {
		if err := tot.Apply(ps, 1); err != nil {
			t.Fatal(err)
		}
	}
	posted := tot.Clone()
	if err := tot.Apply(pay, -1); err != nil {
		t.Fatal(err)
	}
	if want := (Totals{Unsettled: amt(t, "12.50"), Sales: amt(t, "-10.00"), Tax: amt(t, "-2.50")}); !maps.Equal(tot, want) {
		t.Fatalf("after removing the payment: %v, want %v", tot, want)
	}
	d, err := tot.Diff(posted)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Totals{Unsettled: amt(t, "12.50"), Tender("Card"): amt(t, "-12.50")}); !maps.Equal(d, want) {
		t.Fatalf("the revision after removing the payment carries %v, want %v", d, want)
	}
	if d, err := posted.Diff(posted); err != nil || len(d) != 0 {
		t.Fatalf("a revision that changed nothing carries %v, %v", d, err)
	}
	if err := tot.Apply(sale, -1); err != nil || len(tot) != 0 {
		t.Fatalf("removing every record leaves %v, %v", tot, err)
	}
	if _, err := (Totals{Sales: money.Amount(math.MinInt64 + 1)}).Diff(Totals{Sales: 2}); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("a difference past the range: %v, want ErrOverflow", err)
	}
}
