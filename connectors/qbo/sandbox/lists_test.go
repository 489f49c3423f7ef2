package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

const seededMeta = `"MetaData":{"CreateTime":"2024-01-02T10:00:00-08:00","LastUpdatedTime":"2024-01-02T10:00:00-08:00"}`

// ids queries q and returns the Id of every row of entity, in order.
func (e *env) ids(entity, q string) []string {
	e.t.Helper()
	r := e.query(q)
	var qr struct {
		QueryResponse map[string]json.RawMessage
	}
	if r.status != 200 || json.Unmarshal(r.body, &qr) != nil {
		e.t.Fatalf("%s: %d %s", q, r.status, r)
	}
	var rows []struct {
		ID string `json:"Id"`
	}
	if raw, ok := qr.QueryResponse[entity]; ok {
		if err := json.Unmarshal(raw, &rows); err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
	}
	out := []string{}
	for _, row := range rows {
		out = append(out, row.ID)
	}
	return out
}

func TestNameListsTrackingAndItems(t *testing.T) {
	e := newEnv(t, many).login()
	for _, c := range []struct {
		entity, query string
		want          []string
	}{
		{"Customer", "select * from Customer where Active = true STARTPOSITION 1 MAXRESULTS 1000", []string{"1", "2", "3"}},
		{"Customer", "select * from Customer where Active = false", []string{"4"}},
		{"Customer", "select * from Customer where DisplayName = 'Commerce provider'", []string{"2"}},
		{"Vendor", "select * from Vendor where Active = true", []string{"30", "31"}},
		{"Vendor", "select * from Vendor where DisplayName = 'Commerce provider'", []string{"31"}},
		{"Vendor", "select * from Vendor where Active IN (true, false) ORDERBY DisplayName DESC", []string{"32", "30", "31"}},
		{"Class", "select * from Class where Active = true", []string{"5", "6", "7"}},
		{"Class", "select * from Class where SubClass = true", []string{"7"}},
		{"Class", "select * from Class where FullyQualifiedName LIKE 'Retail%'", []string{"6", "7"}},
		{"Department", "select * from Department where Active = true", []string{"1", "2"}},
		{"Department", "select * from Department where Active = false", []string{"3"}},
		{"Item", "select * from Item where Active = true", []string{"1", "2", "3", "4", "5", "7", "8"}},
		{"Item", "select * from Item where Type = 'Service'", []string{"2", "3", "4", "5", "7", "8"}},
		{"Item", "select * from Item where Active = false", []string{"6"}},
	} {
		if got := e.ids(c.entity, c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: ids %v, want %v", c.query, got, c.want)
		}
	}
	if r := e.query("select count(*) from Customer"); r.String() != `{"QueryResponse":{"totalCount":4},"time":"`+at+`"}` {
		t.Errorf("count: %s", r)
	}

	// Read by id, with the whole entity.
	for path, want := range map[string]string{
		"/customer/2": `{"Customer":{"DisplayName":"Commerce provider","PrintOnCheckName":"Commerce provider","FullyQualifiedName":"Commerce provider","Active":true,"Job":false,` +
			`"CurrencyRef":{"value":"USD","name":"United States Dollar"},"domain":"QBO","sparse":false,"Id":"2","SyncToken":"0",` + seededMeta + `},"time":"` + at + `"}`,
		"/vendor/31": `{"Vendor":{"DisplayName":"Commerce provider","PrintOnCheckName":"Commerce provider","Active":true,` +
			`"CurrencyRef":{"value":"USD","name":"United States Dollar"},"domain":"QBO","sparse":false,"Id":"31","SyncToken":"0",` + seededMeta + `},"time":"` + at + `"}`,
		"/class/7": `{"Class":{"Name":"Downtown","SubClass":true,"ParentRef":{"value":"6"},"FullyQualifiedName":"Retail:Downtown","Active":true,` +
			`"domain":"QBO","sparse":false,"Id":"7","SyncToken":"0",` + seededMeta + `},"time":"` + at + `"}`,
		"/department/3": `{"Department":{"Name":"Airport kiosk","SubDepartment":false,"FullyQualifiedName":"Airport kiosk","Active":false,` +
			`"domain":"QBO","sparse":false,"Id":"3","SyncToken":"0",` + seededMeta + `},"time":"` + at + `"}`,
		"/item/1": `{"Item":{"Name":"Sales","Active":true,"FullyQualifiedName":"Sales","Type":"NonInventory","IncomeAccountRef":{"value":"79","name":"Sales"},` +
			`"domain":"QBO","sparse":false,"Id":"1","SyncToken":"0",` + seededMeta + `},"time":"` + at + `"}`,
	} {
		if r := e.api("GET", path+"?minorversion=75", ""); r.status != 200 || r.String() != want {
			t.Errorf("GET %s: %d\n%s\nwant\n%s", path, r.status, r, want)
		}
	}
	// Customers and vendors are separate lists: 2 is a customer only.
	if r := e.api("GET", "/vendor/2", ""); r.status != 400 || !strings.Contains(r.String(), `"code":"610"`) {
		t.Errorf("vendor 2: %d %s", r.status, r)
	}
	if r := e.query("select * from Item where IncomeAccountRef = '79'"); r.status != 400 || !strings.Contains(r.String(), `"code":"4001"`) {
		t.Errorf("IncomeAccountRef is not a query property: %s", r)
	}
}

// TestDefaultItemsCoverTheIncomeAccounts: every sales line needs an item,
// and the item decides the income account (§2.2), so each Income account of
// the default chart has one, pointing at an account that exists; the
// liabilities a daily invoice carries (tax collected, tips) have one too.
func TestDefaultItemsCoverTheIncomeAccounts(t *testing.T) {
	co := sandbox.DefaultCompany()
	byID := map[string]sandbox.Account{}
	for _, a := range co.Accounts {
		byID[a.ID] = a
	}
	covered := map[string]bool{}
	for _, it := range co.Items {
		a, ok := byID[it.IncomeAccountID]
		if !ok || (a.AccountType != "Income" && a.AccountType != "Other Current Liability") {
			t.Errorf("item %s %q: income account %q is not a seeded Income account", it.ID, it.Name, it.IncomeAccountID)
		}
		if a.Inactive && !it.Inactive {
			t.Errorf("active item %s posts to inactive account %s", it.ID, a.ID)
		}
		covered[a.ID] = true
	}
	for _, a := range co.Accounts {
		if a.AccountType == "Income" && !covered[a.ID] {
			t.Errorf("Income account %s %q has no item", a.ID, a.Name)
		}
	}
	var provider []string
	for _, n := range append(slices.Clone(co.Customers), co.Vendors...) {
		if n.DisplayName == "Commerce provider" {
			provider = append(provider, n.ID)
		}
	}
	if !slices.Equal(provider, []string{sandbox.CustomerCommerceProvider, sandbox.VendorCommerceProvider}) {
		t.Errorf("Commerce provider ids %v, want the customer and the vendor", provider)
	}
}

func TestSeededListsAreOverridable(t *testing.T) {
	c := sandbox.Company{
		RealmID: "123", CompanyName: "Plain",
		Customers: []sandbox.Entity{{DisplayName: "Unnumbered"}},
		Classes: []sandbox.Class{
			{ID: "c", Name: "Leaf", ParentID: "b"}, {ID: "a", Name: "Root"}, {ID: "b", Name: "Branch", ParentID: "a"},
			{ID: "x", Name: "Orphan", ParentID: "missing"}, {ID: "y", Name: "Loop", ParentID: "y"},
		},
		Items: []sandbox.Item{{Name: "Plain"}, {ID: "9", Name: "Group heading", Type: "Category"}},
	}
	e := newEnv(t, sandbox.WithCompany(c), many).login()
	got, _ := e.sb.Company("123")
	if got.Customers[0].ID == "" || got.Items[0].ID == "" || got.Items[0].Type != "Service" || got.DepartmentTerminology != "Location" {
		t.Fatalf("normalised %+v", got)
	}
	got.Items[0].Name = "changed"
	if again, _ := e.sb.Company("123"); again.Items[0].Name != "Plain" {
		t.Fatal("Company returned shared items")
	}
	r := e.apiRealm("123", "GET", "/preferences", "")
	if !strings.Contains(r.String(), `"TrackDepartments":false,"DepartmentTerminology":"Location","ClassTrackingPerTxn":false,"ClassTrackingPerTxnLine":false`) {
		t.Fatalf("a seed without tracking: %s", r)
	}
	for id, want := range map[string]string{
		"c": `"Name":"Leaf","SubClass":true,"ParentRef":{"value":"b"},"FullyQualifiedName":"Root:Branch:Leaf"`,
		"x": `"Name":"Orphan","SubClass":false,"FullyQualifiedName":"Orphan"`,
		// A cycle in a seed ends the walk instead of hanging.
		"y": `"Name":"Loop","SubClass":true,"ParentRef":{"value":"y"}`,
	} {
		if r := e.apiRealm("123", "GET", "/class/"+id, ""); !strings.Contains(r.String(), want) {
			t.Errorf("class %s: %s\nwant %s", id, r, want)
		}
	}
	if r := e.apiRealm("123", "GET", "/item/9", ""); !strings.Contains(r.String(), `"Type":"Category","domain"`) {
		t.Errorf("a category has no income account: %s", r)
	}

	if err := e.sb.UpdateCompany("123", func(c *sandbox.Company) {
		c.ClassTrackingPerTxn, c.TrackDepartments, c.DepartmentTerminology = true, true, "Store"
		c.Departments = []sandbox.Department{{Name: "North"}}
	}); err != nil {
		t.Fatal(err)
	}
	r = e.apiRealm("123", "GET", "/preferences", "")
	if !strings.Contains(r.String(), `"TrackDepartments":true,"DepartmentTerminology":"Store","ClassTrackingPerTxn":true,"ClassTrackingPerTxnLine":false`) {
		t.Fatalf("after the update: %s", r)
	}
	if r := e.apiRealm("123", "GET", "/department/5000", ""); !strings.Contains(r.String(), `"Name":"North"`) {
		t.Fatalf("an unnumbered department: %s", r)
	}
}

func TestBatchQueries(t *testing.T) {
	e := newEnv(t, many).login()
	batch := func(body string, hdr ...string) result {
		t.Helper()
		return e.api("POST", "/batch?minorversion=75", body, hdr...)
	}
	// Each item is answered on its own: a bad query faults its item only.
	r := batch(`{"BatchItemRequest":[{"bId":"a","Query":"select count(*) from Customer"},` +
		`{"bId":"b","Query":"select * from Customer where Color = 'red'"},` +
		`{"bId":"c","operation":"create","JournalEntry":{}},{"bId":"d"}]}`)
	want := `{"BatchItemResponse":[{"bId":"a","QueryResponse":{"totalCount":4}},` +
		`{"bId":"b","Fault":{"Error":[{"Message":"Invalid query","Detail":"QueryValidationError: property 'Color' is not queryable","code":"4001","element":""}],"type":"ValidationFault"}},` +
		`{"bId":"c","Fault":{"Error":[{"Message":"Unsupported Operation","Detail":"Batch operation create JournalEntry is not supported.","code":"500","element":""}],"type":"ValidationFault"}},` +
		`{"bId":"d","Fault":{"Error":[{"Message":"Required param missing, need to supply the required value for the API","Detail":"Required parameter Query is missing in the request","code":"2020","element":"Query"}],"type":"ValidationFault"}}],` +
		`"time":"` + at + `"}`
	if r.status != 200 || r.String() != want {
		t.Fatalf("batch: %d\n%s\nwant\n%s", r.status, r, want)
	}
	r = batch(`{"BatchItemRequest":[{"bId":"1","Query":"select * from Vendor where Active = true"},{"bId":"2","Query":"select * from Item where Id = '3'"}]}`)
	var out struct {
		BatchItemResponse []struct {
			BID           string `json:"bId"`
			QueryResponse struct {
				Vendor []struct{ DisplayName string }
				Item   []struct {
					Name             string
					IncomeAccountRef struct{ Value string }
				}
				StartPosition, MaxResults, TotalCount int
			}
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.BatchItemResponse) != 2 {
		t.Fatalf("batch of queries: %v %s", err, r)
	}
	if v := out.BatchItemResponse[0].QueryResponse; len(v.Vendor) != 2 || v.Vendor[1].DisplayName != "Commerce provider" || v.StartPosition != 1 || v.TotalCount != 2 {
		t.Errorf("vendors in a batch: %+v", v)
	}
	if it := out.BatchItemResponse[1].QueryResponse.Item; len(it) != 1 || it[0].IncomeAccountRef.Value != sandbox.AccountServiceCharges {
		t.Errorf("items in a batch: %+v", it)
	}

	// Whole-batch refusals (§2.4, §2.6 limits; wording not in the reference).
	items := make([]string, sandbox.MaxBatchItems+1)
	for i := range items {
		items[i] = `{"bId":"` + strings.Repeat("x", i+1) + `","Query":"select * from Item"}`
	}
	for name, c := range map[string]struct {
		body, rid, code string
	}{
		"31 items":     {`{"BatchItemRequest":[` + strings.Join(items, ",") + `]}`, "", `"code":"2010","element":"BatchItemRequest"`},
		"no items":     {`{"BatchItemRequest":[]}`, "", `"code":"2020","element":"BatchItemRequest"`},
		"no bId":       {`{"BatchItemRequest":[{"Query":"select * from Item"}]}`, "", `"code":"2020","element":"bId"`},
		"repeated bId": {`{"BatchItemRequest":[{"bId":"1","Query":"select * from Item"},{"bId":"1","Query":"select * from Class"}]}`, "", `"code":"2010","element":"bId"`},
		"not JSON":     {`{"BatchItemRequest":`, "", `"code":"2010"`},
		"long bId":     {`{"BatchItemRequest":[{"bId":"12345678901","Query":"select * from Item"}]}`, "rid-1", `"Detail":"bId: Min:0 Max:10 supported. Supplied length:11","code":"2050"`},
		"long requestid": {`{"BatchItemRequest":[{"bId":"1","Query":"select * from Item"}]}`, strings.Repeat("r", sandbox.MaxBatchRequestIDLen+1),
			`"Detail":"requestid: Min:1 Max:36 supported. Supplied length:37","code":"2050"`},
	} {
		path := "/batch"
		if c.rid != "" {
			path += "?requestid=" + c.rid
		}
		if r := e.api("POST", path, c.body); r.status != 400 || !strings.Contains(r.String(), c.code) || !strings.Contains(r.String(), `"type":"ValidationFault"`) {
			t.Errorf("%s: %d %s", name, r.status, r)
		}
	}
	// Without a requestid a bId may be longer; with one of 36 characters
	// the batch is replayed like any write (§2.4).
	if r := batch(`{"BatchItemRequest":[{"bId":"12345678901","Query":"select * from Item"}]}`); r.status != 200 {
		t.Errorf("long bId without a requestid: %d %s", r.status, r)
	}
	rid := strings.Repeat("r", sandbox.MaxBatchRequestIDLen)
	count := `{"BatchItemRequest":[{"bId":"1","Query":"select count(*) from Customer"}]}`
	first := e.api("POST", "/batch?requestid="+rid, count)
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.Customers = c.Customers[:1] }); err != nil {
		t.Fatal(err)
	}
	if again := e.api("POST", "/batch?requestid="+rid, count); first.status != 200 || again.String() != first.String() || !strings.Contains(first.String(), `"totalCount":4`) {
		t.Errorf("replayed batch: %s then %s", first, again)
	}
}

// TestBatchLimitIsPerRealm: 120 batch calls a minute per realm (§2.6),
// whichever app makes them; other calls still pass.
func TestBatchLimitIsPerRealm(t *testing.T) {
	e := newEnv(t, sandbox.WithClient(sandbox.Client{ID: "app2", Secret: "secret2", RedirectURIs: []string{redirectURI}})).login()
	body := `{"BatchItemRequest":[{"bId":"1","Query":"select count(*) from Item"}]}`
	for i := range 120 {
		if i%10 == 0 {
			e.clock.Advance(time.Second) // under 10 a second
		}
		if r := e.api("POST", "/batch", body); r.status != 200 {
			t.Fatalf("batch %d: %d %s", i+1, r.status, r)
		}
	}
	e.clock.Advance(time.Second)
	if r := e.api("POST", "/batch", body); r.status != 429 || !strings.Contains(r.String(), `"code":"3001"`) {
		t.Fatalf("121st batch: %d %s", r.status, r)
	}
	if r := e.query("select count(*) from Item"); r.status != 200 {
		t.Fatalf("a query after the batch limit: %d %s", r.status, r)
	}
	cfg2 := *e.cfg
	cfg2.ClientID, cfg2.ClientSecret = "app2", "secret2"
	tok2, err := cfg2.Exchange(e.ctx, e.consent(&cfg2, "").Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer " + tok2.AccessToken}, "Content-Type": {"application/json"}}
	if r := e.raw(e.srv.Client(), "POST", e.srv.URL+sandbox.APIPath+realm+"/batch", body, h); r.status != 429 {
		t.Fatalf("another app's batch on the same realm: %d %s", r.status, r)
	}
	e.clock.Advance(time.Minute)
	if r := e.api("POST", "/batch", body); r.status != 200 {
		t.Fatalf("a minute later: %d %s", r.status, r)
	}
}
