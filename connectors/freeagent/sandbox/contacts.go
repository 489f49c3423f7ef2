package sandbox

import (
	"net/http"
	"strconv"
)

// contactJSON is one contact of GET /v2/contacts. A contact is referenced
// by its full URL (apis.md §5.2, an invoice's "contact"); the name
// attributes are FreeAgent's (contacts page), not in the reference. Only
// the names a contact has are rendered, as an organisation has no person's
// name and a person may have no organisation (not in the reference).
type contactJSON struct {
	URL              string `json:"url"`
	OrganisationName string `json:"organisation_name,omitempty"`
	FirstName        string `json:"first_name,omitempty"`
	LastName         string `json:"last_name,omitempty"`
}

func (c Contact) render(base string) contactJSON {
	return contactJSON{
		URL: base + "/contacts/" + strconv.Itoa(c.ID), OrganisationName: c.Organisation,
		FirstName: c.FirstName, LastName: c.LastName,
	}
}

// getContacts is GET /v2/contacts, paged with page and per_page and a Link
// header (apis.md §5.7), and GET /v2/contacts/:id; an unknown contact is the
// nested 404 (apis.md §5.5). Contacts are listed in seeding order: the
// default order of FreeAgent's list is not in the reference (apis.md §5.7
// names sort=updated_at/created_at only). FreeAgent's view filter (active,
// clients, suppliers, ...) is not in the reference either, so every contact
// is listed whatever the query says.
func (s *Server) getContacts(req *apiRequest, raw string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.companies[req.subdomain]
	if raw != "" {
		id, ok := resourceID(raw)
		c := co.contact(id)
		if !ok || c == nil {
			return s.notFound()
		}
		return jsonResponse(http.StatusOK, map[string]contactJSON{"contact": c.render(req.base)})
	}
	contacts := co.Contacts
	pg, bad := paging(req, len(contacts))
	if bad != nil {
		return *bad
	}
	out := make([]contactJSON, 0, pg.to-pg.from)
	for _, c := range contacts[pg.from:pg.to] {
		out = append(out, c.render(req.base))
	}
	resp := jsonResponse(http.StatusOK, map[string][]contactJSON{"contacts": out})
	resp.header.Set("Link", pg.link)
	return resp
}
