package mapping_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

var invoiceOpts = mapping.InvoiceOptions{Customer: "cust-provider", Supplier: "supp-provider"}

// perAccount adds up what documents move on each merchant account.
func perAccount(docs []mapping.Planned) map[string]money.Amount {
	out := map[string]money.Amount{}
	for _, p := range docs {
		for _, l := range p.Document.Movements() {
			out[l.Account.AccountID] += l.Amount
		}
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

func describeDocs(docs []mapping.Planned) string {
	var b strings.Builder
	for _, p := range docs {
		d := p.Document
		fmt.Fprintf(&b, "#%d %s", p.Index, d.Type)
		for _, l := range d.Lines {
			fmt.Fprintf(&b, " [%s %s]", l.Account.AccountID, l.Amount)
		}
		if d.Money.Amount != 0 {
			fmt.Fprintf(&b, " money %s %s", d.Money.Account.AccountID, d.Money.Amount)
		}
		if d.To.Account.AccountID != "" {
			fmt.Fprintf(&b, " to %s", d.To.Account.AccountID)
		}
		if len(d.AppliesTo) > 0 {
			fmt.Fprintf(&b, " applies to %v", d.AppliesTo)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkInvoiceDocs checks what every invoice-mode plan must hold: no
// negative or empty documents, settlements after what they settle and for
// exactly its total, control accounts that net to zero, and per merchant
// account the same amounts as the journal.
func checkInvoiceDocs(t interface {
	Helper()
	Fatalf(string, ...any)
}, s day.Summary, docs []mapping.Planned, journal []mapping.Planned) {
	t.Helper()
	settled := map[int]money.Amount{}
	for i, p := range docs {
		d := p.Document
		if p.Index != i || p.DocumentID != mapping.DocumentID(s.ID, i) || p.Reference != mapping.Reference(p.DocumentID) {
			t.Fatalf("document %d has identity %d/%s/%s", i, p.Index, p.DocumentID, p.Reference)
		}
		if d.Date != s.Day || d.Currency != s.Currency {
			t.Fatalf("document %d dated %s in %s, want %s %s", i, d.Date, d.Currency, s.Day, s.Currency)
		}
		for _, l := range d.Lines {
			if l.Amount == 0 {
				t.Fatalf("document %d has a zero line:\n%s", i, describeDocs(docs))
			}
		}
		var sum money.Amount
		for _, l := range d.Lines {
			sum += l.Amount
		}
		switch d.Type {
		case mapping.TypeSalesInvoice, mapping.TypeSalesCreditNote, mapping.TypeBill, mapping.TypeBillCreditNote:
			if sum < 0 || len(d.Lines) == 0 {
				t.Fatalf("document %d (%s) totals %s over %d lines:\n%s", i, d.Type, sum, len(d.Lines), describeDocs(docs))
			}
		case mapping.TypeSpendMoney, mapping.TypeReceiveMoney:
			if sum != d.Money.Amount || sum <= 0 {
				t.Fatalf("document %d (%s) lines %s, money %s", i, d.Type, sum, d.Money.Amount)
			}
		default:
			if d.Money.Amount <= 0 {
				t.Fatalf("document %d (%s) moves %s:\n%s", i, d.Type, d.Money.Amount, describeDocs(docs))
			}
		}
		if d.Type == mapping.TypeTransfer && d.Money.Account.AccountID == d.To.Account.AccountID {
			t.Fatalf("document %d transfers to its own account:\n%s", i, describeDocs(docs))
		}
		if d.Type == mapping.TypeTransfer && d.To.Amount != d.Money.Amount {
			t.Fatalf("document %d transfers %s and delivers %s:\n%s", i, d.Money.Amount, d.To.Amount, describeDocs(docs))
		}
		for _, j := range d.AppliesTo {
			if j < 0 || j >= i {
				t.Fatalf("document %d applies to %d, which does not come before it", i, j)
			}
			settled[j] += d.Money.Amount
		}
	}
	for i, p := range docs {
		d := p.Document
		switch d.Type {
		case mapping.TypeSalesInvoice, mapping.TypeSalesCreditNote, mapping.TypeBill, mapping.TypeBillCreditNote:
			var sum money.Amount
			for _, l := range d.Lines {
				sum += l.Amount
			}
			if settled[i] != sum {
				t.Fatalf("document %d (%s) totals %s but %s is settled against it:\n%s", i, d.Type, sum, settled[i], describeDocs(docs))
			}
		}
	}
	got, want := perAccount(docs), perAccount(journal)
	for _, c := range []mapping.Binding{mapping.Receivable, mapping.Payable} {
		if v := got[c.AccountID]; v != 0 {
			t.Fatalf("%s nets %s over the day's documents:\n%s", c.Name, v, describeDocs(docs))
		}
	}
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if got[k] != want[k] {
			t.Fatalf("account %s: invoice mode moves %s, journal mode %s:\n%s", k, got[k], want[k], describeDocs(docs))
		}
	}
}

// Over random balanced summaries holding every kind of semantic account,
// either sign (a later revision's difference can have either), with
// payment types and sales accounts sometimes sharing a merchant account and
// the clearing account sometimes a bank, invoice mode moves per merchant
// account what journal mode moves, its control accounts net to zero, and
// every document is positive and settled in full.
func TestInvoiceAndJournalMoveTheSameAmountsProperty(t *testing.T) {
	semantic := []day.Account{
		day.Sales, day.SalesIn("food"), day.SalesIn("drink"), day.Tax, day.TaxOn("rate:20"), day.TaxOn("gst-state"),
		day.Gratuity, day.Discounts, day.Refunds, day.ServiceCharges, day.Shipping, day.GiftCards, day.Rounding,
		day.PaymentFees, day.PaymentFeeRefunds, day.Payouts, day.PayoutClearing,
		day.Tender("Card"), day.Tender("Cash"), day.Tender("Paypal"), day.Tender("Prepaid"),
	}
	rapid.Check(t, func(t *rapid.T) {
		cur := rapid.SampledFrom([]string{"GBP", "JPY", "BHD", "USD"}).Draw(t, "currency")
		dp, _ := money.MinorUnits(cur)
		tot := day.Totals{}
		var sum money.Amount
		for _, a := range semantic {
			if !rapid.Bool().Draw(t, "use "+string(a)) {
				continue
			}
			v := money.FromMinor(rapid.Int64Range(-1e7, 1e7).Draw(t, "minor "+string(a)), dp)
			tot[a] = v
			sum += v
		}
		tot[day.Unsettled] -= sum
		s, err := day.NewSummary(header(cur, rapid.IntRange(1, 3).Draw(t, "revision")), tot)
		if err != nil {
			t.Fatalf("NewSummary: %v", err)
		}
		accts := fullAccounts()
		accts.set("payments", "prepaid")
		for _, k := range []string{"food", "drink"} {
			if rapid.Bool().Draw(t, "category "+k) {
				accts.set("sales", "category:"+k)
			}
		}
		for _, k := range []string{"discounts", "refund", "serviceCharges", "shipping", "prepaid", "rounding", "tax:rate:20", "payout", "payoutClearing"} {
			if rapid.Bool().Draw(t, "map "+k) || k == "prepaid" || k == "rounding" || k == "payout" {
				section := "sales"
				if k == "payout" || k == "payoutClearing" {
					section = "payments"
				}
				accts.set(section, k)
			}
		}
		if rapid.Bool().Draw(t, "cash and paypal share an account") {
			accts["payments"]["paypal"] = accts["payments"]["cash"]
		}
		if rapid.Bool().Draw(t, "payouts land in the cash account") {
			accts["payments"]["payout"] = accts["payments"]["cash"]
		}
		bankClearing := rapid.Bool().Draw(t, "clearing is a bank account")
		opts := invoiceOpts
		opts.IsBank = func(id string) bool { return bankClearing && id == accts["payments"]["card"].AccountID }
		journal, err := mapping.Journal(s, accts)
		if err != nil {
			t.Fatalf("Journal: %v", err)
		}
		docs, err := mapping.Invoices(s, accts, opts)
		if err != nil {
			t.Fatalf("Invoices: %v", err)
		}
		checkInvoiceDocs(t, s, docs, journal)
	})
}

func docTypes(docs []mapping.Planned) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Document.Type
	}
	return out
}

func find(t *testing.T, docs []mapping.Planned, typ string) mapping.Document {
	t.Helper()
	for _, d := range docs {
		if d.Document.Type == typ {
			return d.Document
		}
	}
	t.Fatalf("no %s among %v", typ, docTypes(docs))
	return mapping.Document{}
}

func lineAmounts(d mapping.Document) map[string]string {
	out := map[string]string{}
	for _, l := range d.Lines {
		out[l.Account.AccountID] = l.Amount.String()
	}
	return out
}

// The §3.3 daily aggregate in invoice mode, after Codat's Xero
// specification (§3.1): one invoice with sales, tax and gratuity lines, one
// payment per payment type, and the fee as a bill paid from the card
// clearing account.
func TestInvoicesCodatDailyAggregate(t *testing.T) {
	s := cashDay(t, "GBP", 1)
	docs, err := mapping.Invoices(s, fullAccounts(), invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{mapping.TypeSalesInvoice, mapping.TypeBill, mapping.TypeBillPayment, mapping.TypePayment, mapping.TypePayment}
	if got := docTypes(docs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("documents %v, want %v\n%s", got, want, describeDocs(docs))
	}
	inv := docs[0].Document
	if inv.Contact != "cust-provider" || inv.Status != "Submitted" {
		t.Fatalf("invoice to %q status %q", inv.Contact, inv.Status)
	}
	if got := lineAmounts(inv); fmt.Sprint(got) != fmt.Sprint(map[string]string{
		"sales-sales-id": "1000.00", "sales-tax-id": "200.00", "sales-gratuity-id": "50.00"}) {
		t.Fatalf("invoice lines %v", got)
	}
	bill := docs[1].Document
	if bill.Contact != "supp-provider" || fmt.Sprint(lineAmounts(bill)) != "map[fees-paymentFee-id:1.49]" {
		t.Fatalf("bill %+v", bill)
	}
	if p := docs[2].Document; p.Money.Account.AccountID != "payments-card-id" || p.Money.Amount.String() != "1.49" || p.AppliesTo[0] != 1 {
		t.Fatalf("bill payment %+v", p)
	}
	paid := map[string]string{}
	for _, d := range docs[3:] {
		paid[d.Document.Money.Account.AccountID] = d.Document.Money.Amount.String()
		if d.Document.AppliesTo[0] != 0 {
			t.Fatalf("payment applies to %v", d.Document.AppliesTo)
		}
	}
	if fmt.Sprint(paid) != "map[payments-card-id:1100.00 payments-cash-id:150.00]" {
		t.Fatalf("payments %v", paid)
	}
	journal, _ := mapping.Journal(s, fullAccounts())
	checkInvoiceDocs(t, s, docs, journal)
}

// A day of refunds only is a credit note and a cash refund per payment
// type, never a negative invoice.
func TestInvoicesRefundsOnlyDay(t *testing.T) {
	accts := fullAccounts()
	accts.set("sales", "refund")
	s := summary(t, header("GBP", 1), day.Totals{
		day.Refunds: amt(t, "100"), day.Tax: amt(t, "20"),
		day.Tender("Card"): amt(t, "-90"), day.Tender("Cash"): amt(t, "-30"),
	})
	docs, err := mapping.Invoices(s, accts, invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(docTypes(docs), ","); got != "SalesCreditNote,Refund,Refund" {
		t.Fatalf("documents %s\n%s", got, describeDocs(docs))
	}
	if got := fmt.Sprint(lineAmounts(docs[0].Document)); got != "map[sales-refund-id:100.00 sales-tax-id:20.00]" {
		t.Fatalf("credit note lines %s", got)
	}
	journal, _ := mapping.Journal(s, accts)
	checkInvoiceDocs(t, s, docs, journal)
}

// Sales and refunds on one day: the invoice is paid by what came in, and
// the credit note not refunded in cash is set against the invoice.
func TestInvoicesCreditNoteAllocatedToInvoice(t *testing.T) {
	s := summary(t, header("GBP", 1), day.Totals{
		day.Sales: amt(t, "-500"), day.Refunds: amt(t, "80"),
		day.Tender("Card"): amt(t, "420"),
	})
	accts := fullAccounts()
	accts.set("sales", "refund")
	docs, err := mapping.Invoices(s, accts, invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(docTypes(docs), ","); got != "SalesInvoice,SalesCreditNote,Payment,CreditAllocation" {
		t.Fatalf("documents %s\n%s", got, describeDocs(docs))
	}
	if a := docs[3].Document; a.Money.Amount.String() != "80.00" || fmt.Sprint(a.AppliesTo) != "[1 0]" {
		t.Fatalf("allocation %+v", a)
	}
	journal, _ := mapping.Journal(s, accts)
	checkInvoiceDocs(t, s, docs, journal)
}

// Money received today for an earlier day's unpaid sales moves out of the
// unsettled account; a payout moves the provider's balance to the bank.
func TestInvoicesPayoutAndEarlierSales(t *testing.T) {
	accts := fullAccounts()
	accts.set("payments", "payout")
	s := summary(t, header("GBP", 1), day.Totals{
		day.Tender("Card"): amt(t, "-150"), day.Unsettled: amt(t, "-100"), day.Payouts: amt(t, "250"),
	})
	docs, err := mapping.Invoices(s, accts, invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	got := describeDocs(docs)
	want := "#0 Transfer money payments-card-id 250.00 to payments-payout-id\n" +
		"#1 Transfer money payments-unsettled-id 100.00 to payments-card-id\n"
	if got != want {
		t.Fatalf("documents:\n%s\nwant:\n%s", got, want)
	}
	journal, _ := mapping.Journal(s, accts)
	checkInvoiceDocs(t, s, docs, journal)
}

// Fees paid from a clearing account that is a bank account are spend money,
// and fee refunds receive money, with no supplier needed.
func TestInvoicesFeesFromABankAccount(t *testing.T) {
	s := summary(t, header("GBP", 1), day.Totals{
		day.PaymentFees: amt(t, "3"), day.PaymentFeeRefunds: amt(t, "-1"), day.Tender("Card"): amt(t, "-2"),
	})
	opts := mapping.InvoiceOptions{IsBank: func(id string) bool { return id == "payments-card-id" }}
	docs, err := mapping.Invoices(s, fullAccounts(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(docTypes(docs), ","); got != "SpendMoney,ReceiveMoney" {
		t.Fatalf("documents %s\n%s", got, describeDocs(docs))
	}
	journal, _ := mapping.Journal(s, fullAccounts())
	checkInvoiceDocs(t, s, docs, journal)
}

func TestInvoicesMerchantErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  mapping.InvoiceOptions
		field string
		words string
	}{
		{"no customer", mapping.InvoiceOptions{Supplier: "s"}, mapping.CustomerPath, "No sales customer is selected"},
		{"no supplier", mapping.InvoiceOptions{Customer: "c"}, mapping.SupplierPath, "No fees supplier is selected"},
		{"draft with payments", mapping.InvoiceOptions{Customer: "c", Supplier: "s", Status: "Draft"}, mapping.StatusPath, "Payments cannot be enabled if invoice status is set to draft"},
		{"unknown status", mapping.InvoiceOptions{Customer: "c", Supplier: "s", Status: "Approved"}, mapping.StatusPath, "must be Submitted or Draft"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mapping.Invoices(cashDay(t, "GBP", 1), fullAccounts(), tc.opts)
			var merr *mapping.Error
			if !errors.As(err, &merr) || merr.Field != tc.field || !strings.Contains(merr.Message, tc.words) {
				t.Fatalf("err = %v, want field %s saying %q", err, tc.field, tc.words)
			}
		})
	}
	// Draft stops only days whose sales take payments: a day of fees alone
	// plans.
	s := summary(t, header("GBP", 1), day.Totals{day.PaymentFees: amt(t, "2"), day.Tender("Card"): amt(t, "-2")})
	docs, err := mapping.Invoices(s, fullAccounts(), mapping.InvoiceOptions{Supplier: "s", Status: "Draft"})
	if err != nil || strings.Join(docTypes(docs), ",") != "Bill,BillPayment" {
		t.Fatalf("fees-only draft day: %v, %v", docTypes(docs), err)
	}
}

// Unmapped accounts are named together, as in journal mode.
func TestInvoicesMissingMappings(t *testing.T) {
	accts := fullAccounts()
	delete(accts["payments"], "card")
	_, err := mapping.Invoices(cashDay(t, "GBP", 1), accts, invoiceOpts)
	var merr *mapping.Error
	if !errors.As(err, &merr) || !strings.Contains(merr.Message, "configuration.payments.accounts.card.selectedAccountId") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(merr.Message, "configuration.payments.accounts.payoutClearing.selectedAccountId") {
		t.Fatalf("message does not name the clearing account that pays the fees: %s", merr.Message)
	}
}

// ---------------------------------------------------------------------------
// Golden plans: which documents invoice mode chooses, in what order, and
// what each one settles.

type invoiceCase struct {
	name   string
	totals map[day.Account]string
	mapped []string // slots mapped besides fullAccounts, as "section/key"
	want   string   // describeDocs of the plan
}

func runInvoiceCases(t *testing.T, cases []invoiceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tot := day.Totals{}
			for a, v := range c.totals {
				tot[a] = amt(t, v)
			}
			s := summary(t, header("GBP", 1), tot)
			accts := fullAccounts()
			for _, k := range c.mapped {
				section, key, _ := strings.Cut(k, "/")
				accts.set(section, key)
			}
			docs, err := mapping.Invoices(s, accts, invoiceOpts)
			if err != nil {
				t.Fatal(err)
			}
			if got := describeDocs(docs); got != c.want {
				t.Fatalf("documents:\n%s\nwant:\n%s", got, c.want)
			}
			journal, err := mapping.Journal(s, accts)
			if err != nil {
				t.Fatal(err)
			}
			checkInvoiceDocs(t, s, docs, journal)
		})
	}
}

// One day with every family of invoice mode: the sales invoice and credit
// note, fees on a bill paid from the clearing account and fee refunds on a
// bill credit note refunded into it, a payout from the clearing account, a
// payment, refunds, and a transfer of what money received for earlier days
// leaves over. The clearing account (card) receives what it paid out for
// the fees and the payout before it pays the invoice.
func TestInvoicesEveryDocumentFamily(t *testing.T) {
	tot := day.Totals{
		day.Sales: amt(t, "-1000"), day.Tax: amt(t, "-200"), day.Refunds: amt(t, "120"),
		day.Tender("Card"): amt(t, "900"), day.Tender("Cash"): amt(t, "-50"),
		day.PaymentFees: amt(t, "3"), day.PaymentFeeRefunds: amt(t, "-1"),
		day.Payouts: amt(t, "500"), day.Unsettled: amt(t, "-272"),
	}
	s := summary(t, header("GBP", 1), tot)
	accts := fullAccounts()
	accts.set("sales", "refund")
	accts.set("payments", "payout")
	docs, err := mapping.Invoices(s, accts, invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := "#0 SalesInvoice [sales-sales-id 1000.00] [sales-tax-id 200.00]\n" +
		"#1 SalesCreditNote [sales-refund-id 120.00]\n" +
		"#2 Bill [fees-paymentFee-id 3.00]\n" +
		"#3 BillPayment money payments-card-id 3.00 applies to [2]\n" +
		"#4 BillCreditNote [fees-paymentFeeRefund-id 1.00]\n" +
		"#5 BillRefund money payments-card-id 1.00 applies to [4]\n" +
		"#6 Transfer money payments-card-id 500.00 to payments-payout-id\n" +
		"#7 Payment money payments-card-id 1200.00 applies to [0]\n" +
		"#8 Refund money payments-cash-id 50.00 applies to [1]\n" +
		"#9 Refund money payments-unsettled-id 70.00 applies to [1]\n" +
		"#10 Transfer money payments-unsettled-id 202.00 to payments-card-id\n"
	if got := describeDocs(docs); got != want {
		t.Fatalf("documents:\n%s\nwant:\n%s", got, want)
	}
	wantNarration := []string{"sales", "refunds", "payment fees", "payment fees paid from Payment provider clearing",
		"payment fee refunds", "payment fee refunds received into Payment provider clearing",
		"transfer from Payment provider clearing to Payouts", "Card payments received", "Cash payments refunded",
		"Unsettled sales refunded", "transfer from Unsettled sales to Card payments"}
	for i, d := range docs {
		doc := d.Document
		if want := "Daily sales summary 2026-03-29 GBP: " + wantNarration[i]; doc.Narration != want {
			t.Errorf("#%d narration %q, want %q", i, doc.Narration, want)
		}
		contact, status := "cust-provider", ""
		switch doc.Type {
		case mapping.TypeBill, mapping.TypeBillPayment, mapping.TypeBillCreditNote, mapping.TypeBillRefund:
			contact = "supp-provider"
		case mapping.TypeSalesInvoice, mapping.TypeSalesCreditNote:
			status = "Submitted"
		}
		if doc.Contact != contact || doc.Status != status {
			t.Errorf("#%d %s with %q status %q, want %q status %q", i, doc.Type, doc.Contact, doc.Status, contact, status)
		}
	}
	journal, _ := mapping.Journal(s, accts)
	checkInvoiceDocs(t, s, docs, journal)
}

// In what order a day's money settles its documents: the largest receipt
// pays the invoice first (ties by account id), unsettled sales pay only
// what the payment types leave, refunds go out the same way, and what is
// left over pairs up as transfers in that order.
func TestInvoicesSettlementOrder(t *testing.T) {
	runInvoiceCases(t, []invoiceCase{
		{"largest receipt pays first", map[day.Account]string{
			day.Sales: "-1000", day.Tender("Card"): "700", day.Tender("Cash"): "500", day.Unsettled: "-200"}, nil,
			"#0 SalesInvoice [sales-sales-id 1000.00]\n" +
				"#1 Payment money payments-card-id 700.00 applies to [0]\n" +
				"#2 Payment money payments-cash-id 300.00 applies to [0]\n" +
				"#3 Transfer money payments-unsettled-id 200.00 to payments-cash-id\n"},
		{"equal receipts pay in account order", map[day.Account]string{
			day.Sales: "-600", day.Tender("Cash"): "500", day.Tender("Card"): "500", day.Unsettled: "-400"}, nil,
			"#0 SalesInvoice [sales-sales-id 600.00]\n" +
				"#1 Payment money payments-card-id 500.00 applies to [0]\n" +
				"#2 Payment money payments-cash-id 100.00 applies to [0]\n" +
				"#3 Transfer money payments-unsettled-id 400.00 to payments-cash-id\n"},
		{"unsettled sales pay last however large", map[day.Account]string{
			day.Sales: "-1000", day.Tender("Card"): "600", day.Unsettled: "700", day.Tender("Cash"): "-300"}, nil,
			"#0 SalesInvoice [sales-sales-id 1000.00]\n" +
				"#1 Payment money payments-card-id 600.00 applies to [0]\n" +
				"#2 Payment money payments-unsettled-id 400.00 applies to [0]\n" +
				"#3 Transfer money payments-cash-id 300.00 to payments-unsettled-id\n"},
		{"largest refund goes first", map[day.Account]string{
			day.Refunds: "300", day.Tender("Card"): "-100", day.Tender("Cash"): "-250", day.Unsettled: "50"}, []string{"sales/refund"},
			"#0 SalesCreditNote [sales-refund-id 300.00]\n" +
				"#1 Refund money payments-cash-id 250.00 applies to [0]\n" +
				"#2 Refund money payments-card-id 50.00 applies to [0]\n" +
				"#3 Transfer money payments-card-id 50.00 to payments-unsettled-id\n"},
		{"unsettled refunds last however large", map[day.Account]string{
			day.Refunds: "300", day.Unsettled: "-250", day.Tender("Card"): "-100", day.Tender("Cash"): "50"}, []string{"sales/refund"},
			"#0 SalesCreditNote [sales-refund-id 300.00]\n" +
				"#1 Refund money payments-card-id 100.00 applies to [0]\n" +
				"#2 Refund money payments-unsettled-id 200.00 applies to [0]\n" +
				"#3 Transfer money payments-unsettled-id 50.00 to payments-cash-id\n"},
		{"money past a paid invoice pays nothing", map[day.Account]string{
			day.Sales: "-100", day.Tender("Card"): "300", day.Tender("Cash"): "50", day.Unsettled: "-250"}, nil,
			"#0 SalesInvoice [sales-sales-id 100.00]\n" +
				"#1 Payment money payments-card-id 100.00 applies to [0]\n" +
				"#2 Transfer money payments-unsettled-id 200.00 to payments-card-id\n" +
				"#3 Transfer money payments-unsettled-id 50.00 to payments-cash-id\n"},
		{"money past a refunded credit note refunds nothing", map[day.Account]string{
			day.Refunds: "100", day.Tender("Card"): "-300", day.Tender("Cash"): "-50", day.Unsettled: "250"}, []string{"sales/refund"},
			"#0 SalesCreditNote [sales-refund-id 100.00]\n" +
				"#1 Refund money payments-card-id 100.00 applies to [0]\n" +
				"#2 Transfer money payments-card-id 200.00 to payments-unsettled-id\n" +
				"#3 Transfer money payments-cash-id 50.00 to payments-unsettled-id\n"},
		{"leftovers pair up in order", map[day.Account]string{
			day.Tender("Card"): "100", day.Tender("Cash"): "50", day.Unsettled: "-120", day.Tender("Paypal"): "-30"}, nil,
			"#0 Transfer money payments-paypal-id 30.00 to payments-card-id\n" +
				"#1 Transfer money payments-unsettled-id 70.00 to payments-card-id\n" +
				"#2 Transfer money payments-unsettled-id 50.00 to payments-cash-id\n"},
		{"credit note not refunded is allocated", map[day.Account]string{
			day.Sales: "-500", day.Refunds: "80", day.Tender("Card"): "400", day.Tender("Cash"): "20"}, []string{"sales/refund"},
			"#0 SalesInvoice [sales-sales-id 500.00]\n" +
				"#1 SalesCreditNote [sales-refund-id 80.00]\n" +
				"#2 Payment money payments-card-id 400.00 applies to [0]\n" +
				"#3 Payment money payments-cash-id 20.00 applies to [0]\n" +
				"#4 CreditAllocation money  80.00 applies to [1 0]\n"},
	})
}

// Payouts: money moves from the clearing account to the payout account, a
// failed payout moves it back, and a payout into the clearing account
// itself is no transfer at all.
func TestInvoicesPayouts(t *testing.T) {
	runInvoiceCases(t, []invoiceCase{
		{"failed payout comes back", map[day.Account]string{day.Payouts: "-250", day.Tender("Card"): "250"},
			[]string{"payments/payout"},
			"#0 Transfer money payments-payout-id 250.00 to payments-card-id\n"},
		{"payout before the clearing account settles anything", map[day.Account]string{
			day.Sales: "-100", day.Tender("Card"): "100", day.PayoutClearing: "-250", day.Payouts: "250"},
			[]string{"payments/payout", "payments/payoutClearing"},
			"#0 SalesInvoice [sales-sales-id 100.00]\n" +
				"#1 Transfer money payments-payoutClearing-id 250.00 to payments-payout-id\n" +
				"#2 Payment money payments-card-id 100.00 applies to [0]\n"},
		{"payout from the clearing account, not the card", map[day.Account]string{day.Payouts: "250", day.PayoutClearing: "-250"},
			[]string{"payments/payout", "payments/payoutClearing"},
			"#0 Transfer money payments-payoutClearing-id 250.00 to payments-payout-id\n"},
	})
	// The payout account is the clearing account: what is left of it is
	// settled like any money account.
	accts := fullAccounts()
	accts["payments"]["payout"] = accts["payments"]["card"]
	s := summary(t, header("GBP", 1), day.Totals{day.Payouts: amt(t, "250"), day.Tender("Card"): amt(t, "-200"), day.Unsettled: amt(t, "-50")})
	docs, err := mapping.Invoices(s, accts, invoiceOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describeDocs(docs), "#0 Transfer money payments-unsettled-id 50.00 to payments-card-id\n"; got != want {
		t.Fatalf("documents:\n%s\nwant:\n%s", got, want)
	}
}

// A later revision can take fees and refunds back: a fee reversed is a bill
// credit note, a fee refund reversed a bill, and refunds reversed add to the
// invoice.
func TestInvoicesReversedFeesAndRefunds(t *testing.T) {
	runInvoiceCases(t, []invoiceCase{
		{"fee reversed", map[day.Account]string{day.PaymentFees: "-2", day.Tender("Card"): "2"}, nil,
			"#0 BillCreditNote [fees-paymentFee-id 2.00]\n" +
				"#1 BillRefund money payments-card-id 2.00 applies to [0]\n"},
		{"fee refund reversed", map[day.Account]string{day.PaymentFeeRefunds: "2", day.Tender("Card"): "-2"}, nil,
			"#0 Bill [fees-paymentFeeRefund-id 2.00]\n" +
				"#1 BillPayment money payments-card-id 2.00 applies to [0]\n"},
		{"fee and fee refund on one bill", map[day.Account]string{day.PaymentFees: "3", day.PaymentFeeRefunds: "1", day.Tender("Card"): "-4"}, nil,
			"#0 Bill [fees-paymentFeeRefund-id 1.00] [fees-paymentFee-id 3.00]\n" +
				"#1 BillPayment money payments-card-id 4.00 applies to [0]\n"},
		{"refunds reversed", map[day.Account]string{day.Refunds: "-30", day.Sales: "-70", day.Tender("Card"): "100"}, []string{"sales/refund"},
			"#0 SalesInvoice [sales-refund-id 30.00] [sales-sales-id 70.00]\n" +
				"#1 Payment money payments-card-id 100.00 applies to [0]\n"},
		{"refunds beyond sales", map[day.Account]string{day.Sales: "-70", day.Discounts: "100", day.Tender("Card"): "-30"}, []string{"sales/discounts"},
			"#0 SalesCreditNote [sales-discounts-id 100.00] [sales-sales-id -70.00]\n" +
				"#1 Refund money payments-card-id 30.00 applies to [0]\n"},
	})
}

// Zero-total days: sales and discounts that cancel on one account plan
// nothing; on two accounts they are an invoice of zero that nothing pays.
// A sale refunded the same day is an invoice, a credit note and the
// allocation of one to the other.
func TestInvoicesZeroTotalDays(t *testing.T) {
	runInvoiceCases(t, []invoiceCase{
		{"cancel on one account", map[day.Account]string{day.Sales: "-100", day.Discounts: "100"}, nil, ""},
		{"cancel across two accounts", map[day.Account]string{day.Sales: "-100", day.Discounts: "100"}, []string{"sales/discounts"},
			"#0 SalesInvoice [sales-discounts-id -100.00] [sales-sales-id 100.00]\n"},
		{"sale refunded", map[day.Account]string{day.Sales: "-100", day.Refunds: "100"}, nil,
			"#0 SalesInvoice [sales-sales-id 100.00]\n" +
				"#1 SalesCreditNote [sales-sales-id 100.00]\n" +
				"#2 CreditAllocation money  100.00 applies to [1 0]\n"},
	})
}

// Draft invoices cannot take payments, refunds or allocations (Codat's
// rule), so a Draft day that needs any of them stops naming the status
// field and the day; a Draft day of fees or payouts plans as usual.
func TestInvoicesDraftRules(t *testing.T) {
	draft := invoiceOpts
	draft.Status = "Draft"
	for _, c := range []struct {
		name   string
		totals day.Totals
		want   string // the plan's types, or "" for the Draft error
	}{
		{"payment", day.Totals{day.Sales: amt(t, "-10"), day.Tender("Cash"): amt(t, "10")}, ""},
		{"unsettled sales are paid too", day.Totals{day.Sales: amt(t, "-10"), day.Unsettled: amt(t, "10")}, ""},
		{"refund", day.Totals{day.Refunds: amt(t, "10"), day.Tender("Cash"): amt(t, "-10")}, ""},
		{"allocation", day.Totals{day.Sales: amt(t, "-10"), day.Refunds: amt(t, "10")}, ""},
		{"fees", day.Totals{day.PaymentFees: amt(t, "1"), day.Tender("Card"): amt(t, "-1")}, "Bill,BillPayment"},
		{"payout", day.Totals{day.Payouts: amt(t, "5"), day.Tender("Card"): amt(t, "-5")}, "Transfer"},
		{"zero invoice", day.Totals{day.Sales: amt(t, "-10"), day.Discounts: amt(t, "10")}, "SalesInvoice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			accts := fullAccounts()
			accts.set("payments", "payout")
			accts.set("sales", "discounts")
			docs, err := mapping.Invoices(summary(t, header("GBP", 1), c.totals), accts, draft)
			if c.want == "" {
				var merr *mapping.Error
				if !errors.As(err, &merr) || merr.Field != mapping.StatusPath || !strings.Contains(merr.Message, "2026-03-29 has payments") {
					t.Fatalf("plan %v, err %v; want the Draft error", docTypes(docs), err)
				}
				return
			}
			if err != nil || strings.Join(docTypes(docs), ",") != c.want {
				t.Fatalf("plan %v, err %v; want %s", docTypes(docs), err, c.want)
			}
			for _, d := range docs {
				if d.Document.Type == mapping.TypeSalesInvoice && d.Document.Status != "Draft" {
					t.Fatalf("invoice status %q, want Draft", d.Document.Status)
				}
			}
		})
	}
	// Submitted is the default, and naming it changes nothing.
	sub := invoiceOpts
	sub.Status = "Submitted"
	a, errA := mapping.Invoices(cashDay(t, "GBP", 1), fullAccounts(), invoiceOpts)
	b, errB := mapping.Invoices(cashDay(t, "GBP", 1), fullAccounts(), sub)
	if errA != nil || errB != nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("default and Submitted plans differ: %v %v", errA, errB)
	}
}

// Who a day needs: a credit note alone needs the sales customer, fee
// refunds alone the fees supplier, and a day of payments between money
// accounts neither.
func TestInvoicesContactsEachDayNeeds(t *testing.T) {
	accts := fullAccounts()
	accts.set("sales", "refund")
	for _, c := range []struct {
		name   string
		totals day.Totals
		opts   mapping.InvoiceOptions
		field  string // "" when the day plans
	}{
		{"credit note without customer", day.Totals{day.Refunds: amt(t, "10"), day.Tender("Cash"): amt(t, "-10")},
			mapping.InvoiceOptions{Supplier: "s"}, mapping.CustomerPath},
		{"fee refunds without supplier", day.Totals{day.PaymentFeeRefunds: amt(t, "-1"), day.Tender("Card"): amt(t, "1")},
			mapping.InvoiceOptions{Customer: "c"}, mapping.SupplierPath},
		{"fees and fee refunds without supplier", day.Totals{day.PaymentFees: amt(t, "3"), day.PaymentFeeRefunds: amt(t, "-1"), day.Tender("Card"): amt(t, "-2")},
			mapping.InvoiceOptions{Customer: "c"}, mapping.SupplierPath},
		{"fee refunds into a bank without supplier", day.Totals{day.PaymentFeeRefunds: amt(t, "-1"), day.Tender("Card"): amt(t, "1")},
			mapping.InvoiceOptions{Customer: "c", IsBank: func(id string) bool { return id == "payments-card-id" }}, ""},
		{"transfers without either", day.Totals{day.Unsettled: amt(t, "-10"), day.Tender("Cash"): amt(t, "10")},
			mapping.InvoiceOptions{}, ""},
		{"fees without either, clearing a bank", day.Totals{day.PaymentFees: amt(t, "1"), day.Tender("Card"): amt(t, "-1")},
			mapping.InvoiceOptions{IsBank: func(id string) bool { return id == "payments-card-id" }}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := mapping.Invoices(summary(t, header("GBP", 1), c.totals), accts, c.opts)
			if c.field == "" {
				if err != nil || len(docs) == 0 {
					t.Fatalf("plan %v, err %v", docTypes(docs), err)
				}
				return
			}
			var merr *mapping.Error
			if !errors.As(err, &merr) || merr.Field != c.field || !strings.Contains(merr.Message, c.field) {
				t.Fatalf("plan %v, err %v; want an error naming %s", docTypes(docs), err, c.field)
			}
		})
	}
}

// The clearing account is bound only for a day that moves money through
// it: fees, fee refunds or payouts.
func TestInvoicesBindClearingOnlyWhenUsed(t *testing.T) {
	accts := fullAccounts()
	delete(accts["payments"], "card")
	accts.set("payments", "payout")
	if _, err := mapping.Invoices(summary(t, header("GBP", 1), day.Totals{day.Sales: amt(t, "-10"), day.Tender("Cash"): amt(t, "10")}), accts, invoiceOpts); err != nil {
		t.Fatalf("a day of cash sales needs no clearing account: %v", err)
	}
	for _, tot := range []day.Totals{
		{day.PaymentFees: amt(t, "1"), day.Tender("Cash"): amt(t, "-1")},
		{day.PaymentFeeRefunds: amt(t, "-1"), day.Tender("Cash"): amt(t, "1")},
		{day.Payouts: amt(t, "5"), day.Tender("Cash"): amt(t, "-5")},
	} {
		_, err := mapping.Invoices(summary(t, header("GBP", 1), tot), accts, invoiceOpts)
		var merr *mapping.Error
		if !errors.As(err, &merr) || merr.Field != "configuration.payments.accounts.payoutClearing.selectedAccountId" {
			t.Errorf("%v: err %v, want the clearing account named", tot, err)
		}
	}
}

func TestInvoicesUnknownCurrency(t *testing.T) {
	s := summary(t, header("ZZZ", 1), day.Totals{day.Sales: amt(t, "-1"), day.Tender("Cash"): amt(t, "1")})
	_, err := mapping.Invoices(s, fullAccounts(), invoiceOpts)
	var merr *mapping.Error
	if !errors.As(err, &merr) || merr.Field != "currency" || !strings.Contains(merr.Message, "ZZZ") {
		t.Fatalf("err = %v, want a *mapping.Error on currency naming ZZZ", err)
	}
}

// What each document does to each account, debit positive, with the
// control accounts standing in for the platform's receivable and payable.
func TestMovementsOfEveryDocumentType(t *testing.T) {
	acct := func(id string, a string) mapping.Line {
		return mapping.Line{Account: mapping.Binding{AccountID: id}, Amount: amt(t, a)}
	}
	lines := []mapping.Line{acct("a", "7"), acct("b", "3")}
	money10 := acct("bank", "10")
	for _, c := range []struct {
		doc  mapping.Document
		want string
	}{
		{mapping.Document{Type: mapping.TypeSalesInvoice, Lines: lines}, "a -7.00, b -3.00, @receivable 10.00"},
		{mapping.Document{Type: mapping.TypeSalesCreditNote, Lines: lines}, "a 7.00, b 3.00, @receivable -10.00"},
		{mapping.Document{Type: mapping.TypePayment, Money: money10}, "bank 10.00, @receivable -10.00"},
		{mapping.Document{Type: mapping.TypeRefund, Money: money10}, "bank -10.00, @receivable 10.00"},
		{mapping.Document{Type: mapping.TypeCreditAllocation, Money: mapping.Line{Amount: amt(t, "10")}}, ""},
		{mapping.Document{Type: mapping.TypeBill, Lines: lines}, "a 7.00, b 3.00, @payable -10.00"},
		{mapping.Document{Type: mapping.TypeBillCreditNote, Lines: lines}, "a -7.00, b -3.00, @payable 10.00"},
		{mapping.Document{Type: mapping.TypeBillPayment, Money: money10}, "@payable 10.00, bank -10.00"},
		{mapping.Document{Type: mapping.TypeBillRefund, Money: money10}, "@payable -10.00, bank 10.00"},
		{mapping.Document{Type: mapping.TypeSpendMoney, Lines: lines, Money: money10}, "a 7.00, b 3.00, bank -10.00"},
		{mapping.Document{Type: mapping.TypeReceiveMoney, Lines: lines, Money: money10}, "a -7.00, b -3.00, bank 10.00"},
		{mapping.Document{Type: mapping.TypeTransfer, Money: money10, To: acct("till", "10")}, "bank -10.00, till 10.00"},
		{mapping.Document{Type: mapping.TypeJournal, Lines: []mapping.Line{acct("a", "5"), acct("b", "-5")}}, "a 5.00, b -5.00"},
	} {
		var got []string
		for _, l := range c.doc.Movements() {
			got = append(got, l.Account.AccountID+" "+l.Amount.String())
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("%s moves %s, want %s", c.doc.Type, strings.Join(got, ", "), c.want)
		}
	}
	// Movements never writes into the document's own lines.
	inv := mapping.Document{Type: mapping.TypeSalesInvoice, Lines: lines}
	inv.Movements()
	if lines[0].Amount != amt(t, "7") {
		t.Fatalf("Movements changed the invoice's line to %s", lines[0].Amount)
	}
}
