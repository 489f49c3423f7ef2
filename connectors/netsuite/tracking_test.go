package netsuite_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// withInactiveClass is the default account plus class 7, inactive.
func withInactiveClass() sandbox.Company {
	c := sandbox.DefaultCompany()
	c.Classes = append(c.Classes, sandbox.Segment{ID: "7", Name: "Wholesale", Inactive: true})
	return c
}

// offered is the tracking Setup offers as the document's: one option of
// each category, by the ids Setup gave.
func offered(t *testing.T, setup *connectors.Setup) []*commercesyncv1.DocumentTracking {
	t.Helper()
	var out []*commercesyncv1.DocumentTracking
	for _, tc := range setup.Tracking {
		if len(tc.Options) != 1 {
			t.Fatalf("category %s offers %+v, want only the active record", tc.ID, tc.Options)
		}
		out = append(out, &commercesyncv1.DocumentTracking{CategoryId: tc.ID, OptionId: tc.Options[0].ID})
	}
	if len(out) != 3 {
		t.Fatalf("setup offers %+v, want class, department and location", setup.Tracking)
	}
	return out
}

func TestTrackingOnLines(t *testing.T) {
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(withInactiveClass())}})
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	doc := balanced()
	doc.Tracking = offered(t, setup)
	r := ref("CS-TRACKED")
	first, cerr := f.push(doc, r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	// Every line carries the three segments, in §4.2's field order.
	segs := `"department":{"id":"5"},"class":{"id":"3"},"location":{"id":"2"}`
	wantBody := `{"subsidiary":{"id":"1"},"currency":{"id":"1"},"exchangeRate":1.0,"tranDate":"2026-07-14",` +
		`"memo":"Daily sales summary 2026-07-14 USD [CS-TRACKED]","line":{"items":[` +
		`{"account":{"id":"58"},"debit":108.50,"memo":"line 58",` + segs + `},` +
		`{"account":{"id":"4"},"credit":100.00,"memo":"line 4",` + segs + `},` +
		`{"account":{"id":"61"},"credit":8.50,"memo":"line 61",` + segs + `}]}}`
	put := f.rec.last()
	if put.method != http.MethodPut || string(put.reqBody) != wantBody || put.status != http.StatusNoContent {
		t.Fatalf("request %s %s → %d\n%s\nwant %s", put.method, put.url, put.status, put.reqBody, wantBody)
	}
	js := f.journals()
	if len(js) != 1 || len(js[0].Lines) != 3 {
		t.Fatalf("stored %+v", js)
	}
	for i, l := range js[0].Lines {
		if l.Department != sandbox.DepartmentRetail || l.Class != sandbox.ClassStore || l.Location != sandbox.LocationMain {
			t.Fatalf("line %d stored %+v", i, l)
		}
	}

	// Pushed again: the same bytes, the same record, the lines replaced.
	again, cerr := f.push(doc, r)
	if cerr != nil || again.ExternalID != first.ExternalID || string(f.rec.last().reqBody) != wantBody {
		t.Fatalf("re-push: %+v %v\n%s", again, cerr, f.rec.last().reqBody)
	}
	if js = f.journals(); len(js) != 1 || len(js[0].Lines) != 3 || js[0].Updates != 1 {
		t.Fatalf("after re-push: %d journals, %+v", len(js), js)
	}
	// A changed tracking replaces what the lines carried, as any line
	// change does (?replace=line).
	doc.Tracking = doc.Tracking[1:]
	if _, cerr := f.push(doc, r); cerr != nil {
		t.Fatalf("re-push with less tracking: %v", cerr)
	}
	if js = f.journals(); len(js) != 1 || len(js[0].Lines) != 3 {
		t.Fatalf("after the change: %+v", js)
	}
	for i, l := range js[0].Lines {
		if l.Class != "" || l.Department != sandbox.DepartmentRetail || l.Location != sandbox.LocationMain {
			t.Fatalf("line %d after the change: %+v", i, l)
		}
	}
}

func TestInactiveTrackingIsTheMerchants(t *testing.T) {
	const detail = "Error while accessing a resource. You have entered an Invalid Field Value 7 for the following field: class."
	f := newFixture(t, options{sandbox: []sandbox.Option{sandbox.WithCompany(withInactiveClass())}})
	f.connect()
	doc := balanced()
	doc.Tracking = []*commercesyncv1.DocumentTracking{{CategoryId: "class", OptionId: "7"}}
	_, cerr := f.push(doc, ref("CS-INACTIVE-CLASS"))
	x := f.rec.last()
	want := `{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1","title":"Bad Request","status":400,` +
		`"o:errorDetails":[{"detail":"` + detail + `","o:errorCode":"USER_ERROR","o:errorPath":"line.items[0].class"}]}`
	if x.method != http.MethodPut || x.status != http.StatusBadRequest || string(x.body) != want {
		t.Fatalf("raw answer %d\n%s\nwant\n%s", x.status, x.body, want)
	}
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != 400 || cerr.Field != "line.items[0].class" || cerr.Message != detail {
		t.Fatalf("classified %+v, want merchant-actionable at line.items[0].class", cerr)
	}

	// A class of an account whose Classes feature was turned off is
	// refused the same way.
	if err := f.sb.UpdateCompany(account, func(c *sandbox.Company) { c.Disabled = []string{"classification"} }); err != nil {
		t.Fatal(err)
	}
	doc.Tracking[0].OptionId = sandbox.ClassStore
	if _, cerr := f.push(doc, ref("CS-CLASSES-OFF")); cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "line.items[0].class" ||
		!strings.Contains(cerr.Message, "Invalid Field Value 3 for the following field: class") {
		t.Fatalf("classes turned off: %+v", cerr)
	}
	if n := len(f.journals()); n != 0 {
		t.Fatalf("%d journals stored", n)
	}
}

// Tracking Setup never offers is the planner's bug, refused before
// anything is sent.
func TestMalformedTrackingIsFatal(t *testing.T) {
	f := newFixture(t, options{})
	f.connect()
	tr := func(pairs ...string) []*commercesyncv1.DocumentTracking {
		var out []*commercesyncv1.DocumentTracking
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, &commercesyncv1.DocumentTracking{CategoryId: pairs[i], OptionId: pairs[i+1]})
		}
		return out
	}
	cases := map[string]struct {
		tracking []*commercesyncv1.DocumentTracking
		field    string
	}{
		"record type, not line field": {tr("classification", "3"), "Tracking[0].CategoryId"},
		"category twice":              {tr("location", "2", "location", "2"), "Tracking[1].CategoryId"},
		"no option":                   {tr("department", ""), "Tracking[0].OptionId"},
	}
	before := len(f.rec.all())
	for name, c := range cases {
		doc := balanced()
		doc.Tracking = c.tracking
		if _, cerr := f.push(doc, ref("CS-BAD-TRACKING")); cerr == nil || cerr.Class != connectors.Fatal || cerr.Field != c.field {
			t.Errorf("%s: %+v, want fatal at %s", name, cerr, c.field)
		}
	}
	for _, x := range f.rec.all()[before:] {
		if x.method == http.MethodPut {
			t.Fatalf("a journal was sent: %s", x.reqBody)
		}
	}
}
