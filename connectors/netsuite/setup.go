package netsuite

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/commercesync/commercesync/connectors"
)

// trackingSegments are the segments a journal line carries (§4.2's line
// has "department", "class" and "location"), with the record types they
// are read from (§4.3) and the names NetSuite's forms give them. A
// category's ID is the line field, since that is where the planner's
// choice goes; the record type "classification" would not fit it.
var trackingSegments = []struct {
	field, name, query string
}{
	{"class", "Class", qClasses},
	{"department", "Department", qDepartments},
	{"location", "Location", qLocations},
}

// setupSubsidiaries lists the subsidiaries a transaction may name: an
// inactive or elimination subsidiary takes no postings of ours, as
// chooseSubsidiary already assumes.
func setupSubsidiaries(st *accountState) []connectors.Subsidiary {
	var out []connectors.Subsidiary
	for _, s := range st.subs {
		if s.inactive || s.elimination {
			continue
		}
		out = append(out, connectors.Subsidiary{ID: s.id, Name: s.name, Currency: st.byID[s.currency].symbol})
	}
	return out
}

// setupCurrencies lists the active currencies' codes, base first. base is
// the chosen subsidiary's currency; without one (several subsidiaries and
// none pinned) the root subsidiary's, the account's consolidation
// currency (§4.7 "a OneWorld subsidiary has a base currency").
func setupCurrencies(st *accountState, base string) []string {
	if base == "" {
		for _, s := range st.subs {
			if s.parent == "" {
				base = st.byID[s.currency].symbol
				break
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(code string) {
		if code != "" && !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	add(base)
	for _, cur := range st.currencies {
		if !cur.inactive {
			add(cur.symbol)
		}
	}
	return out
}

// tracking reads the active classes, departments and locations (§4.3).
// A segment with no active record is left out: a line cannot be tagged
// with it.
func (c *Connector) tracking(ctx context.Context, s connectors.Session) ([]connectors.TrackingCategory, error) {
	var out []connectors.TrackingCategory
	for _, seg := range trackingSegments {
		rows, err := c.suiteQL(ctx, s, seg.query)
		if ce := connectors.Classify(err); ce != nil && ce.Status == http.StatusBadRequest && strings.Contains(ce.Message, "was not found") {
			// The account has the feature turned off, so no line can carry
			// the segment; the rest of the setup still stands.
			c.log.InfoContext(ctx, "netsuite: tracking segment not available", "segment", seg.field, "reason", ce.Message)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("netsuite: read %s records: %w", seg.field, err)
		}
		if len(rows) == 0 {
			continue
		}
		tc := connectors.TrackingCategory{ID: seg.field, Name: seg.name, Options: make([]connectors.Option, 0, len(rows))}
		for _, r := range rows {
			tc.Options = append(tc.Options, connectors.Option{ID: r["id"], Name: r["name"]})
		}
		out = append(out, tc)
	}
	return out, nil
}

// contacts reads the active customers and vendors, each a contact of its
// own record: an invoice's entity must be a customer and a vendor bill's
// a vendor (§4.2), so a business that is both is offered once as each.
func (c *Connector) contacts(ctx context.Context, s connectors.Session) ([]connectors.Contact, error) {
	var out []connectors.Contact
	for _, kind := range []struct {
		record, query string
		customer      bool
	}{{"customer", qCustomers, true}, {"vendor", qVendors, false}} {
		rows, err := c.suiteQL(ctx, s, kind.query)
		if err != nil {
			return nil, fmt.Errorf("netsuite: read %s records: %w", kind.record, err)
		}
		for _, r := range rows {
			out = append(out, connectors.Contact{ID: r["id"], Name: entityName(r), Customer: kind.customer, Supplier: !kind.customer})
		}
	}
	return out, nil
}

// entityName prefers the company name; an individual has none, and
// altname then holds the person's name. entityid may be an auto-generated
// number, so it comes last.
func entityName(r map[string]string) string {
	for _, k := range []string{"companyname", "altname", "entityid"} {
		if r[k] != "" {
			return r[k]
		}
	}
	return r["id"]
}
