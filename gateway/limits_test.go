package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// now is the gateways' clock in these tests.
var now = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)

// harness is a real broker and control plane, with gateways started on
// demand over them, each with its own options, on loopback sockets.
type harness struct {
	t       *testing.T
	brokers kafka.Cluster
	topics  kafka.Topics
	store   *control.Store
	ledger  *view.Ledger
	outbox  *view.Outbox
	prod    *kgo.Client
	key     string
	company string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := kafka.StartBroker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	h := &harness{t: t, brokers: b.Cluster(), topics: kafka.DefaultTopics()}
	admin, err := kgo.NewClient(kafka.ClientOpts(h.brokers, log)...)
	if err != nil {
		t.Fatal(err)
	}
	err = kafka.EnsureTopics(ctx, admin, h.topics.Specs(1))
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := control.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if h.store, err = control.Open(ctx, h.brokers, h.topics.Control, sealer, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.store.Close)
	tenant, key, err := h.store.DevKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.key = key
	c, err := h.store.CreateCompany(ctx, tenant, "Test merchant", "")
	if err != nil {
		t.Fatal(err)
	}
	h.company = c.GetId()
	if h.ledger, err = view.OpenLedger(ctx, h.brokers, h.topics.Ledger, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.ledger.Close)
	if h.outbox, err = view.OpenOutbox(ctx, h.brokers, h.topics.Outbox, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.outbox.Close)
	if h.prod, err = kgo.NewClient(kafka.RequestProducerOpts(h.brokers, log)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	return h
}

// front is one gateway: its REST base URL and a gRPC client of it.
type front struct {
	h    *harness
	url  string
	data v1.DataServiceClient
}

func (h *harness) front(opts ...gateway.Option) *front {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := gateway.NewServer(h.store, h.prod, h.ledger, h.outbox, nil, "http://127.0.0.1/v1/oauth/callback", log,
		append([]gateway.Option{gateway.WithClock(func() time.Time { return now })}, opts...)...)
	gs := srv.GRPC()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	h.t.Cleanup(gs.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(256<<20)))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = cc.Close() })
	handler, err := srv.HTTP(context.Background(), cc)
	if err != nil {
		h.t.Fatal(err)
	}
	hs := httptest.NewServer(handler)
	h.t.Cleanup(hs.Close)
	return &front{h: h, url: hs.URL, data: v1.NewDataServiceClient(cc)}
}

// post sends body to route of the harness's company and decodes a push
// answer when there is one.
func (f *front) post(method, route string, body io.Reader) (int, *v1.PushResponse, string) {
	f.h.t.Helper()
	req, err := http.NewRequest(method, f.url+"/v1/companies/"+f.h.company+route, body)
	if err != nil {
		f.h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var pr struct {
		Accepted, Rejected int32
		Results            []struct {
			Index  int32
			ID     string
			Status string
			Errors []struct{ Field, Message string }
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &pr) != nil {
		return resp.StatusCode, nil, string(raw)
	}
	out := &v1.PushResponse{Accepted: pr.Accepted, Rejected: pr.Rejected}
	for _, r := range pr.Results {
		rr := &v1.RecordResult{Index: r.Index, Id: r.ID, Status: r.Status}
		for _, e := range r.Errors {
			rr.Errors = append(rr.Errors, &v1.FieldError{Field: e.Field, Message: e.Message})
		}
		out.Results = append(out.Results, rr)
	}
	return resp.StatusCode, out, string(raw)
}

// written returns the size, key and value, of each record the gateways
// wrote to commerce.events whose event names id, in order.
func (h *harness) written(id string) []int {
	h.t.Helper()
	var sizes []int
	err := kafka.ReadPartition(context.Background(), h.brokers, h.topics.Events, 0, nil, func(r *kgo.Record) error {
		var ev v1.CommerceEvent
		if err := proto.Unmarshal(r.Value, &ev); err != nil {
			return err
		}
		if ev.GetRecord().GetId() == id {
			sizes = append(sizes, len(r.Key)+len(r.Value))
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return sizes
}

func paddedOrder(id string, pad int) string {
	return fmt.Sprintf(`[{"id":%q,"currency":"GBP","createdDate":"2026-03-10T12:00:00Z","totalAmount":1,`+
		`"supplementalData":{"content":{"note":%q}}}]`, id, strings.Repeat("x", pad))
}

// The record limit is measured on the record as the gateway writes it to
// commerce.events, envelope and key included: a gateway whose limit is the
// exact size of a written record takes that record and refuses one a byte
// larger, whose body alone would fit.
func TestRecordLimitIsTheWrittenSize(t *testing.T) {
	h := newHarness(t)
	code, resp, raw := h.front().post("POST", "/data/commerce-orders", strings.NewReader(paddedOrder("sized-1", 3000)))
	if code != http.StatusOK || resp.Accepted != 1 {
		t.Fatalf("%d %s", code, raw)
	}
	sizes := h.written("sized-1")
	if len(sizes) != 1 {
		t.Fatalf("written %v", sizes)
	}
	n := sizes[0]

	f := h.front(gateway.WithLimits(records.Limits{RecordBytes: n}))
	if code, resp, raw := f.post("POST", "/data/commerce-orders", strings.NewReader(paddedOrder("sized-1", 3000))); code != http.StatusOK || resp.Accepted != 1 {
		t.Fatalf("at the limit of %d bytes: %d %s", n, code, raw)
	}
	code, resp, raw = f.post("POST", "/data/commerce-orders", strings.NewReader(paddedOrder("sized-1", 3001)))
	if code != http.StatusOK || resp.Rejected != 1 {
		t.Fatalf("a byte past the limit: %d %s", code, raw)
	}
	e := resp.Results[0].Errors
	want := fmt.Sprintf("the record is %d bytes encoded and the limit for one record is %d; supplementalData takes", n+1, n)
	if len(e) != 1 || e[0].Field != "supplementalData" || !strings.Contains(e[0].Message, want) {
		t.Errorf("a byte past the limit: %v, want supplementalData: %s…", e, want)
	}
	if got := h.written("sized-1"); len(got) != 2 {
		t.Errorf("the refused record reached the topic: %v", got)
	}
}

// A body larger than the limit is refused with 413 naming the limit, before
// it is read when its length is declared and as soon as it passes the limit
// when it is not; after the key is checked, never before.
func TestBodyLimit(t *testing.T) {
	h := newHarness(t)
	f := h.front(gateway.WithLimits(records.Limits{BodyBytes: 4096}))
	body := func(n int) []byte { // a valid push of exactly n bytes
		b := []byte(paddedOrder("body-1", 0))
		return append(b[:len(b)-1], append(bytes.Repeat([]byte(" "), n-len(b)), ']')...)
	}
	if code, resp, raw := f.post("POST", "/data/commerce-orders", bytes.NewReader(body(4096))); code != http.StatusOK || resp.Accepted != 1 {
		t.Fatalf("a body at the limit: %d %s", code, raw)
	}
	code, _, raw := f.post("POST", "/data/commerce-orders", bytes.NewReader(body(4097)))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "the body is 4097 bytes; the limit is 4 KiB (4096 bytes)") {
		t.Errorf("a declared body past the limit: %d %s", code, raw)
	}
	// Without a length: chunked, refused once it passes the limit.
	code, _, raw = f.post("POST", "/data/commerce-orders", io.MultiReader(bytes.NewReader(body(4097))))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "the limit is 4 KiB") {
		t.Errorf("a chunked body past the limit: %d %s", code, raw)
	}
	// The key is checked first.
	req, _ := http.NewRequest("POST", f.url+"/v1/companies/"+h.company+"/data/commerce-orders", bytes.NewReader(body(8000)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a large body without a key: %d, want 401", resp.StatusCode)
	}
}

// The skew allowed to modification dates is an option, measured on the
// gateway's injected clock.
func TestModifiedSkewOption(t *testing.T) {
	h := newHarness(t)
	f := h.front(gateway.WithModifiedSkew(2 * time.Minute))
	order := func(id, modified string) string {
		return fmt.Sprintf(`{"id":%q,"currency":"GBP","createdDate":"2026-03-12T10:00:00Z","totalAmount":1,"sourceModifiedDate":%q}`, id, modified)
	}
	body := "[" + order("at-skew", "2026-03-12T16:02:00Z") + "," + order("past-skew", "2026-03-12T16:02:00.001Z") + "]"
	code, resp, raw := f.post("POST", "/data/commerce-orders", strings.NewReader(body))
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, raw)
	}
	if r := resp.Results[0]; r.Status != "Accepted" {
		t.Errorf("modified at the skew: %v", r)
	}
	if r := resp.Results[1]; r.Status != "Rejected" || len(r.Errors) != 1 || r.Errors[0].Field != "sourceModifiedDate" ||
		!strings.Contains(r.Errors[0].Message, "by more than the 2m0s allowed") {
		t.Errorf("modified past the skew: %v", r)
	}
	// Reference data versions are dated the same way.
	code, resp, raw = f.post("PUT", "/data/commerce-locations", strings.NewReader(
		`[{"id":"l-1","name":"Shop","sourceModifiedDate":"2026-03-12T16:03:00Z"},{"id":"l-2","name":"Shop","modifiedDate":"1969-07-20T20:17:00Z"}]`))
	if code != http.StatusOK || resp.Rejected != 2 || resp.Results[0].Errors[0].Field != "sourceModifiedDate" ||
		!strings.Contains(resp.Results[1].Errors[0].Message, "out of range") {
		t.Errorf("reference data: %d %s", code, raw)
	}
}

func grpcCtx(h *harness) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+h.key)
}

// gRPC pushes are held to the same limits, with the same answers.
func TestGRPCTakesTheSameLimits(t *testing.T) {
	h := newHarness(t)
	f := h.front(gateway.WithLimits(records.Limits{BatchRecords: 8}))
	order := func(id string) *v1.Order {
		return &v1.Order{Id: id, Currency: "GBP", CreatedDate: "2026-03-10T12:00:00Z", TotalAmount: "1"}
	}
	long := order(strings.Repeat("i", 256))
	number := order("number")
	number.OrderNumber = strings.Repeat("7", 1<<20)
	padded := order("padded ")
	future := order("future")
	future.SourceModifiedDate = "9999-12-31T23:59:59Z"
	ancient := order("ancient")
	ancient.CreatedDate = "0001-01-01T00:00:00Z"
	lines := order("lines")
	lines.OrderLineItems = make([]*v1.OrderLineItem, 1001)
	for i := range lines.OrderLineItems {
		lines.OrderLineItems[i] = &v1.OrderLineItem{TotalAmount: "0"}
	}
	resp, err := f.data.PushOrders(grpcCtx(h), &v1.PushOrdersRequest{CompanyId: h.company,
		Orders: []*v1.Order{long, number, padded, future, ancient, lines, order("ok-1")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ field, message string }{
		{"id", "is 256 bytes; the limit is 255"},
		{"orderNumber", "is 1048576 bytes; the limit is 255"},
		{"id", "must not start or end with spaces"},
		{"sourceModifiedDate", "ahead of the server's clock"},
		{"createdDate", "out of range"},
		{"orderLineItems", "has 1001 elements; the limit is 1000"},
	}
	for i, w := range want {
		r := resp.GetResults()[i]
		if r.GetStatus() != "Rejected" || len(r.GetErrors()) == 0 || r.GetErrors()[0].GetField() != w.field ||
			!strings.Contains(r.GetErrors()[0].GetMessage(), w.message) {
			t.Errorf("record %d: %v, want %s: …%s…", i, r, w.field, w.message)
		}
	}
	if r := resp.GetResults()[6]; r.GetStatus() != "Accepted" || resp.GetAccepted() != 1 {
		t.Errorf("the valid order: %v", r)
	}
	if r := resp.GetResults()[0]; r.GetId() != "" {
		t.Errorf("the answer echoes a %d-byte id", len(r.GetId()))
	}

	// Reference data and the batch limit too.
	loc, err := f.data.PutLocations(grpcCtx(h), &v1.PutLocationsRequest{CompanyId: h.company,
		Locations: []*v1.Location{{Id: "l", Name: strings.Repeat("n", 501)}}})
	if err != nil || loc.GetResults()[0].GetErrors()[0].GetField() != "name" {
		t.Errorf("location with a long name: %v %v", loc, err)
	}
	_, err = f.data.PushOrders(grpcCtx(h), &v1.PushOrdersRequest{CompanyId: h.company, Orders: make([]*v1.Order, 9)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "9 records sent; a push takes at most 8") {
		t.Errorf("nine orders past a limit of eight: %v", err)
	}
}

// Every other route takes a body of 4 MiB at most, refused before grpc-gateway
// decodes it.
func TestOtherRoutesTake4MiB(t *testing.T) {
	h := newHarness(t)
	f := h.front()
	big := `{"schedule":{"timeZone":"Europe/London"},"configuration":{"companyName":"` + strings.Repeat("x", 4<<20) + `"}}`
	code, _, raw := f.post("PUT", "/sync/commerce/config", strings.NewReader(big))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(raw, fmt.Sprintf("the body is %d bytes; the limit is 4 MiB", len(big))) {
		t.Errorf("a configuration past 4 MiB: %d %.200s", code, raw)
	}
	code, _, raw = f.post("PUT", "/sync/commerce/config", io.MultiReader(strings.NewReader(big)))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "the limit is 4 MiB") {
		t.Errorf("a chunked configuration past 4 MiB: %d %.200s", code, raw)
	}
	ok := `{"schedule":{"timeZone":"Europe/London"},"configuration":{"mapSettings":{"outputFormat":"JournalEntry"}}}`
	if code, _, raw := f.post("PUT", "/sync/commerce/config", strings.NewReader(ok)); code != http.StatusOK {
		t.Errorf("a small configuration: %d %s", code, raw)
	}
}
