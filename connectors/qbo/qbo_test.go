package qbo_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/qbo"
	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func TestOAuthDanceTenantsAndLifetimes(t *testing.T) {
	f := newFixture(t)
	f.connect()
	if f.session.TenantID != sandbox.DefaultRealmID {
		t.Fatalf("realm from the redirect = %q, want %s", f.session.TenantID, sandbox.DefaultRealmID)
	}
	// §2.1: access 3600 s, refresh 8726400 s, token_type bearer.
	if got := f.first.Extra("expires_in"); got != float64(3600) {
		t.Fatalf("expires_in = %v, want 3600", got)
	}
	if got := f.first.Extra("x_refresh_token_expires_in"); got != float64(8726400) {
		t.Fatalf("x_refresh_token_expires_in = %v, want 8726400", got)
	}
	if f.first.RefreshToken == "" || !strings.EqualFold(f.first.TokenType, "bearer") {
		t.Fatalf("token = %+v", f.first)
	}

	// Without the redirect QuickBooks cannot say which company a token is
	// for: Tenants answers nothing, without an error.
	tenants, err := f.conn.Tenants(f.ctx, f.cfg.TokenSource(f.ctx, f.first))
	if err != nil || len(tenants) != 0 {
		t.Fatalf("tenants of a bare token = %v, %v; want none", tenants, err)
	}
	// With the realm remembered on the token, Tenants names the company.
	marked := qbo.WithRealmID(f.first, f.session.TenantID)
	if marked.Extra("x_refresh_token_expires_in") != float64(8726400) || qbo.RealmIDOf(marked) != sandbox.DefaultRealmID {
		t.Fatalf("WithRealmID lost the token's extras")
	}
	tenants, err = f.conn.Tenants(f.ctx, f.cfg.TokenSource(f.ctx, marked))
	want := connectors.Tenant{ID: sandbox.DefaultRealmID, Name: "Sandbox Company_US_1"}
	if err != nil || len(tenants) != 1 || tenants[0] != want {
		t.Fatalf("tenants = %v, %v; want [%v]", tenants, err, want)
	}

	for _, q := range []url.Values{{}, {"realmId": {""}}, {"realmId": {"12ab"}}, {"realmId": {"../1"}}} {
		if _, ok := f.conn.TenantFromCallback(q); ok {
			t.Errorf("TenantFromCallback(%v) accepted", q)
		}
	}
}

// The push worker checks a connection with the token as it stores it,
// which keeps no realm: QuickBooks lists no companies for a token, so the
// check must reach the connection's realm itself rather than look for it
// among Tenants (which would call a working connection deauthorized).
func TestCheckAccessReachesTheRealm(t *testing.T) {
	f := newFixture(t)
	f.connect()
	bare := connectors.Session{TenantID: f.session.TenantID, Tokens: f.cfg.TokenSource(f.ctx, f.first)}
	if err := connectors.CheckAccess(f.ctx, f.conn, bare); err != nil {
		t.Fatalf("access check of a working connection: %v", err)
	}
	if len(f.rec.all("/companyinfo/"+f.session.TenantID)) == 0 {
		t.Fatalf("the check did not read the realm's CompanyInfo")
	}
	other := connectors.Session{TenantID: "4620816365000000009", Tokens: bare.Tokens}
	ce := connectors.Classify(connectors.CheckAccess(f.ctx, f.conn, other))
	if ce == nil || !ce.Deauthorized {
		t.Fatalf("access check of a realm the token was not granted: %v, want deauthorized", ce)
	}
}

func TestSetup(t *testing.T) {
	f := newFixture(t)
	f.connect()
	setup, err := f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.BaseCurrency != "USD" || setup.LockDate != "" {
		t.Fatalf("base %q lock %q", setup.BaseCurrency, setup.LockDate)
	}
	byID := map[string]connectors.Account{}
	for _, a := range setup.Accounts {
		byID[a.ID] = a
	}
	if len(byID) != 19 {
		t.Fatalf("%d accounts, want the default chart's 19", len(byID))
	}
	checks := map[string]connectors.Account{
		sandbox.AccountChecking:     {ID: "35", Code: "1000", Name: "Checking", Type: "Bank", Class: "Asset", Status: "ACTIVE", Bank: true, EnablePayments: true, Currency: "USD"},
		sandbox.AccountCardClearing: {ID: "87", Code: "1010", Name: "Card clearing", Type: "Other Current Asset", Class: "Asset", Status: "ACTIVE", EnablePayments: true, Currency: "USD"},
		sandbox.AccountReceivable:   {ID: "84", Code: "1100", Name: "Accounts Receivable (A/R)", Type: "Accounts Receivable", Class: "Asset", Status: "ACTIVE", System: true, Currency: "USD"},
		sandbox.AccountSalesTax:     {ID: "44", Code: "2100", Name: "Sales Tax Payable", Type: "Other Current Liability", Class: "Liability", Status: "ACTIVE", Currency: "USD"},
		sandbox.AccountInactive:     {ID: "92", Code: "4090", Name: "Discontinued sales", Type: "Income", Class: "Revenue", Status: "INACTIVE", Currency: "USD"},
		sandbox.AccountBankFees:     {ID: "54", Code: "6000", Name: "Bank fees", Type: "Expense", Class: "Expense", Status: "ACTIVE", Currency: "USD"},
	}
	for id, want := range checks {
		if got := byID[id]; got != want {
			t.Errorf("account %s = %+v\nwant %+v", id, got, want)
		}
	}
	rates := map[string]connectors.TaxRate{}
	for _, r := range setup.TaxRates {
		rates[r.ID] = r
	}
	if r := rates["2"]; r.Rate != "8.5000" || r.Status != "ACTIVE" || r.Name != "California" {
		t.Errorf("tax code 2 = %+v", r)
	}
	if r := rates["3"]; r.Status != "INACTIVE" {
		t.Errorf("tax code 3 = %+v, want inactive", r)
	}
	if r := rates["NON"]; r.Rate != "0.0000" {
		t.Errorf("NON = %+v", r)
	}

	if err := f.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second) // QuickBooks allows 10 calls a second (§2.6)
	setup, err = f.conn.Setup(f.ctx, f.session)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if setup.LockDate != "2026-06-30" {
		t.Fatalf("lock date = %q, want 2026-06-30", setup.LockDate)
	}
}

const wantBody = `{"TxnDate":"2026-07-14","DocNumber":"acme-0714-r1","PrivateNote":"Daily sales summary 2026-07-14 USD [acme-0714-r1]",` +
	`"CurrencyRef":{"value":"USD"},"Line":[` +
	`{"Description":"line 87","Amount":108.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"87"}}},` +
	`{"Description":"line 79","Amount":100.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"79"}}},` +
	`{"Description":"line 44","Amount":8.50,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"44"}}}]}`

func TestPushExactPayloadReadBackAndRePush(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("acme-0714-r1")
	if _, found, err := f.conn.Find(f.ctx, f.session, r); err != nil || found {
		t.Fatalf("find before push: %v %v", found, err)
	}
	first, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	sent := f.rec.last(t, "/journalentry")
	if string(sent.reqBody) != wantBody {
		t.Fatalf("body:\n%s\nwant\n%s", sent.reqBody, wantBody)
	}
	u, _ := url.Parse(sent.url)
	if u.Path != "/v3/company/"+sandbox.DefaultRealmID+"/journalentry" || u.Query().Get("minorversion") != "75" || u.Query().Get("requestid") != "key-acme-0714-r1" {
		t.Fatalf("url %s", sent.url)
	}
	// The answer wraps the entity: {"JournalEntry":{…},"time":…} (§2.2).
	var wrapped struct {
		JournalEntry struct {
			ID        string `json:"Id"`
			SyncToken string
			TotalAmt  json.Number
		}
		Time string `json:"time"`
	}
	if err := json.Unmarshal(sent.respBody, &wrapped); err != nil || wrapped.JournalEntry.ID != first.ExternalID || wrapped.JournalEntry.SyncToken != "0" ||
		wrapped.JournalEntry.TotalAmt != "0" || wrapped.Time != "2026-07-15T02:00:00.000-07:00" {
		t.Fatalf("response %s", sent.respBody)
	}

	es := f.entries()
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	e := es[0]
	if e.ID != first.ExternalID || e.TxnDate != "2026-07-14" || e.DocNumber != "acme-0714-r1" || e.Currency != "USD" ||
		e.PrivateNote != "Daily sales summary 2026-07-14 USD [acme-0714-r1]" || e.RequestID != "key-acme-0714-r1" {
		t.Fatalf("entry %+v", e)
	}
	want := []struct{ acct, side, amt string }{{"87", "Debit", "108.5"}, {"79", "Credit", "100"}, {"44", "Credit", "8.5"}}
	for i, w := range want {
		l := e.Lines[i]
		if l.AccountID != w.acct || l.PostingType != w.side || !l.Amount.Equal(decimal.RequireFromString(w.amt)) {
			t.Errorf("line %d = %+v, want %v", i, l, w)
		}
	}

	// A re-push replays the first answer through the requestid, with the
	// same bytes.
	f.clock.Advance(30 * time.Minute)
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != first.ExternalID || len(f.entries()) != 1 {
		t.Fatalf("re-push: %+v %v, %d entries", again, cerr, len(f.entries()))
	}
	pushes := f.rec.all("/journalentry")
	if len(pushes) != 2 || string(pushes[1].reqBody) != string(pushes[0].reqBody) || pushes[1].url != pushes[0].url {
		t.Fatalf("the re-push was not byte-stable: %+v", pushes)
	}
	if string(pushes[1].respBody) != string(pushes[0].respBody) {
		t.Fatalf("the re-push was not a replay:\n%s\n%s", pushes[0].respBody, pushes[1].respBody)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("find = %+v %v %v", found, ok, err)
	}
	if _, ok, err := f.conn.Find(f.ctx, f.session, ref("acme-0714-r2")); err != nil || ok {
		t.Fatalf("find of another reference: %v %v", ok, err)
	}
}

// After QuickBooks forgets a requestid, the DocNumber still keeps the
// document single: the duplicate-number refusal (6140) resolves to the
// document already there.
func TestRePushAfterRequestIDForgottenFindsTheDocument(t *testing.T) {
	f := newFixture(t, sandbox.WithRequestIDMemory(24*time.Hour))
	f.connect()
	r := connectors.Reference{Value: "CS-0123456789ABCDEF0123", IdempotencyKey: "0123456789abcdef0123456789abcdef-c7"}
	first, cerr := f.push(balanced(), r)
	if cerr != nil {
		t.Fatalf("push: %v", cerr)
	}
	f.clock.Advance(25 * time.Hour)
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != first.ExternalID {
		t.Fatalf("re-push after the requestid was forgotten: %+v %v", again, cerr)
	}
	if n := len(f.entries()); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
	if dup := f.rec.last(t, "/journalentry"); dup.status != http.StatusBadRequest || !strings.Contains(string(dup.respBody), `"code":"6140"`) {
		t.Fatalf("the second push should have met 6140: %d %s", dup.status, dup.respBody)
	}
	// The planner's 23-character reference does not fit DocNumber (21):
	// it is shortened deterministically and kept whole in PrivateNote.
	e := f.entries()[0]
	if len(e.DocNumber) != 21 || !strings.HasPrefix(e.DocNumber, "CS-01234567") || !strings.HasSuffix(e.PrivateNote, "[CS-0123456789ABCDEF0123]") {
		t.Fatalf("entry %+v", e)
	}

}

// A DocNumber held by another transaction (the merchant's own) is the
// merchant's to fix: the 6140 stays, with QuickBooks' words.
func TestDocNumberTakenByAnotherTransaction(t *testing.T) {
	f := newFixture(t)
	f.connect()
	tok, err := f.session.Tokens.Token()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"DocNumber":"TAKEN-1","PrivateNote":"typed by hand [not ours]","CurrencyRef":{"value":"USD"},"Line":[` +
		`{"Amount":1,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"87"}}},` +
		`{"Amount":1,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"79"}}}]}`
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodPost, f.srv.URL+"/v3/company/"+sandbox.DefaultRealmID+"/journalentry", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seed: %v %v", resp, err)
	}
	resp.Body.Close()
	_, cerr := f.push(balanced(), ref("TAKEN-1"))
	want := "Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=TAKEN-1 is assigned to TxnType=Journal Entry with TxnId=" + f.entries()[0].ID
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Message != want || cerr.Field != "Reference" {
		t.Fatalf("push onto a taken number: %v", cerr)
	}
	if n := len(f.entries()); n != 1 {
		t.Fatalf("%d entries", n)
	}
}

func TestDroppedResponseThenFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	r := ref("dropped")
	f.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/journalentry", DropResponse: true})
	_, cerr := f.push(balanced(), r)
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("dropped response: %v, want retryable without status", cerr)
	}
	if n := len(f.entries()); n != 1 {
		t.Fatalf("the dropped call committed %d entries, want 1", n)
	}
	found, ok, err := f.conn.Find(f.ctx, f.session, r)
	if err != nil || !ok || found.ExternalID != f.entries()[0].ID {
		t.Fatalf("find after drop = %+v %v %v", found, ok, err)
	}
	again, cerr := f.push(balanced(), r)
	if cerr != nil || again.ExternalID != found.ExternalID || len(f.entries()) != 1 {
		t.Fatalf("retry after drop: %+v %v (%d entries)", again, cerr, len(f.entries()))
	}
}

// rejection is one refusal of the acceptance list: the sandbox's exact
// envelope, and how the connector classifies it.
type rejection struct {
	name     string
	prepare  func(*fixture)
	doc      *commercesyncv1.Document
	envelope string
	message  string
	field    string
}

func TestRejectionsExactEnvelopeAndClassification(t *testing.T) {
	const business = "A business validation error has occurred while processing your request"
	cases := []rejection{
		{
			name:     "unbalanced journal",
			doc:      journal("2026-07-14", "USD", line{"87", "100.00"}, line{"79", "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"` + business + `","Detail":"Business Validation Error: Journal Entry must be balanced: debits 100.00, credits 10.00.","code":"6000","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message:  "Business Validation Error: Journal Entry must be balanced: debits 100.00, credits 10.00.",
			field:    "Lines",
		},
		{
			name:     "inactive (archived) account",
			doc:      journal("2026-07-14", "USD", line{"87", "10.00"}, line{sandbox.AccountInactive, "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"Object Not Found","Detail":"Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.","code":"610","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message: "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees." +
				` Inactive in QuickBooks: account 4090 "Discontinued sales" (id 92).`,
			field: "AccountId",
		},
		{
			name: "closed period",
			prepare: func(f *fixture) {
				if err := f.sb.UpdateCompany(sandbox.DefaultRealmID, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
					f.t.Fatal(err)
				}
			},
			doc:      journal("2026-06-30", "USD", line{"87", "10.00"}, line{"79", "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"Account Period Closed, Cannot Update Through Services API","Detail":"The account period has closed and the account books cannot be updated through the QBO Services API. Please use the QBO website to make these changes.","code":"6210","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message:  "The account period has closed and the account books cannot be updated through the QBO Services API. Please use the QBO website to make these changes.",
			field:    "Date",
		},
		{
			name:     "currency not enabled",
			doc:      journal("2026-07-14", "CAD", line{"87", "10.00"}, line{"79", "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"` + business + `","Detail":"Business Validation Error: The currency CAD is not enabled for this company.","code":"6000","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message:  "Business Validation Error: The currency CAD is not enabled for this company.",
			field:    "Currency",
		},
		{
			name:     "unknown account",
			doc:      journal("2026-07-14", "USD", line{"87", "10.00"}, line{"999", "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Accounts element id 999 not found","code":"2500","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message:  "Invalid Reference Id : Accounts element id 999 not found",
			field:    "AccountId",
		},
		{
			name:     "receivable without a customer",
			doc:      journal("2026-07-14", "USD", line{sandbox.AccountReceivable, "10.00"}, line{"79", "-10.00"}),
			envelope: `{"Fault":{"Error":[{"Message":"` + business + `","Detail":"Business Validation Error: When you use Accounts Receivable, you must choose a customer in the Name field.","code":"6000","element":""}],"type":"ValidationFault"},"time":"2026-07-15T02:00:00.000-07:00"}`,
			message:  "Business Validation Error: When you use Accounts Receivable, you must choose a customer in the Name field.",
			field:    "Lines",
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.connect()
			if c.prepare != nil {
				c.prepare(f)
			}
			_, cerr := f.push(c.doc, ref("bad-"+string(rune('a'+i))))
			raw := f.rec.last(t, "/journalentry?")
			if raw.status != http.StatusBadRequest || string(raw.respBody) != c.envelope {
				t.Fatalf("sandbox answered %d\n%s\nwant 400\n%s", raw.status, raw.respBody, c.envelope)
			}
			if ct := raw.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || raw.header.Get("intuit_tid") == "" {
				t.Fatalf("headers %v", raw.header)
			}
			if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != http.StatusBadRequest {
				t.Fatalf("classified %v, want merchant-actionable 400", cerr)
			}
			if cerr.Message != c.message || cerr.Field != c.field {
				t.Fatalf("message %q field %q\nwant    %q field %q", cerr.Message, cerr.Field, c.message, c.field)
			}
			var fe *qbo.FaultError
			if !errors.As(cerr, &fe) || fe.Type != "ValidationFault" || fe.IntuitTID == "" {
				t.Fatalf("fault not kept: %#v", cerr.Err)
			}
			if n := len(f.entries()); n != 0 {
				t.Fatalf("%d entries stored from a refused push", n)
			}
		})
	}
}

const throttleEnvelope = `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429","Detail":"Too many requests for this company and application; retry later.","code":"3001","element":""}],"type":"SERVICE"},"time":"2026-07-15T02:00:01.000-07:00"}`

func TestEleventhConcurrentCallIsThrottled(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.clock.Advance(time.Second) // a fresh per-second window
	arrived, release := f.sb.Stall()
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = f.conn.Find(f.ctx, f.session, ref("concurrent")) })
	}
	for range 10 {
		<-arrived
	}
	// The held calls are admitted; the 11th is one too many (§2.6). The
	// clock moves a second so only concurrency, not the per-second limit,
	// can refuse it.
	f.clock.Advance(time.Second)
	// Were the 11th admitted, it would be held too: fail instead of waiting.
	done := make(chan error, 1)
	go func() { _, _, err := f.conn.Find(f.ctx, f.session, ref("concurrent")); done <- err }()
	var err error
	select {
	case err = <-done:
	case <-arrived:
		release()
		t.Fatal("the 11th concurrent call was admitted")
	}
	raw := f.rec.last(t, "/query")
	want := strings.Replace(throttleEnvelope, "02:00:01", "02:00:02", 1)
	if raw.status != http.StatusTooManyRequests || string(raw.respBody) != want || raw.header.Get("Retry-After") != "" {
		t.Fatalf("11th call: %d %v\n%s\nwant\n%s", raw.status, raw.header, raw.respBody, want)
	}
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.Throttled || ce.Status != http.StatusTooManyRequests || ce.RetryAfter != time.Minute {
		t.Fatalf("11th call classified %v, want throttled with the default 1m wait", err)
	}
	if !strings.Contains(ce.Message, "ThrottleExceeded") {
		t.Fatalf("message %q", ce.Message)
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("held call %d: %v", i, err)
		}
	}
	if _, _, err := f.conn.Find(f.ctx, f.session, ref("concurrent")); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestFiveHundredFirstCallInAMinuteIsThrottled(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.clock.Advance(time.Minute)
	// 500 calls spread over 50 seconds keep under 10 per second.
	for i := range 500 {
		if i%10 == 0 && i > 0 {
			f.clock.Advance(time.Second)
		}
		if _, _, err := f.conn.Find(f.ctx, f.session, ref("minute")); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	f.clock.Advance(time.Second)
	_, _, err := f.conn.Find(f.ctx, f.session, ref("minute"))
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Throttled || ce.Status != 429 {
		t.Fatalf("501st call: %v", err)
	}
	if raw := f.rec.last(t, "/query"); !strings.Contains(string(raw.respBody), `"code":"3001"`) {
		t.Fatalf("501st answer %s", raw.respBody)
	}
	// The first ten calls leave the rolling minute 60 s after they were made.
	f.clock.Advance(9 * time.Second)
	if _, _, err := f.conn.Find(f.ctx, f.session, ref("minute")); connectors.Classify(err).Class != connectors.Throttled {
		t.Fatalf("59 s after the first calls: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, _, err := f.conn.Find(f.ctx, f.session, ref("minute")); err != nil {
		t.Fatalf("after the window moved: %v", err)
	}
}

func TestExhaustRateLimit(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.sb.ExhaustRateLimit(sandbox.DefaultRealmID)
	_, _, err := f.conn.Find(f.ctx, f.session, ref("x"))
	if ce := connectors.Classify(err); ce == nil || ce.Class != connectors.Throttled {
		t.Fatalf("after ExhaustRateLimit: %v", err)
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.conn.Find(f.ctx, f.session, ref("x")); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

func TestExpiredAccessTokenRefreshesAndSavesTheRotatedToken(t *testing.T) {
	f := newFixture(t)
	f.connect()
	// The client believes its token fresh (its clock did not move);
	// QuickBooks' did, past 3600 s, so the push meets a 401 and refreshes once.
	f.clock.Advance(61 * time.Minute)
	if _, cerr := f.push(balanced(), ref("after-expiry")); cerr != nil {
		t.Fatalf("push with an expired access token: %v", cerr)
	}
	var unauthorized int
	for _, e := range f.rec.all("/v3/company/") {
		if e.status == http.StatusUnauthorized {
			unauthorized++
			if !strings.Contains(string(e.respBody), `"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired: `) {
				t.Fatalf("401 body %s", e.respBody)
			}
		}
	}
	if unauthorized != 1 {
		t.Fatalf("%d 401 answers, want 1", unauthorized)
	}
	saved := f.savedTokens()
	if len(saved) != 1 || saved[0].RefreshToken == "" || saved[0].RefreshToken == f.first.RefreshToken || saved[0].AccessToken == f.first.AccessToken {
		t.Fatalf("saved %+v: want one rotated token", saved)
	}
	if saved[0].Extra("x_refresh_token_expires_in") != float64(8726400) {
		t.Fatalf("rolling refresh lifetime %v", saved[0].Extra("x_refresh_token_expires_in"))
	}
	// Rotation: the previous refresh token is gone, the saved one works.
	_, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: f.first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 || string(re.Body) != `{"error":"invalid_grant"}` {
		t.Fatalf("previous refresh token: %v", err)
	}
	if c := connectors.Classify(err); c.Class != connectors.MerchantActionable {
		t.Fatalf("refused refresh classified %v", c.Class)
	}
	if _, err := f.cfg.TokenSource(f.ctx, &oauth2.Token{RefreshToken: saved[0].RefreshToken}).Token(); err != nil {
		t.Fatalf("saved refresh token: %v", err)
	}
}

func TestExpireAccessTokensFault(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.sb.ExpireAccessTokens()
	if _, err := f.conn.Setup(f.ctx, f.session); err != nil {
		t.Fatalf("setup after tokens were expired: %v", err)
	}
	if n := len(f.savedTokens()); n != 1 {
		t.Fatalf("%d tokens saved, want 1", n)
	}
}

func TestRefreshTokenExpiresAfterItsRollingLifetime(t *testing.T) {
	f := newFixture(t)
	f.connect()
	// Used within 101 days, the refresh token rolls on.
	f.clock.Advance(100 * 24 * time.Hour)
	if _, cerr := f.push(balanced(), ref("day-100")); cerr != nil {
		t.Fatalf("push on day 100: %v", cerr)
	}
	// Left unused for 8726400 s, it is refused: only a reconnect helps.
	f.clock.Advance(8726400 * time.Second)
	_, cerr := f.push(balanced(), ref("too-late"))
	if cerr == nil || cerr.Class != connectors.MerchantActionable {
		t.Fatalf("push after the refresh token expired: %v", cerr)
	}
}

func TestServerErrorsAreRetryableAndNotRemembered(t *testing.T) {
	f := newFixture(t)
	f.connect()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		f.sb.InjectFault(sandbox.Fault{Path: "/journalentry", Status: status})
		_, cerr := f.push(balanced(), ref("five-hundred"))
		if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != status {
			t.Fatalf("status %d: %v", status, cerr)
		}
		if raw := f.rec.last(t, "/journalentry"); !strings.Contains(string(raw.respBody), `"code":"10000"`) || !strings.Contains(string(raw.respBody), `"type":"SystemFault"`) {
			t.Fatalf("5xx body %s", raw.respBody)
		}
	}
	if _, cerr := f.push(balanced(), ref("five-hundred")); cerr != nil || len(f.entries()) != 1 {
		t.Fatalf("after the faults: %v", cerr)
	}
}

func TestSlowAnswerTimesOutThenFind(t *testing.T) {
	f := newFixture(t)
	f.connect()
	impatient := qbo.New(qbo.WithClientID(clientID), qbo.WithClientSecret(clientSecret), qbo.WithSandboxBase(f.srv.URL),
		qbo.WithHTTPClient(&http.Client{Transport: f.srv.Client().Transport, Timeout: 300 * time.Millisecond}))
	if _, err := impatient.Setup(f.ctx, f.session); err != nil { // warms the country cache
		t.Fatal(err)
	}
	f.sb.InjectFault(sandbox.Fault{Path: "/journalentry", Delay: time.Minute})
	_, err := impatient.Push(f.ctx, f.session, balanced(), ref("slow"))
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.Retryable || ce.Status != 0 || !strings.Contains(ce.Message, "timed out") {
		t.Fatalf("slow answer: %v", err)
	}
	found, ok, err := impatient.Find(f.ctx, f.session, ref("slow"))
	if err != nil || !ok || len(f.entries()) != 1 || found.ExternalID != f.entries()[0].ID {
		t.Fatalf("find after the timeout: %+v %v %v", found, ok, err)
	}
}

func TestFaultInA200Answer(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.sb.InjectFault(sandbox.Fault{Path: "/journalentry", FaultAs200: true})
	_, cerr := f.push(journal("2026-07-14", "USD", line{"87", "5.00"}, line{"79", "-4.00"}), ref("two-hundred"))
	if raw := f.rec.last(t, "/journalentry"); raw.status != http.StatusOK || !strings.HasPrefix(string(raw.respBody), `{"Fault":`) {
		t.Fatalf("raw %d %s", raw.status, raw.respBody)
	}
	if cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Status != http.StatusOK || cerr.Field != "Lines" {
		t.Fatalf("fault in a 200: %v", cerr)
	}
}

func TestForeignRealmNeedsReconnect(t *testing.T) {
	other := sandbox.Company{RealmID: "4620816365000000001", CompanyName: "Other Shop"}
	f := newFixture(t, sandbox.WithCompany(sandbox.DefaultCompany()), sandbox.WithCompany(other))
	f.connect()
	s := f.session
	s.TenantID = other.RealmID
	_, err := f.conn.Setup(f.ctx, s)
	ce := connectors.Classify(err)
	if ce == nil || ce.Class != connectors.MerchantActionable || ce.Status != http.StatusForbidden || !ce.Deauthorized {
		t.Fatalf("setup for a realm the token was not granted: %v (deauthorized %t), want a merchant-actionable 403 that deauthorizes", err, ce != nil && ce.Deauthorized)
	}
	if raw := f.rec.last(t, other.RealmID); !strings.Contains(string(raw.respBody), `"code":"3100"`) {
		t.Fatalf("403 body %s", raw.respBody)
	}
}

func TestNonUSCompanySendsGlobalTaxCalculation(t *testing.T) {
	uk := sandbox.DefaultCompany()
	uk.Country, uk.HomeCurrency, uk.TimeZone, uk.Currencies = "GB", "GBP", "Europe/London", nil
	uk.MultiCurrencyEnabled = false
	for i := range uk.Accounts {
		uk.Accounts[i].Currency = ""
	}
	f := newFixture(t, sandbox.WithCompany(uk))
	f.connect()
	doc := journal("2026-07-14", "GBP", line{"87", "12.00"}, line{"79", "-12.00"})
	if _, cerr := f.push(doc, ref("uk-1")); cerr != nil {
		t.Fatalf("push to a UK company: %v", cerr)
	}
	sent := f.rec.last(t, "/journalentry")
	if !strings.Contains(string(sent.reqBody), `"GlobalTaxCalculation":"TaxExcluded"`) {
		t.Fatalf("body %s", sent.reqBody)
	}
	if e := f.entries(); len(e) != 1 || e[0].Currency != "GBP" {
		t.Fatalf("entries %+v", e)
	}
}

func TestAccountCodesResolveToIDs(t *testing.T) {
	f := newFixture(t)
	f.connect()
	doc := &commercesyncv1.Document{Type: "ManualJournal", Date: "2026-07-14", Currency: "USD", Lines: []*commercesyncv1.DocumentLine{
		{AccountCode: "1010", Amount: "3.00"}, {AccountCode: "4000", Amount: "-3.00"},
	}}
	if _, cerr := f.push(doc, ref("by-code")); cerr != nil {
		t.Fatalf("push by account number: %v", cerr)
	}
	if e := f.entries()[0]; e.Lines[0].AccountID != sandbox.AccountCardClearing || e.Lines[1].AccountID != sandbox.AccountSales {
		t.Fatalf("lines %+v", e.Lines)
	}
	doc.Lines[1].AccountCode = "4999"
	if _, cerr := f.push(doc, ref("by-bad-code")); cerr == nil || cerr.Class != connectors.MerchantActionable || cerr.Field != "Lines[1].AccountCode" {
		t.Fatalf("unknown account number: %v", cerr)
	}
}

func TestInvalidDocumentsAreFatal(t *testing.T) {
	f := newFixture(t)
	f.connect()
	cases := map[string]struct {
		doc *commercesyncv1.Document
		ref connectors.Reference
	}{
		"three decimals":  {journal("2026-07-14", "USD", line{"87", "1.005"}, line{"79", "-1.005"}), ref("x")},
		"not a journal":   {&commercesyncv1.Document{Type: "Invoice", Date: "2026-07-14", Currency: "USD"}, ref("x")},
		"bad date":        {journal("14/07/2026", "USD", line{"87", "1"}, line{"79", "-1"}), ref("x")},
		"quote in ref":    {balanced(), ref(`a'b`)},
		"bracket in ref":  {balanced(), ref(`a]b`)},
		"one line":        {journal("2026-07-14", "USD", line{"87", "0"}, line{"79", "0"}), ref("x")},
		"no account":      {journal("2026-07-14", "USD", line{"", "1"}, line{"79", "-1"}), ref("x")},
		"not a number":    {journal("2026-07-14", "USD", line{"87", "1,00"}, line{"79", "-1"}), ref("x")},
		"empty reference": {balanced(), connectors.Reference{IdempotencyKey: "k"}},
		"no key":          {balanced(), connectors.Reference{Value: "v"}},
		"bad currency":    {journal("2026-07-14", "US", line{"87", "1"}, line{"79", "-1"}), ref("x")},
	}
	for name, c := range cases {
		_, cerr := f.push(c.doc, c.ref)
		if cerr == nil || cerr.Class != connectors.Fatal {
			t.Errorf("%s: %v, want fatal", name, cerr)
		}
	}
	if n := len(f.entries()); n != 0 {
		t.Fatalf("%d entries stored", n)
	}
	if len(f.rec.all("/journalentry")) != 0 {
		t.Fatal("an invalid document reached the platform")
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.connect()
	f.srv.Close()
	_, cerr := f.push(balanced(), ref("offline"))
	if cerr == nil || cerr.Class != connectors.Retryable || cerr.Status != 0 {
		t.Fatalf("push to a closed server: %v", cerr)
	}
}

func TestCapabilities(t *testing.T) {
	c := qbo.New()
	want := connectors.Capabilities{
		JournalMode: true, InvoiceMode: true, JournalForbidsSystemAccounts: true,
		MaxIdempotencyKeyLen: 50, MaxReferenceLen: 21, IdempotencyKind: "query",
		RequestsPerSecond: 10, RequestsPerMinute: 500, MaxConcurrent: 10,
		// Class and department (§2.3), sent on the lines; Intuit batch's
		// 30 items (§2.6); no hourly limit is published.
		TrackingDimensions: 2, LineTracking: true, MaxBatch: 30, RequestsPerHour: 0,
	}
	if got := c.Capabilities(); got != want {
		t.Fatalf("capabilities %+v\nwant %+v", got, want)
	}
	if c.Key() != "qbo" || c.Name() != "QuickBooks Online" {
		t.Fatal("key or name")
	}
	cfg := c.OAuthConfig("https://x.test/cb")
	if cfg.Endpoint.AuthURL != qbo.DefaultAuthURL || cfg.Endpoint.TokenURL != qbo.DefaultTokenURL ||
		cfg.Endpoint.AuthStyle != oauth2.AuthStyleInHeader || len(cfg.Scopes) != 1 || cfg.Scopes[0] != "com.intuit.quickbooks.accounting" {
		t.Fatalf("oauth config %+v", cfg)
	}
}
