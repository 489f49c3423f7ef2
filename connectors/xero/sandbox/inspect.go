package sandbox

import (
	"net/http"
	"strings"
)

// InspectPath serves the Accounting API's read routes without a token, for
// a developer to see what was posted: GET /sandbox/api.xro/2.0/ManualJournals?page=1
// answers what GET /api.xro/2.0/ManualJournals?page=1 would, lines
// included, for the first organisation or the one named by ?tenantId=.
// It is the sandbox's own page, not a Xero route: Xero shows this in its
// web app.
const InspectPath = "/sandbox"

func (s *Server) handleInspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "the sandbox's inspection routes are read only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	tenantID := q.Get("tenantId")
	q.Del("tenantId")
	s.mu.Lock()
	if tenantID == "" && len(s.orgOrder) > 0 {
		tenantID = s.orgOrder[0]
	}
	_, known := s.orgs[tenantID]
	s.mu.Unlock()
	if !known {
		http.Error(w, "no organisation "+tenantID+" in this sandbox", http.StatusNotFound)
		return
	}
	req := &apiRequest{method: http.MethodGet, path: strings.TrimPrefix(r.URL.Path, InspectPath+APIPath), query: q, tenantID: tenantID, provider: "Xero sandbox inspection", now: s.now()}
	resp := s.route(req)
	w.Header().Set("Content-Type", resp.contentType)
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}
