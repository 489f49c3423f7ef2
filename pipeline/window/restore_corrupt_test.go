package window

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// TestRestoreRefusesADayNamingAnAccountTwice pins that a day entry whose
// totals or posted amounts name one account twice is refused as corrupt,
// naming the entry and the account, rather than restored with whichever
// amount a sort happened to leave first.
func TestRestoreRefusesADayNamingAnAccountTwice(t *testing.T) {
	twice := []*v1.AccountAmount{{Account: "sales", Amount: -100}, {Account: "cash", Amount: 300}, {Account: "sales", Amount: -200}}
	once := []*v1.AccountAmount{{Account: "sales", Amount: -300}, {Account: "cash", Amount: 300}}
	key := changeKey("co", kindDay, "2026-06-10\x00GBP")
	for _, tc := range []struct {
		name          string
		totals, post  []*v1.AccountAmount
		refused, part string
	}{
		{"well formed", once, once, "", ""},
		{"totals", twice, once, `totals: account "sales" is listed twice`, "totals"},
		{"posted", once, twice, `posted: account "sales" is listed twice`, "posted"},
	} {
		value, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_Day{Day: &v1.WindowDay{
			BusinessDay: "2026-06-10", Currency: "GBP", Totals: tc.totals, Posted: tc.post, Revision: 1, Sealed: true,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		err = testAggregator(t).Restore(0, key, value)
		if tc.refused == "" {
			if err != nil {
				t.Errorf("%s: a day naming each account once was refused: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "2026-06-10") {
			t.Errorf("%s: Restore of a day naming an account twice: %v, want %q naming the entry", tc.name, err, tc.refused)
		}
	}
}

// TestRestoreRefusesAPostedExceptionWithoutAMessage pins that an exception
// entry must carry the message the day's last revision posted: one without
// it is refused as corrupt, never restored as a posted exception of
// nothing.
func TestRestoreRefusesAPostedExceptionWithoutAMessage(t *testing.T) {
	key := changeKey("co", kindPosted, "2026-06-10\x00GBP\x00\x00o-1")
	for _, tc := range []struct {
		msg string
		ok  bool
	}{{"Order o-1: lines do not add up. Correct the order and push it again.", true}, {"", false}} {
		value, err := proto.Marshal(&v1.WindowChange{Entry: &v1.WindowChange_PostedException{PostedException: &v1.WindowPostedException{
			BusinessDay: "2026-06-10", Currency: "GBP", RecordId: "o-1", Message: tc.msg,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		err = testAggregator(t).Restore(0, key, value)
		if tc.ok && err != nil {
			t.Errorf("a posted exception with its message was refused: %v", err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "holds no exception")) {
			t.Errorf("a posted exception without a message: %v, want it refused as holding no exception", err)
		}
	}
}
