package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

const (
	clientID     = "app"
	clientSecret = "secret"
	redirectURI  = "https://app.test/callback"
)

var start = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

var (
	card  = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 1110)
	sales = sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 4000)
)

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *sandbox.Clock
	sb    *sandbox.Server
	srv   *httptest.Server
	cfg   *oauth2.Config
	tok   *oauth2.Token
}

func newEnv(t *testing.T, opts ...sandbox.Option) *env {
	t.Helper()
	e := &env{t: t, clock: sandbox.NewClock(start)}
	e.sb = sandbox.New(append([]sandbox.Option{
		sandbox.WithClock(e.clock.Now),
		sandbox.WithClient(sandbox.Client{ID: clientID, Secret: clientSecret, Name: "Test App", RedirectURIs: []string{redirectURI}}),
	}, opts...)...)
	e.srv = httptest.NewServer(e.sb.Handler())
	t.Cleanup(e.srv.Close)
	e.ctx = context.WithValue(t.Context(), oauth2.HTTPClient, e.srv.Client())
	e.cfg = &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: []string{"full_access"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + sandbox.AuthorizePath + "?filter=apiv3.1", TokenURL: e.srv.URL + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInParams},
	}
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), e.cfg.AuthCodeURL("st"))
	if err != nil {
		t.Fatal(err)
	}
	e.tok, err = e.cfg.Exchange(e.ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// advance moves the clock and, as a client would, refreshes the 5-minute
// access token.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	tok, err := e.cfg.TokenSource(e.ctx, &oauth2.Token{RefreshToken: e.tok.RefreshToken}).Token()
	if err != nil {
		e.t.Fatalf("refresh: %v", err)
	}
	e.tok = tok
}

type result struct {
	status int
	header http.Header
	body   string
}

// api calls the Accounting API with the env's token; hdr are header
// name/value pairs ("" deletes).
func (e *env) api(method, path, body string, hdr ...string) result {
	e.t.Helper()
	return e.apiCtx(e.ctx, method, path, body, hdr...)
}

func (e *env) apiCtx(ctx context.Context, method, path, body string, hdr ...string) result {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+sandbox.APIPath+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Error(err)
		return result{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) expect(r result, status int, body string) {
	e.t.Helper()
	if r.status != status || r.body != body {
		e.t.Fatalf("answered %d %s\nwant     %d %s", r.status, r.body, status, body)
	}
}

const id1 = "3f2b9c1e8d7a4b6c9e0f1a2b3c4d5e6f"

// journalBody is a postJournals body; idem "" leaves idempotency_id out.
func journalBody(date, ref, idem, debit, credit string) string {
	id := ""
	if idem != "" {
		id = `"idempotency_id":"` + idem + `",`
	}
	return `{"journal":{"date":"` + date + `","reference":"` + ref + `",` + id + `"journal_lines":[` +
		`{"ledger_account_id":"` + card + `","debit":` + debit + `,"credit":0},` +
		`{"ledger_account_id":"` + sales + `","debit":0,"credit":` + credit + `}]}}`
}

func idOf(t *testing.T, r result) string {
	t.Helper()
	var j struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.body), &j); err != nil || j.ID == "" {
		t.Fatalf("no id in %d %s", r.status, r.body)
	}
	return j.ID
}

func TestUnauthorizedEnvelopes(t *testing.T) {
	e := newEnv(t)
	// apis.md §3.5: without the header an object, with a bad token an array.
	e.expect(e.api(http.MethodGet, "/financial_settings", "", "Authorization", ""), 401,
		`{"error":"Authorization missing. Please, add an authorization token at the 'Authorization' HTTP header."}`)
	e.expect(e.api(http.MethodGet, "/financial_settings", "", "Authorization", "Bearer nope"), 401,
		`[{"$severity":"error","$dataCode":"AccessTokenVerificationError","$message":"Access token is invalid (JWT malformed or missing).","$source":"Authorization"}]`)
	// Access tokens live 5 minutes.
	e.clock.Advance(4*time.Minute + 59*time.Second)
	if r := e.api(http.MethodGet, "/financial_settings", ""); r.status != 200 {
		t.Fatalf("token at 4:59 refused: %d", r.status)
	}
	e.clock.Advance(time.Second)
	if r := e.api(http.MethodGet, "/financial_settings", ""); r.status != 401 {
		t.Fatalf("token at 5:00 accepted: %d", r.status)
	}
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	post := func(form url.Values) result {
		resp, err := e.srv.Client().PostForm(e.srv.URL+sandbox.TokenPath, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{resp.StatusCode, resp.Header, string(b)}
	}
	refresh := func(rt string) result {
		return post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}, "client_secret": {clientSecret}})
	}
	r := refresh(e.tok.RefreshToken)
	var tok map[string]any
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if tok["expires_in"] != 300.0 || tok["refresh_token_expires_in"] != 2678400.0 || tok["token_type"] != "bearer" || tok["scope"] != "full_access" {
		t.Fatalf("token answer %s", r.body)
	}
	if !strings.HasPrefix(r.body, `{"access_token":`) {
		t.Fatalf("field order differs from Sage's sample: %s", r.body)
	}
	// Rotation on every use: the refresh token just used is dead.
	e.expect(refresh(e.tok.RefreshToken), 400, `{"error":"invalid_grant"}`)
	e.expect(refresh(tok["refresh_token"].(string)+"x"), 400, `{"error":"invalid_grant"}`)
	e.expect(post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}, "client_secret": {"wrong"}}),
		400, `{"error":"invalid_client"}`)
	if r := refresh(tok["refresh_token"].(string)); r.status != 200 {
		t.Fatalf("rotated refresh token refused: %s", r.body)
	}
}

func TestConsentErrors(t *testing.T) {
	e := newEnv(t)
	cfg := *e.cfg
	cfg.Scopes = []string{"everything"}
	loc, err := sandbox.Approve(e.ctx, e.srv.Client(), cfg.AuthCodeURL("st"))
	if err != nil || loc.Query().Get("error") != "invalid_scope" || loc.Query().Get("state") != "st" {
		t.Fatalf("unknown scope: %v %v", loc, err)
	}
	cfg = *e.cfg
	cfg.ClientID = "stranger"
	if _, err := sandbox.Approve(e.ctx, e.srv.Client(), cfg.AuthCodeURL("st")); err == nil {
		t.Fatal("an unknown client was redirected")
	}
}

func TestBusinessesAndDefaultBusiness(t *testing.T) {
	two := sandbox.DefaultBusiness()
	two.ID, two.Name, two.Lead = "1d40342d0287cd6b13555c54afca6c91", "Business Two", true
	two.LedgerAccounts = nil
	e := newEnv(t, sandbox.WithBusiness(sandbox.DefaultBusiness()), sandbox.WithBusiness(two))
	// apis.md §3.1's example envelope.
	e.expect(e.api(http.MethodGet, "/businesses", ""), 200,
		`{"$total":2,"$page":1,"$next":null,"$back":null,"$items_per_page":2147483647,"$items":[`+
			`{"id":"0d40342d0287cd6b13555c54afca6c90","displayed_as":"Business One","$path":"/businesses/0d40342d0287cd6b13555c54afca6c90"},`+
			`{"id":"1d40342d0287cd6b13555c54afca6c91","displayed_as":"Business Two","$path":"/businesses/1d40342d0287cd6b13555c54afca6c91"}]}`)
	// Without X-Business the lead business (Two, which has no accounts) answers.
	if r := e.api(http.MethodGet, "/ledger_accounts", ""); !strings.Contains(r.body, `"$total":0`) {
		t.Fatalf("lead business: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/ledger_accounts", "", "X-Business", sandbox.DefaultBusinessID); !strings.Contains(r.body, `"$total":16`) {
		t.Fatalf("X-Business: %s", r.body)
	}
	e.expect(e.api(http.MethodGet, "/ledger_accounts", "", "X-Business", "nope"), 404,
		`[{"$severity":"error","$dataCode":"ResourceNotFound","$message":"Business not found","$source":"X-Business"}]`)
}

func TestSetupReads(t *testing.T) {
	e := newEnv(t)
	if err := e.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "2026-03-31" }); err != nil {
		t.Fatal(err)
	}
	e.expect(e.api(http.MethodGet, "/financial_settings", ""), 200,
		`{"$path":"/financial_settings","year_end_date":"2027-03-31","year_end_lockdown_date":"2026-03-31","accounting_type":"accrual",`+
			`"accounts_start_date":"2024-04-01","base_currency":{"id":"GBP","displayed_as":"Pound Sterling (GBP)","$path":"/currencies/GBP"},`+
			`"multi_currency_enabled":true,"use_live_exchange_rates":false,"sales_tax_calculation":"invoice","purchase_tax_calculation":"invoice",`+
			`"updated_at":"2024-04-01T09:00:00Z"}`)
	// Lists show the base attributes only, unless asked.
	r := e.api(http.MethodGet, "/ledger_accounts?search=5000", "")
	e.expect(r, 200, `{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[`+
		`{"id":"`+sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 5000)+`","displayed_as":"Cost of sales - goods (5000)","$path":"/ledger_accounts/`+
		sandbox.LedgerAccountID(sandbox.DefaultBusinessID, 5000)+`"}]}`)
	r = e.api(http.MethodGet, "/ledger_accounts?search=5000&attributes=included_in_chart,nominal_code,ledger_account_type", "")
	if !strings.Contains(r.body, `"included_in_chart":false,"nominal_code":5000,"ledger_account_type":{"id":"DIRECT_EXPENSES","displayed_as":"Direct Expenses","$path":"/ledger_account_types/DIRECT_EXPENSES"}`) {
		t.Fatalf("attributes: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/ledger_accounts?show_included_in_chart=true", ""); !strings.Contains(r.body, `"$total":15`) {
		t.Fatalf("show_included_in_chart: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/ledger_accounts?ledger_account_type_id=BANK&attributes=all", ""); !strings.Contains(r.body, `"$total":1`) || !strings.Contains(r.body, `"visible_in_banking":true`) {
		t.Fatalf("type filter: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/tax_rates?attributes=percentage,is_visible", ""); !strings.Contains(r.body, `{"id":"GB_STANDARD","displayed_as":"Standard 20.00%","$path":"/tax_rates/GB_STANDARD","percentage":20.00,"is_visible":true}`) {
		t.Fatalf("tax rates: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/currencies?items_per_page=200", ""); !strings.Contains(r.body, `{"id":"JPY","displayed_as":"Japanese Yen (JPY)","$path":"/currencies/JPY"}`) {
		t.Fatalf("currencies: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/business_exchange_rates?attributes=all", ""); !strings.Contains(r.body, `"$total":2`) || strings.Contains(r.body, "JPY") {
		t.Fatalf("exchange rates: %s", r.body)
	}
	e.expect(e.api(http.MethodGet, "/nothing", ""), 404, `[{"$severity":"error","$message":"Resource not found","$dataCode":"ResourceNotFound"}]`)
	if r := e.api(http.MethodPut, "/financial_settings", "{}"); r.status != 405 {
		t.Fatalf("PUT financial_settings: %d", r.status)
	}
}

func TestJournalValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"no journal", `{}`, 422, `[{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"journal"}]`},
		{"required fields", `{"journal":{}}`, 422, `[` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"date"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"reference"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"journal_lines"}]`},
		{"line fields", `{"journal":{"date":"2026-07-14","reference":"R","journal_lines":[{"debit":1},{"ledger_account_id":"` + sales + `","debit":0,"credit":1}]}}`, 422, `[` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"journal_lines.credit"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"journal_lines.ledger_account_id"}]`},
		{"three decimals", journalBody("2026-07-14", "R", "", "1.005", "1.005"), 422, `[` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"Amounts can have at most 2 decimal places.","$source":"journal_lines.debit"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"Amounts can have at most 2 decimal places.","$source":"journal_lines.credit"}]`},
		{"negative", journalBody("2026-07-14", "R", "", "-1", "-1"), 422, `[` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"Amounts cannot be negative.","$source":"journal_lines.debit"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"Amounts cannot be negative.","$source":"journal_lines.credit"}]`},
		{"bad date and long reference", journalBody("2026-02-30", strings.Repeat("r", 256), "", "1", "1"), 422, `[` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is not a valid date.","$source":"date"},` +
			`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is too long (maximum is 255 characters).","$source":"reference"}]`},
		{"one line", `{"journal":{"date":"2026-07-14","reference":"R","journal_lines":[{"ledger_account_id":"` + sales + `","debit":0,"credit":0}]}}`, 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"A journal must have at least two journal lines.","$source":"journal_lines"}]`},
		{"malformed", `{"journal":`, 422, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.api(http.MethodPost, "/journals", c.body)
			if c.want == "" {
				if r.status != c.status || !strings.Contains(r.body, `"$dataCode":"ValidationError"`) {
					t.Fatalf("answered %d %s", r.status, r.body)
				}
				return
			}
			e.expect(r, c.status, c.want)
		})
	}
	// Strings are amounts too (apis.md §3.7).
	r := e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", "", `"55.55"`, `"55.55"`))
	if r.status != 201 || !strings.Contains(r.body, `"total":55.55`) {
		t.Fatalf("string amounts: %d %s", r.status, r.body)
	}
	// A body that is not JSON is refused with 415 (apis.md §3.5 status list).
	if r := e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", "", "1", "1"), "Content-Type", "text/plain"); r.status != 415 {
		t.Fatalf("text/plain: %d %s", r.status, r.body)
	}
	if n := len(e.sb.Journals(sandbox.DefaultBusinessID)); n != 1 {
		t.Fatalf("%d journals stored, want 1", n)
	}
}

func TestRoundExtraDecimalsRule(t *testing.T) {
	e := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.RoundExtraDecimals = true }))
	r := e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", "", "1.005", "1.005"))
	if r.status != 201 || !strings.Contains(r.body, `"total":1.01`) {
		t.Fatalf("rounded: %d %s", r.status, r.body)
	}
}

func TestJournalCreatedAndListed(t *testing.T) {
	e := newEnv(t)
	r := e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "DS-20260714", id1, "12.50", "12.50"))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	j := e.sb.Journals(sandbox.DefaultBusinessID)[0]
	want := `{"id":"` + j.ID + `","displayed_as":"DS-20260714","$path":"/journals/` + j.ID + `","created_at":"2026-07-15T09:00:00Z","updated_at":"2026-07-15T09:00:00Z",` +
		`"transaction":{"id":"` + j.TransactionID + `","displayed_as":"DS-20260714","$path":"/transactions/` + j.TransactionID + `"},` +
		`"transaction_type":{"id":"JOURNAL","displayed_as":"Journal","$path":"/transaction_types/JOURNAL"},"deleted_at":null,` +
		`"date":"2026-07-14","reference":"DS-20260714","description":"","total":12.50,"journal_code":null,"journal_lines":[` +
		`{"id":"` + j.Lines[0].ID + `","ledger_account":{"id":"` + card + `","displayed_as":"Card clearing (1110)","$path":"/ledger_accounts/` + card + `"},"details":"","debit":12.50,"credit":0.00,` +
		`"analysis_type_categories":[],"include_on_tax_return":false,"tax_reconciled":false,"cleared":false,"bank_reconciled":false},` +
		`{"id":"` + j.Lines[1].ID + `","ledger_account":{"id":"` + sales + `","displayed_as":"Sales - Products (4000)","$path":"/ledger_accounts/` + sales + `"},"details":"","debit":0.00,"credit":12.50,` +
		`"analysis_type_categories":[],"include_on_tax_return":false,"tax_reconciled":false,"cleared":false,"bank_reconciled":false}],"migrated":false}`
	e.expect(r, 201, want)
	if j.IdempotencyID != id1 {
		t.Fatalf("idempotency id read back %q", j.IdempotencyID)
	}
	e.expect(e.api(http.MethodGet, "/journals/"+j.ID, ""), 200, want)

	for i := range 4 {
		e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R"+string(rune('1'+i)), "", "1", "1"))
	}
	r = e.api(http.MethodGet, "/journals?items_per_page=2&page=2&attributes=reference", "")
	var pg struct {
		Total   int     `json:"$total"`
		Page    int     `json:"$page"`
		Next    *string `json:"$next"`
		Back    *string `json:"$back"`
		PerPage int     `json:"$itemsPerPage"`
		Items   []map[string]any
	}
	if err := json.Unmarshal([]byte(strings.Replace(r.body, `"$items"`, `"Items"`, 1)), &pg); err != nil {
		t.Fatal(err)
	}
	if pg.Total != 5 || pg.Page != 2 || pg.PerPage != 2 || len(pg.Items) != 2 || pg.Items[0]["reference"] != "R2" || len(pg.Items[0]) != 4 {
		t.Fatalf("page 2: %s", r.body)
	}
	if pg.Next == nil || *pg.Next != "/journals?attributes=reference&items_per_page=2&page=3" || pg.Back == nil || *pg.Back != "/journals?attributes=reference&items_per_page=2&page=1" {
		t.Fatalf("links: %s", r.body)
	}
	// updated_or_created_since is inclusive.
	e.advance(time.Hour)
	e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "LATER", "", "1", "1"))
	if r := e.api(http.MethodGet, "/journals?attributes=reference&updated_or_created_since=2026-07-15T10:00:00Z", ""); !strings.Contains(r.body, `"$total":1`) || !strings.Contains(r.body, "LATER") {
		t.Fatalf("since: %s", r.body)
	}
	if r := e.api(http.MethodDelete, "/journals/"+j.ID, ""); r.status != 204 || r.body != "" {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.expect(e.api(http.MethodGet, "/journals/"+j.ID, ""), 404, `[{"$severity":"error","$message":"Journal not found","$dataCode":"ResourceNotFound"}]`)
}

func TestIdempotency(t *testing.T) {
	body := journalBody("2026-07-14", "R", id1, "10", "10")
	other := journalBody("2026-07-14", "R", id1, "11", "11")
	t.Run("replays the first answer", func(t *testing.T) {
		e := newEnv(t)
		first := e.api(http.MethodPost, "/journals", body)
		again := e.api(http.MethodPost, "/journals", body)
		// Undocumented: a different body under the id gets the first answer by default.
		different := e.api(http.MethodPost, "/journals", other)
		if first.status != 201 || again.status != 201 || again.body != first.body || different.body != first.body {
			t.Fatalf("first %d, again %d %v, different %d", first.status, again.status, again.body == first.body, different.status)
		}
		if n := len(e.sb.Journals(sandbox.DefaultBusinessID)); n != 1 {
			t.Fatalf("%d journals, want 1", n)
		}
		// Keys are per business.
		if r := e.api(http.MethodPost, "/journals", body, "X-Business", "nope"); r.status != 404 {
			t.Fatalf("unknown business: %d", r.status)
		}
		// Forgotten after the retention (24 hours by default).
		e.advance(24 * time.Hour)
		if r := e.api(http.MethodPost, "/journals", body); r.status != 201 || r.body == first.body {
			t.Fatalf("after 24 h: %d", r.status)
		}
		if n := len(e.sb.Journals(sandbox.DefaultBusinessID)); n != 2 {
			t.Fatalf("%d journals, want 2", n)
		}
	})
	t.Run("reject rule", func(t *testing.T) {
		e := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.IdempotencyConflict = sandbox.Reject }))
		e.api(http.MethodPost, "/journals", body)
		e.expect(e.api(http.MethodPost, "/journals", other), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"This idempotency_id was already used with a different request.","$source":"idempotency_id"}]`)
	})
	t.Run("errors are not remembered", func(t *testing.T) {
		e := newEnv(t)
		if err := e.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "2026-07-31" }); err != nil {
			t.Fatal(err)
		}
		e.expect(e.api(http.MethodPost, "/journals", body), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The date 2026-07-14 is on or before the year end lockdown date 2026-07-31.","$source":"date"}]`)
		if err := e.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "" }); err != nil {
			t.Fatal(err)
		}
		if r := e.api(http.MethodPost, "/journals", body); r.status != 201 {
			t.Fatalf("after the merchant moved the lock date: %d %s", r.status, r.body)
		}
	})
	t.Run("errors remembered by rule", func(t *testing.T) {
		e := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.IdempotencyReplaysErrors = true }))
		if err := e.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "2026-07-31" }); err != nil {
			t.Fatal(err)
		}
		first := e.api(http.MethodPost, "/journals", body)
		_ = e.sb.UpdateBusiness(sandbox.DefaultBusinessID, func(b *sandbox.Business) { b.YearEndLockdownDate = "" })
		if r := e.api(http.MethodPost, "/journals", body); r.status != 422 || r.body != first.body {
			t.Fatalf("replayed error: %d %s", r.status, r.body)
		}
	})
	t.Run("format", func(t *testing.T) {
		e := newEnv(t)
		e.expect(e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", "3f2b9c1e-8d7a-4b6c-9e0f-1a2b3c4d5e6f", "1", "1")), 422,
			`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The idempotency_id must be a 32 character hyphenless GUID.","$source":"idempotency_id"}]`)
		loose := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.IdempotencyAnyFormat = true }))
		if r := loose.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", "any-key", "1", "1")); r.status != 201 {
			t.Fatalf("any format: %d %s", r.status, r.body)
		}
	})
	t.Run("placement", func(t *testing.T) {
		e := newEnv(t, sandbox.WithRules(func(r *sandbox.Rules) { r.IdempotencyPlacement = sandbox.AtRoot }))
		e.api(http.MethodPost, "/journals", body)
		e.api(http.MethodPost, "/journals", body)
		if n := len(e.sb.Journals(sandbox.DefaultBusinessID)); n != 2 {
			t.Fatalf("an id inside the resource was honoured under AtRoot: %d journals", n)
		}
		root := `{"idempotency_id":"` + id1 + `",` + strings.TrimPrefix(journalBody("2026-07-14", "R", "", "1", "1"), "{")
		a, b := e.api(http.MethodPost, "/journals", root), e.api(http.MethodPost, "/journals", root)
		if a.status != 201 || a.body != b.body {
			t.Fatalf("root id not replayed: %d %d", a.status, b.status)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Run("bytes per hour", func(t *testing.T) {
		e := newEnv(t, sandbox.WithLimits(sandbox.Limits{BytesPerHour: 1000}))
		for e.api(http.MethodGet, "/financial_settings", "").status == 200 {
			if e.clock.Now().After(start.Add(time.Minute)) {
				t.Fatal("the volume limit never bit")
			}
			e.clock.Advance(time.Second)
		}
		e.advance(time.Hour)
		if r := e.api(http.MethodGet, "/financial_settings", ""); r.status != 200 {
			t.Fatalf("after an hour: %d", r.status)
		}
	})
	t.Run("per day", func(t *testing.T) {
		e := newEnv(t, sandbox.WithLimits(sandbox.Limits{PerDay: 3}), sandbox.WithRules(func(r *sandbox.Rules) { r.RetryAfter = true }))
		for range 3 {
			e.api(http.MethodGet, "/financial_settings", "")
			e.advance(time.Hour)
		}
		r := e.api(http.MethodGet, "/financial_settings", "")
		if r.status != 429 || r.header.Get("Retry-After") != "75600" {
			t.Fatalf("4th call of the day: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
	})
	t.Run("exhaust", func(t *testing.T) {
		e := newEnv(t)
		e.sb.ExhaustRateLimit(sandbox.DefaultBusinessID)
		e.expect(e.api(http.MethodGet, "/financial_settings", ""), 429,
			`[{"$severity":"error","$dataCode":"TooManyRequests","$message":"Too many requests. Please try again later.","$source":""}]`)
		e.clock.Advance(time.Minute)
		if r := e.api(http.MethodGet, "/financial_settings", ""); r.status != 200 {
			t.Fatalf("a minute later: %d", r.status)
		}
	})
	t.Run("concurrency", func(t *testing.T) {
		e := newEnv(t, sandbox.WithLimits(sandbox.Limits{Concurrent: 1}))
		arrived, release := e.sb.Stall()
		done := make(chan result)
		go func() { done <- e.api(http.MethodGet, "/financial_settings", "") }()
		<-arrived
		// A second call must be refused at once, not held: give up after 5 s.
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		defer cancel()
		if r := e.apiCtx(ctx, http.MethodGet, "/tax_rates", ""); r.status != 429 {
			release()
			t.Fatalf("second call in flight: %d", r.status)
		}
		release()
		if r := <-done; r.status != 200 {
			t.Fatalf("held call: %d", r.status)
		}
	})
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	e.sb.InjectFault(sandbox.Fault{Path: "/journals", Status: 503, Times: 2})
	for range 2 {
		e.expect(e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", id1, "1", "1")), 503,
			`[{"$severity":"error","$dataCode":"ServiceUnavailable","$message":"Service Unavailable (injected by the sandbox)","$source":""}]`)
	}
	if r := e.api(http.MethodPost, "/journals", journalBody("2026-07-14", "R", id1, "1", "1")); r.status != 201 {
		t.Fatalf("after the fault: %d", r.status)
	}
	// A slow answer after commit: the client gives up, the journal stands.
	e.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Delay: time.Minute})
	impatient := &http.Client{Transport: e.srv.Client().Transport, Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+sandbox.APIPath+"/journals", strings.NewReader(journalBody("2026-07-14", "SLOW", "", "1", "1")))
	req.Header.Set("Authorization", "Bearer "+e.tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	_, err := impatient.Do(req)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow answer: %v, want a client timeout", err)
	}
	js := e.sb.Journals(sandbox.DefaultBusinessID)
	if len(js) != 2 || js[1].Reference != "SLOW" {
		t.Fatalf("%d journals, want the slow one committed", len(js))
	}
}

func TestStart(t *testing.T) {
	sb := sandbox.New()
	base, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	resp, err := http.Get(base + sandbox.APIPath + "/businesses")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unauthenticated call answered %d", resp.StatusCode)
	}
	if sb.LeadBusinessID() != sandbox.DefaultBusinessID || len(sb.BusinessIDs()) != 1 {
		t.Fatal("default business missing")
	}
}

// A sales invoice names its currency; one the business has not enabled is
// refused with the 422 array of apis.md §3.5, naming currency_id.
func TestSalesInvoiceCurrencyNotEnabled(t *testing.T) {
	e := newEnv(t)
	contact := sandbox.ContactID(sandbox.DefaultBusinessID, "Commerce provider")
	invoice := func(currency, contactID string) string {
		return `{"sales_invoice":{"contact_id":"` + contactID + `","date":"2026-07-14","reference":"CS-1","currency_id":"` + currency + `",` +
			`"invoice_lines":[{"description":"Sales","ledger_account_id":"` + sales + `","quantity":1,"unit_price":"10.00"}]}}`
	}
	e.expect(e.api(http.MethodPost, "/sales_invoices", invoice("JPY", contact)), 422,
		`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"The currency JPY is not enabled for this business.","$source":"currency_id"}]`)
	e.expect(e.api(http.MethodPost, "/sales_invoices", invoice("USD", "no-such-contact")), 404,
		`[{"$severity":"error","$message":"Contact not found","$dataCode":"ResourceNotFound"}]`)
	e.expect(e.api(http.MethodPost, "/sales_invoices", `{"sales_invoice":{"invoice_lines":[{}]}}`), 422, `[`+
		`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"contact_id"},`+
		`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"date"},`+
		`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"invoice_lines.description"},`+
		`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"invoice_lines.unit_price"},`+
		`{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is required.","$source":"invoice_lines.ledger_account_id"}]`)
	// USD has an exchange rate and multi-currency is on: accepted.
	if r := e.api(http.MethodPost, "/sales_invoices", invoice("USD", contact)); r.status != 201 || !strings.Contains(r.body, `"total_amount":10.00`) {
		t.Fatalf("USD invoice: %d %s", r.status, r.body)
	}
	if n := len(e.sb.SalesInvoices(sandbox.DefaultBusinessID)); n != 1 {
		t.Fatalf("%d invoices stored, want 1", n)
	}
}
