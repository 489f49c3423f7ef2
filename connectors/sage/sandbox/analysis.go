package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Analysis types are Sage's tracking: apis.md §3.3 "GET /analysis_types (+
// analysis_type_categories) (Accounting Plus/Standard; Settings Full
// Access). Lines carry analysis_type_categories: [ids]". What the reference
// and the spec leave open (levels, active areas, default types) follows
// Sage's knowledgebase articles "Analysis types"
// (https://gb-kb.sage.com/portal/app/portlets/results/viewsolution.jsp?solutionid=222001000101102,
// https://ca-kb.sage.com/portal/app/portlets/results/view2.jsp?k2dockey=240304191454980),
// which are not in the reference.

// Analysis type levels (spec getAnalysisTypes analysis_type_level enum).
// Sage's knowledgebase explains them (not in the reference): TRANSACTION
// types tag transaction lines, GROUP types tag records such as customers
// and products.
const (
	AnalysisLevelTransaction = "TRANSACTION"
	AnalysisLevelGroup       = "GROUP"
)

// analysisAreas are the active_areas of an analysis type in use. The spec
// types the field as an array without values; these ids stand for the
// areas Sage's knowledgebase lists (sales invoices and credit notes,
// purchase invoices and credit notes, bank payments and receipts,
// journals) and are the sandbox's (not in the reference).
var analysisAreas = []string{"sales", "purchases", "banking", "journals"}

// AnalysisType is a seedable analysis type (spec AnalysisType).
type AnalysisType struct {
	// ID is derived from the business and name when empty
	// (AnalysisTypeID).
	ID   string
	Name string
	// Level is AnalysisLevelTransaction (the default when "") or
	// AnalysisLevelGroup.
	Level string
	// Deactivated types have no active areas: Sage's knowledgebase
	// deactivates a type by clearing them (not in the reference).
	Deactivated bool
	Categories  []AnalysisTypeCategory
}

// AnalysisTypeCategory is one category of an analysis type (spec
// AnalysisTypeCategory).
type AnalysisTypeCategory struct {
	// ID is derived from the business, type and name when empty
	// (AnalysisTypeCategoryID).
	ID string
	// Code is at most 10 characters (spec AnalysisTypeCategory.code).
	Code string
	Name string
}

// AnalysisTypeID is the id the sandbox gives a seeded analysis type that
// has none.
func AnalysisTypeID(businessID, name string) string {
	return stableID("analysis_type", businessID, name)
}

// AnalysisTypeCategoryID is the id the sandbox gives a seeded category
// that has none.
func AnalysisTypeCategoryID(businessID, analysisTypeID, name string) string {
	return stableID("analysis_type_category", businessID, analysisTypeID, name)
}

func (t AnalysisType) clone() AnalysisType {
	t.Categories = slices.Clone(t.Categories)
	return t
}

func (t AnalysisType) activeAreas() []string {
	if t.Deactivated {
		return []string{}
	}
	return slices.Clone(analysisAreas)
}

// categoryObject renders a category with the spec's AnalysisTypeCategory
// fields in the spec's order. combined_id's meaning is not in the
// reference; it is null.
func categoryObject(t AnalysisType, c AnalysisTypeCategory) object {
	return object{
		{"id", c.ID}, {"displayed_as", c.Name}, {"$path", "/analysis_type_categories/" + c.ID},
		{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
		{"code", nullable(c.Code)}, {"name", c.Name}, {"combined_id", nil},
		{"analysis_type", base(t.ID, t.Name, "/analysis_types/"+t.ID)},
	}
}

// analysisTypeObject renders a type with the spec's AnalysisType fields in
// the spec's order, its categories nested in full. The spec types
// analysis_type_level as an array; putAnalysisTypes gives its items as
// strings.
func analysisTypeObject(t AnalysisType) object {
	cats := make([]object, 0, len(t.Categories))
	for _, c := range t.Categories {
		cats = append(cats, categoryObject(t, c))
	}
	return object{
		{"id", t.ID}, {"displayed_as", t.Name}, {"$path", "/analysis_types/" + t.ID},
		{"created_at", timestamp(seeded)}, {"updated_at", timestamp(seeded)},
		{"active_areas", t.activeAreas()}, {"analysis_type_level", []string{t.Level}},
		{"analysis_type_categories", cats}, {"name", t.Name},
	}
}

// analysisUnavailable answers the analysis routes for an Accounting Start
// business: the spec makes them available on Accounting Plus and Standard
// only ("Endpoint Availability"). Sage's answer is not in the reference;
// the sandbox gives the 404 of apis.md §3.5.
func analysisUnavailable(b *business) (apiResponse, bool) {
	if b.StartTier {
		return notFound("Resource not found"), true
	}
	return apiResponse{}, false
}

// levelFilter reads the analysis_type_level filter both analysis lists
// take (spec getAnalysisTypes, getAnalysisTypeCategories).
func levelFilter(req *apiRequest) (string, *apiResponse) {
	v := req.query.Get("analysis_type_level")
	if v != "" && v != AnalysisLevelTransaction && v != AnalysisLevelGroup {
		resp := invalid(recordInvalid("analysis_type_level", "This field is not valid."))
		return "", &resp
	}
	return v, nil
}

// listAnalysisTypes answers GET /analysis_types (spec getAnalysisTypes) in
// the paging envelope of apis.md §3.7, with the filters analysis_type_level
// and search (the spec's "item code or description"; the sandbox matches
// the name, case-insensitively).
func (s *Server) listAnalysisTypes(req *apiRequest) apiResponse {
	level, bad := levelFilter(req)
	if bad != nil {
		return *bad
	}
	search := strings.ToLower(req.query.Get("search"))
	s.mu.Lock()
	b := s.businesses[req.businessID]
	if resp, ok := analysisUnavailable(b); ok {
		s.mu.Unlock()
		return resp
	}
	var items []object
	for _, t := range b.AnalysisTypes {
		if (level != "" && t.Level != level) || (search != "" && !strings.Contains(strings.ToLower(t.Name), search)) {
			continue
		}
		items = append(items, analysisTypeObject(t))
	}
	s.mu.Unlock()
	return page(req, items, "$itemsPerPage")
}

func (s *Server) getAnalysisType(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	if resp, ok := analysisUnavailable(b); ok {
		return resp
	}
	for _, t := range b.AnalysisTypes {
		if t.ID == key {
			return jsonResponse(http.StatusOK, analysisTypeObject(t))
		}
	}
	return notFound("Analysis type not found")
}

// listAnalysisTypeCategories answers GET /analysis_type_categories (spec
// getAnalysisTypeCategories): every category of every type, in type order,
// filtered by analysis_type_level, in the paging envelope of apis.md §3.7.
func (s *Server) listAnalysisTypeCategories(req *apiRequest) apiResponse {
	level, bad := levelFilter(req)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	b := s.businesses[req.businessID]
	if resp, ok := analysisUnavailable(b); ok {
		s.mu.Unlock()
		return resp
	}
	var items []object
	for _, t := range b.AnalysisTypes {
		if level != "" && t.Level != level {
			continue
		}
		for _, c := range t.Categories {
			items = append(items, categoryObject(t, c))
		}
	}
	s.mu.Unlock()
	return page(req, items, "$itemsPerPage")
}

func (s *Server) getAnalysisTypeCategory(req *apiRequest, key string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	if resp, ok := analysisUnavailable(b); ok {
		return resp
	}
	for _, t := range b.AnalysisTypes {
		for _, c := range t.Categories {
			if c.ID == key {
				return jsonResponse(http.StatusOK, categoryObject(t, c))
			}
		}
	}
	return notFound("Analysis type category not found")
}

// analysisCategory finds a category and its type by the category's id.
// An Accounting Start business has none, whatever it was seeded with, as
// its analysis routes answer (analysisUnavailable).
func (b *business) analysisCategory(id string) (AnalysisType, AnalysisTypeCategory, bool) {
	if b.StartTier {
		return AnalysisType{}, AnalysisTypeCategory{}, false
	}
	for _, t := range b.AnalysisTypes {
		for _, c := range t.Categories {
			if c.ID == id {
				return t, c, true
			}
		}
	}
	return AnalysisType{}, AnalysisTypeCategory{}, false
}

// lineAnalysis checks the categories a journal line carries (spec
// postJournals journal_lines.analysis_type_categories: category ids) and
// returns them as stored. A category must exist, belong to a TRANSACTION
// type (GROUP types tag records, not lines) that is active for journals,
// and be its type's only one on the line; the line carries at most
// Rules.MaxAnalysisTypesPerLine. Sage's behaviour for each is not in the
// reference; the errors are the 422 RecordInvalid of apis.md §3.5.
// Caller holds s.mu.
func (s *Server) lineAnalysis(b *business, ids []string, add func(sageError)) []LineAnalysis {
	const source = "journal_lines.analysis_type_categories"
	m := s.rules.Messages
	if limit := s.rules.MaxAnalysisTypesPerLine; limit > 0 && len(ids) > limit {
		add(recordInvalid(source, expand(m.TooManyAnalysisTypes, "{max}", strconv.Itoa(limit))))
	}
	var out []LineAnalysis
	types := map[string]bool{}
	for _, id := range ids {
		t, c, ok := b.analysisCategory(id)
		if !ok {
			add(recordInvalid(source, expand(m.UnknownAnalysisCategory, "{analysis_type_category}", id)))
			continue
		}
		names := []string{"{analysis_type}", t.Name, "{analysis_type_category}", c.Name}
		switch {
		case t.Level != AnalysisLevelTransaction:
			add(recordInvalid(source, expand(m.GroupAnalysisType, names...)))
		case !slices.Contains(t.activeAreas(), "journals"):
			add(recordInvalid(source, expand(m.InactiveAnalysisType, names...)))
		}
		if types[t.ID] {
			add(recordInvalid(source, expand(m.DuplicateAnalysisType, names...)))
		}
		types[t.ID] = true
		out = append(out, LineAnalysis{AnalysisTypeID: t.ID, AnalysisType: t.Name, CategoryID: c.ID, Category: c.Name})
	}
	return out
}

// lineAnalysisObjects renders a line's categories as the spec's
// AnalysisTypeLineItem. Its analysis_type is a Base reference, as nested
// resources are throughout the sandbox (categoryObject's too); the full
// type is at its $path.
func lineAnalysisObjects(as []LineAnalysis) []object {
	out := make([]object, 0, len(as))
	for _, a := range as {
		out = append(out, object{
			{"id", a.CategoryID}, {"displayed_as", a.Category}, {"$path", "/analysis_type_categories/" + a.CategoryID},
			{"analysis_type", base(a.AnalysisTypeID, a.AnalysisType, "/analysis_types/"+a.AnalysisTypeID)},
		})
	}
	return out
}
