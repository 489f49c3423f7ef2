package window

// MaxDayAccounts refuses a record that would open an account past the
// limit. A day restored holding more accounts than the limit (written when
// the limit was higher) still takes records that open none.

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// agRestoreWithExtraAccounts restores the changelog of e's partition 0 into
// a new aggregator, with n accounts (in pairs of ±0.0001, so the day still
// balances) added to the totals of 10 June in GBP.
func agRestoreWithExtraAccounts(t *testing.T, e *ex, n int) *Aggregator {
	t.Helper()
	june10 := string(changeKey(exCompany, kindDay, "2026-06-10\x00GBP"))
	a := testAggregator(t)
	found := false
	for _, ch := range e.r.log.compacted(0, false) {
		value := ch.Value
		if string(ch.Key) == june10 {
			var wc v1.WindowChange
			if err := proto.Unmarshal(value, &wc); err != nil {
				t.Fatal(err)
			}
			d := wc.GetDay()
			for i := range n {
				amt := int64(1)
				if i%2 == 1 {
					amt = -1
				}
				d.Totals = append(d.Totals, &v1.AccountAmount{Account: fmt.Sprintf("sales:old-%04d", i), Amount: amt})
			}
			var err error
			if value, err = proto.Marshal(&wc); err != nil {
				t.Fatal(err)
			}
			found = true
		}
		if err := a.Restore(0, ch.Key, value); err != nil {
			t.Fatalf("Restore %q: %v", ch.Key, err)
		}
	}
	if err := a.RestoreDone(0); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no changelog entry for 10 June")
	}
	return a
}

func TestDayRestoredPastTheAccountLimitTakesRecordsThatOpenNoAccount(t *testing.T) {
	e := newEx(t, ldnZone, 0, 0)
	at := local(t, ldnZone, "2026-06-10 12:00:00")
	e.push(exOrder("ord-1", at, 1, "GBP", "10.00", "0"))
	a := agRestoreWithExtraAccounts(t, e, MaxDayAccounts) // 2 + 1000 accounts
	k := dayKey{"2026-06-10", "GBP", ""}
	if n := len(a.companies[exCompany].dayState(k).totals); n != MaxDayAccounts+2 {
		t.Fatalf("the restored day holds %d accounts, want %d", n, MaxDayAccounts+2)
	}
	// Unsettled and sales are there already: the order is taken.
	if err := a.Apply(0, exOrder("ord-2", at, 1, "GBP", "5.00", "0")); err != nil {
		t.Fatalf("an order opening no account on a day past the limit was refused: %v", err)
	}
	// A tax component would open one more: refused, naming the count.
	err := a.Apply(0, exOrder("ord-3", at, 1, "GBP", "6.00", "1.00"))
	want := fmt.Sprintf("would hold %d accounts; the limit is %d", MaxDayAccounts+3, MaxDayAccounts)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("an order opening an account on a day past the limit: error %v, want %q", err, want)
	}
	if _, err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	a.Commit()
	if d := a.companies[exCompany].dayState(k); d.records != 2 || d.totals.get("unsettled") != 150000 {
		t.Errorf("the day holds %d records, unsettled %d; want ord-1 and ord-2 (15.00)", d.records, d.totals.get("unsettled"))
	}
}
