package sandbox

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// How transactions answer (§2.2: {"<Entity>":{…},"time":…}), how they
// are queried (§2.8) and what they post.

func money(d decimal.Decimal) json.RawMessage { return json.RawMessage(d.StringFixed(2)) }

func (co *company) currencyRef(code string) refJSON {
	return refJSON{Value: code, Name: co.currencyName(code)}
}

func (co *company) accountRef(id string) refJSON {
	r := refJSON{Value: id}
	if a := co.account(id); a != nil {
		r.Name = a.Name
	}
	return r
}

func (co *company) nameRef(typ, id string) map[string]any {
	r := map[string]any{"value": id}
	if e := co.entity(typ, id); e != nil {
		r["name"] = e.DisplayName
	}
	return r
}

// txnJSON renders a transaction as QuickBooks answers it: the fields it
// was created with, its lines, TotalAmt, and for what payments apply its
// open Balance and the LinkedTxn of those payments. Field names follow
// §2.2's request shapes; the read-only ones (Balance, RemainingCredit,
// UnappliedAmt, LinkedTxn) are Intuit's and not in the reference.
func (co *company) txnJSON(t *Txn) map[string]any {
	loc := co.location()
	out := map[string]any{
		"Id": t.ID, "SyncToken": t.SyncToken, "domain": "QBO", "sparse": false, "TxnDate": t.TxnDate,
		"MetaData": metaJSON{t.Created.In(loc).Format(metaLayout), t.Updated.In(loc).Format(metaLayout)},
	}
	if t.Type == "Transfer" {
		out["FromAccountRef"], out["ToAccountRef"], out["Amount"] = co.accountRef(t.AccountID), co.accountRef(t.ToAccountID), money(t.Total)
		if t.PrivateNote != "" {
			out["PrivateNote"] = t.PrivateNote
		}
		return out
	}
	out["CurrencyRef"], out["TotalAmt"], out["Line"] = co.currencyRef(t.Currency), money(t.Total), co.linesJSON(t)
	for k, v := range map[string]string{"DocNumber": t.DocNumber, "PrivateNote": t.PrivateNote, "GlobalTaxCalculation": t.GlobalTaxCalculation,
		"DueDate": t.DueDate, "PaymentRefNum": t.PaymentRef, "PayType": t.PayType, "PaymentType": t.PaymentType} {
		if v != "" {
			out[k] = v
		}
	}
	if t.ExchangeRate != "" {
		out["ExchangeRate"] = json.RawMessage(t.ExchangeRate)
	}
	if r := co.trackingOut(classList, t.ClassID); r != nil {
		out["ClassRef"] = r
	}
	if r := co.trackingOut(departmentList, t.DepartmentID); r != nil {
		out["DepartmentRef"] = r
	}
	switch t.Type {
	case "Invoice", "CreditMemo":
		out["CustomerRef"] = co.nameRef("Customer", t.EntityID)
	case "Payment":
		out["CustomerRef"], out["UnappliedAmt"] = co.nameRef("Customer", t.EntityID), money(t.unapplied)
		if t.AccountID != "" {
			out["DepositToAccountRef"] = co.accountRef(t.AccountID)
		}
	case "Bill", "VendorCredit":
		out["VendorRef"] = co.nameRef("Vendor", t.EntityID)
	case "BillPayment":
		out["VendorRef"] = co.nameRef("Vendor", t.EntityID)
		if t.PayType == "Check" {
			out["CheckPayment"] = map[string]any{"BankAccountRef": co.accountRef(t.AccountID)}
		} else {
			out["CreditCardPayment"] = map[string]any{"CCAccountRef": co.accountRef(t.AccountID)}
		}
	case "Purchase":
		out["AccountRef"] = co.accountRef(t.AccountID)
		if t.EntityID != "" {
			r := co.nameRef(t.EntityType, t.EntityID)
			r["type"] = t.EntityType
			out["EntityRef"] = r
		}
	case "Deposit":
		out["DepositToAccountRef"] = co.accountRef(t.AccountID)
	}
	key := Link{TxnID: t.ID, TxnType: t.Type}.key()
	switch t.Type {
	case "Invoice", "Bill", "CreditMemo", "VendorCredit":
		out["Balance"] = money(t.Total.Sub(co.applied[key]))
		if t.Type == "CreditMemo" {
			out["RemainingCredit"] = out["Balance"]
		}
		var links []map[string]string
		for _, by := range co.appliedBy[key] {
			links = append(links, map[string]string{"TxnId": by.TxnID, "TxnType": by.TxnType})
		}
		if len(links) > 0 {
			out["LinkedTxn"] = links
		}
	}
	return out
}

func (co *company) linesJSON(t *Txn) []map[string]any {
	out := make([]map[string]any, 0, len(t.Lines))
	for i, l := range t.Lines {
		m := map[string]any{"Id": l.ID, "LineNum": i + 1, "Amount": money(l.Amount)}
		if l.Description != "" {
			m["Description"] = l.Description
		}
		switch {
		case l.Link != nil:
			delete(m, "Id")
			delete(m, "LineNum")
			m["LinkedTxn"] = []map[string]string{{"TxnId": l.Link.TxnID, "TxnType": l.Link.TxnType}}
		case l.ItemID != "":
			d := map[string]any{"ItemRef": co.itemRef(l.ItemID)}
			if l.Qty != "" {
				d["Qty"] = json.RawMessage(l.Qty)
			}
			if l.UnitPrice != "" {
				d["UnitPrice"] = json.RawMessage(l.UnitPrice)
			}
			co.lineClass(d, l)
			m["DetailType"], m["SalesItemLineDetail"] = "SalesItemLineDetail", d
		case t.Type == "Deposit":
			d := map[string]any{"AccountRef": co.accountRef(l.AccountID)}
			if l.EntityID != "" {
				r := co.nameRef(l.EntityType, l.EntityID)
				r["type"] = l.EntityType
				d["Entity"] = r
			}
			co.lineClass(d, l)
			m["DetailType"], m["DepositLineDetail"] = "DepositLineDetail", d
		default:
			d := map[string]any{"AccountRef": co.accountRef(l.AccountID), "BillableStatus": "NotBillable"}
			co.lineClass(d, l)
			m["DetailType"], m["AccountBasedExpenseLineDetail"] = "AccountBasedExpenseLineDetail", d
		}
		out = append(out, m)
	}
	return out
}

// lineClass adds a line's ClassRef to its detail.
func (co *company) lineClass(detail map[string]any, l TxnLine) {
	if r := co.trackingOut(classList, l.ClassID); r != nil {
		detail["ClassRef"] = r
	}
}

func (co *company) itemRef(id string) refJSON {
	for _, it := range co.Items {
		if it.ID == id {
			return refJSON{Value: id, Name: it.Name}
		}
	}
	return refJSON{Value: id}
}

// txnEntity is the query engine's view of one transaction entity:
// transactions filter on Id, TxnDate and the MetaData times, and on
// DocNumber where it is queryable (txnKind.numbered).
func txnEntity(k txnKind) entityDef {
	fields := []string{"Id", "TxnDate", "MetaData.CreateTime", "MetaData.LastUpdatedTime"}
	if k.numbered {
		fields = append(fields, "DocNumber")
	}
	return entityDef{name: k.name, fields: fieldSet(fields...), rows: func(co *company, _ time.Time) []row {
		loc := co.location()
		var out []row
		for _, t := range co.txns {
			if t.Type != k.name {
				continue
			}
			out = append(out, row{json: co.txnJSON(t), fields: map[string]value{
				"id": str(t.ID), "docnumber": str(t.DocNumber), "txndate": tm(t.TxnDate),
				"metadata.createtime": tm(t.Created.In(loc).Format(metaLayout)), "metadata.lastupdatedtime": tm(t.Updated.In(loc).Format(metaLayout)),
			}})
		}
		return out
	}}
}

// posting is one account movement, debit positive.
type posting struct {
	accountID string
	amount    decimal.Decimal
}

// postings are what a transaction moves (§2.2): an invoice debits
// Accounts Receivable and credits its items' income accounts, a credit
// memo the reverse; a payment debits its deposit account and credits
// Accounts Receivable; a bill debits its lines and credits Accounts
// Payable, a vendor credit the reverse; a bill payment debits Accounts
// Payable and credits its bank or card account; a purchase credits its
// account and debits its lines; a deposit debits its account and credits
// its lines; a transfer moves its amount from one account to the other.
func (t *Txn) postings() []posting {
	var out []posting
	add := func(id string, d decimal.Decimal) {
		if id != "" && !d.IsZero() {
			out = append(out, posting{id, d})
		}
	}
	// sign is the direction of the lines: +1 debits them.
	sign := map[string]int64{"Invoice": -1, "CreditMemo": 1, "Bill": 1, "VendorCredit": -1, "Purchase": 1, "Deposit": -1}[t.Type]
	for _, l := range t.Lines {
		if l.Link == nil {
			add(l.AccountID, l.Amount.Mul(decimal.NewFromInt(sign)))
		}
	}
	switch t.Type {
	case "Invoice", "CreditMemo", "Bill", "VendorCredit":
		add(t.ControlID, t.Total.Mul(decimal.NewFromInt(-sign)))
	case "Payment":
		add(t.AccountID, t.Total)
		add(t.ControlID, t.Total.Neg())
	case "BillPayment":
		add(t.ControlID, t.Total)
		add(t.AccountID, t.Total.Neg())
	case "Purchase", "Transfer":
		add(t.AccountID, t.Total.Neg())
		add(t.ToAccountID, t.Total)
	case "Deposit":
		add(t.AccountID, t.Total)
	}
	return out
}

// postingsOn are every posted journal line and transaction posting dated
// date, or all when date is "".
func (co *company) postingsOn(date string) []posting {
	var out []posting
	for _, j := range co.journals {
		if date == "" || j.TxnDate == date {
			for _, l := range j.Lines {
				out = append(out, posting{l.AccountID, l.Signed()})
			}
		}
	}
	for _, t := range co.txns {
		if date == "" || t.TxnDate == date {
			out = append(out, t.postings()...)
		}
	}
	return out
}

// Balances returns what the company's posted transactions move on each
// account, by account number (AcctNum, or the account's Id when it has
// none), debit positive: journal entries, invoices, credit memos,
// payments, bills, vendor credits, bill payments, purchases, deposits and
// transfers, with receivables on the Accounts Receivable account and
// payables on the Accounts Payable account. It is the trial balance of
// what was pushed, for transactions dated date, or all when date is "".
// Accounts that net to zero are left out.
func (s *Server) Balances(realmID, date string) map[string]decimal.Decimal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]decimal.Decimal{}
	co := s.companies[realmID]
	if co == nil {
		return out
	}
	for _, p := range co.postingsOn(date) {
		key := p.accountID
		if a := co.account(p.accountID); a != nil && a.AcctNum != "" {
			key = a.AcctNum
		}
		out[key] = out[key].Add(p.amount)
	}
	maps.DeleteFunc(out, func(_ string, d decimal.Decimal) bool { return d.IsZero() })
	return out
}

// Transactions returns copies of a realm's invoice-mode transactions in
// creation order.
func (s *Server) Transactions(realmID string) []Txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.companies[realmID]
	if co == nil {
		return nil
	}
	out := make([]Txn, len(co.txns))
	for i, t := range co.txns {
		out[i] = *t
		out[i].Lines = slices.Clone(t.Lines)
		for j, l := range out[i].Lines {
			if l.Link != nil {
				cp := *l.Link
				out[i].Lines[j].Link = &cp
			}
		}
		switch t.Type {
		case "Invoice", "CreditMemo", "Bill", "VendorCredit":
			out[i].Open = t.Total.Sub(co.applied[Link{TxnID: t.ID, TxnType: t.Type}.key()])
		}
	}
	return out
}
