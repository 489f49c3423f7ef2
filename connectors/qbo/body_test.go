package qbo

import (
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestRequestIDFitsFiftyCharacters(t *testing.T) {
	if got := RequestID("0123456789abcdef0123456789abcdef-c12"); got != "0123456789abcdef0123456789abcdef-c12" {
		t.Fatalf("a fitting key changed: %q", got)
	}
	long := strings.Repeat("k", 51)
	got := RequestID(long)
	if len(got) != 36 || got != RequestID(long) || got == RequestID(long+"x") {
		t.Fatalf("RequestID(51 chars) = %q: want a stable 36-character digest", got)
	}
	if got := RequestID("a key/with spaces"); len(got) != 36 || strings.ContainsAny(got, " /") {
		t.Fatalf("unsafe key kept: %q", got)
	}
	if got := RequestID(strings.Repeat("k", 50)); got != strings.Repeat("k", 50) {
		t.Fatalf("a 50-character key changed")
	}
}

func TestDocNumberFitsTwentyOneCharacters(t *testing.T) {
	if got := DocNumber("CS-0123456789ABCDEF"); got != "CS-0123456789ABCDEF" {
		t.Fatalf("fitting reference changed: %q", got)
	}
	a, b := DocNumber("acme/2026-07-14/USD/r1/c3/0"), DocNumber("acme/2026-07-14/USD/r1/c3/1")
	if len(a) != 21 || len(b) != 21 || a == b || !strings.HasPrefix(a, "acme/2026-0") || a != DocNumber("acme/2026-07-14/USD/r1/c3/0") {
		t.Fatalf("DocNumber: %q %q", a, b)
	}
	if got := DocNumber(strings.Repeat("é", 22)); len([]rune(got)) != 21 {
		t.Fatalf("rune count %d", len([]rune(got)))
	}
}

func TestPrivateNoteKeepsTheTagWithinFourThousand(t *testing.T) {
	if got := privateNote("  ", "r1"); got != "[r1]" {
		t.Fatalf("empty narration: %q", got)
	}
	long := privateNote(strings.Repeat("n", 5000), "CS-0123456789ABCDEF0123")
	if n := len([]rune(long)); n != MaxPrivateNoteLen || !strings.HasSuffix(long, " [CS-0123456789ABCDEF0123]") {
		t.Fatalf("long note: %d runes, suffix %q", n, long[len(long)-30:])
	}
}

func TestLineAmount(t *testing.T) {
	cases := []struct{ in, amt, side string }{
		{"108.5", "108.50", "Debit"}, {"-8.5", "8.50", "Credit"}, {"+3", "3.00", "Debit"}, {"0.00", "", ""}, {"-0", "", ""},
		{"1234567890123.45", "1234567890123.45", "Debit"},
	}
	for _, c := range cases {
		amt, side, err := lineAmount(c.in)
		if err != nil || string(amt) != c.amt || side != c.side {
			t.Errorf("lineAmount(%q) = %s %q %v", c.in, amt, side, err)
		}
	}
	for _, bad := range []string{"1.005", "1e3x", "", "1,00"} {
		if _, _, err := lineAmount(bad); err == nil {
			t.Errorf("lineAmount(%q) accepted", bad)
		}
	}
}

func TestBodyIsByteStableAndSkipsZeroLines(t *testing.T) {
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "eur", Narration: "n", Lines: []*commercesyncv1.DocumentLine{
		{AccountId: "1", Amount: "5"}, {AccountId: "2", Amount: "0.00"}, {AccountId: "3", Amount: "-5"},
	}}
	ref := connectors.Reference{Value: "r", IdempotencyKey: "k"}
	a, err := journalEntryBody(doc, ref, company{country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := journalEntryBody(doc, ref, company{country: "FR"})
	want := `{"TxnDate":"2026-07-14","DocNumber":"r","PrivateNote":"n [r]","CurrencyRef":{"value":"EUR"},"GlobalTaxCalculation":"TaxExcluded","Line":[` +
		`{"Amount":5.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"1"}}},` +
		`{"Amount":5.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"3"}}}]}`
	if string(a) != want || string(b) != string(a) {
		t.Fatalf("body\n%s\nwant\n%s", a, want)
	}
}

func TestClassifyFaultCodes(t *testing.T) {
	cases := []struct {
		status int
		code   string
		class  connectors.Class
	}{
		{400, "6210", connectors.MerchantActionable},
		{400, "6000", connectors.MerchantActionable},
		{400, "610", connectors.MerchantActionable},
		{400, "2500", connectors.MerchantActionable},
		{400, "6140", connectors.MerchantActionable},
		{400, "6190", connectors.MerchantActionable},
		{401, "120", connectors.MerchantActionable},
		{403, "3100", connectors.MerchantActionable},
		{401, "3200", connectors.Retryable},
		{400, "5010", connectors.Retryable},
		{400, "10000", connectors.Retryable},
		{200, "3001", connectors.Throttled},
		{400, "2020", connectors.Fatal},
		{400, "2010", connectors.Fatal},
		{400, "2170", connectors.Fatal},
		{400, "4000", connectors.Fatal},
		{400, "500", connectors.Fatal},
	}
	for _, c := range cases {
		f := &FaultError{Status: c.status, Type: "ValidationFault", Errors: []FaultEntry{{Message: "m", Detail: "d", Code: c.code}}}
		if got := classifyFault(c.status, f); got.Class != c.class || got.Err != f {
			t.Errorf("code %s (HTTP %d): %v, want %v", c.code, c.status, got.Class, c.class)
		}
	}
}

func TestParseFaultReadsBothEnvelopes(t *testing.T) {
	upper := parseFault([]byte(`{"Fault":{"Error":[{"Message":"M","Detail":"D","code":"6210","element":""}],"type":"ValidationFault"},"time":"x"}`), 400, "tid")
	lower := parseFault([]byte(`{"warnings":null,"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired: AB…","code":"3200","element":null}],"type":"AUTHENTICATION"},"time":1700000000000}`), 401, "")
	numeric := parseFault([]byte(`{"Fault":{"Error":[{"Message":"M","code":6000}],"type":"ValidationFault"}}`), 400, "")
	if upper == nil || upper.Code() != "6210" || upper.Errors[0].Detail != "D" || upper.IntuitTID != "tid" {
		t.Fatalf("upper %+v", upper)
	}
	if lower == nil || lower.Code() != "3200" || lower.Type != "AUTHENTICATION" || lower.Errors[0].Element != "" {
		t.Fatalf("lower %+v", lower)
	}
	if numeric == nil || numeric.Code() != "6000" {
		t.Fatalf("numeric %+v", numeric)
	}
	if parseFault([]byte(`{"JournalEntry":{}}`), 200, "") != nil || parseFault([]byte(`not json`), 500, "") != nil {
		t.Fatal("a non-fault parsed as a fault")
	}
}

func TestFieldOf(t *testing.T) {
	cases := map[FaultEntry]string{
		{Code: "2050", Element: "DocNumber"}:                              "Reference",
		{Code: "2020", Element: "Line.JournalEntryLineDetail.AccountRef"}: "Lines",
		{Code: "2010", Element: "TxnDate"}:                                "Date",
		{Code: "6210"}:                                                    "Date",
		{Code: "610"}:                                                     "AccountId",
		{Code: "2500", Detail: "Invalid Reference Id : Accounts element id 9"}:               "AccountId",
		{Code: "6000", Detail: "Business Validation Error: The currency CAD is not enabled"}: "Currency",
		{Code: "6000", Detail: "Business Validation Error: Journal Entry must be balanced"}:  "Lines",
		{Code: "6190", Detail: "Invalid Company Status"}:                                     "",
	}
	for e, want := range cases {
		if got := fieldOf(e); got != want {
			t.Errorf("fieldOf(%+v) = %q, want %q", e, got, want)
		}
	}
}
