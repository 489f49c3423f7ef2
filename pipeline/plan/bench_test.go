package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A 10,000-order day: each order has three lines in one of five categories
// with two tax components, a card or cash payment, and a fee on card.
const benchOrders = 10_000

type benchDay struct {
	encoded [][]byte // the orders as they travel, for the decode baseline
	orders  []day.OrderFacts
	pays    []day.PaymentFacts
	fees    []day.TransactionFacts
}

func makeBenchDay() benchDay {
	r := rand.New(rand.NewPCG(7, 11))
	var d benchDay
	cents := func(c int64) money.Amount { return money.FromMinor(c, 2) }
	text := func(c int64) string { return cents(c).String() }
	for i := range benchOrders {
		o := &v1.Order{Id: fmt.Sprintf("o-%d", i), Currency: "GBP", CreatedDate: "2026-03-10T12:00:00Z"}
		facts := day.OrderFacts{Unit: cents(1)}
		var total int64
		for j := range 3 {
			net := r.Int64N(5000) + 100
			state, city := net*6/100, net*2/100
			line := net + state + city
			cat := fmt.Sprintf("cat-%d", r.IntN(5))
			o.OrderLineItems = append(o.OrderLineItems, &v1.OrderLineItem{Id: fmt.Sprint(j), TotalAmount: text(line), TotalTaxAmount: text(state + city),
				ProductRef: &v1.Ref{Id: cat}, Taxes: []*v1.TaxLine{
					{TaxComponentRef: &v1.Ref{Id: "state"}, TaxAmount: text(state)}, {TaxComponentRef: &v1.Ref{Id: "city"}, TaxAmount: text(city)}}})
			facts.Lines = append(facts.Lines, day.OrderLine{Total: cents(line), Tax: cents(state + city), Category: cat,
				Taxes: []day.TaxPart{{Key: "state", Amount: cents(state)}, {Key: "city", Amount: cents(city)}}})
			total += line
		}
		o.TotalAmount = text(total)
		facts.Total = cents(total)
		b, err := proto.Marshal(o)
		if err != nil {
			panic(err)
		}
		d.encoded = append(d.encoded, b)
		d.orders = append(d.orders, facts)
		typ := "Card"
		if r.IntN(3) == 0 {
			typ = "Cash"
		}
		d.pays = append(d.pays, day.PaymentFacts{Type: typ, Status: "Paid", Amount: cents(total)})
		if typ == "Card" {
			d.fees = append(d.fees, day.TransactionFacts{Type: "PaymentFee", TenderType: typ, Amount: cents(-(total*29/1000 + 30))})
		}
	}
	return d
}

func (d benchDay) summary(b *testing.B) day.Summary {
	tot := day.Totals{}
	apply := func(ps []day.Posting, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if err := tot.Apply(ps, 1); err != nil {
			b.Fatal(err)
		}
	}
	for i := range d.orders {
		apply(day.OrderPostings(d.orders[i]))
		apply(day.PaymentPostings(d.pays[i]))
	}
	for _, f := range d.fees {
		apply(day.TransactionPostings(f))
	}
	s, err := day.NewSummary(day.Header{CompanyID: "c", Day: "2026-03-10", Currency: "GBP", Revision: 1,
		Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}, tot)
	if err != nil {
		b.Fatal(err)
	}
	s.Link("", 1)
	return s
}

type allAccounts struct{}

func (allAccounts) Account(section, key string) (mapping.Binding, bool) {
	return mapping.Binding{AccountID: section + "/" + key, Code: key}, true
}

// BenchmarkDay10kDecode is the baseline: decoding the day's 10,000 orders.
func BenchmarkDay10kDecode(b *testing.B) {
	d := makeBenchDay()
	b.ResetTimer()
	for b.Loop() {
		for _, raw := range d.encoded {
			var o v1.Order
			if err := proto.Unmarshal(raw, &o); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "days/s")
}

// BenchmarkDay10kSummarise builds the day's summary from its records'
// contributions: 10,000 orders, their payments and fees.
func BenchmarkDay10kSummarise(b *testing.B) {
	d := makeBenchDay()
	b.ResetTimer()
	for b.Loop() {
		d.summary(b)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "summaries/s")
}

// BenchmarkDay10kPlan plans the day's journal from its summary.
func BenchmarkDay10kPlan(b *testing.B) {
	d := makeBenchDay()
	s := d.summary(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := mapping.Journal(s, allAccounts{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "plans/s")
}

// BenchmarkDay10kPlanInvoices plans the same day in invoice mode.
func BenchmarkDay10kPlanInvoices(b *testing.B) {
	d := makeBenchDay()
	s := d.summary(b)
	opts := mapping.InvoiceOptions{Customer: "provider", Supplier: "provider"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := mapping.Invoices(s, allAccounts{}, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "plans/s")
}
