package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

// envelope is the paging envelope of apis.md §3.7.
type envelope struct {
	Total   int               `json:"$total"`
	Page    int               `json:"$page"`
	Next    *string           `json:"$next"`
	Back    *string           `json:"$back"`
	PerPage int               `json:"$itemsPerPage"`
	Items   []json.RawMessage `json:"$items"`
}

func (e *env) page(path string, hdr ...string) envelope {
	e.t.Helper()
	r := e.api(http.MethodGet, path, "", hdr...)
	var pg envelope
	if err := json.Unmarshal([]byte(r.body), &pg); err != nil || r.status != 200 {
		e.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return pg
}

// all follows $next from path and returns every item with the envelopes
// seen.
func (e *env) all(path string, hdr ...string) ([]json.RawMessage, []envelope) {
	e.t.Helper()
	var items []json.RawMessage
	var pages []envelope
	for next := &path; next != nil; {
		if len(pages) > 50 {
			e.t.Fatalf("paging from %s does not end", path)
		}
		pg := e.page(*next, hdr...)
		pages = append(pages, pg)
		items = append(items, pg.Items...)
		next = pg.Next
	}
	return items, pages
}

func TestContacts(t *testing.T) {
	e := newEnv(t)
	id := sandbox.ContactID(sandbox.DefaultBusinessID, "Commerce provider")
	full := `{"id":"` + id + `","displayed_as":"Commerce provider (COMMERCE)","$path":"/contacts/` + id + `",` +
		`"created_at":"2024-04-01T09:00:00Z","updated_at":"2024-04-01T09:00:00Z","contact_types":[` +
		`{"id":"CUSTOMER","displayed_as":"Customer","$path":"/contact_types/CUSTOMER"},` +
		`{"id":"VENDOR","displayed_as":"Supplier","$path":"/contact_types/VENDOR"}],` +
		`"name":"Commerce provider","reference":"COMMERCE","deletable":true,"system":false,"is_active":true}`
	// Lists show the base attributes unless asked (spec "attributes").
	e.expect(e.api(http.MethodGet, "/contacts", ""), 200, `{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[`+
		`{"id":"`+id+`","displayed_as":"Commerce provider (COMMERCE)","$path":"/contacts/`+id+`"}]}`)
	e.expect(e.api(http.MethodGet, "/contacts?attributes=all", ""), 200, `{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[`+full+`]}`)
	e.expect(e.api(http.MethodGet, "/contacts/"+id, ""), 200, full)
	e.expect(e.api(http.MethodGet, "/contacts/nope", ""), 404, `[{"$severity":"error","$message":"Contact not found","$dataCode":"ResourceNotFound"}]`)
	if r := e.api(http.MethodDelete, "/contacts/"+id, ""); r.status != 405 {
		t.Fatalf("DELETE contact: %d %s", r.status, r.body)
	}
}

func TestContactsPagingAndFilters(t *testing.T) {
	biz := sandbox.Business{ID: "2d40342d0287cd6b13555c54afca6c92", Name: "Many contacts"}
	for i := range 45 {
		c := sandbox.Contact{Name: fmt.Sprintf("Contact %02d", i), Types: []string{sandbox.ContactTypeVendor}}
		switch {
		case i%3 == 0:
			c.Types = nil // a seed without a type is a customer
		case i%3 == 1:
			c.Types = []string{sandbox.ContactTypeCustomer, sandbox.ContactTypeVendor}
		}
		c.System = i == 44
		c.Inactive = i == 43
		biz.Contacts = append(biz.Contacts, c)
	}
	e := newEnv(t, sandbox.WithBusiness(biz))
	hdr := []string{"X-Business", biz.ID}

	items, pages := e.all("/contacts?items_per_page=20&attributes=name,contact_types,system,is_active", hdr...)
	if len(items) != 45 || len(pages) != 3 {
		t.Fatalf("%d contacts on %d pages, want 45 on 3", len(items), len(pages))
	}
	if p := pages[0]; p.Total != 45 || p.Page != 1 || p.PerPage != 20 || p.Back != nil ||
		*p.Next != "/contacts?attributes=name%2Ccontact_types%2Csystem%2Cis_active&items_per_page=20&page=2" {
		t.Fatalf("page 1 envelope %+v next %v", p, *p.Next)
	}
	if p := pages[2]; p.Page != 3 || len(p.Items) != 5 || p.Next != nil ||
		*p.Back != "/contacts?attributes=name%2Ccontact_types%2Csystem%2Cis_active&items_per_page=20&page=2" {
		t.Fatalf("page 3 envelope %+v", p)
	}
	var first, last struct {
		Name         string `json:"name"`
		ContactTypes []struct {
			ID string `json:"id"`
		} `json:"contact_types"`
		System   bool `json:"system"`
		IsActive bool `json:"is_active"`
	}
	if err := json.Unmarshal(items[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(items[44], &last); err != nil {
		t.Fatal(err)
	}
	if first.Name != "Contact 00" || len(first.ContactTypes) != 1 || first.ContactTypes[0].ID != "CUSTOMER" || first.System || !first.IsActive {
		t.Fatalf("first contact %s", items[0])
	}
	if !last.System || !strings.Contains(string(items[43]), `"is_active":false`) {
		t.Fatalf("system %s, inactive %s", items[44], items[43])
	}

	// Customers are i%3 in {0,1} (30), vendors i%3 in {1,2} (30).
	if pg := e.page("/contacts?contact_type_id=CUSTOMER", hdr...); pg.Total != 30 {
		t.Fatalf("customers: %d", pg.Total)
	}
	if pg := e.page("/contacts?contact_type_id=VENDOR&items_per_page=200", hdr...); pg.Total != 30 || len(pg.Items) != 30 {
		t.Fatalf("vendors: %d", pg.Total)
	}
	if pg := e.page("/contacts?exclude_system=true", hdr...); pg.Total != 44 {
		t.Fatalf("exclude_system: %d", pg.Total)
	}
	if pg := e.page("/contacts?search=contact%200", hdr...); pg.Total != 10 {
		t.Fatalf("search: %d", pg.Total)
	}
	e.expect(e.api(http.MethodGet, "/contacts?exclude_system=maybe", "", hdr...), 422,
		`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is not a valid boolean.","$source":"exclude_system"}]`)
	// The seed the caller passed is not rewritten by the sandbox.
	if biz.Contacts[0].ID != "" || biz.Contacts[0].Types != nil {
		t.Fatalf("seed changed: %+v", biz.Contacts[0])
	}
	got, _ := e.sb.Business(biz.ID)
	if got.Contacts[0].ID != sandbox.ContactID(biz.ID, "Contact 00") {
		t.Fatalf("contact id %q", got.Contacts[0].ID)
	}
}
