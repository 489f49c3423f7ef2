package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// Payments and bill payments apply other transactions through
// Line[].LinkedTxn (§2.2 "Payment against invoice"; "POST /creditmemo …
// a Payment can apply it"). What a payment applies comes off each
// transaction's open balance, and no more than that balance may be
// applied. Codat links its refund journal entry to the credit memo
// "through a zero-value receive payment" (codat-sync-for-commerce.md
// §3.2), so a JournalEntry may be applied too: the part of it on the
// control account for the payment's customer or vendor. That QuickBooks
// takes JournalEntry as a LinkedTxn type on payments, and the sandbox's
// wording for every refusal below, are not in the reference.

// linkTypes are the transactions each payment entity applies.
var linkTypes = map[string][]string{
	"Payment":     {"Invoice", "CreditMemo", "JournalEntry"},
	"BillPayment": {"Bill", "VendorCredit", "JournalEntry"},
}

// parsePayment reads a Payment: CustomerRef, TotalAmt, DepositToAccountRef
// and lines that apply transactions (§2.2). "A payment with no Line is an
// unapplied payment (credit on account)." Without DepositToAccountRef the
// money goes to Undeposited Funds (Intuit's Payment reference; not in the
// reference); a payment of zero moves no money and needs no account.
func parsePayment(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	c, fe := co.activeName("Customer", in.CustomerRef, "CustomerRef")
	if fe != nil {
		return fe
	}
	t.EntityType, t.EntityID = "Customer", c.ID
	if t.Total, fe = s.total(in.TotalAmt); fe != nil {
		return fe
	}
	if in.PaymentRefNum != nil {
		t.PaymentRef = *in.PaymentRefNum
	}
	switch {
	case in.DepositToAccountRef != nil:
		a, fe := co.activeAccount(in.DepositToAccountRef, "DepositToAccountRef")
		if fe != nil {
			return fe
		}
		if !moneyAccount(a) {
			return ptr(business(fmt.Sprintf("A payment is deposited into a bank or other current asset account; %s is not one.", a.Name)))
		}
		t.AccountID = a.ID
	case t.Total.IsPositive():
		if t.AccountID = co.undeposited(); t.AccountID == "" {
			return ptr(requiredParam("DepositToAccountRef"))
		}
	}
	if in.Line != nil {
		if t.Lines, fe = s.linkLines(*in.Line, linkTypes["Payment"]); fe != nil {
			return fe
		}
	}
	return nil
}

// parseBillPayment reads a BillPayment: VendorRef, PayType Check with
// CheckPayment.BankAccountRef or CreditCard with
// CreditCardPayment.CCAccountRef, TotalAmt, and lines that apply bills,
// vendor credits or journal entries. BillPayment is not in the
// reference; Intuit's BillPayment reference gives the shape, and
// QuickBooks pays bills only from a bank account (Check) or a credit
// card account (CreditCard).
func parseBillPayment(s *Server, co *company, in *txnIn, t *Txn) *faultError {
	v, fe := co.activeName("Vendor", in.VendorRef, "VendorRef")
	if fe != nil {
		return fe
	}
	t.EntityType, t.EntityID = "Vendor", v.ID
	var ref *refIn
	field, want := "", ""
	switch in.PayType {
	case "":
		return ptr(requiredParam("PayType"))
	case "Check":
		field, want = "CheckPayment.BankAccountRef", "Bank"
		if in.CheckPayment != nil {
			ref = in.CheckPayment.BankAccountRef
		}
	case "CreditCard":
		field, want = "CreditCardPayment.CCAccountRef", "Credit Card"
		if in.CreditCardPayment != nil {
			ref = in.CreditCardPayment.CCAccountRef
		}
	default:
		return ptr(invalidEnum("PayType", in.PayType))
	}
	t.PayType = in.PayType
	a, fe := co.activeAccount(ref, field)
	if fe != nil {
		return fe
	}
	if a.AccountType != want {
		return ptr(business(fmt.Sprintf("A bill paid by %s is paid from a %s account; %s is of type %s.", in.PayType, want, a.Name, a.AccountType)))
	}
	t.AccountID = a.ID
	if t.Total, fe = s.total(in.TotalAmt); fe != nil {
		return fe
	}
	if in.Line == nil || len(*in.Line) == 0 {
		return ptr(requiredParam("Line"))
	}
	if t.Lines, fe = s.linkLines(*in.Line, linkTypes["BillPayment"]); fe != nil {
		return fe
	}
	return nil
}

// total reads a payment's TotalAmt: required (2020), at most 2 decimals
// (§2.7), not negative (not in the reference).
func (s *Server) total(n json.Number) (decimal.Decimal, *faultError) {
	d, fe := s.amountOf(n, "TotalAmt")
	if fe != nil {
		return d, fe
	}
	if d.IsNegative() {
		return d, ptr(business(fmt.Sprintf("TotalAmt %s is negative.", n)))
	}
	return d, nil
}

// linkLines reads payment lines: a positive Amount and one LinkedTxn of
// an allowed type each.
func (s *Server) linkLines(in []txnLineIn, types []string) ([]TxnLine, *faultError) {
	out := make([]TxnLine, 0, len(in))
	for _, l := range in {
		amt, fe := s.amountOf(l.Amount, "Line.Amount")
		if fe != nil {
			return nil, fe
		}
		switch {
		case len(l.LinkedTxn) == 0:
			return nil, ptr(requiredParam("Line.LinkedTxn"))
		case len(l.LinkedTxn) > 1:
			// QuickBooks takes several per line; the sandbox one, refusing
			// more with 2010 (not in the reference).
			return nil, ptr(invalidProperty("Line.LinkedTxn"))
		case !amt.IsPositive():
			return nil, ptr(business(fmt.Sprintf("The amount applied to %s %s must be greater than zero.", l.LinkedTxn[0].TxnType, l.LinkedTxn[0].TxnID)))
		case l.LinkedTxn[0].TxnID == "":
			return nil, ptr(requiredParam("Line.LinkedTxn.TxnId"))
		case !slices.Contains(types, l.LinkedTxn[0].TxnType):
			return nil, ptr(invalidEnum("Line.LinkedTxn.TxnType", l.LinkedTxn[0].TxnType))
		}
		out = append(out, TxnLine{Description: describe(l), Amount: amt, Link: &Link{TxnID: l.LinkedTxn[0].TxnID, TxnType: l.LinkedTxn[0].TxnType}})
	}
	return out, nil
}

func settleCustomer(co *company, t *Txn) (map[string]decimal.Decimal, *faultError) {
	return co.settle(t, false)
}

func settleVendor(co *company, t *Txn) (map[string]decimal.Decimal, *faultError) {
	return co.settle(t, true)
}

// settle checks what a payment (payable false) or bill payment (payable
// true) applies against each transaction's open balance, and that
// TotalAmt is the charges applied less the credits applied (a Payment
// may receive more, left unapplied on the customer's account).
func (co *company) settle(t *Txn, payable bool) (map[string]decimal.Decimal, *faultError) {
	applies := map[string]decimal.Decimal{}
	var order []Link
	for _, l := range t.Lines {
		k := l.Link.key()
		if _, seen := applies[k]; !seen {
			order = append(order, *l.Link)
		}
		applies[k] = applies[k].Add(l.Amount)
	}
	charges, credits := decimal.Zero, decimal.Zero
	for _, l := range order {
		open, credit, fe := co.open(l, t, payable)
		if fe != nil {
			return nil, fe
		}
		amt := applies[l.key()]
		if amt.GreaterThan(open) {
			return nil, ptr(business(fmt.Sprintf("The amount applied to %s %s (%s) is more than its open balance (%s).",
				spaced(l.TxnType), l.TxnID, amt.StringFixed(2), open.StringFixed(2))))
		}
		if credit {
			credits = credits.Add(amt)
		} else {
			charges = charges.Add(amt)
		}
	}
	net := charges.Sub(credits)
	switch {
	case net.IsNegative():
		return nil, ptr(business(fmt.Sprintf("The credits applied (%s) are more than the charges applied (%s).", credits.StringFixed(2), charges.StringFixed(2))))
	case t.Total.LessThan(net), payable && !t.Total.Equal(net):
		return nil, ptr(business(fmt.Sprintf("TotalAmt %s does not match the amount applied, %s.", t.Total.StringFixed(2), net.StringFixed(2))))
	}
	t.unapplied = t.Total.Sub(net)
	return applies, nil
}

// open returns what a linked transaction still has open for the
// payment's customer or vendor, and whether it is a credit (a credit
// memo, a vendor credit, or a journal entry that lowers what the name
// owes or is owed).
func (co *company) open(l Link, t *Txn, payable bool) (decimal.Decimal, bool, *faultError) {
	var amount decimal.Decimal
	var credit bool
	if l.TxnType == "JournalEntry" {
		j := co.journal(l.TxnID)
		if j == nil {
			return amount, false, ptr(invalidReference(l.TxnType, l.TxnID))
		}
		if j.Currency != t.Currency {
			return amount, false, ptr(business(fmt.Sprintf("Journal Entry %s is in %s; a payment in %s cannot apply it.", j.ID, j.Currency, t.Currency)))
		}
		net := co.namedBalance(j, t.EntityType, t.EntityID, payable)
		if net.IsZero() {
			return amount, false, ptr(business(fmt.Sprintf("Journal Entry %s has nothing open for %s %s.", j.ID, t.EntityType, t.EntityID)))
		}
		// A debit on A/R is a charge to the customer; a debit on A/P is a
		// credit from the vendor.
		amount, credit = net.Abs(), net.IsNegative() != payable
	} else {
		x := co.txn(l.TxnType, l.TxnID)
		switch {
		case x == nil:
			return amount, false, ptr(invalidReference(l.TxnType, l.TxnID))
		case x.EntityID != t.EntityID:
			return amount, false, ptr(business(fmt.Sprintf("%s %s is not for %s %s.", spaced(x.Type), x.ID, t.EntityType, t.EntityID)))
		case x.Currency != t.Currency:
			return amount, false, ptr(business(fmt.Sprintf("%s %s is in %s; a payment in %s cannot apply it.", spaced(x.Type), x.ID, x.Currency, t.Currency)))
		}
		amount, credit = x.Total, x.Type == "CreditMemo" || x.Type == "VendorCredit"
	}
	return amount.Sub(co.applied[l.key()]), credit, nil
}

// namedBalance is what a journal entry moves on the control account for
// one name, debit positive.
func (co *company) namedBalance(j *JournalEntry, entityType, entityID string, payable bool) decimal.Decimal {
	want := "Accounts Receivable"
	if payable {
		want = "Accounts Payable"
	}
	net := decimal.Zero
	for _, l := range j.Lines {
		if a := co.account(l.AccountID); a != nil && a.AccountType == want && l.EntityType == entityType && l.EntityID == entityID {
			net = net.Add(l.Signed())
		}
	}
	return net
}

// apply records that a payment applied amt of a transaction.
func (co *company) apply(key string, amt decimal.Decimal, by Link) {
	co.applied[key] = co.applied[key].Add(amt)
	co.appliedBy[key] = append(co.appliedBy[key], by)
}

// undeposited is the company's Undeposited Funds account, or "".
func (co *company) undeposited() string {
	for _, a := range co.Accounts {
		if a.AccountSubType == "UndepositedFunds" && !a.Inactive {
			return a.ID
		}
	}
	return ""
}

func (co *company) txn(typ, id string) *Txn {
	for _, t := range co.txns {
		if t.Type == typ && t.ID == id {
			return t
		}
	}
	return nil
}
