package netsuite_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/netsuite"
	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
)

// suiteQLTables lists, per table, the offsets of the SuiteQL requests in
// xs.
func suiteQLTables(t *testing.T, xs []exchange) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, x := range xs {
		if !strings.HasSuffix(x.url.Path, netsuite.SuiteQLPath) {
			continue
		}
		var body struct{ Q string }
		if err := json.Unmarshal(x.reqBody, &body); err != nil {
			t.Fatalf("SuiteQL body %s: %v", x.reqBody, err)
		}
		_, from, ok := strings.Cut(body.Q, " FROM ")
		if !ok {
			t.Fatalf("query without FROM: %s", body.Q)
		}
		table, _, _ := strings.Cut(from, " ")
		out[table] = append(out[table], x.url.Query().Get("offset"))
	}
	return out
}

func TestSetupReadsSubsidiariesCurrenciesTrackingAndContacts(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	before := len(f.rec.all())
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if want := []connectors.Subsidiary{{ID: "1", Name: "Commerce Demo Inc.", Currency: "USD"}}; !reflect.DeepEqual(setup.Subsidiaries, want) {
		t.Errorf("subsidiaries %+v\nwant %+v", setup.Subsidiaries, want)
	}
	// CAD is inactive (sandbox.CurrencyCAD).
	if want := []string{"USD", "GBP", "EUR", "JPY"}; !reflect.DeepEqual(setup.Currencies, want) {
		t.Errorf("currencies %v, want %v", setup.Currencies, want)
	}
	wantTracking := []connectors.TrackingCategory{
		{ID: "class", Name: "Class", Options: []connectors.Option{{ID: sandbox.ClassStore, Name: "Store"}}},
		{ID: "department", Name: "Department", Options: []connectors.Option{{ID: sandbox.DepartmentRetail, Name: "Retail"}}},
		{ID: "location", Name: "Location", Options: []connectors.Option{{ID: sandbox.LocationMain, Name: "Main Street"}}},
	}
	if !reflect.DeepEqual(setup.Tracking, wantTracking) {
		t.Errorf("tracking %+v\nwant %+v", setup.Tracking, wantTracking)
	}
	wantContacts := []connectors.Contact{
		{ID: sandbox.CustomerWalkIn, Name: "Walk-in Customers", Customer: true},
		{ID: sandbox.CustomerCommerceProvider, Name: "Commerce provider", Customer: true},
		{ID: sandbox.VendorCommerceProvider, Name: "Commerce provider", Supplier: true},
		{ID: sandbox.VendorPackaging, Name: "Packaging Supplies Inc.", Supplier: true},
	}
	if !reflect.DeepEqual(setup.Contacts, wantContacts) {
		t.Errorf("contacts %+v\nwant %+v", setup.Contacts, wantContacts)
	}
	// One SuiteQL query per entity, each answered in one page.
	want := map[string][]string{}
	for _, table := range []string{"subsidiary", "currency", "account", "accountingperiod", "classification", "department", "location", "customer", "vendor"} {
		want[table] = []string{"0"}
	}
	if got := suiteQLTables(t, f.rec.all()[before:]); !reflect.DeepEqual(got, want) {
		t.Errorf("setup queries %v\nwant %v", got, want)
	}
}

// richCompany has several subsidiaries (one inactive, one elimination),
// a root subsidiary in EUR, an inactive and a new class, only inactive
// departments, no locations and an inactive customer.
func richCompany() sandbox.Company {
	c := sandbox.DefaultCompany()
	c.Subsidiaries[0].Currency = sandbox.CurrencyEUR
	c.Subsidiaries = append(c.Subsidiaries,
		sandbox.Subsidiary{ID: "2", Name: "Commerce Demo UK Ltd", Currency: sandbox.CurrencyGBP, Parent: "1"},
		sandbox.Subsidiary{ID: "3", Name: "Commerce Demo Canada", Currency: sandbox.CurrencyUSD, Parent: "1", Inactive: true},
		sandbox.Subsidiary{ID: "4", Name: "Consolidation Elimination", Currency: sandbox.CurrencyUSD, Parent: "1", Elimination: true},
	)
	c.Classes = append(c.Classes, sandbox.Segment{ID: "7", Name: "Wholesale", Inactive: true}, sandbox.Segment{ID: "8", Name: "Online"})
	c.Departments[0].Inactive = true
	c.Locations = nil
	c.Customers = append(c.Customers, sandbox.Entity{ID: "9", Name: "Former Customer", Inactive: true})
	return c
}

func TestSetupLeavesOutInactiveRecordsAndOrdersTheBaseCurrencyFirst(t *testing.T) {
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(richCompany())}})
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	wantSubs := []connectors.Subsidiary{
		{ID: "1", Name: "Commerce Demo Inc.", Currency: "EUR"},
		{ID: "2", Name: "Commerce Demo UK Ltd", Currency: "GBP"},
	}
	if !reflect.DeepEqual(setup.Subsidiaries, wantSubs) {
		t.Errorf("subsidiaries %+v\nwant %+v", setup.Subsidiaries, wantSubs)
	}
	// No subsidiary is chosen among two, so there is no base currency; the
	// root subsidiary's comes first.
	if want := []string{"EUR", "USD", "GBP", "JPY"}; setup.BaseCurrency != "" || !reflect.DeepEqual(setup.Currencies, want) {
		t.Errorf("base %q currencies %v, want none and %v", setup.BaseCurrency, setup.Currencies, want)
	}
	// Departments are all inactive and there are no locations.
	wantTracking := []connectors.TrackingCategory{
		{ID: "class", Name: "Class", Options: []connectors.Option{{ID: "3", Name: "Store"}, {ID: "8", Name: "Online"}}},
	}
	if !reflect.DeepEqual(setup.Tracking, wantTracking) {
		t.Errorf("tracking %+v\nwant %+v", setup.Tracking, wantTracking)
	}
	for _, c := range setup.Contacts {
		if c.ID == "9" {
			t.Errorf("the inactive customer is offered: %+v", c)
		}
	}
	if len(setup.Contacts) != 4 {
		t.Errorf("%d contacts, want 4: %+v", len(setup.Contacts), setup.Contacts)
	}

	// The subsidiary journals go to sets the base currency, which leads.
	g := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(richCompany())}, conn: []netsuite.Option{netsuite.WithSubsidiary("2")}})
	g.connect()
	if setup, err = g.conn.Setup(g.ctx, g.session); err != nil {
		t.Fatalf("pinned setup: %v", err)
	}
	if want := []string{"GBP", "USD", "EUR", "JPY"}; setup.BaseCurrency != "GBP" || !reflect.DeepEqual(setup.Currencies, want) {
		t.Errorf("pinned base %q currencies %v, want GBP and %v", setup.BaseCurrency, setup.Currencies, want)
	}
	if !reflect.DeepEqual(setup.Subsidiaries, wantSubs) {
		t.Errorf("pinned subsidiaries %+v", setup.Subsidiaries)
	}
}

func TestSetupPagesThroughCustomers(t *testing.T) {
	c := sandbox.DefaultCompany()
	c.Customers = nil
	const n = 1500
	for i := 1; i <= n; i++ {
		c.Customers = append(c.Customers, sandbox.Entity{ID: strconv.Itoa(1000 + i), Name: "Customer " + strconv.Itoa(i)})
	}
	c.Vendors = nil
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(c)}})
	f.connect()
	before := len(f.rec.all())
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if len(setup.Contacts) != n || setup.Contacts[n-1] != (connectors.Contact{ID: "2500", Name: "Customer 1500", Customer: true}) {
		t.Fatalf("%d contacts, last %+v", len(setup.Contacts), setup.Contacts[len(setup.Contacts)-1])
	}
	// §4.7: at most 1000 a page, then the next offset.
	if got := suiteQLTables(t, f.rec.all()[before:]); !reflect.DeepEqual(got["customer"], []string{"0", "1000"}) || !reflect.DeepEqual(got["vendor"], []string{"0"}) {
		t.Fatalf("customer pages %v, vendor pages %v", got["customer"], got["vendor"])
	}
}

// An account with classes turned off answers a SuiteQL query on them as on
// any unknown record; the setup leaves the segment out and reads the rest.
func TestSetupWithoutAFeature(t *testing.T) {
	co := sandbox.DefaultCompany()
	co.Disabled = []string{"classification"}
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(co)}})
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	for _, tc := range setup.Tracking {
		if tc.ID == "class" {
			t.Fatalf("classes are offered although the feature is off: %+v", tc)
		}
	}
	if len(setup.Tracking) == 0 || len(setup.Accounts) == 0 || len(setup.Contacts) == 0 {
		t.Fatalf("the rest of the setup is missing: %d tracking, %d accounts, %d contacts", len(setup.Tracking), len(setup.Accounts), len(setup.Contacts))
	}
}
