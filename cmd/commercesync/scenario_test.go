package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	freeagentsandbox "github.com/commercesync/commercesync/connectors/freeagent/sandbox"
	netsuitesandbox "github.com/commercesync/commercesync/connectors/netsuite/sandbox"
	qbosandbox "github.com/commercesync/commercesync/connectors/qbo/sandbox"
	sagesandbox "github.com/commercesync/commercesync/connectors/sage/sandbox"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/system"
)

// api is a REST client of the system under test, as a platform engineer
// would use it: JSON over real HTTP with a bearer key.
type api struct {
	t    testing.TB
	base string
	key  string
	hc   *http.Client
}

func (a *api) do(method, path string, body any, out any) int {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("encode %s %s: %v", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatalf("request %s %s: %v", method, path, err)
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("read %s %s: %v", method, path, err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s answered %d with %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func (a *api) must(method, path string, body any, out any) {
	a.t.Helper()
	var raw json.RawMessage
	if code := a.do(method, path, body, &raw); code != http.StatusOK {
		a.t.Fatalf("%s %s answered %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// eventually polls cond until it holds or the deadline passes; it is for
// outcomes that arrive asynchronously through the pipeline.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// movingClock is the injected clock: it starts at a fixed instant and
// moves with real time, so the test days are always "in the past" by the
// same amount while retries and token lifetimes still progress.
func movingClock(start time.Time) func() time.Time {
	t0 := time.Now()
	return func() time.Time { return start.Add(time.Since(t0)) }
}

// Dataset is two New York business days of a merchant's sales, with the
// totals per Xero account code worked out here, independently of the
// system: the expected journals.
type dataset struct {
	orders, payments, transactions []map[string]any
	// expected[day][accountCode] is the signed amount: + debit, - credit.
	expected map[string]map[string]decimal.Decimal
	days     []string
}

// roles are the account codes of a sandbox's default chart that the
// scenario maps.
type roles struct {
	sales, tax, tips, fees, card, cash, unsettled string
}

// journal is a platform's stored journal, read back from its sandbox and
// put in one shape: lines by account code, + debit, - credit.
type journal struct {
	ID, Date, Narration string
	Lines               []jline
}

type jline struct {
	Code   string
	Amount decimal.Decimal
}

// platform is one accounting platform as the end-to-end tests drive it.
type platform struct {
	key      string
	currency string // the sandbox organisation's base currency
	codes    roles
	consent  func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error)
	journals func(sys *system.System) []journal
	// books returns what the platform's posted documents of one day move
	// per account code, + debit, - credit; nil when the platform does not
	// take invoice mode.
	books func(sys *system.System, day string) map[string]decimal.Decimal
}

var xeroPlatform = platform{
	key: "xero", currency: "USD",
	codes: roles{sales: "200", tax: "820", tips: "801", fees: "404", card: "610", cash: "611", unsettled: "612"},
	consent: func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
		return xerosandbox.Approve(ctx, hc, authURL, "")
	},
	journals: func(sys *system.System) []journal {
		var out []journal
		for _, j := range sys.Xero.ManualJournals(xerosandbox.DefaultTenantID) {
			nj := journal{ID: j.ID, Date: j.Date, Narration: j.Narration}
			for _, l := range j.Lines {
				nj.Lines = append(nj.Lines, jline{Code: l.AccountCode, Amount: l.Amount})
			}
			out = append(out, nj)
		}
		return out
	},
	books: func(sys *system.System, day string) map[string]decimal.Decimal {
		return sys.Xero.Balances(xerosandbox.DefaultTenantID, day)
	},
}

var freeagentPlatform = platform{
	key: "freeagent", currency: "GBP",
	codes: roles{sales: "001", tax: "817", tips: "818", fees: "363", card: "671", cash: "672", unsettled: "673"},
	consent: func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
		return freeagentsandbox.Approve(ctx, hc, authURL, "")
	},
	journals: func(sys *system.System) []journal {
		var out []journal
		for _, j := range sys.FreeAgent.JournalSets(freeagentsandbox.DefaultSubdomain) {
			nj := journal{ID: fmt.Sprint(j.ID), Date: j.DatedOn, Narration: j.Description + " " + j.Tag}
			for _, e := range j.Entries {
				nj.Lines = append(nj.Lines, jline{Code: e.Category, Amount: e.DebitValue})
			}
			out = append(out, nj)
		}
		return out
	},
}

var netsuitePlatform = platform{
	key: "netsuite", currency: "USD",
	codes: roles{sales: "4000", tax: "2200", tips: "2210", fees: "6100", card: "1200", cash: "1210", unsettled: "1220"},
	consent: func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
		return netsuitesandbox.Approve(ctx, hc, authURL, "")
	},
	journals: func(sys *system.System) []journal {
		co, _ := sys.NetSuite.Company(netsuitesandbox.DefaultAccountID)
		number := map[string]string{}
		for _, a := range co.Accounts {
			number[a.ID] = a.Number
		}
		var out []journal
		for _, j := range sys.NetSuite.Journals(netsuitesandbox.DefaultAccountID) {
			nj := journal{ID: j.ID, Date: j.TranDate, Narration: j.Memo}
			for _, l := range j.Lines {
				nj.Lines = append(nj.Lines, jline{Code: number[l.Account], Amount: l.Debit.Sub(l.Credit)})
			}
			out = append(out, nj)
		}
		return out
	},
}

var sagePlatform = platform{
	key: "sage", currency: "GBP",
	codes: roles{sales: "4000", tax: "2200", tips: "2210", fees: "7900", card: "1110", cash: "1120", unsettled: "1130"},
	consent: func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
		return sagesandbox.Approve(ctx, hc, authURL)
	},
	journals: func(sys *system.System) []journal {
		code := map[string]string{}
		for _, c := range []int{4000, 2200, 2210, 7900, 1110, 1120, 1130} {
			code[sagesandbox.LedgerAccountID(sagesandbox.DefaultBusinessID, c)] = fmt.Sprint(c)
		}
		var out []journal
		for _, j := range sys.Sage.Journals(sagesandbox.DefaultBusinessID) {
			nj := journal{ID: j.ID, Date: j.Date, Narration: j.Reference + " " + j.Description}
			for _, l := range j.Lines {
				nj.Lines = append(nj.Lines, jline{Code: code[l.LedgerAccountID], Amount: l.Debit.Sub(l.Credit)})
			}
			out = append(out, nj)
		}
		return out
	},
}

var qboPlatform = platform{
	key: "qbo", currency: "USD",
	codes: roles{sales: "4000", tax: "2100", tips: "2200", fees: "6000", card: "1010", cash: "1020", unsettled: "1030"},
	consent: func(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
		return qbosandbox.Approve(ctx, hc, authURL, "")
	},
	journals: func(sys *system.System) []journal {
		co, _ := sys.QBO.Company(qbosandbox.DefaultRealmID)
		number := map[string]string{}
		for _, a := range co.Accounts {
			number[a.ID] = a.AcctNum
		}
		var out []journal
		for _, j := range sys.QBO.JournalEntries(qbosandbox.DefaultRealmID) {
			nj := journal{ID: j.ID, Date: j.TxnDate, Narration: j.DocNumber + " " + j.PrivateNote}
			for _, l := range j.Lines {
				amt := l.Amount
				if l.PostingType == "Credit" {
					amt = amt.Neg()
				}
				nj.Lines = append(nj.Lines, jline{Code: number[l.AccountID], Amount: amt})
			}
			out = append(out, nj)
		}
		return out
	},
	books: func(sys *system.System, day string) map[string]decimal.Decimal {
		return sys.QBO.Balances(qbosandbox.DefaultRealmID, day)
	},
}

// platforms are the platforms every end-to-end flow runs against.
var platforms = []platform{xeroPlatform, qboPlatform, sagePlatform, netsuitePlatform, freeagentPlatform}

func cents(c int64) decimal.Decimal { return decimal.New(c, -2) }

func num(d decimal.Decimal) json.Number { return json.Number(d.StringFixed(2)) }

func makeDataset(seed uint64, n int, p platform) dataset {
	codes, currency := p.codes, p.currency
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ds := dataset{expected: map[string]map[string]decimal.Decimal{}, days: []string{"2026-03-10", "2026-03-11"}}
	add := func(at time.Time, code string, amt decimal.Decimal) {
		d := at.In(ny).Format("2006-01-02")
		if ds.expected[d] == nil {
			ds.expected[d] = map[string]decimal.Decimal{}
		}
		ds.expected[d][code] = ds.expected[d][code].Add(amt)
	}
	day0 := time.Date(2026, 3, 10, 0, 0, 0, 0, ny)
	for i := range n {
		var closed, paidAt time.Time
		switch {
		case i == 0:
			// The order at 23:59:59 whose payment arrives at 00:00:01.
			closed = time.Date(2026, 3, 10, 23, 59, 59, 0, ny)
			paidAt = time.Date(2026, 3, 11, 0, 0, 1, 0, ny)
		default:
			d := i % 2
			closed = day0.AddDate(0, 0, d).Add(time.Duration(r.Int64N(int64(24*time.Hour - 2*time.Minute))))
			paidAt = closed.Add(time.Duration(r.Int64N(90)) * time.Second)
		}
		net := r.Int64N(20000) + 100
		tax := (net*85 + 500) / 1000 // 8.5%, rounded per order
		grat := int64(0)
		if r.IntN(4) == 0 {
			grat = r.Int64N(1500)
		}
		total := net + tax
		orderID := fmt.Sprintf("ord-%05d", i)
		payID := fmt.Sprintf("pay-%05d", i)
		ptype, tender := "Card", codes.card
		if r.IntN(10) < 3 {
			ptype, tender = "Cash", codes.cash
		}
		// Three timestamp forms, as the API accepts: Z, an offset, local.
		ds.orders = append(ds.orders, map[string]any{
			"id": orderID, "orderNumber": fmt.Sprintf("%d", 1000+i), "country": "USA", "currency": currency,
			"createdDate": closed.UTC().Format(time.RFC3339), "closedDate": closed.UTC().Format(time.RFC3339),
			"sourceModifiedDate": closed.UTC().Format(time.RFC3339),
			"totalAmount":        num(cents(total)), "totalRefund": 0, "totalTaxAmount": num(cents(tax)),
			"totalDiscount": 0, "totalGratuity": num(cents(grat)),
			"orderLineItems": []map[string]any{{"id": orderID + "-1", "quantity": 1, "taxPercentage": "8.5",
				"totalAmount": num(cents(total)), "totalTaxAmount": num(cents(tax)), "unitPrice": num(cents(net))}},
			"payments":    []map[string]any{{"id": payID, "amount": num(cents(total + grat)), "currency": currency, "type": ptype, "status": "Paid"}},
			"locationRef": map[string]any{"id": "loc-1"},
		})
		add(closed, codes.unsettled, cents(total+grat))
		add(closed, codes.sales, cents(net).Neg())
		add(closed, codes.tax, cents(tax).Neg())
		add(closed, codes.tips, cents(grat).Neg())

		ds.payments = append(ds.payments, map[string]any{
			"id": payID, "amount": num(cents(total + grat)), "currency": currency, "type": ptype, "status": "Paid",
			"createdDate": paidAt.Format(time.RFC3339), "sourceModifiedDate": paidAt.Format(time.RFC3339),
		})
		add(paidAt, tender, cents(total+grat))
		add(paidAt, codes.unsettled, cents(total+grat).Neg())

		local := paidAt.In(ny).Format("2006-01-02T15:04:05")
		ds.transactions = append(ds.transactions, map[string]any{
			"id": payID, "totalAmount": num(cents(total + grat)), "currency": currency, "type": "Payment",
			"transactionSourceRef": map[string]any{"id": orderID, "type": "Order"},
			"createdDate":          local, "sourceCreatedDate": local,
		})
		if ptype == "Card" {
			fee := ((total+grat)*29+500)/1000 + 30
			ds.transactions = append(ds.transactions, map[string]any{
				"id": payID, "totalAmount": num(cents(-fee)), "currency": currency, "type": "PaymentFee",
				"transactionSourceRef": map[string]any{"id": payID, "type": "Payment"},
				"createdDate":          local, "sourceCreatedDate": local,
			})
			add(paidAt, codes.fees, cents(fee))
			add(paidAt, codes.card, cents(fee).Neg())
		}
	}
	for _, accts := range ds.expected {
		for code, v := range accts {
			if v.IsZero() {
				delete(accts, code)
			}
		}
	}
	return ds
}

// scenario drives one merchant through the whole product over REST.
type scenario struct {
	t       testing.TB
	p       platform
	sys     *system.System
	api     *api
	company string
	ds      dataset
	// invoices configures invoice mode instead of journals.
	invoices bool
}

func newScenario(t testing.TB, sys *system.System, p platform, seed uint64, n int) *scenario {
	// The client keeps cookies, as the merchant's browser does: the link
	// sets the OAuth state cookie the callback checks.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Jar: jar}
	return &scenario{t: t, p: p, sys: sys, api: &api{t: t, base: sys.HTTPURL, key: sys.DevKey, hc: hc}, ds: makeDataset(seed, n, p)}
}

// connect creates the company, authorises the platform as a merchant's
// browser does (the linkUrl, which sets the state cookie and redirects to
// the sandbox's consent page, then the platform's redirect to the OAuth
// callback), and saves a configuration in Codat's shape.
func (s *scenario) connect(graceMinutes int) {
	t := s.t
	var company struct{ ID string }
	s.api.must("POST", "/v1/companies", map[string]any{"name": "Corner Coffee"}, &company)
	s.company = company.ID

	var conn struct{ ID, Status, LinkURL string }
	s.api.must("POST", "/v1/companies/"+s.company+"/connections", map[string]any{"platformKey": s.p.key}, &conn)
	if conn.Status != "PendingAuth" || conn.LinkURL == "" {
		t.Fatalf("new connection = %+v, want PendingAuth with a linkUrl", conn)
	}
	back, err := s.p.consent(context.Background(), s.api.hc, conn.LinkURL)
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	resp, err := s.api.hc.Get(back.String())
	if err != nil {
		t.Fatalf("oauth callback: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "is connected") {
		t.Fatalf("oauth callback answered %d: %s", resp.StatusCode, page)
	}
	s.api.must("GET", "/v1/companies/"+s.company+"/connections/"+conn.ID, nil, &conn)
	if conn.Status != "Linked" {
		t.Fatalf("connection status = %q after the callback, want Linked", conn.Status)
	}

	// The configuration's account options come from the connected
	// organisation's chart, as Codat's Sync Flow showed them.
	type option struct{ ID, Name, NominalCode string }
	var view struct {
		Configuration struct {
			Sales struct {
				Accounts      map[string]struct{ AccountOptions []option }
				SalesCustomer struct{ CustomerOptions []option }
			}
			Fees struct {
				FeesSupplier struct{ SupplierOptions []option }
			}
		}
	}
	eventually(t, 20*time.Second, "account options from the platform", func() bool {
		s.api.must("GET", "/v1/companies/"+s.company+"/sync/commerce/config", nil, &view)
		return len(view.Configuration.Sales.Accounts["sales"].AccountOptions) > 0
	})
	options := view.Configuration.Sales.Accounts["sales"].AccountOptions
	slot := func(code string) map[string]any {
		for _, o := range options {
			if o.NominalCode == code {
				return map[string]any{"selectedAccountId": o.ID, "required": true,
					"accountOptions": []map[string]any{{"id": o.ID, "name": o.Name, "nominalCode": o.NominalCode}}}
			}
		}
		t.Fatalf("the configuration offers no account %s", code)
		return nil
	}
	codes := s.p.codes
	cfg := map[string]any{
		"enable": true,
		"schedule": map[string]any{"selectedFrequency": "Daily", "frequencyOptions": []string{"Daily"},
			"syncHour": 0, "timeZone": "America/New_York", "graceMinutes": graceMinutes},
		"configuration": map[string]any{
			"countryCode": "US",
			"mapSettings": map[string]any{"outputFormat": "JournalEntry"},
			"sales": map[string]any{"syncSales": true, "accounts": map[string]any{
				"sales": slot(codes.sales), "tax": slot(codes.tax), "gratuity": slot(codes.tips)}},
			"payments": map[string]any{"syncPayments": true, "accounts": map[string]any{
				"card": slot(codes.card), "cash": slot(codes.cash), "unsettled": slot(codes.unsettled)}},
			"fees": map[string]any{"syncFees": true, "accounts": map[string]any{"paymentFee": slot(codes.fees)}},
		},
	}
	if s.invoices {
		// The commerce provider, among the contacts the platform offers,
		// is the customer of the daily invoice and the supplier of the fees.
		contact := func(options []option) string {
			for _, o := range options {
				if o.Name == "Commerce provider" {
					return o.ID
				}
			}
			t.Fatalf("the configuration offers no contact named Commerce provider: %+v", options)
			return ""
		}
		conf := cfg["configuration"].(map[string]any)
		conf["mapSettings"] = map[string]any{"outputFormat": "Invoice"}
		sales := conf["sales"].(map[string]any)
		sales["salesCustomer"] = map[string]any{"selectedCustomerId": contact(view.Configuration.Sales.SalesCustomer.CustomerOptions)}
		sales["invoiceStatus"] = map[string]any{"selectedInvoiceStatus": "Submitted"}
		conf["fees"].(map[string]any)["feesSupplier"] = map[string]any{"selectedSupplierId": contact(view.Configuration.Fees.FeesSupplier.SupplierOptions)}
	}
	var saved struct{ Version string }
	s.api.must("PUT", "/v1/companies/"+s.company+"/sync/commerce/config", cfg, &saved)
	if saved.Version != "1" {
		t.Fatalf("saved configuration version = %q, want 1", saved.Version)
	}
}

type pushResponse struct {
	Accepted int
	Rejected int
	Results  []struct {
		Index  int
		ID     string
		Status string
		Errors []struct{ Field, Message string }
	}
}

func (s *scenario) pushAll() {
	for _, route := range []struct {
		name string
		recs []map[string]any
	}{{"commerce-orders", s.ds.orders}, {"commerce-payments", s.ds.payments}, {"commerce-transactions", s.ds.transactions}} {
		for start := 0; start < len(route.recs); start += 400 {
			batch := route.recs[start:min(start+400, len(route.recs))]
			var resp pushResponse
			s.api.must("POST", "/v1/companies/"+s.company+"/data/"+route.name, batch, &resp)
			if resp.Accepted != len(batch) {
				s.t.Fatalf("%s: %d of %d accepted: %+v", route.name, resp.Accepted, len(batch), resp.Results)
			}
		}
	}
}

func (s *scenario) syncTo(at time.Time) {
	var sum struct{ SyncStatusCode int }
	s.api.must("POST", "/v1/companies/"+s.company+"/sync/commerce/latest", map[string]any{"syncTo": at.UTC().Format(time.RFC3339)}, &sum)
	if sum.SyncStatusCode != 1000 {
		s.t.Fatalf("sync/latest status code = %d, want 1000", sum.SyncStatusCode)
	}
}

type syncStatus struct {
	SyncStatus         string
	DocumentsConfirmed int
	DocumentsFailed    int
	DocumentsPlanned   int
	ErrorMessage       string
	Documents          []struct{ BusinessDay, Reference, State, ErrorMessage string }
}

func (s *scenario) status() syncStatus {
	var st syncStatus
	s.api.must("GET", "/v1/companies/"+s.company+"/sync/commerce/status", nil, &st)
	return st
}

func (s *scenario) waitConfirmed(n int) {
	s.t.Helper()
	eventually(s.t, 60*time.Second, fmt.Sprintf("%d confirmed documents", n), func() bool {
		st := s.status()
		if st.DocumentsFailed > 0 {
			s.t.Fatalf("a document failed: %+v", st)
		}
		return st.DocumentsConfirmed >= n
	})
}

// checkJournals compares the sandbox's journals, account by account, with
// what the dataset says each day must hold.
func (s *scenario) checkJournals(days []string) map[string]string {
	t := s.t
	t.Helper()
	refs := map[string]string{}
	byDay := map[string]int{}
	for _, j := range s.p.journals(s.sys) {
		byDay[j.Date]++
		var sum decimal.Decimal
		got := map[string]decimal.Decimal{}
		for _, l := range j.Lines {
			sum = sum.Add(l.Amount)
			got[l.Code] = got[l.Code].Add(l.Amount)
		}
		if !sum.IsZero() {
			t.Errorf("journal %s (%s) does not balance: lines sum to %s", j.ID, j.Date, sum)
		}
		want, ok := s.ds.expected[j.Date]
		if !ok {
			continue
		}
		refs[j.Date] = j.Narration
		for code, w := range want {
			if !got[code].Equal(w) {
				t.Errorf("day %s account %s: journal has %s, input says %s", j.Date, code, got[code], w)
			}
		}
		for code, g := range got {
			if _, ok := want[code]; !ok && !g.IsZero() {
				t.Errorf("day %s account %s: journal has %s, input says nothing", j.Date, code, g)
			}
		}
	}
	for _, d := range days {
		if byDay[d] != 1 {
			t.Errorf("day %s has %d journals, want exactly 1", d, byDay[d])
		}
	}
	return refs
}

// waitSettled waits until every one of days has documents and none is
// still to be sent, and returns how many documents each day has.
func (s *scenario) waitSettled(days []string) map[string]int {
	s.t.Helper()
	var per map[string]int
	var last syncStatus
	defer func() {
		if s.t.Failed() {
			s.t.Logf("last status: %+v", last)
		}
	}()
	eventually(s.t, 60*time.Second, fmt.Sprintf("every document of %v confirmed", days), func() bool {
		st := s.status()
		last = st
		if st.DocumentsFailed > 0 {
			s.t.Fatalf("a document failed: %+v", st)
		}
		per = map[string]int{}
		for _, d := range st.Documents {
			if d.State != "Confirmed" && d.State != "Superseded" {
				return false
			}
			per[d.BusinessDay]++
		}
		for _, d := range days {
			if per[d] == 0 {
				return false
			}
		}
		return true
	})
	return per
}

// checkBooks compares what the platform's documents of each day move, per
// account, with what the dataset says the day's journal holds: invoice
// mode must move the same amounts, and leave its receivable and payable
// control accounts at zero.
func (s *scenario) checkBooks(days []string) map[string]map[string]decimal.Decimal {
	t := s.t
	t.Helper()
	out := map[string]map[string]decimal.Decimal{}
	for _, d := range days {
		got := s.p.books(s.sys, d)
		out[d] = got
		want := s.ds.expected[d]
		for code, w := range want {
			if !got[code].Equal(w) {
				t.Errorf("day %s account %s: the documents move %s, the input says %s", d, code, got[code], w)
			}
		}
		for code, g := range got {
			if _, ok := want[code]; !ok && !g.IsZero() {
				t.Errorf("day %s account %s: the documents move %s, the input says nothing", d, code, g)
			}
		}
	}
	return out
}

func decimalZero() decimal.Decimal { return decimal.Zero }
