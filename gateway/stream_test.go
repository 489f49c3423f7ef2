package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// streamClockStart is the gateways' clock in these tests; a test may move it.
var streamClockStart = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)

// streamRig is a broker the test can hold or fail, a control plane with two
// tenants, and one gateway serving gRPC and REST on loopback sockets.
type streamRig struct {
	t       *testing.T
	cluster *kfake.Cluster
	brokers kafka.Cluster
	topics  kafka.Topics
	store   *control.Store
	key     string // the tenant's API key
	company string // the tenant's company, without a configuration
	zoned   string // the tenant's company whose zone is America/Chicago
	foreign string // another tenant's company
	clock   atomic.Pointer[time.Time]
	url     string
	cc      *grpc.ClientConn
	data    v1.DataServiceClient
	gs      *grpc.Server
	// produced is signalled each time a produce request reaches the broker.
	produced chan struct{}
	// hold, while set, keeps each produce request at the broker until it is
	// closed; fail, while true, answers each with INVALID_RECORD.
	holdMu sync.Mutex
	hold   chan struct{}
	fail   atomic.Bool
}

type rigOptions struct {
	gateway []gateway.Option
	server  []grpc.ServerOption
}

func newStreamRig(t *testing.T, o rigOptions) *streamRig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	r := &streamRig{t: t, cluster: cluster, brokers: kafka.Seeds(cluster.ListenAddrs()...), topics: kafka.DefaultTopics()}
	r.clock.Store(&streamClockStart)
	r.produced = make(chan struct{}, 1)
	cluster.ControlKey(int16(kmsg.Produce), r.controlProduce)
	admin, err := kgo.NewClient(kafka.ClientOpts(r.brokers, log)...)
	if err != nil {
		t.Fatal(err)
	}
	err = kafka.EnsureTopics(ctx, admin, r.topics.Specs(1))
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := control.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if r.store, err = control.Open(ctx, r.brokers, r.topics.Control, sealer, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.store.Close)
	tenant, key, err := r.store.DevKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.key = key
	for _, c := range []*string{&r.company, &r.zoned} {
		co, err := r.store.CreateCompany(ctx, tenant, "Merchant", "")
		if err != nil {
			t.Fatal(err)
		}
		*c = co.GetId()
	}
	if _, err := r.store.PutConfig(ctx, r.zoned, &v1.SyncConfiguration{Schedule: &v1.Schedule{TimeZone: "America/Chicago"}}); err != nil {
		t.Fatal(err)
	}
	other, err := r.store.CreateTenant(ctx, "Another platform")
	if err != nil {
		t.Fatal(err)
	}
	co, err := r.store.CreateCompany(ctx, other.GetId(), "Their merchant", "")
	if err != nil {
		t.Fatal(err)
	}
	r.foreign = co.GetId()

	prod, err := kgo.NewClient(kafka.RequestProducerOpts(r.brokers, log)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	srv := gateway.NewServer(r.store, prod, nil, nil, nil, "http://127.0.0.1/v1/oauth/callback", log,
		append([]gateway.Option{gateway.WithClock(func() time.Time { return *r.clock.Load() })}, o.gateway...)...)
	r.gs = srv.GRPC(o.server...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.gs.Serve(ln) }()
	t.Cleanup(r.gs.Stop)
	if r.cc, err = grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(256<<20))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cc.Close() })
	r.data = v1.NewDataServiceClient(r.cc)
	handler, err := srv.HTTP(ctx, r.cc)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(handler)
	t.Cleanup(hs.Close)
	r.url = hs.URL
	return r
}

// controlProduce counts produce requests and holds or fails them as the test
// says; otherwise the broker handles them.
func (r *streamRig) controlProduce(req kmsg.Request) (kmsg.Response, error, bool) {
	r.cluster.KeepControl()
	select {
	case r.produced <- struct{}{}:
	default:
	}
	r.holdMu.Lock()
	hold := r.hold
	r.holdMu.Unlock()
	if hold != nil {
		r.cluster.SleepControl(func() { <-hold })
	}
	if !r.fail.Load() {
		return nil, nil, false
	}
	pr := req.(*kmsg.ProduceRequest)
	resp := pr.ResponseKind().(*kmsg.ProduceResponse)
	for _, tp := range pr.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
		for _, p := range tp.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, kerr.InvalidRecord.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil, true
}

// holdProduce keeps produce requests at the broker until the returned
// function is called.
func (r *streamRig) holdProduce() (release func()) {
	ch := make(chan struct{})
	r.holdMu.Lock()
	r.hold = ch
	r.holdMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.holdMu.Lock()
			r.hold = nil
			r.holdMu.Unlock()
			close(ch)
		})
	}
}

func (r *streamRig) ctx(key string) context.Context {
	ctx := context.Background()
	if key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	return ctx
}

// push sends msgs on a new stream, closes its side and returns the answers
// and the status the stream ended with (nil when OK).
func (r *streamRig) push(ctx context.Context, msgs ...*v1.PushRecordsRequest) ([]*v1.PushResponse, error) {
	r.t.Helper()
	st, err := r.data.PushRecords(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	go func() {
		for _, m := range msgs {
			if st.Send(m) != nil {
				return // the stream ended; Recv says why
			}
		}
		_ = st.CloseSend()
	}()
	var out []*v1.PushResponse
	for {
		resp, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, resp)
	}
}

// events returns every record event on commerce.events, in order, with the
// key it was written under.
func (r *streamRig) events() []writtenEvent {
	r.t.Helper()
	var out []writtenEvent
	err := kafka.ReadPartition(context.Background(), r.brokers, r.topics.Events, 0, nil, func(rec *kgo.Record) error {
		var ev v1.CommerceEvent
		if err := proto.Unmarshal(rec.Value, &ev); err != nil {
			return err
		}
		if ev.GetRecord() != nil {
			out = append(out, writtenEvent{key: string(rec.Key), ev: &ev})
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

type writtenEvent struct {
	key string
	ev  *v1.CommerceEvent
}

func (r *streamRig) rest(route, company, body string) *v1.PushResponse {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.url+"/v1/companies/"+company+"/data/"+route, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("REST %s: %d %s", route, resp.StatusCode, raw)
	}
	var out v1.PushResponse
	if err := protojson.Unmarshal(raw, &out); err != nil {
		r.t.Fatalf("REST %s answered %s: %v", route, raw, err)
	}
	return &out
}

func msg(company string, recs ...*v1.StreamRecord) *v1.PushRecordsRequest {
	return &v1.PushRecordsRequest{CompanyId: company, Records: recs}
}

func orderRec(o *v1.Order) *v1.StreamRecord {
	return &v1.StreamRecord{Record: &v1.StreamRecord_Order{Order: o}}
}

func paymentRec(p *v1.Payment) *v1.StreamRecord {
	return &v1.StreamRecord{Record: &v1.StreamRecord_Payment{Payment: p}}
}

func transactionRec(t *v1.Transaction) *v1.StreamRecord {
	return &v1.StreamRecord{Record: &v1.StreamRecord_Transaction{Transaction: t}}
}

func deleteRec(kind v1.RecordKind, id string) *v1.StreamRecord {
	return &v1.StreamRecord{Record: &v1.StreamRecord_Delete{Delete: &v1.RecordDelete{Kind: kind, Id: id}}}
}

// simpleOrder is a valid order of one line.
func simpleOrder(id string) *v1.Order {
	return &v1.Order{Id: id, Currency: "GBP", CreatedDate: "2026-03-10T12:00:00Z", TotalAmount: "12.5", TotalTaxAmount: "2.08",
		OrderLineItems: []*v1.OrderLineItem{{Id: id + "-1", Quantity: "1", UnitPrice: "10.42", TotalAmount: "12.5", TotalTaxAmount: "2.08"}}}
}

// Each record pushed on the stream is written to commerce.events exactly as
// the REST route writes the same record sent as JSON: same key, same event,
// byte for byte once the time each was received is set aside. Local times
// are read in the company's zone on both, and the three ways to delete on
// the stream (an explicit delete, and a sparse record) write what REST's
// sparse {"id"} writes.
func TestPushRecordsWritesWhatRESTWrites(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	note, err := structpb.NewStruct(map[string]any{"note": "gift wrap"})
	if err != nil {
		t.Fatal(err)
	}
	order := &v1.Order{
		Id: "ord-1", OrderNumber: "1001", Country: "GB", Currency: "GBP",
		CreatedDate: "2026-03-11T09:30:00", ClosedDate: "2026-03-11T09:31:00-05:00", SourceModifiedDate: "2026-03-11T09:32:00Z",
		TotalAmount: "23.1", TotalTaxAmount: "3.85", TotalDiscount: "-1.00", TotalGratuity: "2",
		OrderLineItems: []*v1.OrderLineItem{{
			Id: "ord-1-l1", Quantity: "2", UnitPrice: "9.625", TotalAmount: "23.1", TotalTaxAmount: "3.85", TaxPercentage: "0.2",
			Taxes:               []*v1.TaxLine{{TaxComponentRef: &v1.Ref{Id: "vat-20", Name: "VAT"}, Rate: "0.2", TaxAmount: "3.85"}},
			ProductRef:          &v1.Ref{Id: "sku-1"},
			DiscountAllocations: []*v1.DiscountAllocation{{Name: "Spring", TotalAmount: "-1.00"}},
		}},
		Payments:         []*v1.PaymentRef{{Id: "pay-1"}},
		LocationRef:      &v1.Ref{Id: "shop-1"},
		SupplementalData: &v1.SupplementalData{Content: note},
	}
	orderJSON := `{"id":"ord-1","orderNumber":"1001","country":"GB","currency":"GBP",
		"createdDate":"2026-03-11T09:30:00","closedDate":"2026-03-11T09:31:00-05:00","sourceModifiedDate":"2026-03-11T09:32:00Z",
		"totalAmount":23.1,"totalTaxAmount":"3.85","totalDiscount":"-1.00","totalGratuity":2,
		"orderLineItems":[{"id":"ord-1-l1","quantity":2,"unitPrice":9.625,"totalAmount":23.1,"totalTaxAmount":3.85,"taxPercentage":0.2,
			"taxes":[{"taxComponentRef":{"id":"vat-20","name":"VAT"},"rate":0.2,"taxAmount":3.85}],
			"productRef":{"id":"sku-1"},"discountAllocations":[{"name":"Spring","totalAmount":"-1.00"}]}],
		"payments":[{"id":"pay-1"}],"locationRef":{"id":"shop-1"},"supplementalData":{"content":{"note":"gift wrap"}}}`
	payment := &v1.Payment{Id: "pay-1", Amount: "25.1", Currency: "GBP", Type: "Card", Status: "Paid",
		PaymentProvider: "Stripe", CreatedDate: "2026-03-11T09:31:30", PaymentMethodRef: &v1.Ref{Id: "pm-card"}}
	paymentJSON := `{"id":"pay-1","amount":25.1,"currency":"GBP","type":"Card","status":"Paid","paymentProvider":"Stripe",
		"createdDate":"2026-03-11T09:31:30","paymentMethodRef":{"id":"pm-card"}}`
	fee := &v1.Transaction{Id: "pay-1", TotalAmount: "-0.45", Currency: "GBP", Type: "PaymentFee",
		TransactionSourceRef: &v1.TransactionSourceRef{Id: "pay-1", Type: "Payment"}, CreatedDate: "2026-03-11T09:31:30Z"}
	payout := &v1.Transaction{Id: "po-1", TotalAmount: "24.65", Currency: "GBP", Type: "Payout",
		SourceCreatedDate: "2026-03-12T06:00:00Z", SettledTransactionIds: []string{"pay-1", "pay-2"}}
	transactionsJSON := `[{"id":"pay-1","totalAmount":-0.45,"currency":"GBP","type":"PaymentFee",
		"transactionSourceRef":{"id":"pay-1","type":"Payment"},"createdDate":"2026-03-11T09:31:30Z"},
		{"id":"po-1","totalAmount":"24.65","currency":"GBP","type":"Payout","sourceCreatedDate":"2026-03-12T06:00:00Z",
		"settledTransactionIds":["pay-1","pay-2"]}]`

	for _, route := range []struct{ path, body string }{
		{"commerce-orders", "[" + orderJSON + `,{"id":"gone-1"},{"id":"gone-2"}]`},
		{"commerce-payments", "[" + paymentJSON + `,{"id":"gone-3"}]`},
		{"commerce-transactions", transactionsJSON},
		{"commerce-transactions", `[{"id":"gone-4"}]`},
	} {
		if resp := r.rest(route.path, r.zoned, route.body); resp.GetRejected() != 0 {
			t.Fatalf("REST %s: %v", route.path, resp)
		}
	}
	later := streamClockStart.Add(90 * time.Second)
	r.clock.Store(&later)
	answers, err := r.push(r.ctx(r.key), msg(r.zoned,
		orderRec(order), deleteRec(v1.RecordKind_RECORD_KIND_ORDER, "gone-1"), orderRec(&v1.Order{Id: "gone-2"}),
		paymentRec(payment), deleteRec(v1.RecordKind_RECORD_KIND_PAYMENT, "gone-3"),
		transactionRec(fee), transactionRec(payout), deleteRec(v1.RecordKind_RECORD_KIND_TRANSACTION, "gone-4"),
	))
	if err != nil || len(answers) != 1 || answers[0].GetAccepted() != 8 || answers[0].GetRejected() != 0 {
		t.Fatalf("stream: %v, %v", answers, err)
	}

	evs := r.events()
	if len(evs) != 16 {
		t.Fatalf("%d events written, want 8 by REST and 8 by the stream", len(evs))
	}
	byREST := map[string]writtenEvent{}
	for _, w := range evs[:8] {
		byREST[identity(w.ev.GetRecord())] = w
	}
	for _, w := range evs[8:] {
		id := identity(w.ev.GetRecord())
		rest, ok := byREST[id]
		if !ok {
			t.Errorf("the stream wrote %s, which REST did not", id)
			continue
		}
		if rest.key != w.key || w.key != r.zoned {
			t.Errorf("%s: keyed %q by REST and %q by the stream, want the company", id, rest.key, w.key)
		}
		if got, want := w.ev.GetReceivedUnixMs(), later.UnixMilli(); got != want {
			t.Errorf("%s: received at %d, want the gateway's clock %d", id, got, want)
		}
		if got, want := rest.ev.GetReceivedUnixMs(), streamClockStart.UnixMilli(); got != want {
			t.Errorf("%s: REST's received at %d, want %d", id, got, want)
		}
		a, b := canonicalEvent(t, rest.ev), canonicalEvent(t, w.ev)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the stream's event differs from REST's:\nREST:   %v\nstream: %v", id, rest.ev, w.ev)
		}
	}
	// What the records are, not only that both routes agree on them.
	o := byREST["RECORD_KIND_ORDER//ord-1"].ev.GetRecord()
	if want := time.Date(2026, 3, 11, 14, 31, 0, 0, time.UTC).UnixMilli(); o.GetEventUnixMs() != want {
		t.Errorf("the order's event time is %d, want its closedDate %d", o.GetEventUnixMs(), want)
	}
	p := byREST["RECORD_KIND_PAYMENT//pay-1"].ev.GetRecord()
	// 09:31:30 local in Chicago on 11 March 2026 (CDT, UTC-5).
	if want := time.Date(2026, 3, 11, 14, 31, 30, 0, time.UTC).UnixMilli(); p.GetEventUnixMs() != want {
		t.Errorf("the payment's local time resolved to %d, want %d in the company's zone", p.GetEventUnixMs(), want)
	}
	for _, id := range []string{"RECORD_KIND_ORDER//gone-1", "RECORD_KIND_ORDER//gone-2", "RECORD_KIND_PAYMENT//gone-3", "RECORD_KIND_TRANSACTION//gone-4"} {
		if !byREST[id].ev.GetRecord().GetDeleted() {
			t.Errorf("%s is not written as a delete", id)
		}
	}
}

// identity names a record event by kind, transaction type and id.
func identity(re *v1.RecordEvent) string {
	return re.GetKind().String() + "/" + re.GetTransactionType() + "/" + re.GetId()
}

// canonicalEvent is ev's deterministic encoding without the time it was
// received.
func canonicalEvent(t *testing.T, ev *v1.CommerceEvent) []byte {
	t.Helper()
	c := proto.Clone(ev).(*v1.CommerceEvent)
	c.ReceivedUnixMs = 0
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Records are answered one by one, by their index in the stream, across
// messages: each bad record is refused with the same field errors REST gives
// the same record, the good ones beside it are taken, and only those reach
// the topic.
func TestPushRecordsAnswersEachRecordOnItsOwn(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	badOrder := &v1.Order{Id: "bad-1", CreatedDate: "2026-03-10T12:00:00Z", TotalAmount: "12.34567"}
	badOrderJSON := `{"id":"bad-1","createdDate":"2026-03-10T12:00:00Z","totalAmount":"12.34567"}`
	badPayment := &v1.Payment{Id: "bad-2", Amount: "5", Currency: "gbp", Type: "card", Status: "Paid", CreatedDate: "2026-03-10T12:00:00"}
	badPaymentJSON := `{"id":"bad-2","amount":5,"currency":"gbp","type":"card","status":"Paid","createdDate":"2026-03-10T12:00:00"}`
	badTransaction := &v1.Transaction{Id: " bad-3", TotalAmount: "1", Currency: "GBP", Type: "Payment", CreatedDate: "2026-03-30T12:00:00Z",
		SettledTransactionIds: []string{"x"}}
	badTransactionJSON := `{"id":" bad-3","totalAmount":1,"currency":"GBP","type":"Payment","createdDate":"2026-03-30T12:00:00Z","settledTransactionIds":["x"]}`

	// Valid but for what only the gateway's ingest judges: a local time in a
	// company without a zone, an order dated more than 7 days ahead; and an
	// id past its limit, which the answer leaves out.
	noZone := &v1.Payment{Id: "no-zone", Amount: "5", Currency: "GBP", Type: "Card", Status: "Paid", CreatedDate: "2026-03-10T12:00:00"}
	noZoneJSON := `{"id":"no-zone","amount":5,"currency":"GBP","type":"Card","status":"Paid","createdDate":"2026-03-10T12:00:00"}`
	future := simpleOrder("future-1")
	future.CreatedDate = "2026-03-20T12:00:00Z"
	futureJSON := `{"id":"future-1","currency":"GBP","createdDate":"2026-03-20T12:00:00Z","totalAmount":12.5,"totalTaxAmount":2.08,
		"orderLineItems":[{"id":"future-1-1","quantity":1,"unitPrice":10.42,"totalAmount":12.5,"totalTaxAmount":2.08}]}`
	longID := strings.Repeat("x", 300)
	long := simpleOrder(longID)
	longJSON := strings.Replace(futureJSON, "future-1", longID, 2)
	longJSON = strings.Replace(longJSON, "2026-03-20", "2026-03-10", 1)

	// REST's answer to each refused record, by its place in the stream.
	rest := map[[2]int]*v1.RecordResult{}
	for _, c := range []struct {
		route, body string
		at          [2]int
	}{
		{"commerce-orders", "[" + badOrderJSON + "]", [2]int{0, 1}},
		{"commerce-payments", "[" + badPaymentJSON + "]", [2]int{0, 2}},
		{"commerce-transactions", "[" + badTransactionJSON + "]", [2]int{1, 0}},
		{"commerce-payments", "[" + noZoneJSON + "]", [2]int{4, 0}},
		{"commerce-orders", "[" + futureJSON + "]", [2]int{4, 1}},
		{"commerce-orders", "[" + longJSON + "]", [2]int{4, 2}},
	} {
		resp := r.rest(c.route, r.company, c.body)
		if resp.GetRejected() != 1 || len(resp.GetResults()[0].GetErrors()) == 0 {
			t.Fatalf("REST %s: %v", c.route, resp)
		}
		rest[c.at] = resp.GetResults()[0]
	}

	answers, err := r.push(r.ctx(r.key),
		msg(r.company, orderRec(simpleOrder("ok-1")), orderRec(badOrder), paymentRec(badPayment), &v1.StreamRecord{}),
		msg(r.company, transactionRec(badTransaction), deleteRec(v1.RecordKind_RECORD_KIND_UNSPECIFIED, "ok-1"),
			deleteRec(v1.RecordKind_RECORD_KIND_ORDER, ""), deleteRec(v1.RecordKind_RECORD_KIND_ORDER, "sp ace "),
			orderRec(simpleOrder("ok-2"))),
		msg(r.company),
		msg(r.company, paymentRec(&v1.Payment{Id: "ok-3", Amount: "5", Currency: "GBP", Type: "Card", Status: "Paid", CreatedDate: "2026-03-10T12:00:00Z"})),
		msg(r.company, paymentRec(noZone), orderRec(future), orderRec(long)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 5 {
		t.Fatalf("%d answers to 5 messages", len(answers))
	}
	type want struct {
		id     string
		status string
		field  string // a field an error names
	}
	wants := [][]want{
		{{"ok-1", "Accepted", ""}, {"bad-1", "Rejected", "currency"}, {"bad-2", "Rejected", "currency"}, {"", "Rejected", ""}},
		{{" bad-3", "Rejected", "id"}, {"ok-1", "Rejected", "kind"}, {"", "Rejected", "id"}, {"sp ace ", "Rejected", "id"}, {"ok-2", "Accepted", ""}},
		{},
		{{"ok-3", "Accepted", ""}},
		{{"no-zone", "Rejected", "createdDate"}, {"future-1", "Rejected", "createdDate"}, {"", "Rejected", "id"}},
	}
	index, compared := 0, 0
	for m, resp := range answers {
		accepted := 0
		if len(resp.GetResults()) != len(wants[m]) {
			t.Fatalf("message %d: %d results, want %d: %v", m, len(resp.GetResults()), len(wants[m]), resp)
		}
		for i, res := range resp.GetResults() {
			w := wants[m][i]
			if res.GetIndex() != int32(index) || res.GetId() != w.id || res.GetStatus() != w.status {
				t.Errorf("message %d record %d: %v, want index %d id %q %s", m, i, res, index, w.id, w.status)
			}
			if w.status == "Accepted" {
				accepted++
				if len(res.GetErrors()) != 0 {
					t.Errorf("accepted with errors: %v", res)
				}
			} else if !slices.ContainsFunc(res.GetErrors(), func(e *v1.FieldError) bool { return e.GetField() == w.field }) {
				t.Errorf("message %d record %d: errors %v, want one on %q", m, i, res.GetErrors(), w.field)
			}
			if rr, ok := rest[[2]int{m, i}]; ok {
				compared++
				if !equalErrors(rr.GetErrors(), res.GetErrors()) || rr.GetId() != res.GetId() {
					t.Errorf("message %d record %d: the stream answers %q %v, REST %q %v", m, i, res.GetId(), res.GetErrors(), rr.GetId(), rr.GetErrors())
				}
			}
			index++
		}
		if resp.GetAccepted() != int32(accepted) || resp.GetRejected() != int32(len(wants[m])-accepted) {
			t.Errorf("message %d counts %d accepted, %d rejected", m, resp.GetAccepted(), resp.GetRejected())
		}
	}
	if compared != len(rest) {
		t.Errorf("%d of REST's %d answers compared", compared, len(rest))
	}
	var written []string
	for _, w := range r.events() {
		written = append(written, w.ev.GetRecord().GetId())
	}
	if got := strings.Join(written, ","); got != "ok-1,ok-2,ok-3" {
		t.Errorf("written %s, want the three accepted records alone", got)
	}
}

func equalErrors(a, b []*v1.FieldError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// A stream needs a valid key before anything is read, and each message a
// company the key's tenant owns: another tenant's company is refused exactly
// as an unknown one, ending the stream after every earlier message has been
// answered, and nothing of the refused message is written.
func TestPushRecordsAuthAndTenancy(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	for _, c := range []struct{ name, key string }{{"no key", ""}, {"a wrong key", "csk_not-a-key"}} {
		answers, err := r.push(r.ctx(c.key), msg(r.company, orderRec(simpleOrder("o-1"))))
		if status.Code(err) != codes.Unauthenticated || len(answers) != 0 {
			t.Errorf("%s: %v %v, want Unauthenticated and no answer", c.name, answers, err)
		}
	}
	for _, c := range []struct{ name, company string }{{"another tenant's company", r.foreign}, {"an unknown company", "no-such-company"}} {
		answers, err := r.push(r.ctx(r.key),
			msg(r.company, orderRec(simpleOrder("first-"+c.company))),
			msg(c.company, orderRec(simpleOrder("refused-"+c.company))),
			msg(r.company, orderRec(simpleOrder("after-"+c.company))))
		if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), fmt.Sprintf("company %q not found", c.company)) {
			t.Errorf("%s: %v, want NotFound naming the company", c.name, err)
		}
		if len(answers) != 1 || answers[0].GetAccepted() != 1 {
			t.Errorf("%s: the message before it was answered %v", c.name, answers)
		}
	}
	answers, err := r.push(r.ctx(r.key), msg("", orderRec(simpleOrder("nameless"))))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "company_id: is required") || len(answers) != 0 {
		t.Errorf("a message without a company: %v %v", answers, err)
	}
	var written []string
	for _, w := range r.events() {
		written = append(written, w.ev.GetRecord().GetId())
	}
	if got, want := strings.Join(written, ","), "first-"+r.foreign+",first-no-such-company"; got != want {
		t.Errorf("written %s, want %s", got, want)
	}
}

// A message past the records-per-message limit, or one that would take the
// stream past its records limit, ends the stream with a status naming the
// limit once the messages before it are answered, and none of its records is
// written; a message past gRPC's size limit is refused by gRPC.
func TestPushRecordsLimits(t *testing.T) {
	r := newStreamRig(t, rigOptions{gateway: []gateway.Option{
		gateway.WithLimits(records.Limits{BatchRecords: 3, BodyBytes: 8 << 10}),
		gateway.WithStreamLimits(gateway.StreamLimits{Records: 5}),
	}})
	three := func(p string) *v1.PushRecordsRequest {
		return msg(r.company, orderRec(simpleOrder(p+"1")), orderRec(simpleOrder(p+"2")), orderRec(simpleOrder(p+"3")))
	}
	answers, err := r.push(r.ctx(r.key), three("a"),
		msg(r.company, orderRec(simpleOrder("b1")), orderRec(simpleOrder("b2")), orderRec(simpleOrder("b3")), orderRec(simpleOrder("b4"))))
	if status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(status.Convert(err).Message(), "the message at record 3 holds 4 records; a message takes at most 3") {
		t.Errorf("4 records in a message: %v", err)
	}
	if len(answers) != 1 || answers[0].GetAccepted() != 3 {
		t.Errorf("before the message past the limit: %v", answers)
	}

	answers, err = r.push(r.ctx(r.key), three("c"), three("d"))
	if status.Code(err) != codes.ResourceExhausted ||
		!strings.Contains(status.Convert(err).Message(), "this stream has taken 3 records and the next message holds 3; a stream takes at most 5") {
		t.Errorf("past the stream's records: %v", err)
	}
	if len(answers) != 1 || answers[0].GetAccepted() != 3 {
		t.Errorf("before the stream's limit: %v", answers)
	}

	big := simpleOrder("e1")
	big.OrderNumber = strings.Repeat("9", 9<<10)
	answers, err = r.push(r.ctx(r.key), msg(r.company, orderRec(big)))
	if status.Code(err) != codes.ResourceExhausted || len(answers) != 0 {
		t.Errorf("a message past 8 KiB: %v %v", answers, err)
	}

	var written []string
	for _, w := range r.events() {
		written = append(written, w.ev.GetRecord().GetId())
	}
	if got := strings.Join(written, ","); got != "a1,a2,a3,c1,c2,c3" {
		t.Errorf("written %s", got)
	}
}

// inFlight watches a server's PushRecords streams as gRPC reports them: how
// many messages the handler has read and how many answers it has sent.
type inFlight struct {
	mu       sync.Mutex
	read     int
	answered int
	most     int // the largest read - answered seen
	reads    chan int
}

func (f *inFlight) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (f *inFlight) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (f *inFlight) HandleConn(context.Context, stats.ConnStats) {}
func (f *inFlight) HandleRPC(_ context.Context, s stats.RPCStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch s.(type) {
	case *stats.InPayload:
		f.read++
		f.most = max(f.most, f.read-f.answered)
		select {
		case f.reads <- f.read:
		default:
		}
	case *stats.OutPayload:
		f.answered++
	}
}

// While the broker takes nothing, a stream holds at most InFlightMessages
// messages read and unanswered (and the one it read last, waiting for room):
// the server stops reading, and a client sending faster waits instead of
// filling the server's memory. Once the broker answers, every record is
// answered and written, in order.
func TestPushRecordsBackpressure(t *testing.T) {
	f := &inFlight{reads: make(chan int, 64)}
	r := newStreamRig(t, rigOptions{
		gateway: []gateway.Option{gateway.WithStreamLimits(gateway.StreamLimits{InFlightMessages: 2})},
		server:  []grpc.ServerOption{grpc.StatsHandler(f)},
	})
	release := r.holdProduce()
	defer release()
	st, err := r.data.PushRecords(r.ctx(r.key))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	sent := make(chan error, 1)
	go func() {
		for i := range n {
			if err := st.Send(msg(r.company, orderRec(simpleOrder(fmt.Sprintf("bp-%02d", i))))); err != nil {
				sent <- err
				return
			}
		}
		sent <- st.CloseSend()
	}()
	// Every message fits in gRPC's flow-control windows, so the client
	// gets all of them off; the server has read three by then at most.
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for read := range f.reads {
		if read >= 3 {
			break
		}
	}
	f.mu.Lock()
	read, answered := f.read, f.answered
	f.mu.Unlock()
	if read != 3 || answered != 0 {
		t.Errorf("with the broker held the server read %d messages and answered %d; want 3 read (2 in flight, 1 waiting for room), none answered", read, answered)
	}
	release()
	for i := range n {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if res := resp.GetResults(); len(res) != 1 || res[0].GetIndex() != int32(i) || res[0].GetStatus() != "Accepted" {
			t.Fatalf("answer %d: %v", i, resp)
		}
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last answer: %v, want the stream's end", err)
	}
	f.mu.Lock()
	most := f.most
	f.mu.Unlock()
	if most > 3 {
		t.Errorf("the server held %d messages read and unanswered at once; the limit is 2 and one waiting", most)
	}
	var written []string
	for _, w := range r.events() {
		written = append(written, w.ev.GetRecord().GetId())
	}
	for i, id := range written {
		if want := fmt.Sprintf("bp-%02d", i); id != want {
			t.Fatalf("written %v, want bp-00…bp-19 in order", written)
		}
	}
	if len(written) != n {
		t.Errorf("%d written, want %d", len(written), n)
	}
}

// The broker refusing a write answers exactly the records of that write
// Rejected, saying to send them again; the stream goes on, and the next
// message's records are taken.
func TestPushRecordsBrokerFailure(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	st, err := r.data.PushRecords(r.ctx(r.key))
	if err != nil {
		t.Fatal(err)
	}
	r.fail.Store(true)
	if err := st.Send(msg(r.company, orderRec(simpleOrder("lost-1")), orderRec(&v1.Order{Id: "bad", TotalAmount: "1"}))); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	res := resp.GetResults()
	if len(res) != 2 || res[0].GetStatus() != "Rejected" || len(res[0].GetErrors()) != 1 ||
		!strings.Contains(res[0].GetErrors()[0].GetMessage(), "send it again") {
		t.Fatalf("a record the broker refused: %v", resp)
	}
	if res[1].GetStatus() != "Rejected" || res[1].GetErrors()[0].GetField() != "currency" {
		t.Errorf("an invalid record beside it is answered for what it is: %v", res[1])
	}
	r.fail.Store(false)
	if err := st.Send(msg(r.company, orderRec(simpleOrder("lost-1")), orderRec(simpleOrder("next-1")))); err != nil {
		t.Fatal(err)
	}
	resp, err = st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetAccepted() != 2 || resp.GetResults()[0].GetIndex() != 2 {
		t.Errorf("after the broker recovered: %v", resp)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("%v, want the stream's end", err)
	}
	var written []string
	for _, w := range r.events() {
		written = append(written, w.ev.GetRecord().GetId())
	}
	if got := strings.Join(written, ","); got != "lost-1,next-1" {
		t.Errorf("written %s, want the resent record and the next one", got)
	}
}

// A client that cancels mid-stream ends its stream on the server: the
// handler returns (GracefulStop, which waits for every handler, returns),
// what was answered Accepted before the cancel is written, and the server
// still takes new streams until then.
func TestPushRecordsClientCancel(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	ctx, cancel := context.WithCancel(r.ctx(r.key))
	defer cancel()
	st, err := r.data.PushRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(msg(r.company, orderRec(simpleOrder("kept-1")))); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil || resp.GetAccepted() != 1 {
		t.Fatalf("%v %v", resp, err)
	}
	release := r.holdProduce()
	select {
	case <-r.produced:
	default:
	}
	if err := st.Send(msg(r.company, orderRec(simpleOrder("unanswered-1")))); err != nil {
		t.Fatal(err)
	}
	// The second message is being written when the client goes.
	<-r.produced
	cancel()
	if _, err := st.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("after cancelling: %v, want Canceled", err)
	}
	release()

	// Another stream is served as before.
	answers, err := r.push(r.ctx(r.key), msg(r.company, orderRec(simpleOrder("after-1"))))
	if err != nil || len(answers) != 1 || answers[0].GetAccepted() != 1 {
		t.Fatalf("a stream after the cancelled one: %v %v", answers, err)
	}
	stopped := make(chan struct{})
	go func() { r.gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop: a stream handler is still running after its client cancelled")
	}
	written := map[string]bool{}
	for _, w := range r.events() {
		written[w.ev.GetRecord().GetId()] = true
	}
	if !written["kept-1"] || !written["after-1"] {
		t.Errorf("written %v; the records answered Accepted must be there", written)
	}
}

// A company's records reach commerce.events in the order they were sent,
// even while messages of several companies are written side by side.
func TestPushRecordsKeepsEachCompanysOrder(t *testing.T) {
	r := newStreamRig(t, rigOptions{})
	var msgs []*v1.PushRecordsRequest
	for i := range 30 {
		c := r.company
		if i%3 == 2 {
			c = r.zoned
		}
		msgs = append(msgs, msg(c, orderRec(simpleOrder(fmt.Sprintf("%s-%02d", c, i))), orderRec(simpleOrder(fmt.Sprintf("%s-%02db", c, i)))))
	}
	answers, err := r.push(r.ctx(r.key), msgs...)
	if err != nil || len(answers) != 30 {
		t.Fatalf("%d answers: %v", len(answers), err)
	}
	for i, a := range answers {
		if a.GetAccepted() != 2 || a.GetResults()[0].GetIndex() != int32(2*i) {
			t.Fatalf("answer %d: %v", i, a)
		}
	}
	got := map[string][]string{}
	for _, w := range r.events() {
		got[w.key] = append(got[w.key], w.ev.GetRecord().GetId())
	}
	for _, m := range msgs {
		for _, rec := range m.GetRecords() {
			id := rec.GetOrder().GetId()
			if len(got[m.GetCompanyId()]) == 0 || got[m.GetCompanyId()][0] != id {
				t.Fatalf("%s: written %v, want %s next", m.GetCompanyId(), got[m.GetCompanyId()], id)
			}
			got[m.GetCompanyId()] = got[m.GetCompanyId()][1:]
		}
	}
}
