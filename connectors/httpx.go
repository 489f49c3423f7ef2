package connectors

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds a whole platform call. Platforms answer creates in
// seconds; a call hanging longer is treated as an unknown outcome and
// resolved by Find rather than by waiting.
const DefaultTimeout = 60 * time.Second

// MaxResponseBytes caps what a connector reads from a platform answer.
const MaxResponseBytes = 16 << 20

// NewHTTPClient returns a client with connect, TLS, header and overall
// timeouts, so that a stuck platform never holds a company's worker.
// timeout <= 0 means DefaultTimeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// ParseRetryAfter reads a Retry-After value, either delta-seconds or an
// HTTP date (RFC 9110 §10.2.3). ok is false when the value is absent or
// unreadable; a date in the past gives 0.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// ReadBody reads at most MaxResponseBytes of resp's body and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return b, fmt.Errorf("read response body: %w", err)
	}
	return b, nil
}

// TransientStatusError turns a 429 or 5xx answer into a Throttled or
// Retryable *Error carrying Retry-After; any other status gives nil so the
// connector can apply its platform's rules. detail is added to the message
// (for example which limit was hit).
func TransientStatusError(resp *http.Response, detail string, now time.Time) *Error {
	code := resp.StatusCode
	if code != http.StatusTooManyRequests && code < 500 {
		return nil
	}
	e := &Error{Class: Retryable, Status: code, Message: fmt.Sprintf("the platform answered %d %s", code, http.StatusText(code))}
	if code == http.StatusTooManyRequests {
		e.Class = Throttled
		e.Message = "the platform's rate limit was reached"
	}
	if detail != "" {
		e.Message += " (" + detail + ")"
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	} else if e.Class == Throttled {
		// A throttled answer without a hint still must not be retried at
		// once; a minute covers every per-minute window we know.
		e.RetryAfter = time.Minute
	}
	return e
}

// NewAuthorizedRequest builds a request carrying the current access token,
// and returns the token so a caller whose request is refused with a 401 can
// invalidate exactly that one. Errors are already classified: a token that
// cannot be had is a token error, a request that cannot be built is fatal.
func NewAuthorizedRequest(ctx context.Context, ts oauth2.TokenSource, method, u string, body []byte) (*http.Request, *oauth2.Token, *Error) {
	if g, ok := ctx.Value(gateKey{}).(Gate); ok {
		if err := g.Wait(ctx); err != nil {
			return nil, nil, &Error{Class: Retryable, Message: "waiting for the platform's rate limit: " + err.Error(), Err: err}
		}
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, nil, Classify(fmt.Errorf("get access token: %w", err))
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, &Error{Class: Fatal, Message: "build request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return req, tok, nil
}

// Gate paces requests to one platform connection: Wait returns when the
// next request may go.
type Gate interface {
	Wait(ctx context.Context) error
}

type gateKey struct{}

// WithGate returns a context under which every request a connector builds
// with NewAuthorizedRequest first waits on g. A connector makes several
// requests for some documents (a look-up, then a create), so the caller
// paces requests this way rather than calls to Push.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}
