package window

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// acctTotals keeps a day's amounts sorted by account, without zeros, and
// finds accounts by linear scan when short and by binary search when long:
// both paths, and accounts before, between and after the ones held, agree
// with a plain map.
func TestAccountTotalsAgreeWithAMap(t *testing.T) {
	for _, n := range []int{3, 16, 17, 40} {
		t.Run(fmt.Sprint(n, " accounts"), func(t *testing.T) {
			var tot acctTotals
			want := map[day.Account]money.Amount{}
			acct := func(i int) day.Account { return day.Account(fmt.Sprintf("acct:%03d", i)) }
			// Odd accounts first, from the top down, then the even ones
			// between them and one past either end.
			var order []int
			for i := 2*n - 1; i >= 1; i -= 2 {
				order = append(order, i)
			}
			for i := 0; i <= 2*n; i += 2 {
				order = append(order, i)
			}
			for _, i := range order {
				if err := tot.add(acct(i), money.Amount(i+1)); err != nil {
					t.Fatal(err)
				}
				want[acct(i)] += money.Amount(i + 1)
			}
			// Adding zero to an account not held keeps it out.
			if err := tot.add("acct:zzz", 0); err != nil {
				t.Fatal(err)
			}
			// Taking an account to zero removes it, and adding to one held
			// changes it in place.
			for i := 0; i <= 2*n; i += 3 {
				if err := tot.add(acct(i), -money.Amount(i+1)); err != nil {
					t.Fatal(err)
				}
				delete(want, acct(i))
			}
			if err := tot.add(acct(1), 100); err != nil {
				t.Fatal(err)
			}
			want[acct(1)] += 100
			check(t, tot, want)
			for _, a := range []day.Account{"", "acct:000", acct(2 * n), acct(2*n + 1), "zzz"} {
				if got := tot.get(a); got != want[a] {
					t.Errorf("get(%q) = %s, want %s", a, got, want[a])
				}
			}
			if tot.isZero() {
				t.Errorf("totals of %d accounts say they are zero", len(tot))
			}
			for a, v := range want {
				if err := tot.add(a, -v); err != nil {
					t.Fatal(err)
				}
			}
			if !tot.isZero() || len(tot.totals()) != 0 {
				t.Errorf("totals with every account taken back out: %v, want none", tot)
			}
		})
	}
}

func check(t *testing.T, tot acctTotals, want map[day.Account]money.Amount) {
	t.Helper()
	if !slices.IsSortedFunc(tot, func(a, b acctAmt) int {
		if a.acct < b.acct {
			return -1
		}
		if a.acct > b.acct {
			return 1
		}
		return 0
	}) {
		t.Errorf("totals not sorted by account: %v", tot)
	}
	for _, x := range tot {
		if x.amt == 0 {
			t.Errorf("totals keep %s at zero", x.acct)
		}
	}
	if got := tot.totals(); !maps.Equal(got, day.Totals(want)) {
		t.Errorf("totals %v, want %v", got, want)
	}
	for a, v := range want {
		if i, ok := tot.find(a); !ok || tot[i].amt != v {
			t.Errorf("find(%s) = %d, %t; want it held with %s", a, i, ok, v)
		}
	}
}

// A clone is a copy: changing it leaves the day's totals as they were (a
// day's posted totals are a clone of its totals when it emits).
func TestAccountTotalsCloneIsACopy(t *testing.T) {
	var tot acctTotals
	_ = tot.add(day.Sales, -500)
	_ = tot.add(day.Unsettled, 500)
	c := tot.clone()
	_ = c.add(day.Sales, -1)
	_ = c.add(day.Tax, -1)
	if tot.get(day.Sales) != -500 || tot.get(day.Tax) != 0 || len(tot) != 2 {
		t.Errorf("changing a clone changed the original: %v", tot)
	}
	if acctTotals(nil).clone() != nil {
		t.Errorf("a clone of no totals is not nil")
	}
}

// An overflowing amount is refused and leaves the account as it was.
func TestAccountTotalsRefuseOverflow(t *testing.T) {
	var tot acctTotals
	_ = tot.add(day.Sales, money.Amount(1<<62))
	if err := tot.add(day.Sales, money.Amount(1<<62)); err == nil {
		t.Fatalf("adding past int64 accepted: %v", tot)
	}
	if tot.get(day.Sales) != money.Amount(1<<62) {
		t.Errorf("a refused add changed the account: %v", tot)
	}
}
