package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// maxBody bounds a request body (not in the reference).
const maxBody = 10 << 20

// timeLayout is the "time" and MetaData format: ISO with milliseconds and
// the company's offset (§2.2 example "2015-06-29T12:45:32.183-07:00").
const timeLayout = "2006-01-02T15:04:05.000-07:00"

type apiRequest struct {
	method      string
	entity      string // lower-case, e.g. "journalentry"
	id          string
	query       url.Values
	contentType string
	body        []byte
	realmID     string
	now         time.Time
	fault       Fault
}

type apiResponse struct {
	status int
	body   []byte
}

// handleAPI runs every Accounting API call through QBO's gates in the
// order a client observes them: token (401), realm and scope (403), rate
// limits (429), then requestid idempotency and the route.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	w.Header().Set("intuit_tid", newTID()) // §2.5
	realmID, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, APIPath), "/")
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	entity := strings.ToLower(parts[0])
	id := ""
	if len(parts) > 1 {
		id = parts[1]
	}

	s.mu.Lock()
	tok, detail := s.authenticate(r, now)
	if tok == nil {
		s.mu.Unlock()
		writeAuthenticationFault(w, detail, now)
		return
	}
	co := s.companies[realmID]
	// The realm comes from the path (§0, §6.2); a token reaches only the
	// company it was granted for, and only with the accounting scope.
	// §2.5 gives 3100 ApplicationAuthorizationFailed (403) for a missing
	// scope; using it for a foreign realm is the sandbox's choice.
	if co == nil || tok.Info.RealmID != realmID || !slices.Contains(tok.Scopes, AccountingScope) {
		home := s.companies[tok.Info.RealmID]
		s.mu.Unlock()
		writeResponse(w, faultResponse(http.StatusForbidden, "AuthorizationFault", home, now, faultError{
			Message: "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", Code: "3100",
		}))
		return
	}
	key := usageKey{tok.ClientID, realmID}
	if !s.admit(w, key, co, now, r.Method == http.MethodPost && entity == "batch") {
		s.mu.Unlock()
		return
	}
	st := s.stall
	fault, faulted := s.takeFault(r.Method, "/"+strings.Trim(rest, "/"))
	s.mu.Unlock()
	defer s.release(key)

	if st != nil && !st.Wait(r.Context()) {
		return
	}
	if faulted && fault.Status != 0 {
		s.mu.Lock()
		resp := systemFault(fault.Status, co, now)
		s.mu.Unlock()
		writeResponse(w, resp)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req := &apiRequest{method: r.Method, entity: entity, id: id, query: r.URL.Query(), contentType: ct, body: body, realmID: realmID, now: now}
	if faulted {
		req.fault = fault
	}
	var resp apiResponse
	if r.Method == http.MethodPost && entity != "query" {
		resp = s.idempotent(r, req)
	} else {
		resp = s.route(req)
	}
	s.log.Debug("qbo sandbox api", "method", r.Method, "path", r.URL.Path, "realm", realmID, "status", resp.status)
	if faulted && fault.FaultAs200 && resp.status == http.StatusBadRequest {
		resp.status = http.StatusOK
	}
	if faulted && fault.DropResponse {
		// Committed (and remembered under its requestid); only the answer
		// is lost, as after a network failure (§6.6).
		sandboxkit.DropResponse()
	}
	if faulted && fault.Delay > 0 && !sandboxkit.Hold(r.Context(), fault.Delay) {
		return
	}
	writeResponse(w, resp)
}

type idemEntry struct {
	at   time.Time
	done chan struct{}
	resp apiResponse
}

// idempotent applies §2.4's requestid: at most 50 characters, unique for
// all requests to a company; "if the service receives another request
// with the same RequestID, instead of performing the operation again or
// returning an error, the service sends the same response as it did for
// the original request". A concurrent repeat waits for the first. How long
// it is remembered and whether faults replay are Rules.
func (s *Server) idempotent(r *http.Request, req *apiRequest) apiResponse {
	rid := req.query.Get("requestid")
	if rid == "" {
		return s.route(req)
	}
	s.mu.Lock()
	co := s.companies[req.realmID]
	limit := MaxRequestIDLen
	if req.entity == "batch" {
		limit = MaxBatchRequestIDLen // §2.4: "batch: max 36 chars"
	}
	if len(rid) > limit {
		// §2.4 "Max 50 chars"; the fault for a longer one is not in the
		// reference (2050 is QBO's string-length code).
		defer s.mu.Unlock()
		return faultResponse(http.StatusBadRequest, "ValidationFault", co, req.now, faultError{
			Message: "String length is either shorter or longer than supported by specification",
			Detail:  fmt.Sprintf("requestid: Min:1 Max:%d supported. Supplied length:%d", limit, len(rid)), Code: "2050", Element: "requestid",
		})
	}
	if mem := s.rules.RequestIDMemory; mem > 0 {
		for k, e := range co.requests {
			if !req.now.Before(e.at.Add(mem)) {
				select {
				case <-e.done:
					delete(co.requests, k)
				default:
				}
			}
		}
	}
	if e, ok := co.requests[rid]; ok {
		s.mu.Unlock()
		select {
		case <-e.done:
			return e.resp
		case <-r.Context().Done():
			return apiResponse{status: http.StatusServiceUnavailable, body: []byte("client went away")}
		}
	}
	e := &idemEntry{at: req.now, done: make(chan struct{})}
	co.requests[rid] = e
	s.mu.Unlock()

	e.resp = s.route(req)
	keep := e.resp.status == http.StatusOK || (e.resp.status == http.StatusBadRequest && s.rules.ReplayFaults)
	if !keep {
		s.mu.Lock()
		if co.requests[rid] == e {
			delete(co.requests, rid)
		}
		s.mu.Unlock()
	}
	close(e.done)
	return e.resp
}

// readable are the lists and journal entries GET {entity}/{id} serves.
var readable = []string{"account", "taxcode", "taxrate", "companycurrency", "customer", "vendor", "class", "department", "item", "journalentry"}

// isReadable: GET {entity}/{id} serves readable and invoice mode's
// transactions (txnKinds).
func isReadable(entity string) bool {
	_, txn := txnKinds[entity]
	return txn || slices.Contains(readable, entity)
}

func (s *Server) route(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.companies[req.realmID]
	switch {
	case req.entity == "query" && req.id == "" && (req.method == http.MethodGet || req.method == http.MethodPost):
		q := req.query.Get("query")
		if req.method == http.MethodPost {
			// §2.3: "or POST with Content-Type: application/text".
			if req.contentType != "application/text" {
				return unsupportedMediaType(co, req.now, req.contentType)
			}
			q = string(req.body)
		}
		return s.runQuery(co, q, req.now)
	case req.entity == "companyinfo" && req.method == http.MethodGet && req.id != "":
		if req.id != co.RealmID {
			return objectNotFound(co, req.now)
		}
		return entityResponse(co, req.now, "CompanyInfo", co.companyInfoJSON(req.now))
	case req.entity == "preferences" && req.method == http.MethodGet && req.id == "":
		return entityResponse(co, req.now, "Preferences", co.preferencesJSON(req.now))
	case isReadable(req.entity) && req.method == http.MethodGet && req.id != "":
		ent := entities[req.entity]
		for _, row := range ent.rows(co, req.now) {
			if row.fields["id"].s == req.id {
				return entityResponse(co, req.now, ent.name, row.json)
			}
		}
		return objectNotFound(co, req.now)
	case req.entity == "batch" && req.method == http.MethodPost && req.id == "":
		return s.runBatch(co, req)
	case req.entity == "journalentry" && req.method == http.MethodPost && req.id == "":
		return s.writeJournalEntry(co, req)
	case txnKinds[req.entity].name != "" && req.method == http.MethodPost && req.id == "":
		return s.writeTxn(co, req, txnKinds[req.entity])
	}
	return unsupported(co, req.now, req.method, req.entity)
}

// faultError is one entry of Fault.Error (§2.5: Message, Detail, code,
// element).
type faultError struct {
	Message string `json:"Message"`
	Detail  string `json:"Detail"`
	Code    string `json:"code"`
	Element string `json:"element"`
}

type faultBody struct {
	Error []faultError `json:"Error"`
	Type  string       `json:"type"`
}

// faultEnvelope is §2.5's error format:
// {"Fault":{"Error":[…],"type":"ValidationFault"},"time":…}.
type faultEnvelope struct {
	Fault faultBody `json:"Fault"`
	Time  string    `json:"time"`
}

func companyTime(co *company, t time.Time) string {
	if co == nil {
		return t.Format(timeLayout)
	}
	return t.In(co.location()).Format(timeLayout)
}

func faultResponse(status int, typ string, co *company, now time.Time, errs ...faultError) apiResponse {
	return jsonResponse(status, faultEnvelope{Fault: faultBody{Error: errs, Type: typ}, Time: companyTime(co, now)})
}

func validationFault(co *company, now time.Time, e faultError) apiResponse {
	return faultResponse(http.StatusBadRequest, "ValidationFault", co, now, e)
}

// systemFault answers an injected 5xx: §2.5's 10000 "An application error
// has occurred while processing your request" (HTTP 500), as a SystemFault.
func systemFault(status int, co *company, now time.Time) apiResponse {
	return faultResponse(status, "SystemFault", co, now, faultError{
		Message: "An application error has occurred while processing your request",
		Detail:  "System Failure Error: An unexpected error occurred while accessing or saving your data. Please wait a few minutes and try again. If the problem persists, contact customer support.",
		Code:    "10000",
	})
}

// objectNotFound is §2.5's 610.
func objectNotFound(co *company, now time.Time) apiResponse {
	return validationFault(co, now, faultError{
		Message: "Object Not Found",
		Detail:  "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
		Code:    "610",
	})
}

// unsupported answers a route the sandbox does not serve: python-quickbooks
// groups 500–599 as "unsupported" (§2.5); the wording is not in the
// reference.
func unsupported(co *company, now time.Time, method, entity string) apiResponse {
	return validationFault(co, now, faultError{
		Message: "Unsupported Operation",
		Detail:  fmt.Sprintf("Operation %s %s is not supported.", method, entity),
		Code:    "500",
	})
}

func unsupportedMediaType(co *company, now time.Time, ct string) apiResponse {
	return faultResponse(http.StatusUnsupportedMediaType, "ValidationFault", co, now, faultError{
		Message: "Unsupported Media Type", Detail: "Content-Type " + ct + " is not supported; send application/text.", Code: "500",
	})
}

// writeAuthenticationFault is the gateway's 401 with lower-case keys
// (§2.5, fixture quoted there; time in epoch milliseconds).
func writeAuthenticationFault(w http.ResponseWriter, detail string, now time.Time) {
	type lowerError struct {
		Message string  `json:"message"`
		Detail  string  `json:"detail"`
		Code    string  `json:"code"`
		Element *string `json:"element"`
	}
	body := struct {
		Warnings           any   `json:"warnings"`
		IntuitObject       any   `json:"intuitObject"`
		Fault              any   `json:"fault"`
		Report             any   `json:"report"`
		QueryResponse      any   `json:"queryResponse"`
		BatchItemResponse  []any `json:"batchItemResponse"`
		AttachableResponse []any `json:"attachableResponse"`
		SyncErrorResponse  any   `json:"syncErrorResponse"`
		RequestID          any   `json:"requestId"`
		Time               int64 `json:"time"`
		Status             any   `json:"status"`
		CDCResponse        []any `json:"cdcresponse"`
	}{
		Fault: map[string]any{
			"error": []lowerError{{Message: "message=AuthenticationFailed; errorCode=003200; statusCode=401", Detail: detail, Code: "3200"}},
			"type":  "AUTHENTICATION",
		},
		BatchItemResponse: []any{}, AttachableResponse: []any{}, CDCResponse: []any{},
		Time: now.UnixMilli(),
	}
	writeResponse(w, jsonResponse(http.StatusUnauthorized, body))
}

func jsonResponse(status int, v any) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return apiResponse{status: http.StatusInternalServerError, body: []byte(err.Error())}
	}
	return apiResponse{status: status, body: b}
}

// entityResponse wraps one entity: {"<Entity>":{…},"time":"…"} (§2.2).
func entityResponse(co *company, now time.Time, name string, v any) apiResponse {
	ent, err := json.Marshal(v)
	if err != nil {
		return apiResponse{status: http.StatusInternalServerError, body: []byte(err.Error())}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{%q:", name)
	b.Write(ent)
	fmt.Fprintf(&b, ",\"time\":%q}", companyTime(co, now))
	return apiResponse{status: http.StatusOK, body: b.Bytes()}
}

func writeResponse(w http.ResponseWriter, resp apiResponse) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}
