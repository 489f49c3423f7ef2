package netsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
)

// errorEnvelope is NetSuite's error body (§4.5).
type errorEnvelope struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Details []struct {
		Detail string `json:"detail"`
		Code   string `json:"o:errorCode"`
		Path   string `json:"o:errorPath"`
	} `json:"o:errorDetails"`
}

// call sends one request and returns a 2xx answer, or the answer with a
// classified error. A 401 is retried once after dropping the rejected
// token, so an access token that expired early (clock skew, revocation of
// the access token only) is refreshed; the request never reached
// NetSuite's handlers, so re-sending it cannot duplicate.
func (c *Connector) call(ctx context.Context, ts oauth2.TokenSource, method, u string, body []byte, hdr map[string]string) (*http.Response, []byte, *connectors.Error) {
	refreshed := false
	for {
		req, tok, cerr := connectors.NewAuthorizedRequest(ctx, ts, method, u, body)
		if cerr != nil {
			return nil, nil, cerr
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		respBody, err := connectors.ReadBody(resp)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		if resp.StatusCode == http.StatusUnauthorized && !refreshed {
			if inv, ok := ts.(connectors.Invalidator); ok {
				c.log.DebugContext(ctx, "netsuite rejected the access token; refreshing once")
				inv.Invalidate(tok)
				refreshed = true
				continue
			}
		}
		if e := c.classify(resp, respBody, refreshed); e != nil {
			return resp, respBody, e
		}
		return resp, respBody, nil
	}
}

// classify maps a non-2xx answer to an error class (§4.5, §4.6).
func (c *Connector) classify(resp *http.Response, body []byte, refreshed bool) *connectors.Error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	var env errorEnvelope
	parsed := json.Unmarshal(body, &env) == nil && len(env.Details) > 0
	msg, field, errCode := "", "", ""
	if parsed {
		details := make([]string, 0, len(env.Details))
		for _, d := range env.Details {
			details = append(details, d.Detail)
			if field == "" {
				field = d.Path
			}
		}
		msg, errCode = strings.Join(details, "; "), env.Details[0].Code
	} else {
		msg = snippet(body)
	}
	// 429 and 5xx: back off. CONCURRENCY_LIMIT_EXCEEDED comes without
	// Retry-After (§4.6); a slot frees when another request ends, so the
	// wait is short.
	if e := connectors.TransientStatusError(resp, errCode, c.now()); e != nil {
		if errCode == "CONCURRENCY_LIMIT_EXCEEDED" && resp.Header.Get("Retry-After") == "" {
			e.RetryAfter = c.backoff
			e.Message = "NetSuite's account concurrency limit was reached (" + msg + ")"
		} else if parsed {
			e.Message += ": " + msg
		}
		return e
	}
	switch code {
	case http.StatusUnauthorized:
		if !refreshed {
			// No way to refresh here; the token source may refresh once its
			// own expiry passes.
			return &connectors.Error{Class: connectors.Retryable, Status: code, Message: "NetSuite rejected the access token: " + msg}
		}
		// A token minted a moment ago was refused (§4.5 INVALID_LOGIN): the
		// integration, the user or the role lost access.
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Deauthorized: true,
			Message: "NetSuite refused a freshly issued access token (" + msg + "). Reconnect NetSuite; check that the integration record, the user and the role are still enabled."}
	case http.StatusForbidden:
		// §4.5: 403 INSUFFICIENT_PERMISSION.
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: field,
			Message: "The NetSuite role used for the connection lacks a permission: " + msg}
	case http.StatusBadRequest:
		if !parsed {
			return &connectors.Error{Class: connectors.Fatal, Status: code, Message: "NetSuite rejected the request: " + msg}
		}
		switch errCode {
		case "INVALID_CONTENT", "IDEMPOTENCY_ERROR", "INVALID_PARAMETER":
			// Our payload, query or key use is wrong (§4.4, §4.5): a bug.
			return &connectors.Error{Class: connectors.Fatal, Status: code, Field: field, Message: msg}
		}
		// USER_ERROR, INVALID_FLD_VALUE and the like: the merchant's data or
		// settings (§4.5 "4xx = user error"). NetSuite's own words.
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: field, Message: msg}
	}
	return &connectors.Error{Class: connectors.Fatal, Status: code, Field: field, Message: fmt.Sprintf("NetSuite answered %d: %s", code, msg)}
}

// suiteQL runs a query and returns every row, column values as text
// (§4.3), following hasMore with limit/offset paging (§4.7).
func (c *Connector) suiteQL(ctx context.Context, s connectors.Session, q string) ([]map[string]string, error) {
	const limit, maxResults = 1000, 100_000 // §4.7, §4.3
	body, err := json.Marshal(map[string]string{"q": q})
	if err != nil {
		return nil, err
	}
	var rows []map[string]string
	for offset := 0; offset < maxResults; {
		u := c.api(s.TenantID) + SuiteQLPath + "?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(offset)
		_, respBody, cerr := c.call(ctx, s.Tokens, http.MethodPost, u, body, map[string]string{"Prefer": "transient"})
		if cerr != nil {
			return nil, cerr
		}
		var page struct {
			Items   []map[string]json.RawMessage `json:"items"`
			HasMore bool                         `json:"hasMore"`
		}
		if err := decodeJSON(respBody, &page); err != nil {
			return nil, &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable SuiteQL answer", Err: err}
		}
		for _, it := range page.Items {
			row := make(map[string]string, len(it))
			for k, v := range it {
				if k == "links" {
					continue
				}
				row[strings.ToLower(k)] = scalar(v)
			}
			rows = append(rows, row)
		}
		if !page.HasMore || len(page.Items) == 0 {
			break
		}
		offset += len(page.Items)
	}
	return rows, nil
}

// scalar renders a JSON string, number or boolean as text; booleans as
// SuiteQL's "T"/"F".
func scalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		if b {
			return "T"
		}
		return "F"
	}
	t := strings.TrimSpace(string(v))
	if t == "null" {
		return ""
	}
	return t
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
