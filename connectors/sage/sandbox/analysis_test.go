package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
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

// analysedJournal is a postJournals body whose two lines both carry cats.
func analysedJournal(cats ...string) string {
	ids, _ := json.Marshal(cats)
	return `{"journal":{"date":"2026-07-14","reference":"R","journal_lines":[` +
		`{"ledger_account_id":"` + card + `","debit":5,"credit":0,"analysis_type_categories":` + string(ids) + `},` +
		`{"ledger_account_id":"` + sales + `","debit":0,"credit":5,"analysis_type_categories":` + string(ids) + `}]}}`
}

// Journal lines carry analysis type categories (apis.md §3.3): stored,
// answered as AnalysisTypeLineItem, and refused when the business cannot
// take them on a line.
func TestJournalLineAnalysis(t *testing.T) {
	biz := sandbox.DefaultBusinessID
	dept, cost := sandbox.AnalysisTypeID(biz, "Department"), sandbox.AnalysisTypeID(biz, "Cost centre")
	project, group := sandbox.AnalysisTypeID(biz, "Project"), sandbox.AnalysisTypeID(biz, "Customer group")
	online := sandbox.AnalysisTypeCategoryID(biz, dept, "Online store")
	retail := sandbox.AnalysisTypeCategoryID(biz, dept, "Retail shop")
	london := sandbox.AnalysisTypeCategoryID(biz, cost, "London")
	website := sandbox.AnalysisTypeCategoryID(biz, project, "Website relaunch")
	wholesale := sandbox.AnalysisTypeCategoryID(biz, group, "Wholesale")
	// Two more active TRANSACTION types, so a line can name four types.
	four := sandbox.DefaultBusiness()
	four.AnalysisTypes = append(four.AnalysisTypes,
		sandbox.AnalysisType{ID: "AT-REGION", Name: "Region", Categories: []sandbox.AnalysisTypeCategory{{ID: "C-NORTH", Name: "North"}}},
		sandbox.AnalysisType{ID: "AT-CHANNEL", Name: "Channel", Categories: []sandbox.AnalysisTypeCategory{{ID: "C-WEB", Name: "Web"}}})
	e := newEnv(t, sandbox.WithBusiness(four))

	r := e.api(http.MethodPost, "/journals", analysedJournal(retail, london))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	item := func(id, name, typeID, typeName string) string {
		return `{"id":"` + id + `","displayed_as":"` + name + `","$path":"/analysis_type_categories/` + id + `",` +
			`"analysis_type":{"id":"` + typeID + `","displayed_as":"` + typeName + `","$path":"/analysis_types/` + typeID + `"}}`
	}
	want := `"analysis_type_categories":[` + item(retail, "Retail shop", dept, "Department") + `,` + item(london, "London", cost, "Cost centre") + `]`
	if n := strings.Count(r.body, want); n != 2 {
		t.Fatalf("%d lines answered with %s:\n%s", n, want, r.body)
	}
	js := e.sb.Journals(biz)
	if len(js) != 1 {
		t.Fatalf("%d journals", len(js))
	}
	wantStored := []sandbox.LineAnalysis{
		{AnalysisTypeID: dept, AnalysisType: "Department", CategoryID: retail, Category: "Retail shop"},
		{AnalysisTypeID: cost, AnalysisType: "Cost centre", CategoryID: london, Category: "London"},
	}
	for i, l := range js[0].Lines {
		if !slices.Equal(l.Analysis, wantStored) {
			t.Fatalf("line %d stored %+v, want %+v", i, l.Analysis, wantStored)
		}
	}
	if g := e.api(http.MethodGet, "/journals/"+js[0].ID, ""); g.status != 200 || strings.Count(g.body, want) != 2 {
		t.Fatalf("read back: %d %s", g.status, g.body)
	}
	// What a test reads back is a copy.
	js[0].Lines[0].Analysis[0].Category = "changed"
	if got := e.sb.Journals(biz)[0].Lines[0].Analysis[0].Category; got != "Retail shop" {
		t.Fatalf("stored category changed through a copy: %q", got)
	}

	refused := func(msg string) string {
		return `{"$severity":"error","$dataCode":"RecordInvalid","$message":"` + msg + `","$source":"journal_lines.analysis_type_categories"}`
	}
	cases := []struct {
		name string
		cats []string
		want string
	}{
		{"unknown", []string{"ffffffffffffffffffffffffffffffff"},
			refused("The analysis type category ffffffffffffffffffffffffffffffff was not found.")},
		{"deactivated type", []string{website}, refused("The analysis type Project is not active for journals.")},
		{"group type", []string{wholesale}, refused("The analysis type Customer group is a group analysis type and cannot be used on transaction lines.")},
		{"two of one type", []string{online, retail}, refused("A journal line can have only one category of the analysis type Department.")},
		{"one twice", []string{london, london}, refused("A journal line can have only one category of the analysis type Cost centre.")},
		{"more than three", []string{online, london, "C-NORTH", "C-WEB"}, refused("A journal line can have at most 3 analysis type categories.")},
		{"every problem at once", []string{website, wholesale, "nope", online, retail},
			refused("A journal line can have at most 3 analysis type categories.") + `,` +
				refused("The analysis type Project is not active for journals.") + `,` +
				refused("The analysis type Customer group is a group analysis type and cannot be used on transaction lines.") + `,` +
				refused("The analysis type category nope was not found.") + `,` +
				refused("A journal line can have only one category of the analysis type Department.")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.expect(e.api(http.MethodPost, "/journals", analysedJournal(c.cats...)), 422, `[`+c.want+`]`)
		})
	}
	if n := len(e.sb.Journals(biz)); n != 1 {
		t.Fatalf("%d journals stored, want only the first", n)
	}

	// The messages and the limit are the sandbox's (Rules).
	custom := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) {
		r.MaxAnalysisTypesPerLine = 1
		r.Messages.TooManyAnalysisTypes = "max {max}"
		r.Messages.UnknownAnalysisCategory = "no {analysis_type_category}"
	}))
	custom.expect(custom.api(http.MethodPost, "/journals", analysedJournal(retail, "x")), 422, `[`+refused("max 1")+`,`+refused("no x")+`]`)
	off := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.MaxAnalysisTypesPerLine = 0 }), sandbox.WithBusiness(four))
	if r := off.api(http.MethodPost, "/journals", analysedJournal(online, london, "C-NORTH", "C-WEB")); r.status != 201 {
		t.Fatalf("four types with the limit off: %d %s", r.status, r.body)
	}
}

// A Start business has no analysis types: every category is unknown.
func TestJournalLineAnalysisOnStartTier(t *testing.T) {
	start := sandbox.DefaultBusiness()
	start.StartTier = true
	e := newEnv(t, sandbox.WithBusiness(start))
	dept := sandbox.AnalysisTypeID(start.ID, "Department")
	online := sandbox.AnalysisTypeCategoryID(start.ID, dept, "Online store")
	e.expect(e.api(http.MethodPost, "/journals", analysedJournal(online)), 422,
		`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The analysis type category `+online+` was not found.","$source":"journal_lines.analysis_type_categories"}]`)
}
