package gateway

import (
	"strings"
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestValidateConfigNamesTheFieldAndTheFix(t *testing.T) {
	journal := &v1.CommerceConfiguration{MapSettings: &v1.MapSettings{OutputFormat: "JournalEntry"}}
	sel := func(id string, options ...string) *v1.AccountConfiguration {
		ac := &v1.AccountConfiguration{SelectedAccountId: &id, Required: true}
		for _, o := range options {
			ac.AccountOptions = append(ac.AccountOptions, &v1.AccountOption{Id: o})
		}
		return ac
	}
	cases := []struct {
		name string
		cfg  *v1.SyncConfiguration
		want []string // substrings, one per expected message; none means valid
	}{
		{"valid", &v1.SyncConfiguration{Schedule: &v1.Schedule{TimeZone: "Europe/London"}, Configuration: journal}, nil},
		{"no schedule", &v1.SyncConfiguration{Configuration: journal}, []string{"schedule: is required"}},
		{"bad zone", &v1.SyncConfiguration{Schedule: &v1.Schedule{TimeZone: "Mars/Olympus"}, Configuration: journal},
			[]string{"schedule.timeZone", "IANA"}},
		{"bad hour", &v1.SyncConfiguration{Schedule: &v1.Schedule{SyncHour: 25}, Configuration: journal}, []string{"schedule.syncHour: 25"}},
		{"monthly", &v1.SyncConfiguration{Schedule: &v1.Schedule{SelectedFrequency: "Monthly"}, Configuration: journal},
			[]string{"schedule.selectedFrequency"}},
		{"bad start", &v1.SyncConfiguration{Schedule: &v1.Schedule{StartDate: "14/02/2022"}, Configuration: journal},
			[]string{"schedule.startDate", "YYYY-MM-DD"}},
		{"grace", &v1.SyncConfiguration{Schedule: &v1.Schedule{GraceMinutes: -1}, Configuration: journal}, []string{"schedule.graceMinutes"}},
		{"invoices without a customer", &v1.SyncConfiguration{Schedule: &v1.Schedule{}},
			[]string{"configuration.sales.salesCustomer.selectedCustomerId: invoice mode issues"}},
		{"invoices", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: &v1.MapSettings{OutputFormat: "Invoice"},
			Sales:       &v1.SalesConfiguration{SalesCustomer: &v1.SalesCustomer{SelectedCustomerId: "c-1"}},
		}}, nil},
		{"invoice status", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			Sales: &v1.SalesConfiguration{SalesCustomer: &v1.SalesCustomer{SelectedCustomerId: "c-1"},
				InvoiceStatus: &v1.InvoiceStatus{SelectedInvoiceStatus: "Paid"}},
		}}, []string{"configuration.sales.invoiceStatus.selectedInvoiceStatus: Invalid invoice status selected"}},
		{"grouping", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: journal.MapSettings, Sales: &v1.SalesConfiguration{Grouping: &v1.Grouping{GroupingLevels: &v1.GroupingLevels{
				InvoiceLevel: &v1.GroupingLevel{SelectedGroupByOptions: []string{"Location", "Country"}}}}},
		}}, []string{`configuration.sales.grouping.groupingLevels.invoiceLevel.selectedGroupByOptions: Invalid invoice level grouping selected; "Country" is not one of ["Location"]`}},
		{"unknown format", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: &v1.MapSettings{OutputFormat: "Journal"}}}, []string{`configuration.mapSettings.outputFormat: "Journal" is not a format`}},
		{"selection not offered", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: journal.MapSettings,
			Payments:    &v1.PaymentsConfiguration{Accounts: map[string]*v1.AccountConfiguration{"card": sel("x", "a", "b")}},
		}}, []string{"configuration.payments.accounts.card.selectedAccountId: Selected Account is not a valid option."}},
		{"required missing", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: journal.MapSettings,
			Sales:       &v1.SalesConfiguration{Accounts: map[string]*v1.AccountConfiguration{"sales": {Required: true}}},
		}}, []string{"configuration.sales.accounts.sales: Config contains required accounts without selections. Set its selectedAccountId to the id of one of its accountOptions"}},
		{"exchange rates", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: journal.MapSettings, ExchangeRates: map[string]string{"EUR": "0.86", "usd": "1.1", "JPY": "-3", "CHF": "1,05"},
		}}, []string{`configuration.exchangeRates.usd: "usd" is not an ISO 4217 currency code`,
			`configuration.exchangeRates.JPY: "-3" is not a positive decimal`, `configuration.exchangeRates.CHF: "1,05"`}},
		{"exchange rate valid", &v1.SyncConfiguration{Schedule: &v1.Schedule{}, Configuration: &v1.CommerceConfiguration{
			MapSettings: journal.MapSettings, ExchangeRates: map[string]string{"EUR": "0.8612"}}}, nil},
	}
	for _, c := range cases {
		got := strings.Join(validateConfig(c.cfg), "\n")
		if len(c.want) == 0 && got != "" {
			t.Errorf("%s: refused a valid configuration: %s", c.name, got)
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: messages %q do not say %q", c.name, got, w)
			}
		}
	}
}

func TestCheckTrackingNamesTheFieldAndTheFix(t *testing.T) {
	offered := []*v1.TrackingCategory{
		{Id: "region", Name: "Region", Options: []*v1.Option{{Id: "north", Name: "North"}, {Id: "south", Name: "South"}}},
		{Id: "channel", Name: "Channel", Options: []*v1.Option{{Id: "online", Name: "Online"}}},
	}
	ref := func(cat, opt string) *v1.TrackingRef { return &v1.TrackingRef{CategoryId: cat, OptionId: opt} }
	got := checkTracking(map[string]*v1.LocationTracking{
		"shop-a": {Tracking: []*v1.TrackingRef{ref("region", "north"), ref("channel", "online")}},
		"shop-b": {Tracking: []*v1.TrackingRef{ref("region", "east"), ref("colour", "red")}},
		"shop-c": {Tracking: []*v1.TrackingRef{ref("region", "north"), ref("region", "south")}},
	}, offered)
	want := []string{
		`configuration.locationTracking.shop-b.tracking[0].optionId: "east" is not an active option of "Region"`,
		`configuration.locationTracking.shop-b.tracking[1].categoryId: "colour" is not a tracking category of the connected organisation`,
		`configuration.locationTracking.shop-c.tracking[1].categoryId: a location takes one option of each tracking category, and "Region" is named twice`,
	}
	if len(got) != len(want) {
		t.Fatalf("messages %q, want %d", got, len(want))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("message %d = %q, want it to say %q", i, got[i], w)
		}
	}
}
