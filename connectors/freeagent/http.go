package freeagent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
)

// getJSON GETs u and decodes a successful answer into v.
func (c *Connector) getJSON(ctx context.Context, ts oauth2.TokenSource, u string, v any) error {
	_, body, err := c.call(ctx, ts, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return decode(body, v)
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &connectors.Error{Class: connectors.Fatal, Status: http.StatusOK, Message: "unreadable FreeAgent response", Err: err}
	}
	return nil
}

// list GETs u and every following page named by the Link header's
// rel="next" (apis.md §5.7), handing each body to page. It stops early on
// an empty page. Links are followed only on the API's own origin, so the
// bearer token never goes elsewhere.
func (c *Connector) list(ctx context.Context, ts oauth2.TokenSource, u string, page func(body []byte) (int, error)) error {
	base, err := url.Parse(c.apiBase)
	if err != nil {
		return &connectors.Error{Class: connectors.Fatal, Message: "freeagent: bad API base", Err: err}
	}
	for range maxPages {
		resp, body, err := c.call(ctx, ts, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		n, err := page(body)
		if err != nil {
			return err
		}
		next := nextLink(resp.Header.Get("Link"))
		if next == "" || n == 0 {
			return nil
		}
		nu, err := url.Parse(next)
		if err != nil || nu.Scheme != base.Scheme || nu.Host != base.Host {
			return &connectors.Error{Class: connectors.Fatal, Message: "freeagent: the next page link leaves the API: " + next}
		}
		u = next
	}
	return &connectors.Error{Class: connectors.Fatal, Message: fmt.Sprintf("freeagent: more than %d pages", maxPages)}
}

var linkPart = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?([^",;]+)"?`)

// nextLink returns the rel="next" URL of a Link header, "" if none.
func nextLink(h string) string {
	for _, m := range linkPart.FindAllStringSubmatch(h, -1) {
		if slices.Contains(strings.Fields(m[2]), "next") {
			return m[1]
		}
	}
	return ""
}

// call sends one request and returns a 2xx answer, or a classified error.
// A 401 is retried once after dropping the rejected token, so a token that
// expired early (its hour passed at FreeAgent, or it was revoked) is
// refreshed; a 401 never reached FreeAgent's handlers, so re-sending cannot
// duplicate. No Idempotency-Key header is ever sent: FreeAgent ignores it
// (apis.md §5.4), and Go's transport would take it as licence to re-send a
// POST on a broken connection, which here would post twice.
func (c *Connector) call(ctx context.Context, ts oauth2.TokenSource, method, u string, body []byte) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, tok, cerr := connectors.NewAuthorizedRequest(ctx, ts, method, u, body)
		if cerr != nil {
			return nil, nil, cerr
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent) // required, apis.md §5.1
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		respBody, err := connectors.ReadBody(resp)
		if err != nil {
			return nil, nil, connectors.Classify(err)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if inv, ok := ts.(connectors.Invalidator); ok {
				c.log.DebugContext(ctx, "freeagent rejected the access token; refreshing once")
				inv.Invalidate(tok)
				continue
			}
		}
		if e := c.classify(method, resp, respBody); e != nil {
			return resp, respBody, e
		}
		return resp, respBody, nil
	}
}

// classify maps a non-2xx answer to an error class (apis.md §5.5, §5.6).
func (c *Connector) classify(method string, resp *http.Response, body []byte) *connectors.Error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msgs := errorMessages(body)
	msg := strings.Join(msgs, "; ")
	if e := connectors.TransientStatusError(resp, msg, c.now()); e != nil {
		if e.Class == connectors.Throttled && resp.Header.Get("Retry-After") == "" {
			// The reference names no Retry-After on FreeAgent's 429; its
			// windows reset at the top of each minute and hour (apis.md §5.6).
			e.RetryAfter = untilReset(msg, c.now())
		}
		return e
	}
	switch code {
	case http.StatusUnprocessableEntity:
		// Validation: FreeAgent's own words, which name what to fix
		// (apis.md §5.5).
		if msg == "" {
			msg = "FreeAgent refused the document: " + snippet(body)
		}
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Message: msg, Field: fieldOf(msgs)}
	case http.StatusNotFound:
		if method == http.MethodPost {
			// A create that finds nothing names something that does not
			// exist: a category deleted or hidden since it was mapped
			// (apis.md §5.2 "resource not found").
			return &connectors.Error{Class: connectors.MerchantActionable, Status: code, Field: "AccountCode",
				Message: orDefault(msg, "Resource not found") + " (a category this journal posts to does not exist in FreeAgent; check the account mapping)"}
		}
		return &connectors.Error{Class: connectors.Fatal, Status: code, Message: "FreeAgent: " + orDefault(msg, "Resource not found")}
	case http.StatusUnauthorized:
		return &connectors.Error{Class: connectors.Retryable, Status: code,
			Message: "FreeAgent rejected the access token after a refresh; retry later (" + orDefault(msg, "unauthorized") + ")"}
	case http.StatusForbidden:
		return &connectors.Error{Class: connectors.MerchantActionable, Status: code,
			Message: orDefault(msg, "Forbidden") + " (the connected FreeAgent user needs the access level \"Tax, Accounting and Users\" or higher; reconnect with such a user)"}
	}
	return &connectors.Error{Class: connectors.Fatal, Status: code, Message: fmt.Sprintf("FreeAgent answered %d: %s", code, orDefault(msg, snippet(body)))}
}

// errorMessages reads the three error forms of apis.md §5.5:
//
//	{"errors":[{"message":"Dated on can't be blank"},…]}
//	{"errors":{"error":{"message":"Resource not found"}}}
//	{"errors":{"dated_on":["is not a valid date"]}}
//
// The keyed form gives "dated_on is not a valid date".
func errorMessages(body []byte) []string {
	var env struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		return nil
	}
	var list []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(env.Errors, &list) == nil {
		out := make([]string, 0, len(list))
		for _, m := range list {
			if m.Message != "" {
				out = append(out, m.Message)
			}
		}
		return out
	}
	var nestedForm struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(env.Errors, &nestedForm) == nil && nestedForm.Error != nil && nestedForm.Error.Message != "" {
		return []string{nestedForm.Error.Message}
	}
	var keyed map[string]json.RawMessage
	if json.Unmarshal(env.Errors, &keyed) != nil {
		return nil
	}
	keys := make([]string, 0, len(keyed))
	for k := range keyed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		var texts []string
		if json.Unmarshal(keyed[k], &texts) != nil {
			var one string
			if json.Unmarshal(keyed[k], &one) != nil {
				continue
			}
			texts = []string{one}
		}
		for _, t := range texts {
			out = append(out, k+" "+t)
		}
	}
	return out
}

// fieldOf names the document field FreeAgent's first recognisable message
// is about.
func fieldOf(msgs []string) string {
	for _, m := range msgs {
		l := strings.ToLower(m)
		switch {
		case strings.Contains(l, "dated on"), strings.Contains(l, "dated_on"), strings.Contains(l, "locked period"):
			return "Date"
		case strings.Contains(l, "balance"), strings.Contains(l, "debit value"), strings.Contains(l, "debit_value"), strings.Contains(l, "journal entries can't"):
			return "Lines"
		case strings.Contains(l, "category"), strings.Contains(l, "bank account"):
			return "AccountCode"
		case strings.HasPrefix(l, "description"):
			return "Narration"
		case strings.HasPrefix(l, "tag"):
			return "Reference"
		}
	}
	return ""
}

var perSeconds = regexp.MustCompile(`per (\d+) seconds`)

// untilReset is the wait until the limit named in a 429 message resets:
// its window ("per 60 seconds", "per 3600 seconds") is aligned to the top
// of the minute or hour (apis.md §5.6). An unreadable message waits for the
// minute.
func untilReset(msg string, now time.Time) time.Duration {
	window := time.Minute
	if m := perSeconds.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			window = time.Duration(n) * time.Second
		}
	}
	return max(now.Truncate(window).Add(window).Sub(now), time.Second)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func snippet(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
