package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// seeded is the created_at of seeded records (not in the reference).
var seeded = time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)

// listBusinesses answers GET /businesses with the envelope of apis.md §3.1's
// example: every business of the user on one page, $items_per_page
// 2147483647, base attributes only.
func (s *Server) listBusinesses(req *apiRequest) apiResponse {
	s.mu.Lock()
	items := make([]object, 0, len(s.order))
	for _, id := range s.order {
		items = append(items, base(id, s.businesses[id].Name, "/businesses/"+id))
	}
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, object{
		{"$total", len(items)}, {"$page", 1}, {"$next", nil}, {"$back", nil},
		{"$items_per_page", math.MaxInt32}, {"$items", items},
	})
}

// ledgerAccountObject renders a ledger account with the spec's
// LedgerAccount fields in the spec's order.
func ledgerAccountObject(a LedgerAccount, taxRates []TaxRate) object {
	var taxRate any
	if a.TaxRateID != "" {
		name := a.TaxRateID
		for _, t := range taxRates {
			if t.ID == a.TaxRateID {
				name = t.Name
			}
		}
		taxRate = base(a.TaxRateID, name, "/tax_rates/"+a.TaxRateID)
	}
	v := visibility(a)
	scopes := []string{}
	for _, area := range visibleAreas {
		if v[area] {
			scopes = append(scopes, area)
		}
	}
	display := fmt.Sprintf("%s (%d)", a.Name, a.NominalCode)
	return object{
		{"id", a.ID}, {"displayed_as", display}, {"$path", "/ledger_accounts/" + a.ID},
		{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
		{"name", a.Name}, {"display_name", a.Name}, {"visible_scopes", scopes},
		{"included_in_chart", !a.Inactive}, {"nominal_code", a.NominalCode},
		{"ledger_account_type", base(a.TypeID, typeNames[a.TypeID], "/ledger_account_types/"+a.TypeID)},
		{"ledger_account_classification", nil},
		{"tax_rate", taxRate}, {"fixed_tax_rate", a.FixedTaxRate},
		{"visible_in_banking", v["banking"]}, {"visible_in_expenses", v["expenses"]},
		{"visible_in_journals", v["journals"]}, {"visible_in_other_payments", v["other_payments"]},
		{"visible_in_other_receipts", v["other_receipts"]}, {"visible_in_reporting", v["reporting"]},
		{"visible_in_sales", v["sales"]},
		{"is_control_account", a.IsControlAccount}, {"control_name", nullable(a.ControlName)},
		{"display_formatted", display},
	}
}

// visibleAreas are the values of the visible_in filter (apis.md §3.3).
var visibleAreas = []string{"banking", "expenses", "journals", "other_payments", "other_receipts", "reporting", "sales"}

// visibility says in which areas an account is offered. The defaults by
// type are the sandbox's (not in the reference): every account in journals
// and reporting, income in sales and other receipts, expenses in expenses
// and other payments, bank accounts in banking.
func visibility(a LedgerAccount) map[string]bool {
	v := map[string]bool{"journals": !a.NotInJournals, "reporting": true}
	switch a.TypeID {
	case "SALES", "OTHER_INCOME":
		v["sales"], v["other_receipts"] = true, true
	case "DIRECT_EXPENSES", "OVERHEADS", "DEPRECIATION":
		v["expenses"], v["other_payments"] = true, true
	case "BANK":
		v["banking"] = true
	}
	return v
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listLedgerAccounts answers GET /ledger_accounts with the filters of
// apis.md §3.3 the sandbox supports: visible_in, not_visible_in,
// show_included_in_chart, show_control_accounts, ledger_account_type_id
// and search (nominal code or name).
func (s *Server) listLedgerAccounts(req *apiRequest) apiResponse {
	q := req.query
	boolFilter := func(name string) (*bool, *apiResponse) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			resp := invalid(recordInvalid(name, "This field is not a valid boolean."))
			return nil, &resp
		}
		return &b, nil
	}
	inChart, bad := boolFilter("show_included_in_chart")
	if bad != nil {
		return *bad
	}
	control, bad := boolFilter("show_control_accounts")
	if bad != nil {
		return *bad
	}
	for _, name := range []string{"visible_in", "not_visible_in"} {
		if v := q.Get(name); v != "" && !slices.Contains(visibleAreas, v) {
			return invalid(recordInvalid(name, "This field is not valid."))
		}
	}
	search := strings.ToLower(q.Get("search"))
	s.mu.Lock()
	b := s.businesses[req.businessID]
	var items []object
	for _, a := range b.LedgerAccounts {
		vis := visibility(a)
		switch {
		case q.Get("visible_in") != "" && !vis[q.Get("visible_in")],
			q.Get("not_visible_in") != "" && vis[q.Get("not_visible_in")],
			inChart != nil && *inChart == a.Inactive,
			control != nil && *control != a.IsControlAccount,
			q.Get("ledger_account_type_id") != "" && q.Get("ledger_account_type_id") != a.TypeID,
			search != "" && !strings.Contains(strconv.Itoa(a.NominalCode), search) && !strings.Contains(strings.ToLower(a.Name), search):
			continue
		}
		items = append(items, ledgerAccountObject(a, b.TaxRates))
	}
	s.mu.Unlock()
	return page(req, items, "$itemsPerPage")
}

func (s *Server) getLedgerAccount(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	for _, a := range b.LedgerAccounts {
		if a.ID == key {
			return jsonResponse(http.StatusOK, ledgerAccountObject(a, b.TaxRates))
		}
	}
	return notFound("Ledger account not found")
}

// number renders a decimal string as a JSON number with dp places
// (spec: amounts and percentages are numbers).
func number(s string, dp int32) json.RawMessage {
	d, err := decimal.NewFromString(s)
	if err != nil {
		d = decimal.Zero
	}
	return json.RawMessage(d.StringFixed(dp))
}

// listTaxRates answers GET /tax_rates (apis.md §3.3; spec TaxRate).
func (s *Server) listTaxRates(req *apiRequest) apiResponse {
	s.mu.Lock()
	rates := slices.Clone(s.businesses[req.businessID].TaxRates)
	s.mu.Unlock()
	items := make([]object, 0, len(rates))
	for _, t := range rates {
		pct := number(t.Percentage, 2)
		items = append(items, object{
			{"id", t.ID}, {"displayed_as", t.Name}, {"$path", "/tax_rates/" + t.ID},
			{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
			{"name", t.Name}, {"agency", nil}, {"percentage", pct},
			{"percentages", []object{{{"percentage", pct}, {"from_date", "2011-01-04"}, {"to_date", nil}}}},
			{"is_visible", !t.Hidden}, {"retailer", false}, {"editable", false}, {"deletable", false},
			{"is_combined_rate", false}, {"component_tax_rates", []object{}},
		})
	}
	return page(req, items, "$itemsPerPage")
}

func currencyRef(code string) object {
	return base(code, fmt.Sprintf("%s (%s)", currencyNames[code], code), "/currencies/"+code)
}

// listCurrencies answers GET /currencies: the currencies Sage knows (spec:
// items are Base).
func (s *Server) listCurrencies(req *apiRequest) apiResponse {
	codes := make([]string, 0, len(currencyNames))
	for c := range currencyNames {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	items := make([]object, 0, len(codes))
	for _, c := range codes {
		items = append(items, currencyRef(c))
	}
	return page(req, items, "$itemsPerPage")
}

// listExchangeRates answers GET /business_exchange_rates: the foreign
// currencies the business has set a rate for (spec BusinessExchangeRate).
func (s *Server) listExchangeRates(req *apiRequest) apiResponse {
	s.mu.Lock()
	b := s.businesses[req.businessID]
	baseCur := b.BaseCurrency
	codes := make([]string, 0, len(b.ExchangeRates))
	rates := map[string]string{}
	for c, r := range b.ExchangeRates {
		codes = append(codes, c)
		rates[c] = r
	}
	s.mu.Unlock()
	slices.Sort(codes)
	items := make([]object, 0, len(codes))
	for _, c := range codes {
		rate, _ := decimal.NewFromString(rates[c])
		inverse := decimal.Zero
		if !rate.IsZero() {
			inverse = decimal.NewFromInt(1).DivRound(rate, 6)
		}
		items = append(items, object{
			{"id", c}, {"displayed_as", c}, {"$path", "/business_exchange_rates/" + c},
			{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
			{"rate", json.RawMessage(rate.StringFixed(6))}, {"inverse_rate", json.RawMessage(inverse.StringFixed(6))},
			{"base_currency", currencyRef(baseCur)}, {"currency", currencyRef(c)},
		})
	}
	return page(req, items, "$itemsPerPage")
}

// getFinancialSettings answers GET /financial_settings (apis.md §3.3; spec
// FinancialSettings), with the lock date as year_end_lockdown_date.
func (s *Server) getFinancialSettings(req *apiRequest) apiResponse {
	s.mu.Lock()
	b := s.businesses[req.businessID].Business.clone()
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, object{
		{"$path", "/financial_settings"},
		{"year_end_date", nullable(b.YearEndDate)},
		{"year_end_lockdown_date", nullable(b.YearEndLockdownDate)},
		{"accounting_type", b.AccountingType},
		{"accounts_start_date", nullable(b.AccountsStartDate)},
		{"base_currency", currencyRef(b.BaseCurrency)},
		{"multi_currency_enabled", b.MultiCurrencyEnabled},
		{"use_live_exchange_rates", false},
		{"sales_tax_calculation", "invoice"},
		{"purchase_tax_calculation", "invoice"},
		{"updated_at", timestamp(seeded)},
	})
}
