package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Contact types (spec Contact.contact_types: "It has to be either CUSTOMER
// or VENDOR").
const (
	ContactTypeCustomer = "CUSTOMER"
	ContactTypeVendor   = "VENDOR"
)

// contactTypeNames are the displayed_as of the contact types. The spec
// gives the ids only; the names are what the UK product shows (not in the
// reference).
var contactTypeNames = map[string]string{ContactTypeCustomer: "Customer", ContactTypeVendor: "Supplier"}

// Contact is a customer or supplier of the business (spec Contact).
type Contact struct {
	// ID is derived from the business and name when empty (ContactID).
	ID   string
	Name string
	// Reference is the contact's short unique reference (spec
	// Contact.reference, at most 10 characters); "" for none.
	Reference string
	// Types are contact type ids, ContactTypeCustomer and/or
	// ContactTypeVendor. The spec requires one, so a seed without any is a
	// customer (the default is the sandbox's, not in the reference).
	Types []string
	// Inactive contacts answer is_active false (spec Contact.is_active).
	Inactive bool
	// System marks a contact Sage reserves for its own transactions, such
	// as tax return payments (spec Contact.system); exclude_system hides it.
	System bool
}

// ContactID is the id the sandbox gives a seeded contact that has none.
func ContactID(businessID, name string) string { return stableID("contact", businessID, name) }

func (c Contact) clone() Contact {
	c.Types = slices.Clone(c.Types)
	return c
}

// contactObject renders a contact with the spec's Contact fields the
// sandbox models, in the spec's order. displayed_as is "name (reference)"
// as the product lists contacts (not in the reference).
func contactObject(c Contact) object {
	display := c.Name
	if c.Reference != "" {
		display += " (" + c.Reference + ")"
	}
	types := make([]object, 0, len(c.Types))
	for _, t := range c.Types {
		types = append(types, base(t, contactTypeNames[t], "/contact_types/"+t))
	}
	return object{
		{"id", c.ID}, {"displayed_as", display}, {"$path", "/contacts/" + c.ID},
		{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
		{"contact_types", types}, {"name", c.Name}, {"reference", nullable(c.Reference)},
		{"deletable", true}, {"system", c.System}, {"is_active", !c.Inactive},
	}
}

// listContacts answers GET /contacts (spec getContacts) in the paging
// envelope of apis.md §3.7, with the spec's filters contact_type_id,
// exclude_system and search ("the contact name, company name or
// reference"; matched case-insensitively as a substring, which the spec
// does not say).
func (s *Server) listContacts(req *apiRequest) apiResponse {
	q := req.query
	excludeSystem := false
	if v := q.Get("exclude_system"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalid(recordInvalid("exclude_system", "This field is not a valid boolean."))
		}
		excludeSystem = b
	}
	typeID := q.Get("contact_type_id")
	search := strings.ToLower(q.Get("search"))
	s.mu.Lock()
	var items []object
	for _, c := range s.businesses[req.businessID].Contacts {
		switch {
		case typeID != "" && !slices.Contains(c.Types, typeID),
			excludeSystem && c.System,
			search != "" && !strings.Contains(strings.ToLower(c.Name), search) && !strings.Contains(strings.ToLower(c.Reference), search):
			continue
		}
		items = append(items, contactObject(c))
	}
	s.mu.Unlock()
	return page(req, items, "$itemsPerPage")
}

// getContact answers GET /contacts/{key} with all attributes, or apis.md
// §3.5's "Contact not found".
func (s *Server) getContact(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.businesses[req.businessID].contact(key); c != nil {
		return jsonResponse(http.StatusOK, contactObject(*c))
	}
	return notFound("Contact not found")
}
