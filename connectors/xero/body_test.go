package xero

import (
	"bytes"
	"testing"
	"time"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestManualJournalBodyIsExactAndStable(t *testing.T) {
	doc := &commercesyncv1.Document{
		Type: "ManualJournal", Date: "2026-07-14", Currency: "USD", Narration: "Daily summary <shop 7>",
		Lines: []*commercesyncv1.DocumentLine{
			{AccountCode: "610", Amount: "1150", Description: "Card"},
			{AccountId: "c4f29c22-28c2-4a13-9eab-ecbbd641ffdf", Amount: "-1000.1", Description: "Sales"},
			{AccountCode: "820", AccountId: "ignored-when-code-set", Amount: "-149.90"},
			{AccountCode: "801", Amount: "0.00000"},
			{AccountCode: "802", Amount: "-0.01"},
			{AccountCode: "612", Amount: "0.01"},
		},
	}
	ref := connectors.Reference{Value: "acme/2026-07-14/USD/1", IdempotencyKey: "k"}
	got, err := manualJournalBody(doc, ref)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ManualJournals":[{"Narration":"Daily summary \u003cshop 7\u003e [acme/2026-07-14/USD/1]","Date":"2026-07-14","Status":"POSTED","LineAmountTypes":"NoTax","JournalLines":[` +
		`{"LineAmount":1150.00,"AccountCode":"610","Description":"Card"},` +
		`{"LineAmount":-1000.10,"AccountID":"c4f29c22-28c2-4a13-9eab-ecbbd641ffdf","Description":"Sales"},` +
		`{"LineAmount":-149.90,"AccountCode":"820"},` +
		`{"LineAmount":0.00,"AccountCode":"801"},` +
		`{"LineAmount":-0.01,"AccountCode":"802"},` +
		`{"LineAmount":0.01,"AccountCode":"612"}]}]}`
	if string(got) != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	for range 20 {
		again, err := manualJournalBody(doc, ref)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("body is not byte-stable: %s", again)
		}
	}
}

func TestParseMSDate(t *testing.T) {
	for in, want := range map[string]string{
		"/Date(1546214400000+0000)/": "2018-12-31",
		"/Date(1552595972952)/":      "2019-03-14",
	} {
		d, err := parseMSDate(in)
		if err != nil || d.Format(time.DateOnly) != want {
			t.Errorf("%s -> %v %v, want %s", in, d, err, want)
		}
	}
	if _, err := parseMSDate("2019-03-14"); err == nil {
		t.Error("a plain date parsed as an MS date")
	}
}
