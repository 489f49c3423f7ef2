package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// These tests reproduce, over the REST API as a new user would meet them, the
// ways pushed records could slip past the gateway's checks: ids that collide
// once their invalid text is replaced, dates that freeze a record, fields of
// any size, and answers that named the wrong problem.

func newIngestAPI(t *testing.T) (*api, string) {
	t.Helper()
	sys := startSystem(t)
	a := &api{t: t, base: sys.HTTPURL, key: sys.DevKey, hc: &http.Client{Timeout: 30 * time.Second}}
	return a, newCompany(t, a, "Europe/London")
}

// salesOf seals 2026-03-10 in London and returns the day's sales credit.
func salesOf(t *testing.T, a *api, company string) string {
	t.Helper()
	a.must("POST", "/v1/companies/"+company+"/sync/commerce/latest", map[string]any{"syncTo": "2026-03-11T00:00:00Z"}, nil)
	days := waitDays(t, a, company, 1)
	var sales string
	for _, d := range days.Days {
		for _, l := range d.Lines {
			if l.Account == "sales" {
				sales = l.Credit
			}
		}
	}
	return sales
}

// refused checks that result i was rejected with an error on field whose
// message holds each of want.
func refused(t *testing.T, resp pushResponse, i int, field string, want ...string) {
	t.Helper()
	if i >= len(resp.Results) {
		t.Fatalf("no result %d: %+v", i, resp.Results)
	}
	r := resp.Results[i]
	if r.Status != "Rejected" {
		t.Errorf("record %d (%.40q) was %s, want Rejected naming %s", i, r.ID, r.Status, field)
		return
	}
	for _, e := range r.Errors {
		if e.Field != field {
			continue
		}
		for _, w := range want {
			if !strings.Contains(e.Message, w) {
				t.Errorf("record %d: %s: %q does not say %q", i, field, e.Message, w)
			}
		}
		return
	}
	t.Errorf("record %d: errors %+v do not name %s", i, r.Errors, field)
}

func londonOrder(id, amount, extra string) string {
	return `{"id":"` + id + `","currency":"GBP","createdDate":"2026-03-10T12:00:00Z","totalAmount":` + amount +
		`,"totalTaxAmount":0,"orderLineItems":[{"id":"l1","totalAmount":` + amount + `,"totalTaxAmount":0}]` + extra + `}`
}

// Finding 3: "S-\ud800" and "S-\udbff" both became "S-\ufffd", both were
// accepted, and the day counted only the second one's money. Lone
// surrogates are refused, naming the field, and never reach the day.
func TestSurrogateIDsAreRefusedNotMerged(t *testing.T) {
	a, company := newIngestAPI(t)
	body := "[" + londonOrder(`S-\ud800`, "10", "") + "," + londonOrder(`S-\udbff`, "20", "") + "," +
		londonOrder("S-ok", "5", "") + "]"
	var resp pushResponse
	a.must("POST", "/v1/companies/"+company+"/data/commerce-orders", []byte(body), &resp)
	if resp.Accepted != 1 || resp.Rejected != 2 {
		t.Errorf("accepted %d, rejected %d; want 1 and 2: %+v", resp.Accepted, resp.Rejected, resp.Results)
	}
	refused(t, resp, 0, "id", `\ud800`, "surrogate")
	refused(t, resp, 1, "id", `\udbff`, "surrogate")
	if sales := salesOf(t, a, company); sales != "5.00" {
		t.Errorf("sales = %s, want 5.00: only the valid order counts", sales)
	}
}

// Finding 4: an order modified "in 9999" was accepted and froze: later
// corrections and its delete were ignored. 0001-01-01 was accepted as a
// sourceModifiedDate and answered "is required" as a createdDate.
func TestFarFutureAndAncientDatesAreRefused(t *testing.T) {
	a, company := newIngestAPI(t)
	orders := "/v1/companies/" + company + "/data/commerce-orders"
	var resp pushResponse
	a.must("POST", orders, []byte("["+
		londonOrder("frozen-1", "50", `,"sourceModifiedDate":"9999-12-31T23:59:59Z"`)+","+
		londonOrder("ancient-1", "60", `,"sourceModifiedDate":"0001-01-01T00:00:00Z"`)+","+
		strings.Replace(londonOrder("ancient-2", "70", ""), "2026-03-10T12:00:00Z", "0001-01-01T00:00:00Z", 1)+"]"), &resp)
	refused(t, resp, 0, "sourceModifiedDate", "9999-12-31T23:59:59Z", "ahead of the server's clock")
	refused(t, resp, 1, "sourceModifiedDate", "out of range", "1970")
	refused(t, resp, 2, "createdDate", "out of range", "1970")
	for _, e := range resp.Results[2].Errors {
		if strings.Contains(e.Message, "is required") {
			t.Errorf("a createdDate of 0001-01-01 is answered %q", e.Message)
		}
	}

	// The record is not frozen: its versions and a delete all take effect.
	for _, body := range []string{
		"[" + londonOrder("frozen-1", "10", `,"sourceModifiedDate":"2026-03-10T12:00:00Z"`) + "]",
		"[" + londonOrder("frozen-1", "12", `,"sourceModifiedDate":"2026-03-10T13:00:00Z"`) + "]",
		"[" + londonOrder("gone-1", "7", `,"sourceModifiedDate":"2026-03-10T12:00:00Z"`) + "]",
		`[{"id":"gone-1"}]`,
	} {
		a.must("POST", orders, []byte(body), &resp)
		if resp.Accepted != 1 {
			t.Fatalf("%s: %+v", body, resp.Results)
		}
	}
	if sales := salesOf(t, a, company); sales != "12.00" {
		t.Errorf("sales = %s, want 12.00: the latest version of frozen-1, and gone-1 deleted", sales)
	}
}

// Finding 6: ids of 500 KB were accepted, and a 1 MB orderNumber was
// answered "Rejected … MESSAGE_TOO_LARGE …; send it again", which names no
// field and which resending cannot help. Each is refused naming the field
// and the limit; the valid records beside them are accepted.
func TestOversizedFieldsAreRefusedNamingTheField(t *testing.T) {
	a, company := newIngestAPI(t)
	bigID := strings.Repeat("i", 500<<10)
	bigNumber := strings.Repeat("7", 1<<20)
	body := "[" + londonOrder(bigID, "10", "") + "," +
		londonOrder("big-number", "10", `,"orderNumber":"`+bigNumber+`"`) + "," +
		londonOrder("ok-1", "3", `,"orderNumber":"`+strings.Repeat("7", 255)+`"`) + "]"
	var resp pushResponse
	a.must("POST", "/v1/companies/"+company+"/data/commerce-orders", []byte(body), &resp)
	refused(t, resp, 0, "id", fmt.Sprintf("is %d bytes; the limit is 255", len(bigID)))
	refused(t, resp, 1, "orderNumber", fmt.Sprintf("is %d bytes; the limit is 255", len(bigNumber)))
	for _, r := range resp.Results[:2] {
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "MESSAGE_TOO_LARGE") || strings.Contains(e.Message, "send it again") {
				t.Errorf("record %d answered %q", r.Index, e.Message)
			}
		}
	}
	if len(resp.Results[0].ID) > 255 {
		t.Errorf("the answer echoes the %d-byte id", len(resp.Results[0].ID))
	}
	if resp.Accepted != 1 || resp.Results[2].Status != "Accepted" {
		t.Errorf("the valid order beside them: %+v", resp.Results[2])
	}
}

// rawRequest sends a request as a client would, without the harness's
// defaults, and returns the status, the Allow header and the body.
func rawRequest(t *testing.T, method, url, key string, body []byte) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Allow"), string(b)
}

// Finding 7: a POST without a key but with a bad body answered 400, because
// the body was read before the key was checked.
func TestKeyIsCheckedBeforeTheBody(t *testing.T) {
	a, company := newIngestAPI(t)
	p := a.base + "/v1/companies/" + company
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/companies"},
		{"PUT", "/v1/companies/" + company + "/sync/commerce/config"},
		{"POST", "/v1/companies/" + company + "/sync/commerce/latest"},
		{"POST", "/v1/companies/" + company + "/connections"},
		{"POST", "/v1/companies/" + company + "/data/commerce-orders"},
		{"PUT", "/v1/companies/" + company + "/data/commerce-products"},
	} {
		for _, key := range []string{"", "csk_not-a-key"} {
			code, _, msg := rawRequest(t, r.method, a.base+r.path, key, []byte(`{not json`))
			if code != http.StatusUnauthorized || !strings.Contains(msg, "API key") {
				t.Errorf("%s %s with a bad body and key %q: %d %s, want 401", r.method, r.path, key, code, msg)
			}
		}
	}
	// With the key, the same body is the problem.
	if code, _, msg := rawRequest(t, "POST", p+"/data/commerce-orders", a.key, []byte(`{not json`)); code != http.StatusBadRequest {
		t.Errorf("a bad body with a good key: %d %s, want 400", code, msg)
	}
}

// Finding 7: GET /v1/companies and OPTIONS answered 501. A method a known
// path does not take answers 405 with the methods it does take.
func TestUnknownMethodAnswers405WithAllow(t *testing.T) {
	a, company := newIngestAPI(t)
	p := "/v1/companies/" + company
	cases := []struct{ method, path, allow string }{
		{"GET", "/v1/companies", "POST"},
		{"OPTIONS", "/v1/companies", "POST"},
		{"DELETE", p, "GET"},
		{"PATCH", p + "/sync/commerce/config", "GET, PUT"},
		{"OPTIONS", p + "/sync/commerce/config", "GET, PUT"},
		{"GET", p + "/data/commerce-orders", "POST"},
		{"POST", p + "/data/commerce-products", "PUT"},
		{"PUT", p + "/sync/commerce/latest", "POST"},
		{"POST", "/v1/platforms", "GET"},
		{"POST", "/openapi.json", "GET, HEAD"},
	}
	for _, c := range cases {
		for _, key := range []string{a.key, ""} {
			code, allow, msg := rawRequest(t, c.method, a.base+c.path, key, nil)
			if code != http.StatusMethodNotAllowed || allow != c.allow {
				t.Errorf("%s %s (key %v): %d, Allow %q, %s; want 405 with Allow %q", c.method, c.path, key != "", code, allow, msg, c.allow)
			}
		}
	}
	// An unknown path is still not found, and known routes still work.
	if code, _, _ := rawRequest(t, "GET", a.base+"/v1/nothing-here", a.key, nil); code != http.StatusNotFound {
		t.Errorf("an unknown path answered %d, want 404", code)
	}
	if code, _, _ := rawRequest(t, "GET", a.base+p, a.key, nil); code != http.StatusOK {
		t.Errorf("GET %s answered %d, want 200", p, code)
	}
}
