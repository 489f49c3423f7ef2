package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// maxBody bounds a request body; FreeAgent's limit is not in the
// reference (attachments go inline up to 5 MB, apis.md §5.2).
const maxBody = 10 << 20

// Access levels (FreeAgent's pages for journal sets and account locks; the
// numbers are not in the reference).
const (
	levelAccounting = 7 // "Tax, Accounting and Users"
	levelFull       = 8 // "Full Access"
)

type apiRequest struct {
	method    string
	path      string // below /v2
	query     url.Values
	body      []byte
	subdomain string
	userID    int
	// base is this server's API root as the client addressed it
	// ("http://127.0.0.1:8093/v2"): references are full URLs (apis.md §5.2).
	base string
	// self is the request URL without its query, for Link headers.
	self string
	now  time.Time
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// handleAPI runs every API call through FreeAgent's gates in the order a
// client observes them: token (401), User-Agent, rate limits (429), faults,
// then the route.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	path := strings.TrimPrefix(r.URL.Path, APIPath)

	s.mu.Lock()
	tok := s.authenticate(r, now)
	if tok == nil || s.companies[tok.Info.Subdomain] == nil {
		s.mu.Unlock()
		// 401 in the nested form (apis.md §5.5). The same answer for an
		// unknown and an expired token: the client refreshes either way.
		writeJSON(w, http.StatusUnauthorized, nested(s.msg.Unauthorized))
		return
	}
	if s.requireUA && r.Header.Get("User-Agent") == "" {
		s.mu.Unlock()
		// apis.md §5.1: "A User-Agent header is required".
		writeJSON(w, http.StatusBadRequest, nested(s.msg.UserAgentRequired))
		return
	}
	k := userKey{tok.Info.Subdomain, tok.Info.UserID}
	if !s.admit(w, k, strings.EqualFold(r.Header.Get("X-RateLimit-Test"), "true"), now) {
		s.mu.Unlock()
		return
	}
	st := s.stall
	fault, faulted := s.takeFault(r.Method, path)
	s.mu.Unlock()
	defer s.done(k)

	if st != nil && !st.Wait(r.Context()) {
		return
	}
	if faulted && fault.Delay > 0 && !sandboxkit.Hold(r.Context(), fault.Delay) {
		return
	}
	if faulted && fault.Status != 0 {
		s.writeFaultStatus(w, fault.Status)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeJSON(w, http.StatusRequestEntityTooLarge, nested("Request Entity Too Large"))
			return
		}
		writeJSON(w, http.StatusBadRequest, nested("The request body could not be read"))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &apiRequest{
		method: r.Method, path: path, query: r.URL.Query(), body: body,
		subdomain: tok.Info.Subdomain, userID: tok.Info.UserID,
		base: scheme + "://" + r.Host + APIPath, self: scheme + "://" + r.Host + r.URL.Path, now: now,
	}
	resp := s.route(req)
	s.log.Debug("freeagent sandbox api", "method", r.Method, "path", path, "company", tok.Info.Subdomain, "status", resp.status)
	if faulted && fault.DropResponse {
		// Committed; only the answer is lost, as after a network failure
		// (apis.md §6.6).
		sandboxkit.DropResponse()
	}
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func (s *Server) route(req *apiRequest) apiResponse {
	parts := strings.Split(strings.Trim(req.path, "/"), "/")
	resource, id := parts[0], ""
	if len(parts) > 1 {
		id = parts[1]
	}
	if len(parts) > 2 {
		return s.notFound()
	}
	switch {
	case resource == "company" && id == "" && req.method == http.MethodGet:
		return s.getCompany(req)
	case resource == "categories" && id == "" && req.method == http.MethodGet:
		return s.getCategories(req)
	case resource == "bank_accounts" && id == "" && req.method == http.MethodGet:
		return s.getBankAccounts(req)
	case resource == "account_locks" && id == "" && req.method == http.MethodGet:
		return s.getAccountLocks(req)
	case resource == "contacts" && req.method == http.MethodGet:
		return s.getContacts(req, id)
	case resource == "projects" && req.method == http.MethodGet:
		return s.getProjects(req, id)
	case resource == "journal_sets" && id == "" && req.method == http.MethodGet:
		return s.listJournalSets(req)
	case resource == "invoices" && id == "" && req.method == http.MethodPost:
		return s.createInvoice(req)
	case resource == "journal_sets" && id == "" && req.method == http.MethodPost:
		return s.createJournalSet(req)
	case resource == "journal_sets" && id != "" && req.method == http.MethodGet:
		return s.getJournalSet(req, id)
	case resource == "journal_sets" && id != "" && req.method == http.MethodDelete:
		return s.deleteJournalSet(req, id)
	}
	return s.notFound()
}

func jsonResponse(status int, v any) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return apiResponse{status: http.StatusInternalServerError, header: http.Header{}, body: []byte(`{"errors":{"error":{"message":"encoding failed"}}}`)}
	}
	return apiResponse{status: status, header: http.Header{}, body: b}
}

// notFound is the nested 404 of apis.md §5.5.
func (s *Server) notFound() apiResponse {
	return jsonResponse(http.StatusNotFound, nested(s.msg.NotFound))
}

// forbidden is the nested 403 of apis.md §5.5, for users below an
// endpoint's access level.
func (s *Server) forbidden() apiResponse {
	return jsonResponse(http.StatusForbidden, nested(s.msg.Forbidden))
}

// allowed reports whether the caller's access level reaches level. Caller
// holds s.mu.
func (s *Server) allowed(req *apiRequest, level int) bool {
	u := s.companies[req.subdomain].user(req.userID)
	return u != nil && u.PermissionLevel >= level
}

// companyJSON is GET /v2/company (apis.md §5.3: currency, sales tax
// registration).
type companyJSON struct {
	URL                        string `json:"url"`
	Name                       string `json:"name"`
	Subdomain                  string `json:"subdomain"`
	Type                       string `json:"type"`
	Currency                   string `json:"currency"`
	MileageUnits               string `json:"mileage_units,omitempty"`
	CompanyStartDate           string `json:"company_start_date,omitempty"`
	FreeAgentStartDate         string `json:"freeagent_start_date,omitempty"`
	FirstAccountingYearEnd     string `json:"first_accounting_year_end,omitempty"`
	SalesTaxRegistrationStatus string `json:"sales_tax_registration_status,omitempty"`
	SalesTaxRegistrationNumber string `json:"sales_tax_registration_number,omitempty"`
}

func (s *Server) getCompany(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[req.subdomain]
	return jsonResponse(http.StatusOK, map[string]companyJSON{"company": {
		URL: req.base + "/company", Name: c.Name, Subdomain: c.Subdomain, Type: c.Type, Currency: c.Currency,
		MileageUnits: c.MileageUnits, CompanyStartDate: c.CompanyStartDate, FreeAgentStartDate: c.FreeAgentStartDate,
		FirstAccountingYearEnd: c.FirstAccountingYearEnd, SalesTaxRegistrationStatus: c.SalesTaxRegistrationStatus,
		SalesTaxRegistrationNumber: c.SalesTaxRegistrationNumber,
	}})
}

// categoryJSON has the attributes of apis.md §5.3, in that order.
type categoryJSON struct {
	URL              string `json:"url"`
	Description      string `json:"description"`
	NominalCode      string `json:"nominal_code"`
	AllowableForTax  bool   `json:"allowable_for_tax"`
	AutoSalesTaxRate string `json:"auto_sales_tax_rate,omitempty"`
	TaxReportingName string `json:"tax_reporting_name,omitempty"`
}

// categoriesJSON is GET /v2/categories: four arrays (apis.md §5.3).
type categoriesJSON struct {
	AdminExpenses []categoryJSON `json:"admin_expenses_categories"`
	CostOfSales   []categoryJSON `json:"cost_of_sales_categories"`
	Income        []categoryJSON `json:"income_categories"`
	General       []categoryJSON `json:"general_categories"`
}

func (s *Server) getCategories(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := categoriesJSON{AdminExpenses: []categoryJSON{}, CostOfSales: []categoryJSON{}, Income: []categoryJSON{}, General: []categoryJSON{}}
	for _, c := range s.companies[req.subdomain].Categories {
		if c.Hidden {
			continue
		}
		j := categoryJSON{
			URL: req.base + "/categories/" + c.NominalCode, Description: c.Description, NominalCode: c.NominalCode,
			AllowableForTax: c.AllowableForTax, AutoSalesTaxRate: c.AutoSalesTaxRate, TaxReportingName: c.TaxReportingName,
		}
		switch c.Group {
		case GroupIncome:
			out.Income = append(out.Income, j)
		case GroupCostOfSales:
			out.CostOfSales = append(out.CostOfSales, j)
		case GroupAdminExpenses:
			out.AdminExpenses = append(out.AdminExpenses, j)
		default:
			out.General = append(out.General, j)
		}
	}
	return jsonResponse(http.StatusOK, out)
}

// bankAccountJSON is one entry of GET /v2/bank_accounts (apis.md §5.3:
// type, currency; FreeAgent's bank accounts page for status).
type bankAccountJSON struct {
	URL            string `json:"url"`
	Type           string `json:"type"`
	Name           string `json:"name"`
	Currency       string `json:"currency"`
	IsPersonal     bool   `json:"is_personal"`
	IsPrimary      bool   `json:"is_primary"`
	Status         string `json:"status"`
	BankName       string `json:"bank_name,omitempty"`
	OpeningBalance string `json:"opening_balance"`
	AccountNumber  string `json:"account_number,omitempty"`
	SortCode       string `json:"sort_code,omitempty"`
}

func (s *Server) getBankAccounts(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	accounts := s.companies[req.subdomain].BankAccounts
	pg, bad := paging(req, len(accounts))
	if bad != nil {
		return *bad
	}
	out := make([]bankAccountJSON, 0, pg.to-pg.from)
	for _, b := range accounts[pg.from:pg.to] {
		out = append(out, bankAccountJSON{
			URL: req.base + "/bank_accounts/" + strconv.Itoa(b.ID), Type: b.Type, Name: b.Name, Currency: b.Currency,
			IsPrimary: b.IsPrimary, Status: b.Status, BankName: b.BankName, OpeningBalance: b.OpeningBalance,
			AccountNumber: b.AccountNumber, SortCode: b.SortCode,
		})
	}
	resp := jsonResponse(http.StatusOK, map[string][]bankAccountJSON{"bank_accounts": out})
	resp.header.Set("Link", pg.link)
	return resp
}

type accountLockJSON struct {
	LockedToDate        string `json:"locked_to_date"`
	UserLock            bool   `json:"user_lock,omitempty"`
	LockedByDescription string `json:"locked_by_description,omitempty"`
}

// getAccountLocks is GET /v2/account_locks (FreeAgent's account locks page,
// "Minimum access level: Full Access").
func (s *Server) getAccountLocks(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(req, levelFull) {
		return s.forbidden()
	}
	out := []accountLockJSON{}
	for _, l := range s.companies[req.subdomain].AccountLocks {
		out = append(out, accountLockJSON{LockedToDate: l.LockedToDate, UserLock: l.UserLock, LockedByDescription: l.LockedByDescription})
	}
	return jsonResponse(http.StatusOK, map[string][]accountLockJSON{"account_locks": out})
}

type page struct {
	from, to int
	link     string
}

// paging applies ?page= and ?per_page= (default 25, at most 100) and builds
// the Link header with rel prev, next, first and last (apis.md §5.7).
func paging(req *apiRequest, total int) (page, *apiResponse) {
	num := func(name string, def int) (int, bool) {
		v := req.query.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n > 0
	}
	p, ok1 := num("page", 1)
	per, ok2 := num("per_page", DefaultPerPage)
	if !ok1 || !ok2 {
		// FreeAgent's answer to a bad page number is not in the reference.
		r := jsonResponse(http.StatusBadRequest, nested("page and per_page must be positive integers"))
		return page{}, &r
	}
	per = min(per, MaxPerPage)
	last := max((total+per-1)/per, 1)
	link := func(n int, rel string) string {
		q := url.Values{}
		for k, vs := range req.query {
			q[k] = vs
		}
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(per))
		return "<" + req.self + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	var links []string
	if p > 1 {
		links = append(links, link(min(p-1, last), "prev"))
	}
	if p < last {
		links = append(links, link(p+1, "next"))
	}
	links = append(links, link(1, "first"), link(last, "last"))
	from := min((p-1)*per, total)
	return page{from: from, to: min(from+per, total), link: strings.Join(links, ", ")}, nil
}

// rubyTime is the timestamp format of FreeAgent's examples
// ("2020-02-06T11:08:28.000Z").
const rubyTime = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(rubyTime) }

// resourceID reads the :id of a /v2/<resource>/:id path.
func resourceID(raw string) (int, bool) {
	id, err := strconv.Atoi(raw)
	return id, err == nil && id > 0
}

// listJournalSets is GET /v2/journal_sets with the tag filter (apis.md §5.4
// [UNVERIFIED], WithTagFilter) and paging (apis.md §5.7).
func (s *Server) listJournalSets(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(req, levelAccounting) {
		return s.forbidden()
	}
	tag := req.query.Get("tag")
	var hits []*JournalSet
	for _, j := range s.companies[req.subdomain].journals {
		if j.deleted || (s.tagFilter && tag != "" && j.Tag != tag) {
			continue
		}
		hits = append(hits, j)
	}
	pg, bad := paging(req, len(hits))
	if bad != nil {
		return *bad
	}
	out := make([]journalSetJSON, 0, pg.to-pg.from)
	for _, j := range hits[pg.from:pg.to] {
		out = append(out, j.render(req.base))
	}
	resp := jsonResponse(http.StatusOK, map[string][]journalSetJSON{"journal_sets": out})
	resp.header.Set("Link", pg.link)
	return resp
}

func (s *Server) getJournalSet(req *apiRequest, raw string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(req, levelAccounting) {
		return s.forbidden()
	}
	id, ok := resourceID(raw)
	j := s.companies[req.subdomain].journal(id)
	if !ok || j == nil || j.deleted {
		return s.notFound()
	}
	return jsonResponse(http.StatusOK, map[string]journalSetJSON{"journal_set": j.render(req.base)})
}

// deleteJournalSet is DELETE /v2/journal_sets/:id (200, FreeAgent's journal
// sets page).
func (s *Server) deleteJournalSet(req *apiRequest, raw string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(req, levelAccounting) {
		return s.forbidden()
	}
	id, ok := resourceID(raw)
	j := s.companies[req.subdomain].journal(id)
	if !ok || j == nil || j.deleted {
		return s.notFound()
	}
	j.deleted = true
	return apiResponse{status: http.StatusOK, header: http.Header{}, body: []byte("{}")}
}

// journalSetJSON and journalEntryJSON follow FreeAgent's journal sets page
// (apis.md §7) and apis.md §5.2.
type journalSetJSON struct {
	URL            string             `json:"url"`
	DatedOn        string             `json:"dated_on"`
	Description    string             `json:"description"`
	UpdatedAt      string             `json:"updated_at"`
	Tag            string             `json:"tag,omitempty"`
	JournalEntries []journalEntryJSON `json:"journal_entries"`
}

type journalEntryJSON struct {
	URL         string `json:"url"`
	Category    string `json:"category"`
	User        string `json:"user,omitempty"`
	Description string `json:"description,omitempty"`
	DebitValue  string `json:"debit_value"`
}

func (j *JournalSet) render(base string) journalSetJSON {
	out := journalSetJSON{
		URL: fmt.Sprintf("%s/journal_sets/%d", base, j.ID), DatedOn: j.DatedOn, Description: j.Description,
		UpdatedAt: fmtTime(j.UpdatedAt), Tag: j.Tag, JournalEntries: make([]journalEntryJSON, 0, len(j.Entries)),
	}
	for _, e := range j.Entries {
		out.JournalEntries = append(out.JournalEntries, journalEntryJSON{
			URL: fmt.Sprintf("%s/journal_entries/%d", base, e.ID), Category: base + "/categories/" + e.Category,
			User: e.User, Description: e.Description, DebitValue: e.DebitValue.StringFixed(2),
		})
	}
	return out
}
