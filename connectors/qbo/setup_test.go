package qbo_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

// wantBatch is the one batch Setup sends for the default company: every
// list, company currencies with multicurrency on, classes and departments
// because the company tracks them (§2.3, §2.6).
const wantBatch = `{"BatchItemRequest":[` +
	`{"bId":"1","Query":"select * from Account where Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"2","Query":"select * from TaxCode where Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"3","Query":"select * from TaxRate STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"4","Query":"select * from Customer where Active = true STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"5","Query":"select * from Vendor where Active = true STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"6","Query":"select * from Item where Active = true STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"7","Query":"select * from CompanyCurrency where Active = true STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"8","Query":"select * from Class where Active = true STARTPOSITION 1 MAXRESULTS 1000"},` +
	`{"bId":"9","Query":"select * from Department where Active = true STARTPOSITION 1 MAXRESULTS 1000"}]}`

func TestSetupListsOfTheDefaultCompany(t *testing.T) {
	f := newFixture(t)
	f.connect()
	before := len(f.rec.all("/v3/company/"))
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	// CompanyInfo, Preferences and one batch: a setup fits in the 10
	// requests a second QuickBooks allows (§2.6) with room for the push
	// that follows.
	if n := len(f.rec.all("/v3/company/")) - before; n != 3 {
		t.Fatalf("setup made %d requests, want 3", n)
	}
	sent := f.rec.last(t, "/batch")
	if sent.method != http.MethodPost || !strings.HasSuffix(sent.url, "/batch?minorversion=75") || string(sent.reqBody) != wantBatch {
		t.Fatalf("batch %s %s\n%s\nwant\n%s", sent.method, sent.url, sent.reqBody, wantBatch)
	}

	wantContacts := []connectors.Contact{
		{ID: sandbox.CustomerDailySales, Name: "Daily sales", Customer: true},
		{ID: sandbox.CustomerCommerceProvider, Name: "Commerce provider", Customer: true},
		{ID: sandbox.CustomerWalkIn, Name: "Walk-in customers", Customer: true},
		{ID: sandbox.VendorPaymentProcessor, Name: "Payment processor", Supplier: true},
		{ID: sandbox.VendorCommerceProvider, Name: "Commerce provider", Supplier: true},
	}
	if !reflect.DeepEqual(setup.Contacts, wantContacts) {
		t.Errorf("contacts %+v\nwant %+v", setup.Contacts, wantContacts)
	}
	if want := []string{"USD", "EUR", "GBP"}; !reflect.DeepEqual(setup.Currencies, want) {
		t.Errorf("currencies %v, want %v (home first, JPY inactive)", setup.Currencies, want)
	}
	wantTracking := []connectors.TrackingCategory{
		{ID: "Class", Name: "Class", Options: []connectors.Option{
			{ID: sandbox.ClassOnline, Name: "Online"}, {ID: sandbox.ClassRetail, Name: "Retail"}, {ID: sandbox.ClassDowntown, Name: "Retail:Downtown"},
		}},
		{ID: "Department", Name: "Location", Options: []connectors.Option{
			{ID: sandbox.DepartmentMainStreet, Name: "Main street"}, {ID: sandbox.DepartmentWarehouse, Name: "Warehouse"},
		}},
	}
	if !reflect.DeepEqual(setup.Tracking, wantTracking) {
		t.Errorf("tracking %+v\nwant %+v", setup.Tracking, wantTracking)
	}
	wantItems := []connectors.Item{
		{ID: sandbox.ItemSales, Name: "Sales", IncomeAccountID: sandbox.AccountSales},
		{ID: sandbox.ItemShipping, Name: "Shipping", IncomeAccountID: sandbox.AccountSales},
		{ID: sandbox.ItemServiceCharge, Name: "Service charge", IncomeAccountID: sandbox.AccountServiceCharges},
		{ID: sandbox.ItemDiscount, Name: "Discount", IncomeAccountID: sandbox.AccountDiscounts},
		{ID: sandbox.ItemRefund, Name: "Refund", IncomeAccountID: sandbox.AccountRefunds},
		{ID: sandbox.ItemSalesTax, Name: "Sales tax collected", IncomeAccountID: sandbox.AccountSalesTax},
		{ID: sandbox.ItemTips, Name: "Tips", IncomeAccountID: sandbox.AccountTips},
	}
	if !reflect.DeepEqual(setup.Items, wantItems) {
		t.Errorf("items %+v\nwant %+v", setup.Items, wantItems)
	}
	// Each item's income account is an active revenue or liability account
	// of the same setup, so a mapping can go from account to item.
	accounts := map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		accounts[a.ID] = a
	}
	for _, it := range setup.Items {
		if a := accounts[it.IncomeAccountID]; (a.Class != "Revenue" && a.Class != "Liability") || a.Status != "ACTIVE" {
			t.Errorf("item %s posts to %+v", it.ID, a)
		}
	}
	if len(setup.Accounts) != 19 || len(setup.TaxRates) != 4 || setup.BaseCurrency != "USD" {
		t.Errorf("accounts %d, tax rates %d, base %q", len(setup.Accounts), len(setup.TaxRates), setup.BaseCurrency)
	}
	if setup.Subsidiaries != nil {
		t.Errorf("subsidiaries %v: QuickBooks has none", setup.Subsidiaries)
	}
}

// TestSetupFollowsThePreferences: currencies and tracking come from the
// Preferences switches (§2.3), and lists the company does not use are not
// read.
func TestSetupFollowsThePreferences(t *testing.T) {
	classes := connectors.TrackingCategory{ID: "Class", Name: "Class", Options: []connectors.Option{
		{ID: sandbox.ClassOnline, Name: "Online"}, {ID: sandbox.ClassRetail, Name: "Retail"}, {ID: sandbox.ClassDowntown, Name: "Retail:Downtown"},
	}}
	locations := connectors.TrackingCategory{ID: "Department", Name: "Location", Options: []connectors.Option{
		{ID: sandbox.DepartmentMainStreet, Name: "Main street"}, {ID: sandbox.DepartmentWarehouse, Name: "Warehouse"},
	}}
	stores := locations
	stores.Name = "Store"
	for _, c := range []struct {
		name         string
		change       func(*sandbox.Company)
		currencies   []string
		tracking     []connectors.TrackingCategory
		read, unread []string
	}{
		{
			name:       "multicurrency off",
			change:     func(c *sandbox.Company) { c.MultiCurrencyEnabled = false },
			currencies: []string{"USD"}, tracking: []connectors.TrackingCategory{classes, locations},
			unread: []string{"CompanyCurrency"},
		},
		{
			name: "home currency among the company currencies",
			change: func(c *sandbox.Company) {
				c.Currencies = append([]sandbox.Currency{{Code: "GBP"}, {Code: "USD"}}, c.Currencies...)
			},
			currencies: []string{"USD", "GBP", "EUR"}, tracking: []connectors.TrackingCategory{classes, locations},
			read: []string{"CompanyCurrency"},
		},
		{
			name:       "class tracking off",
			change:     func(c *sandbox.Company) { c.ClassTrackingPerTxnLine = false },
			currencies: []string{"USD", "EUR", "GBP"}, tracking: []connectors.TrackingCategory{locations},
			read: []string{"Department"}, unread: []string{"Class"},
		},
		{
			name:       "classes per transaction",
			change:     func(c *sandbox.Company) { c.ClassTrackingPerTxnLine, c.ClassTrackingPerTxn = false, true },
			currencies: []string{"USD", "EUR", "GBP"}, tracking: []connectors.TrackingCategory{classes, locations},
			read: []string{"Class"},
		},
		{
			name:       "departments off",
			change:     func(c *sandbox.Company) { c.TrackDepartments = false },
			currencies: []string{"USD", "EUR", "GBP"}, tracking: []connectors.TrackingCategory{classes},
			unread: []string{"Department"},
		},
		{
			name: "no tracking and no multicurrency",
			change: func(c *sandbox.Company) {
				c.ClassTrackingPerTxnLine, c.TrackDepartments, c.MultiCurrencyEnabled = false, false, false
			},
			currencies: []string{"USD"}, tracking: nil,
			unread: []string{"Class", "Department", "CompanyCurrency"},
		},
		{
			name:       "departments called stores",
			change:     func(c *sandbox.Company) { c.DepartmentTerminology = "Store" },
			currencies: []string{"USD", "EUR", "GBP"}, tracking: []connectors.TrackingCategory{classes, stores},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			co := sandbox.DefaultCompany()
			c.change(&co)
			f := newFixture(t, sandbox.WithCompany(co))
			f.connect()
			setup, err := f.conn.Setup(f.ctx, f.session)
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			if !reflect.DeepEqual(setup.Currencies, c.currencies) {
				t.Errorf("currencies %v, want %v", setup.Currencies, c.currencies)
			}
			if !reflect.DeepEqual(setup.Tracking, c.tracking) {
				t.Errorf("tracking %+v\nwant %+v", setup.Tracking, c.tracking)
			}
			sent := string(f.rec.last(t, "/batch").reqBody)
			for _, e := range c.read {
				if !strings.Contains(sent, " from "+e+" ") {
					t.Errorf("%s not read: %s", e, sent)
				}
			}
			for _, e := range c.unread {
				if strings.Contains(sent, " from "+e+" ") {
					t.Errorf("%s read although unused: %s", e, sent)
				}
			}
		})
	}
}

// TestSetupReadsOnPastAFullPage: a list with more rows than one page
// (MAXRESULTS ≤ 1000, §2.8) is read on with /query from row 1001.
func TestSetupReadsOnPastAFullPage(t *testing.T) {
	co := sandbox.DefaultCompany()
	co.Items = append(co.Items, sandbox.Item{ID: "900", Name: "Gift wrap category", Type: "Category"})
	for i := range 1100 {
		co.Customers = append(co.Customers, sandbox.Entity{ID: strconv.Itoa(10000 + i), DisplayName: "Customer " + strconv.Itoa(i)})
	}
	f := newFixture(t, sandbox.WithCompany(co))
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	customers := 0
	for _, c := range setup.Contacts {
		if c.Customer {
			customers++
		}
	}
	if customers != 1103 || len(setup.Contacts) != 1105 || setup.Contacts[1102].Name != "Customer 1099" {
		t.Fatalf("%d customers of %d contacts, want 1103 of 1105", customers, len(setup.Contacts))
	}
	more := f.rec.last(t, "/query")
	if !strings.Contains(more.url, "STARTPOSITION+1001+MAXRESULTS+1000") || !strings.Contains(more.url, "from+Customer+where+Active+%3D+true") {
		t.Fatalf("second page read with %s", more.url)
	}
	// A category groups items; a sales line cannot name it.
	for _, it := range setup.Items {
		if it.ID == "900" {
			t.Fatalf("category offered as an item: %+v", it)
		}
	}
}

// cannedBatch sends each request to the sandbox and, for /batch, swaps
// the answer's body for body: the batch faults the sandbox never gives.
type cannedBatch struct {
	next http.RoundTripper
	body string
}

func (c cannedBatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/batch") {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader([]byte(c.body)))
	resp.ContentLength = int64(len(c.body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestSetupBatchFailures(t *testing.T) {
	item := func(bid, code string) string {
		return `{"bId":"` + bid + `","Fault":{"Error":[{"Message":"m","Detail":"detail ` + code + `","code":"` + code + `","element":""}],"type":"ValidationFault"}}`
	}
	for _, c := range []struct {
		name, body string
		class      connectors.Class
		message    string
	}{
		{"query fault", `{"BatchItemResponse":[` + item("1", "4001") + `],"time":"2026-07-15T02:00:00.000-07:00"}`, connectors.Fatal, "read Account"},
		{"throttled item", `{"BatchItemResponse":[` + item("1", "3001") + `],"time":"2026-07-15T02:00:00.000-07:00"}`, connectors.Throttled, "rate limit"},
		{"missing answer", `{"BatchItemResponse":[],"time":"2026-07-15T02:00:00.000-07:00"}`, connectors.Fatal, "no answer for the Account query"},
		{"empty fault", `{"BatchItemResponse":[{"bId":"1","Fault":{"Error":[],"type":"ValidationFault"}}]}`, connectors.Fatal, "empty Fault"},
		{"not JSON", `<html>`, connectors.Fatal, "unreadable QuickBooks batch response"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.connect()
			conn := qbo.New(qbo.WithSandboxBase(f.srv.URL), qbo.WithLogger(slog.New(slog.DiscardHandler)),
				qbo.WithHTTPClient(&http.Client{Transport: cannedBatch{next: f.srv.Client().Transport, body: c.body}}))
			_, err := conn.Setup(f.ctx, f.session)
			var ce *connectors.Error
			if !errors.As(err, &ce) || ce.Class != c.class || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("setup: %v; want %v mentioning %q", err, c.class, c.message)
			}
		})
	}
	t.Run("server error", func(t *testing.T) {
		f := newFixture(t)
		f.connect()
		f.sb.InjectFault(sandbox.Fault{Path: "/batch", Status: http.StatusServiceUnavailable})
		_, err := f.conn.Setup(f.ctx, f.session)
		if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Retryable || !strings.Contains(err.Error(), "batch read") {
			t.Fatalf("setup with a failing batch: %v", err)
		}
		if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
			t.Fatalf("setup after the fault: %v", err)
		}
	})
}
