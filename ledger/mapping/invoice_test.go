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
