package netsuite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors"
)

// SuiteQL the connector runs (§4.3). Dates go through TO_CHAR so they do
// not depend on the user's date format preference.
const (
	qSubsidiaries = "SELECT id, name, currency, parent, isinactive, iselimination FROM subsidiary ORDER BY id"
	qCurrencies   = "SELECT id, symbol, currencyprecision, isinactive FROM currency ORDER BY id"
	qAccounts     = "SELECT id, acctnumber, accountsearchdisplaynamecopy, accttype, isinactive, currency FROM account ORDER BY id"
	qPeriods      = "SELECT id, periodname, TO_CHAR(startdate, 'YYYY-MM-DD') AS startdate, TO_CHAR(enddate, 'YYYY-MM-DD') AS enddate, " +
		"closed, alllocked FROM accountingperiod WHERE isposting = 'T' ORDER BY id"
	// Segments and entities are filtered on the server, as in §4.3's
	// example: inactive ones are never offered, and customer lists can be
	// long enough for paging to matter.
	qClasses     = "SELECT id, name FROM classification WHERE isinactive = 'F' ORDER BY id"
	qDepartments = "SELECT id, name FROM department WHERE isinactive = 'F' ORDER BY id"
	qLocations   = "SELECT id, name FROM location WHERE isinactive = 'F' ORDER BY id"
	// altname is the name without the auto-generated entity number,
	// companyname empty for individuals (not in the reference).
	qCustomers = "SELECT id, entityid, altname, companyname FROM customer WHERE isinactive = 'F' ORDER BY id"
	qVendors   = "SELECT id, entityid, altname, companyname FROM vendor WHERE isinactive = 'F' ORDER BY id"
)

// stateTTL bounds how long Push trusts the subsidiary and currencies it
// read; Setup refreshes them whenever the worker reads the setup.
const stateTTL = 15 * time.Minute

type subsidiary struct {
	id, name, currency, parent string
	inactive, elimination      bool
}

type currency struct {
	id, symbol string
	precision  int32
	inactive   bool
}

type account struct {
	id, number, name, typ, currency string
	inactive                        bool
}

// accountState is what the connector knows of one NetSuite account: its
// subsidiaries and the one journals go to (nil when it cannot be chosen),
// the currencies and the chart.
type accountState struct {
	subs   []subsidiary
	sub    *subsidiary
	subErr *connectors.Error
	// currencies are in the order SuiteQL returned them (by id).
	currencies []currency
	bySymbol   map[string]currency
	byID       map[string]currency
	accounts   []account
	byNumber   map[string]string
	at         time.Time
}

// state returns the cached account state, reading it when missing or old.
func (c *Connector) state(ctx context.Context, s connectors.Session) (*accountState, error) {
	c.mu.Lock()
	st := c.states[HostForm(s.TenantID)]
	c.mu.Unlock()
	if st != nil && c.now().Sub(st.at) < stateTTL {
		return st, nil
	}
	return c.loadState(ctx, s)
}

// loadState reads subsidiaries, currencies and accounts and caches them.
func (c *Connector) loadState(ctx context.Context, s connectors.Session) (*accountState, error) {
	subs, err := c.subsidiaries(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("netsuite: read subsidiaries: %w", err)
	}
	curRows, err := c.suiteQL(ctx, s, qCurrencies)
	if err != nil {
		return nil, fmt.Errorf("netsuite: read currencies: %w", err)
	}
	acctRows, err := c.suiteQL(ctx, s, qAccounts)
	if err != nil {
		return nil, fmt.Errorf("netsuite: read accounts: %w", err)
	}
	st := &accountState{subs: subs, bySymbol: map[string]currency{}, byID: map[string]currency{}, byNumber: map[string]string{}, at: c.now()}
	if sub, cerr := c.chooseSubsidiary(subs); cerr != nil {
		st.subErr = cerr
	} else {
		st.sub = &sub
	}
	for _, r := range curRows {
		p, err := strconv.Atoi(r["currencyprecision"])
		if err != nil {
			p = 2 // §4.7: "usually 2 dp"
		}
		cur := currency{id: r["id"], symbol: strings.ToUpper(r["symbol"]), precision: int32(p), inactive: r["isinactive"] == "T"}
		st.byID[cur.id] = cur
		st.currencies = append(st.currencies, cur)
		// An active record wins over an inactive one with the same symbol.
		if prev, dup := st.bySymbol[cur.symbol]; !dup || prev.inactive {
			st.bySymbol[cur.symbol] = cur
		}
	}
	for _, r := range acctRows {
		a := account{id: r["id"], number: r["acctnumber"], name: r["accountsearchdisplaynamecopy"], typ: r["accttype"],
			currency: r["currency"], inactive: r["isinactive"] == "T"}
		st.accounts = append(st.accounts, a)
		if a.number != "" && !a.inactive {
			st.byNumber[a.number] = a.id
		}
	}
	c.mu.Lock()
	c.states[HostForm(s.TenantID)] = st
	c.mu.Unlock()
	return st, nil
}

func (c *Connector) subsidiaries(ctx context.Context, s connectors.Session) ([]subsidiary, error) {
	rows, err := c.suiteQL(ctx, s, qSubsidiaries)
	if err != nil {
		return nil, err
	}
	out := make([]subsidiary, len(rows))
	for i, r := range rows {
		out[i] = subsidiary{id: r["id"], name: r["name"], currency: r["currency"], parent: r["parent"],
			inactive: r["isinactive"] == "T", elimination: r["iselimination"] == "T"}
	}
	return out, nil
}

// chooseSubsidiary applies WithSubsidiary, or takes the only active
// non-elimination subsidiary.
func (c *Connector) chooseSubsidiary(subs []subsidiary) (subsidiary, *connectors.Error) {
	if c.subsidiary != "" {
		for _, s := range subs {
			if s.id == c.subsidiary && !s.inactive && !s.elimination {
				return s, nil
			}
		}
		return subsidiary{}, &connectors.Error{Class: connectors.MerchantActionable, Field: "subsidiary",
			Message: fmt.Sprintf("The NetSuite subsidiary %s that journals are posted to is inactive or missing, or this role cannot see it. Reactivate it or choose another subsidiary.", c.subsidiary)}
	}
	var usable []subsidiary
	for _, s := range subs {
		if !s.inactive && !s.elimination {
			usable = append(usable, s)
		}
	}
	switch len(usable) {
	case 1:
		return usable[0], nil
	case 0:
		return subsidiary{}, &connectors.Error{Class: connectors.MerchantActionable, Field: "subsidiary",
			Message: "The NetSuite role sees no active subsidiary to post journals to. Give the integration's role access to a subsidiary."}
	}
	names := make([]string, len(usable))
	for i, s := range usable {
		names[i] = s.id + " " + s.name
	}
	return subsidiary{}, &connectors.Error{Class: connectors.MerchantActionable, Field: "subsidiary",
		Message: "This NetSuite account has several subsidiaries (" + strings.Join(names, ", ") + "); choose the one that receives the daily journals."}
}
