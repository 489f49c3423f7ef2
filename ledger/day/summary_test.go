package day

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
)

func cashSalesHeader(t testing.TB) Header {
	t.Helper()
	c := mustCalendar(t, "Europe/London", 4)
	start, end, err := c.Bounds("2026-03-29")
	if err != nil {
		t.Fatal(err)
	}
	return Header{
		CompanyID: "co-7f3a", TenantID: "tenant-1", Day: "2026-03-29", Currency: "GBP",
		Revision: 1, Zone: "Europe/London", CutoffHour: 4, Start: start, End: end,
		SealedBy: "watermark", ConfigVersion: 3, RecordCount: 4,
	}
}

func cashSalesTotals(t testing.TB) Totals {
	return Totals{
		Tender("Cash"):    amt(t, "1220"),
		PaymentFees:       amt(t, "60"),
		Sales:             amt(t, "-1000"),
		Gratuity:          amt(t, "-50"),
		Tax:               amt(t, "-200"),
		PaymentFeeRefunds: amt(t, "-30"),
	}
}

func TestNewSummaryLines(t *testing.T) {
	tot := cashSalesTotals(t)
	tot[Unsettled] = 0 // a day whose unsettled nets out shows no line for it
	s, err := NewSummary(cashSalesHeader(t), tot)
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{Account: Gratuity, Credit: amt(t, "50")},
		{Account: PaymentFeeRefunds, Credit: amt(t, "30")},
		{Account: PaymentFees, Debit: amt(t, "60")},
		{Account: Sales, Credit: amt(t, "1000")},
		{Account: Tax, Credit: amt(t, "200")},
		{Account: Tender("Cash"), Debit: amt(t, "1220")},
	}
	if len(s.Lines) != len(want) {
		t.Fatalf("lines = %v, want %v", s.Lines, want)
	}
	for i := range want {
		if s.Lines[i] != want[i] {
			t.Fatalf("line %d = %+v, want %+v", i, s.Lines[i], want[i])
		}
	}
	if !s.Balanced() {
		t.Fatal("summary not balanced")
	}
	if got := s.Totals(); !maps.Equal(got, cashSalesTotals(t)) {
		t.Fatalf("Totals() = %v, want %v", got, cashSalesTotals(t))
	}
}

func TestNewSummaryRefuses(t *testing.T) {
	h := cashSalesHeader(t)
	unbalanced := cashSalesTotals(t)
	unbalanced[Sales] -= 1
	if _, err := NewSummary(h, unbalanced); !errors.Is(err, ErrUnbalanced) {
		t.Errorf("unbalanced totals: err = %v, want ErrUnbalanced", err)
	} else {
		t.Log(err)
	}
	overflow := Totals{Sales: money.Amount(1<<63 - 1), Tax: 1, Unsettled: money.Amount(-1 << 63)}
	if _, err := NewSummary(h, overflow); err == nil {
		t.Error("overflowing totals accepted")
	}
	bad := map[string]func(*Header){
		"empty company":  func(h *Header) { h.CompanyID = "" },
		"empty day":      func(h *Header) { h.Day = "" },
		"empty currency": func(h *Header) { h.Currency = "" },
		"revision 0":     func(h *Header) { h.Revision = 0 },
		"malformed day":  func(h *Header) { h.Day = "29/03/2026" },
		"end before start": func(h *Header) {
			h.Start, h.End = h.End, h.Start
		},
	}
	for name, mutate := range bad {
		h := cashSalesHeader(t)
		mutate(&h)
		if _, err := NewSummary(h, cashSalesTotals(t)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := NewSummary(cashSalesHeader(t), Totals{}); err != nil {
		t.Errorf("an empty (zero) revision was refused: %v", err)
	}
}

// The golden values pin the canonical encoding: if this test fails, the
// encoding changed and existing chains no longer verify. Add a new version
// instead of editing these.
func TestGoldenIDAndHash(t *testing.T) {
	s, err := NewSummary(cashSalesHeader(t), cashSalesTotals(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Link("", 1)
	const (
		wantID   = "6b2b72c964398dff46b3b73fff672d67"
		wantHash = "2472485a1c965c64946f8d695ee163c4b9225d152fb460f6232f228dc8577ad7"
	)
	wantCanonical := `commercesync.day.summary v1
id "6b2b72c964398dff46b3b73fff672d67"
company "co-7f3a"
tenant "tenant-1"
day "2026-03-29"
currency "GBP"
revision 1
zone "Europe/London"
cutoff_hour 4
start "2026-03-29T03:00:00Z"
end "2026-03-30T03:00:00Z"
sealed_by "watermark"
config_version 3
record_count 4
sequence 1
prev_hash ""
lines 6
line "gratuity" 0.0000 50.0000
line "payment_fee_refunds" 0.0000 30.0000
line "payment_fees" 60.0000 0.0000
line "sales" 0.0000 1000.0000
line "tax" 0.0000 200.0000
line "tender:Cash" 1220.0000 0.0000
end_summary
`
	if got := string(s.Canonical()); got != wantCanonical {
		t.Errorf("Canonical() =\n%s\nwant\n%s", got, wantCanonical)
	}
	if s.ID != wantID {
		t.Errorf("ID = %s, want %s", s.ID, wantID)
	}
	if s.Hash != wantHash {
		t.Errorf("Hash = %s, want %s", s.Hash, wantHash)
	}
}

func TestCanonicalQuotesValues(t *testing.T) {
	h := cashSalesHeader(t)
	h.SealedBy = "x\nline \"tender:Cash\" 1.0000 0.0000"
	s, err := NewSummary(h, Totals{Tender("Ca\nsh"): 1, Sales: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(s.Canonical()), "\n"), "\n") {
		if i > 0 && !strings.Contains(l, " ") && l != "end_summary" {
			t.Errorf("line %d %q: a value broke out of its field", i, l)
		}
	}
	if n := strings.Count(string(s.Canonical()), "\nline "); n != 2 {
		t.Errorf("canonical has %d line fields, want 2", n)
	}
	u, err := NewSummary(h, Totals{Tender("Café"): 1, Sales: -1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `line "tender:Caf\u00e9" 0.0001 0.0000`; !strings.Contains(string(u.Canonical()), want) {
		t.Errorf("non-ASCII account not escaped to ASCII; want %s in\n%s", want, u.Canonical())
	}
}

// chain builds three linked revisions of one company's days.
func chain(t testing.TB) []Summary {
	t.Helper()
	var out []Summary
	prev := ""
	for i, day := range []string{"2026-03-28", "2026-03-29", "2026-03-29"} {
		h := cashSalesHeader(t)
		h.Day = day
		h.Start, h.End = h.Start.AddDate(0, 0, -1+i/2), h.End.AddDate(0, 0, -1+i/2)
		h.Revision = 1 + i/2
		s, err := NewSummary(h, cashSalesTotals(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Link(prev, int64(i+1))
		prev = s.Hash
		out = append(out, s)
	}
	return out
}

func TestVerify(t *testing.T) {
	if i, err := Verify(chain(t)); i != -1 || err != nil {
		t.Fatalf("intact chain: %d, %v", i, err)
	}
	if i, err := Verify(nil); i != -1 || err != nil {
		t.Fatalf("empty chain: %d, %v", i, err)
	}
	cases := []struct {
		name   string
		mutate func(c []Summary) []Summary
		index  int
		want   error
	}{
		{"tampered line, still balanced", func(c []Summary) []Summary {
			c[1].Lines = append([]Line(nil), c[1].Lines...)
			c[1].Lines[3].Credit += 100 // sales
			c[1].Lines[5].Debit += 100  // tender:Cash
			return c
		}, 1, ErrHash},
		{"tampered line, unbalanced", func(c []Summary) []Summary {
			c[2].Lines = append([]Line(nil), c[2].Lines...)
			c[2].Lines[0].Credit++
			return c
		}, 2, ErrUnbalanced},
		{"tampered header", func(c []Summary) []Summary { c[0].RecordCount++; return c }, 0, ErrHash},
		{"wrong prev hash", func(c []Summary) []Summary { c[2].PrevHash = c[0].Hash; return c }, 2, ErrPrevHash},
		{"gap in sequence", func(c []Summary) []Summary { return append(c[:1], c[2:]...) }, 1, ErrSequence},
		{"chain not from 1", func(c []Summary) []Summary { return c[1:] }, 0, ErrSequence},
		{"relinked after edit keeps its successor broken", func(c []Summary) []Summary {
			c[1].Lines = append([]Line(nil), c[1].Lines...)
			c[1].Lines[3].Credit += 100
			c[1].Lines[5].Debit += 100
			c[1].Link(c[1].PrevHash, c[1].Sequence)
			return c
		}, 2, ErrPrevHash},
		{"id rewritten", func(c []Summary) []Summary { c[1].Revision = 7; return c }, 1, ErrID},
		{"lines reordered", func(c []Summary) []Summary {
			c[0].Lines = append([]Line(nil), c[0].Lines...)
			c[0].Lines[0], c[0].Lines[1] = c[0].Lines[1], c[0].Lines[0]
			c[0].Link("", 1)
			return c
		}, 0, ErrMalformed},
		{"another company's summary", func(c []Summary) []Summary { c[2].CompanyID = "co-other"; return c }, 2, ErrCompany},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i, err := Verify(tc.mutate(chain(t)))
			if i != tc.index || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %d, %v; want %d, %v", i, err, tc.index, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestVerifyFrom(t *testing.T) {
	c := chain(t)
	if i, err := VerifyFrom(c[0].Hash, c[0].Sequence, c[1:]); i != -1 || err != nil {
		t.Fatalf("segment after a checkpoint: %d, %v", i, err)
	}
	if i, err := VerifyFrom(c[1].Hash, c[1].Sequence, c[1:]); i != 0 || err == nil {
		t.Fatalf("segment after the wrong checkpoint: %d, %v", i, err)
	}
}

func TestSummaryIDDistinguishesFields(t *testing.T) {
	ids := map[string]bool{}
	for _, k := range [][4]string{
		{"a", "2026-01-01", "GBP", "1"}, {"a", "2026-01-01", "GBP", "2"}, {"a", "2026-01-01", "EUR", "1"},
		{"a", "2026-01-02", "GBP", "1"}, {"b", "2026-01-01", "GBP", "1"},
	} {
		id := SummaryID(k[0], k[1], k[2], int(k[3][0]-'0'))
		if len(id) != 32 || ids[id] {
			t.Fatalf("id %q for %v is not a fresh 32-char id", id, k)
		}
		ids[id] = true
	}
}

// A location is part of a summary's identity and hash, and a summary
// without one keeps the id and encoding it had before locations existed.
func TestLocationInIdentity(t *testing.T) {
	h := Header{CompanyID: "co", TenantID: "t", Day: "2026-03-10", Currency: "GBP", Revision: 1}
	tot := Totals{Sales: -100, Unsettled: 100}
	plain, err := NewSummary(h, tot)
	if err != nil {
		t.Fatal(err)
	}
	if plain.ID != SummaryID("co", "2026-03-10", "GBP", 1) || strings.Contains(string(plain.Canonical()), "location") {
		t.Fatalf("a summary without a location changed its id or encoding: %s", plain.Canonical())
	}
	h.Location = "shop-1"
	at, err := NewSummary(h, tot)
	if err != nil {
		t.Fatal(err)
	}
	if at.ID == plain.ID || at.ID != LocationSummaryID("co", "2026-03-10", "GBP", "shop-1", 1) ||
		!strings.Contains(string(at.Canonical()), "location \"shop-1\"\n") {
		t.Fatalf("location summary id %s, canonical:\n%s", at.ID, at.Canonical())
	}
}

// A summary that names only the first of its exceptions carries their count
// in its canonical encoding, so the chain covers it; one that names them all
// encodes as before, and a count below the names is refused.
func TestExceptionCountInCanonical(t *testing.T) {
	h := cashSalesHeader(t)
	h.Exceptions = []Exception{{RecordID: "o-1", Message: "Order o-1: lines miss the total."}}
	all, err := NewSummary(h, cashSalesTotals(t))
	if err != nil {
		t.Fatal(err)
	}
	h.ExceptionCount = 1
	same, err := NewSummary(h, cashSalesTotals(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all.Canonical(), same.Canonical()) || strings.Contains(string(all.Canonical()), "exception_count") {
		t.Errorf("a count equal to the names changed the encoding:\n%s", same.Canonical())
	}
	h.ExceptionCount = 8000
	more, err := NewSummary(h, cashSalesTotals(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(more.Canonical()), "\nexception_count 8000\nend_summary\n") {
		t.Errorf("the count of 8000 is not in the encoding:\n%s", more.Canonical())
	}
	all.Link("", 1)
	more.Link("", 1)
	if all.Hash == more.Hash {
		t.Error("the exception count does not change the hash")
	}
	h.ExceptionCount = 0
	h.Exceptions = append(h.Exceptions, Exception{RecordID: "o-2", Message: "Order o-2"})
	h.ExceptionCount = 1
	if _, err := NewSummary(h, cashSalesTotals(t)); err == nil || !strings.Contains(err.Error(), "exception count 1 is below the 2") {
		t.Errorf("a count below the names: err %v", err)
	}
}

// Balanced refuses every line shape NewSummary never builds, even when the
// sums still agree: a negative side cancelled by another line, a line with
// no side or both, and sides whose sum overflows.
func TestBalancedRefusesEveryMalformedLineShape(t *testing.T) {
	const big = money.Amount(1<<63 - 1)
	cases := []struct {
		name  string
		lines []Line
		want  bool
	}{
		{"no lines", nil, true},
		{"one debit, one credit", []Line{{Account: Sales, Credit: 5}, {Account: Unsettled, Debit: 5}}, true},
		{"negative debit against negative credit", []Line{{Account: Sales, Debit: -5}, {Account: Tax, Credit: -5}}, false},
		{"negative credit cancelled by a credit", []Line{{Account: Sales, Credit: -5}, {Account: Tax, Credit: 5}}, false},
		{"negative debit cancelled by a debit", []Line{{Account: Sales, Debit: -5}, {Account: Tax, Debit: 5}}, false},
		{"both sides zero", []Line{{Account: Sales}}, false},
		{"both sides set", []Line{{Account: Sales, Debit: 5, Credit: 5}}, false},
		{"debits overflow", []Line{{Account: Sales, Debit: big}, {Account: Tax, Debit: 1}, {Account: Unsettled, Credit: big}}, false},
		{"credits overflow", []Line{{Account: Sales, Credit: big}, {Account: Tax, Credit: 1}, {Account: Unsettled, Debit: big}}, false},
	}
	for _, c := range cases {
		if got := (Summary{Lines: c.lines}).Balanced(); got != c.want {
			t.Errorf("%s: Balanced() = %v, want %v", c.name, got, c.want)
		}
	}
}

// The header's bounds, each at its edge: a revision from 1, a record count
// from 0 (a revision may carry no record of its own), and start before end
// checked only when both are known.
func TestNewSummaryHeaderBounds(t *testing.T) {
	tot := cashSalesTotals(t)
	accepted := map[string]func(*Header){
		"revision 1":     func(h *Header) { h.Revision = 1 },
		"record count 0": func(h *Header) { h.RecordCount = 0 },
		"start only":     func(h *Header) { h.End = time.Time{} },
		"end only":       func(h *Header) { h.Start = time.Time{} },
		"neither":        func(h *Header) { h.Start, h.End = time.Time{}, time.Time{} },
	}
	for name, edit := range accepted {
		h := cashSalesHeader(t)
		edit(&h)
		if _, err := NewSummary(h, tot); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
	refused := []struct {
		name string
		edit func(*Header)
		says string
	}{
		{"revision 0", func(h *Header) { h.Revision = 0 }, "revision 0 is below 1"},
		{"record count -1", func(h *Header) { h.RecordCount = -1 }, "record count -1 is negative"},
		{"start at end", func(h *Header) { h.End = h.Start }, "is not before its end"},
		{"empty company", func(h *Header) { h.CompanyID = "" }, "company id is empty"},
		{"empty day", func(h *Header) { h.Day = "" }, "day is empty"},
		{"empty currency", func(h *Header) { h.Currency = "" }, "currency is empty"},
		{"day not a date", func(h *Header) { h.Day = "2026-02-30" }, `day "2026-02-30" is not a date in the form 2006-01-02`},
	}
	for _, c := range refused {
		h := cashSalesHeader(t)
		c.edit(&h)
		if _, err := NewSummary(h, tot); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: err = %v, want one saying %q", c.name, err, c.says)
		}
	}
}

// A chain refuses a summary whose lines repeat an account, even one that
// balances and whose hash was recomputed: NewSummary never builds one, so
// it was edited, and a planner would post the account twice.
func TestVerifyRefusesARepeatedAccount(t *testing.T) {
	c := chain(t)
	c[0].Lines = []Line{{Account: Sales, Credit: 5}, {Account: Sales, Debit: 5}}
	c[0].Link("", 1)
	if i, err := Verify(c[:1]); i != 0 || !errors.Is(err, ErrMalformed) {
		t.Fatalf("Verify = %d, %v; want 0, ErrMalformed", i, err)
	}
}
