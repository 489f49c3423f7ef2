package sage_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/sage"
	"github.com/commercesync/commercesync/connectors/sage/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// tracked is balanced() carrying the given tracking.
func tracked(tr ...*commercesyncv1.DocumentTracking) *commercesyncv1.Document {
	doc := balanced()
	doc.Tracking = tr
	return doc
}

// optionOf is the tracking that picks option from category in setup.
func optionOf(t *testing.T, setup *connectors.Setup, category, option string) *commercesyncv1.DocumentTracking {
	t.Helper()
	for _, c := range setup.Tracking {
		if c.Name != category {
			continue
		}
		for _, o := range c.Options {
			if o.Name == option {
				return &commercesyncv1.DocumentTracking{CategoryId: c.ID, OptionId: o.ID}
			}
		}
	}
	t.Fatalf("setup offers no %s / %s", category, option)
	return nil
}

// A document's tracking, taken from Setup, goes on every journal line as
// analysis_type_categories and is stored with each line.
func TestTrackingOnLines(t *testing.T) {
	f := newFixture(t)
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	retail, london := optionOf(t, setup, "Department", "Retail shop"), optionOf(t, setup, "Cost centre", "London")
	if _, cerr := f.push(tracked(retail, london), ref("CS-TRACKED")); cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	sent := f.rec.last(t, http.MethodPost, "/v3.1/journals")
	if sent.status != http.StatusCreated {
		t.Fatalf("create answered %d %s", sent.status, sent.respBody)
	}
	var body struct {
		Journal struct {
			Lines []map[string]json.RawMessage `json:"journal_lines"`
		} `json:"journal"`
	}
	if err := json.Unmarshal(sent.reqBody, &body); err != nil {
		t.Fatal(err)
	}
	wantSent := `["` + retail.OptionId + `","` + london.OptionId + `"]`
	for i, l := range body.Journal.Lines {
		if string(l["analysis_type_categories"]) != wantSent {
			t.Fatalf("line %d sent analysis_type_categories %s, want %s", i, l["analysis_type_categories"], wantSent)
		}
	}
	js := f.journals()
	if len(js) != 1 || len(js[0].Lines) != 3 {
		t.Fatalf("stored %+v", js)
	}
	want := []sandbox.LineAnalysis{
		{AnalysisTypeID: retail.CategoryId, AnalysisType: "Department", CategoryID: retail.OptionId, Category: "Retail shop"},
		{AnalysisTypeID: london.CategoryId, AnalysisType: "Cost centre", CategoryID: london.OptionId, Category: "London"},
	}
	for i, l := range js[0].Lines {
		if !slices.Equal(l.Analysis, want) {
			t.Fatalf("line %d stored %+v, want %+v", i, l.Analysis, want)
		}
	}
	// Without tracking the lines carry no analysis_type_categories at all.
	if _, cerr := f.push(balanced(), ref("CS-UNTRACKED")); cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	if got := f.rec.last(t, http.MethodPost, "/v3.1/journals"); strings.Contains(string(got.reqBody), "analysis_type_categories") {
		t.Fatalf("untracked journal sent %s", got.reqBody)
	}
}

// Tracking Sage cannot put on a line is refused in the 422 envelope of
// apis.md §3.5 and left to the merchant, who fixes the tracking set-up.
func TestTrackingRefusals(t *testing.T) {
	f := newFixture(t)
	f.connect()
	biz := sandbox.DefaultBusinessID
	// Two more active TRANSACTION types, so a document can name four.
	err := f.sb.UpdateBusiness(biz, func(b *sandbox.Business) {
		b.AnalysisTypes = append(b.AnalysisTypes,
			sandbox.AnalysisType{Name: "Region", Categories: []sandbox.AnalysisTypeCategory{{Name: "North"}}},
			sandbox.AnalysisType{Name: "Channel", Categories: []sandbox.AnalysisTypeCategory{{Name: "Web"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	online, retail := optionOf(t, setup, "Department", "Online store"), optionOf(t, setup, "Department", "Retail shop")
	london := optionOf(t, setup, "Cost centre", "London")
	north, web := optionOf(t, setup, "Region", "North"), optionOf(t, setup, "Channel", "Web")
	// Setup leaves out the deactivated Project and the GROUP-level
	// Customer group; a stale configuration may still name them.
	offered := func(typeName, category string) *commercesyncv1.DocumentTracking {
		id := sandbox.AnalysisTypeID(biz, typeName)
		return &commercesyncv1.DocumentTracking{CategoryId: id, OptionId: sandbox.AnalysisTypeCategoryID(biz, id, category)}
	}
	website, wholesale := offered("Project", "Website relaunch"), offered("Customer group", "Wholesale")
	deleted := &commercesyncv1.DocumentTracking{CategoryId: online.CategoryId, OptionId: "ffffffffffffffffffffffffffffffff"}

	cases := []struct {
		name     string
		tracking []*commercesyncv1.DocumentTracking
		msg      string
	}{
		{"unknown category", []*commercesyncv1.DocumentTracking{deleted}, "The analysis type category ffffffffffffffffffffffffffffffff was not found."},
		{"deactivated type", []*commercesyncv1.DocumentTracking{website}, "The analysis type Project is not active for journals."},
		{"group type", []*commercesyncv1.DocumentTracking{wholesale}, "The analysis type Customer group is a group analysis type and cannot be used on transaction lines."},
		{"two of one type", []*commercesyncv1.DocumentTracking{online, retail}, "A journal line can have only one category of the analysis type Department."},
		{"more than the capability", []*commercesyncv1.DocumentTracking{online, london, north, web}, "A journal line can have at most 3 analysis type categories."},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cerr := f.push(tracked(c.tracking...), ref("CS-TRACK-"+string(rune('A'+i))))
			got := f.rec.last(t, http.MethodPost, "/v3.1/journals")
			raw := `[{"$severity":"error","$dataCode":"RecordInvalid","$message":"` + c.msg + `","$source":"journal_lines.analysis_type_categories"}]`
			if got.status != http.StatusUnprocessableEntity || string(got.respBody) != raw {
				t.Fatalf("sandbox answered %d %s\nwant        422 %s", got.status, got.respBody, raw)
			}
			if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != http.StatusUnprocessableEntity ||
				cerr.Field != "journal_lines.analysis_type_categories" || cerr.Message != c.msg {
				t.Fatalf("classified %+v, want merchant-actionable 422 on journal_lines.analysis_type_categories: %q", cerr, c.msg)
			}
		})
	}
	if n := len(f.journals()); n != 0 {
		t.Fatalf("%d journals stored from refused pushes", n)
	}
}

// An option without an id is the planner's bug: nothing is sent.
func TestTrackingWithoutOptionIsFatal(t *testing.T) {
	f := newFixture(t)
	f.connect()
	_, cerr := f.push(tracked(&commercesyncv1.DocumentTracking{CategoryId: "dept"}), ref("CS-NO-OPTION"))
	if cerr == nil || cerr.Class != connectors.Fatal || cerr.Field != "Tracking[0].OptionId" {
		t.Fatalf("tracking without an option id: %v, want fatal on Tracking[0].OptionId", cerr)
	}
	if n := f.rec.count(http.MethodPost, "/v3.1/journals"); n != 0 {
		t.Fatalf("%d journals sent", n)
	}
}

// The sandbox refuses lines beyond what the connector says a line takes.
func TestSandboxLineLimitIsTheCapability(t *testing.T) {
	if got, want := sandbox.DefaultRules().MaxAnalysisTypesPerLine, sage.New().Capabilities().TrackingDimensions; got != want {
		t.Fatalf("sandbox allows %d analysis type categories a line, the connector says %d", got, want)
	}
}
