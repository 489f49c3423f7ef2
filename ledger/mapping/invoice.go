package mapping

import (
	"fmt"
	"sort"
	"strings"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
)

// Document types. ManualJournal is journal-entry mode; the rest are invoice
// mode, after Codat's Xero and QuickBooks Online specifications
// (codat-sync-for-commerce.md §3.1, §3.2).
const (
	TypeJournal = "ManualJournal"
	// TypeSalesInvoice is the day's sales to the configured sales customer.
	TypeSalesInvoice = "SalesInvoice"
	// TypeSalesCreditNote is the day's refunds to the same customer.
	TypeSalesCreditNote = "SalesCreditNote"
	// TypePayment is money received against the sales invoice.
	TypePayment = "Payment"
	// TypeRefund is money paid out against the sales credit note.
	TypeRefund = "Refund"
	// TypeCreditAllocation applies the credit note to the invoice.
	TypeCreditAllocation = "CreditAllocation"
	// TypeBill is the day's payment fees, owed to the fees supplier.
	TypeBill = "Bill"
	// TypeBillCreditNote is the day's fee refunds from the fees supplier.
	TypeBillCreditNote = "BillCreditNote"
	// TypeBillPayment pays the bill out of the clearing account.
	TypeBillPayment = "BillPayment"
	// TypeBillRefund is the supplier's refund of the bill credit note.
	TypeBillRefund = "BillRefund"
	// TypeSpendMoney and TypeReceiveMoney replace a bill or its credit note
	// when the clearing account is a bank account.
	TypeSpendMoney   = "SpendMoney"
	TypeReceiveMoney = "ReceiveMoney"
	// TypeTransfer moves money between two of the merchant's money accounts:
	// a payout, or money received today for sales of an earlier day. Its
	// Contact is the sales customer, for platforms that record a transfer
	// as spend or receive money.
	TypeTransfer = "Transfer"
)

// Receivable and Payable stand for the platform's control accounts, which
// invoice mode moves through and journal mode never touches.
var (
	Receivable = Binding{AccountID: "@receivable", Name: "Accounts receivable"}
	Payable    = Binding{AccountID: "@payable", Name: "Accounts payable"}
)

// InvoiceOptions is what invoice mode needs beyond the account map.
type InvoiceOptions struct {
	// Customer is configuration.sales.salesCustomer.selectedCustomerId: the
	// commerce provider the daily invoice is issued to.
	Customer string
	// Supplier is configuration.fees.feesSupplier.selectedSupplierId.
	Supplier string
	// Status is the sales documents' status, Submitted (the default) or Draft.
	Status string
	// IsBank reports whether one of the merchant's accounts is a bank
	// account; fees paid from one become spend and receive money.
	IsBank func(accountID string) bool
}

// Paths of the configuration fields invoice mode reads.
const (
	CustomerPath = "configuration.sales.salesCustomer.selectedCustomerId"
	SupplierPath = "configuration.fees.feesSupplier.selectedSupplierId"
	StatusPath   = "configuration.sales.invoiceStatus.selectedInvoiceStatus"
)

// Invoices plans invoice mode for one summary. The sales accounts go on a
// daily invoice to the sales customer, one line per merchant account (each
// tax rate or component is its own line, its amount as the orders gave it,
// so the platform computes no tax). Refunds go on a daily credit note; an
// invoice whose lines come to less than zero is a credit note instead.
// Fees go on a bill to the fees supplier and fee refunds on a bill credit
// note, each settled from the provider's clearing account (spend and
// receive money when that is a bank account). Payouts are transfers from
// the clearing account to the payout account. What each money account
// (every payment type, and unsettled sales) then still moves is a payment
// against the invoice or a refund against the credit note; a credit note
// left unrefunded is allocated to the invoice, and money received for
// earlier days' sales is a transfer from the unsettled account. Amounts of
// zero are left out.
//
// Per merchant account the documents move exactly what Journal moves; the
// only other accounts they touch are Receivable and Payable, which net to
// zero over a summary's documents.
func Invoices(s day.Summary, accts Accounts, o InvoiceOptions) ([]Planned, error) {
	dp, ok := money.MinorUnits(s.Currency)
	if !ok {
		return nil, &Error{Field: "currency", Message: fmt.Sprintf("currency %s is not an ISO 4217 currency", s.Currency)}
	}
	status := o.Status
	switch status {
	case "":
		status = "Submitted"
	case "Submitted", "Draft":
	default:
		return nil, &Error{Field: StatusPath, Message: fmt.Sprintf(
			"Invalid invoice status %q selected (must be Submitted or Draft).", o.Status)}
	}
	var (
		b                          binder
		invoice, credit, fees, fee []Line
		cash                       = newResiduals()
	)
	bound, err := b.lines(s, accts, dp)
	if err != nil {
		return nil, err
	}
	for _, line := range bound {
		net := line.Amount
		switch kindOf(line.Semantic) {
		case kindMoney:
			cash.add(line, net)
		case kindFee:
			if net > 0 {
				fees = append(fees, line)
			} else {
				fee = append(fee, with(line, -net))
			}
		default:
			if line.Semantic == day.Refunds && net > 0 {
				credit = append(credit, line)
			} else {
				invoice = append(invoice, with(line, -net))
			}
		}
	}
	invoice, credit, fees, fee = merge(invoice), merge(credit), merge(fees), merge(fee)
	if total(invoice) < 0 {
		// Never a negative invoice: the day refunded more than it sold.
		for _, l := range invoice {
			l.Amount = -l.Amount
			credit = append(credit, l)
		}
		invoice, credit = nil, merge(credit)
	}

	var clearing Line
	if len(fees) > 0 || len(fee) > 0 || cash.has(day.Payouts) {
		c, _, ok, err := b.bind(accts, day.PayoutClearing)
		if err != nil {
			return nil, err
		}
		if ok {
			clearing = Line{Account: c, Semantic: day.PayoutClearing, Description: "Payment provider clearing"}
			cash.touch(clearing)
		}
	}
	if err := b.err(); err != nil {
		return nil, err
	}

	p := planner{s: s, status: status, narration: Narration(s)}
	inv := p.add(Document{Type: TypeSalesInvoice, Contact: o.Customer, Status: status, Lines: invoice}, len(invoice) > 0)
	cn := p.add(Document{Type: TypeSalesCreditNote, Contact: o.Customer, Status: status, Lines: credit}, len(credit) > 0)
	if (inv >= 0 || cn >= 0) && o.Customer == "" {
		return nil, &Error{Field: CustomerPath, Message: fmt.Sprintf(
			"No sales customer is selected. Invoice mode issues the daily invoice to the commerce provider as a customer; select one in %s.", CustomerPath)}
	}

	bank := o.IsBank != nil && o.IsBank(clearing.Account.AccountID)
	if len(fees)+len(fee) > 0 && !bank && o.Supplier == "" {
		return nil, &Error{Field: SupplierPath, Message: fmt.Sprintf(
			"No fees supplier is selected. Invoice mode records payment fees as a bill from the commerce provider; select one in %s.", SupplierPath)}
	}
	if t := total(fees); t > 0 {
		if bank {
			p.add(Document{Type: TypeSpendMoney, Contact: o.Supplier, Lines: fees, Money: with(clearing, t)}, true)
		} else {
			bill := p.add(Document{Type: TypeBill, Contact: o.Supplier, Lines: fees}, true)
			p.add(Document{Type: TypeBillPayment, Contact: o.Supplier, Money: with(clearing, t), AppliesTo: []int{bill}}, true)
		}
		cash.move(clearing.Account, -t)
	}
	if t := total(fee); t > 0 {
		if bank {
			p.add(Document{Type: TypeReceiveMoney, Contact: o.Supplier, Lines: fee, Money: with(clearing, t)}, true)
		} else {
			note := p.add(Document{Type: TypeBillCreditNote, Contact: o.Supplier, Lines: fee}, true)
			p.add(Document{Type: TypeBillRefund, Contact: o.Supplier, Money: with(clearing, t), AppliesTo: []int{note}}, true)
		}
		cash.move(clearing.Account, t)
	}

	// Payouts empty the provider's balance into the payout account; a failed
	// payout comes back.
	for _, m := range cash.list() {
		if m.line.Semantic != day.Payouts || m.left == 0 || m.line.Account.AccountID == clearing.Account.AccountID {
			continue
		}
		if m.left > 0 {
			p.add(Document{Type: TypeTransfer, Contact: o.Customer, Money: with(clearing, m.left), To: with(m.line, m.left)}, true)
		} else {
			p.add(Document{Type: TypeTransfer, Contact: o.Customer, Money: with(m.line, -m.left), To: with(clearing, -m.left)}, true)
		}
		cash.move(clearing.Account, -m.left)
		m.left = 0
	}

	// What each money account still moves settles the invoice and the
	// credit note, largest first; what is left pairs up as transfers.
	in, out := cash.split()
	owed, due := total(invoice), total(credit)
	var leftIn, leftOut []*residual
	for _, m := range in {
		if a := min(m.left, owed); a > 0 && inv >= 0 {
			p.add(Document{Type: TypePayment, Contact: o.Customer, Money: with(m.line, a), AppliesTo: []int{inv}}, true)
			m.left -= a
			owed -= a
		}
		if m.left > 0 {
			leftIn = append(leftIn, m)
		}
	}
	for _, m := range out {
		if a := min(-m.left, due); a > 0 && cn >= 0 {
			p.add(Document{Type: TypeRefund, Contact: o.Customer, Money: with(m.line, a), AppliesTo: []int{cn}}, true)
			m.left += a
			due -= a
		}
		if m.left < 0 {
			leftOut = append(leftOut, m)
		}
	}
	if owed != due {
		return nil, fmt.Errorf("summary %s: invoice mode leaves %s owed and %s due; the summary does not balance", s.ID, owed, due)
	}
	if owed > 0 {
		p.add(Document{Type: TypeCreditAllocation, Contact: o.Customer, Money: Line{Amount: owed}, AppliesTo: []int{cn, inv}}, true)
	}
	for len(leftIn) > 0 && len(leftOut) > 0 {
		to, from := leftIn[0], leftOut[0]
		a := min(to.left, -from.left)
		p.add(Document{Type: TypeTransfer, Contact: o.Customer, Money: with(from.line, a), To: with(to.line, a)}, true)
		to.left -= a
		from.left += a
		if to.left == 0 {
			leftIn = leftIn[1:]
		}
		if from.left == 0 {
			leftOut = leftOut[1:]
		}
	}
	if len(leftIn)+len(leftOut) > 0 {
		return nil, fmt.Errorf("summary %s: invoice mode leaves money unmoved; the summary does not balance", s.ID)
	}
	if status == "Draft" {
		for _, d := range p.out {
			switch d.Document.Type {
			case TypePayment, TypeRefund, TypeCreditAllocation:
				return nil, &Error{Field: StatusPath, Message: fmt.Sprintf(
					"Payments cannot be enabled if invoice status is set to draft: %s has payments against its daily invoice. Set %s to \"Submitted\".",
					s.Day, StatusPath)}
			}
		}
	}
	return p.out, nil
}

// Account kinds in invoice mode.
const (
	kindSales = iota // on the sales invoice or credit note
	kindFee          // on the bill or bill credit note
	kindMoney        // moved by payments, refunds and transfers
)

func kindOf(a day.Account) int {
	switch a {
	case day.PaymentFees, day.PaymentFeeRefunds:
		return kindFee
	case day.Unsettled, day.Payouts, day.PayoutClearing:
		return kindMoney
	}
	if _, ok := a.TenderType(); ok {
		return kindMoney
	}
	return kindSales
}

func total(lines []Line) money.Amount {
	var t money.Amount
	for _, l := range lines {
		t += l.Amount // a summary's totals fit, and so do their sums per document
	}
	return t
}

func with(l Line, a money.Amount) Line {
	l.Amount = a
	return l
}

// planner numbers a summary's documents in the order they must be pushed:
// a payment goes after the invoice it settles.
type planner struct {
	s         day.Summary
	status    string
	narration string
	out       []Planned
}

// add appends doc when keep is set and returns its index, or -1.
func (p *planner) add(doc Document, keep bool) int {
	if !keep {
		return -1
	}
	i := len(p.out)
	id := DocumentID(p.s.ID, i)
	doc.Date, doc.Currency = p.s.Day, p.s.Currency
	doc.Narration = p.narration + ": " + describe(doc)
	p.out = append(p.out, Planned{Index: i, DocumentID: id, Reference: Reference(id), Document: doc})
	return i
}

func describe(d Document) string {
	switch d.Type {
	case TypeSalesInvoice:
		return "sales"
	case TypeSalesCreditNote:
		return "refunds"
	case TypePayment:
		return d.Money.Description + " received"
	case TypeRefund:
		return d.Money.Description + " refunded"
	case TypeCreditAllocation:
		return "refunds set against sales"
	case TypeBill, TypeSpendMoney:
		return "payment fees"
	case TypeBillCreditNote, TypeReceiveMoney:
		return "payment fee refunds"
	case TypeBillPayment:
		return "payment fees paid from " + d.Money.Description
	case TypeBillRefund:
		return "payment fee refunds received into " + d.Money.Description
	case TypeTransfer:
		return fmt.Sprintf("transfer from %s to %s", d.Money.Description, d.To.Description)
	}
	return strings.ToLower(d.Type)
}

// residual is what one money account still has to move, debit positive.
type residual struct {
	line Line
	left money.Amount
}

// residuals are keyed by merchant account, so two payment types mapped to
// one account are paid as one and never transfer to themselves.
type residuals struct {
	by    map[string]*residual
	order []string
}

func newResiduals() *residuals { return &residuals{by: map[string]*residual{}} }

func (r *residuals) touch(l Line) *residual {
	m, ok := r.by[l.Account.AccountID]
	if !ok {
		m = &residual{line: l}
		r.by[l.Account.AccountID] = m
		r.order = append(r.order, l.Account.AccountID)
	}
	return m
}

func (r *residuals) add(l Line, net money.Amount) { r.touch(l).left += net }

func (r *residuals) move(b Binding, debit money.Amount) {
	if m, ok := r.by[b.AccountID]; ok {
		m.left -= debit
	}
}

func (r *residuals) has(a day.Account) bool {
	for _, m := range r.by {
		if m.line.Semantic == a {
			return true
		}
	}
	return false
}

func (r *residuals) list() []*residual {
	out := make([]*residual, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.by[id])
	}
	return out
}

// split returns the accounts still to receive money (largest first) and
// those still to pay it out (largest first); unsettled sales go last on
// either side, so payment types settle the invoice before it does.
func (r *residuals) split() (in, out []*residual) {
	for _, m := range r.list() {
		switch {
		case m.left > 0:
			in = append(in, m)
		case m.left < 0:
			out = append(out, m)
		}
	}
	order := func(ms []*residual) {
		sort.SliceStable(ms, func(i, j int) bool {
			ui, uj := ms[i].line.Semantic == day.Unsettled, ms[j].line.Semantic == day.Unsettled
			if ui != uj {
				return uj
			}
			if ai, aj := ms[i].left.Abs(), ms[j].left.Abs(); ai != aj {
				return ai > aj
			}
			return ms[i].line.Account.AccountID < ms[j].line.Account.AccountID
		})
	}
	order(in)
	order(out)
	return in, out
}

// Movements returns what a document does to each account, debit positive,
// with Receivable and Payable standing for the platform's control accounts.
func (d Document) Movements() []Line {
	control := func(b Binding) Line {
		return Line{Account: b, Semantic: day.Account(strings.TrimPrefix(b.AccountID, "@")), Description: b.Name}
	}
	neg := func(ls []Line) []Line {
		out := make([]Line, len(ls))
		for i, l := range ls {
			out[i] = with(l, -l.Amount)
		}
		return out
	}
	ar, ap := control(Receivable), control(Payable)
	m := d.Money.Amount
	switch d.Type {
	case TypeSalesInvoice:
		return append(neg(d.Lines), with(ar, total(d.Lines)))
	case TypeSalesCreditNote:
		return append(append([]Line(nil), d.Lines...), with(ar, -total(d.Lines)))
	case TypePayment:
		return []Line{with(d.Money, m), with(ar, -m)}
	case TypeRefund:
		return []Line{with(d.Money, -m), with(ar, m)}
	case TypeCreditAllocation:
		return nil // both sides are the receivable
	case TypeBill:
		return append(append([]Line(nil), d.Lines...), with(ap, -total(d.Lines)))
	case TypeBillCreditNote:
		return append(neg(d.Lines), with(ap, total(d.Lines)))
	case TypeBillPayment:
		return []Line{with(ap, m), with(d.Money, -m)}
	case TypeBillRefund:
		return []Line{with(ap, -m), with(d.Money, m)}
	case TypeSpendMoney:
		return append(append([]Line(nil), d.Lines...), with(d.Money, -m))
	case TypeReceiveMoney:
		return append(neg(d.Lines), with(d.Money, m))
	case TypeTransfer:
		return []Line{with(d.Money, -m), with(d.To, m)}
	}
	return append([]Line(nil), d.Lines...) // a journal is its lines
}
