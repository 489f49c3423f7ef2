package sandbox

import (
	"bytes"
	"crypto/sha256"
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

// maxBody is Xero's hard request size limit (accounting-platform-apis.md §1.6: "≤3.5 MB (10 MB hard)").
const maxBody = 10 << 20

type apiRequest struct {
	method   string
	path     string // below /api.xro/2.0
	query    url.Values
	body     []byte
	tenantID string
	provider string
	now      time.Time
}

type apiResponse struct {
	status      int
	contentType string
	body        []byte
}

// handleAPI runs every Accounting API call through Xero's gates in the
// order a client observes them: token (401), tenant (403), rate limits
// (429), then idempotency and the route.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	path := strings.TrimPrefix(r.URL.Path, APIPath)

	s.mu.Lock()
	tok, detail := s.authenticate(r, now)
	if tok == nil {
		s.mu.Unlock()
		unauthorized(w, detail)
		return
	}
	// Every call needs xero-tenant-id for a tenant this app was connected
	// to; otherwise 403 (accounting-platform-apis.md §1.1 requiredHeader, §1.5, §6.2).
	tenantID := r.Header.Get("Xero-Tenant-Id")
	if !s.connected(tok.ClientID, tenantID) {
		s.mu.Unlock()
		writeProblem(w, http.StatusForbidden, "Forbidden", "AuthenticationUnsuccessful")
		return
	}
	if !s.admitTenant(w, tok.ClientID, tenantID, now) {
		s.mu.Unlock()
		return
	}
	st := s.stall
	fault, faulted := s.takeFault(r.Method, path)
	client, _ := s.oauth.Client(tok.ClientID)
	provider := client.Name
	s.mu.Unlock()
	defer s.release(tenantID)

	if st != nil && !st.Wait(r.Context()) {
		return
	}
	if faulted && fault.Status != 0 {
		writeFaultStatus(w, fault.Status)
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
	req := &apiRequest{method: r.Method, path: path, query: r.URL.Query(), body: body, tenantID: tenantID, provider: provider, now: now}
	resp := s.idempotent(r, req, tok.ClientID)
	s.log.Debug("xero sandbox api", "method", r.Method, "path", path, "tenant", tenantID, "status", resp.status)
	if faulted && fault.DropResponse {
		// The work is committed and remembered under its idempotency key;
		// only the answer is lost, as after a network failure (accounting-platform-apis.md §6.6).
		sandboxkit.DropResponse()
	}
	w.Header().Set("Content-Type", resp.contentType)
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// connected reports whether clientID holds a connection to tenantID.
// Caller holds s.mu.
func (s *Server) connected(clientID, tenantID string) bool {
	if _, ok := s.orgs[tenantID]; !ok {
		return false
	}
	for _, c := range s.connections {
		if c.ClientID == clientID && c.TenantID == tenantID {
			return true
		}
	}
	return false
}

type idemKey struct{ clientID, key string }

type idemEntry struct {
	fingerprint [32]byte
	expires     time.Time
	done        chan struct{}
	resp        apiResponse
}

// idempotent applies the Idempotency-Key rules of accounting-platform-apis.md §1.4: keys are
// per app and live 6 minutes from first use; the same request replays the
// stored answer exactly (errors included), a concurrent repeat waits for
// the first; a different method, URL or body under the same key is a 400.
func (s *Server) idempotent(r *http.Request, req *apiRequest, clientID string) apiResponse {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || (req.method != http.MethodPut && req.method != http.MethodPost && req.method != http.MethodPatch) {
		return s.route(req)
	}
	if len(key) > MaxIdempotencyKeyLen {
		// accounting-platform-apis.md §1.4 "128 character max"; the message is not in the reference.
		return validationOnly(fmt.Sprintf("Idempotency Key %s is longer than %d characters.", key, MaxIdempotencyKeyLen))
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", req.method, r.URL.RequestURI(), req.tenantID)
	h.Write(req.body)
	var fp [32]byte
	h.Sum(fp[:0])

	ik := idemKey{clientID, key}
	s.mu.Lock()
	for k, e := range s.idem {
		if !req.now.Before(e.expires) {
			delete(s.idem, k)
		}
	}
	if e, ok := s.idem[ik]; ok {
		s.mu.Unlock()
		if e.fingerprint != fp {
			// accounting-platform-apis.md §1.4: 400 "Idempotency Key … is used with a different request."
			return validationOnly(fmt.Sprintf("Idempotency Key %s is used with a different request.", key))
		}
		select {
		case <-e.done:
			return e.resp
		case <-r.Context().Done():
			return apiResponse{status: http.StatusServiceUnavailable, contentType: "text/plain", body: []byte("client went away")}
		}
	}
	e := &idemEntry{fingerprint: fp, expires: req.now.Add(IdempotencyKeyTTL), done: make(chan struct{})}
	s.idem[ik] = e
	s.mu.Unlock()

	e.resp = s.route(req)
	close(e.done)
	return e.resp
}

func (s *Server) route(req *apiRequest) apiResponse {
	parts := strings.Split(strings.Trim(req.path, "/"), "/")
	resource := strings.ToLower(parts[0])
	id := ""
	if len(parts) > 1 {
		id = parts[1]
	}
	if len(parts) == 3 && resource == "creditnotes" && strings.EqualFold(parts[2], "Allocations") && req.method == http.MethodPut {
		return s.createAllocations(req, id)
	}
	if len(parts) > 2 {
		return notFound()
	}
	create := req.method == http.MethodPut || req.method == http.MethodPost
	switch {
	case resource == "contacts" && id == "" && req.method == http.MethodGet:
		return s.listContacts(req)
	case resource == "trackingcategories" && id == "" && req.method == http.MethodGet:
		return s.getTrackingCategories(req)
	case (resource == "invoices" || resource == "creditnotes") && id == "" && create:
		return s.createInvoices(req, resource == "creditnotes")
	case resource == "invoices" && id == "" && req.method == http.MethodGet:
		return s.listInvoices(req, false)
	case resource == "creditnotes" && req.method == http.MethodGet:
		if id != "" {
			return s.getCreditNote(req, id)
		}
		return s.listInvoices(req, true)
	case resource == "payments" && id == "" && create:
		return s.createPayments(req)
	case resource == "payments" && id == "" && req.method == http.MethodGet:
		return s.listPayments(req)
	case resource == "banktransactions" && id == "" && create:
		return s.createBankTransactions(req)
	case resource == "banktransactions" && id == "" && req.method == http.MethodGet:
		return s.listBankTransactions(req)
	case resource == "banktransfers" && id == "" && create:
		return s.createBankTransfers(req)
	case resource == "banktransfers" && id == "" && req.method == http.MethodGet:
		return s.listBankTransfers(req)
	}
	switch {
	case resource == "accounts" && id == "" && req.method == http.MethodGet:
		return s.getAccounts(req)
	case resource == "taxrates" && id == "" && req.method == http.MethodGet:
		return s.getTaxRates(req)
	case resource == "organisation" && id == "" && req.method == http.MethodGet:
		return s.getOrganisation(req)
	case resource == "currencies" && id == "" && req.method == http.MethodGet:
		return s.getCurrencies(req)
	case resource == "manualjournals" && req.method == http.MethodGet:
		if id != "" {
			return s.getManualJournal(req, id)
		}
		return s.listManualJournals(req)
	case resource == "manualjournals" && id == "" && (req.method == http.MethodPut || req.method == http.MethodPost):
		return s.createManualJournals(req)
	}
	return notFound()
}

func notFound() apiResponse {
	// accounting-platform-apis.md §1.5: 404 is plain text.
	return apiResponse{status: http.StatusNotFound, contentType: "text/plain; charset=utf-8", body: []byte("The resource you're looking for cannot be found")}
}

// xeroError is the spec's Error schema (accounting-platform-apis.md §1.5).
type xeroError struct {
	ErrorNumber int               `json:"ErrorNumber"`
	Type        string            `json:"Type"`
	Message     string            `json:"Message"`
	Elements    []json.RawMessage `json:"Elements,omitempty"`
}

type validationError struct {
	Message string `json:"Message"`
}

// validationException is the 400 a failed create answers with
// (accounting-platform-apis.md §1.5, ErrorNumber 10).
func validationException(elements []json.RawMessage) apiResponse {
	return jsonResponse(http.StatusBadRequest, xeroError{
		ErrorNumber: 10, Type: "ValidationException", Message: "A validation exception occurred", Elements: elements,
	})
}

// validationOnly is a ValidationException whose Message carries the reason
// and which has no elements, for request-level errors.
func validationOnly(msg string) apiResponse {
	return jsonResponse(http.StatusBadRequest, xeroError{ErrorNumber: 10, Type: "ValidationException", Message: msg})
}

// queryParseException answers a where= filter the sandbox cannot read.
// Xero's number and wording for it are not in the reference.
func queryParseException(err error) apiResponse {
	return jsonResponse(http.StatusBadRequest, xeroError{ErrorNumber: 16, Type: "QueryParseException", Message: err.Error()})
}

func jsonResponse(status int, v any) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return apiResponse{status: http.StatusInternalServerError, contentType: "text/plain", body: []byte(err.Error())}
	}
	return apiResponse{status: status, contentType: "application/json; charset=utf-8", body: b}
}

type field struct {
	key string
	val any
}

// okEnvelope writes the wrapper every Accounting response has (spec
// examples: Id, Status, ProviderName, DateTimeUTC, then the resource),
// keeping that field order.
func okEnvelope(req *apiRequest, fields ...field) apiResponse {
	var b bytes.Buffer
	head, _ := json.Marshal(struct {
		ID           string `json:"Id"`
		Status       string `json:"Status"`
		ProviderName string `json:"ProviderName"`
		DateTimeUTC  string `json:"DateTimeUTC"`
	}{newUUID(), "OK", req.provider, msDateTime(req.now)})
	b.Write(head[:len(head)-1])
	for _, f := range fields {
		v, err := json.Marshal(f.val)
		if err != nil {
			return apiResponse{status: http.StatusInternalServerError, contentType: "text/plain", body: []byte(err.Error())}
		}
		fmt.Fprintf(&b, ",%q:", f.key)
		b.Write(v)
	}
	b.WriteByte('}')
	return apiResponse{status: http.StatusOK, contentType: "application/json; charset=utf-8", body: b.Bytes()}
}

// msDateTime is the envelope's "/Date(1552595972952)/" (accounting-platform-apis.md §1.7).
func msDateTime(t time.Time) string {
	return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ")/"
}

// msDate is a resource date "/Date(1552521600000+0000)/" (accounting-platform-apis.md §1.7).
func msDate(t time.Time) string {
	return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + "+0000)/"
}

// org returns the tenant's organisation. Caller holds s.mu.
func (s *Server) org(tenantID string) *org { return s.orgs[tenantID] }

type accountJSON struct {
	AccountID               string `json:"AccountID"`
	Code                    string `json:"Code"`
	Name                    string `json:"Name"`
	Status                  string `json:"Status"`
	Type                    string `json:"Type"`
	TaxType                 string `json:"TaxType"`
	Class                   string `json:"Class"`
	SystemAccount           string `json:"SystemAccount,omitempty"`
	EnablePaymentsToAccount bool   `json:"EnablePaymentsToAccount"`
	ShowInExpenseClaims     bool   `json:"ShowInExpenseClaims"`
	BankAccountNumber       string `json:"BankAccountNumber,omitempty"`
	BankAccountType         string `json:"BankAccountType"`
	CurrencyCode            string `json:"CurrencyCode,omitempty"`
	Description             string `json:"Description,omitempty"`
	HasAttachments          bool   `json:"HasAttachments"`
	UpdatedDateUTC          string `json:"UpdatedDateUTC"`
}

func (s *Server) getAccounts(req *apiRequest) apiResponse {
	w, err := parseWhere(req.query.Get("where"))
	if err != nil {
		return queryParseException(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []accountJSON{}
	for _, a := range s.org(req.tenantID).Accounts {
		ok, err := w.match(map[string]string{
			"accountid": a.AccountID, "code": a.Code, "name": a.Name, "status": a.Status, "type": a.Type,
			"class": a.Class, "taxtype": a.TaxType, "systemaccount": a.SystemAccount, "bankaccounttype": a.BankAccountType,
			"currencycode": a.CurrencyCode, "enablepaymentstoaccount": strconv.FormatBool(a.EnablePaymentsToAccount),
		})
		if err != nil {
			return queryParseException(err)
		}
		if !ok {
			continue
		}
		out = append(out, accountJSON{
			AccountID: a.AccountID, Code: a.Code, Name: a.Name, Status: a.Status, Type: a.Type, TaxType: a.TaxType,
			Class: a.Class, SystemAccount: a.SystemAccount, EnablePaymentsToAccount: a.EnablePaymentsToAccount,
			BankAccountNumber: a.BankAccountNumber, BankAccountType: a.BankAccountType, CurrencyCode: a.CurrencyCode,
			Description: a.Description, UpdatedDateUTC: msDate(req.now),
		})
	}
	return okEnvelope(req, field{"Accounts", out})
}

type taxComponentJSON struct {
	Name             string          `json:"Name"`
	Rate             json.RawMessage `json:"Rate"`
	IsCompound       bool            `json:"IsCompound"`
	IsNonRecoverable bool            `json:"IsNonRecoverable"`
}

type taxRateJSON struct {
	Name                  string             `json:"Name"`
	TaxType               string             `json:"TaxType"`
	ReportTaxType         string             `json:"ReportTaxType"`
	CanApplyToAssets      bool               `json:"CanApplyToAssets"`
	CanApplyToEquity      bool               `json:"CanApplyToEquity"`
	CanApplyToExpenses    bool               `json:"CanApplyToExpenses"`
	CanApplyToLiabilities bool               `json:"CanApplyToLiabilities"`
	CanApplyToRevenue     bool               `json:"CanApplyToRevenue"`
	DisplayTaxRate        json.RawMessage    `json:"DisplayTaxRate"`
	EffectiveRate         json.RawMessage    `json:"EffectiveRate"`
	Status                string             `json:"Status"`
	TaxComponents         []taxComponentJSON `json:"TaxComponents"`
}

func (s *Server) getTaxRates(req *apiRequest) apiResponse {
	w, err := parseWhere(req.query.Get("where"))
	if err != nil {
		return queryParseException(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []taxRateJSON{}
	for _, t := range s.org(req.tenantID).TaxRates {
		ok, err := w.match(map[string]string{"name": t.Name, "taxtype": t.TaxType, "status": t.Status, "reporttaxtype": t.ReportTaxType})
		if err != nil {
			return queryParseException(err)
		}
		if !ok {
			continue
		}
		// Tax rates have 4 dp (accounting-platform-apis.md §1.7).
		rate, err := fixed(t.Rate, 4)
		if err != nil {
			return apiResponse{status: http.StatusInternalServerError, contentType: "text/plain", body: []byte(err.Error())}
		}
		out = append(out, taxRateJSON{
			Name: t.Name, TaxType: t.TaxType, ReportTaxType: t.ReportTaxType,
			CanApplyToAssets: true, CanApplyToEquity: true, CanApplyToExpenses: true, CanApplyToLiabilities: true, CanApplyToRevenue: true,
			DisplayTaxRate: rate, EffectiveRate: rate, Status: t.Status,
			TaxComponents: []taxComponentJSON{{Name: t.Name, Rate: rate}},
		})
	}
	return okEnvelope(req, field{"TaxRates", out})
}

type organisationJSON struct {
	OrganisationID        string   `json:"OrganisationID"`
	Name                  string   `json:"Name"`
	LegalName             string   `json:"LegalName"`
	PaysTax               bool     `json:"PaysTax"`
	Version               string   `json:"Version"`
	OrganisationType      string   `json:"OrganisationType"`
	BaseCurrency          string   `json:"BaseCurrency"`
	CountryCode           string   `json:"CountryCode"`
	IsDemoCompany         bool     `json:"IsDemoCompany"`
	OrganisationStatus    string   `json:"OrganisationStatus"`
	FinancialYearEndDay   int      `json:"FinancialYearEndDay"`
	FinancialYearEndMonth int      `json:"FinancialYearEndMonth"`
	SalesTaxBasis         string   `json:"SalesTaxBasis"`
	DefaultSalesTax       string   `json:"DefaultSalesTax"`
	DefaultPurchasesTax   string   `json:"DefaultPurchasesTax"`
	PeriodLockDate        string   `json:"PeriodLockDate,omitempty"`
	EndOfYearLockDate     string   `json:"EndOfYearLockDate,omitempty"`
	CreatedDateUTC        string   `json:"CreatedDateUTC"`
	Timezone              string   `json:"Timezone"`
	OrganisationEntity    string   `json:"OrganisationEntityType"`
	ShortCode             string   `json:"ShortCode"`
	Edition               string   `json:"Edition"`
	Class                 string   `json:"Class"`
	Addresses             []any    `json:"Addresses"`
	Phones                []any    `json:"Phones"`
	ExternalLinks         []any    `json:"ExternalLinks"`
	PaymentTerms          struct{} `json:"PaymentTerms"`
}

func (s *Server) getOrganisation(req *apiRequest) apiResponse {
	s.mu.Lock()
	o := s.org(req.tenantID).Organisation
	s.mu.Unlock()
	lock := func(d string) string {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return ""
		}
		return msDate(t)
	}
	// Field set and values follow the spec's /Organisation example.
	return okEnvelope(req, field{"Organisations", []organisationJSON{{
		OrganisationID: o.TenantID, Name: o.Name, LegalName: o.LegalName, PaysTax: true, Version: o.Version,
		OrganisationType: "COMPANY", BaseCurrency: o.BaseCurrency, CountryCode: o.CountryCode, OrganisationStatus: "ACTIVE",
		FinancialYearEndDay: 31, FinancialYearEndMonth: 12, SalesTaxBasis: "ACCRUALS",
		DefaultSalesTax: "Tax Exclusive", DefaultPurchasesTax: "Tax Exclusive",
		PeriodLockDate: lock(o.PeriodLockDate), EndOfYearLockDate: lock(o.EndOfYearLockDate),
		CreatedDateUTC: msDateTime(time.Date(2016, 2, 18, 20, 29, 53, 0, time.UTC)), Timezone: o.Timezone,
		OrganisationEntity: "COMPANY", ShortCode: o.ShortCode, Edition: "BUSINESS", Class: "PREMIUM",
		Addresses: []any{}, Phones: []any{}, ExternalLinks: []any{},
	}}})
}

// getTrackingCategories answers GET /TrackingCategories: active categories
// and their active options, archived ones too with includeArchived=true
// (accounting-platform-apis.md §1.3).
func (s *Server) getTrackingCategories(req *apiRequest) apiResponse {
	archived := strings.EqualFold(req.query.Get("includeArchived"), "true")
	type optionJSON struct {
		TrackingOptionID string `json:"TrackingOptionID"`
		Name             string `json:"Name"`
		Status           string `json:"Status"`
	}
	type categoryJSON struct {
		TrackingCategoryID string       `json:"TrackingCategoryID"`
		Name               string       `json:"Name"`
		Status             string       `json:"Status"`
		Options            []optionJSON `json:"Options"`
	}
	s.mu.Lock()
	cats := s.org(req.tenantID).clone().TrackingCategories
	s.mu.Unlock()
	out := []categoryJSON{}
	for _, c := range cats {
		if c.Status != "ACTIVE" && !archived {
			continue
		}
		cj := categoryJSON{TrackingCategoryID: c.TrackingCategoryID, Name: c.Name, Status: c.Status, Options: []optionJSON{}}
		for _, op := range c.Options {
			if op.Status != "ACTIVE" && !archived {
				continue
			}
			cj.Options = append(cj.Options, optionJSON{op.TrackingOptionID, op.Name, op.Status})
		}
		out = append(out, cj)
	}
	return okEnvelope(req, field{"TrackingCategories", out})
}

func (s *Server) getCurrencies(req *apiRequest) apiResponse {
	s.mu.Lock()
	cs := s.org(req.tenantID).Currencies
	type currencyJSON struct {
		Code        string `json:"Code"`
		Description string `json:"Description"`
	}
	out := make([]currencyJSON, len(cs))
	for i, c := range cs {
		out[i] = currencyJSON(c)
	}
	s.mu.Unlock()
	return okEnvelope(req, field{"Currencies", out})
}
