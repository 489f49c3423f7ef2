package mapping_test

import (
	"testing"
	"time"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

// codatChart maps Codat's account-type keys to the account names of the
// journal-entry examples in reference §3.3.
type codatChart map[string]string

func (c codatChart) Account(section, key string) (mapping.Binding, bool) {
	name, ok := c[section+"/"+key]
	return mapping.Binding{AccountID: name, Code: name, Name: name}, ok
}

var chart = codatChart{
	"sales/sales": "Sales", "sales/tax": "VAT", "sales/gratuity": "Gratuities",
	"payments/cash": "Cash", "payments/invoice": "AR", "payments/unsettled": "Unsettled",
	"fees/paymentFee": "Payment Fee Expense", "fees/paymentFeeRefund": "Payment Fee Refunds",
}

func m(s string) money.Amount {
	a, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

func post(t *testing.T, tot day.Totals) func([]day.Posting, error) {
	return func(ps []day.Posting, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := tot.Apply(ps, 1); err != nil {
			t.Fatal(err)
		}
	}
}

func order(total, tax, gratuity, discount string) day.OrderFacts {
	return day.OrderFacts{Total: m(total), Tax: m(tax), Gratuity: m(gratuity), Unit: m("0.01"),
		Lines: []day.OrderLine{{Total: m(total), Tax: m(tax), Discount: m(discount), Taxes: []day.TaxPart{{Key: "vat", Amount: m(tax)}}}}}
}

// TestCodatJournalExamples reproduces every journal-entry example of
// reference §3.3 from orders, payments and fee transactions, through the
// daily summary and the journal plan, to the penny.
func TestCodatJournalExamples(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T, tot day.Totals)
		want  map[string]string // account → signed amount: + debit, − credit
	}{
		{"cash sales: orders 1000, tax 200, tips 50", func(t *testing.T, tot day.Totals) {
			post(t, tot)(day.OrderPostings(order("1200", "200", "50", "0")))
			post(t, tot)(day.PaymentPostings(day.PaymentFacts{Type: "Cash", Status: "Paid", Amount: m("1250")}))
		}, map[string]string{"Cash": "1250.00", "Sales": "-1000.00", "Gratuities": "-50.00", "VAT": "-200.00"}},
		{"AR / BNPL sale: order 5500, discount 500, tax 1000", func(t *testing.T, tot day.Totals) {
			post(t, tot)(day.OrderPostings(order("6000", "1000", "0", "500")))
			post(t, tot)(day.PaymentPostings(day.PaymentFacts{Type: "Invoice", Status: "Paid", Amount: m("6000")}))
		}, map[string]string{"AR": "6000.00", "Sales": "-5000.00", "VAT": "-1000.00"}},
		{"cash refund: 100 + 20 tax", func(t *testing.T, tot day.Totals) {
			post(t, tot)(day.OrderPostings(order("-120", "-20", "0", "0")))
			post(t, tot)(day.PaymentPostings(day.PaymentFacts{Type: "Cash", Status: "Paid", Amount: m("-120")}))
		}, map[string]string{"Sales": "100.00", "VAT": "20.00", "Cash": "-120.00"}},
		{"credit-note refund: 200 + 40 tax", func(t *testing.T, tot day.Totals) {
			post(t, tot)(day.OrderPostings(order("-240", "-40", "0", "0")))
			post(t, tot)(day.PaymentPostings(day.PaymentFacts{Type: "Invoice", Status: "Paid", Amount: m("-240")}))
		}, map[string]string{"Sales": "200.00", "VAT": "40.00", "AR": "-240.00"}},
		{"daily aggregate with fee 60 and fee refund 30", func(t *testing.T, tot day.Totals) {
			post(t, tot)(day.OrderPostings(order("1200", "200", "50", "0")))
			post(t, tot)(day.PaymentPostings(day.PaymentFacts{Type: "Cash", Status: "Paid", Amount: m("1250")}))
			post(t, tot)(day.TransactionPostings(day.TransactionFacts{Type: "PaymentFee", TenderType: "Cash", Amount: m("-60")}))
			post(t, tot)(day.TransactionPostings(day.TransactionFacts{Type: "PaymentFeeRefund", TenderType: "Cash", Amount: m("30")}))
		}, map[string]string{"Cash": "1220.00", "Payment Fee Expense": "60.00", "Sales": "-1000.00", "Gratuities": "-50.00",
			"VAT": "-200.00", "Payment Fee Refunds": "-30.00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tot := day.Totals{}
			c.build(t, tot)
			s, err := day.NewSummary(day.Header{CompanyID: "c", Day: "2026-03-10", Currency: "GBP", Revision: 1,
				Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}, tot)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := mapping.Journal(s, chart)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, l := range plan[0].Document.Lines {
				got[l.Account.Name] = l.Amount.String()
			}
			if len(got) != len(c.want) {
				t.Errorf("journal %v, want %v", got, c.want)
			}
			for acct, w := range c.want {
				if got[acct] != w {
					t.Errorf("%s = %q, want %s (journal %v)", acct, got[acct], w, got)
				}
			}
		})
	}
}
