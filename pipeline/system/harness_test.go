package system_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The two New York business days the tests push (EDT, UTC-4, after the
// 2026-03-08 change). The clock starts the next day, after both have ended.
var (
	ny         = mustZone("America/New_York")
	day1, day2 = "2026-03-10", "2026-03-11"
	testStart  = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)
)

const tenant = xerosandbox.DefaultTenantID

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// dayEnd is the instant a New York business day ends (cutoff hour 0).
func dayEnd(d string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, d, ny)
	if err != nil {
		panic(err)
	}
	return t.AddDate(0, 0, 1)
}

// clock is the injected clock: it starts at a fixed instant and moves with
// real time, and a test can jump it forward (token lifetimes, Xero's
// idempotency memory, rate windows, retry schedules all read it).
type clock struct {
	start, t0 time.Time
	speed     time.Duration // injected time per real time; 0 is 1

	mu     sync.Mutex
	offset time.Duration
	frozen *time.Time
}

func newClock(start time.Time) *clock { return &clock{start: start, t0: time.Now()} }

// newFastClock is a clock that runs speed times faster than real time.
func newFastClock(start time.Time, speed int) *clock {
	return &clock{start: start, t0: time.Now(), speed: time.Duration(speed)}
}

// Sleep waits until the clock has moved on by d, or ctx ends.
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	real := d
	if c.speed > 1 {
		real = (d + c.speed - 1) / c.speed
	}
	t := time.NewTimer(real)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		return *c.frozen
	}
	return c.start.Add(c.elapsed() + c.offset)
}

// elapsed is the injected time since the clock started.
func (c *clock) elapsed() time.Duration {
	if c.speed > 1 {
		return time.Since(c.t0) * c.speed
	}
	return time.Since(c.t0)
}

// Jump moves the clock forward by d.
func (c *clock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	if c.frozen != nil {
		f := c.frozen.Add(d)
		c.frozen = &f
	}
}

// Freeze stops the clock until the returned function is called; time then
// goes on from where it stopped.
func (c *clock) Freeze() (at time.Time, thaw func()) {
	at = c.Now()
	c.mu.Lock()
	c.frozen = &at
	c.mu.Unlock()
	return at, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.offset = c.frozen.Sub(c.start.Add(c.elapsed()))
		c.frozen = nil
	}
}

func testLogger() *slog.Logger {
	if testing.Verbose() && os.Getenv("SYSTEM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// start runs a whole commercesync in-process on a fresh embedded broker and
// sandbox, with no clock ticks: days seal only when a test says so. stop
// closes it early (a restart); cleanup closes it otherwise.
func start(t *testing.T, clk *clock, opts ...system.Option) (*system.System, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sys, err := system.Start(ctx, append([]system.Option{
		system.WithClock(clk.Now), system.WithTick(0), system.WithLogger(testLogger()),
	}, opts...)...)
	if err != nil {
		cancel()
		t.Fatalf("start system: %v", err)
	}
	var closed atomic.Bool
	stop := func() {
		if closed.CompareAndSwap(false, true) {
			sys.Close()
			cancel()
		}
	}
	t.Cleanup(func() {
		stop()
		if err := sys.Err(); err != nil {
			t.Errorf("a component stopped with an error: %v", err)
		}
	})
	return sys, stop
}

// produceRaw writes records straight to the system's broker, past the
// gateway: what a broken producer would write.
func produceRaw(t testing.TB, sys *system.System, rs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kafka.ClientOpts(kafka.Seeds(sys.Brokers...), nil)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// merchant drives one company over the REST API, as a platform would.
type merchant struct {
	t       testing.TB
	sys     *system.System
	hc      *http.Client
	base    string
	key     string
	company string
	conn    string // the accounting connection id
	// org is the Xero organisation the merchant connects; "" is the
	// sandbox's default one.
	org string
}

// tenantID is the Xero tenant id of the merchant's organisation.
func (m *merchant) tenantID() string {
	if m.org != "" {
		return m.org
	}
	return tenant
}

// newMerchant's client keeps cookies, as the merchant's browser does: the
// link sets the OAuth state cookie the callback checks.
func newMerchant(t testing.TB, sys *system.System) *merchant {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &merchant{t: t, sys: sys, hc: &http.Client{Timeout: 30 * time.Second, Jar: jar}, base: sys.HTTPURL, key: sys.DevKey}
}

func (m *merchant) do(method, path string, body any) (int, []byte) {
	m.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			m.t.Fatalf("encode %s %s: %v", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, m.base+path, rd)
	if err != nil {
		m.t.Fatalf("request %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+m.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.hc.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, raw
}

func (m *merchant) must(method, path string, body, out any) {
	m.t.Helper()
	code, raw := m.do(method, path, body)
	if code != http.StatusOK {
		m.t.Fatalf("%s %s answered %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			m.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

func (m *merchant) createCompany() {
	var c struct{ ID string }
	m.must("POST", "/v1/companies", map[string]any{"name": "Corner Coffee"}, &c)
	m.company = c.ID
}

// connect authorises Xero as a merchant's browser does: it opens the
// connection's linkUrl (which sets the state cookie and redirects to the
// sandbox's consent page), allows access, and follows the platform back to
// the OAuth callback. It returns the new connection's id.
func (m *merchant) connect() string {
	t := m.t
	t.Helper()
	var conn struct{ ID, Status, LinkURL string }
	m.must("POST", "/v1/companies/"+m.company+"/connections", map[string]any{"platformKey": "xero"}, &conn)
	back, err := xerosandbox.Approve(context.Background(), m.hc, conn.LinkURL, m.org)
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	resp, err := m.hc.Get(back.String())
	if err != nil {
		t.Fatalf("oauth callback: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "is connected") {
		t.Fatalf("oauth callback answered %d: %s", resp.StatusCode, page)
	}
	m.must("GET", "/v1/companies/"+m.company+"/connections/"+conn.ID, nil, &conn)
	if conn.Status != "Linked" {
		t.Fatalf("connection %s is %q after the callback, want Linked", conn.ID, conn.Status)
	}
	m.conn = conn.ID
	return conn.ID
}

// saveConfig saves a journal-mode configuration in Codat's shape, mapping
// sales to salesCode, and returns the version.
func (m *merchant) saveConfig(salesCode string) string {
	t := m.t
	t.Helper()
	org, ok := m.sys.Xero.Organisation(m.tenantID())
	if !ok {
		t.Fatalf("the sandbox has no organisation %s", m.tenantID())
	}
	slot := func(code string) map[string]any {
		for _, a := range org.Accounts {
			if a.Code == code {
				return map[string]any{"selectedAccountId": a.AccountID, "required": true,
					"accountOptions": []map[string]any{{"id": a.AccountID, "name": a.Name, "nominalCode": a.Code}}}
			}
		}
		t.Fatalf("the sandbox chart has no account %s", code)
		return nil
	}
	cfg := map[string]any{
		"enable": true,
		"schedule": map[string]any{"selectedFrequency": "Daily", "frequencyOptions": []string{"Daily"},
			"syncHour": 0, "timeZone": "America/New_York", "graceMinutes": 2 * 24 * 60},
		"configuration": map[string]any{
			"countryCode": "US",
			"mapSettings": map[string]any{"outputFormat": "JournalEntry"},
			"sales": map[string]any{"syncSales": true, "accounts": map[string]any{
				"sales": slot(salesCode), "tax": slot("820"), "gratuity": slot("801")}},
			"payments": map[string]any{"syncPayments": true, "accounts": map[string]any{
				"card": slot("610"), "cash": slot("611"), "unsettled": slot("612")}},
			"fees": map[string]any{"syncFees": true, "accounts": map[string]any{"paymentFee": slot("404")}},
		},
	}
	var saved struct{ Version string }
	m.must("PUT", "/v1/companies/"+m.company+"/sync/commerce/config", cfg, &saved)
	return saved.Version
}

// onboard creates the company, connects Xero and saves a configuration
// mapping sales to account 200.
func (m *merchant) onboard() {
	m.createCompany()
	m.connect()
	if v := m.saveConfig("200"); v != "1" {
		m.t.Fatalf("first configuration version = %q, want 1", v)
	}
}

// pushDay sends n card-paid orders of business day d, and their payments.
func (m *merchant) pushDay(d string, n int) {
	m.t.Helper()
	m.pushCardOrders(d, "ord-"+d, n)
}

// pushCardOrders sends n card-paid orders of business day d, with ids
// prefix-0…, and their payments; order i is 10.00 + i × 1.00 before 8.5%
// tax of 0.85 + i × 0.08.
func (m *merchant) pushCardOrders(d, prefix string, n int) {
	t := m.t
	t.Helper()
	noon, err := time.ParseInLocation(time.DateOnly, d, ny)
	if err != nil {
		t.Fatal(err)
	}
	noon = noon.Add(12 * time.Hour)
	var orders, payments []map[string]any
	for i := range n {
		o, p := cardOrder(fmt.Sprintf("%s-%d", prefix, i), noon.Add(time.Duration(i)*time.Minute), int64(1000+100*i), int64(85+8*i))
		orders, payments = append(orders, o), append(payments, p)
	}
	m.pushRecords("commerce-orders", orders)
	m.pushRecords("commerce-payments", payments)
}

// cardOrder is an order of one line taxed at 8.5%, net and tax in cents,
// paid by card in full, and its Payment record.
func cardOrder(id string, at time.Time, net, tax int64) (order, payment map[string]any) {
	when := at.UTC().Format(time.RFC3339)
	cents := func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
	total := cents(net + tax)
	order = map[string]any{
		"id": id, "orderNumber": id, "country": "USA", "currency": "USD",
		"createdDate": when, "closedDate": when, "sourceModifiedDate": when,
		"totalAmount": total, "totalRefund": 0, "totalTaxAmount": cents(tax),
		"totalDiscount": 0, "totalGratuity": 0,
		"orderLineItems": []map[string]any{{"id": id + "-1", "quantity": 1, "taxPercentage": "8.5",
			"totalAmount": total, "totalTaxAmount": cents(tax), "unitPrice": cents(net)}},
		"payments":    []map[string]any{{"id": "pay-" + id, "amount": total, "currency": "USD", "type": "Card", "status": "Paid"}},
		"locationRef": map[string]any{"id": "loc-1"},
	}
	payment = map[string]any{
		"id": "pay-" + id, "amount": total, "currency": "USD", "type": "Card", "status": "Paid",
		"createdDate": when, "sourceModifiedDate": when,
	}
	return order, payment
}

// pushRecords sends records to a data route; every one must be accepted.
func (m *merchant) pushRecords(route string, recs []map[string]any) {
	m.t.Helper()
	code, raw := m.do("POST", "/v1/companies/"+m.company+"/data/"+route, recs)
	var resp struct{ Accepted, Rejected int }
	if err := json.Unmarshal(raw, &resp); code != http.StatusOK || err != nil || resp.Accepted != len(recs) {
		m.t.Fatalf("%s: %d of %d accepted (%d): %.2000s", route, resp.Accepted, len(recs), code, raw)
	}
}

// seal closes every business day up to and including d.
func (m *merchant) seal(d string) {
	m.t.Helper()
	var sum struct{ SyncStatusCode int }
	m.must("POST", "/v1/companies/"+m.company+"/sync/commerce/latest",
		map[string]any{"syncTo": dayEnd(d).UTC().Format(time.RFC3339)}, &sum)
	if sum.SyncStatusCode != 1000 {
		m.t.Fatalf("sync/latest status code = %d, want 1000", sum.SyncStatusCode)
	}
}

// status is GET sync/commerce/status, decoded as the API's own message.
func (m *merchant) status() *v1.SyncStatus {
	m.t.Helper()
	code, raw := m.do("GET", "/v1/companies/"+m.company+"/sync/commerce/status", nil)
	if code != http.StatusOK {
		m.t.Fatalf("status answered %d: %s", code, raw)
	}
	st := &v1.SyncStatus{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, st); err != nil {
		m.t.Fatalf("status %s: %v", raw, err)
	}
	return st
}

// waitDeauthorized polls until the status reads Codat's 4220, Deauthorized.
func (m *merchant) waitDeauthorized(timeout time.Duration) *v1.SyncStatus {
	m.t.Helper()
	var st *v1.SyncStatus
	deadline := time.Now().Add(timeout)
	for {
		st = m.status()
		if st.GetSyncStatusCode() == 4220 && st.GetSyncStatus() == "Deauthorized" {
			return st
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("timed out after %s waiting for 4220 Deauthorized; last status %d %s %q, %d failed",
				timeout, st.GetSyncStatusCode(), st.GetSyncStatus(), st.GetErrorMessage(), st.GetDocumentsFailed())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// doc returns the status of the document of business day d (revision 1).
func (m *merchant) doc(d string) *v1.DocumentStatus {
	for _, ds := range m.status().GetDocuments() {
		if ds.GetBusinessDay() == d && ds.GetRevision() == 1 {
			return ds
		}
	}
	return nil
}

// waitDoc polls until day d's document satisfies cond.
func (m *merchant) waitDoc(d string, timeout time.Duration, what string, cond func(*v1.DocumentStatus) bool) *v1.DocumentStatus {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		last := m.doc(d)
		if last != nil && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("timed out after %s waiting for day %s: %s; last seen %v", timeout, d, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *merchant) waitConfirmed(d string, timeout time.Duration) *v1.DocumentStatus {
	m.t.Helper()
	return m.waitDoc(d, timeout, "confirmed", func(ds *v1.DocumentStatus) bool { return ds.GetState() == "Confirmed" })
}

func isState(state string) func(*v1.DocumentStatus) bool {
	return func(ds *v1.DocumentStatus) bool { return ds.GetState() == state }
}

// journals returns the sandbox's journals of day d.
func journals(sys *system.System, d string) []xerosandbox.Journal {
	var out []xerosandbox.Journal
	for _, j := range sys.Xero.ManualJournals(tenant) {
		if j.Date == d {
			out = append(out, j)
		}
	}
	return out
}

// checkOneJournal asserts the sandbox holds exactly one journal for day d,
// carrying the document's reference, whose id is the confirmed external
// id, and that it balances.
func checkOneJournal(t testing.TB, sys *system.System, ds *v1.DocumentStatus) xerosandbox.Journal {
	t.Helper()
	js := journals(sys, ds.GetBusinessDay())
	if len(js) != 1 {
		t.Fatalf("day %s: the sandbox holds %d journals, want exactly 1: %+v", ds.GetBusinessDay(), len(js), js)
	}
	j := js[0]
	if ds.GetState() != "Confirmed" || ds.GetExternalId() != j.ID {
		t.Errorf("day %s: status says %s with external id %q; the sandbox's journal is %s", ds.GetBusinessDay(), ds.GetState(), ds.GetExternalId(), j.ID)
	}
	if !strings.HasSuffix(j.Narration, "["+ds.GetReference()+"]") {
		t.Errorf("day %s: journal narration %q does not end with the reference %s", ds.GetBusinessDay(), j.Narration, ds.GetReference())
	}
	sum := decimal.Zero
	for _, l := range j.Lines {
		sum = sum.Add(l.Amount)
	}
	if !sum.IsZero() {
		t.Errorf("day %s: journal lines sum to %s", ds.GetBusinessDay(), sum)
	}
	return j
}

// accountCodes lists the account codes a journal posts to.
func accountCodes(j xerosandbox.Journal) map[string]bool {
	out := map[string]bool{}
	for _, l := range j.Lines {
		out[l.AccountCode] = true
	}
	return out
}

// outboxHistory reads every record ever written for a document from the
// outbox topic: every attempt and outcome is an event there, in order.
func outboxHistory(t testing.TB, sys *system.System, documentID string) []*v1.OutboxEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*v1.OutboxEntry
	for p := range int32(6) {
		err := kafka.ReadPartition(ctx, kafka.Seeds(sys.Brokers...), kafka.DefaultTopics().Outbox, p, nil, func(r *kgo.Record) error {
			if string(r.Key) != documentID || r.Value == nil {
				return nil
			}
			e := &v1.OutboxEntry{}
			if err := proto.Unmarshal(r.Value, e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
		if err != nil {
			t.Fatalf("read the outbox: %v", err)
		}
	}
	return out
}

func describe(h []*v1.OutboxEntry) string {
	var b strings.Builder
	for _, e := range h {
		fmt.Fprintf(&b, "\n  %s attempts=%d class=%s at=%s cfg=v%d conn=%s msg=%q", e.GetState(), e.GetAttempts(), e.GetErrorClass(),
			time.UnixMilli(e.GetUpdatedUnixMs()).UTC().Format("15:04:05.000"), e.GetConfigVersion(), e.GetConnectionId(), e.GetErrorMessage())
	}
	return b.String()
}

// freeAddr returns a loopback address with a port that was free just now,
// below Linux's ephemeral range (32768 and up): a restarted process binds it
// again, and an ephemeral port may meanwhile be taken by any outgoing
// connection of the tests running in parallel.
func freeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+rand.IntN(12000)))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return ""
}
