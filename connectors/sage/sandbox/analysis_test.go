package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

func TestAnalysisTypes(t *testing.T) {
	e := newEnv(t)
	biz := sandbox.DefaultBusinessID
	dept := sandbox.AnalysisTypeID(biz, "Department")
	online := sandbox.AnalysisTypeCategoryID(biz, dept, "Online store")
	retail := sandbox.AnalysisTypeCategoryID(biz, dept, "Retail shop")
	ref := `{"id":"` + dept + `","displayed_as":"Department","$path":"/analysis_types/` + dept + `"}`
	category := func(id, code, name string) string {
		return `{"id":"` + id + `","displayed_as":"` + name + `","$path":"/analysis_type_categories/` + id + `",` +
			`"created_at":"2024-04-01T09:00:00Z","updated_at":"2024-04-01T09:00:00Z",` +
			`"code":"` + code + `","name":"` + name + `","combined_id":null,"analysis_type":` + ref + `}`
	}
	fullDept := `{"id":"` + dept + `","displayed_as":"Department","$path":"/analysis_types/` + dept + `",` +
		`"created_at":"2024-04-01T09:00:00Z","updated_at":"2024-04-01T09:00:00Z",` +
		`"active_areas":["sales","purchases","banking","journals"],"analysis_type_level":["TRANSACTION"],` +
		`"analysis_type_categories":[` + category(online, "ONLINE", "Online store") + `,` + category(retail, "RETAIL", "Retail shop") + `],` +
		`"name":"Department"}`
	e.expect(e.api(http.MethodGet, "/analysis_types/"+dept, ""), 200, fullDept)
	e.expect(e.api(http.MethodGet, "/analysis_types?search=depart&attributes=all", ""), 200,
		`{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[`+fullDept+`]}`)
	e.expect(e.api(http.MethodGet, "/analysis_type_categories/"+online, ""), 200, category(online, "ONLINE", "Online store"))

	// Three TRANSACTION types (one deactivated: no active areas) and one
	// GROUP type; base attributes unless asked.
	if pg := e.page("/analysis_types"); pg.Total != 4 || len(pg.Items) != 4 || string(pg.Items[0]) != ref {
		t.Fatalf("all types: %+v", pg)
	}
	pg := e.page("/analysis_types?analysis_type_level=TRANSACTION&attributes=name,active_areas")
	if pg.Total != 3 {
		t.Fatalf("transaction types: %d", pg.Total)
	}
	project := sandbox.AnalysisTypeID(biz, "Project")
	if want := `{"id":"` + project + `","displayed_as":"Project","$path":"/analysis_types/` + project + `","active_areas":[],"name":"Project"}`; string(pg.Items[2]) != want {
		t.Fatalf("deactivated type %s\nwant %s", pg.Items[2], want)
	}
	if pg := e.page("/analysis_types?analysis_type_level=GROUP"); pg.Total != 1 {
		t.Fatalf("group types: %d", pg.Total)
	}
	e.expect(e.api(http.MethodGet, "/analysis_types?analysis_type_level=LINE", ""), 422,
		`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is not valid.","$source":"analysis_type_level"}]`)
	e.expect(e.api(http.MethodGet, "/analysis_types/nope", ""), 404,
		`[{"$severity":"error","$message":"Analysis type not found","$dataCode":"ResourceNotFound"}]`)
	e.expect(e.api(http.MethodGet, "/analysis_type_categories/nope", ""), 404,
		`[{"$severity":"error","$message":"Analysis type category not found","$dataCode":"ResourceNotFound"}]`)

	// Categories are paged in type order: 2 + 2 + 1 TRANSACTION, 1 GROUP.
	items, pages := e.all("/analysis_type_categories?items_per_page=2&attributes=name,analysis_type")
	if len(items) != 6 || len(pages) != 3 || pages[0].Total != 6 || pages[0].PerPage != 2 ||
		*pages[0].Next != "/analysis_type_categories?attributes=name%2Canalysis_type&items_per_page=2&page=2" || pages[2].Next != nil {
		t.Fatalf("%d categories on %d pages: %+v", len(items), len(pages), pages[0])
	}
	var c struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		AnalysisType struct {
			ID string `json:"id"`
		} `json:"analysis_type"`
	}
	if err := json.Unmarshal(items[1], &c); err != nil || c.ID != retail || c.Name != "Retail shop" || c.AnalysisType.ID != dept {
		t.Fatalf("second category %s", items[1])
	}
	if pg := e.page("/analysis_type_categories?analysis_type_level=TRANSACTION"); pg.Total != 5 {
		t.Fatalf("transaction categories: %d", pg.Total)
	}
	if r := e.api(http.MethodPost, "/analysis_types", `{}`); r.status != 405 {
		t.Fatalf("POST analysis_types: %d", r.status)
	}
}

// Seeds are the caller's: explicit ids are kept, and a Start business has
// no analysis types (spec getAnalysisTypes "Endpoint Availability").
func TestAnalysisTypesSeededAndStartTier(t *testing.T) {
	plus := sandbox.Business{ID: "3d40342d0287cd6b13555c54afca6c93", Name: "Plus",
		AnalysisTypes: []sandbox.AnalysisType{{ID: "AT1", Name: "Channel", Categories: []sandbox.AnalysisTypeCategory{{ID: "C1", Name: "Web"}}}}}
	start := sandbox.DefaultBusiness()
	start.ID, start.Name, start.StartTier = "4d40342d0287cd6b13555c54afca6c94", "Start", true
	e := newEnv(t, sandbox.WithBusiness(plus), sandbox.WithBusiness(start))

	e.expect(e.api(http.MethodGet, "/analysis_type_categories?attributes=code,analysis_type", "", "X-Business", plus.ID), 200,
		`{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[`+
			`{"id":"C1","displayed_as":"Web","$path":"/analysis_type_categories/C1","code":null,`+
			`"analysis_type":{"id":"AT1","displayed_as":"Channel","$path":"/analysis_types/AT1"}}]}`)
	for _, path := range []string{"/analysis_types", "/analysis_type_categories", "/analysis_types/x", "/analysis_type_categories/x"} {
		e.expect(e.api(http.MethodGet, path, "", "X-Business", start.ID), 404,
			`[{"$severity":"error","$message":"Resource not found","$dataCode":"ResourceNotFound"}]`)
	}
	// Contacts and exchange rates are on every tier.
	if pg := e.page("/contacts", "X-Business", start.ID); pg.Total != 1 {
		t.Fatalf("start contacts: %d", pg.Total)
	}
}
