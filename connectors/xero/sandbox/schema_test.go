package sandbox_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/commercesync/commercesync/connectors/xero/sandbox"
)

// TestBodiesAreValidatedAgainstTheSpec sends bodies that break the
// official ManualJournals schema in one way each: every one is refused
// with Xero's 400 PostDataInvalidException naming the field, nothing is
// stored, and the refusal is remembered under the idempotency key like
// any other answer (accounting-platform-apis.md §1.4).
func TestBodiesAreValidatedAgainstTheSpec(t *testing.T) {
	e := newEnv(t).login()
	line := func(s string) string {
		return `{"ManualJournals":[{"Narration":"n","Date":"2026-07-14","JournalLines":[` + s + `,{"LineAmount":-1,"AccountCode":"200"}]}]}`
	}
	cases := map[string]struct{ body, want string }{
		"amount as a string": {line(`{"LineAmount":"1.00","AccountCode":"610"}`),
			"value must be a number. Path 'ManualJournals[0].JournalLines[0].LineAmount'."},
		"account id not a uuid": {line(`{"LineAmount":1,"AccountID":"610"}`),
			"the value is not a valid uuid. Path 'ManualJournals[0].JournalLines[0].AccountID'."},
		"unknown status": {strings.Replace(goodJournal, `"POSTED"`, `"POST"`, 1),
			"value is not one of the allowed values [\"DRAFT\",\"POSTED\",\"DELETED\",\"VOIDED\",\"ARCHIVED\"]. Path 'ManualJournals[0].Status'."},
		"unknown line amount type": {strings.Replace(goodJournal, `"Status"`, `"LineAmountTypes":"Gross","Status"`, 1),
			"Path 'ManualJournals[0].LineAmountTypes'."},
		"lines not an array": {`{"ManualJournals":[{"Narration":"n","JournalLines":{"LineAmount":1}}]}`,
			"value must be an array. Path 'ManualJournals[0].JournalLines'."},
		"journals not an array": {`{"ManualJournals":{"Narration":"n"}}`,
			"value must be an array. Path 'ManualJournals'."},
		"read-only field": {strings.Replace(goodJournal, `"Status"`, `"HasAttachments":true,"Status"`, 1),
			`readOnly property "HasAttachments" in request. Path 'ManualJournals[0].HasAttachments'.`},
		"narration not a string": {`{"ManualJournals":[{"Narration":7}]}`,
			"value must be a string. Path 'ManualJournals[0].Narration'."},
		"not json":   {`{"ManualJournals":[`, "failed to decode request body"},
		"empty body": {``, "request body has an error"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, method := range []string{"PUT", "POST"} {
				r := e.api(method, "/ManualJournals", c.body, "Idempotency-Key", method+name)
				var xe struct {
					ErrorNumber   int
					Type, Message string
				}
				if err := json.Unmarshal(r.body, &xe); err != nil || r.status != 400 || xe.ErrorNumber != 14 || xe.Type != "PostDataInvalidException" {
					t.Fatalf("%s: %d %s", method, r.status, r.body)
				}
				if !strings.HasPrefix(xe.Message, "JSON request body could not be read, ") || !strings.Contains(xe.Message, c.want) {
					t.Fatalf("%s message %q, want it to contain %q", method, xe.Message, c.want)
				}
				again := e.api(method, "/ManualJournals", c.body, "Idempotency-Key", method+name)
				if again.status != 400 || string(again.body) != string(r.body) {
					t.Fatalf("%s replay: %d %s", method, again.status, again.body)
				}
			}
			if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 0 {
				t.Fatalf("%d journals stored from invalid bodies", n)
			}
		})
	}
	// Every problem of a body is reported, not only the first.
	r := e.api("PUT", "/ManualJournals", `{"ManualJournals":[{"Narration":"n","Status":"X","JournalLines":[{"LineAmount":"1"},{"LineAmount":true}]}]}`)
	for _, p := range []string{"ManualJournals[0].Status", "ManualJournals[0].JournalLines[0].LineAmount", "ManualJournals[0].JournalLines[1].LineAmount"} {
		if !strings.Contains(string(r.body), p) {
			t.Errorf("the answer does not name %s: %s", p, r.body)
		}
	}
}

// TestValidBodiesPassTheSchemaGate: the spec's own request example, an
// update-or-create POST and a body with every writable field reach the
// route.
func TestValidBodiesPassTheSchemaGate(t *testing.T) {
	e := newEnv(t).login()
	full := `{"ManualJournals":[{"Narration":"All fields [ref-2]","Date":"2026-07-14","Status":"DRAFT","LineAmountTypes":"NoTax",` +
		`"Url":"https://merchant.example/day","ShowOnCashBasisReports":false,"JournalLines":[` +
		`{"LineAmount":12.5,"AccountID":"` + accountID(t, e, "610") + `","Description":"d","TaxType":"NONE","Tracking":[]},` +
		`{"LineAmount":-12.50,"AccountCode":"200","IsBlank":false}]}]}`
	for _, body := range []string{goodJournal, full} {
		for _, method := range []string{"PUT", "POST"} {
			if r := e.api(method, "/ManualJournals", body); r.status != 200 {
				t.Fatalf("%s %s: %d %s", method, body, r.status, r.body)
			}
		}
	}
	if n := len(e.sb.ManualJournals(sandbox.DefaultTenantID)); n != 4 {
		t.Fatalf("%d journals, want 4", n)
	}
}

// TestRequiredPropertiesAreCheckedByTheRoute pins the one thing the schema
// gate leaves to the route: missing required properties. If the spec makes
// another ManualJournals property required, this test names it so the
// route learns to check it.
func TestRequiredPropertiesAreCheckedByTheRoute(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(sandbox.AccountingSpec())
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(path string, s *openapi3.Schema)
	walk = func(path string, s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for _, r := range s.Required {
			required = append(required, path+"."+r)
		}
		for name, p := range s.Properties {
			if p.Value != nil && !p.Value.ReadOnly {
				walk(path+"."+name, p.Value)
			}
		}
		if s.Items != nil {
			walk(path+"[]", s.Items.Value)
		}
	}
	body := doc.Paths.Value("/ManualJournals").Put.RequestBody.Value.Content.Get("application/json").Schema.Value
	walk("", body)
	slices.Sort(required)
	if want := []string{".ManualJournals[].Narration"}; !slices.Equal(required, want) {
		t.Fatalf("required request properties %v, want %v: teach createManualJournals to check the new ones", required, want)
	}
	e := newEnv(t).login()
	r := e.api("PUT", "/ManualJournals", `{"ManualJournals":[{"Date":"2026-07-14","JournalLines":[{"LineAmount":1,"AccountCode":"610"},{"LineAmount":-1,"AccountCode":"200"}]}]}`)
	if r.status != 400 || !strings.Contains(string(r.body), `"Type":"ValidationException"`) || !strings.Contains(string(r.body), "Narration must be specified.") {
		t.Fatalf("missing narration: %d %s", r.status, r.body)
	}
}

func accountID(t *testing.T, e *env, code string) string {
	t.Helper()
	o, _ := e.sb.Organisation(sandbox.DefaultTenantID)
	for _, a := range o.Accounts {
		if a.Code == code {
			return a.AccountID
		}
	}
	t.Fatalf("no account %s", code)
	return ""
}
