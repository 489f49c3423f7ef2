package sandboxkit

import (
	"net/http"
	"net/url"
)

// Redirect sends the browser back to an OAuth client's redirect URI with q
// added to its query (RFC 6749 §4.1.2); empty values are left out, so a
// request without state gets none back.
func Redirect(w http.ResponseWriter, r *http.Request, base string, q url.Values) {
	u, err := url.Parse(base)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	for k, vs := range q {
		if len(vs) > 0 && vs[0] != "" {
			v[k] = vs
		}
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
