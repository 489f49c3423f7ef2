package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

type apiRequest struct {
	method string
	path   string // below /services/rest
	query  url.Values
	header http.Header
	body   []byte
	co     *company
	tok    *sandboxkit.Grant[grant]
	// base is the account's base URL as the client reached it, for
	// Location headers and links.
	base string
	now  time.Time
}

// handleAPI runs a REST call through NetSuite's gates in the order a client
// observes them: token (401), account concurrency (429), then the route.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request, co *company, path string) {
	now := s.now()
	s.mu.Lock()
	tok := s.authenticate(r, co, now)
	if tok == nil {
		realm := strings.ToUpper(strings.ReplaceAll(HostForm(co.AccountID), "-", "_"))
		s.mu.Unlock()
		unauthorized(w, realm)
		return
	}
	if !s.admit(co, now) {
		s.mu.Unlock()
		s.log.Debug("netsuite sandbox: concurrency limit", "account", co.AccountID, "path", path)
		tooMany(w)
		return
	}
	st, hold := s.stall, s.hold
	fault, faulted := s.takeFault(r.Method, path)
	s.mu.Unlock()
	defer s.release(co)

	if st != nil && !st.Wait(r.Context()) {
		return
	}
	if faulted && fault.Status != 0 {
		// The body of NetSuite's 5xx is not in the reference; §4.5 says
		// 5xx are system errors in the same envelope.
		writeError(w, fault.Status, nil, unexpected("Error ID: sandbox-injected-fault"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, nil, detail{Detail: "The request body exceeds 104 MB.", Code: "INVALID_CONTENT"})
			return
		}
		writeError(w, http.StatusBadRequest, nil, detail{Detail: "The request body could not be read.", Code: "INVALID_CONTENT"})
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &apiRequest{
		method: r.Method, path: path, query: r.URL.Query(), header: r.Header, body: body, co: co, tok: tok,
		base: scheme + "://" + r.Host + "/" + HostForm(co.AccountID), now: now,
	}
	resp := s.route(req)
	s.log.Debug("netsuite sandbox api", "method", r.Method, "path", path, "account", co.AccountID, "status", resp.status)
	if faulted && fault.DropResponse {
		// Committed; only the answer is lost, as after a network failure (§6.6).
		sandboxkit.DropResponse()
	}
	if hold != nil && !hold.Wait(r.Context()) {
		return
	}
	if faulted && fault.Delay > 0 && !sandboxkit.Hold(r.Context(), fault.Delay) {
		return
	}
	writeResponse(w, resp, nil)
}

// route dispatches a REST call. Record types are matched without case.
func (s *Server) route(req *apiRequest) apiResponse {
	switch {
	case req.path == strings.TrimPrefix(SuiteQLPath, RESTPath):
		if req.method != http.MethodPost {
			return methodNotAllowed(req.method)
		}
		return s.suiteQL(req)
	case strings.HasPrefix(req.path, strings.TrimPrefix(AsyncJobPath, RESTPath)+"/"):
		if req.method != http.MethodGet {
			return methodNotAllowed(req.method)
		}
		return s.getJob(req, strings.TrimPrefix(req.path, strings.TrimPrefix(AsyncJobPath, RESTPath)+"/"))
	case strings.HasPrefix(req.path, "/record/v1/"):
	default:
		return errorResponse(http.StatusNotFound, notFoundURL(RESTPath+req.path))
	}
	parts := strings.Split(strings.TrimPrefix(req.path, "/record/v1/"), "/")
	recordType := strings.ToLower(parts[0])
	id := ""
	if len(parts) > 1 {
		id = parts[1]
		if u, err := url.PathUnescape(id); err == nil {
			id = u
		}
	}
	if len(parts) > 2 {
		if recordType == "journalentry" && len(parts) == 3 && strings.EqualFold(parts[2], "line") && req.method == http.MethodGet {
			return s.getJournalLines(req, id)
		}
		return errorResponse(http.StatusNotFound, notFoundURL(RESTPath+req.path))
	}
	if recordType == "journalentry" {
		switch {
		case req.method == http.MethodGet && id == "":
			return s.listRecords(req, recordType)
		case req.method == http.MethodGet:
			return s.getJournal(req, id)
		case req.method == http.MethodPost && id == "":
			return s.maybeAsync(req, func() apiResponse { return s.createJournal(req) })
		case req.method == http.MethodPut && strings.HasPrefix(id, "eid:"):
			// §4.4: upsert is PUT …/journalentry/eid:{externalId}.
			return s.maybeAsync(req, func() apiResponse { return s.upsertJournal(req, strings.TrimPrefix(id, "eid:")) })
		case req.method == http.MethodPut:
			// Upsert needs an external id in the URL (Oracle "Using the
			// Upsert Operation"); the answer's wording is not in the reference.
			return errorResponse(http.StatusBadRequest, detail{Detail: "The upsert operation requires an external ID in the request URL (eid:…).", Code: "INVALID_PARAMETER"})
		}
		return methodNotAllowed(req.method)
	}
	if _, ok := recordTypes[recordType]; !ok {
		return errorResponse(http.StatusNotFound, detail{Detail: "Record type '" + parts[0] + "' does not exist.", Code: "NONEXISTENT_ID"})
	}
	if req.method != http.MethodGet {
		return methodNotAllowed(req.method)
	}
	if id == "" {
		return s.listRecords(req, recordType)
	}
	return s.getRecord(req, recordType, id)
}

// methodNotAllowed's wording is not in the reference.
func methodNotAllowed(m string) apiResponse {
	return errorResponse(http.StatusMethodNotAllowed, detail{Detail: "The " + m + " method is not supported for this resource.", Code: "INVALID_METHOD"})
}

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type refJSON struct {
	Links   []link `json:"links"`
	ID      string `json:"id"`
	RefName string `json:"refName,omitempty"`
}

func self(href string) []link { return []link{{Rel: "self", Href: href}} }

func (req *apiRequest) recordURL(recordType, id string) string {
	return req.base + RecordPath + "/" + recordType + "/" + id
}

func (req *apiRequest) ref(recordType, id, name string) refJSON {
	return refJSON{Links: self(req.recordURL(recordType, id)), ID: id, RefName: name}
}

// recordTypes maps the read-only record types served to their rows.
// Caller holds s.mu.
var recordTypes = map[string]func(co *company) []string{
	"account": func(co *company) []string {
		return ids(len(co.Accounts), func(i int) string { return co.Accounts[i].ID })
	},
	"subsidiary": func(co *company) []string {
		return ids(len(co.Subsidiaries), func(i int) string { return co.Subsidiaries[i].ID })
	},
	"currency": func(co *company) []string {
		return ids(len(co.Currencies), func(i int) string { return co.Currencies[i].ID })
	},
	"accountingperiod": func(co *company) []string {
		return ids(len(co.Periods), func(i int) string { return co.Periods[i].ID })
	},
	"department": func(co *company) []string {
		return ids(len(co.Departments), func(i int) string { return co.Departments[i].ID })
	},
	"classification": func(co *company) []string {
		return ids(len(co.Classes), func(i int) string { return co.Classes[i].ID })
	},
	"location": func(co *company) []string {
		return ids(len(co.Locations), func(i int) string { return co.Locations[i].ID })
	},
	// §4.7 lists customers (GET /record/v1/customer); vendor, the entity
	// of a vendorbill (§4.2), is not named in the reference.
	"customer": func(co *company) []string {
		return ids(len(co.Customers), func(i int) string { return co.Customers[i].ID })
	},
	"vendor": func(co *company) []string {
		return ids(len(co.Vendors), func(i int) string { return co.Vendors[i].ID })
	},
}

func ids(n int, at func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = at(i)
	}
	return out
}

// page reads limit and offset (§4.7: limit default and max 1000).
func page(q url.Values) (limit, offset int, bad *apiResponse) {
	limit, offset = MaxPageSize, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			r := errorResponse(http.StatusBadRequest, invalidParameter("Invalid value for the query parameter limit: "+v+". The limit must be between 1 and 1000."))
			return 0, 0, &r
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			r := errorResponse(http.StatusBadRequest, invalidParameter("Invalid value for the query parameter offset: "+v+"."))
			return 0, 0, &r
		}
		offset = n
	}
	return limit, offset, nil
}

// collection is a paged answer (§4.7).
type collection struct {
	Links        []link `json:"links"`
	Count        int    `json:"count"`
	HasMore      bool   `json:"hasMore"`
	Items        any    `json:"items"`
	Offset       int    `json:"offset"`
	TotalResults int    `json:"totalResults"`
}

func pageLinks(u string, q url.Values, limit, offset, total int) []link {
	at := func(off int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("limit", strconv.Itoa(limit))
		v.Set("offset", strconv.Itoa(off))
		return u + "?" + v.Encode()
	}
	links := []link{}
	if offset > 0 {
		links = append(links, link{"prev", at(max(offset-limit, 0))})
	}
	links = append(links, link{"first", at(0)})
	if offset+limit < total {
		links = append(links, link{"next", at(offset + limit)})
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	links = append(links, link{"last", at(last)}, link{"self", at(offset)})
	return links
}

// listRecords answers GET /record/v1/{type}: ids and links only (§4.7).
func (s *Server) listRecords(req *apiRequest, recordType string) apiResponse {
	if req.query.Has("q") {
		// §4.7's q= filters are not emulated; failing beats ignoring one.
		return errorResponse(http.StatusBadRequest, invalidParameter("The sandbox does not support the q parameter; use SuiteQL."))
	}
	limit, offset, bad := page(req.query)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	var all []string
	if recordType == "journalentry" {
		for _, j := range req.co.journals {
			all = append(all, j.ID)
		}
	} else {
		all = recordTypes[recordType](req.co)
	}
	s.mu.Unlock()
	from, to := min(offset, len(all)), min(offset+limit, len(all))
	type item struct {
		Links []link `json:"links"`
		ID    string `json:"id"`
	}
	items := make([]item, 0, to-from)
	for _, id := range all[from:to] {
		items = append(items, item{self(req.recordURL(recordType, id)), id})
	}
	q := url.Values{}
	return jsonResponse(http.StatusOK, ctCollection, collection{
		Links: pageLinks(req.base+RecordPath+"/"+recordType, q, limit, offset, len(all)),
		Count: len(items), HasMore: to < len(all), Items: items, Offset: offset, TotalResults: len(all),
	})
}

// getRecord answers GET /record/v1/{type}/{id} for the setup records
// (§4.3 field names).
func (s *Server) getRecord(req *apiRequest, recordType, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := req.co
	links := self(req.recordURL(recordType, id))
	var v any
	switch recordType {
	case "account":
		a := co.account(id)
		if a == nil {
			break
		}
		out := struct {
			Links      []link   `json:"links"`
			ID         string   `json:"id"`
			AcctNumber string   `json:"acctNumber"`
			AcctName   string   `json:"acctName"`
			AcctType   refJSON  `json:"acctType"`
			IsInactive bool     `json:"isInactive"`
			Currency   *refJSON `json:"currency,omitempty"`
		}{Links: links, ID: a.ID, AcctNumber: a.Number, AcctName: a.Name, AcctType: refJSON{Links: []link{}, ID: a.Type, RefName: a.Type}, IsInactive: a.Inactive}
		if c := co.currency(a.Currency); c != nil {
			r := req.ref("currency", c.ID, c.Name)
			out.Currency = &r
		}
		v = out
	case "subsidiary":
		sub := co.subsidiary(id)
		if sub == nil {
			break
		}
		cur := co.currency(sub.Currency)
		name := ""
		if cur != nil {
			name = cur.Name
		}
		v = struct {
			Links         []link  `json:"links"`
			ID            string  `json:"id"`
			Name          string  `json:"name"`
			Currency      refJSON `json:"currency"`
			IsElimination bool    `json:"isElimination"`
			IsInactive    bool    `json:"isInactive"`
		}{links, sub.ID, sub.Name, req.ref("currency", sub.Currency, name), sub.Elimination, sub.Inactive}
	case "currency":
		c := co.currency(id)
		if c == nil {
			break
		}
		v = struct {
			Links             []link `json:"links"`
			ID                string `json:"id"`
			Symbol            string `json:"symbol"`
			Name              string `json:"name"`
			CurrencyPrecision int    `json:"currencyPrecision"`
			IsInactive        bool   `json:"isInactive"`
		}{links, c.ID, c.Symbol, c.Name, c.Precision, c.Inactive}
	case "accountingperiod":
		p := co.period(id)
		if p == nil {
			break
		}
		v = struct {
			Links      []link `json:"links"`
			ID         string `json:"id"`
			PeriodName string `json:"periodName"`
			StartDate  string `json:"startDate"`
			EndDate    string `json:"endDate"`
			IsPosting  bool   `json:"isPosting"`
			Closed     bool   `json:"closed"`
			AllLocked  bool   `json:"allLocked"`
			ArLocked   bool   `json:"arLocked"`
			ApLocked   bool   `json:"apLocked"`
		}{links, p.ID, p.Name, p.Start, p.End, !p.Summary, p.Closed, p.AllLocked, p.ARLocked, p.APLocked}
	case "customer", "vendor":
		// The field names are NetSuite's; not in the reference.
		for _, e := range co.entities(recordType) {
			if e.ID != id {
				continue
			}
			out := struct {
				Links       []link   `json:"links"`
				ID          string   `json:"id"`
				EntityID    string   `json:"entityId"`
				CompanyName string   `json:"companyName"`
				IsPerson    bool     `json:"isPerson"`
				IsInactive  bool     `json:"isInactive"`
				Subsidiary  *refJSON `json:"subsidiary,omitempty"`
				Currency    *refJSON `json:"currency,omitempty"`
			}{Links: links, ID: e.ID, EntityID: e.EntityID, CompanyName: e.Name, IsInactive: e.Inactive}
			if sub := co.subsidiary(e.Subsidiary); sub != nil {
				r := req.ref("subsidiary", sub.ID, sub.Name)
				out.Subsidiary = &r
			}
			if c := co.currency(e.Currency); c != nil {
				r := req.ref("currency", c.ID, c.Name)
				out.Currency = &r
			}
			v = out
		}
	case "department", "classification", "location":
		list := map[string][]Segment{"department": co.Departments, "classification": co.Classes, "location": co.Locations}[recordType]
		for _, sg := range list {
			if sg.ID == id {
				v = struct {
					Links      []link `json:"links"`
					ID         string `json:"id"`
					Name       string `json:"name"`
					IsInactive bool   `json:"isInactive"`
				}{links, sg.ID, sg.Name, sg.Inactive}
			}
		}
	}
	if v == nil {
		return errorResponse(http.StatusNotFound, nonexistentID())
	}
	return jsonResponse(http.StatusOK, ctSingular, v)
}

// rawJSON passes JSON text (number text, a stored body) through as is.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }
