package sandbox

import (
	"encoding/json"
	"net/http"
)

// detail is one entry of o:errorDetails (§4.5: detail, o:errorCode,
// optional o:errorPath).
type detail struct {
	Detail string `json:"detail"`
	Code   string `json:"o:errorCode"`
	Path   string `json:"o:errorPath,omitempty"`
}

// errorEnvelope is NetSuite's error body (§4.5), fields in the
// reference's order.
type errorEnvelope struct {
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Status  int      `json:"status"`
	Details []detail `json:"o:errorDetails"`
}

// problemType is the `type` URL per status. 400 and 401 are the
// reference's (§4.5); the others follow the same RFC 9110 pattern, and
// 429's is elided in the reference ("…", §4.6), so RFC 6585's is used.
var problemType = map[int]string{
	400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
	401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
	403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
	404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
	405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
	413: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.14",
	429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
	500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
	502: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.3",
	503: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4",
	504: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.5",
}

// Content types of REST answers. Not in the reference.
const (
	ctError      = "application/vnd.oracle.resource+json; type=error"
	ctSingular   = "application/vnd.oracle.resource+json; type=singular-resource"
	ctCollection = "application/vnd.oracle.resource+json; type=collection"
)

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func errorResponse(status int, ds ...detail) apiResponse {
	return typedError(status, problemType[status], http.StatusText(status), ds...)
}

func typedError(status int, typ, title string, ds ...detail) apiResponse {
	b, _ := json.Marshal(errorEnvelope{Type: typ, Title: title, Status: status, Details: ds})
	return apiResponse{status: status, header: http.Header{"Content-Type": {ctError}}, body: b}
}

func writeError(w http.ResponseWriter, status int, h http.Header, ds ...detail) {
	writeResponse(w, errorResponse(status, ds...), h)
}

func writeResponse(w http.ResponseWriter, r apiResponse, extra http.Header) {
	for k, vs := range r.header {
		w.Header()[k] = vs
	}
	for k, vs := range extra {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.status)
	if len(r.body) > 0 {
		_, _ = w.Write(r.body)
	}
}

func jsonResponse(status int, contentType string, v any) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, unexpected(err.Error()))
	}
	return apiResponse{status: status, header: http.Header{"Content-Type": {contentType}}, body: b}
}

// Error details the reference gives verbatim.
var (
	// §4.5, with the www-authenticate header of unauthorized().
	invalidLogin = detail{
		Detail: "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
		Code:   "INVALID_LOGIN",
	}
	// §4.6.
	concurrencyExceeded = detail{Detail: "Concurrent request limit exceeded. Request blocked.", Code: "CONCURRENCY_LIMIT_EXCEEDED"}
	// §4.4: a POST whose externalId is taken.
	entityExists = detail{Detail: "Error while accessing a resource. This entity already exists.", Code: "USER_ERROR"}
)

// idempotencyConflict is §4.4's answer to a reused async idempotency key,
// verbatim: status 400 with title "Conflict" and an RFC 2616 type.
func idempotencyConflict() apiResponse {
	return typedError(http.StatusBadRequest, "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10", "Conflict", detail{
		Detail: `A request with the same idempotency key is already submitted. See the "Location" header for a link to the previously submitted job`,
		Code:   "IDEMPOTENCY_ERROR",
	})
}

// Details whose wording is not in the reference.
func nonexistentID() detail {
	return detail{Detail: "The record instance does not exist. Provide a valid record instance ID.", Code: "NONEXISTENT_ID"}
}

func notFoundURL(path string) detail {
	return detail{Detail: "The requested URL " + path + " was not found on this server.", Code: "INVALID_URL"}
}

func unexpected(msg string) detail {
	return detail{Detail: "An unexpected error occurred. " + msg, Code: "UNEXPECTED_ERROR"}
}

func invalidParameter(msg string) detail {
	return detail{Detail: msg, Code: "INVALID_PARAMETER"}
}

func unauthorized(w http.ResponseWriter, account string) {
	// §4.5: www-authenticate: OAuth realm="…", error="token_rejected", error_description="Invalid login attempt."
	h := http.Header{"Www-Authenticate": {`OAuth realm="` + account + `", error="token_rejected", error_description="Invalid login attempt."`}}
	writeError(w, http.StatusUnauthorized, h, invalidLogin)
}
