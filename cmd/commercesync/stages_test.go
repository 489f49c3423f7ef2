package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/loadgen"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within a minute: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond) // another process starting: nothing to wait on but its port
	}
}

// The stages run as separate processes against one broker process: two
// gateways, three windows, two planners and two push workers, with the
// Xero sandbox on its own. Merchants onboard through either gateway, their
// days seal and post; one window, one planner and one push worker are then
// killed with SIGKILL and started again, and the next merchants' days seal
// and post too. Every company's ledger holds exactly what was sent, and
// the platform each confirmed document once.
func TestStagesRunAsSeparateProcesses(t *testing.T) {
	// Merchants per loadgen run (two runs), business days and orders per
	// merchant-day: 2,000 merchants over 7 days, about 115,000 records in
	// all (an order comes with its payment, and mostly a card's payment
	// and fee transactions, and each day with a payout), about 1,000,000
	// with COMMERCESYNC_LONG, and a few hundred with -short.
	merchants, days, orders := 1000, 7, 2
	switch {
	case testing.Short():
		merchants, days, orders = 3, 2, 10
	case os.Getenv("COMMERCESYNC_LONG") != "":
		orders = 20
	}
	for env, v := range map[string]*int{"STAGES_MERCHANTS": &merchants, "STAGES_DAYS": &days, "STAGES_ORDERS": &orders} {
		if s := os.Getenv(env); s != "" {
			fmt.Sscan(s, v)
		}
	}
	allDays := fmt.Sprint(merchants * days)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	token := "cso_" + base64.RawURLEncoding.EncodeToString(key[:24])
	kafkaPort, xeroPort, gw1, gw2, grpc1, grpc2 := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	brokers := fmt.Sprintf("127.0.0.1:%d", kafkaPort)
	t.Setenv("COMMERCESYNC_SEALING_KEY", base64.StdEncoding.EncodeToString(key))
	t.Setenv("KAFKA_BROKERS", brokers)
	t.Setenv("COMMERCESYNC_ADMIN_TOKEN", token)
	t.Setenv("COMMERCESYNC_XERO_CLIENT_SECRET", "commercesync-dev-secret")
	t.Setenv("COMMERCESYNC_LOG_FORMAT", "json")

	startWorker(t, fmt.Sprintf("broker -kafka-data %s -kafka-port %d", t.TempDir(), kafkaPort), false)
	waitTCP(t, brokers)
	gateway1 := fmt.Sprintf("http://127.0.0.1:%d", gw1)
	// An organisation per merchant, as each merchant has its own books,
	// and Xero's limits are per organisation. What it holds is read back
	// at the end through its own read routes.
	startWorker(t, fmt.Sprintf("sandbox xero -organisations %d -addr 127.0.0.1:%d -redirect-uri %s/v1/oauth/callback", 2*merchants, xeroPort, gateway1), false)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", xeroPort))
	platform := fmt.Sprintf("-platforms xero -xero-client-id commercesync-dev -xero-sandbox http://127.0.0.1:%d", xeroPort)
	// Every stage process serves its ops endpoints where the test scrapes
	// them.
	var opsPorts []int
	ops := func() string {
		p := freePort(t)
		opsPorts = append(opsPorts, p)
		return fmt.Sprintf(" -ops 127.0.0.1:%d", p)
	}
	// A sink copies what reconciliation reads into a ClickHouse server,
	// which the first gateway reads; the second has none.
	ch := chtest.Start(t)
	startWorker(t, fmt.Sprintf("gateway -http 127.0.0.1:%d -grpc 127.0.0.1:%d%s %s -clickhouse %s -clickhouse-database %s",
		gw1, grpc1, ops(), platform, ch.Addr, ch.Database), false)
	startWorker(t, fmt.Sprintf("gateway -http 127.0.0.1:%d -grpc 127.0.0.1:%d -public-url %s %s", gw2, grpc2, gateway1, platform), false)
	waitHTTP(t, gateway1+"/openapi.json")
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/openapi.json", gw2))
	windows := []*exec.Cmd{}
	for range 3 {
		w, _ := startWorker(t, "window -session-timeout 6s"+ops(), false)
		windows = append(windows, w)
	}
	var plans, pushes []*exec.Cmd
	for range 2 {
		p, _ := startWorker(t, "plan -platforms xero -session-timeout 6s"+ops(), false)
		plans = append(plans, p)
		u, _ := startWorker(t, "push -session-timeout 6s -callback "+gateway1+"/v1/oauth/callback "+platform+ops(), false)
		pushes = append(pushes, u)
	}
	killed := map[int]bool{1: true, 4: true, 5: true} // the ops ports of windows[0], plans[0], pushes[0]
	startWorker(t, fmt.Sprintf("sink -clickhouse %s -clickhouse-database %s -linger 200ms%s", ch.Addr, ch.Database, ops()), false)

	// An operator makes the tenant and its key through the second gateway.
	t.Setenv("COMMERCESYNC_URL", fmt.Sprintf("http://127.0.0.1:%d", gw2))
	out, err := admin(t, fmt.Sprintf("http://127.0.0.1:%d", gw2), "tenants", "create", "-name", "Shopfront POS")
	m := tenantLine.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("tenants create: %v\n%s", err, out)
	}
	out, err = admin(t, fmt.Sprintf("http://127.0.0.1:%d", gw2), "keys", "create", "-tenant", m[1], "-scopes", "ingest,configure,read")
	s := secretLine.FindStringSubmatch(out)
	if err != nil || s == nil {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	t.Setenv("COMMERCESYNC_API_KEY", s[1])

	pushLoad := func(seed, via, grpcAddr string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		offset := "0"
		if seed == "22" {
			offset = fmt.Sprint(merchants)
		}
		args := []string{"loadgen", "-url", gateway1, "-grpc", grpcAddr, "-via", via, "-brokers", brokers, "-platform", "xero",
			"-organisations", fmt.Sprint(2 * merchants), "-organisation-offset", offset,
			"-merchants", fmt.Sprint(merchants), "-days", fmt.Sprint(days), "-orders", fmt.Sprint(orders), "-seed", seed, "-start", "2026-03-02",
			"-wait", "10m", "-late", "0.02", "-updated", "0.02", "-deleted", "0.01"}
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("loadgen: %v\n%s%s", err, out.String(), errOut.String())
		}
		t.Logf("loadgen -seed %s -via %s:\n%s", seed, via, out.String())
		return out.String()
	}
	got := pushLoad("21", "rest", fmt.Sprintf("127.0.0.1:%d", grpc1))
	for _, want := range []string{"accepted → sealed summary: " + allDays + " of " + allDays + " days", "accepted → confirmed document: " + allDays + " of " + allDays + " days"} {
		if !strings.Contains(got, want) {
			t.Fatalf("before the kill: no %q in\n%s", want, got)
		}
	}

	// SIGKILL one of each, and start them again.
	for _, c := range []*exec.Cmd{windows[0], plans[0], pushes[0]} {
		_ = c.Process.Kill()
		_, _ = c.Process.Wait()
	}
	startWorker(t, "window -session-timeout 6s"+ops(), false)
	startWorker(t, "plan -platforms xero -session-timeout 6s"+ops(), false)
	startWorker(t, "push -session-timeout 6s -callback "+gateway1+"/v1/oauth/callback "+platform+ops(), false)
	got = pushLoad("22", "grpc", fmt.Sprintf("127.0.0.1:%d", grpc2))
	for _, want := range []string{"accepted → sealed summary: " + allDays + " of " + allDays + " days", "accepted → confirmed document: " + allDays + " of " + allDays + " days"} {
		if !strings.Contains(got, want) {
			t.Fatalf("after the kill: no %q in\n%s", want, got)
		}
	}

	// Every company's documents, through the other gateway: each day's
	// (with its revisions, which late records make) planned and, once the
	// platform's rate limit lets them through, confirmed.
	hc := &http.Client{Timeout: time.Minute}
	a := &api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", gw2), key: s[1], hc: hc}
	type doc struct {
		DocumentID, BusinessDay, State, DocumentType, ExternalID string
		Revision                                                 int
	}
	var (
		mu   sync.Mutex
		all  []doc
		orgs = map[string]string{} // organisation → a company posting to it
	)
	get := func(path string, out any) error {
		req, err := http.NewRequest("GET", a.base+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s[1])
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("GET %s answered %d: %s", path, resp.StatusCode, b)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	check := func(seed string, i int) error {
		// The company loadgen made, found again by its idempotency key.
		req, err := http.NewRequest("POST", a.base+"/v1/companies", strings.NewReader(fmt.Sprintf(`{"name":"Loadgen merchant %d"}`, i)))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s[1])
		req.Header.Set("Idempotency-Key", fmt.Sprintf("loadgen-%s-%d", seed, i))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		var c struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Idempotent-Replayed") != "true" {
			return fmt.Errorf("company %s/%d: HTTP %d, %v", seed, i, resp.StatusCode, err)
		}
		var st struct{ Documents []doc }
		deadline := time.Now().Add(4 * time.Minute)
		for {
			if err := get("/v1/companies/"+c.ID+"/sync/commerce/status", &st); err != nil {
				return err
			}
			done := len(st.Documents) > 0
			for _, d := range st.Documents {
				done = done && d.State == "Confirmed"
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("company %s: documents not all confirmed within 4 minutes: %+v", c.ID, st.Documents)
			}
			time.Sleep(500 * time.Millisecond) // the push workers' pace, the platform's limit
		}
		// The ledger holds exactly what was sent, account by account.
		var ld ledgerDays
		if err := get("/v1/companies/"+c.ID+"/ledger/days", &ld); err != nil {
			return err
		}
		spec := loadgen.Spec{Merchants: merchants, Days: days, OrdersPerDay: orders, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
			Late: 0.02, Updated: 0.02, Deleted: 0.01}
		fmt.Sscan(seed, &spec.Seed)
		if diff := sameBooks(expectedBooks(t, spec, i), ledgerBooks(ld)); diff != "" {
			t.Errorf("company %s (seed %s, merchant %d): the ledger is not what was sent: %s", c.ID, seed, i, diff)
		}
		posted := map[string]bool{}
		for _, d := range st.Documents {
			if d.Revision == 1 {
				posted[d.BusinessDay] = true
			}
		}
		for d := range days {
			if day := spec.Start.AddDate(0, 0, d).Format(time.DateOnly); !posted[day] {
				t.Errorf("company %s: no revision 1 posted for %s (posted: %v)", c.ID, day, posted)
			}
		}
		offset := 0
		if seed == "22" {
			offset = merchants
		}
		mu.Lock()
		defer mu.Unlock()
		all = append(all, st.Documents...)
		orgs[xerosandbox.TenantID((offset+i)%(2*merchants))] = c.ID
		return nil
	}
	var g errgroup.Group
	g.SetLimit(8)
	for _, seed := range []string{"21", "22"} {
		for i := range merchants {
			g.Go(func() error { return check(seed, i) })
		}
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	// Between them, the stages' processes serve every metric the README
	// lists, and say they are ready.
	var scraped strings.Builder
	for i, port := range opsPorts {
		if killed[i] {
			continue
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		waitHTTP(t, base+"/readyz")
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		scraped.Write(b)
	}
	// No push was refused and retried: the push processes kept each
	// organisation under Xero's 60 calls a minute and, between them, the
	// app under its 10,000.
	for _, m := range regexp.MustCompile(`(?m)^commercesync_push_outcomes_total\{outcome="retried",platform="xero"\} (\S+)$`).FindAllStringSubmatch(scraped.String(), -1) {
		if m[1] != "0" {
			t.Errorf("a push process retried %s pushes; the platform refused calls", m[1])
		}
	}
	for _, name := range readmeMetrics(t) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{|_bucket\{|_count | )`).MatchString(scraped.String()) {
			t.Errorf("no stage process serves %s", name)
		}
	}

	// The platform holds each confirmed document once: no journal or bank
	// transaction twice, and as many as were confirmed. Read back through
	// the sandbox's read routes, organisation by organisation, as Xero's
	// own API would list them.
	held := map[string]int{}
	for org := range orgs {
		for _, route := range []struct{ path, list, id string }{
			{"ManualJournals", "ManualJournals", "ManualJournalID"}, {"BankTransactions", "BankTransactions", "BankTransactionID"},
		} {
			resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/sandbox/api.xro/2.0/%s?tenantId=%s", xeroPort, route.path, org))
			if err != nil {
				t.Fatal(err)
			}
			var page map[string]json.RawMessage
			var docs []map[string]any
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err == nil {
				err = json.Unmarshal(page[route.list], &docs)
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s of %s: HTTP %d, %v", route.path, org, resp.StatusCode, err)
			}
			for _, e := range docs {
				if id, _ := e[route.id].(string); id != "" {
					held[id]++
				}
			}
		}
	}
	for _, d := range all {
		if held[d.ExternalID] != 1 {
			t.Errorf("document %s (%s %s r%d) confirmed as %q, which the platform holds %d times", d.DocumentID, d.DocumentType,
				d.BusinessDay, d.Revision, d.ExternalID, held[d.ExternalID])
		}
	}
	if n := len(held); n != len(all) {
		t.Errorf("the platform holds %d documents; %d were confirmed: some were posted twice", n, len(all))
	}
	t.Logf("%d companies, %d days, %d documents confirmed and each held once", 2*merchants, 2*merchants*days, len(all))

	// Reconciliation, through the first gateway from the sink's store:
	// every day of a sample of companies reads matched across the records,
	// the ledger and the platform. The second gateway has no store and
	// says so.
	from, to := "2026-03-02", time.Date(2026, 3, 2+days-1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	a1 := &api{t: t, base: gateway1, key: s[1], hc: hc}
	sampled := 0
	for _, company := range orgs {
		if sampled++; sampled > 20 {
			break
		}
		var rec struct {
			Days []struct{ BusinessDay, Status, Reason string }
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			a1.must("GET", "/v1/companies/"+company+"/reconciliation?from="+from+"&to="+to, nil, &rec)
			matched := 0
			for _, d := range rec.Days {
				if d.Status == "matched" {
					matched++
				}
			}
			report := rec.Days
			if matched == days && len(report) == days {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("company %s: reconciliation after 2 minutes: %+v; want %d days matched", company, report, days)
			}
			time.Sleep(100 * time.Millisecond) // the sink's next batch
		}
	}
	var off struct{ Message string }
	if code := a.do("GET", "/v1/companies/"+orgs[xerosandbox.TenantID(0)]+"/reconciliation?from="+from+"&to="+to, nil, &off); code != http.StatusServiceUnavailable ||
		!strings.Contains(off.Message, "reconciliation is off") {
		t.Errorf("the gateway without a store answered %d %q; want 503 saying reconciliation is off", code, off.Message)
	}
}

// waitTCP waits until addr takes connections.
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s took no connection within a minute: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond) // another process starting
	}
}
