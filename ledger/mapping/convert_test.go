package mapping_test

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

// A converted journal still balances to the cent, every line in the base
// currency's units, whatever the rate; rounding goes to the FX account.
func TestConvertBalances(t *testing.T) {
	chartFX := codatChart{"sales/fx": "FX"}
	for k, v := range chart {
		chartFX[k] = v
	}
	rapid.Check(t, func(t *rapid.T) {
		tot := day.Totals{}
		n := rapid.IntRange(1, 6).Draw(t, "orders")
		for range n {
			c := rapid.Int64Range(1, 100000).Draw(t, "cents")
			tax := c / 6
			ps, err := day.OrderPostings(day.OrderFacts{Total: money.FromMinor(c, 2), Tax: money.FromMinor(tax, 2)})
			if err != nil {
				t.Fatal(err)
			}
			if err := tot.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
			ps, _ = day.PaymentPostings(day.PaymentFacts{Type: "Cash", Status: "Paid", Amount: money.FromMinor(c, 2)})
			if err := tot.Apply(ps, 1); err != nil {
				t.Fatal(err)
			}
		}
		s, err := day.NewSummary(day.Header{CompanyID: "c", Day: "2026-03-10", Currency: "GBP", Revision: 1,
			Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}, tot)
		if err != nil {
			t.Fatal(err)
		}
		planned, err := mapping.Journal(s, chartFX)
		if err != nil {
			t.Fatal(err)
		}
		base := rapid.SampledFrom([]string{"USD", "JPY", "BHD"}).Draw(t, "base")
		rate := decimal.New(rapid.Int64Range(1, 2_000_000).Draw(t, "rate"), -5)
		conv, err := mapping.Convert(planned, base, rate, chartFX)
		if err != nil {
			t.Fatal(err)
		}
		dp, _ := money.MinorUnits(base)
		var sum money.Amount
		for _, l := range conv[0].Document.Lines {
			if !l.Amount.FitsDecimals(dp) {
				t.Fatalf("%s line %s does not fit %d decimals", l.Account.Name, l.Amount, dp)
			}
			sum += l.Amount
		}
		if sum != 0 || conv[0].Document.Currency != base {
			t.Fatalf("converted journal sums to %s in %s", sum, conv[0].Document.Currency)
		}
	})
}

// fxChart maps the exchange differences account besides the journal
// examples' chart.
func fxChart(fx string) codatChart {
	c := codatChart{}
	for k, v := range chart {
		c[k] = v
	}
	if fx != "" {
		c["sales/fx"] = fx
	}
	return c
}

func eurJournal(t *testing.T, lines ...string) []mapping.Planned {
	t.Helper()
	doc := mapping.Document{Type: mapping.TypeJournal, Date: "2026-03-10", Currency: "EUR", Narration: "Daily sales summary 2026-03-10 EUR"}
	for _, l := range lines {
		name, a, _ := strings.Cut(l, " ")
		doc.Lines = append(doc.Lines, mapping.Line{Account: mapping.Binding{AccountID: name, Code: name, Name: name}, Semantic: day.Account(name), Amount: amt(t, a)})
	}
	return []mapping.Planned{{Index: 0, DocumentID: "doc-0", Reference: "CS-0", Document: doc}}
}

func convertedLines(p mapping.Planned) string {
	var out []string
	for _, l := range p.Document.Lines {
		out = append(out, l.Account.AccountID+" "+l.Amount.String())
	}
	return strings.Join(out, ", ")
}

// Each line converts on its own and rounds half away from zero to the base
// currency's minor units (never half to even, never truncated); what that
// leaves goes to the FX account, on the side that balances the journal.
func TestConvertRoundsEachLineHalfAwayFromZero(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		base  string
		rate  string
		want  string
	}{
		{"halves up, remainder credited", []string{"Cash 0.01", "Card 0.01", "Sales -0.02"}, "USD", "0.5",
			"Card 0.01, Cash 0.01, FX -0.01, Sales -0.01"},
		{"halves down, remainder debited", []string{"Cash -0.01", "Card -0.01", "Sales 0.02"}, "USD", "0.5",
			"Card -0.01, Cash -0.01, FX 0.01, Sales 0.01"},
		{"below half rounds toward zero", []string{"Cash 0.04", "Card 0.06", "Sales -0.10"}, "USD", "0.1",
			"Card 0.01, Sales -0.01"},
		{"exact conversion needs no FX", []string{"Cash 12.34", "Sales -12.34"}, "USD", "2",
			"Cash 24.68, Sales -24.68"},
		{"to a currency without minor units", []string{"Cash 0.50", "Card 0.50", "Sales -1.00"}, "JPY", "1",
			"Card 1.00, Cash 1.00, FX -1.00, Sales -1.00"},
		{"large rate, no minor units", []string{"Cash 1.01", "Card 1.01", "Sales -2.02"}, "JPY", "150.5",
			"Card 152.00, Cash 152.00, Sales -304.00"},
		{"to three decimals", []string{"Cash 1.23", "Sales -1.23"}, "BHD", "0.3771",
			"Cash 0.464, Sales -0.464"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conv, err := mapping.Convert(eurJournal(t, c.lines...), c.base, decimal.RequireFromString(c.rate), fxChart("FX"))
			if err != nil {
				t.Fatal(err)
			}
			if len(conv) != 1 {
				t.Fatalf("converted %d documents", len(conv))
			}
			// merge keeps the first semantic account's order; sort for a stable golden
			lines := conv[0].Document.Lines
			sort.Slice(lines, func(i, j int) bool { return lines[i].Account.AccountID < lines[j].Account.AccountID })
			if got := convertedLines(conv[0]); got != c.want {
				t.Fatalf("converted lines %s, want %s", got, c.want)
			}
		})
	}
}

// The refusals of Convert name the field to fix: an unknown base currency,
// a rate that is not positive, and a rounding remainder with no exchange
// differences account mapped (its side and amount spelt out).
func TestConvertErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		base  string
		rate  string
		fx    string
		field string
		words string
	}{
		{"unknown base", []string{"Cash 1", "Sales -1"}, "ZZZ", "1", "FX", "currency", "base currency ZZZ is not an ISO 4217 currency"},
		{"zero rate", []string{"Cash 1", "Sales -1"}, "USD", "0", "FX", "configuration.exchangeRates", "the exchange rate 0 is not positive"},
		{"negative rate", []string{"Cash 1", "Sales -1"}, "USD", "-1.1", "FX", "configuration.exchangeRates", "the exchange rate -1.1 is not positive"},
		{"remainder to credit, unmapped", []string{"Cash 0.01", "Card 0.01", "Sales -0.02"}, "USD", "0.5", "",
			"configuration.sales.accounts.fx.selectedAccountId",
			"Converting EUR to USD leaves a rounding credit of 0.01 USD to post to an exchange differences account. Please map configuration.sales.accounts.fx.selectedAccountId."},
		{"remainder to debit, selected without an account", []string{"Cash -0.01", "Card -0.01", "Sales 0.02"}, "USD", "0.5", "-",
			"configuration.sales.accounts.fx.selectedAccountId", "leaves a rounding debit of 0.01 USD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			accts := fxChart(c.fx)
			if c.fx == "-" {
				accts["sales/fx"] = ""
			}
			conv, err := mapping.Convert(eurJournal(t, c.lines...), c.base, decimal.RequireFromString(c.rate), accts)
			var merr *mapping.Error
			if !errors.As(err, &merr) || merr.Field != c.field || !strings.Contains(merr.Message, c.words) {
				t.Fatalf("converted %+v, err %v; want field %s saying %q", conv, err, c.field, c.words)
			}
		})
	}
	// A day that converts exactly needs no exchange differences account.
	if _, err := mapping.Convert(eurJournal(t, "Cash 1.5", "Sales -1.5"), "USD", decimal.RequireFromString("2"), fxChart("")); err != nil {
		t.Fatalf("exact conversion: %v", err)
	}
}

// Converting restates every document in the base currency, keeps its
// identity and date, and names the original currency and rate in the
// narration; the remainder merges into an account a line already uses.
func TestConvertKeepsIdentityAndNamesTheRate(t *testing.T) {
	planned := append(eurJournal(t, "Cash 0.01", "Card 0.01", "Sales -0.02"), eurJournal(t, "Cash 2", "Sales -2")...)
	planned[1].Index, planned[1].DocumentID = 1, "doc-1"
	conv, err := mapping.Convert(planned, "GBP", decimal.RequireFromString("0.5"), fxChart("Sales"))
	if err != nil {
		t.Fatal(err)
	}
	if len(conv) != 2 {
		t.Fatalf("converted %d documents, want 2", len(conv))
	}
	for i, p := range conv {
		d := p.Document
		if p.Index != i || p.DocumentID != planned[i].DocumentID || p.Reference != "CS-0" || d.Type != mapping.TypeJournal || d.Date != "2026-03-10" {
			t.Errorf("#%d lost its identity: %+v", i, p)
		}
		if want := "Daily sales summary 2026-03-10 EUR (converted from EUR at 0.5)"; d.Currency != "GBP" || d.Narration != want {
			t.Errorf("#%d in %s narrated %q, want GBP and %q", i, d.Currency, d.Narration, want)
		}
	}
	if got, want := convertedLines(conv[0]), "Card 0.01, Cash 0.01, Sales -0.02"; got != want {
		t.Errorf("first document %s, want %s (the remainder merged into Sales)", got, want)
	}
	if got, want := convertedLines(conv[1]), "Cash 1.00, Sales -1.00"; got != want {
		t.Errorf("second document %s, want %s", got, want)
	}
	if planned[0].Document.Currency != "EUR" || planned[0].Document.Lines[0].Amount != amt(t, "0.01") {
		t.Errorf("Convert changed its input: %+v", planned[0].Document)
	}
}

// A journal with no lines (a day that nets to nothing) converts to a
// journal with no lines and needs no exchange differences account.
func TestConvertEmptyJournal(t *testing.T) {
	conv, err := mapping.Convert(eurJournal(t), "USD", decimal.RequireFromString("1.1"), fxChart(""))
	if err != nil || len(conv) != 1 || len(conv[0].Document.Lines) != 0 || conv[0].Document.Currency != "USD" {
		t.Fatalf("converted %+v, err %v; want one USD journal with no lines", conv, err)
	}
}
