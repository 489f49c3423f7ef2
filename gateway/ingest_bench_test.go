package gateway_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The REST ingest benchmark pair: the gateway's order route against a
// minimal HTTP server that reads the same bodies and produces them to the
// same broker unparsed. Both run over loopback sockets against one
// in-process broker, driven by the same clients, so the ratio of their
// records/s is what parsing, checking and encoding cost over moving the
// bytes. Run them interleaved (gateway/bench_ingest.sh) and compare within
// one run: the machine is shared.

const (
	benchOrdersPerBody = 100
	benchBodies        = 16 // distinct bodies, cycled, so no id repeats within a round
)

// benchClients is how many requests are in flight. Each waits for the
// broker's acknowledgement (and the producer's 2 ms linger), so with few
// clients the raw produce waits rather than works: compare at a number
// that keeps both servers busy.
var benchClients = flag.Int("ingest.clients", 8, "requests in flight in the REST ingest benchmarks")

// benchOrders renders n orders shaped like a busy café's Codat pushes: three
// lines with a tax each and a discount, a card payment ref, a service charge
// with its tax, location and customer refs, and a little supplemental data.
// Amounts are JSON numbers, as Codat's clients send them.
func benchOrders(body, n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		id := body*n + i
		h, m := 8+id%12, id%60
		fmt.Fprintf(&b, `{"id":"1f463dc2-3d2b-4c1e-8b55-%012d","orderNumber":"%d","country":"GB ","currency":"GBP",`+
			`"createdDate":"2026-03-10T%02d:%02d:18Z","closedDate":"2026-03-10T%02d:%02d:40Z","modifiedDate":"2026-03-10T21:53:11Z",`+
			`"sourceModifiedDate":"2026-03-10T%02d:%02d:41.123Z","totalAmount":19.7,"totalRefund":0,"totalTaxAmount":3.28,`+
			`"totalDiscount":0.5,"totalGratuity":1,"orderLineItems":[`,
			id, 1000+id, h, m, h, m, h, m)
		for j := range 3 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"01e1f4f6-8e8a-4a54-%04d-%012d","quantity":%d,"taxPercentage":20,"totalAmount":"6.40","totalTaxAmount":1.07,`+
				`"unitPrice":5.75,"taxes":[{"taxComponentRef":{"id":"vat-std","name":"VAT 20%%"},"rate":0.2,"taxAmount":1.07}],`+
				`"productRef":{"id":"prod-%d","name":"Flat white"},"productVariantRef":{"id":"var-%d","name":"Oat"},`+
				`"discountAllocations":[{"name":"Loyalty","totalAmount":0.17}]}`, j, id, 1+j%2, j, j)
		}
		fmt.Fprintf(&b, `],"payments":[{"id":"0944c8e6-5f2a-4d3b-8c1e-%012d","amount":20.7,"currency":"GBP","type":"Card","status":"Paid",`+
			`"createdDate":"2026-03-10T%02d:%02d:40Z"}],"serviceCharges":[{"description":"Table service","totalAmount":0.5,`+
			`"taxPercentage":20,"taxAmount":0.08,"quantity":1,"type":"Generic"}],"locationRef":{"id":"52a50627-6c1d-4b0e-9f3a-7e8d9c0b1a33","name":"High St"},`+
			`"customerRef":{"id":"cust-%d","name":"A. Customer"},"supplementalData":{"content":{"till":"T%d","shift":"am"}}}`,
			id, h, m, id%97, id%4)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// benchRig is a broker, a control plane with a tenant, its key and a company
// with a saved configuration, and the two HTTP servers under test.
type benchRig struct {
	gatewayURL, rawURL string
	key                string
	bodies             [][]byte
	events             string
}

func newBenchRig(tb testing.TB) *benchRig {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := kafka.StartBroker()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	brokers, topics := b.Cluster(), kafka.DefaultTopics()
	admin, err := kgo.NewClient(kafka.ClientOpts(brokers, log)...)
	if err != nil {
		tb.Fatal(err)
	}
	err = kafka.EnsureTopics(ctx, admin, topics.Specs(1))
	admin.Close()
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := control.NewSealer(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	store, err := control.Open(ctx, brokers, topics.Control, sealer, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(store.Close)
	tenant, key, err := store.DevKey(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := store.CreateCompany(ctx, tenant, "Bench café", "")
	if err != nil {
		tb.Fatal(err)
	}
	// A configured zone: local timestamps are read in it, and every push
	// looks it up.
	if _, err := store.PutConfig(ctx, c.GetId(), &v1.SyncConfiguration{Configured: true,
		Schedule: &v1.Schedule{TimeZone: "Europe/London", SyncHour: 0}}); err != nil {
		tb.Fatal(err)
	}
	newProducer := func() *kgo.Client {
		p, err := kgo.NewClient(kafka.RequestProducerOpts(brokers, log)...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(p.Close)
		return p
	}

	// The gateway as cmd/commercesync runs it: gRPC and the REST front.
	srv := gateway.NewServer(store, newProducer(), nil, nil, nil, "http://127.0.0.1/v1/oauth/callback", log,
		gateway.WithClock(func() time.Time { return now }))
	gs := srv.GRPC()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	tb.Cleanup(gs.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	handler, err := srv.HTTP(ctx, cc)
	if err != nil {
		tb.Fatal(err)
	}

	rig := &benchRig{key: key, events: topics.Events}
	rig.gatewayURL = serve(tb, handler) + "/v1/companies/" + c.GetId() + "/data/commerce-orders"
	rig.rawURL = serve(tb, rawProduce(newProducer(), topics.Events, c.GetId())) + "/raw"
	for i := range benchBodies {
		rig.bodies = append(rig.bodies, benchOrders(i, benchOrdersPerBody))
	}
	return rig
}

// serve starts h on a loopback socket and returns its base URL.
func serve(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	tb.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String()
}

// rawProduce is the baseline: read the body and produce it unparsed, keyed
// by company like the gateway's events, in chunks of at most one record's
// limit so that no body is refused for its size.
func rawProduce(p *kgo.Client, topic, company string) http.Handler {
	limit := records.DefaultLimits()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit.BodyBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var recs []*kgo.Record
		for chunk := limit.RecordBytes - len(company); len(body) > 0; {
			n := min(chunk, len(body))
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(company), Value: body[:n]})
			body = body[n:]
		}
		if err := p.ProduceSync(r.Context(), recs...).FirstErr(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"accepted":100}`)
	})
}

// run posts b.N bodies to url from *benchClients clients and reports
// records/s. Every answer must accept every record.
func (rig *benchRig) run(b *testing.B, url string) {
	clients := *benchClients
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	want := fmt.Appendf(nil, `"accepted":%d`, benchOrdersPerBody)
	post := func(body []byte) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+rig.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, want) {
			return fmt.Errorf("status %d: %.300s", resp.StatusCode, answer)
		}
		return nil
	}
	// Warm the connections and both paths outside the timing.
	for i := range clients {
		if err := post(rig.bodies[i%len(rig.bodies)]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(rig.bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) || failed.Load() != nil {
					return
				}
				if err := post(rig.bodies[i%int64(len(rig.bodies))]); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N*benchOrdersPerBody)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRESTIngestGateway posts realistic orders, 100 a request, to the
// gateway's REST order route.
func BenchmarkRESTIngestGateway(b *testing.B) {
	rig := newBenchRig(b)
	rig.run(b, rig.gatewayURL)
}

// BenchmarkRESTIngestRawProduce posts the same bodies to the baseline.
func BenchmarkRESTIngestRawProduce(b *testing.B) {
	rig := newBenchRig(b)
	rig.run(b, rig.rawURL)
}
