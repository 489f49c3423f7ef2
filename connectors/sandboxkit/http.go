package sandboxkit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Methods answers 405 with an Allow header unless r's method is one of
// allowed, and reports whether the handler may go on.
func Methods(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// WriteJSON answers v as JSON with the platform's own Content-Type (their
// charset spellings differ, and clients may compare them).
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// HiddenField is one authorization parameter the consent page carries to
// its form's POST.
type HiddenField struct{ Name, Value string }

// HiddenFields are the non-empty parameters of p among keys, in order.
func HiddenFields(p url.Values, keys []string) []HiddenField {
	var out []HiddenField
	for _, k := range keys {
		if v := p.Get(k); v != "" {
			out = append(out, HiddenField{k, v})
		}
	}
	return out
}

// DropResponse ends the handler without answering and closes the
// connection: the work is committed (and remembered under its idempotency
// key) but the client never learns it, as after a network failure
// (accounting-platform-apis.md §6.6).
func DropResponse() { panic(http.ErrAbortHandler) }

// Hold waits d of real time before a slow answer, or until the client
// gives up (ctx done); it reports whether the answer should still be
// written.
func Hold(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
