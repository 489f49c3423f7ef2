package gateway_test

// BenchmarkPushRecords measures streaming ingest against its floor, raw
// franz-go produce of the records the gateway writes for the same input, in
// interleaved pairs within one process:
//
//	go test -run '^$' -bench '^BenchmarkPushRecords' -benchtime 200000x ./gateway
//
// Each run starts its own in-process kfake broker (one node, commerce.events
// in 6 partitions as `commercesync dev` makes it), so neither side inherits
// the other's log. The input is a fixed set of 20,000 Codat records over 50
// companies: ~60% orders (2–4 line items with taxes, product and location
// refs, the payment ref), ~30% payments, ~10% PaymentFee transactions, UUID
// ids, RFC 3339 timestamps and decimal-string amounts. The stream sends them
// 500 to a message, each message one company's, from pre-encoded bytes so
// that the client's own encoding is not measured; the baseline produces the
// commerce.events records the gateway wrote for the same set (read back from
// a broker once), with the gateway's client options, asynchronously, and
// flushes. Both report records/s; the ratio is stream ÷ produce of a pair.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	pushBenchRecords    = 20_000
	pushBenchCompanies  = 50
	pushBenchPerMessage = 500
	pushBenchPairs      = 5
	pushBenchPartitions = 6
)

// pushBenchNow is the gateway's clock: the records are dated in the three
// days before it.
var pushBenchNow = time.Date(2026, 6, 12, 12, 0, 0, 0, time.UTC)

type pushBenchData struct {
	records [][]byte // each StreamRecord, encoded
	// events are the commerce.events records the gateway wrote for records,
	// as (key, value); the key is the company's id.
	events []*kgo.Record
	bytes  int // of events' values
}

var (
	pushBenchOnce sync.Once
	pushBenchSet  *pushBenchData
	pushBenchErr  error
)

func BenchmarkPushRecords(b *testing.B) {
	d := loadPushBench(b)
	for pair := range pushBenchPairs {
		b.Run(fmt.Sprintf("pair%d/stream", pair+1), func(b *testing.B) { benchStream(b, d, pushBenchCompanies) })
		b.Run(fmt.Sprintf("pair%d/produce", pair+1), func(b *testing.B) { benchProduce(b, d) })
	}
}

// BenchmarkPushRecordsOneCompany is the stream of one company alone, whose
// messages are written one after another to keep their order.
func BenchmarkPushRecordsOneCompany(b *testing.B) {
	d := loadPushBench(b)
	for pair := range pushBenchPairs {
		b.Run(fmt.Sprintf("pair%d/stream", pair+1), func(b *testing.B) { benchStream(b, d, 1) })
		b.Run(fmt.Sprintf("pair%d/produce", pair+1), func(b *testing.B) { benchProduce(b, d) })
	}
}

func loadPushBench(b *testing.B) *pushBenchData {
	b.Helper()
	pushBenchOnce.Do(func() { pushBenchSet, pushBenchErr = makePushBench() })
	if pushBenchErr != nil {
		b.Fatal(pushBenchErr)
	}
	return pushBenchSet
}

// pushBenchEnv is a broker, a control plane with companies, and a gateway on
// a loopback socket with a stream client that sends pre-encoded messages.
type pushBenchEnv struct {
	brokers   kafka.Cluster
	companies []string
	ctx       context.Context
	cc        *grpc.ClientConn
	close     func()
}

func startPushBench(companies int, gatewayUp bool) (*pushBenchEnv, error) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var closers []func()
	env := &pushBenchEnv{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	fail := func(err error) (*pushBenchEnv, error) { env.close(); return nil, err }
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, err
	}
	closers = append(closers, cluster.Close)
	env.brokers = kafka.Seeds(cluster.ListenAddrs()...)
	topics := kafka.DefaultTopics()
	admin, err := kgo.NewClient(kafka.ClientOpts(env.brokers, log)...)
	if err != nil {
		return fail(err)
	}
	err = kafka.EnsureTopics(ctx, admin, topics.Specs(pushBenchPartitions))
	admin.Close()
	if err != nil {
		return fail(err)
	}
	if !gatewayUp {
		return env, nil
	}
	sealer, err := control.NewSealer(make([]byte, 32))
	if err != nil {
		return fail(err)
	}
	store, err := control.Open(ctx, env.brokers, topics.Control, sealer, log)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, store.Close)
	tenant, key, err := store.DevKey(ctx)
	if err != nil {
		return fail(err)
	}
	for range companies {
		c, err := store.CreateCompany(ctx, tenant, "Merchant", "")
		if err != nil {
			return fail(err)
		}
		env.companies = append(env.companies, c.GetId())
	}
	prod, err := kgo.NewClient(kafka.RequestProducerOpts(env.brokers, log)...)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, prod.Close)
	srv := gateway.NewServer(store, prod, nil, nil, nil, "http://127.0.0.1/v1/oauth/callback", log,
		gateway.WithClock(func() time.Time { return pushBenchNow }))
	gs := srv.GRPC()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	go func() { _ = gs.Serve(ln) }()
	closers = append(closers, gs.Stop)
	env.cc, err = grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { _ = env.cc.Close() })
	env.ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	return env, nil
}

// messages assembles the stream's messages from the encoded records: message
// i holds the next perMessage records and names company i mod companies.
func (env *pushBenchEnv) messages(records [][]byte, total int) [][]byte {
	var out [][]byte
	for i, next := 0, 0; next < total; i++ {
		n := min(pushBenchPerMessage, total-next)
		m := protowire.AppendTag(nil, 1, protowire.BytesType)
		m = protowire.AppendString(m, env.companies[i%len(env.companies)])
		for j := range n {
			m = protowire.AppendTag(m, 2, protowire.BytesType)
			m = protowire.AppendBytes(m, records[(next+j)%len(records)])
		}
		out = append(out, m)
		next += n
	}
	return out
}

// stream sends msgs on one PushRecords stream and returns the records
// answered Accepted and Rejected (with the first rejection's errors).
func (env *pushBenchEnv) stream(msgs [][]byte) (accepted, rejected int, first *v1.RecordResult, err error) {
	desc := &v1.DataService_ServiceDesc.Streams[0]
	st, err := env.cc.NewStream(env.ctx, desc, v1.DataService_PushRecords_FullMethodName, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return 0, 0, nil, err
	}
	sendErr := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			raw := rawMessage(m)
			if err := st.SendMsg(&raw); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- st.CloseSend()
	}()
	for range msgs {
		var raw rawMessage
		if err := st.RecvMsg(&raw); err != nil {
			return accepted, rejected, first, err
		}
		var resp v1.PushResponse
		if err := proto.Unmarshal(raw, &resp); err != nil {
			return accepted, rejected, first, err
		}
		accepted += int(resp.GetAccepted())
		rejected += int(resp.GetRejected())
		for _, r := range resp.GetResults() {
			if first == nil && r.GetStatus() != "Accepted" {
				first = r
			}
		}
	}
	return accepted, rejected, first, <-sendErr
}

func benchStream(b *testing.B, d *pushBenchData, companies int) {
	env, err := startPushBench(companies, true)
	if err != nil {
		b.Fatal(err)
	}
	defer env.close()
	msgs := env.messages(d.records, b.N)
	b.ResetTimer()
	accepted, rejected, first, err := env.stream(msgs)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if accepted != b.N || rejected != 0 {
		b.Fatalf("%d accepted and %d rejected of %d; first refused: %v", accepted, rejected, b.N, first)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func benchProduce(b *testing.B, d *pushBenchData) {
	env, err := startPushBench(0, false)
	if err != nil {
		b.Fatal(err)
	}
	defer env.close()
	cl, err := kgo.NewClient(kafka.ClientOpts(env.brokers, nil)...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var failed error
	b.ResetTimer()
	for i := range b.N {
		e := d.events[i%len(d.events)]
		cl.Produce(ctx, &kgo.Record{Topic: e.Topic, Key: e.Key, Value: e.Value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
		})
	}
	err = cl.Flush(ctx)
	b.StopTimer()
	if err != nil || failed != nil {
		b.Fatal(err, failed)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// rawCodec passes pre-encoded messages through, so that the benchmark's
// client spends nothing on encoding what the server decodes.
type rawCodec struct{}

type rawMessage []byte

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*rawMessage), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*rawMessage) = append((*v.(*rawMessage))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// makePushBench makes the records, pushes them once through a gateway and
// reads back what it wrote, for the baseline.
func makePushBench() (*pushBenchData, error) {
	d := &pushBenchData{}
	for _, r := range pushBenchRecordSet() {
		b, err := proto.Marshal(r)
		if err != nil {
			return nil, err
		}
		d.records = append(d.records, b)
	}
	env, err := startPushBench(pushBenchCompanies, true)
	if err != nil {
		return nil, err
	}
	defer env.close()
	accepted, _, first, err := env.stream(env.messages(d.records, len(d.records)))
	if err != nil {
		return nil, err
	}
	if accepted != len(d.records) {
		return nil, fmt.Errorf("the benchmark's records are not all valid: %d of %d accepted; first refused: %v", accepted, len(d.records), first)
	}
	topic := kafka.DefaultTopics().Events
	for p := range int32(pushBenchPartitions) {
		err := kafka.ReadPartition(context.Background(), env.brokers, topic, p, nil, func(r *kgo.Record) error {
			d.events = append(d.events, &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value})
			d.bytes += len(r.Value)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(d.events) != len(d.records) {
		return nil, fmt.Errorf("%d events read back for %d records", len(d.events), len(d.records))
	}
	// In the order the stream wrote them across companies, as near as the
	// partitions allow: interleave the partitions.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(d.events), func(i, j int) { d.events[i], d.events[j] = d.events[j], d.events[i] })
	return d, nil
}

func pushBenchUUID(r *rand.Rand) string {
	var u [16]byte
	for i := range u {
		u[i] = byte(r.Uint32())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func pushBenchCents(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// pushBenchRecordSet is the input: orders, their payments and the payments'
// fees, in the proportions and shapes of the window's benchmark.
func pushBenchRecordSet() []*v1.StreamRecord {
	r := rand.New(rand.NewPCG(2026, 10))
	products := []string{"Flat white", "Croissant", "Sourdough loaf", "Oat latte", "Gift card", "Tote bag"}
	payTypes := []string{"Card", "Card", "Card", "Cash", "OnlineCard"}
	start := pushBenchNow.Add(-72 * time.Hour).UnixMilli()
	ts := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }
	location := &v1.Ref{Id: pushBenchUUID(r), Name: "High Street"}
	var out []*v1.StreamRecord
	for len(out) < pushBenchRecords {
		at := start + r.Int64N(60*3_600_000)
		orderID, paymentID := pushBenchUUID(r), pushBenchUUID(r)
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
				Id: pushBenchUUID(r), Quantity: fmt.Sprint(qty), TaxPercentage: "20", TotalAmount: pushBenchCents(lt),
				TotalTaxAmount: pushBenchCents(ltax), UnitPrice: pushBenchCents(unit),
				Taxes:      []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: "vat-20", Name: "VAT 20%"}, Rate: "0.20", TaxAmount: pushBenchCents(ltax)}},
				ProductRef: &v1.Ref{Id: pushBenchUUID(r), Name: p}, ProductVariantRef: &v1.Ref{Id: pushBenchUUID(r), Name: p + " regular"},
			})
		}
		payType := payTypes[r.IntN(len(payTypes))]
		src := at + int64(r.IntN(60_000))
		out = append(out, orderRec(&v1.Order{
			Id: orderID, OrderNumber: fmt.Sprintf("#%06d", r.IntN(1_000_000)), Country: "GB", Currency: "GBP",
			CreatedDate: ts(at), ClosedDate: ts(at), ModifiedDate: ts(src), SourceModifiedDate: ts(src),
			TotalAmount: pushBenchCents(total), TotalRefund: "0.00", TotalTaxAmount: pushBenchCents(tax), TotalDiscount: "0.00", TotalGratuity: "0.00",
			OrderLineItems: lines,
			Payments: []*v1.PaymentRef{{Id: paymentID, Amount: pushBenchCents(total), Currency: "GBP", Type: payType, Status: "Paid",
				CreatedDate: ts(at), SourceModifiedDate: ts(src)}},
			LocationRef: location,
		}))
		if r.Float64() >= 0.5 {
			continue
		}
		pat := at + int64(r.IntN(5_000))
		out = append(out, paymentRec(&v1.Payment{
			Id: paymentID, Amount: pushBenchCents(total), Currency: "GBP", Type: payType, Status: "Paid",
			PaymentMethodRef: &v1.Ref{Id: pushBenchUUID(r), Name: "Visa"}, PaymentProvider: "Stripe",
			DueDate: ts(pat), CreatedDate: ts(pat), ModifiedDate: ts(pat + 1000), SourceModifiedDate: ts(pat + 1000),
		}))
		if r.Float64() >= 1.0/3 {
			continue
		}
		fat := pat + int64(r.IntN(3_600_000))
		out = append(out, transactionRec(&v1.Transaction{
			Id: pushBenchUUID(r), TotalAmount: "-" + pushBenchCents(total*14/1000+20), Currency: "GBP", Type: "PaymentFee", SubType: "Processing",
			CreatedDate: ts(fat), SourceCreatedDate: ts(fat), ModifiedDate: ts(fat), SourceModifiedDate: ts(fat),
			TransactionSourceRef: &v1.TransactionSourceRef{Id: paymentID, Type: "Payment"},
		}))
	}
	return out[:pushBenchRecords]
}
