package sandbox

import (
	"net/http"
	"strconv"
)

// Project statuses. The reference names GET /v2/projects only as "the
// closest thing to tracking" (apis.md §5.3); the statuses are FreeAgent's
// (projects page) and not in the reference.
const (
	ProjectActive    = "Active"
	ProjectCompleted = "Completed"
	ProjectCancelled = "Cancelled"
	ProjectHidden    = "Hidden"
)

// Project is one of the company's projects.
type Project struct {
	ID   int // numbered from 1 when zero
	Name string
	// ContactID is the contact the project is for: a FreeAgent project
	// belongs to a contact (projects page, not in the reference). The first
	// contact when zero.
	ContactID int
	// Status is one of the Project constants; ProjectActive when empty.
	Status string
	// Currency is the currency the project is billed in; the company's
	// when empty (projects page, not in the reference).
	Currency string
}

// projectJSON is one project of GET /v2/projects: its full URL, as every
// FreeAgent reference (apis.md §5.2), then the attributes of FreeAgent's
// projects page (not in the reference).
type projectJSON struct {
	URL      string `json:"url"`
	Name     string `json:"name"`
	Contact  string `json:"contact,omitempty"`
	Status   string `json:"status"`
	Currency string `json:"currency"`
}

func (p Project) render(base string) projectJSON {
	out := projectJSON{URL: base + "/projects/" + strconv.Itoa(p.ID), Name: p.Name, Status: p.Status, Currency: p.Currency}
	if p.ContactID != 0 {
		out.Contact = base + "/contacts/" + strconv.Itoa(p.ContactID)
	}
	return out
}

// getProjects is GET /v2/projects (apis.md §5.3), paged with page and
// per_page and a Link header (apis.md §5.7), and GET /v2/projects/:id; an
// unknown project is the nested 404 (apis.md §5.5). Every project is
// listed, whatever its status, in seeding order: FreeAgent's view filter
// and default order are not in the reference, so a client must read each
// project's status itself.
func (s *Server) getProjects(req *apiRequest, raw string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	projects := s.companies[req.subdomain].Projects
	if raw != "" {
		id, ok := resourceID(raw)
		for _, p := range projects {
			if ok && p.ID == id {
				return jsonResponse(http.StatusOK, map[string]projectJSON{"project": p.render(req.base)})
			}
		}
		return s.notFound()
	}
	pg, bad := paging(req, len(projects))
	if bad != nil {
		return *bad
	}
	out := make([]projectJSON, 0, pg.to-pg.from)
	for _, p := range projects[pg.from:pg.to] {
		out = append(out, p.render(req.base))
	}
	resp := jsonResponse(http.StatusOK, map[string][]projectJSON{"projects": out})
	resp.header.Set("Link", pg.link)
	return resp
}
