package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The route of each invoice-mode document type: which QuickBooks
// transactions it becomes and their bodies (§2.2), after Codat's
// QuickBooks specification (codat-sync-for-commerce.md §3.2).

// steps builds the transactions of the document, reading from the
// company what the route needs.
func (d *draft) steps() ([]step, error) {
	switch d.doc.GetType() {
	case "SalesInvoice":
		return d.sales(invoiceEntity)
	case "SalesCreditNote":
		return d.sales(creditMemoEntity)
	case "Payment":
		return d.payment()
	case "CreditAllocation":
		return d.allocation()
	case "Refund":
		return d.refund()
	case "Bill":
		return d.bill(billEntity)
	case "BillCreditNote":
		return d.bill(vendorCreditEntity)
	case "BillPayment":
		return d.billPayment()
	case "BillRefund":
		return d.billRefund()
	case "SpendMoney":
		return d.spend()
	case "ReceiveMoney":
		return d.receive()
	case "Transfer":
		return d.transfer()
	}
	return nil, unsupportedType(d.doc.GetType())
}

func one(ent entity, numbered bool, body any) []step {
	return []step{{lookup: lookup{ent, numbered}, body: func([]string) any { return body }}}
}

// Common parts of a body.

func (d *draft) number() string    { return DocNumber(d.ref.Value) }
func (d *draft) note() string      { return privateNote(d.doc.GetNarration(), d.ref.Value) }
func (d *draft) currency() refJSON { return refJSON{Value: strings.ToUpper(d.doc.GetCurrency())} }

// taxCalculation is sent outside the US, as on journals (§2.2: "Non-US
// companies must send GlobalTaxCalculation"); tax arrives as lines of its
// own, so nothing is calculated.
func (d *draft) taxCalculation() string {
	if d.co.country != "" && d.co.country != "US" {
		return "TaxExcluded"
	}
	return ""
}

// contact is the document's customer or vendor id.
func (d *draft) contact() (refJSON, error) {
	c := d.doc.GetContact()
	if !numericID(c) {
		return refJSON{}, invoiceFatal("Contact", "%s needs a QuickBooks customer or vendor id, got %q", d.doc.GetType(), c)
	}
	return refJSON{Value: c}, nil
}

// accountOf is a line's account id, resolved from its number when the
// line carries only that.
func (d *draft) accountOf(field string, l *commercesyncv1.DocumentLine) (string, error) {
	id := l.GetAccountId()
	if id == "" {
		id = d.co.accountByCode[l.GetAccountCode()]
	}
	if id == "" {
		return "", invoiceFatal(field, "%s has no account", field)
	}
	return id, nil
}

// settles is the QuickBooks id of the i-th document this one settles.
func (d *draft) settles(i int) (string, error) {
	ids := d.doc.GetAppliesToExternalIds()
	if i >= len(ids) || !numericID(ids[i]) {
		return "", invoiceFatal("AppliesTo", "%s needs the QuickBooks id of the document it settles", d.doc.GetType())
	}
	return ids[i], nil
}

// exact reads a document amount: a decimal with at most 2 places (§2.7).
func exact(field, s string) (decimal.Decimal, error) {
	v, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return v, invoiceFatal(field, "amount %q is not a decimal", s)
	}
	if !v.Equal(v.Round(2)) {
		return v, invoiceFatal(field, "amount %q has more than 2 decimal places", s)
	}
	return v, nil
}

// moneyOf is the document's amount of money, which must be positive.
func (d *draft) moneyOf() (json.RawMessage, error) {
	v, err := exact("Money.Amount", d.doc.GetMoney().GetAmount())
	if err != nil {
		return nil, err
	}
	if !v.IsPositive() {
		return nil, invoiceFatal("Money.Amount", "amount %s is not positive", d.doc.GetMoney().GetAmount())
	}
	return amountJSON(v), nil
}

func amountJSON(v decimal.Decimal) json.RawMessage { return json.RawMessage(v.StringFixed(2)) }

// zeroTotal is the total of a payment that only links transactions.
func zeroTotal() json.RawMessage { return json.RawMessage("0.00") }

// docLine is one non-zero line of the document, with its account.
type docLine struct {
	field, account, description string
	amount                      decimal.Decimal
}

func (d *draft) lines() ([]docLine, error) {
	var out []docLine
	for i, l := range d.doc.GetLines() {
		field := fmt.Sprintf("Lines[%d]", i)
		v, err := exact(field+".Amount", l.GetAmount())
		if err != nil {
			return nil, err
		}
		if v.IsZero() {
			continue // it posts nothing
		}
		id, err := d.accountOf(field+".AccountId", l)
		if err != nil {
			return nil, err
		}
		out = append(out, docLine{field: field, account: id, description: l.GetDescription(), amount: v})
	}
	if len(out) == 0 {
		return nil, invoiceFatal("Lines", "%s has no lines", d.doc.GetType())
	}
	return out, nil
}

// sales is a SalesInvoice as an Invoice, or a SalesCreditNote as a
// CreditMemo ("same shape as an invoice", §2.2), to the customer, one
// SalesItemLineDetail line per document line. Every sales line needs an
// item, and the item decides the account (§2.2), so each line names an
// active item whose income account is the line's account; QuickBooks
// lets an item's income account be a liability (tax, tips, gift cards),
// and those lines need such an item too. None is created: which product
// a merchant sells through which account is the merchant's choice.
func (d *draft) sales(e entity) ([]step, error) {
	customer, err := d.contact()
	if err != nil {
		return nil, err
	}
	lines, err := d.lines()
	if err != nil {
		return nil, err
	}
	if d.items, err = d.c.activeItems(d.ctx, d.s); err != nil {
		return nil, err
	}
	track, err := d.tracking()
	if err != nil {
		return nil, err
	}
	body := salesJSON{TxnDate: d.doc.GetDate(), DocNumber: d.number(), PrivateNote: d.note(), CustomerRef: customer,
		CurrencyRef: d.currency(), GlobalTaxCalculation: d.taxCalculation(), ClassRef: track.headerClassRef(), DepartmentRef: track.departmentRef()}
	var missing []docLine
	for _, l := range lines {
		item, ok := d.itemFor(l.account)
		if !ok {
			missing = append(missing, l)
			continue
		}
		amt := amountJSON(l.amount)
		body.Line = append(body.Line, salesLineJSON{Description: l.description, Amount: amt, DetailType: "SalesItemLineDetail",
			SalesItemLineDetail: salesItemJSON{ItemRef: refJSON{Value: item}, Qty: json.RawMessage("1"), UnitPrice: amt, ClassRef: track.lineClassRef()}})
	}
	if len(missing) > 0 {
		return nil, d.noItem(missing)
	}
	return one(e, true, body), nil
}

// itemFor is the first active item (in QuickBooks' order) selling
// through the account. Categories only group items (see itemList).
func (d *draft) itemFor(accountID string) (string, bool) {
	for _, it := range d.items {
		if it.Type != "Category" && it.IncomeAccountRef.Value == accountID {
			return it.ID, true
		}
	}
	return "", false
}

// noItem tells the merchant which accounts need a product or service.
func (d *draft) noItem(lines []docLine) error {
	var names []string
	for _, l := range lines {
		names = append(names, d.accountName(l.account))
	}
	list := strings.Join(names, ", ")
	return &connectors.Error{Class: connectors.MerchantActionable, Field: lines[0].field + ".AccountId", Message: fmt.Sprintf(
		"QuickBooks invoice lines are products or services, and no active product or service in QuickBooks has %s as its income account, "+
			"so that account cannot be used on an invoice or credit memo. In QuickBooks, create a product or service whose income account is %s, "+
			"or map the line to an account that has one.", list, list)}
}

// accountName names an account for the merchant: number, name and id,
// or just the id when the chart cannot be read.
func (d *draft) accountName(id string) string {
	chart, err := d.accounts()
	if err == nil {
		for _, a := range chart {
			if a.ID == id {
				if a.AcctNum != "" {
					return fmt.Sprintf("%s %q (id %s)", a.AcctNum, a.FullyQualifiedName, a.ID)
				}
				return fmt.Sprintf("%q (id %s)", a.FullyQualifiedName, a.ID)
			}
		}
	}
	return "account id " + id
}

// activeItems reads the products and services a sales line may name.
// IncomeAccountRef is not a query property, so all active items are read
// and matched here.
func (c *Connector) activeItems(ctx context.Context, s connectors.Session) ([]itemRow, error) {
	var items []itemRow
	if err := c.queryAll(ctx, s, "Item", onlyActive, &items); err != nil {
		return nil, fmt.Errorf("qbo: read items: %w", err)
	}
	return items, nil
}

// accounts is the chart, read once per document.
func (d *draft) accounts() ([]accountRow, error) {
	if d.chart != nil {
		return d.chart, nil
	}
	var chart []accountRow
	if err := d.c.queryAll(d.ctx, d.s, "Account", allActive, &chart); err != nil {
		return nil, fmt.Errorf("qbo: read the chart of accounts: %w", err)
	}
	d.chart = chart
	return chart, nil
}

// account is one account of the chart.
func (d *draft) account(field, id string) (accountRow, error) {
	chart, err := d.accounts()
	if err != nil {
		return accountRow{}, err
	}
	for _, a := range chart {
		if a.ID == id {
			return a, nil
		}
	}
	return accountRow{}, &connectors.Error{Class: connectors.MerchantActionable, Field: field,
		Message: fmt.Sprintf("QuickBooks has no account with id %s; choose another account in the mapping", id)}
}

// firstActive is the first active account of one of the types, in that
// order of preference, favouring the document's currency.
func (d *draft) firstActive(types ...string) (accountRow, bool, error) {
	chart, err := d.accounts()
	if err != nil {
		return accountRow{}, false, err
	}
	for _, typ := range types {
		var first *accountRow
		for i, a := range chart {
			if a.AccountType != typ || !a.Active {
				continue
			}
			if strings.EqualFold(a.CurrencyRef.Value, d.doc.GetCurrency()) {
				return a, true, nil
			}
			if first == nil {
				first = &chart[i]
			}
		}
		if first != nil {
			return *first, true, nil
		}
	}
	return accountRow{}, false, nil
}

// control is the company's Accounts Receivable or Accounts Payable
// account, which invoice mode's money moves through.
func (d *draft) control(typ string) (refJSON, error) {
	a, ok, err := d.firstActive(typ)
	if err != nil {
		return refJSON{}, err
	}
	if !ok {
		return refJSON{}, &connectors.Error{Class: connectors.MerchantActionable, Message: fmt.Sprintf(
			"QuickBooks has no active %s account, which invoice mode posts through; create or reactivate one in QuickBooks", typ)}
	}
	return refJSON{Value: a.ID}, nil
}

// payment is money received against the invoice (§2.2 "Payment against
// invoice"): DepositToAccountRef is the money account, Line[].LinkedTxn
// the invoice. Like the other payments, it carries no tracking
// (tracking.go).
func (d *draft) payment() ([]step, error) {
	customer, invoice, amt, money, err := d.settlement()
	if err != nil {
		return nil, err
	}
	return one(paymentEntity, false, paymentJSON{TxnDate: d.doc.GetDate(), PaymentRefNum: d.number(), PrivateNote: d.note(),
		CustomerRef: customer, CurrencyRef: d.currency(), DepositToAccountRef: &money, TotalAmt: amt,
		Line: []linkLineJSON{link(amt, invoice, "Invoice")}}), nil
}

// settlement is what a payment, refund or bill payment needs: its
// contact, the document it settles, its amount and money account.
func (d *draft) settlement() (contact refJSON, settles string, amt json.RawMessage, money refJSON, err error) {
	if contact, err = d.contact(); err != nil {
		return
	}
	if settles, err = d.settles(0); err != nil {
		return
	}
	if amt, err = d.moneyOf(); err != nil {
		return
	}
	id, err := d.accountOf("Money.AccountId", d.doc.GetMoney())
	return contact, settles, amt, refJSON{Value: id}, err
}

func link(amt json.RawMessage, id, typ string) linkLineJSON {
	return linkLineJSON{Amount: amt, LinkedTxn: []linkedJSON{{TxnID: id, TxnType: typ}}}
}

// allocation applies the credit memo to the invoice as QuickBooks does:
// a Payment of zero whose lines apply the same amount of each (§2.2 "a
// Payment can apply it").
func (d *draft) allocation() ([]step, error) {
	customer, err := d.contact()
	if err != nil {
		return nil, err
	}
	memo, err := d.settles(0)
	if err != nil {
		return nil, err
	}
	invoice, err := d.settles(1)
	if err != nil {
		return nil, err
	}
	amt, err := d.moneyOf()
	if err != nil {
		return nil, err
	}
	return one(paymentEntity, false, paymentJSON{TxnDate: d.doc.GetDate(), PaymentRefNum: d.number(), PrivateNote: d.note(),
		CustomerRef: customer, CurrencyRef: d.currency(), TotalAmt: zeroTotal(),
		Line: []linkLineJSON{link(amt, invoice, "Invoice"), link(amt, memo, "CreditMemo")}}), nil
}

// refund is money paid out against the credit memo, as Codat's
// specification writes it (§3.2): "a journal entry that credits cash and
// debits the debtors (AR) account", linked to the credit memo "through a
// zero-value 'receive payment'". A RefundReceipt is not used: it credits
// the money account against item lines, that is income, not Accounts
// Receivable, so it would move revenue a second time and leave the
// credit memo open.
func (d *draft) refund() ([]step, error) {
	customer, memo, amt, money, err := d.settlement()
	if err != nil {
		return nil, err
	}
	ar, err := d.control("Accounts Receivable")
	if err != nil {
		return nil, err
	}
	je, err := d.journal(
		journalLine(d.doc.GetMoney().GetDescription(), amt, "Debit", ar, &entityJSON{Type: "Customer", EntityRef: customer}),
		journalLine(d.doc.GetMoney().GetDescription(), amt, "Credit", money, nil))
	if err != nil {
		return nil, err
	}
	return []step{
		{lookup: lookup{journalEntity, true}, suffix: "je", body: func([]string) any { return je }},
		{lookup: lookup{paymentEntity, false}, suffix: "link", body: func(ids []string) any {
			return paymentJSON{TxnDate: d.doc.GetDate(), PaymentRefNum: d.number(), PrivateNote: d.note(), CustomerRef: customer,
				CurrencyRef: d.currency(), TotalAmt: zeroTotal(), Line: []linkLineJSON{link(amt, ids[0], "JournalEntry"), link(amt, memo, "CreditMemo")}}
		}},
	}, nil
}

// journal is a journal entry carrying the document's reference, its
// lines the document's tracking.
func (d *draft) journal(lines ...lineJSON) (journalEntryJSON, error) {
	track, err := d.tracking()
	if err != nil {
		return journalEntryJSON{}, err
	}
	track.track(lines)
	return journalEntryJSON{TxnDate: d.doc.GetDate(), DocNumber: d.number(), PrivateNote: d.note(), CurrencyRef: d.currency(),
		GlobalTaxCalculation: d.taxCalculation(), Line: lines}, nil
}

func journalLine(description string, amt json.RawMessage, side string, account refJSON, name *entityJSON) lineJSON {
	return lineJSON{Description: description, Amount: amt, DetailType: "JournalEntryLineDetail",
		JournalEntryLineDetail: detailJSON{PostingType: side, AccountRef: account, Entity: name}}
}

// expenseLines are the document's lines as AccountBasedExpenseLineDetail
// lines (§2.2 Purchase, Bill), each with the document's class; the
// department is the transaction's (tracking.go).
func (d *draft) expenseLines() ([]expenseLineJSON, lineTracking, error) {
	lines, err := d.lines()
	if err != nil {
		return nil, lineTracking{}, err
	}
	track, err := d.tracking()
	if err != nil {
		return nil, lineTracking{}, err
	}
	out := make([]expenseLineJSON, 0, len(lines))
	for _, l := range lines {
		out = append(out, expenseLineJSON{Description: l.description, Amount: amountJSON(l.amount), DetailType: "AccountBasedExpenseLineDetail",
			AccountBasedExpenseLineDetail: expenseDetailJSON{AccountRef: refJSON{Value: l.account}, ClassRef: track.classRef()}})
	}
	return out, track, nil
}

// bill is a Bill, or a BillCreditNote as a VendorCredit, from the vendor
// (§2.2 "POST /bill … VendorRef plus AccountBasedExpenseLineDetail"; the
// vendor credit takes the same shape, not in the reference). Codat's
// QBO bill may have several lines (§3.2).
func (d *draft) bill(e entity) ([]step, error) {
	vendor, err := d.contact()
	if err != nil {
		return nil, err
	}
	lines, track, err := d.expenseLines()
	if err != nil {
		return nil, err
	}
	return one(e, true, billJSON{TxnDate: d.doc.GetDate(), DocNumber: d.number(), PrivateNote: d.note(), VendorRef: vendor,
		CurrencyRef: d.currency(), GlobalTaxCalculation: d.taxCalculation(), DepartmentRef: track.departmentRef(), Line: lines}), nil
}

// billPayment pays the bill from the money account. QuickBooks pays bills
// only from a bank account (PayType Check) or a credit card account
// (PayType CreditCard). From any other account (a clearing account, an
// Other Current Asset) the payment is a journal entry debiting Accounts
// Payable for the vendor and crediting the money account, which a
// BillPayment of zero then applies to the bill. That BillPayment moves
// nothing, but QuickBooks still wants its bank account: the company's
// first active one (or, without any, a credit card account).
func (d *draft) billPayment() ([]step, error) {
	vendor, bill, amt, money, err := d.settlement()
	if err != nil {
		return nil, err
	}
	acct, err := d.account("Money.AccountId", money.Value)
	if err != nil {
		return nil, err
	}
	body := billPaymentJSON{TxnDate: d.doc.GetDate(), DocNumber: d.number(), PrivateNote: d.note(), VendorRef: vendor,
		CurrencyRef: d.currency(), TotalAmt: amt, Line: []linkLineJSON{link(amt, bill, "Bill")}}
	if payWith(&body, acct) {
		return one(billPaymentEntity, true, body), nil
	}
	ap, err := d.control("Accounts Payable")
	if err != nil {
		return nil, err
	}
	payer, ok, err := d.firstActive("Bank", "Credit Card")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &connectors.Error{Class: connectors.MerchantActionable, Field: "Money.AccountId", Message: fmt.Sprintf(
			"QuickBooks marks a bill paid only with a bill payment, which names a bank or credit card account even when, as here, "+
				"the money leaves %s; the company has no active bank or credit card account. Add one in QuickBooks.", d.accountName(money.Value))}
	}
	je, err := d.journal(
		journalLine(d.doc.GetMoney().GetDescription(), amt, "Debit", ap, &entityJSON{Type: "Vendor", EntityRef: vendor}),
		journalLine(d.doc.GetMoney().GetDescription(), amt, "Credit", money, nil))
	if err != nil {
		return nil, err
	}
	return []step{
		{lookup: lookup{journalEntity, true}, suffix: "je", body: func([]string) any { return je }},
		{lookup: lookup{billPaymentEntity, false}, suffix: "link", body: func(ids []string) any {
			link := billPaymentJSON{TxnDate: d.doc.GetDate(), PrivateNote: d.note(), VendorRef: vendor, CurrencyRef: d.currency(),
				TotalAmt: zeroTotal(), Line: []linkLineJSON{link(amt, bill, "Bill"), link(amt, ids[0], "JournalEntry")}}
			payWith(&link, payer)
			return link
		}},
	}, nil
}

// payWith sets how a bill payment pays from the account, and reports
// whether QuickBooks pays bills from it.
func payWith(b *billPaymentJSON, a accountRow) bool {
	switch a.AccountType {
	case "Bank":
		b.PayType, b.CheckPayment = "Check", &checkJSON{BankAccountRef: refJSON{Value: a.ID}}
	case "Credit Card":
		b.PayType, b.CreditCardPayment = "CreditCard", &cardJSON{CCAccountRef: refJSON{Value: a.ID}}
	default:
		return false
	}
	return true
}

// billRefund is the vendor's refund of the vendor credit: a Deposit into
// the money account with one line on Accounts Payable for the vendor
// (§2.2 Deposit with direct lines; Codat: "Fee refunds are a single bank
// deposit per day", §3.2). §2.2 lists what a deposit may link
// (Transfer, Payment, SalesReceipt, RefundReceipt, JournalEntry), and a
// vendor credit is not among them, so the deposit is not linked to it:
// both stay open for the vendor, netting to zero on Accounts Payable,
// for the merchant to match in QuickBooks if wanted.
func (d *draft) billRefund() ([]step, error) {
	vendor, err := d.contact()
	if err != nil {
		return nil, err
	}
	amt, err := d.moneyOf()
	if err != nil {
		return nil, err
	}
	money, err := d.accountOf("Money.AccountId", d.doc.GetMoney())
	if err != nil {
		return nil, err
	}
	ap, err := d.control("Accounts Payable")
	if err != nil {
		return nil, err
	}
	track, err := d.tracking()
	if err != nil {
		return nil, err
	}
	return one(depositEntity, false, depositJSON{TxnDate: d.doc.GetDate(), PrivateNote: d.note(), DepositToAccountRef: refJSON{Value: money},
		CurrencyRef: d.currency(), GlobalTaxCalculation: d.taxCalculation(), DepartmentRef: track.departmentRef(),
		Line: []depositLineJSON{{Description: d.doc.GetMoney().GetDescription(), Amount: amt, DetailType: "DepositLineDetail",
			DepositLineDetail: depositDetailJSON{AccountRef: ap, Entity: &typedRefJSON{Value: vendor.Value, Type: "Vendor"}, ClassRef: track.classRef()}}}}), nil
}

// vendorEntity is the document's vendor when it names one: spend and
// receive money are written with the fees supplier when one is set.
func (d *draft) vendorEntity() (*typedRefJSON, error) {
	if d.doc.GetContact() == "" {
		return nil, nil
	}
	v, err := d.contact()
	if err != nil {
		return nil, err
	}
	return &typedRefJSON{Value: v.Value, Type: "Vendor"}, nil
}

// spend is money paid straight from a bank account: a Purchase
// (PaymentType Cash, AccountRef the account the money leaves, expense
// lines; §2.2 "Fees POST /purchase").
func (d *draft) spend() ([]step, error) {
	vendor, err := d.vendorEntity()
	if err != nil {
		return nil, err
	}
	money, err := d.accountOf("Money.AccountId", d.doc.GetMoney())
	if err != nil {
		return nil, err
	}
	lines, track, err := d.expenseLines()
	if err != nil {
		return nil, err
	}
	return one(purchaseEntity, true, purchaseJSON{TxnDate: d.doc.GetDate(), DocNumber: d.number(), PrivateNote: d.note(), PaymentType: "Cash",
		AccountRef: refJSON{Value: money}, EntityRef: vendor, CurrencyRef: d.currency(), GlobalTaxCalculation: d.taxCalculation(),
		DepartmentRef: track.departmentRef(), Line: lines}), nil
}

// receive is money received straight into a bank account: a Deposit
// whose DepositLineDetail lines credit the document's accounts (§2.2;
// Codat's fee refunds as "a single bank deposit", §3.2).
func (d *draft) receive() ([]step, error) {
	vendor, err := d.vendorEntity()
	if err != nil {
		return nil, err
	}
	money, err := d.accountOf("Money.AccountId", d.doc.GetMoney())
	if err != nil {
		return nil, err
	}
	lines, err := d.lines()
	if err != nil {
		return nil, err
	}
	track, err := d.tracking()
	if err != nil {
		return nil, err
	}
	body := depositJSON{TxnDate: d.doc.GetDate(), PrivateNote: d.note(), DepositToAccountRef: refJSON{Value: money},
		CurrencyRef: d.currency(), GlobalTaxCalculation: d.taxCalculation(), DepartmentRef: track.departmentRef()}
	for _, l := range lines {
		body.Line = append(body.Line, depositLineJSON{Description: l.description, Amount: amountJSON(l.amount), DetailType: "DepositLineDetail",
			DepositLineDetail: depositDetailJSON{AccountRef: refJSON{Value: l.account}, Entity: vendor, ClassRef: track.classRef()}})
	}
	return one(depositEntity, false, body), nil
}

// transfer moves money between two of the merchant's accounts: a
// Transfer when both are Asset accounts ("the mirror says both accounts
// must be Asset classification", §2.2), otherwise a journal entry
// debiting the destination and crediting the source. A Transfer carries
// no currency; it moves the accounts' own, so a transfer in another
// currency goes as a journal entry, which carries one. A Transfer carries
// no tracking; the journal entry's lines do (tracking.go).
func (d *draft) transfer() ([]step, error) {
	from, to := d.doc.GetMoney(), d.doc.GetTo()
	amt, err := d.moneyOf()
	if err != nil {
		return nil, err
	}
	if v, err := exact("To.Amount", to.GetAmount()); err != nil || string(amountJSON(v)) != string(amt) {
		return nil, invoiceFatal("To.Amount", "transfer out %s and in %s differ", from.GetAmount(), to.GetAmount())
	}
	fromID, err := d.accountOf("Money.AccountId", from)
	if err != nil {
		return nil, err
	}
	toID, err := d.accountOf("To.AccountId", to)
	if err != nil {
		return nil, err
	}
	fa, err := d.account("Money.AccountId", fromID)
	if err != nil {
		return nil, err
	}
	ta, err := d.account("To.AccountId", toID)
	if err != nil {
		return nil, err
	}
	if fa.Classification == "Asset" && ta.Classification == "Asset" && sameCurrency(fa, ta, d.doc.GetCurrency()) {
		return one(transferEntity, false, transferJSON{TxnDate: d.doc.GetDate(), PrivateNote: d.note(),
			FromAccountRef: refJSON{Value: fromID}, ToAccountRef: refJSON{Value: toID}, Amount: amt}), nil
	}
	je, err := d.journal(
		journalLine(to.GetDescription(), amt, "Debit", refJSON{Value: toID}, nil),
		journalLine(from.GetDescription(), amt, "Credit", refJSON{Value: fromID}, nil))
	if err != nil {
		return nil, err
	}
	return one(journalEntity, true, je), nil
}

// sameCurrency: both accounts are in the document's currency (an account
// without a CurrencyRef is taken to be).
func sameCurrency(a, b accountRow, currency string) bool {
	in := func(r accountRow) bool {
		return r.CurrencyRef.Value == "" || strings.EqualFold(r.CurrencyRef.Value, currency)
	}
	return in(a) && in(b)
}
