package sage_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

// The default business: one contact that is customer and vendor, GBP with
// USD and EUR rates, and the Department and Cost centre analysis types
// (Project is deactivated, Customer group is a GROUP type).
func TestSetupContactsCurrenciesTracking(t *testing.T) {
	f := newFixture(t)
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	biz := sandbox.DefaultBusinessID
	// name, not displayed_as ("Commerce provider (COMMERCE)").
	wantContacts := []connectors.Contact{{ID: sandbox.ContactID(biz, "Commerce provider"), Name: "Commerce provider", Customer: true, Supplier: true}}
	if !slices.Equal(setup.Contacts, wantContacts) {
		t.Errorf("contacts = %+v\nwant %+v", setup.Contacts, wantContacts)
	}
	if want := []string{"GBP", "EUR", "USD"}; !slices.Equal(setup.Currencies, want) {
		t.Errorf("currencies = %v, want %v", setup.Currencies, want)
	}
	// GBP 1 = USD 1.27 and EUR 1.17: a unit of each buys 1/rate pounds,
	// which Sage gives as inverse_rate to 6 places.
	if got := setup.ExchangeRates; len(got) != 2 || got["USD"] != "0.787402" || got["EUR"] != "0.854701" {
		t.Errorf("exchange rates = %v, want USD 0.787402 and EUR 0.854701", got)
	}
	dept, cost := sandbox.AnalysisTypeID(biz, "Department"), sandbox.AnalysisTypeID(biz, "Cost centre")
	want := []connectors.TrackingCategory{
		{ID: dept, Name: "Department", Options: []connectors.Option{
			{ID: sandbox.AnalysisTypeCategoryID(biz, dept, "Online store"), Name: "Online store"},
			{ID: sandbox.AnalysisTypeCategoryID(biz, dept, "Retail shop"), Name: "Retail shop"},
		}},
		{ID: cost, Name: "Cost centre", Options: []connectors.Option{
			{ID: sandbox.AnalysisTypeCategoryID(biz, cost, "London"), Name: "London"},
			{ID: sandbox.AnalysisTypeCategoryID(biz, cost, "Manchester"), Name: "Manchester"},
		}},
	}
	if !trackingEqual(setup.Tracking, want) {
		t.Errorf("tracking = %+v\nwant %+v", setup.Tracking, want)
	}
	if n := len(setup.Tracking); n > f.conn.Capabilities().TrackingDimensions {
		t.Errorf("%d analysis types, more than the %d a line may carry", n, f.conn.Capabilities().TrackingDimensions)
	}
	// Only TRANSACTION types are asked for, and their categories.
	for _, path := range []string{"/v3.1/analysis_types", "/v3.1/analysis_type_categories"} {
		if q := f.rec.lastQuery(t, http.MethodGet, path); q.Get("analysis_type_level") != "TRANSACTION" {
			t.Errorf("%s?%s: want analysis_type_level=TRANSACTION", path, q.Encode())
		}
	}
}

// A business with multi-currency off, on Accounting Start (no analysis
// types), with more contacts than one page holds.
func TestSetupSingleCurrencyStartBusiness(t *testing.T) {
	two := sandbox.Business{ID: "1d40342d0287cd6b13555c54afca6c91", Name: "Business Two", StartTier: true,
		BaseCurrency: "GBP", MultiCurrencyEnabled: false,
		// Rates left from when multi-currency was on must not be offered.
		ExchangeRates: map[string]string{"USD": "1.2700"}}
	var want []connectors.Contact
	for i := range 205 {
		c := sandbox.Contact{Name: fmt.Sprintf("Customer %03d", i), Reference: fmt.Sprintf("C%03d", i)}
		switch i {
		case 7:
			c.Inactive = true
		case 8:
			c.System = true
		case 9:
			c.Types = []string{sandbox.ContactTypeVendor}
		}
		two.Contacts = append(two.Contacts, c)
		if i != 7 && i != 8 {
			want = append(want, connectors.Contact{ID: sandbox.ContactID(two.ID, c.Name), Name: c.Name, Customer: i != 9, Supplier: i == 9})
		}
	}
	f := newFixture(t, sandbox.WithBusiness(sandbox.DefaultBusiness()), sandbox.WithBusiness(two))
	f.connect()
	s := f.session
	s.TenantID = two.ID
	setup, err := f.conn.Setup(f.ctx, s)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if !slices.Equal(setup.Currencies, []string{"GBP"}) || setup.BaseCurrency != "GBP" || len(setup.ExchangeRates) != 0 {
		t.Errorf("currencies = %v base %q, want [GBP]", setup.Currencies, setup.BaseCurrency)
	}
	if n := f.rec.count(http.MethodGet, "/v3.1/business_exchange_rates"); n != 0 {
		t.Errorf("exchange rates read %d times with multi-currency off", n)
	}
	if !slices.Equal(setup.Contacts, want) {
		t.Errorf("%d contacts, want %d: first %+v", len(setup.Contacts), len(want), setup.Contacts[:min(3, len(setup.Contacts))])
	}
	if n := f.rec.count(http.MethodGet, "/v3.1/contacts"); n != 2 {
		t.Errorf("contacts read in %d pages, want 2 of at most 200", n)
	}
	if setup.Tracking != nil {
		t.Errorf("tracking = %+v, want none on Accounting Start", setup.Tracking)
	}
	if got := f.rec.last(t, http.MethodGet, "/v3.1/analysis_types"); got.status != http.StatusNotFound {
		t.Errorf("analysis types answered %d, want the sandbox's 404", got.status)
	}
}

// Exchange rates are deduplicated against the base currency, and seeded
// analysis types replace the default ones.
func TestSetupDeduplicatesCurrenciesAndReadsSeededTracking(t *testing.T) {
	three := sandbox.Business{ID: "3d40342d0287cd6b13555c54afca6c93", Name: "Business Three", BaseCurrency: "EUR", MultiCurrencyEnabled: true,
		ExchangeRates: map[string]string{"EUR": "1.0000", "USD": "1.0850", "CHF": "0.9400"},
		Contacts:      []sandbox.Contact{{ID: "V1", Name: "Payments Ltd", Types: []string{sandbox.ContactTypeVendor}}},
		AnalysisTypes: []sandbox.AnalysisType{
			{ID: "AT1", Name: "Channel", Categories: []sandbox.AnalysisTypeCategory{{ID: "C1", Name: "Web"}, {ID: "C2", Name: "Shop"}}},
			{ID: "AT2", Name: "Empty"},
		}}
	f := newFixture(t, sandbox.WithBusiness(three))
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if want := []string{"EUR", "CHF", "USD"}; !slices.Equal(setup.Currencies, want) {
		t.Errorf("currencies = %v, want %v", setup.Currencies, want)
	}
	if want := []connectors.Contact{{ID: "V1", Name: "Payments Ltd", Supplier: true}}; !slices.Equal(setup.Contacts, want) {
		t.Errorf("contacts = %+v, want %+v", setup.Contacts, want)
	}
	want := []connectors.TrackingCategory{
		{ID: "AT1", Name: "Channel", Options: []connectors.Option{{ID: "C1", Name: "Web"}, {ID: "C2", Name: "Shop"}}},
		{ID: "AT2", Name: "Empty"},
	}
	if !trackingEqual(setup.Tracking, want) {
		t.Errorf("tracking = %+v\nwant %+v", setup.Tracking, want)
	}
}

func trackingEqual(a, b []connectors.TrackingCategory) bool {
	return slices.EqualFunc(a, b, func(x, y connectors.TrackingCategory) bool {
		return x.ID == y.ID && x.Name == y.Name && slices.Equal(x.Options, y.Options)
	})
}

// lastQuery returns the query of the last exchange with method and path.
func (r *recorder) lastQuery(t *testing.T, method, path string) url.Values {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.log) - 1; i >= 0; i-- {
		if r.log[i].method == method && r.log[i].path == path {
			return r.log[i].query
		}
	}
	t.Fatalf("no %s %s was sent", method, path)
	return nil
}
