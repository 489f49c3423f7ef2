package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// accountingSpec is Xero's official Accounting API description
// (XeroAPI/Xero-OpenAPI xero_accounting.yaml, v16.1.0, MIT: see
// spec/xero_accounting.LICENSE). go:embed cannot reach outside this
// package's folder, so the sandbox keeps its own copy; it is byte-identical
// to connectors/xero/testdata/xero_accounting.yaml (git stores one blob),
// and a test in package xero fails if the two drift.
//
//go:embed spec/xero_accounting.yaml
var accountingSpec []byte

// AccountingSpec returns a copy of the OpenAPI document the sandbox
// validates request bodies against.
func AccountingSpec() []byte { return bytes.Clone(accountingSpec) }

// loadSpec parses the document once per process (about 50 ms), on the
// first write that needs it.
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(accountingSpec)
	if err != nil {
		return nil, fmt.Errorf("load xero_accounting.yaml: %w", err)
	}
	return doc, nil
})

// uuidFormat checks the spec's "format: uuid" fields (AccountID,
// ManualJournalID, ...). kin-openapi leaves that format unchecked unless
// told; Xero deserialises these fields as GUIDs, so a malformed one cannot
// be read.
var pathParam = regexp.MustCompile(`\{(\w+)\}`)

var uuidFormat = openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)

// schemaProblems validates a request body against the spec's operation for
// method and specPath (the path as the spec spells it, e.g.
// "/ManualJournals"). It returns what is wrong, one entry per problem, in
// Xero's deserialiser style ("<reason>. Path 'ManualJournals[0].Date'").
//
// Missing required properties are not reported: Xero's deserialiser
// accepts them and its validation answers them with a ValidationException
// and its own wording, which the route's own checks produce (for manual
// journals, "Narration must be specified."; see
// TestRequiredPropertiesAreCheckedByTheRoute).
func schemaProblems(ctx context.Context, method, specPath string, body []byte) ([]string, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	item := doc.Paths.Value(specPath)
	if item == nil {
		return nil, fmt.Errorf("the spec has no path %s", specPath)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("the spec has no %s %s", method, specPath)
	}
	// Only the body is validated; the gates in handleAPI have checked the
	// headers, and the query parameters keep the routes' own parsing.
	r, err := http.NewRequestWithContext(ctx, method, "https://api.xero.com/api.xro/2.0"+specPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	// Path parameters were resolved by the route; any valid GUID stands in.
	params := map[string]string{}
	for _, m := range pathParam.FindAllStringSubmatch(specPath, -1) {
		params[m[1]] = "00000000-0000-0000-0000-000000000000"
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      &routers.Route{Spec: doc, Path: specPath, PathItem: item, Method: method, Operation: op},
		Options: &openapi3filter.Options{
			MultiError:                true,
			SkipSettingDefaults:       true, // never rewrite the request
			ExcludeRequestQueryParams: true,
			AuthenticationFunc:        openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions:   []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)},
		},
	}
	// ValidateRequest also checks the required xero-tenant-id header.
	r.Header.Set("Xero-Tenant-Id", "validated-by-the-gate")
	verr := openapi3filter.ValidateRequest(ctx, in)
	if verr == nil {
		return nil, nil
	}
	var out []string
	collectProblems(verr, &out)
	return out, nil
}

// collectProblems flattens kin-openapi's error tree into messages,
// leaving out missing required properties (see schemaProblems).
func collectProblems(err error, out *[]string) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectProblems(inner, out)
		}
	case *openapi3filter.RequestError:
		switch e.Err.(type) {
		case openapi3.MultiError, *openapi3.SchemaError:
			collectProblems(e.Err, out)
		default:
			// Not JSON at all, or no body: the wrapped parse error.
			*out = append(*out, e.Error()+".")
		}
	case *openapi3.SchemaError:
		if e.SchemaField == "required" {
			return
		}
		msg := strings.TrimSuffix(e.Reason, ".")
		if e.SchemaField == "format" && e.Schema != nil {
			// kin-openapi's reason quotes the whole regular expression.
			msg = fmt.Sprintf("the value is not a valid %s", e.Schema.Format)
		}
		if msg == "" {
			msg = fmt.Sprintf("the value does not match the schema's %q", e.SchemaField)
		}
		if p := jsonPath(e.JSONPointer()); p != "" {
			msg += ". Path '" + p + "'"
		}
		*out = append(*out, msg+".")
	default:
		*out = append(*out, err.Error()+".")
	}
}

// jsonPath renders a JSON pointer the way Json.NET paths read:
// ManualJournals[0].JournalLines[1].LineAmount.
func jsonPath(ptr []string) string {
	var b strings.Builder
	for _, seg := range ptr {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// postDataInvalid is Xero's 400 for a body its deserialiser cannot read:
// {"ErrorNumber":14,"Type":"PostDataInvalidException","Message":"JSON
// request body could not be read, …"}. The envelope is the spec's Error
// schema; the number, type and message prefix are not in the reference
// (SECONDARY: a live answer quoted in XeroAPI/xero-php-oauth2#205).
func postDataInvalid(problems []string) apiResponse {
	return jsonResponse(http.StatusBadRequest, xeroError{
		ErrorNumber: 14, Type: "PostDataInvalidException",
		Message: "JSON request body could not be read, " + strings.Join(problems, " "),
	})
}

// checkSchema is the gate in front of a create route: the body must match
// the official schema of its operation.
func (s *Server) checkSchema(req *apiRequest, specPath string) (apiResponse, bool) {
	problems, err := schemaProblems(context.Background(), req.method, specPath, req.body)
	if err != nil {
		// The embedded document is broken: a sandbox bug, not the caller's.
		s.log.Error("xero sandbox cannot validate against its spec", "err", err)
		return apiResponse{status: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8", body: []byte(err.Error())}, false
	}
	if len(problems) > 0 {
		s.log.Debug("xero sandbox refused a body that does not match the spec", "path", specPath, "problems", problems)
		return postDataInvalid(problems), false
	}
	return apiResponse{}, true
}
