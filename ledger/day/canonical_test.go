package day

import (
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
)

// Every shape a line can take encodes to one exact text: either side, every
// size from a ten-thousandth to MaxAbs, fractions with leading zeros, every
// kind of account name, and the malformed shapes an edited summary can hold
// (Verify hashes what it is given, so those must encode deterministically
// too). A change here changes hashes already in chains: add an encoding
// version instead of editing these.
func TestCanonicalEncodesEveryLineShape(t *testing.T) {
	cases := []struct {
		name string
		line Line
		want string
	}{
		{"debit", Line{Account: Tender("Card"), Debit: amt(t, "1220")}, `line "tender:Card" 1220.0000 0.0000`},
		{"credit", Line{Account: Sales, Credit: amt(t, "1000")}, `line "sales" 0.0000 1000.0000`},
		{"a ten-thousandth", Line{Account: Rounding, Debit: 1}, `line "rounding" 0.0001 0.0000`},
		{"a cent", Line{Account: Rounding, Credit: amt(t, "0.01")}, `line "rounding" 0.0000 0.0100`},
		{"leading zeros in the fraction", Line{Account: PaymentFees, Debit: amt(t, "12.05")}, `line "payment_fees" 12.0500 0.0000`},
		{"four decimals", Line{Account: Tax, Credit: amt(t, "3.1416")}, `line "tax" 0.0000 3.1416`},
		{"the largest amount accepted", Line{Account: Unsettled, Debit: money.MaxAbs}, `line "unsettled" 100000000000.0000 0.0000`},
		{"a category's sales", Line{Account: SalesIn("Bakery"), Credit: amt(t, "4.5")}, `line "sales:Bakery" 0.0000 4.5000`},
		{"a tax component", Line{Account: TaxOn("rate:10.25"), Credit: amt(t, "0.4")}, `line "tax:rate:10.25" 0.0000 0.4000`},
		{"a quote and a newline in the account", Line{Account: Tender("Gift \"card\"\nx"), Debit: 2}, `line "tender:Gift \"card\"\nx" 0.0002 0.0000`},
		{"non-ASCII in the account", Line{Account: SalesIn("Café"), Credit: 5}, `line "sales:Caf\u00e9" 0.0000 0.0005`},
		// Shapes NewSummary never builds; an edited summary can hold them.
		{"both sides zero", Line{Account: Sales}, `line "sales" 0.0000 0.0000`},
		{"both sides set", Line{Account: Sales, Debit: 1, Credit: 2}, `line "sales" 0.0001 0.0002`},
		{"a negative debit", Line{Account: Sales, Debit: amt(t, "-1.5")}, `line "sales" -1.5000 0.0000`},
		{"a negative credit", Line{Account: Sales, Credit: -1}, `line "sales" 0.0000 -0.0001`},
	}
	for _, c := range cases {
		s := Summary{Header: Header{CompanyID: "co", Day: "2026-03-11", Currency: "USD", Revision: 1}, Lines: []Line{c.line}}
		got := string(s.Canonical())
		if !strings.Contains(got, "\nlines 1\n"+c.want+"\nend_summary\n") {
			t.Errorf("%s: %+v encodes as\n%s\nwant the line %s", c.name, c.line, got, c.want)
		}
	}
}

// A day whose accounts all net to zero (a sale refunded the same day, a
// revision that changed nothing) is a summary with no lines: it balances,
// and encodes and hashes as exactly this.
func TestZeroNetDayHasNoLines(t *testing.T) {
	h := Header{
		CompanyID: "co-7f3a", TenantID: "tenant-1", Day: "2026-03-11", Currency: "USD", Revision: 2,
		Zone: "America/Chicago", CutoffHour: 0,
		Start: time.Date(2026, 3, 11, 5, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 12, 5, 0, 0, 0, time.UTC),
		SealedBy: "late record", ConfigVersion: 1, RecordCount: 0,
	}
	// Totals may hold accounts at zero (built by hand, or left by a caller):
	// they are no lines either.
	for _, tot := range []Totals{{}, {Sales: 0, Unsettled: 0, Tender("Cash"): 0}} {
		s, err := NewSummary(h, tot)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Lines) != 0 || !s.Balanced() || len(s.Totals()) != 0 {
			t.Fatalf("a zero-net day from %v: lines %v, balanced %v, totals %v", tot, s.Lines, s.Balanced(), s.Totals())
		}
		s.Link("0f", 9)
		const wantHash = "a62ef335e2b5b81f65a96150524fef602e827bcd987ae1654c246b06b10e405b" // sha256 of "0f" and the text below, checked with another sha256
		const want = `commercesync.day.summary v1
id "756d8415b327959f88e84e5a47e208a4"
company "co-7f3a"
tenant "tenant-1"
day "2026-03-11"
currency "USD"
revision 2
zone "America/Chicago"
cutoff_hour 0
start "2026-03-11T05:00:00Z"
end "2026-03-12T05:00:00Z"
sealed_by "late record"
config_version 1
record_count 0
sequence 9
prev_hash "0f"
lines 0
end_summary
`
		if got := string(s.Canonical()); got != want {
			t.Errorf("Canonical() =\n%s\nwant\n%s", got, want)
		}
		if s.Hash != wantHash {
			t.Errorf("Hash = %s, want %s", s.Hash, wantHash)
		}
	}
	// A sale and its refund on the same day leave nothing on any account.
	tot := Totals{}
	sale := []Posting{{Unsettled, amt(t, "12.5")}, {Sales, amt(t, "-12.5")}}
	if err := tot.Apply(sale, 1); err != nil {
		t.Fatal(err)
	}
	if err := tot.Apply([]Posting{{Unsettled, amt(t, "-12.5")}, {Sales, amt(t, "12.5")}}, 1); err != nil {
		t.Fatal(err)
	}
	if len(tot) != 0 || !tot.IsZero() {
		t.Fatalf("a sale and its refund leave %v", tot)
	}
}

// A busy day, with more accounts than a small day's encoding buffer is
// sized for, encodes every line in account order.
func TestCanonicalOfABusyDay(t *testing.T) {
	tot := Totals{}
	var sales money.Amount
	for i := range 12 {
		v := money.FromMinor(int64(100*(i+1)+5), 2) // 1.05, 2.05, … 12.05
		tot[SalesIn("category-"+string(rune('a'+i)))] = -v
		sales += v
	}
	tot[Unsettled] = sales
	s, err := NewSummary(Header{CompanyID: "co", Day: "2026-03-11", Currency: "USD", Revision: 1}, tot)
	if err != nil {
		t.Fatal(err)
	}
	const want = `
lines 13
line "sales:category-a" 0.0000 1.0500
line "sales:category-b" 0.0000 2.0500
line "sales:category-c" 0.0000 3.0500
line "sales:category-d" 0.0000 4.0500
line "sales:category-e" 0.0000 5.0500
line "sales:category-f" 0.0000 6.0500
line "sales:category-g" 0.0000 7.0500
line "sales:category-h" 0.0000 8.0500
line "sales:category-i" 0.0000 9.0500
line "sales:category-j" 0.0000 10.0500
line "sales:category-k" 0.0000 11.0500
line "sales:category-l" 0.0000 12.0500
line "unsettled" 78.6000 0.0000
end_summary
`
	if got := string(s.Canonical()); !strings.HasSuffix(got, want) {
		t.Errorf("Canonical() =\n%s\nwant it to end with%s", got, want)
	}
}
