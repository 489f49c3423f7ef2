package xero_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/connectortest"
	"github.com/commercesync/commercesync/connectors/sandboxkit"
	"github.com/commercesync/commercesync/connectors/xero/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The official Xero Accounting API description, vendored with its MIT
// licence (testdata/README.md).
const specFile = "testdata/xero_accounting.yaml"

// specServer is the spec's server URL; requests are matched against it.
const specServer = "https://api.xero.com/api.xro/2.0"

type testSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadTestSpec parses the vendored spec once per test binary and makes it
// stricter than the official text in two ways that catch our own bugs:
//   - request bodies may hold only the properties their schema declares
//     (Xero ignores unknown ones, so a misspelt or made-up field is data
//     silently lost: "AccountId", or a "CurrencyCode" on a manual journal);
//   - Idempotency-Key is at most 128 characters, which the spec says only
//     in prose.
var loadTestSpec = sync.OnceValues(func() (*testSpec, error) {
	b, err := os.ReadFile(specFile)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specFile, err)
	}
	closed := map[*openapi3.Schema]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, mt := range op.RequestBody.Value.Content {
				if mt.Schema != nil {
					closeObjects(mt.Schema.Value, closed)
				}
			}
		}
	}
	p := doc.Components.Parameters["idempotencyKey"]
	if p == nil || p.Value == nil || p.Value.Schema == nil || p.Value.Schema.Value == nil {
		return nil, errors.New("the spec has no idempotencyKey parameter")
	}
	p.Value.Schema.Value.MaxLength = new(uint64(128))
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", specFile, err)
	}
	return &testSpec{doc: doc, router: router}, nil
})

// closeObjects forbids undeclared properties in s and everything under it.
func closeObjects(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties.Has = new(false)
	}
	for _, p := range s.Properties {
		closeObjects(p.Value, seen)
	}
	if s.Items != nil {
		closeObjects(s.Items.Value, seen)
	}
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			closeObjects(r.Value, seen)
		}
	}
}

// specValidator checks every Accounting API request a connector sends:
// method and path, headers, query parameters, security and body.
type specValidator struct {
	spec *testSpec

	mu       sync.Mutex
	ops      map[string]int // validated requests by operationId
	problems []string
}

func newSpecValidator(t connectortest.TB) *specValidator {
	t.Helper()
	spec, err := loadTestSpec()
	if err != nil {
		t.Fatalf("%v", err)
	}
	v := &specValidator{spec: spec, ops: map[string]int{}}
	t.Cleanup(func() {
		if p := v.Problems(); len(p) > 0 {
			t.Fatalf("requests that do not match %s:\n%s", specFile, strings.Join(p, "\n"))
		}
	})
	return v
}

// Problems returns what was wrong with the requests seen so far.
func (v *specValidator) Problems() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.problems)
}

// Operations returns how many requests of each operation were validated.
func (v *specValidator) Operations() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.ops))
	for k, n := range v.ops {
		out[k] = n
	}
	return out
}

// transport validates each Accounting API request, records what is wrong
// with it and sends it on unchanged: the sandbox judges it for itself.
func (v *specValidator) transport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if i := strings.Index(req.URL.Path, sandbox.APIPath+"/"); i >= 0 {
			var body []byte
			if req.Body != nil && req.Body != http.NoBody {
				b, err := io.ReadAll(req.Body)
				req.Body.Close()
				if err != nil {
					return nil, err
				}
				body = b
				req.Body = io.NopCloser(bytes.NewReader(b))
				req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			}
			if err := v.check(req, req.URL.Path[i+len(sandbox.APIPath):], body); err != nil {
				v.mu.Lock()
				v.problems = append(v.problems, fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err))
				v.mu.Unlock()
			}
		}
		return next.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// check validates one request whose path below the API base is path.
func (v *specValidator) check(req *http.Request, path string, body []byte) error {
	u := specServer + path
	if req.URL.RawQuery != "" {
		u += "?" + req.URL.RawQuery
	}
	r, err := http.NewRequestWithContext(context.Background(), req.Method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header = req.Header.Clone()
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	route, params, err := v.spec.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("no such operation in the spec: %w", err)
	}
	err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError:          true,
			SkipSettingDefaults: true,
			AuthenticationFunc:  bearerAuth,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid",
				openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))},
		},
	})
	v.mu.Lock()
	v.ops[route.Operation.OperationID]++
	v.mu.Unlock()
	return err
}

// bearerAuth satisfies the spec's OAuth2 requirement with a Bearer token.
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "oauth2" {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	tok, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errors.New("no Bearer token")
	}
	return nil
}

// TestRequestsMatchTheOfficialSchema drives the connector through every
// request it makes, with documents chosen to reach the corners of the body
// builder, and validates each request against the official spec.
func TestRequestsMatchTheOfficialSchema(t *testing.T) {
	clock := sandboxkit.NewClock(connectortest.StartTime)
	x := startXero(t, clock)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, x.hc)
	cfg := x.conn.OAuthConfig(conformanceRedirect)
	loc, err := sandbox.Approve(ctx, x.hc, cfg.AuthCodeURL("st"), "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	ts := connectors.NewPersistingTokenSource(ctx, cfg, tok, func(context.Context, *oauth2.Token) error { return nil })
	if _, err := x.conn.Tenants(ctx, ts); err != nil {
		t.Fatal(err)
	}
	s := connectors.Session{TenantID: x.tenant, Tokens: ts}
	setup, err := x.conn.Setup(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]string{}
	for _, a := range setup.Accounts {
		id[a.Code] = a.ID
	}
	line := func(code, amount, desc string) *commercesyncv1.DocumentLine {
		return &commercesyncv1.DocumentLine{AccountCode: code, Amount: amount, Description: desc}
	}
	byID := func(code, amount string) *commercesyncv1.DocumentLine {
		return &commercesyncv1.DocumentLine{AccountId: id[code], Amount: amount}
	}
	doc := func(narration string, lines ...*commercesyncv1.DocumentLine) *commercesyncv1.Document {
		return &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "USD", Narration: narration, Lines: lines}
	}
	many := doc("Twenty lines")
	for i := range 10 {
		many.Lines = append(many.Lines, line("610", fmt.Sprintf("%d.%02d", i+1, i), fmt.Sprintf("card %d", i)),
			line("200", fmt.Sprintf("-%d.%02d", i+1, i), ""))
	}
	docs := []struct {
		name string
		doc  *commercesyncv1.Document
		ok   bool
	}{
		{"codes", doc("Daily summary", line("610", "108.50", "Card"), line("200", "-100", "Sales"), line("820", "-8.5", "Tax")), true},
		{"ids only", doc("By id", byID("610", "1.00"), byID("200", "-1.00")), true},
		{"code and id", doc("Both", &commercesyncv1.DocumentLine{AccountCode: "404", AccountId: id["404"], Amount: "0.01"}, byID("200", "-0.01")), true},
		{"no narration", doc("", line("610", "5", ""), line("200", "-5", "")), true},
		{"odd text", doc(`Ünïcödé <b>&amp;</b> "quoted" \ tab	end`, line("610", "1", `line "one" <x> & ü`), line("200", "-1", "\u2028")), true},
		{"largest amounts", doc("Max", line("610", "9999999999.99", ""), line("200", "-9999999999.99", "")), true},
		{"zero line", doc("Zero", line("610", "2.00", ""), line("200", "-2.00", ""), line("801", "0", "")), true},
		{"many lines", many, true},
		// Refused by the sandbox's validation, but the bodies are still
		// well formed.
		{"archived account", doc("Archived", line("310", "3", ""), line("200", "-3", "")), false},
		{"unbalanced", doc("Unbalanced", line("610", "3", ""), line("200", "-2", "")), false},
		{"unknown code", doc("Unknown", line("610", "3", ""), line("999", "-3", "")), false},
	}
	for i, d := range docs {
		ref := connectors.Reference{Value: fmt.Sprintf("schema-%d", i), IdempotencyKey: fmt.Sprintf("%0128d", i)}
		_, err := x.conn.Push(ctx, s, d.doc, ref)
		if (err == nil) != d.ok {
			t.Errorf("%s: push err %v, want ok %t", d.name, err, d.ok)
		}
		if ce := connectors.Classify(err); ce != nil && ce.Class != connectors.MerchantActionable {
			t.Errorf("%s: %v (the sandbox refused the body itself?)", d.name, ce)
		}
		if _, _, err := x.conn.Find(ctx, s, ref); err != nil {
			t.Errorf("%s: find: %v", d.name, err)
		}
	}
	ops := x.spec.Operations()
	for op, want := range map[string]int{
		"getAccounts": 1, "getTaxRates": 1, "getOrganisations": 1,
		"createManualJournals": len(docs), "getManualJournals": len(docs),
	} {
		if ops[op] < want {
			t.Errorf("%d %s requests validated, want at least %d (all: %v)", ops[op], op, want, ops)
		}
	}
	if p := x.spec.Problems(); len(p) > 0 {
		t.Fatalf("requests that do not match the spec:\n%s", strings.Join(p, "\n"))
	}
}

// TestSpecValidatorCatchesBadRequests keeps the validator honest: each of
// these requests breaks the spec (or the two strictures of loadTestSpec)
// in one way, and must be caught.
func TestSpecValidatorCatchesBadRequests(t *testing.T) {
	spec, err := loadTestSpec()
	if err != nil {
		t.Fatal(err)
	}
	const good = `{"ManualJournals":[{"Narration":"n [r]","Date":"2026-07-14","Status":"POSTED","LineAmountTypes":"NoTax","JournalLines":[` +
		`{"LineAmount":1.00,"AccountCode":"404","Description":"d"},{"LineAmount":-1.00,"AccountID":"a3b1c2d4-0000-4000-8000-000000000001"}]}]}`
	swap := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q is not in the good body", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	type request struct {
		method, path, body string
		header             map[string]string
	}
	valid := func(r request) request {
		if r.method == "" {
			r.method = http.MethodPut
		}
		if r.path == "" {
			r.path = "/ManualJournals"
		}
		if r.body == "" && r.method != http.MethodGet {
			r.body = good
		}
		h := map[string]string{"Authorization": "Bearer t", "Xero-Tenant-Id": "t", "Content-Type": "application/json", "Idempotency-Key": "k"}
		for k, v := range r.header {
			h[k] = v
		}
		r.header = h
		return r
	}
	send := func(r request) error {
		r = valid(r)
		req, err := http.NewRequest(r.method, "http://127.0.0.1"+sandbox.APIPath+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range r.header {
			if v == "" {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, v)
			}
		}
		v := &specValidator{spec: spec, ops: map[string]int{}}
		return v.check(req, r.path, []byte(r.body))
	}
	for _, ok := range []request{{}, {method: http.MethodPost}, {method: http.MethodGet, path: `/ManualJournals?where=Narration.Contains("[r]")`}} {
		if err := send(ok); err != nil {
			t.Fatalf("a good request %+v was refused: %v", ok, err)
		}
	}
	bad := map[string]request{
		"amount as a string":        {body: swap(`"LineAmount":1.00`, `"LineAmount":"1.00"`)},
		"no narration":              {body: swap(`"Narration":"n [r]",`, ``)},
		"status not in the enum":    {body: swap(`"POSTED"`, `"posted"`)},
		"account id not a uuid":     {body: swap(`a3b1c2d4-0000-4000-8000-000000000001`, `404`)},
		"misspelt property":         {body: swap(`"AccountCode"`, `"AccountId"`)},
		"property the schema lacks": {body: swap(`"Status"`, `"CurrencyCode":"USD","Status"`)},
		"read-only property":        {body: swap(`"Status"`, `"HasAttachments":false,"Status"`)},
		"not json":                  {body: good[:40]},
		"no tenant header":          {header: map[string]string{"Xero-Tenant-Id": ""}},
		"no bearer token":           {header: map[string]string{"Authorization": ""}},
		"idempotency key too long":  {header: map[string]string{"Idempotency-Key": strings.Repeat("k", 129)}},
		"wrong content type":        {header: map[string]string{"Content-Type": "text/plain"}},
		"wrong path":                {path: "/ManualJournal"},
		"wrong method":              {method: http.MethodDelete},
		"bad query parameter":       {method: http.MethodGet, path: "/ManualJournals?page=first"},
	}
	for name, r := range bad {
		if err := send(r); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}

// TestVendoredSpecCopiesMatch: the sandbox embeds its own copy of the spec
// (go:embed cannot read outside its package folder); both copies and
// their licences must stay the same bytes.
func TestVendoredSpecCopiesMatch(t *testing.T) {
	for _, f := range []string{"xero_accounting.yaml", "xero_accounting.LICENSE"} {
		a, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("sandbox/spec/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("testdata/%s and sandbox/spec/%s differ", f, f)
		}
	}
	if !bytes.Equal(sandbox.AccountingSpec(), mustRead(t, "testdata/xero_accounting.yaml")) {
		t.Error("the sandbox embeds a different spec")
	}
	spec, err := loadTestSpec()
	if err != nil {
		t.Fatal(err)
	}
	if v := spec.doc.Info.Version; v != "16.1.0" {
		t.Errorf("spec version %s; the reference (accounting-platform-apis.md §1) describes 16.1.0", v)
	}
	if lic := string(mustRead(t, "testdata/xero_accounting.LICENSE")); !strings.HasPrefix(lic, "MIT License") {
		t.Error("the licence is not the MIT licence the spec is published under")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
