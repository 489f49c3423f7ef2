package qbo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/commercesync/commercesync/connectors"
)

// pageSize is the largest MAXRESULTS (§2.8).
const pageSize = 1000

// FaultError is a QuickBooks Fault answer (§2.5), kept as the Err of the
// classified connectors.Error so callers can read the codes.
type FaultError struct {
	// Status is the HTTP status (400, and sometimes 200, §2.5).
	Status int
	// Type is ValidationFault, SystemFault, AuthenticationFault,
	// AuthorizationFault, SERVICE, AUTHENTICATION, ...
	Type   string
	Errors []FaultEntry
	// IntuitTID is the response's intuit_tid header, for Intuit support.
	IntuitTID string
}

// FaultEntry is one Fault.Error element.
type FaultEntry struct {
	Message, Detail, Code, Element string
}

func (f *FaultError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "QuickBooks %s", f.Type)
	for _, e := range f.Errors {
		fmt.Fprintf(&b, " [%s] %s", e.Code, e.Message)
		if e.Detail != "" && e.Detail != e.Message {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
		if e.Element != "" {
			fmt.Fprintf(&b, " (element %s)", e.Element)
		}
	}
	if f.IntuitTID != "" {
		fmt.Fprintf(&b, " (intuit_tid %s)", f.IntuitTID)
	}
	return b.String()
}

// Code is the first error's code.
func (f *FaultError) Code() string {
	if len(f.Errors) == 0 {
		return ""
	}
	return f.Errors[0].Code
}

// faultOf finds the FaultError inside err.
func faultOf(err error) *FaultError {
	f, _ := errors.AsType[*FaultError](err)
	return f
}

// flexString reads a JSON string, number or null as text: fixtures differ
// on "code" and "element" (§2.5).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	*s = flexString(strings.TrimSpace(string(b)))
	return nil
}

// faultJSON matches both envelopes of §2.5: {"Fault":{"Error":[…],"type"}}
// and the gateway's lower-case {"fault":{"error":[…],"type"}} (Go matches
// JSON keys without case).
type faultJSON struct {
	Fault *struct {
		Error []struct {
			Message string     `json:"Message"`
			Detail  string     `json:"Detail"`
			Code    flexString `json:"code"`
			Element flexString `json:"element"`
		} `json:"Error"`
		Type string `json:"type"`
	} `json:"Fault"`
}

func parseFault(body []byte, status int, tid string) *FaultError {
	var fj faultJSON
	if json.Unmarshal(body, &fj) != nil || fj.Fault == nil {
		return nil
	}
	f := &FaultError{Status: status, Type: fj.Fault.Type, IntuitTID: tid}
	for _, e := range fj.Fault.Error {
		f.Errors = append(f.Errors, FaultEntry{Message: e.Message, Detail: e.Detail, Code: string(e.Code), Element: string(e.Element)})
	}
	return f
}

func (c *Connector) companyURL(realm string) string {
	return c.apiBase + "/v3/company/" + url.PathEscape(realm)
}

func (c *Connector) entityURL(realm, entity string) string {
	return c.companyURL(realm) + "/" + entity
}

// getJSON GETs path below /v3/company/{realm} with the query q (plus
// minorversion) and decodes a successful answer into v.
func (c *Connector) getJSON(ctx context.Context, s connectors.Session, path string, q url.Values, v any) error {
	params := url.Values{"minorversion": {MinorVersion}}
	for k, vs := range q {
		params[k] = vs
	}
	u := c.companyURL(s.TenantID) + "/" + path + "?" + params.Encode()
	_, body, err := c.call(ctx, s, http.MethodGet, u, nil, "")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable QuickBooks response", Err: err}
	}
	return nil
}

// queryAll runs "select * from entity where…" page by page (STARTPOSITION,
// MAXRESULTS ≤ 1000, §2.8) and decodes every row into out, a pointer to a
// slice.
func (c *Connector) queryAll(ctx context.Context, s connectors.Session, entity, where string, out any) error {
	rows, err := c.queryFrom(ctx, s, entity, where, 1)
	if err != nil {
		return err
	}
	return decodeRows(rows, entity, out)
}

// queryFrom reads the pages from STARTPOSITION start on.
func (c *Connector) queryFrom(ctx context.Context, s connectors.Session, entity, where string, start int) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	for ; ; start += pageSize {
		var page struct {
			QueryResponse map[string]json.RawMessage
		}
		if err := c.getJSON(ctx, s, "query", url.Values{"query": {queryText(entity, where, start)}}, &page); err != nil {
			return nil, err
		}
		got, err := pageRows(page.QueryResponse, entity)
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
		if len(got) < pageSize {
			return rows, nil
		}
	}
}

func queryText(entity, where string, start int) string {
	q := fmt.Sprintf("select * from %s %s STARTPOSITION %d MAXRESULTS %d", entity, where, start, pageSize)
	return strings.Join(strings.Fields(q), " ")
}

// pageRows is the entity's list in a QueryResponse; an empty result has
// none (§2.8).
func pageRows(qr map[string]json.RawMessage, entity string) ([]json.RawMessage, error) {
	raw, ok := qr[entity]
	if !ok {
		return nil, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable QuickBooks query response", Err: err}
	}
	return rows, nil
}

func decodeRows(rows []json.RawMessage, entity string, out any) error {
	all, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(all))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable QuickBooks " + entity, Err: err}
	}
	return nil
}

// listQuery is one list to read: the rows of entity matching where,
// decoded into out, a pointer to a slice.
type listQuery struct {
	entity, where string
	out           any
}

// readLists reads several lists with as few requests as Intuit batch
// allows (§2.6: up to 30 items per POST /batch). QuickBooks allows 10
// requests a second per realm (§2.6), which one request per list would
// exceed when reading a whole setup. A list that fills its first page is
// read on page by page with /query.
func (c *Connector) readLists(ctx context.Context, s connectors.Session, qs []listQuery) error {
	for chunk := range slices.Chunk(qs, MaxBatchItems) {
		if err := c.readBatch(ctx, s, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (c *Connector) readBatch(ctx context.Context, s connectors.Session, qs []listQuery) error {
	type item struct {
		BID   string `json:"bId"`
		Query string `json:"Query"`
	}
	req := struct {
		BatchItemRequest []item `json:"BatchItemRequest"`
	}{make([]item, len(qs))}
	for i, q := range qs {
		req.BatchItemRequest[i] = item{BID: strconv.Itoa(i + 1), Query: queryText(q.entity, q.where, 1)}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	u := c.entityURL(s.TenantID, "batch") + "?" + url.Values{"minorversion": {MinorVersion}}.Encode()
	resp, respBody, err := c.call(ctx, s, http.MethodPost, u, body, "application/json")
	if err != nil {
		return fmt.Errorf("batch read: %w", err)
	}
	answers, err := parseBatch(respBody, resp.Header.Get("intuit_tid"))
	if err != nil {
		return err
	}
	for i, q := range qs {
		if err := c.readAnswer(ctx, s, q, answers[strconv.Itoa(i+1)]); err != nil {
			return fmt.Errorf("read %s: %w", q.entity, err)
		}
	}
	return nil
}

// batchAnswer is one BatchItemResponse entry: a QueryResponse, or a
// Fault (§2.6).
type batchAnswer struct {
	queryResponse map[string]json.RawMessage
	fault         *FaultError
}

// parseBatch indexes the answers by bId: Intuit pairs them with the
// requests by bId, not by position (§2.6).
func parseBatch(body []byte, tid string) (map[string]*batchAnswer, error) {
	var out struct {
		BatchItemResponse []json.RawMessage
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable QuickBooks batch response", Err: err}
	}
	answers := map[string]*batchAnswer{}
	for _, raw := range out.BatchItemResponse {
		var a struct {
			BID           string `json:"bId"`
			QueryResponse map[string]json.RawMessage
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable QuickBooks batch response", Err: err}
		}
		answers[a.BID] = &batchAnswer{queryResponse: a.QueryResponse, fault: parseFault(raw, http.StatusOK, tid)}
	}
	return answers, nil
}

// readAnswer decodes one list's batch answer, reading on with /query when
// the first page is full.
func (c *Connector) readAnswer(ctx context.Context, s connectors.Session, q listQuery, a *batchAnswer) error {
	switch {
	case a == nil:
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "QuickBooks' batch response has no answer for the " + q.entity + " query"}
	case a.fault != nil && len(a.fault.Errors) == 0:
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "QuickBooks answered the " + q.entity + " query with an empty Fault", Err: a.fault}
	case a.fault != nil:
		return classifyFault(http.StatusOK, a.fault)
	}
	rows, err := pageRows(a.queryResponse, q.entity)
	if err != nil {
		return err
	}
	if len(rows) == pageSize {
		more, err := c.queryFrom(ctx, s, q.entity, q.where, 1+pageSize)
		if err != nil {
			return err
		}
		rows = append(rows, more...)
	}
	return decodeRows(rows, q.entity, q.out)
}

// call sends one request and returns a successful answer, or a classified
// error. A 401 is retried once after dropping the rejected token, so a token
// that expired early (clock skew, revocation of the access token only) is
// refreshed; the gateway refused the request before any work, so re-sending
// cannot duplicate. A 200 carrying a Fault is an error (§2.5).
func (c *Connector) call(ctx context.Context, s connectors.Session, method, u string, body []byte, contentType string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, tok, cerr := connectors.NewAuthorizedRequest(ctx, s.Tokens, method, u, body)
		if cerr != nil {
			return nil, nil, cerr
		}
		req.Header.Set("Accept", "application/json")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		respBody, err := connectors.ReadBody(resp)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		tid := resp.Header.Get("intuit_tid")
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if inv, ok := s.Tokens.(connectors.Invalidator); ok {
				c.log.DebugContext(ctx, "qbo rejected the access token; refreshing once", "realm", s.TenantID, "intuit_tid", tid)
				inv.Invalidate(tok)
				continue
			}
		}
		if e := c.classify(resp, respBody, tid); e != nil {
			c.log.DebugContext(ctx, "qbo call failed", "realm", s.TenantID, "method", method, "status", resp.StatusCode, "intuit_tid", tid, "err", e)
			return resp, respBody, e
		}
		return resp, respBody, nil
	}
}

// classify maps an answer to an error class (§2.5, §2.6), or nil for a
// success.
func (c *Connector) classify(resp *http.Response, body []byte, tid string) *connectors.Error {
	code := resp.StatusCode
	f := parseFault(body, code, tid)
	if code >= 200 && code < 300 && f == nil {
		return nil
	}
	detail := ""
	if f != nil && len(f.Errors) > 0 {
		detail = f.Errors[0].Message
	}
	// 429 (Fault 3001 ThrottleExceeded; no Retry-After documented, so the
	// shared helper's default wait applies) and 5xx (10000).
	if e := connectors.TransientStatusError(resp, detail, c.now()); e != nil {
		if f != nil {
			e.Err = f
		}
		return e
	}
	if f == nil || len(f.Errors) == 0 {
		switch code {
		case http.StatusUnauthorized:
			return &connectors.Error{Class: connectors.Retryable, Status: code, Message: "QuickBooks rejected the access token after a refresh; retry later"}
		case http.StatusForbidden:
			return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Message: forbidden, Deauthorized: true}
		}
		return &connectors.Error{Class: connectors.Fatal, Status: code, Message: fmt.Sprintf("QuickBooks answered %d: %s", code, snippet(body))}
	}
	return classifyFault(code, f)
}

const forbidden = "QuickBooks refused access to this company; reconnect QuickBooks (the app was disconnected, or the user lost access or permission)"

// classifyFault decides by the Fault code (§2.5; python-quickbooks' ranges:
// 0–499 authorization, 500–599 unsupported, 600–1999 general, 2000–4999
// validation, ≥10000 severe). Codes that describe our request are Fatal,
// codes that describe the merchant's company are MerchantActionable with
// QuickBooks' own words.
func classifyFault(status int, f *FaultError) *connectors.Error {
	e := f.Errors[0]
	n, _ := strconv.Atoi(e.Code)
	msg := e.Detail
	if msg == "" {
		msg = e.Message
	}
	out := &connectors.Error{Status: status, Message: msg, Field: fieldOf(e), Err: f}
	switch {
	case e.Code == "3200":
		out.Class, out.Message = connectors.Retryable, "QuickBooks rejected the access token after a refresh; retry later"
	case e.Code == "3100" || status == http.StatusForbidden:
		// §2.5: ApplicationAuthorizationFailed, the app disconnected or its
		// grant narrowed; only a reconnect gives it back.
		out.Class, out.Message, out.Deauthorized = connectors.MerchantActionable, forbidden, true
	case e.Code == "3001":
		out.Class, out.Message = connectors.Throttled, "the platform's rate limit was reached (ThrottleExceeded)"
	case e.Code == "5010":
		// Someone saved the entity first; re-read and retry.
		out.Class = connectors.Retryable
	case n >= 10000:
		out.Class = connectors.Retryable
	case n < 500, n == 610, n == 2500, n >= 6000:
		// Access or subscription (120, 6190), inactive or missing
		// references (610, 2500), business rules (6000–9999): the merchant
		// fixes the company or the mapping.
		out.Class = connectors.MerchantActionable
	default:
		out.Class = connectors.Fatal
		out.Message = fmt.Sprintf("QuickBooks rejected the request (%s %s): %s", e.Code, e.Message, msg)
	}
	return out
}

// fieldOf names the document field a fault is about: QuickBooks' element
// when it gives one, otherwise what the code or the detail says.
func fieldOf(e FaultEntry) string {
	el := e.Element
	switch {
	case el == "TxnDate":
		return "Date"
	case el == "DocNumber", el == "PrivateNote":
		return "Reference"
	case el == "CurrencyRef":
		return "Currency"
	case el == "requestid":
		return "IdempotencyKey"
	case strings.HasPrefix(el, "Line"):
		return "Lines"
	case el != "":
		return el
	}
	d := strings.ToLower(e.Detail)
	switch {
	case e.Code == "6210":
		return "Date"
	case e.Code == "610", e.Code == "2500" && strings.Contains(d, "accounts element"):
		return "AccountId"
	case e.Code == "2500" && (strings.Contains(d, "class element") || strings.Contains(d, "department element")):
		return "Tracking"
	case e.Code == "6140":
		return "Reference"
	case strings.Contains(d, "currency"):
		return "Currency"
	case strings.Contains(d, "balance"), strings.Contains(d, "amount"), strings.Contains(d, "accounts receivable"), strings.Contains(d, "accounts payable"):
		return "Lines"
	}
	return ""
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
