package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// The query language of §2.8: SELECT * | count(*) FROM Entity [WHERE a = 'x'
// AND …] [ORDERBY f [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS m]. "No OR,
// JOIN or projections." Operators: = < > <= >= IN (…) LIKE '…%'.

type kind byte

const (
	kString kind = 's'
	kBool   kind = 'b'
	kNumber kind = 'n'
	kTime   kind = 't' // YYYY-MM-DD or ISO 8601 with offset
)

type value struct {
	s string
	k kind
}

// row is one entity: its queryable fields (lower-case names) and its JSON.
type row struct {
	fields map[string]value
	json   any
}

type entityDef struct {
	name string
	// fields maps each queryable property, lower-case, to its spelling.
	fields map[string]string
	rows   func(co *company, now time.Time) []row
}

func fieldSet(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

// entities are the queryable entities, with invoice mode's transactions
// (txnEntity). JournalEntry exposes only the
// properties QBO lets transactions be filtered on (Id, DocNumber, TxnDate,
// MetaData times); PrivateNote is not among them, so look-ups go by
// DocNumber (§2.4 "Further dedupe: DocNumber … query before create").
var entities map[string]entityDef

func init() {
	entities = map[string]entityDef{
		"account": {name: "Account", fields: fieldSet("Id", "Name", "AcctNum", "FullyQualifiedName", "Active", "Classification",
			"AccountType", "AccountSubType", "CurrentBalance", "SubAccount", "MetaData.CreateTime", "MetaData.LastUpdatedTime"),
			rows: accountRows},
		"taxcode":         {name: "TaxCode", fields: fieldSet("Id", "Name", "Active", "Taxable", "MetaData.CreateTime", "MetaData.LastUpdatedTime"), rows: taxCodeRows},
		"taxrate":         {name: "TaxRate", fields: fieldSet("Id", "Name", "Active", "RateValue", "MetaData.CreateTime", "MetaData.LastUpdatedTime"), rows: taxRateRows},
		"companycurrency": {name: "CompanyCurrency", fields: fieldSet("Id", "Code", "Name", "Active"), rows: currencyRows},
		"journalentry":    {name: "JournalEntry", fields: fieldSet("Id", "DocNumber", "TxnDate", "MetaData.CreateTime", "MetaData.LastUpdatedTime"), rows: journalRows},
		"customer":        {name: "Customer", fields: fieldSet(nameListFields...), rows: customerRows},
		"vendor":          {name: "Vendor", fields: fieldSet(nameListFields...), rows: vendorRows},
		"class":           {name: "Class", fields: fieldSet(classFields...), rows: classRows},
		"department":      {name: "Department", fields: fieldSet(departmentFields...), rows: departmentRows},
		"item":            {name: "Item", fields: fieldSet(itemFields...), rows: itemRows},
		"companyinfo":     {name: "CompanyInfo", fields: fieldSet("Id"), rows: companyInfoRows},
		"preferences":     {name: "Preferences", fields: fieldSet("Id"), rows: preferencesRows},
	}
	for key, k := range txnKinds {
		entities[key] = txnEntity(k)
	}
}

type cond struct {
	field  string // lower-case
	op     string // = < > <= >= IN LIKE
	values []value
}

type order struct {
	field string
	desc  bool
}

type query struct {
	count      bool
	entity     entityDef
	where      []cond
	orderBy    []order
	start      int
	max        int
	maxGiven   bool
	startGiven bool
}

type token struct {
	text string
	str  bool // a quoted string literal
	pos  int
}

// queryError is a fault to answer with.
type queryError struct{ faultError }

func (e *queryError) Error() string { return e.Detail }

func parseError(tok token, what string) error {
	// QBO answers parse errors with 4000 "Error parsing query"; not in the reference.
	return &queryError{faultError{Message: "Error parsing query",
		Detail: fmt.Sprintf("QueryParserError: Encountered \"%s\" at line 1, column %d. Was expecting %s.", tok.text, tok.pos+1, what), Code: "4000"}}
}

func validationError(detail string) error {
	// QBO answers semantic query errors with 4001 "Invalid query"; not in the reference.
	return &queryError{faultError{Message: "Invalid query", Detail: "QueryValidationError: " + detail, Code: "4001"}}
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, parseError(token{text: "<EOF>", pos: len(s)}, "a closing quote")
			}
			out = append(out, token{text: b.String(), str: true, pos: i})
			i = j + 1
		case strings.ContainsRune("*(),", rune(c)):
			out = append(out, token{text: string(c), pos: i})
			i++
		case strings.ContainsRune("=<>!", rune(c)):
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			out = append(out, token{text: s[i:j], pos: i})
			i = j
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.' || s[j] == '-' || s[j] == ':' || s[j] == '+') {
				j++
			}
			if j == i {
				return nil, parseError(token{text: string(c), pos: i}, "a name, value or operator")
			}
			out = append(out, token{text: s[i:j], pos: i})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	i    int
	end  int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{text: "<EOF>", pos: p.end}
}

func (p *parser) next() token { t := p.peek(); p.i++; return t }

func (p *parser) keyword(k string) bool {
	t := p.peek()
	if !t.str && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(text, what string) error {
	t := p.next()
	if t.str || !strings.EqualFold(t.text, text) {
		return parseError(t, what)
	}
	return nil
}

func parseQuery(s string) (*query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, end: len(s)}
	q := &query{start: 1, max: DefaultResults}
	if err := p.expect("select", `"SELECT"`); err != nil {
		return nil, err
	}
	switch {
	case p.keyword("*"):
	case p.keyword("count"):
		if err := p.expect("(", `"("`); err != nil {
			return nil, err
		}
		if err := p.expect("*", `"*"`); err != nil {
			return nil, err
		}
		if err := p.expect(")", `")"`); err != nil {
			return nil, err
		}
		q.count = true
	default:
		// §2.8: no projections.
		return nil, parseError(p.peek(), `"*" or "count(*)"`)
	}
	if err := p.expect("from", `"FROM"`); err != nil {
		return nil, err
	}
	name := p.next()
	ent, ok := entities[strings.ToLower(name.text)]
	if name.str || !ok {
		return nil, validationError(fmt.Sprintf("Entity '%s' is not supported", name.text))
	}
	q.entity = ent
	if p.keyword("where") {
		for {
			c, err := p.cond(ent)
			if err != nil {
				return nil, err
			}
			q.where = append(q.where, c)
			if !p.keyword("and") {
				break
			}
		}
	}
	if p.keyword("orderby") || (p.keyword("order") && p.keyword("by")) {
		for {
			f := p.next()
			canon, ok := ent.fields[strings.ToLower(f.text)]
			if f.str || !ok {
				return nil, validationError(fmt.Sprintf("property '%s' is not queryable", f.text))
			}
			o := order{field: strings.ToLower(canon)}
			if p.keyword("desc") {
				o.desc = true
			} else {
				p.keyword("asc")
			}
			q.orderBy = append(q.orderBy, o)
			if !p.keyword(",") {
				break
			}
		}
	}
	if p.keyword("startposition") {
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		q.start, q.startGiven = max(n, 1), true
	}
	if p.keyword("maxresults") {
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		// §2.8: "MAXRESULTS ≤ 1000".
		q.max, q.maxGiven = min(max(n, 0), MaxResults), true
	}
	if t := p.peek(); t.text != "<EOF>" || t.str {
		return nil, parseError(t, "<EOF>")
	}
	return q, nil
}

func (p *parser) integer() (int, error) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.str || err != nil {
		return 0, parseError(t, "<INTEGER>")
	}
	return n, nil
}

func (p *parser) literal() (value, error) {
	t := p.next()
	switch {
	case t.str:
		return value{s: t.text, k: kString}, nil
	case strings.EqualFold(t.text, "true"), strings.EqualFold(t.text, "false"):
		return value{s: strings.ToLower(t.text), k: kBool}, nil
	}
	if _, err := decimal.NewFromString(t.text); err == nil {
		return value{s: t.text, k: kNumber}, nil
	}
	return value{}, parseError(t, "a quoted string, a number, true or false")
}

func (p *parser) cond(ent entityDef) (cond, error) {
	f := p.next()
	canon, ok := ent.fields[strings.ToLower(f.text)]
	if f.str || !ok {
		return cond{}, validationError(fmt.Sprintf("property '%s' is not queryable", f.text))
	}
	c := cond{field: strings.ToLower(canon)}
	op := p.next()
	switch strings.ToUpper(op.text) {
	case "=", "<", ">", "<=", ">=":
		c.op = op.text
		v, err := p.literal()
		if err != nil {
			return cond{}, err
		}
		c.values = []value{v}
	case "LIKE":
		c.op = "LIKE"
		v, err := p.literal()
		if err != nil {
			return cond{}, err
		}
		c.values = []value{v}
	case "IN":
		c.op = "IN"
		if err := p.expect("(", `"("`); err != nil {
			return cond{}, err
		}
		for {
			v, err := p.literal()
			if err != nil {
				return cond{}, err
			}
			c.values = append(c.values, v)
			if p.keyword(")") {
				break
			}
			if err := p.expect(",", `"," or ")"`); err != nil {
				return cond{}, err
			}
		}
	default:
		if op.str {
			return cond{}, parseError(op, "an operator")
		}
		return cond{}, parseError(op, `"=", "<", ">", "<=", ">=", "IN" or "LIKE"`)
	}
	return c, nil
}

// compare orders a field value against a literal; ok is false when they
// cannot be compared.
func compare(f, lit value) (int, bool) {
	switch f.k {
	case kBool:
		if lit.k != kBool {
			return 0, false
		}
		return strings.Compare(f.s, lit.s), true
	case kNumber:
		a, err1 := decimal.NewFromString(f.s)
		b, err2 := decimal.NewFromString(lit.s)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return a.Cmp(b), true
	case kTime:
		a, ok1 := parseQueryTime(f.s)
		b, ok2 := parseQueryTime(lit.s)
		if !ok1 || !ok2 {
			return 0, false
		}
		return a.Compare(b), true
	}
	return strings.Compare(f.s, lit.s), true
}

func parseQueryTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-07:00", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (c cond) match(r row) (bool, error) {
	f := r.fields[c.field]
	switch c.op {
	case "IN":
		for _, v := range c.values {
			if n, ok := compare(f, v); ok && n == 0 {
				return true, nil
			}
		}
		return false, nil
	case "LIKE":
		pat := c.values[0].s
		pre, suf := strings.HasSuffix(pat, "%"), strings.HasPrefix(pat, "%")
		core := strings.Trim(pat, "%")
		switch {
		case pre && suf:
			return strings.Contains(f.s, core), nil
		case pre:
			return strings.HasPrefix(f.s, core), nil
		case suf:
			return strings.HasSuffix(f.s, core), nil
		}
		return f.s == core, nil
	}
	n, ok := compare(f, c.values[0])
	if !ok {
		return false, validationError(fmt.Sprintf("value '%s' is not valid for property '%s'", c.values[0].s, c.field))
	}
	switch c.op {
	case "=":
		return n == 0, nil
	case "<":
		return n < 0, nil
	case ">":
		return n > 0, nil
	case "<=":
		return n <= 0, nil
	}
	return n >= 0, nil
}

// runQuery answers GET/POST /query. Caller holds s.mu.
func (s *Server) runQuery(co *company, text string, now time.Time) apiResponse {
	qr, fe, err := evalQuery(co, text, now)
	switch {
	case err != nil:
		return systemFault(http.StatusInternalServerError, co, now)
	case fe != nil:
		return validationFault(co, now, *fe)
	}
	var b bytes.Buffer
	b.WriteString(`{"QueryResponse":`)
	b.Write(qr)
	fmt.Fprintf(&b, `,"time":%q}`, companyTime(co, now))
	return apiResponse{status: http.StatusOK, body: b.Bytes()}
}

// evalQuery runs one query and returns its QueryResponse object, or the
// fault to answer with; err is the sandbox's own failure. /query and
// /batch share it.
func evalQuery(co *company, text string, now time.Time) ([]byte, *faultError, error) {
	if strings.TrimSpace(text) == "" {
		// §2.5: 2020 "Required param missing".
		return nil, &faultError{Message: "Required param missing, need to supply the required value for the API",
			Detail: "Required parameter query is missing in the request", Code: "2020", Element: "query"}, nil
	}
	q, err := parseQuery(text)
	if err != nil {
		return nil, asQueryFault(err), nil
	}
	hits, err := q.run(co, now)
	if err != nil {
		return nil, asQueryFault(err), nil
	}
	qr, err := q.response(hits)
	return qr, nil, err
}

func asQueryFault(err error) *faultError {
	if qe, ok := err.(*queryError); ok {
		return &qe.faultError
	}
	return &faultError{Message: "Error parsing query", Detail: err.Error(), Code: "4000"}
}

// run filters and orders the entity's rows.
func (q *query) run(co *company, now time.Time) ([]row, error) {
	var hits []row
	for _, r := range q.entity.rows(co, now) {
		ok := true
		for _, c := range q.where {
			m, err := c.match(r)
			if err != nil {
				return nil, err
			}
			if !m {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, r)
		}
	}
	if len(q.orderBy) > 0 {
		sort.SliceStable(hits, func(i, j int) bool {
			for _, o := range q.orderBy {
				n, _ := compare(hits[i].fields[o.field], hits[j].fields[o.field])
				if n == 0 {
					continue
				}
				return (n < 0) != o.desc
			}
			return false
		})
	}
	return hits, nil
}

// response is the QueryResponse object for hits: a count, or the page
// STARTPOSITION/MAXRESULTS select (§2.8).
func (q *query) response(hits []row) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	switch {
	case q.count:
		fmt.Fprintf(&b, `"totalCount":%d`, len(hits))
	default:
		from := min(q.start-1, len(hits))
		to := min(from+q.max, len(hits))
		page := hits[from:to]
		// An empty result is an empty QueryResponse (as Intuit answers; the
		// reference shows only the non-empty shape, §2.8).
		if len(page) > 0 {
			items := make([]any, len(page))
			for i, r := range page {
				items[i] = r.json
			}
			list, err := json.Marshal(items)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "%q:", q.entity.name)
			b.Write(list)
			fmt.Fprintf(&b, `,"startPosition":%d,"maxResults":%d,"totalCount":%d`, q.start, len(page), len(hits))
		}
	}
	b.WriteString("}")
	return b.Bytes(), nil
}

func str(s string) value   { return value{s: s, k: kString} }
func boolean(b bool) value { return value{s: strconv.FormatBool(b), k: kBool} }
func tm(s string) value    { return value{s: s, k: kTime} }

// refJSON is a reference type ({"value":…,"name":…}).
type refJSON struct {
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

type metaJSON struct {
	CreateTime      string `json:"CreateTime"`
	LastUpdatedTime string `json:"LastUpdatedTime"`
}

// seeded is when the company's lists were created, for MetaData.
func seeded(co *company) string {
	return time.Date(2024, 1, 2, 10, 0, 0, 0, co.location()).Format("2006-01-02T15:04:05-07:00")
}

type accountJSON struct {
	Name                          string          `json:"Name"`
	SubAccount                    bool            `json:"SubAccount"`
	ParentRef                     *refJSON        `json:"ParentRef,omitempty"`
	FullyQualifiedName            string          `json:"FullyQualifiedName"`
	Active                        bool            `json:"Active"`
	Classification                string          `json:"Classification"`
	AccountType                   string          `json:"AccountType"`
	AccountSubType                string          `json:"AccountSubType"`
	AcctNum                       string          `json:"AcctNum,omitempty"`
	CurrentBalance                json.RawMessage `json:"CurrentBalance"`
	CurrentBalanceWithSubAccounts json.RawMessage `json:"CurrentBalanceWithSubAccounts"`
	CurrencyRef                   refJSON         `json:"CurrencyRef"`
	TaxCodeRef                    *refJSON        `json:"TaxCodeRef,omitempty"`
	Domain                        string          `json:"domain"`
	Sparse                        bool            `json:"sparse"`
	ID                            string          `json:"Id"`
	SyncToken                     string          `json:"SyncToken"`
	MetaData                      metaJSON        `json:"MetaData"`
}

// balances sums every posting per account, debit positive; accountRows
// turns credit-normal classifications around, as QBO shows balances.
func balances(co *company) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for _, p := range co.postingsOn("") {
		out[p.accountID] = out[p.accountID].Add(p.amount)
	}
	return out
}

func accountRows(co *company, _ time.Time) []row {
	bal := balances(co)
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Accounts))
	for _, a := range co.Accounts {
		fq := a.Name
		var parent *refJSON
		if p := co.account(a.ParentID); p != nil {
			fq, parent = p.Name+":"+a.Name, &refJSON{Value: p.ID}
		}
		b := bal[a.ID]
		if a.Classification == "Liability" || a.Classification == "Equity" || a.Classification == "Revenue" {
			b = b.Neg()
		}
		balance := json.RawMessage(b.StringFixed(2))
		j := accountJSON{
			Name: a.Name, SubAccount: parent != nil, ParentRef: parent, FullyQualifiedName: fq, Active: !a.Inactive,
			Classification: a.Classification, AccountType: a.AccountType, AccountSubType: a.AccountSubType, AcctNum: a.AcctNum,
			CurrentBalance: balance, CurrentBalanceWithSubAccounts: balance,
			CurrencyRef: refJSON{Value: a.Currency, Name: co.currencyName(a.Currency)},
			Domain:      "QBO", ID: a.ID, SyncToken: "0", MetaData: meta,
		}
		if a.TaxCodeID != "" {
			j.TaxCodeRef = &refJSON{Value: a.TaxCodeID}
		}
		out = append(out, row{json: j, fields: map[string]value{
			"id": str(a.ID), "name": str(a.Name), "acctnum": str(a.AcctNum), "fullyqualifiedname": str(fq),
			"active": boolean(!a.Inactive), "classification": str(a.Classification), "accounttype": str(a.AccountType),
			"accountsubtype": str(a.AccountSubType), "currentbalance": {s: b.String(), k: kNumber}, "subaccount": boolean(parent != nil),
			"metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
		}})
	}
	return out
}

type taxRateDetailJSON struct {
	TaxRateRef        refJSON `json:"TaxRateRef"`
	TaxTypeApplicable string  `json:"TaxTypeApplicable"`
	TaxOrder          int     `json:"TaxOrder"`
}

type taxRateListJSON struct {
	TaxRateDetail []taxRateDetailJSON `json:"TaxRateDetail"`
}

type taxCodeJSON struct {
	Name                string          `json:"Name"`
	Description         string          `json:"Description"`
	Active              bool            `json:"Active"`
	Hidden              bool            `json:"Hidden"`
	Taxable             bool            `json:"Taxable"`
	TaxGroup            bool            `json:"TaxGroup"`
	SalesTaxRateList    taxRateListJSON `json:"SalesTaxRateList"`
	PurchaseTaxRateList taxRateListJSON `json:"PurchaseTaxRateList"`
	Domain              string          `json:"domain"`
	Sparse              bool            `json:"sparse"`
	ID                  string          `json:"Id"`
	SyncToken           string          `json:"SyncToken"`
	MetaData            metaJSON        `json:"MetaData"`
}

func rateList(co *company, ids []string) taxRateListJSON {
	l := taxRateListJSON{TaxRateDetail: []taxRateDetailJSON{}}
	for _, id := range ids {
		name := ""
		if r := co.taxRate(id); r != nil {
			name = r.Name
		}
		l.TaxRateDetail = append(l.TaxRateDetail, taxRateDetailJSON{TaxRateRef: refJSON{Value: id, Name: name}, TaxTypeApplicable: "TaxOnAmount"})
	}
	return l
}

func taxCodeRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.TaxCodes))
	for _, t := range co.TaxCodes {
		j := taxCodeJSON{
			Name: t.Name, Description: t.Description, Active: !t.Inactive, Taxable: t.Taxable,
			TaxGroup:         len(t.SalesRates)+len(t.PurchaseRates) > 1,
			SalesTaxRateList: rateList(co, t.SalesRates), PurchaseTaxRateList: rateList(co, t.PurchaseRates),
			Domain: "QBO", ID: t.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, row{json: j, fields: map[string]value{
			"id": str(t.ID), "name": str(t.Name), "active": boolean(!t.Inactive), "taxable": boolean(t.Taxable),
			"metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
		}})
	}
	return out
}

type taxRateJSON struct {
	Name             string          `json:"Name"`
	Description      string          `json:"Description"`
	Active           bool            `json:"Active"`
	RateValue        json.RawMessage `json:"RateValue"`
	AgencyRef        refJSON         `json:"AgencyRef"`
	SpecialTaxType   string          `json:"SpecialTaxType"`
	DisplayType      string          `json:"DisplayType"`
	EffectiveTaxRate []any           `json:"EffectiveTaxRate"`
	Domain           string          `json:"domain"`
	Sparse           bool            `json:"sparse"`
	ID               string          `json:"Id"`
	SyncToken        string          `json:"SyncToken"`
	MetaData         metaJSON        `json:"MetaData"`
}

func taxRateRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.TaxRates))
	for _, t := range co.TaxRates {
		rate := t.RateValue
		if _, err := decimal.NewFromString(rate); err != nil {
			rate = "0"
		}
		j := taxRateJSON{
			Name: t.Name, Description: t.Name, Active: !t.Inactive, RateValue: json.RawMessage(rate),
			AgencyRef: refJSON{Value: t.AgencyID}, SpecialTaxType: "NONE", DisplayType: "ReadOnly",
			EffectiveTaxRate: []any{map[string]any{"RateValue": json.RawMessage(rate), "EffectiveDate": "2024-01-01T00:00:00-08:00"}},
			Domain:           "QBO", ID: t.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, row{json: j, fields: map[string]value{
			"id": str(t.ID), "name": str(t.Name), "active": boolean(!t.Inactive), "ratevalue": {s: rate, k: kNumber},
			"metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
		}})
	}
	return out
}

func currencyRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Currencies))
	for i, c := range co.Currencies {
		id := strconv.Itoa(i + 1)
		j := struct {
			Code      string   `json:"Code"`
			Name      string   `json:"Name"`
			Active    bool     `json:"Active"`
			Domain    string   `json:"domain"`
			Sparse    bool     `json:"sparse"`
			ID        string   `json:"Id"`
			SyncToken string   `json:"SyncToken"`
			MetaData  metaJSON `json:"MetaData"`
		}{c.Code, co.currencyName(c.Code), !c.Inactive, "QBO", false, id, "0", meta}
		out = append(out, row{json: j, fields: map[string]value{
			"id": str(id), "code": str(c.Code), "name": str(j.Name), "active": boolean(!c.Inactive),
		}})
	}
	return out
}

func companyInfoRows(co *company, now time.Time) []row {
	return []row{{json: co.companyInfoJSON(now), fields: map[string]value{"id": str("1")}}}
}

func preferencesRows(co *company, now time.Time) []row {
	return []row{{json: co.preferencesJSON(now), fields: map[string]value{"id": str("1")}}}
}

type nameValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// companyInfoJSON is CompanyInfo (§2.3: "for country and fiscal year").
func (co *company) companyInfoJSON(_ time.Time) any {
	return struct {
		CompanyName          string      `json:"CompanyName"`
		LegalName            string      `json:"LegalName"`
		Country              string      `json:"Country"`
		FiscalYearStartMonth string      `json:"FiscalYearStartMonth"`
		SupportedLanguages   string      `json:"SupportedLanguages"`
		DefaultTimeZone      string      `json:"DefaultTimeZone"`
		NameValue            []nameValue `json:"NameValue"`
		Domain               string      `json:"domain"`
		Sparse               bool        `json:"sparse"`
		ID                   string      `json:"Id"`
		SyncToken            string      `json:"SyncToken"`
		MetaData             metaJSON    `json:"MetaData"`
	}{
		co.CompanyName, co.LegalName, co.Country, "January", "en", co.TimeZone,
		[]nameValue{{"NeoEnabled", "true"}, {"IsQbdtMigrated", "false"}},
		"QBO", false, "1", "0", metaJSON{seeded(co), seeded(co)},
	}
}

// preferencesJSON is Preferences with the parts §2.3 names:
// AccountingInfoPrefs (BookCloseDate, class and department tracking) and
// CurrencyPrefs (MultiCurrencyEnabled, HomeCurrency).
func (co *company) preferencesJSON(_ time.Time) any {
	type accountingInfo struct {
		TrackDepartments        bool   `json:"TrackDepartments"`
		DepartmentTerminology   string `json:"DepartmentTerminology"`
		ClassTrackingPerTxn     bool   `json:"ClassTrackingPerTxn"`
		ClassTrackingPerTxnLine bool   `json:"ClassTrackingPerTxnLine"`
		CustomerTerminology     string `json:"CustomerTerminology"`
		BookCloseDate           string `json:"BookCloseDate,omitempty"`
	}
	type currencyPrefs struct {
		MultiCurrencyEnabled bool    `json:"MultiCurrencyEnabled"`
		HomeCurrency         refJSON `json:"HomeCurrency"`
	}
	return struct {
		AccountingInfoPrefs accountingInfo `json:"AccountingInfoPrefs"`
		CurrencyPrefs       currencyPrefs  `json:"CurrencyPrefs"`
		Domain              string         `json:"domain"`
		Sparse              bool           `json:"sparse"`
		ID                  string         `json:"Id"`
		SyncToken           string         `json:"SyncToken"`
		MetaData            metaJSON       `json:"MetaData"`
	}{
		accountingInfo{
			TrackDepartments: co.TrackDepartments, DepartmentTerminology: co.DepartmentTerminology,
			ClassTrackingPerTxn: co.ClassTrackingPerTxn, ClassTrackingPerTxnLine: co.ClassTrackingPerTxnLine,
			CustomerTerminology: "Customers", BookCloseDate: co.BookCloseDate,
		},
		currencyPrefs{MultiCurrencyEnabled: co.MultiCurrencyEnabled, HomeCurrency: refJSON{Value: co.HomeCurrency}},
		"QBO", false, "1", "0", metaJSON{seeded(co), seeded(co)},
	}
}
