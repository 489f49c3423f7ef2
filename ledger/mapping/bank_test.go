package mapping_test

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

// Over random balanced days where any payment type or the payout account
// may be a bank account, moving the bank lines out of the journal keeps
// every account's movement, leaves no bank account on a journal, and makes
// every bank transaction positive and balanced.
func TestMoveBankLinesProperty(t *testing.T) {
	semantic := []day.Account{day.Sales, day.Tax, day.Gratuity, day.PaymentFees, day.PaymentFeeRefunds, day.Payouts,
		day.Tender("Card"), day.Tender("Cash"), day.Tender("Paypal")}
	rapid.Check(t, func(t *rapid.T) {
		tot := day.Totals{}
		var sum money.Amount
		for _, a := range semantic {
			if rapid.Bool().Draw(t, "use "+string(a)) {
				v := money.FromMinor(rapid.Int64Range(-1e6, 1e6).Draw(t, "minor "+string(a)), 2)
				tot[a] = v
				sum += v
			}
		}
		tot[day.Unsettled] -= sum
		s, err := day.NewSummary(header("GBP", 1), tot)
		if err != nil {
			t.Fatal(err)
		}
		accts := fullAccounts()
		accts.set("payments", "payout")
		bank := map[string]bool{}
		for _, k := range []string{"cash", "paypal", "payout", "unsettled"} {
			if rapid.Bool().Draw(t, "bank "+k) {
				bank[accts["payments"][k].AccountID] = true
			}
		}
		plan, err := mapping.Journal(s, accts)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := mapping.MoveBankLines(plan[0], s.ID, func(id string) bool { return bank[id] }, "provider")
		if err != nil {
			t.Fatalf("MoveBankLines: %v", err)
		}
		for i, d := range docs {
			if d.Index != i || d.DocumentID != mapping.DocumentID(s.ID, i) {
				t.Fatalf("document %d has index %d id %s", i, d.Index, d.DocumentID)
			}
			var lines money.Amount
			for _, l := range d.Document.Lines {
				if bank[l.Account.AccountID] {
					t.Fatalf("document %d (%s) has a line on bank account %s", i, d.Document.Type, l.Account.AccountID)
				}
				lines += l.Amount
			}
			switch d.Document.Type {
			case mapping.TypeJournal:
				if i != 0 || lines != 0 || len(d.Document.Lines) == 1 || (len(d.Document.Lines) == 0 && len(docs) > 1) {
					t.Fatalf("journal at %d with %d lines summing to %s", i, len(d.Document.Lines), lines)
				}
			case mapping.TypeReceiveMoney, mapping.TypeSpendMoney:
				if lines != d.Document.Money.Amount || lines <= 0 || !bank[d.Document.Money.Account.AccountID] || d.Document.Contact != "provider" {
					t.Fatalf("%s of %s on %s with lines of %s", d.Document.Type, d.Document.Money.Amount, d.Document.Money.Account.AccountID, lines)
				}
				for _, l := range d.Document.Lines {
					if l.Amount <= 0 {
						t.Fatalf("%s has a line of %s", d.Document.Type, l.Amount)
					}
				}
			case mapping.TypeTransfer:
				m := d.Document.Money
				if m.Amount <= 0 || d.Document.To.Amount != m.Amount || !bank[m.Account.AccountID] || !bank[d.Document.To.Account.AccountID] ||
					m.Account.AccountID == d.Document.To.Account.AccountID {
					t.Fatalf("transfer of %s from %s to %s", m.Amount, m.Account.AccountID, d.Document.To.Account.AccountID)
				}
			default:
				t.Fatalf("unexpected %s", d.Document.Type)
			}
		}
		got, want := perAccount(docs), perAccount(plan)
		if len(got) != len(want) {
			t.Fatalf("accounts moved %v, the journal moves %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("account %s moves %s, the journal %s", k, got[k], v)
			}
		}
	})
}

func TestMoveBankLinesNeedsAContact(t *testing.T) {
	accts := fullAccounts()
	accts.set("payments", "payout")
	s := summary(t, header("GBP", 1), day.Totals{day.Payouts: amt(t, "250"), day.Tender("Card"): amt(t, "-250")})
	plan, _ := mapping.Journal(s, accts)
	payout := accts["payments"]["payout"].AccountID
	_, err := mapping.MoveBankLines(plan[0], s.ID, func(id string) bool { return id == payout }, "")
	var merr *mapping.Error
	if !errors.As(err, &merr) || merr.Field != mapping.CustomerPath || !strings.Contains(merr.Message, "cannot post to bank accounts") {
		t.Fatalf("err = %v", err)
	}
	docs, err := mapping.MoveBankLines(plan[0], s.ID, func(id string) bool { return id == payout }, "provider")
	if err != nil || len(docs) != 1 || docs[0].Document.Type != mapping.TypeReceiveMoney || docs[0].Document.Money.Amount != amt(t, "250") {
		t.Fatalf("a payout alone is one receive money into the bank: %+v, %v", docs, err)
	}
}
