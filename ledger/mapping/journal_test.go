package mapping_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
)

// TestMain keeps rapid from writing fail files into the source tree; a
// failure still prints the seed that reproduces it (-rapid.seed=...).
func TestMain(m *testing.M) {
	_ = flag.Set("rapid.nofailfile", "true")
	os.Exit(m.Run())
}

// accounts is a merchant's configured account map: section → key → binding,
// the shape of Codat's configuration.<section>.accounts.
type accounts map[string]map[string]mapping.Binding

func (a accounts) Account(section, key string) (mapping.Binding, bool) {
	b, ok := a[section][key]
	return b, ok
}

func (a accounts) set(section, key string) {
	if a[section] == nil {
		a[section] = map[string]mapping.Binding{}
	}
	a[section][key] = mapping.Binding{AccountID: section + "-" + key + "-id", Code: "C-" + key, Name: section + " " + key}
}

// fullAccounts maps every slot the tests use.
func fullAccounts() accounts {
	a := accounts{}
	for _, k := range []string{"sales", "tax", "gratuity"} {
		a.set("sales", k)
	}
	for _, k := range []string{"card", "cash", "onlineCard", "storeCredit", "paypal", "unknown", "unsettled"} {
		a.set("payments", k)
	}
	for _, k := range []string{"paymentFee", "paymentFeeRefund"} {
		a.set("fees", k)
	}
	return a
}

func header(currency string, revision int) day.Header {
	return day.Header{
		CompanyID: "co-7f3a", TenantID: "tenant-1", Day: "2026-03-29", Currency: currency, Revision: revision,
		Zone: "Europe/London", CutoffHour: 4, SealedBy: "watermark", ConfigVersion: 3, RecordCount: 4,
	}
}

func amt(t testing.TB, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return a
}

func summary(t testing.TB, h day.Header, tot day.Totals) day.Summary {
	t.Helper()
	s, err := day.NewSummary(h, tot)
	if err != nil {
		t.Fatalf("NewSummary: %v", err)
	}
	return s
}

// cashDay is a balanced GBP day: an order of 1200 (200 tax) with 50
// gratuity, paid 1100 by card and 150 in cash, with a 1.49 card fee.
func cashDay(t testing.TB, currency string, revision int) day.Summary {
	return summary(t, header(currency, revision), day.Totals{
		day.Sales:          amt(t, "-1000"),
		day.Tax:            amt(t, "-200"),
		day.Gratuity:       amt(t, "-50"),
		day.Tender("Card"): amt(t, "1098.51"),
		day.Tender("Cash"): amt(t, "150"),
		day.PaymentFees:    amt(t, "1.49"),
	})
}

// ---------------------------------------------------------------------------
// SlotOf

func TestSlotOf(t *testing.T) {
	cases := []struct {
		account day.Account
		section string
		key     string
	}{
		{day.Sales, "sales", "sales"},
		{day.Tax, "sales", "tax"},
		{day.Gratuity, "sales", "gratuity"},
		{day.Tender("Card"), "payments", "card"},
		{day.Tender("Cash"), "payments", "cash"},
		{day.Tender("OnlineCard"), "payments", "onlineCard"},
		{day.Tender("StoreCredit"), "payments", "storeCredit"},
		{day.Tender(" Paypal "), "payments", "paypal"},
		{day.Tender(""), "payments", "unknown"},
		{day.Unsettled, "payments", "unsettled"},
		{day.PaymentFees, "fees", "paymentFee"},
		{day.PaymentFeeRefunds, "fees", "paymentFeeRefund"},
		{day.Discounts, "sales", "discounts"},
		{day.Refunds, "sales", "refund"},
		{day.ServiceCharges, "sales", "serviceCharges"},
		{day.Shipping, "sales", "shipping"},
		{day.GiftCards, "sales", "prepaid"},
		{day.Rounding, "sales", "rounding"},
		{day.SalesIn("drinks"), "sales", "category:drinks"},
		{day.TaxOn("vat"), "sales", "tax:vat"},
		{day.TaxOn("rate:20"), "sales", "tax:rate:20"},
	}
	for _, c := range cases {
		s, err := mapping.SlotOf(c.account)
		if err != nil {
			t.Errorf("SlotOf(%q): %v", c.account, err)
			continue
		}
		if s.Section != c.section || s.Key != c.key {
			t.Errorf("SlotOf(%q) = %s.%s, want %s.%s", c.account, s.Section, s.Key, c.section, c.key)
		}
		if s.Label == "" {
			t.Errorf("SlotOf(%q) has no label", c.account)
		}
		want := fmt.Sprintf("configuration.%s.accounts.%s.selectedAccountId", c.section, c.key)
		if s.Path() != want {
			t.Errorf("SlotOf(%q).Path() = %q, want %q", c.account, s.Path(), want)
		}
	}
	for _, a := range []day.Account{"refund", "", "Sales", "discount", "sales:", "tax:"} {
		if s, err := mapping.SlotOf(a); err == nil {
			t.Errorf("SlotOf(%q) = %+v, want an error", a, s)
		}
	}
}

// A payment type that starts with a non-ASCII letter must lower-case that
// letter, not cut its UTF-8 encoding in half.
func TestSlotOfNonASCIITender(t *testing.T) {
	for typ, want := range map[string]string{"Éfectivo": "éfectivo", "Überweisung": "überweisung", "Ökonto": "ökonto"} {
		s, err := mapping.SlotOf(day.Tender(typ))
		if err != nil {
			t.Errorf("SlotOf(Tender(%q)): %v", typ, err)
			continue
		}
		if !utf8.ValidString(s.Key) || s.Key != want {
			t.Errorf("SlotOf(Tender(%q)).Key = %q (valid UTF-8: %v), want %q", typ, s.Key, utf8.ValidString(s.Key), want)
		}
	}
}

// A tender account with no type (it can arrive from a stored summary) is an
// error, not a panic that takes the planner down.
func TestSlotOfEmptyTenderType(t *testing.T) {
	var (
		s   mapping.Slot
		err error
	)
	panicked := func() (p any) {
		defer func() { p = recover() }()
		s, err = mapping.SlotOf(day.Account("tender:"))
		return nil
	}()
	if panicked != nil {
		t.Fatalf(`SlotOf("tender:") panicked: %v`, panicked)
	}
	if err == nil {
		t.Errorf(`SlotOf("tender:") = %+v, want an error`, s)
	}
}

// ---------------------------------------------------------------------------
// Journal

func TestJournalBindsEverySemanticAccount(t *testing.T) {
	s := cashDay(t, "GBP", 1)
	accts := fullAccounts()
	plan, err := mapping.Journal(s, accts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 {
		t.Fatalf("planned %d documents, want 1", len(plan))
	}
	doc := plan[0].Document
	if doc.Type != "ManualJournal" || doc.Date != "2026-03-29" || doc.Currency != "GBP" {
		t.Errorf("document = %s %s %s", doc.Type, doc.Date, doc.Currency)
	}
	want := map[day.Account]struct {
		key    string
		amount string
	}{
		day.Sales:          {"sales", "-1000"},
		day.Tax:            {"tax", "-200"},
		day.Gratuity:       {"gratuity", "-50"},
		day.Tender("Card"): {"card", "1098.51"},
		day.Tender("Cash"): {"cash", "150"},
		day.PaymentFees:    {"paymentFee", "1.49"},
	}
	if len(doc.Lines) != len(want) {
		t.Fatalf("lines = %+v, want %d lines", doc.Lines, len(want))
	}
	for _, l := range doc.Lines {
		w, ok := want[l.Semantic]
		if !ok {
			t.Errorf("unexpected line %+v", l)
			continue
		}
		slot, _ := mapping.SlotOf(l.Semantic)
		if b, _ := accts.Account(slot.Section, w.key); l.Account != b {
			t.Errorf("line %s bound to %+v, want %+v", l.Semantic, l.Account, b)
		}
		if l.Amount != amt(t, w.amount) {
			t.Errorf("line %s amount %s, want %s", l.Semantic, l.Amount, w.amount)
		}
		if l.Description != slot.Label {
			t.Errorf("line %s description %q, want %q", l.Semantic, l.Description, slot.Label)
		}
	}
	if !sort.SliceIsSorted(doc.Lines, func(i, j int) bool { return doc.Lines[i].Semantic < doc.Lines[j].Semantic }) {
		t.Errorf("lines are not in semantic-account order: %+v", doc.Lines)
	}
}

// Property: for any balanced summary, in any currency, whose amounts fit the
// currency, the journal has one line per summary line bound to that line's
// configured account, carries the line's net amount, and balances to zero.
func TestJournalBalancesProperty(t *testing.T) {
	currencies := []string{"GBP", "JPY", "BHD", "CLF", "USD"}
	semantic := []day.Account{
		day.Sales, day.Tax, day.Gratuity, day.PaymentFees, day.PaymentFeeRefunds,
		day.Tender("Card"), day.Tender("Cash"), day.Tender("OnlineCard"), day.Tender("StoreCredit"), day.Tender("Paypal"),
	}
	accts := fullAccounts()
	rapid.Check(t, func(t *rapid.T) {
		cur := rapid.SampledFrom(currencies).Draw(t, "currency")
		dp, _ := money.MinorUnits(cur)
		tot := day.Totals{}
		var sum money.Amount
		for _, a := range semantic {
			if !rapid.Bool().Draw(t, "use "+string(a)) {
				continue
			}
			v := money.FromMinor(rapid.Int64Range(-1e9, 1e9).Draw(t, "minor "+string(a)), dp)
			if v == 0 {
				continue
			}
			tot[a] = v
			sum += v
		}
		if sum != 0 {
			tot[day.Unsettled] = -sum // unsettled balances the day, as in the ledger
		}
		rev := rapid.IntRange(1, 5).Draw(t, "revision")
		s, err := day.NewSummary(header(cur, rev), tot)
		if err != nil {
			t.Fatalf("NewSummary: %v", err)
		}
		plan, err := mapping.Journal(s, accts)
		if err != nil {
			t.Fatalf("Journal: %v", err)
		}
		if len(plan) != 1 || plan[0].Index != 0 {
			t.Fatalf("plan = %+v, want one document at index 0", plan)
		}
		lines := plan[0].Document.Lines
		if len(lines) != len(s.Lines) {
			t.Fatalf("%d journal lines for %d summary lines", len(lines), len(s.Lines))
		}
		net := map[day.Account]money.Amount{}
		for _, l := range s.Lines {
			net[l.Account] = l.Debit - l.Credit
		}
		var total money.Amount
		for _, l := range lines {
			if l.Amount != net[l.Semantic] {
				t.Fatalf("line %s = %s, summary nets %s", l.Semantic, l.Amount, net[l.Semantic])
			}
			slot, err := mapping.SlotOf(l.Semantic)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := accts.Account(slot.Section, slot.Key); l.Account != b {
				t.Fatalf("line %s bound to %+v, want %+v", l.Semantic, l.Account, b)
			}
			if _, err := l.Amount.Fixed(dp); err != nil {
				t.Fatalf("line %s: %v", l.Semantic, err)
			}
			if total, err = total.Add(l.Amount); err != nil {
				t.Fatal(err)
			}
			delete(net, l.Semantic)
		}
		if total != 0 {
			t.Fatalf("journal does not balance: lines sum to %s", total)
		}
		if len(net) != 0 {
			t.Fatalf("summary lines without a journal line: %v", net)
		}
		if plan[0].DocumentID != mapping.DocumentID(s.ID, 0) || plan[0].Reference != mapping.Reference(plan[0].DocumentID) {
			t.Fatalf("identity %s/%s is not DocumentID(summary, 0)", plan[0].DocumentID, plan[0].Reference)
		}
	})
}

func TestJournalMissingMappings(t *testing.T) {
	s := cashDay(t, "GBP", 1)
	accts := fullAccounts()
	delete(accts["payments"], "card")
	delete(accts["sales"], "tax")
	accts["fees"]["paymentFee"] = mapping.Binding{} // selected, but no account id
	_, err := mapping.Journal(s, accts)
	var merr *mapping.Error
	if !errors.As(err, &merr) {
		t.Fatalf("err = %v (%T), want *mapping.Error", err, err)
	}
	missing := []day.Account{day.Tender("Card"), day.Tax, day.PaymentFees}
	for _, a := range missing {
		slot, _ := mapping.SlotOf(a)
		if n := strings.Count(merr.Message, slot.Path()); n != 1 {
			t.Errorf("message names %s %d times, want once: %q", slot.Path(), n, merr.Message)
		}
		if !strings.Contains(merr.Message, slot.Label) {
			t.Errorf("message does not name %q: %q", slot.Label, merr.Message)
		}
	}
	for _, a := range []day.Account{day.Sales, day.Gratuity, day.Tender("Cash")} {
		slot, _ := mapping.SlotOf(a)
		if strings.Contains(merr.Message, slot.Path()) {
			t.Errorf("message names mapped slot %s: %q", slot.Path(), merr.Message)
		}
	}
	// Field is the first slot the message lists, so the UI points at the
	// field the merchant reads first.
	paths := regexp.MustCompile(`configuration\.[a-z]+\.accounts\.[A-Za-z]+\.selectedAccountId`).FindAllString(merr.Message, -1)
	if len(paths) != len(missing) {
		t.Fatalf("message lists %d paths, want %d: %q", len(paths), len(missing), merr.Message)
	}
	if merr.Field != paths[0] {
		t.Errorf("Field = %q, but the message lists %q first: %q", merr.Field, paths[0], merr.Message)
	}
}

func TestJournalRefusesSubUnitAmounts(t *testing.T) {
	cases := []struct {
		currency string
		amount   string
	}{
		{"JPY", "100.5"},
		{"JPY", "0.01"},
		{"GBP", "10.005"},
		{"BHD", "1.0001"},
	}
	for _, c := range cases {
		s := summary(t, header(c.currency, 1), day.Totals{
			day.Sales:          amt(t, "-"+c.amount),
			day.Tender("Cash"): amt(t, c.amount),
		})
		plan, err := mapping.Journal(s, fullAccounts())
		var merr *mapping.Error
		if !errors.As(err, &merr) {
			t.Errorf("%s %s: plan %+v, err %v; want *mapping.Error", c.amount, c.currency, plan, err)
			continue
		}
		if !strings.Contains(merr.Message, c.currency) || !strings.Contains(merr.Message, "decimal places") {
			t.Errorf("%s %s: message %q does not explain the currency's decimals", c.amount, c.currency, merr.Message)
		}
	}
	// The same amounts fit a currency with enough minor units.
	for _, c := range []struct{ currency, amount string }{{"BHD", "10.005"}, {"CLF", "1.0001"}, {"JPY", "100"}} {
		s := summary(t, header(c.currency, 1), day.Totals{day.Sales: amt(t, "-"+c.amount), day.Tender("Cash"): amt(t, c.amount)})
		if _, err := mapping.Journal(s, fullAccounts()); err != nil {
			t.Errorf("%s %s: %v", c.amount, c.currency, err)
		}
	}
}

func TestJournalUnknownCurrency(t *testing.T) {
	s := summary(t, header("ZZZ", 1), day.Totals{day.Sales: amt(t, "-1"), day.Tender("Cash"): amt(t, "1")})
	_, err := mapping.Journal(s, fullAccounts())
	var merr *mapping.Error
	if !errors.As(err, &merr) || merr.Field != "currency" || !strings.Contains(merr.Message, "ZZZ") {
		t.Fatalf("err = %v, want a *mapping.Error on currency naming ZZZ", err)
	}
}

func TestJournalNarration(t *testing.T) {
	first, err := mapping.Journal(cashDay(t, "GBP", 1), fullAccounts())
	if err != nil {
		t.Fatal(err)
	}
	if n := first[0].Document.Narration; strings.Contains(n, "Adjustment") || !strings.Contains(n, "2026-03-29") || !strings.Contains(n, "GBP") {
		t.Errorf("revision 1 narration = %q", n)
	}
	for rev := 2; rev <= 4; rev++ {
		adj, err := mapping.Journal(cashDay(t, "GBP", rev), fullAccounts())
		if err != nil {
			t.Fatal(err)
		}
		n := adj[0].Document.Narration
		if !strings.HasPrefix(n, fmt.Sprintf("Adjustment %d ", rev-1)) || !strings.Contains(n, "2026-03-29") {
			t.Errorf("revision %d narration = %q, want an adjustment of that day", rev, n)
		}
	}
}

// ---------------------------------------------------------------------------
// Identity

var referenceForm = regexp.MustCompile(`^CS-[0-9A-F]{20}$`)

func TestJournalIdentityIsDeterministicAndDistinct(t *testing.T) {
	a1, err := mapping.Journal(cashDay(t, "GBP", 1), fullAccounts())
	if err != nil {
		t.Fatal(err)
	}
	a2, err := mapping.Journal(cashDay(t, "GBP", 1), fullAccounts())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a1, a2) {
		t.Errorf("two plans of one summary differ:\n%+v\n%+v", a1, a2)
	}
	seen := map[string]string{}
	for _, cur := range []string{"GBP", "EUR"} {
		for rev := 1; rev <= 3; rev++ {
			p, err := mapping.Journal(cashDay(t, cur, rev), fullAccounts())
			if err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("%s rev %d", cur, rev)
			for _, id := range []string{p[0].DocumentID, p[0].Reference} {
				if prev, dup := seen[id]; dup {
					t.Errorf("%s and %s share identity %s", prev, what, id)
				}
				seen[id] = what
			}
			if !referenceForm.MatchString(p[0].Reference) {
				t.Errorf("%s: reference %q is not CS- and 20 upper-case hex digits", what, p[0].Reference)
			}
		}
	}
}

// Property: DocumentID and Reference are functions of (summary, index),
// distinct for distinct inputs, and the reference fits every platform's
// 23-character field.
func TestDocumentIDProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sumA := rapid.StringMatching(`[0-9a-f]{32}`).Draw(t, "summaryA")
		sumB := rapid.OneOf(rapid.Just(sumA), rapid.StringMatching(`[0-9a-f]{32}`)).Draw(t, "summaryB")
		iA := rapid.IntRange(0, 50).Draw(t, "indexA")
		iB := rapid.OneOf(rapid.Just(iA), rapid.IntRange(0, 50)).Draw(t, "indexB")
		idA, idB := mapping.DocumentID(sumA, iA), mapping.DocumentID(sumB, iB)
		if idA != mapping.DocumentID(sumA, iA) {
			t.Fatal("DocumentID is not deterministic")
		}
		refA, refB := mapping.Reference(idA), mapping.Reference(idB)
		same := sumA == sumB && iA == iB
		if (idA == idB) != same || (refA == refB) != same {
			t.Fatalf("(%s,%d)→%s %s and (%s,%d)→%s %s", sumA, iA, idA, refA, sumB, iB, idB, refB)
		}
		if len(refA) > 23 || !referenceForm.MatchString(refA) {
			t.Fatalf("reference %q", refA)
		}
	})
}

// ---------------------------------------------------------------------------
// Fallback chains, merging and zero-net days

// only maps exactly the given "section/key" slots.
func only(keys ...string) accounts {
	a := accounts{}
	for _, k := range keys {
		section, key, _ := strings.Cut(k, "/")
		a.set(section, key)
	}
	return a
}

// journalLines renders a journal's lines as "account amount description",
// in the journal's order.
func journalLines(t *testing.T, plan []mapping.Planned) string {
	t.Helper()
	if len(plan) != 1 || plan[0].Document.Type != mapping.TypeJournal {
		t.Fatalf("plan %+v, want one journal", plan)
	}
	var b strings.Builder
	for _, l := range plan[0].Document.Lines {
		fmt.Fprintf(&b, "%s %s %s|", l.Account.AccountID, l.Amount, l.Description)
	}
	return b.String()
}

// Every slot's fallback chain, as the README's Configuration section states
// it: a finer slot that is unmapped (or selected with no account) binds to
// the next key of its chain, and a slot without a chain, or whose chain is
// unmapped too, stops the day naming the slot's own field.
func TestFallbackChainOfEverySlot(t *testing.T) {
	for _, c := range []struct {
		account day.Account
		mapped  []string // besides payments/cash, which balances the day
		want    string   // the key the line binds to; "" for a mapping error
	}{
		{day.TaxOn("vat"), []string{"sales/tax:vat", "sales/tax"}, "tax:vat"},
		{day.TaxOn("vat"), []string{"sales/tax", "sales/sales"}, "tax"},
		{day.TaxOn("vat"), []string{"sales/sales"}, ""},
		{day.TaxOn("rate:20"), []string{"sales/tax"}, "tax"},
		{day.Discounts, []string{"sales/discounts", "sales/sales"}, "discounts"},
		{day.Discounts, []string{"sales/sales"}, "sales"},
		{day.Discounts, []string{"sales/serviceCharges"}, ""},
		{day.Refunds, []string{"sales/refund", "sales/sales"}, "refund"},
		{day.Refunds, []string{"sales/sales"}, "sales"},
		{day.Refunds, nil, ""},
		{day.ServiceCharges, []string{"sales/serviceCharges", "sales/sales"}, "serviceCharges"},
		{day.ServiceCharges, []string{"sales/sales"}, "sales"},
		{day.Shipping, []string{"sales/shipping", "sales/serviceCharges", "sales/sales"}, "shipping"},
		{day.Shipping, []string{"sales/serviceCharges", "sales/sales"}, "serviceCharges"},
		{day.Shipping, []string{"sales/sales"}, "sales"},
		{day.Shipping, []string{"sales/gratuity"}, ""},
		{day.SalesIn("food"), []string{"sales/category:food", "sales/sales"}, "category:food"},
		{day.SalesIn("food"), []string{"sales/sales"}, "sales"},
		{day.PayoutClearing, []string{"payments/payoutClearing", "payments/card"}, "payoutClearing"},
		{day.PayoutClearing, []string{"payments/card"}, "card"},
		{day.PayoutClearing, []string{"payments/unsettled"}, ""},
		// No chain: these never borrow another slot's account.
		{day.Sales, []string{"sales/category:food", "sales/tax"}, ""},
		{day.Tax, []string{"sales/tax:vat", "sales/sales"}, ""},
		{day.Gratuity, []string{"sales/sales"}, ""},
		{day.GiftCards, []string{"sales/sales", "payments/prepaid"}, ""},
		{day.Rounding, []string{"sales/sales"}, ""},
		{day.Unsettled, []string{"payments/card"}, ""},
		{day.Payouts, []string{"payments/card", "payments/payoutClearing"}, ""},
		{day.PaymentFees, []string{"fees/paymentFeeRefund"}, ""},
		{day.PaymentFeeRefunds, []string{"fees/paymentFee"}, ""},
		{day.Tender("Card"), []string{"payments/unknown", "payments/payoutClearing"}, ""},
	} {
		t.Run(fmt.Sprintf("%s with %v", c.account, c.mapped), func(t *testing.T) {
			accts := only(append([]string{"payments/cash"}, c.mapped...)...)
			s := summary(t, header("GBP", 1), day.Totals{c.account: amt(t, "-10"), day.Tender("Cash"): amt(t, "10")})
			slot, err := mapping.SlotOf(c.account)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := mapping.Journal(s, accts)
			if c.want == "" {
				var merr *mapping.Error
				if !errors.As(err, &merr) || merr.Field != slot.Path() || !strings.Contains(merr.Message, slot.Label+" ("+slot.Path()+")") {
					t.Fatalf("plan %+v, err %v; want a mapping error on %s", plan, err, slot.Path())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%s -10.00 %s|payments-cash-id 10.00 Cash payments|", slot.Section+"-"+c.want+"-id", slot.Label)
			if c.account > day.Tender("Cash") {
				want = fmt.Sprintf("payments-cash-id 10.00 Cash payments|%s -10.00 %s|", slot.Section+"-"+c.want+"-id", slot.Label)
			}
			if got := journalLines(t, plan); got != want {
				t.Fatalf("journal %s, want %s", got, want)
			}
		})
	}
}

// A key selected with no account id is as unmapped as a missing key: its
// chain is tried, and the slot's own field is named when the chain ends.
func TestFallbackPastAnEmptySelection(t *testing.T) {
	accts := only("payments/cash", "sales/sales")
	accts["sales"]["shipping"] = mapping.Binding{}
	accts["sales"]["serviceCharges"] = mapping.Binding{Name: "chosen, then deleted"}
	s := summary(t, header("GBP", 1), day.Totals{day.Shipping: amt(t, "-4"), day.Tender("Cash"): amt(t, "4")})
	plan, err := mapping.Journal(s, accts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := journalLines(t, plan), "sales-sales-id -4.00 Shipping|payments-cash-id 4.00 Cash payments|"; got != want {
		t.Fatalf("journal %s, want %s", got, want)
	}
	delete(accts["sales"], "sales")
	_, err = mapping.Journal(s, accts)
	var merr *mapping.Error
	if !errors.As(err, &merr) || merr.Field != "configuration.sales.accounts.shipping.selectedAccountId" {
		t.Fatalf("err = %v, want the shipping slot named", err)
	}
}

// Lines that fall back to one account become one line, described by every
// semantic account on it in account order; tax components mapped to one
// tax account add up.
func TestJournalMergesLinesOnOneAccount(t *testing.T) {
	s := summary(t, header("GBP", 1), day.Totals{
		day.Sales: amt(t, "-1000"), day.Discounts: amt(t, "100"), day.Refunds: amt(t, "50"),
		day.TaxOn("rate:20"): amt(t, "-170"), day.TaxOn("rate:5"): amt(t, "-5"),
		day.Tender("Cash"): amt(t, "1025"),
	})
	plan, err := mapping.Journal(s, only("sales/sales", "sales/tax", "payments/cash"))
	if err != nil {
		t.Fatal(err)
	}
	want := "sales-sales-id -850.00 Discounts, Refunds, Sales|" +
		"sales-tax-id -175.00 Tax at 20%, Tax at 5%|" +
		"payments-cash-id 1025.00 Cash payments|"
	if got := journalLines(t, plan); got != want {
		t.Fatalf("journal\n%s\nwant\n%s", got, want)
	}
}

// A day whose lines cancel on the accounts they bind to (a sale refunded the
// same day, the refund netting on the sales account) is a journal with no
// lines, which the planner completes with nothing posted.
func TestJournalOfAZeroNetDayHasNoLines(t *testing.T) {
	s := summary(t, header("GBP", 1), day.Totals{day.Sales: amt(t, "-100"), day.Refunds: amt(t, "100")})
	plan, err := mapping.Journal(s, only("sales/sales"))
	if err != nil {
		t.Fatal(err)
	}
	if got := journalLines(t, plan); got != "" {
		t.Fatalf("journal lines %s, want none", got)
	}
	// With refunds on their own account both lines stay.
	plan, err = mapping.Journal(s, only("sales/sales", "sales/refund"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := journalLines(t, plan), "sales-refund-id 100.00 Refunds|sales-sales-id -100.00 Sales|"; got != want {
		t.Fatalf("journal %s, want %s", got, want)
	}
}

// The labels a merchant reads in a mapping error and on every journal line.
func TestSlotLabels(t *testing.T) {
	for a, want := range map[day.Account]string{
		day.Sales: "Sales", day.Tax: "Sales tax", day.Gratuity: "Gratuity", day.Discounts: "Discounts",
		day.Refunds: "Refunds", day.ServiceCharges: "Service charges", day.Shipping: "Shipping",
		day.GiftCards: "Gift cards sold", day.Rounding: "Rounding", day.Unsettled: "Unsettled sales",
		day.Payouts: "Payouts", day.PayoutClearing: "Payouts from the provider's balance",
		day.PaymentFees: "Payment fees", day.PaymentFeeRefunds: "Payment fee refunds",
		day.SalesIn("food"): "Sales of category food", day.TaxOn("vat"): "Tax component vat",
		day.TaxOn("rate:12.5"): "Tax at 12.5%", day.Tender("OnlineCard"): "OnlineCard payments",
	} {
		s, err := mapping.SlotOf(a)
		if err != nil || s.Label != want {
			t.Errorf("SlotOf(%q).Label = %q, %v; want %q", a, s.Label, err, want)
		}
	}
}

// One unmapped slot reached twice (invoice mode binds the clearing account
// for a day's clearing line and again to pay its fees) is named once, and
// the slots are listed in alphabetical order of their labels.
func TestMissingSlotsNamedOnceInOrder(t *testing.T) {
	accts := fullAccounts()
	delete(accts["payments"], "card")
	delete(accts["sales"], "gratuity")
	delete(accts["sales"], "tax")
	s := summary(t, header("GBP", 1), day.Totals{
		day.Sales: amt(t, "-100"), day.Gratuity: amt(t, "-5"), day.Tax: amt(t, "-20"), day.PayoutClearing: amt(t, "123"), day.PaymentFees: amt(t, "2"),
	})
	_, err := mapping.Invoices(s, accts, invoiceOpts)
	var merr *mapping.Error
	if !errors.As(err, &merr) {
		t.Fatalf("err = %v", err)
	}
	want := "No account is mapped for Gratuity (configuration.sales.accounts.gratuity.selectedAccountId), " +
		"Payouts from the provider's balance (configuration.payments.accounts.payoutClearing.selectedAccountId), " +
		"Sales tax (configuration.sales.accounts.tax.selectedAccountId). " +
		"Please configure your Sync settings to map these accounts."
	if merr.Message != want || merr.Field != "configuration.sales.accounts.gratuity.selectedAccountId" {
		t.Fatalf("error on %s:\n%s\nwant\n%s", merr.Field, merr.Message, want)
	}
}

// The narration names the day, its currency and location, and a later
// revision as the adjustment it is.
func TestNarrationText(t *testing.T) {
	h := header("GBP", 1)
	if got, want := mapping.Narration(day.Summary{Header: h}), "Daily sales summary 2026-03-29 GBP"; got != want {
		t.Errorf("Narration = %q, want %q", got, want)
	}
	h.Location, h.Revision = "Soho", 2
	if got, want := mapping.Narration(day.Summary{Header: h}), "Adjustment 1 to daily sales summary 2026-03-29 GBP at Soho"; got != want {
		t.Errorf("Narration = %q, want %q", got, want)
	}
}

// Track gives each document its own copy of the location's tracking, and
// leaves documents alone when the day has none.
func TestTrackCopiesTheLocationsTracking(t *testing.T) {
	plan := []mapping.Planned{{Index: 0}, {Index: 1}}
	if got := mapping.Track(plan, nil); got[0].Document.Tracking != nil || got[1].Document.Tracking != nil {
		t.Fatalf("untracked day: %+v", got)
	}
	tr := []mapping.Tracking{{CategoryID: "region", OptionID: "soho"}}
	got := mapping.Track(plan, tr)
	tr[0].OptionID = "changed"
	got[0].Document.Tracking[0].CategoryID = "changed"
	if len(got) != 2 || got[1].Document.Tracking[0] != (mapping.Tracking{CategoryID: "region", OptionID: "soho"}) {
		t.Fatalf("tracking %+v, want each document its own copy of region/soho", got)
	}
}

// The reference is CS- and the first 20 hex digits of the id, upper-cased.
func TestReferenceText(t *testing.T) {
	if got := mapping.Reference("0123456789abcdef0123456789abcdef"); got != "CS-0123456789ABCDEF0123" {
		t.Fatalf("Reference = %q", got)
	}
}
