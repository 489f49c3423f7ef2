package main

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/pipeline/loadgen"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// expectedBooks works out, from what loadgen sent for merchant i, what the
// company's ledger must hold across all its days and revisions, by group
// of semantic accounts (debit positive): the records' last versions, less
// those deleted, posted by the day rules (ledger/day/doc.go), worked out
// here on their own.
func expectedBooks(t *testing.T, spec loadgen.Spec, i int) map[string]decimal.Decimal {
	t.Helper()
	m := spec.Merchant(i)
	orders := map[string]*v1.Order{}
	payments := map[string]*v1.Payment{}
	txns := map[string]*v1.Transaction{}
	apply := func(r loadgen.Records) {
		for _, o := range r.Orders {
			orders[o.GetId()] = o
		}
		for _, p := range r.Payments {
			payments[p.GetId()] = p
		}
		for _, x := range r.Transactions {
			txns[x.GetType()+"/"+x.GetId()] = x
		}
		for _, d := range r.Deletes {
			switch d.Kind {
			case v1.RecordKind_RECORD_KIND_ORDER:
				delete(orders, d.ID)
			case v1.RecordKind_RECORD_KIND_PAYMENT:
				delete(payments, d.ID)
			case v1.RecordKind_RECORD_KIND_TRANSACTION:
				for k := range txns {
					if strings.HasSuffix(k, "/"+d.ID) {
						delete(txns, k)
					}
				}
			}
		}
	}
	for d := range spec.Days {
		day := spec.Day(m, d)
		apply(day.On)
		apply(day.Late)
	}
	dec := func(s string) decimal.Decimal {
		v, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return v
	}
	out := map[string]decimal.Decimal{}
	add := func(account string, v decimal.Decimal) { out[account] = out[account].Add(v) }
	for _, o := range orders {
		add("unsettled", dec(o.GetTotalAmount()))
		for _, l := range o.GetOrderLineItems() {
			net := dec(l.GetTotalAmount()).Sub(dec(l.GetTotalTaxAmount()))
			if net.IsNegative() {
				add("refunds", net.Neg())
			} else {
				add("sales", net.Neg())
			}
			add("tax", dec(l.GetTotalTaxAmount()).Neg())
		}
	}
	for _, p := range payments {
		add("tender:"+p.GetType(), dec(p.GetAmount()))
		add("unsettled", dec(p.GetAmount()).Neg())
	}
	for _, x := range txns {
		switch x.GetType() {
		case "PaymentFee":
			add("payment_fees", dec(x.GetTotalAmount()).Neg())
			add("tender:Card", dec(x.GetTotalAmount()))
		case "Payout":
			add("payouts", dec(x.GetTotalAmount()))
			add("tender:Card", dec(x.GetTotalAmount()).Neg())
		}
	}
	return out
}

// ledgerBooks sums a company's ledger lines over every day and revision,
// by the groups expectedBooks uses: the tax accounts as one, and the card
// tender with the payout clearing a payout posts to while its payments'
// type is not yet known.
func ledgerBooks(days ledgerDays) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for _, d := range days.Days {
		for _, l := range d.Lines {
			account := l.Account
			switch {
			case strings.HasPrefix(account, "tax"):
				account = "tax"
			case account == "payout_clearing":
				account = "tender:Card"
			}
			v := decimal.Zero
			if l.Debit != "" {
				v = v.Add(decimal.RequireFromString(l.Debit))
			}
			if l.Credit != "" {
				v = v.Sub(decimal.RequireFromString(l.Credit))
			}
			out[account] = out[account].Add(v)
		}
	}
	return out
}

// sameBooks says how two books differ, account by account ("" for none).
func sameBooks(want, got map[string]decimal.Decimal) string {
	var diffs []string
	seen := map[string]bool{}
	for a, w := range want {
		seen[a] = true
		if !w.Equal(got[a]) {
			diffs = append(diffs, a+": want "+w.String()+", ledger "+got[a].String())
		}
	}
	for a, g := range got {
		if !seen[a] && !g.IsZero() {
			diffs = append(diffs, a+": want 0, ledger "+g.String())
		}
	}
	return strings.Join(diffs, "; ")
}
