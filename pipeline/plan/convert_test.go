package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func eurDay() []mapping.Planned {
	c := func(m int64) money.Amount { return money.FromMinor(m, 2) }
	return []mapping.Planned{{DocumentID: "d", Document: mapping.Document{Type: "ManualJournal", Currency: "EUR", Narration: "Sales 2026-03-10", Lines: []mapping.Line{
		{Account: mapping.Binding{AccountID: "cash"}, Amount: c(1001)},
		{Account: mapping.Binding{AccountID: "card"}, Amount: c(1001)},
		{Account: mapping.Binding{AccountID: "sales"}, Amount: c(-2002)},
	}}}}
}

func ratesConfig(rates map[string]string, fx string) *v1.SyncConfiguration {
	cfg := &v1.SyncConfiguration{Configuration: &v1.CommerceConfiguration{ExchangeRates: rates, Sales: &v1.SalesConfiguration{Accounts: map[string]*v1.AccountConfiguration{}}}}
	if fx != "" {
		cfg.Configuration.Sales.Accounts["fx"] = &v1.AccountConfiguration{SelectedAccountId: &fx}
	}
	return cfg
}

var gbp = &v1.PlatformSetup{BaseCurrency: "GBP", ExchangeRates: map[string]string{"EUR": "0.5", "USD": "0.787402"}}

// "platform" takes the rate the accounting platform holds.
func TestConvertAtThePlatformsRate(t *testing.T) {
	got, err := convert(eurDay(), "EUR", gbp, ratesConfig(map[string]string{"EUR": PlatformRate}, "fx-acc"))
	if err != nil {
		t.Fatal(err)
	}
	if doc := got[0].Document; doc.Currency != "GBP" || !strings.Contains(doc.Narration, "converted from EUR at 0.5") {
		t.Fatalf("document = %s %q, want GBP converted at the platform's 0.5", doc.Currency, doc.Narration)
	}
	_, err = convert(eurDay(), "EUR", &v1.PlatformSetup{BaseCurrency: "GBP"}, ratesConfig(map[string]string{"EUR": PlatformRate}, "fx-acc"))
	var merr *mapping.Error
	if !errors.As(err, &merr) || merr.Field != "configuration.exchangeRates.EUR" || !strings.Contains(merr.Message, "holds no exchange rate for EUR") {
		t.Fatalf("no platform rate: %v", err)
	}
}

func TestConvertAtConfiguredRate(t *testing.T) {
	got, err := convert(eurDay(), "EUR", gbp, ratesConfig(map[string]string{"EUR": "0.5"}, "fx-acc"))
	if err != nil {
		t.Fatal(err)
	}
	doc := got[0].Document
	if doc.Currency != "GBP" || !strings.Contains(doc.Narration, "converted from EUR at 0.5") {
		t.Fatalf("document = %s %q, want GBP converted from EUR", doc.Currency, doc.Narration)
	}
	// 10.01 × 0.5 = 5.005 rounds away from zero to 5.01 twice, against
	// -10.01: the cent left over posts to the FX account.
	want := map[string]string{"cash": "5.01", "card": "5.01", "sales": "-10.01", "fx-acc": "-0.01"}
	var sum money.Amount
	for _, l := range doc.Lines {
		if want[l.Account.AccountID] != l.Amount.String() {
			t.Errorf("%s = %s, want %s", l.Account.AccountID, l.Amount, want[l.Account.AccountID])
		}
		delete(want, l.Account.AccountID)
		sum, _ = sum.Add(l.Amount)
	}
	if len(want) != 0 || sum != 0 {
		t.Fatalf("lines missing %v, sum %s", want, sum)
	}
}

func TestConvertLeavesDaysItCannotOrNeedNotConvert(t *testing.T) {
	for name, tc := range map[string]struct {
		currency, base string
		rates          map[string]string
	}{
		"same currency":         {"EUR", "EUR", map[string]string{"EUR": "2"}},
		"base not known":        {"EUR", "", map[string]string{"EUR": "2"}},
		"no rate for the day's": {"EUR", "GBP", map[string]string{"USD": "0.8"}},
	} {
		got, err := convert(eurDay(), tc.currency, &v1.PlatformSetup{BaseCurrency: tc.base}, ratesConfig(tc.rates, "fx-acc"))
		if err != nil || got[0].Document.Currency != "EUR" || got[0].Document.Lines[0].Amount.String() != "10.01" {
			t.Errorf("%s: got %+v, %v; want the day unchanged", name, got, err)
		}
	}
}

func TestConvertNamesWhatTheMerchantMustFix(t *testing.T) {
	for name, tc := range map[string]struct {
		rate, fx, field, says string
	}{
		"rate not a number": {"1,27", "fx-acc", "configuration.exchangeRates.EUR", `"1,27" for EUR is not a positive decimal`},
		"rate zero":         {"0", "fx-acc", "configuration.exchangeRates.EUR", "not a positive decimal"},
		"no FX account":     {"0.5", "", "configuration.sales.accounts.fx.selectedAccountId", "leaves a rounding credit of 0.01 GBP"},
	} {
		_, err := convert(eurDay(), "EUR", gbp, ratesConfig(map[string]string{"EUR": tc.rate}, tc.fx))
		var merr *mapping.Error
		if !errors.As(err, &merr) || merr.Field != tc.field || !strings.Contains(merr.Message, tc.says) {
			t.Errorf("%s: err = %v, want field %s saying %q", name, err, tc.field, tc.says)
		}
	}
}
