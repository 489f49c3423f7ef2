package window

// Throughput benchmarks quoted in the README:
//
//	go test -run=NONE -bench=. -benchtime=2s ./pipeline/window/
//
// Both use the same fixed set of pre-marshalled commerce.events records:
// 1,000 companies, about 60 records each over three days, ~60% orders (2–4
// line items with taxes, product and location refs, the payment ref),
// ~30% payments and ~10% PaymentFee transactions, with UUID ids, RFC 3339
// timestamps and decimal-string amounts as the gateway writes them.

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	benchCompanies   = 1000
	benchSales       = 40  // per company: orders; with payments and fees ≈ 60 records
	benchFlushEvery  = 500 // records per Flush+Commit, as one Kafka transaction
	benchPartitions  = 12
	benchPaymentRate = 0.5 // payments per order → 60/30/10 with the fee rate
	benchFeeRate     = 1.0 / 3
)

type benchData struct {
	settings  [][]byte // one settings record per company
	records   [][]byte // in event-time order across companies
	partition []int32  // of each record's company
	setPart   []int32
	bytes     int
	orders    int
	payments  int
	fees      int
}

var (
	benchOnce sync.Once
	benchSet  *benchData
)

func loadBench(b *testing.B) *benchData {
	benchOnce.Do(func() { benchSet = makeBench() })
	return benchSet
}

func benchUUID(r *rand.Rand) string {
	var u [16]byte
	for i := range u {
		u[i] = byte(r.Uint32())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func cents(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

func makeBench() *benchData {
	r := rand.New(rand.NewPCG(2026, 6))
	zones := []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"}
	curs := []string{"GBP", "USD", "JPY", "AUD"}
	products := []string{"Flat white", "Croissant", "Sourdough loaf", "Oat latte", "Gift card", "Tote bag"}
	payTypes := []string{"Card", "Card", "Card", "Cash", "OnlineCard"}
	start := time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC).UnixMilli()
	ts := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }

	type rec struct {
		at   int64
		part int32
		b    []byte
	}
	d := &benchData{}
	var recs []rec
	marshal := func(ev *v1.CommerceEvent) []byte {
		b, err := proto.Marshal(ev)
		if err != nil {
			panic(err)
		}
		return b
	}
	for ci := range benchCompanies {
		company, tenant := benchUUID(r), fmt.Sprintf("tenant-%02d", ci%20)
		part := int32(ci % benchPartitions)
		cur := curs[ci%len(curs)]
		d.settings = append(d.settings, marshal(settingsEvent(company, tenant, &v1.WindowSettings{
			TimeZone: zones[ci%len(zones)], CutoffHour: int32(ci % 5), GraceMs: hourMs, ConfigVersion: 1,
		})))
		d.setPart = append(d.setPart, part)
		location := &v1.Ref{Id: benchUUID(r), Name: "High Street"}
		wrap := func(at int64, re *v1.RecordEvent) {
			h := sha256.Sum256(marshal(&v1.CommerceEvent{Body: &v1.CommerceEvent_Record{Record: re}}))
			re.ContentHash = h[:]
			ev := &v1.CommerceEvent{CompanyId: company, TenantId: tenant, ReceivedUnixMs: at + 2000, Body: &v1.CommerceEvent_Record{Record: re}}
			recs = append(recs, rec{at, part, marshal(ev)})
		}
		for range benchSales {
			at := start + r.Int64N(3*dayMs)
			orderID, paymentID := benchUUID(r), benchUUID(r)
			var total, tax int64
			var lines []*v1.OrderLineItem
			for range 2 + r.IntN(3) {
				qty := int64(1 + r.IntN(3))
				unit := int64(150 + r.IntN(2500))
				lt := qty * unit
				ltax := lt * 20 / 120
				total, tax = total+lt, tax+ltax
				p := products[r.IntN(len(products))]
				lines = append(lines, &v1.OrderLineItem{
					Id: benchUUID(r), Quantity: fmt.Sprint(qty), TaxPercentage: "20", TotalAmount: cents(lt),
					TotalTaxAmount: cents(ltax), UnitPrice: cents(unit),
					Taxes:      []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: "vat-20", Name: "VAT 20%"}, Rate: "0.20", TaxAmount: cents(ltax)}},
					ProductRef: &v1.Ref{Id: benchUUID(r), Name: p}, ProductVariantRef: &v1.Ref{Id: benchUUID(r), Name: p + " regular"},
				})
			}
			payType := payTypes[r.IntN(len(payTypes))]
			src := at + int64(r.IntN(60_000))
			wrap(at, &v1.RecordEvent{
				Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: orderID, EventUnixMs: at, SourceModifiedUnixMs: src,
				Body: &v1.RecordEvent_Order{Order: &v1.Order{
					Id: orderID, OrderNumber: fmt.Sprintf("#%06d", r.IntN(1_000_000)), Country: "GB", Currency: cur,
					CreatedDate: ts(at), ClosedDate: ts(at), ModifiedDate: ts(src), SourceModifiedDate: ts(src),
					TotalAmount: cents(total), TotalRefund: "0.00", TotalTaxAmount: cents(tax), TotalDiscount: "0.00", TotalGratuity: "0.00",
					OrderLineItems: lines,
					Payments: []*v1.PaymentRef{{Id: paymentID, Amount: cents(total), Currency: cur, Type: payType, Status: "Paid",
						CreatedDate: ts(at), SourceModifiedDate: ts(src)}},
					LocationRef: location,
				}},
			})
			d.orders++
			if r.Float64() >= benchPaymentRate {
				continue
			}
			pat := at + int64(r.IntN(5_000))
			wrap(pat, &v1.RecordEvent{
				Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: paymentID, EventUnixMs: pat, SourceModifiedUnixMs: pat + 1000,
				Body: &v1.RecordEvent_Payment{Payment: &v1.Payment{
					Id: paymentID, Amount: cents(total), Currency: cur, Type: payType, Status: "Paid",
					PaymentMethodRef: &v1.Ref{Id: benchUUID(r), Name: "Visa"}, PaymentProvider: "Stripe",
					DueDate: ts(pat), CreatedDate: ts(pat), ModifiedDate: ts(pat + 1000), SourceModifiedDate: ts(pat + 1000),
				}},
			})
			d.payments++
			if r.Float64() >= benchFeeRate {
				continue
			}
			fat := pat + int64(r.IntN(3_600_000))
			feeID := benchUUID(r)
			wrap(fat, &v1.RecordEvent{
				Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "PaymentFee", Id: feeID,
				EventUnixMs: fat, SourceModifiedUnixMs: fat,
				Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
					Id: feeID, TotalAmount: "-" + cents(total*14/1000+20), Currency: cur, Type: "PaymentFee", SubType: "Processing",
					CreatedDate: ts(fat), SourceCreatedDate: ts(fat), ModifiedDate: ts(fat), SourceModifiedDate: ts(fat),
					TransactionSourceRef: &v1.TransactionSourceRef{Id: paymentID, Type: "Payment"},
				}},
			})
			d.fees++
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at < recs[j].at })
	for _, x := range recs {
		d.records = append(d.records, x.b)
		d.partition = append(d.partition, x.part)
		d.bytes += len(x.b)
	}
	return d
}

// BenchmarkDecode is the floor: proto.Unmarshal of each record into a fresh
// CommerceEvent, as the job does, and nothing else.
func BenchmarkDecode(b *testing.B) {
	d := loadBench(b)
	n := len(d.records)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ev v1.CommerceEvent
		if err := proto.Unmarshal(d.records[i%n], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(d.bytes)/float64(n), "B/record")
}

// BenchmarkAggregate is the window's work per record: unmarshal, Apply
// (identity and version check, parsing amounts, posting to the day,
// re-linking fees, watermark sealing and emitting summaries as days close)
// and, every 500 records, Flush (changelog encoding) and Commit.
//
// State growth: the record set is fixed and replayed. Replaying it into the
// same aggregator would measure only the duplicate check (every record
// after the first pass is an exact duplicate), and generating fresh
// versions would grow nothing but cost re-marshalling inside the loop. So
// each pass over the set starts from a fresh aggregator holding only the
// companies' settings, built with the timer stopped (and a GC, so one
// pass's garbage is not billed to the next): every timed record is a new
// record, and the state never exceeds one pass (≈60 records and 3–4 days
// per company), as the lateness horizon bounds it in production.
func BenchmarkAggregate(b *testing.B) { benchAggregate(b) }

// BenchmarkAggregateWithContributions is BenchmarkAggregate writing
// ledger.contributions too, as the job does: the cost of reconciliation's
// input, stated in the README against BenchmarkAggregate in the same run.
func BenchmarkAggregateWithContributions(b *testing.B) { benchAggregate(b, WithContributions()) }

func benchAggregate(b *testing.B, opts ...AggregatorOption) {
	d := loadBench(b)
	n := len(d.records)
	var a *Aggregator
	var dec eventDecoder
	var summaries, changes, contribs int
	flush := func() {
		out, err := a.Flush()
		if err != nil {
			b.Fatal(err)
		}
		changes += len(out.Changes)
		contribs += len(out.Contributions)
		summaries += len(out.Summaries)
		a.Commit()
	}
	reset := func() {
		st, err := OpenStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		a = NewAggregator(nil, append([]AggregatorOption{WithStore(st)}, opts...)...)
		for i, s := range d.settings {
			var ev v1.CommerceEvent
			if err := proto.Unmarshal(s, &ev); err != nil {
				b.Fatal(err)
			}
			if err := a.Apply(d.setPart[i], &ev); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := a.Flush(); err != nil {
			b.Fatal(err)
		}
		a.Commit()
		runtime.GC()
	}
	reset()
	b.ReportAllocs()
	b.ResetTimer()
	batch := 0
	for i := 0; i < b.N; i++ {
		j := i % n
		if j == 0 && i > 0 {
			flush()
			batch = 0
			b.StopTimer()
			reset()
			b.StartTimer()
		}
		ev, err := dec.decode(d.records[j]) // as the job decodes
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Apply(d.partition[j], ev); err != nil {
			b.Fatal(err)
		}
		if batch++; batch == benchFlushEvery {
			flush()
			batch = 0
		}
	}
	flush()
	b.StopTimer()
	if n := a.Stats().Refused; n != 0 {
		b.Fatalf("%d records refused", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(changes)/float64(b.N), "changes/record")
	b.ReportMetric(float64(summaries)*1000/float64(b.N), "summaries/1k-records")
	if len(opts) > 0 {
		b.ReportMetric(float64(contribs)/float64(b.N), "contributions/record")
	}
}

// TestBenchRecordMix keeps the benchmark honest about its mix.
func TestBenchRecordMix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 60k-record benchmark set")
	}
	d := makeBench()
	n := float64(len(d.records))
	o, p, f := float64(d.orders)/n, float64(d.payments)/n, float64(d.fees)/n
	t.Logf("%d records over %d companies: %.0f%% orders, %.0f%% payments, %.0f%% fees, %d B/record",
		len(d.records), benchCompanies, 100*o, 100*p, 100*f, d.bytes/len(d.records))
	if o < 0.55 || o > 0.65 || p < 0.25 || p > 0.35 || f < 0.07 || f > 0.13 {
		t.Errorf("mix %.2f/%.2f/%.2f, want about 0.60/0.30/0.10", o, p, f)
	}
}
