package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// maxBody bounds one request body. Sage documents only the hourly volume
// (apis.md §3.6: 100 MB per business); a per-request size is not in the
// reference.
const maxBody = 10 << 20

type apiRequest struct {
	method     string
	path       string // below /v3.1
	query      url.Values
	body       []byte
	businessID string
	now        time.Time
}

type apiResponse struct {
	status int
	body   []byte // JSON, or empty for 204
}

// sageError is one element of Sage's error array (apis.md §3.5).
type sageError struct {
	Severity string `json:"$severity"`
	DataCode string `json:"$dataCode"`
	Message  string `json:"$message"`
	Source   string `json:"$source"`
}

// notFoundError is the 404 element of apis.md §3.5, which has no $source:
// [{"$severity":"error","$message":"Contact not found","$dataCode":"ResourceNotFound"}].
type notFoundError struct {
	Severity string `json:"$severity"`
	Message  string `json:"$message"`
	DataCode string `json:"$dataCode"`
}

func errorsResponse(status int, errs ...sageError) apiResponse {
	return jsonResponse(status, errs)
}

// invalid is the 422 of apis.md §3.5: a top-level array of RecordInvalid
// errors.
func invalid(errs ...sageError) apiResponse {
	return errorsResponse(http.StatusUnprocessableEntity, errs...)
}

func recordInvalid(source, msg string) sageError {
	return sageError{Severity: "error", DataCode: "RecordInvalid", Message: msg, Source: source}
}

// required is apis.md §3.5's example text for a missing field.
func required(source string) sageError { return recordInvalid(source, "This field is required.") }

func notFound(msg string) apiResponse {
	return jsonResponse(http.StatusNotFound, []notFoundError{{Severity: "error", Message: msg, DataCode: "ResourceNotFound"}})
}

func writeErrors(w http.ResponseWriter, status int, errs ...sageError) {
	writeJSON(w, status, errs)
}

func jsonResponse(status int, v any) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal([]sageError{{Severity: "error", DataCode: "InternalServerError", Message: err.Error()}})
		return apiResponse{status: http.StatusInternalServerError, body: b}
	}
	return apiResponse{status: status, body: b}
}

// countingWriter counts the bytes answered, for the hourly volume limit.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// handleAPI runs every Accounting API call through Sage's gates in the
// order a client observes them: token (401), business (X-Business), rate
// limits (429), then the route, with idempotency for creates.
func (s *Server) handleAPI(rw http.ResponseWriter, r *http.Request) {
	now := s.now()
	path := strings.TrimPrefix(r.URL.Path, APIPath)
	w := &countingWriter{ResponseWriter: rw}

	s.mu.Lock()
	tok, why := s.authenticate(r, now)
	if tok == nil {
		s.mu.Unlock()
		unauthorized(w, why)
		return
	}
	// X-Business selects the business; without it the user's lead business
	// answers (apis.md §3.1, §6.2). The sandbox's one user holds every
	// seeded business. An unknown business's answer is not in the
	// reference: the 404 shape of §3.5 with $source naming the header.
	businessID := r.Header.Get("X-Business")
	if businessID == "" {
		businessID = s.lead()
	}
	if _, ok := s.businesses[businessID]; !ok {
		msg := s.rules.Messages.UnknownBusiness
		s.mu.Unlock()
		writeErrors(w, http.StatusNotFound, sageError{Severity: "error", DataCode: "ResourceNotFound", Message: msg, Source: "X-Business"})
		return
	}
	if !s.admit(w, businessID, now) {
		s.mu.Unlock()
		return
	}
	st := s.stall
	fault, faulted := s.takeFault(r.Method, path)
	s.mu.Unlock()
	var reqBytes int64
	defer func() { s.done(businessID, reqBytes+w.n, now) }()

	if st != nil && !st.Wait(r.Context()) {
		return
	}
	if faulted && fault.Status != 0 {
		writeFaultStatus(w, fault.Status)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	reqBytes = int64(len(body))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	var resp apiResponse
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && !isJSON(r.Header.Get("Content-Type")) {
		// 415 is in Sage's status list (apis.md §3.5); its body is not.
		resp = errorsResponse(http.StatusUnsupportedMediaType, sageError{Severity: "error", DataCode: "UnsupportedMediaType",
			Message: "Content-Type must be application/json", Source: "Content-Type"})
	} else {
		req := &apiRequest{method: r.Method, path: path, query: r.URL.Query(), body: body, businessID: businessID, now: now}
		resp = s.idempotent(r, req)
	}
	s.log.Debug("sage sandbox api", "method", r.Method, "path", path, "business", businessID, "status", resp.status)
	if faulted && fault.Delay > 0 && !sandboxkit.Hold(r.Context(), fault.Delay) {
		return
	}
	if faulted && fault.DropResponse {
		// The work is committed and remembered under its idempotency_id;
		// only the answer is lost, as after a network failure (apis.md §6.6).
		sandboxkit.DropResponse()
	}
	if len(resp.body) > 0 {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

type idemKey struct{ businessID, path, id string }

type idemEntry struct {
	fingerprint [32]byte
	expires     time.Time
	done        chan struct{}
	resp        apiResponse
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// idempotent applies apis.md §3.4: a create carrying idempotency_id inside
// its resource is done once and "the same response" is returned on every
// repeat. Retention, placement, conflicts and whether errors are remembered
// are Rules ([UNVERIFIED] or undocumented). A concurrent repeat waits for
// the first.
func (s *Server) idempotent(r *http.Request, req *apiRequest) apiResponse {
	if req.method != http.MethodPost {
		return s.route(req)
	}
	id, present, errResp := s.idempotencyID(req)
	if errResp != nil {
		return *errResp
	}
	if !present {
		return s.route(req)
	}
	fp := sha256.Sum256(req.body)
	key := idemKey{req.businessID, req.path, strings.ToLower(id)}

	s.mu.Lock()
	for k, e := range s.idem {
		if !req.now.Before(e.expires) {
			delete(s.idem, k)
		}
	}
	if e, ok := s.idem[key]; ok {
		conflict := s.rules.IdempotencyConflict
		msg := s.rules.Messages.IdempotencyConflict
		s.mu.Unlock()
		if e.fingerprint != fp && conflict == Reject {
			return invalid(recordInvalid("idempotency_id", msg))
		}
		select {
		case <-e.done:
			return e.resp
		case <-r.Context().Done():
			return apiResponse{status: http.StatusServiceUnavailable}
		}
	}
	e := &idemEntry{fingerprint: fp, expires: req.now.Add(s.rules.IdempotencyTTL), done: make(chan struct{})}
	s.idem[key] = e
	s.mu.Unlock()

	e.resp = s.route(req)
	if e.resp.status >= 300 && !s.rules.IdempotencyReplaysErrors {
		s.mu.Lock()
		if s.idem[key] == e {
			delete(s.idem, key)
		}
		s.mu.Unlock()
	}
	close(e.done)
	return e.resp
}

// idempotencyID finds idempotency_id where Rules.IdempotencyPlacement says.
// The resource key is the singular of the collection (journals → journal,
// sales_invoices → sales_invoice), as in the bodies of apis.md §3.2.
func (s *Server) idempotencyID(req *apiRequest) (id string, present bool, errResp *apiResponse) {
	var root map[string]json.RawMessage
	if json.Unmarshal(req.body, &root) != nil {
		return "", false, nil // the route answers the malformed body
	}
	resource := strings.TrimSuffix(strings.Trim(req.path, "/"), "s")
	var inner map[string]json.RawMessage
	_ = json.Unmarshal(root[resource], &inner)
	s.mu.Lock()
	rules := s.rules
	s.mu.Unlock()
	var raw json.RawMessage
	switch rules.IdempotencyPlacement {
	case InResource:
		raw = inner["idempotency_id"]
	case AtRoot:
		raw = root["idempotency_id"]
	case Either:
		if raw = inner["idempotency_id"]; raw == nil {
			raw = root["idempotency_id"]
		}
	}
	if raw == nil || string(raw) == "null" {
		return "", false, nil
	}
	if json.Unmarshal(raw, &id) != nil || (!rules.IdempotencyAnyFormat && !guid.MatchString(id)) {
		resp := invalid(recordInvalid("idempotency_id", rules.Messages.IdempotencyFormat))
		return "", false, &resp
	}
	return id, true, nil
}

// route dispatches a call to its resource (spec paths).
func (s *Server) route(req *apiRequest) apiResponse {
	parts := strings.Split(strings.Trim(req.path, "/"), "/")
	resource, key := parts[0], ""
	if len(parts) > 1 {
		key = parts[1]
	}
	if len(parts) > 2 {
		return notFound("Resource not found")
	}
	get, post, del := req.method == http.MethodGet, req.method == http.MethodPost, req.method == http.MethodDelete
	switch {
	case resource == "businesses" && key == "" && get:
		return s.listBusinesses(req)
	case resource == "ledger_accounts" && key == "" && get:
		return s.listLedgerAccounts(req)
	case resource == "ledger_accounts" && key != "" && get:
		return s.getLedgerAccount(req, key)
	case resource == "tax_rates" && key == "" && get:
		return s.listTaxRates(req)
	case resource == "currencies" && key == "" && get:
		return s.listCurrencies(req)
	case resource == "business_exchange_rates" && key == "" && get:
		return s.listExchangeRates(req)
	case resource == "financial_settings" && key == "" && get:
		return s.getFinancialSettings(req)
	case resource == "contacts" && key == "" && get:
		return s.listContacts(req)
	case resource == "contacts" && key != "" && get:
		return s.getContact(req, key)
	case resource == "analysis_types" && key == "" && get:
		return s.listAnalysisTypes(req)
	case resource == "analysis_types" && key != "" && get:
		return s.getAnalysisType(req, key)
	case resource == "analysis_type_categories" && key == "" && get:
		return s.listAnalysisTypeCategories(req)
	case resource == "analysis_type_categories" && key != "" && get:
		return s.getAnalysisTypeCategory(req, key)
	case resource == "journals" && key == "" && get:
		return s.listJournals(req)
	case resource == "sales_invoices" && key == "" && post:
		return s.createSalesInvoice(req)
	case resource == "journals" && key == "" && post:
		return s.createJournal(req)
	case resource == "journals" && key != "" && get:
		return s.getJournal(req, key)
	case resource == "journals" && key != "" && del:
		return s.deleteJournal(req, key)
	}
	collection := key == "" && strings.Contains(" businesses ledger_accounts tax_rates currencies business_exchange_rates financial_settings journals"+
		" contacts analysis_types analysis_type_categories ", " "+resource+" ")
	item := key != "" && strings.Contains(" ledger_accounts journals contacts analysis_types analysis_type_categories ", " "+resource+" ")
	if collection || item {
		// 405 is in Sage's status list (apis.md §3.5); the body is not.
		return errorsResponse(http.StatusMethodNotAllowed, sageError{Severity: "error", DataCode: "MethodNotAllowed",
			Message: req.method + " is not allowed on this resource", Source: ""})
	}
	return notFound("Resource not found")
}

// object is a JSON object whose fields keep their order.
type object []field

type field struct {
	key string
	val any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// base is a reference to another resource (spec Base: id, displayed_as,
// $path).
func base(id, displayedAs, path string) object {
	return object{{"id", id}, {"displayed_as", displayedAs}, {"$path", path}}
}

// baseAttributes are always listed; attributes= adds others, "all" every
// one (apis.md §3.7, spec "attributes" parameter).
var baseAttributes = map[string]bool{"id": true, "displayed_as": true, "$path": true}

func pick(o object, attributes string) object {
	if attributes == "all" {
		return o
	}
	want := map[string]bool{}
	for _, a := range strings.Split(attributes, ",") {
		want[strings.TrimSpace(a)] = true
	}
	out := make(object, 0, len(o))
	for _, f := range o {
		if baseAttributes[f.key] || want[f.key] {
			out = append(out, f)
		}
	}
	return out
}

// page answers a collection GET with Sage's envelope (apis.md §3.7:
// $total, $page, $next, $back, $itemsPerPage, $items; items_per_page
// default 20, maximum 200 per the spec). perPageKey is the name of the
// page-size field: the reference's /businesses example spells it
// $items_per_page.
func page(req *apiRequest, items []object, perPageKey string) apiResponse {
	perPage := 20
	if v := req.query.Get("items_per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return invalid(recordInvalid("items_per_page", "This field is not a valid integer."))
		}
		perPage = min(max(n, 1), 200) // out-of-range values are clamped (not in the reference)
	}
	pageNo := 1
	if v := req.query.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return invalid(recordInvalid("page", "This field is not a valid integer."))
		}
		pageNo = max(n, 1)
	}
	attrs := req.query.Get("attributes")
	from := min((pageNo-1)*perPage, len(items))
	to := min(from+perPage, len(items))
	out := make([]object, 0, to-from)
	for _, it := range items[from:to] {
		out = append(out, pick(it, attrs))
	}
	link := func(p int) any {
		q := url.Values{}
		for k, v := range req.query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		return req.path + "?" + q.Encode()
	}
	var next, back any
	if to < len(items) {
		next = link(pageNo + 1)
	}
	if pageNo > 1 {
		back = link(pageNo - 1)
	}
	return jsonResponse(http.StatusOK, object{
		{"$total", len(items)}, {"$page", pageNo}, {"$next", next}, {"$back", back},
		{perPageKey, perPage}, {"$items", out},
	})
}

// timestamp is the format of created_at and updated_at (spec date-time).
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
