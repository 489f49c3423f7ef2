package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/commercesync/commercesync/gateway"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// gatewayPair is one broker and two gateways, each with its own control
// plane view and producer, as two gateway processes behind one load
// balancer would be.
type gatewayPair struct {
	key    string
	stores [2]*control.Store
	urls   [2]string
	grpc   [2]v1.CompanyServiceClient
}

func newGatewayPair(t *testing.T) *gatewayPair {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := kafka.Seeds(cluster.ListenAddrs()...)
	topics := kafka.DefaultTopics()
	admin, err := kgo.NewClient(kafka.ClientOpts(brokers, log)...)
	if err != nil {
		t.Fatal(err)
	}
	err = kafka.EnsureTopics(ctx, admin, topics.Specs(1))
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := control.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	p := &gatewayPair{}
	for i := range 2 {
		st, err := control.Open(ctx, brokers, topics.Control, sealer, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		p.stores[i] = st
		if i == 0 {
			if _, p.key, err = st.DevKey(ctx); err != nil {
				t.Fatal(err)
			}
		}
		prod, err := kgo.NewClient(kafka.RequestProducerOpts(brokers, log)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(prod.Close)
		srv := gateway.NewServer(st, prod, nil, nil, nil, "http://127.0.0.1/v1/oauth/callback", log)
		gs := srv.GRPC()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = gs.Serve(ln) }()
		t.Cleanup(gs.Stop)
		cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		p.grpc[i] = v1.NewCompanyServiceClient(cc)
		h, err := srv.HTTP(ctx, cc)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(h)
		t.Cleanup(hs.Close)
		p.urls[i] = hs.URL
	}
	return p
}

type createAnswer struct {
	code     int
	id       string
	replayed string
	body     string
}

// create sends POST /v1/companies to gateway i.
func (p *gatewayPair) create(t *testing.T, i int, key, name string) createAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.urls[i]+"/v1/companies", strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return createAnswer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var c struct{ ID string }
	_ = json.Unmarshal(b, &c)
	return createAnswer{code: resp.StatusCode, id: c.ID, replayed: resp.Header.Get("Idempotent-Replayed"), body: string(b)}
}

// Two gateways creating the same company at the same moment, with the same
// Idempotency-Key, make one company, and both callers get it.
func TestTwoGatewaysCreatingOneCompanyMakeOne(t *testing.T) {
	p := newGatewayPair(t)
	rounds := 1000
	if testing.Short() {
		rounds = 200
	}
	ids := map[string]bool{}
	for i := range rounds {
		key := fmt.Sprintf("order-platform-merchant-%d", i)
		var got [2]createAnswer
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() { got[g] = p.create(t, g, key, "Corner Coffee") })
		}
		wg.Wait()
		for g, a := range got {
			if a.code != http.StatusOK || a.id == "" {
				t.Fatalf("round %d, gateway %d: HTTP %d %s", i, g+1, a.code, a.body)
			}
		}
		if got[0].id != got[1].id {
			t.Fatalf("round %d: the gateways answered companies %s and %s, want one", i, got[0].id, got[1].id)
		}
		if (got[0].replayed == "true") == (got[1].replayed == "true") {
			t.Fatalf("round %d: Idempotent-Replayed %q and %q; exactly one answer is the replay", i, got[0].replayed, got[1].replayed)
		}
		ids[got[0].id] = true
	}
	if len(ids) != rounds {
		t.Errorf("%d rounds made %d distinct companies", rounds, len(ids))
	}
	for g, st := range p.stores {
		timeout := time.After(20 * time.Second)
	wait:
		for len(st.Companies()) < rounds {
			select {
			case <-st.Changed():
			case <-timeout:
				break wait
			}
		}
		if n := len(st.Companies()); n != rounds {
			t.Errorf("gateway %d's control plane holds %d companies, want %d", g+1, n, rounds)
		}
	}
}

// What a caller gets back for each way of using the header, on either
// gateway and over gRPC.
func TestIdempotencyKeyAnswers(t *testing.T) {
	p := newGatewayPair(t)
	first := p.create(t, 0, "k-1", "Corner Coffee")
	if first.code != http.StatusOK || first.replayed != "" {
		t.Fatalf("first use: HTTP %d, Idempotent-Replayed %q: %s", first.code, first.replayed, first.body)
	}
	again := p.create(t, 1, "k-1", "Corner Coffee")
	if again.code != http.StatusOK || again.id != first.id || again.replayed != "true" {
		t.Errorf("same key on the other gateway: HTTP %d, id %s (want %s), Idempotent-Replayed %q", again.code, again.id, first.id, again.replayed)
	}
	other := p.create(t, 1, "k-1", "Another Shop")
	if other.code != http.StatusBadRequest || !strings.Contains(other.body, "Idempotency-Key: this key was first used with another name") {
		t.Errorf("same key, other name: HTTP %d %s; want 400 naming the header", other.code, other.body)
	}
	for _, bad := range []string{strings.Repeat("k", 256), "two words"} {
		a := p.create(t, 0, bad, "Corner Coffee")
		if a.code != http.StatusBadRequest || !strings.Contains(a.body, "Idempotency-Key: must be 1 to 255 printable ASCII characters") {
			t.Errorf("key %.20q…: HTTP %d %s; want 400 naming the header and its limit", bad, a.code, a.body)
		}
	}
	if a := p.create(t, 0, strings.Repeat("k", 255), "Corner Coffee"); a.code != http.StatusOK {
		t.Errorf("a 255-character key: HTTP %d %s", a.code, a.body)
	}
	x, y := p.create(t, 0, "", "Corner Coffee"), p.create(t, 1, "", "Corner Coffee")
	if x.id == "" || x.id == y.id {
		t.Errorf("without a key two requests made %q and %q; want two companies", x.id, y.id)
	}

	// gRPC callers send the key as metadata.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+p.key, "idempotency-key", "k-1")
	var header metadata.MD
	c, err := p.grpc[0].CreateCompany(ctx, &v1.CreateCompanyRequest{Name: "Corner Coffee"}, grpc.Header(&header))
	if err != nil || c.GetId() != first.id || strings.Join(header.Get("idempotent-replayed"), "") != "true" {
		t.Errorf("gRPC with the key: %v, %v, replayed %v; want %s, replayed", c.GetId(), err, header.Get("idempotent-replayed"), first.id)
	}
}

// A gateway started without an operator token keeps the admin API shut,
// and says how to open it.
func TestAdminAPIIsShutWithoutAnOperatorToken(t *testing.T) {
	p := newGatewayPair(t)
	req, err := http.NewRequest(http.MethodGet, p.urls[0]+"/admin/v1/tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer cso_0123456789abcdef0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "COMMERCESYNC_ADMIN_TOKEN") {
		t.Errorf("admin API without a token: HTTP %d %s; want 403 naming COMMERCESYNC_ADMIN_TOKEN", resp.StatusCode, b)
	}
}

// A key issued, or a company made, through one gateway works at once on
// another, however far behind the control topic that one's view is.
func TestWritesThroughOneGatewayServeOnAnother(t *testing.T) {
	p := newGatewayPair(t)
	ctx := context.Background()
	tenant, _ := p.stores[0].Tenants("", 1)
	if len(tenant) != 1 {
		t.Fatal("no development tenant")
	}
	get := func(url, key string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 50 {
		_, secret, err := p.stores[0].IssueAPIKey(ctx, tenant[0].GetId(), "", []v1.Scope{v1.Scope_SCOPE_READ})
		if err != nil {
			t.Fatal(err)
		}
		if code := get(p.urls[1]+"/v1/platforms", secret); code != http.StatusOK {
			t.Fatalf("round %d: a key issued through the first gateway answered %d on the second", i, code)
		}
		made := p.create(t, 0, "", fmt.Sprintf("Shop %d", i))
		if code := get(p.urls[1]+"/v1/companies/"+made.id, p.key); code != http.StatusOK {
			t.Fatalf("round %d: a company made through the first gateway answered %d on the second", i, code)
		}
	}
}
