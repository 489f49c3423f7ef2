package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SuiteQL (§4.3): POST /services/rest/query/v1/suiteql?limit=&offset=
// with Prefer: transient and {"q": "SELECT …"}. The sandbox understands a
// subset:
//
//	SELECT * | item, … FROM table [WHERE cond AND …] [ORDER BY column [ASC|DESC], …]
//	item := column | TO_CHAR(column, 'YYYY-MM-DD') [[AS] alias] | column [AS] alias
//	cond := item (= | <> | !=) 'text' | number
//
// over the tables account, subsidiary, currency, accountingperiod,
// department, classification, location, customer and vendor. Column names
// are lower case in answers; booleans are 'T'/'F'; null columns are left
// out of an item. A date column without TO_CHAR is rendered in the user's
// date format, here M/D/YYYY: neither is in the reference, which is why
// the connector asks for TO_CHAR.

type sqlTable struct {
	columns []string
	dates   map[string]bool
	rows    func(co *company) []map[string]string
}

func tf(b bool) string {
	if b {
		return "T"
	}
	return "F"
}

var sqlTables = map[string]sqlTable{
	"account": {
		columns: []string{"id", "acctnumber", "accountsearchdisplaynamecopy", "fullname", "accttype", "isinactive", "currency", "issummary"},
		rows: func(co *company) []map[string]string {
			out := make([]map[string]string, len(co.Accounts))
			for i, a := range co.Accounts {
				out[i] = map[string]string{
					"id": a.ID, "acctnumber": a.Number, "accountsearchdisplaynamecopy": a.Name, "fullname": a.Number + " " + a.Name,
					"accttype": a.Type, "isinactive": tf(a.Inactive), "currency": a.Currency, "issummary": "F",
				}
			}
			return out
		},
	},
	"subsidiary": {
		columns: []string{"id", "name", "currency", "parent", "isinactive", "iselimination"},
		rows: func(co *company) []map[string]string {
			out := make([]map[string]string, len(co.Subsidiaries))
			for i, s := range co.Subsidiaries {
				out[i] = map[string]string{"id": s.ID, "name": s.Name, "currency": s.Currency, "parent": s.Parent, "isinactive": tf(s.Inactive), "iselimination": tf(s.Elimination)}
			}
			return out
		},
	},
	"currency": {
		columns: []string{"id", "symbol", "name", "currencyprecision", "isinactive", "isbasecurrency"},
		rows: func(co *company) []map[string]string {
			base := ""
			for _, s := range co.Subsidiaries {
				if s.Parent == "" {
					base = s.Currency
					break
				}
			}
			out := make([]map[string]string, len(co.Currencies))
			for i, c := range co.Currencies {
				out[i] = map[string]string{
					"id": c.ID, "symbol": c.Symbol, "name": c.Name, "currencyprecision": strconv.Itoa(c.Precision),
					"isinactive": tf(c.Inactive), "isbasecurrency": tf(c.ID == base),
				}
			}
			return out
		},
	},
	"accountingperiod": {
		columns: []string{"id", "periodname", "startdate", "enddate", "isposting", "isyear", "closed", "alllocked", "arlocked", "aplocked", "isinactive"},
		dates:   map[string]bool{"startdate": true, "enddate": true},
		rows: func(co *company) []map[string]string {
			out := make([]map[string]string, len(co.Periods))
			for i, p := range co.Periods {
				out[i] = map[string]string{
					"id": p.ID, "periodname": p.Name, "startdate": p.Start, "enddate": p.End, "isposting": tf(!p.Summary),
					"isyear": tf(p.Summary), "closed": tf(p.Closed), "alllocked": tf(p.AllLocked), "arlocked": tf(p.ARLocked),
					"aplocked": tf(p.APLocked), "isinactive": "F",
				}
			}
			return out
		},
	},
	// customer and vendor: §4.3 lists neither table; the columns are
	// those of NetSuite's SuiteQL records (not in the reference). altname
	// is the name without the auto-generated entity number.
	"customer":       entityTable(func(co *company) []Entity { return co.Customers }),
	"vendor":         entityTable(func(co *company) []Entity { return co.Vendors }),
	"department":     segmentTable(func(co *company) []Segment { return co.Departments }),
	"classification": segmentTable(func(co *company) []Segment { return co.Classes }),
	"location":       segmentTable(func(co *company) []Segment { return co.Locations }),
}

func segmentTable(list func(*company) []Segment) sqlTable {
	return sqlTable{
		columns: []string{"id", "name", "isinactive"},
		rows: func(co *company) []map[string]string {
			segs := list(co)
			out := make([]map[string]string, len(segs))
			for i, s := range segs {
				out[i] = map[string]string{"id": s.ID, "name": s.Name, "isinactive": tf(s.Inactive)}
			}
			return out
		},
	}
}

func entityTable(list func(*company) []Entity) sqlTable {
	return sqlTable{
		columns: []string{"id", "entityid", "altname", "companyname", "isperson", "isinactive", "subsidiary", "currency"},
		rows: func(co *company) []map[string]string {
			ents := list(co)
			out := make([]map[string]string, len(ents))
			for i, e := range ents {
				out[i] = map[string]string{
					"id": e.ID, "entityid": e.EntityID, "altname": e.Name, "companyname": e.Name, "isperson": "F",
					"isinactive": tf(e.Inactive), "subsidiary": e.Subsidiary, "currency": e.Currency,
				}
			}
			return out
		},
	}
}

type sqlExpr struct {
	column string
	toChar string // format, "" for the plain column
}

type sqlItem struct {
	expr  sqlExpr
	alias string
}

type sqlCond struct {
	expr  sqlExpr
	op    string
	value string
}

type sqlOrder struct {
	column string
	desc   bool
}

type sqlQuery struct {
	table string
	star  bool
	items []sqlItem
	where []sqlCond
	order []sqlOrder
}

// suiteQL answers a SuiteQL query (§4.3), paged like records (§4.7).
func (s *Server) suiteQL(req *apiRequest) apiResponse {
	if !strings.Contains(strings.ToLower(req.header.Get("Prefer")), "transient") {
		// §4.3 names the header; the answer without it is not in the reference.
		return errorResponse(http.StatusBadRequest, invalidParameter("SuiteQL queries need the header Prefer: transient."))
	}
	var in struct {
		Q string `json:"q"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil || strings.TrimSpace(in.Q) == "" {
		return badJSON(s.rules.Messages, fmt.Errorf(`the body must be {"q": "<SuiteQL>"}`))
	}
	limit, offset, bad := page(req.query)
	if bad != nil {
		return *bad
	}
	q, err := parseSuiteQL(in.Q)
	if err != nil {
		// The wording of SuiteQL errors is not in the reference.
		return errorResponse(http.StatusBadRequest, invalidParameter("Invalid search query. "+err.Error()))
	}
	s.mu.Lock()
	rows, cols, err := q.run(req.co)
	s.mu.Unlock()
	if err != nil {
		return errorResponse(http.StatusBadRequest, invalidParameter("Invalid search query. "+err.Error()))
	}
	total := min(len(rows), MaxQueryResults)
	from, to := min(offset, total), min(offset+limit, total)
	items := make([]json.RawMessage, 0, to-from)
	for _, row := range rows[from:to] {
		var b bytes.Buffer
		b.WriteString(`{"links":[]`)
		for i, c := range cols {
			if row[i] == "" {
				continue
			}
			k, _ := json.Marshal(c)
			v, _ := json.Marshal(row[i])
			b.WriteByte(',')
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		items = append(items, b.Bytes())
	}
	return jsonResponse(http.StatusOK, ctCollection, collection{
		Links: pageLinks(req.base+SuiteQLPath, url.Values{}, limit, offset, total),
		Count: len(items), HasMore: to < total, Items: items, Offset: offset, TotalResults: total,
	})
}

// run evaluates the query; each row holds the output columns' values.
func (q *sqlQuery) run(co *company) ([][]string, []string, error) {
	t, ok := sqlTables[q.table]
	if !ok || slices.Contains(co.Disabled, q.table) {
		return nil, nil, fmt.Errorf("Record '%s' was not found.", q.table)
	}
	check := func(c string) error {
		if !slices.Contains(t.columns, c) {
			return fmt.Errorf("Field '%s' for record '%s' was not found.", c, q.table)
		}
		return nil
	}
	items := q.items
	if q.star {
		items = nil
		for _, c := range t.columns {
			items = append(items, sqlItem{expr: sqlExpr{column: c}, alias: c})
		}
	}
	cols := make([]string, len(items))
	for i, it := range items {
		if err := check(it.expr.column); err != nil {
			return nil, nil, err
		}
		cols[i] = it.alias
	}
	for _, c := range q.where {
		if err := check(c.expr.column); err != nil {
			return nil, nil, err
		}
	}
	eval := func(row map[string]string, e sqlExpr) string {
		v := row[e.column]
		if !t.dates[e.column] || v == "" {
			return v
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return v
		}
		if e.toChar != "" {
			return d.Format("2006-01-02")
		}
		return d.Format("1/2/2006")
	}
	var matched []map[string]string
	for _, row := range t.rows(co) {
		keep := true
		for _, c := range q.where {
			eq := eval(row, c.expr) == c.value
			if (c.op == "=") != eq {
				keep = false
				break
			}
		}
		if keep {
			matched = append(matched, row)
		}
	}
	for _, o := range slices.Backward(q.order) {
		col := o.column
		// ORDER BY may name an output alias or a table column.
		for _, it := range items {
			if it.alias == o.column {
				col = it.expr.column
			}
		}
		if err := check(col); err != nil {
			return nil, nil, err
		}
		slices.SortStableFunc(matched, func(a, b map[string]string) int {
			c := compareValues(a[col], b[col])
			if o.desc {
				return -c
			}
			return c
		})
	}
	out := make([][]string, len(matched))
	for i, row := range matched {
		out[i] = make([]string, len(items))
		for j, it := range items {
			out[i][j] = eval(row, it.expr)
		}
	}
	return out, cols, nil
}

func compareValues(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// sqlToken is a lexeme: kind is 'i' (identifier/keyword), 's' (string),
// 'n' (number) or the punctuation itself.
type sqlToken struct {
	kind byte
	text string
}

func lexSuiteQL(src string) ([]sqlToken, error) {
	var out []sqlToken
	r := []rune(src)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '.') {
				j++
			}
			out = append(out, sqlToken{'i', strings.ToLower(string(r[i:j]))})
			i = j
		case unicode.IsDigit(c) || (c == '-' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			j := i + 1
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			out = append(out, sqlToken{'n', string(r[i:j])})
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(r) {
					return nil, fmt.Errorf("unterminated string literal")
				}
				if r[j] == '\'' {
					if j+1 < len(r) && r[j+1] == '\'' {
						b.WriteRune('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteRune(r[j])
				j++
			}
			out = append(out, sqlToken{'s', b.String()})
			i = j + 1
		case c == '<' && i+1 < len(r) && r[i+1] == '>', c == '!' && i+1 < len(r) && r[i+1] == '=':
			out = append(out, sqlToken{'o', string(r[i : i+2])})
			i += 2
		case strings.ContainsRune(",()=*", c):
			out = append(out, sqlToken{byte(c), string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

type sqlParser struct {
	toks []sqlToken
	pos  int
}

func (p *sqlParser) peek() sqlToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return sqlToken{}
}

func (p *sqlParser) keyword(k string) bool {
	if t := p.peek(); t.kind == 'i' && t.text == k {
		p.pos++
		return true
	}
	return false
}

func (p *sqlParser) punct(c byte) bool {
	if p.peek().kind == c {
		p.pos++
		return true
	}
	return false
}

func (p *sqlParser) ident() (string, error) {
	t := p.peek()
	if t.kind != 'i' || reserved[t.text] {
		return "", fmt.Errorf("expected a name near %q", t.text)
	}
	p.pos++
	return t.text, nil
}

var reserved = map[string]bool{"select": true, "from": true, "where": true, "and": true, "order": true, "by": true, "as": true, "asc": true, "desc": true}

func (p *sqlParser) expr() (sqlExpr, error) {
	name, err := p.ident()
	if err != nil {
		return sqlExpr{}, err
	}
	if name != "to_char" || !p.punct('(') {
		return sqlExpr{column: name}, nil
	}
	col, err := p.ident()
	if err != nil {
		return sqlExpr{}, err
	}
	if !p.punct(',') {
		return sqlExpr{}, fmt.Errorf("TO_CHAR needs a format")
	}
	f := p.peek()
	if f.kind != 's' || !strings.EqualFold(f.text, "YYYY-MM-DD") {
		return sqlExpr{}, fmt.Errorf("the sandbox's TO_CHAR supports only 'YYYY-MM-DD'")
	}
	p.pos++
	if !p.punct(')') {
		return sqlExpr{}, fmt.Errorf("missing ) after TO_CHAR")
	}
	return sqlExpr{column: col, toChar: "YYYY-MM-DD"}, nil
}

func parseSuiteQL(src string) (*sqlQuery, error) {
	toks, err := lexSuiteQL(src)
	if err != nil {
		return nil, err
	}
	p := &sqlParser{toks: toks}
	q := &sqlQuery{}
	if !p.keyword("select") {
		return nil, fmt.Errorf("the query must start with SELECT")
	}
	if p.punct('*') {
		q.star = true
	} else {
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			it := sqlItem{expr: e, alias: e.column}
			if p.keyword("as") || (p.peek().kind == 'i' && !reserved[p.peek().text]) {
				if it.alias, err = p.ident(); err != nil {
					return nil, err
				}
			}
			q.items = append(q.items, it)
			if !p.punct(',') {
				break
			}
		}
	}
	if !p.keyword("from") {
		return nil, fmt.Errorf("expected FROM near %q", p.peek().text)
	}
	if q.table, err = p.ident(); err != nil {
		return nil, err
	}
	if p.keyword("where") {
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			op := p.peek()
			if op.kind != '=' && op.kind != 'o' {
				return nil, fmt.Errorf("expected = or <> near %q", op.text)
			}
			p.pos++
			v := p.peek()
			if v.kind != 's' && v.kind != 'n' {
				return nil, fmt.Errorf("expected a literal near %q", v.text)
			}
			p.pos++
			o := "="
			if op.kind == 'o' {
				o = "<>"
			}
			q.where = append(q.where, sqlCond{expr: e, op: o, value: v.text})
			if !p.keyword("and") {
				break
			}
		}
	}
	if p.keyword("order") {
		if !p.keyword("by") {
			return nil, fmt.Errorf("expected BY after ORDER")
		}
		for {
			c, err := p.ident()
			if err != nil {
				return nil, err
			}
			o := sqlOrder{column: c}
			if p.keyword("desc") {
				o.desc = true
			} else {
				p.keyword("asc")
			}
			q.order = append(q.order, o)
			if !p.punct(',') {
				break
			}
		}
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unsupported syntax near %q", p.peek().text)
	}
	return q, nil
}
