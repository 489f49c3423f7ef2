package push_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/connectors/xero"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/push"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const (
	clientID, clientSecret = "push-test", "push-test-secret"
	redirect               = "http://127.0.0.1:1/v1/oauth/callback" // the consent only reads the redirect
)

// flaky stands between the worker and the Xero sandbox on a real socket. It
// answers the identity call (GET /connections, the worker's access check)
// with each of its faults in turn, then passes everything through, and
// keeps the order of what it saw.
type flaky struct {
	next http.Handler

	mu     sync.Mutex
	faults []string // "503" or "drop", one per /connections call
	seen   []string // "<path> <status or drop>"
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fault := ""
	if r.URL.Path == xerosandbox.ConnectionsPath && len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	switch fault {
	case "503":
		f.log(r.URL.Path + " 503")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("The Xero API is currently offline for maintenance"))
	case "drop":
		// The network fails: the connection closes without an answer.
		f.log(r.URL.Path + " drop")
		panic(http.ErrAbortHandler)
	default:
		f.log(r.Method + " " + r.URL.Path)
		f.next.ServeHTTP(w, r)
	}
}

func (f *flaky) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
}

func (f *flaky) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// env is a push worker's world: a real broker with the control and outbox
// topics, the Xero sandbox behind the flaky proxy, and a company whose
// connection was authorised through the sandbox's consent page.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   *control.Store
	outbox  *view.Outbox
	writer  *view.OutboxWriter
	sandbox *xerosandbox.Server
	proxy   *flaky
	conn    connectors.Connector
	connID  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b, err := kafka.StartBroker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	topics := kafka.DefaultTopics()
	admin, err := kgo.NewClient(kafka.ClientOpts(b.Cluster(), log)...)
	if err != nil {
		t.Fatal(err)
	}
	err = kafka.EnsureTopics(ctx, admin, topics.Specs(1))
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := control.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	store, err := control.Open(ctx, b.Cluster(), topics.Control, sealer, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	outbox, err := view.OpenOutbox(ctx, b.Cluster(), topics.Outbox, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(outbox.Close)
	writer, err := view.NewOutboxWriter(b.Cluster(), topics.Outbox, outbox, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(writer.Close)

	sb := xerosandbox.New(xerosandbox.WithClient(xerosandbox.Client{ID: clientID, Secret: clientSecret, Name: "push test", RedirectURIs: []string{redirect}}))
	sbURL, shutdown, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	target, _ := url.Parse(sbURL)
	proxy := &flaky{next: httputil.NewSingleHostReverseProxy(target)}
	conn := xero.New(xero.WithClientID(clientID), xero.WithClientSecret(clientSecret), xero.WithSandboxBase(serve(t, proxy)), xero.WithLogger(log))
	e := &env{t: t, ctx: ctx, store: store, outbox: outbox, writer: writer, sandbox: sb, proxy: proxy, conn: conn}
	e.link()
	return e
}

// link authorises the connection the way the merchant does and stores it
// Linked, its token sealed, as the OAuth callback would.
func (e *env) link() {
	t := e.t
	cfg := e.conn.OAuthConfig(redirect)
	back, err := xerosandbox.Approve(e.ctx, http.DefaultClient, cfg.AuthCodeURL("state-1"), "")
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	tok, err := cfg.Exchange(e.ctx, back.Query().Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	e.connID = control.NewID()
	sealed, err := control.SealToken(e.store.Sealer(), e.connID, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutConnection(e.ctx, &v1.Connection{
		Id: e.connID, CompanyId: "company-1", PlatformKey: "xero", PlatformName: "Xero", Status: control.StatusLinked,
		PlatformTenantId: xerosandbox.DefaultTenantID, Token: sealed,
	}); err != nil {
		t.Fatal(err)
	}
}

// plan writes a planned journal of 12.34 for the company.
func (e *env) plan() string {
	org, _ := e.sandbox.Organisation(xerosandbox.DefaultTenantID)
	id := map[string]string{}
	for _, a := range org.Accounts {
		id[a.Code] = a.AccountID
	}
	doc := &v1.Document{Type: "ManualJournal", Date: "2026-03-10", Currency: "USD", Narration: "Daily sales 2026-03-10 [CS-PUSH-1]", Lines: []*v1.DocumentLine{
		{AccountId: id["610"], AccountCode: "610", Amount: "12.34", Description: "Card"},
		{AccountId: id["200"], AccountCode: "200", Amount: "-12.34", Description: "Sales"},
	}}
	entry := &v1.OutboxEntry{
		CompanyId: "company-1", ConnectionId: e.connID, PlatformKey: "xero", SummaryId: "summary-1", DocumentId: "document-1",
		Reference: "CS-PUSH-1", BusinessDay: "2026-03-10", Currency: "USD", Revision: 1, ConfigVersion: 1,
		State: v1.OutboxState_OUTBOX_STATE_PLANNED, Document: doc,
	}
	if err := e.writer.Put(e.ctx, entry); err != nil {
		e.t.Fatal(err)
	}
	return entry.GetDocumentId()
}

// run starts the worker, as a process starting would.
func (e *env) run() {
	w := push.New(e.outbox, e.writer, e.store, map[string]connectors.Connector{"xero": e.conn}, redirect, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("worker: %v", err)
		}
	})
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartCheckTransientFailuresKeepTheConnectionLinked: the worker's
// start-of-process access check meets a 503 and then a dropped connection.
// Neither says anything about the grant: the connection stays Linked and
// its document waits, unsent, until a check gets through; then it goes.
func TestStartCheckTransientFailuresKeepTheConnectionLinked(t *testing.T) {
	e := newEnv(t)
	doc := e.plan()
	// Go's transport retries a GET once when its connection closes without
	// an answer, so two drops in a row make one failed check.
	e.proxy.faults = []string{"503", "drop", "drop"}
	e.run()

	eventually(t, 20*time.Second, "the document confirmed", func() bool {
		d, _ := e.outbox.Doc(doc)
		return d.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED
	})
	calls := e.proxy.calls()
	checks := 0
	for i, c := range calls {
		if strings.HasPrefix(c, xerosandbox.ConnectionsPath) {
			checks++
			continue
		}
		if strings.Contains(c, "/ManualJournals") && (checks < 3 || !slices.Contains(calls[:i], "GET "+xerosandbox.ConnectionsPath)) {
			t.Fatalf("a journal call went before a check got through: %v", calls)
		}
	}
	if checks != 3 || !slices.Contains(calls, "GET "+xerosandbox.ConnectionsPath) {
		t.Fatalf("calls %v: want the 503, the dropped calls, then a check that got through", calls)
	}
	conn, _ := e.store.Connection(e.connID)
	if conn.GetStatus() != control.StatusLinked || len(conn.GetDataConnectionErrors()) != 0 {
		t.Fatalf("connection %s with errors %v after transient failures, want Linked and none", conn.GetStatus(), conn.GetDataConnectionErrors())
	}
	if n := len(e.sandbox.ManualJournals(xerosandbox.DefaultTenantID)); n != 1 {
		t.Fatalf("the sandbox holds %d journals, want 1", n)
	}
}

// TestStartCheckRefusedGrantDeauthorizesBeforeAnyPush: the sandbox has
// forgotten the connection's tokens (a fresh one, as after a restart in
// memory). The start-of-process check marks the connection Deauthorized,
// with Codat's error record, and its document is never sent.
func TestStartCheckRefusedGrantDeauthorizesBeforeAnyPush(t *testing.T) {
	e := newEnv(t)
	doc := e.plan()
	// A second sandbox on a new port takes the first one's place: same
	// organisation, none of its tokens.
	fresh := xerosandbox.New(xerosandbox.WithClient(xerosandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirect}}))
	freshURL, shutdown, err := fresh.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	target, _ := url.Parse(freshURL)
	e.proxy.next = httputil.NewSingleHostReverseProxy(target)
	e.run()

	eventually(t, 20*time.Second, "the connection deauthorized", func() bool {
		c, _ := e.store.Connection(e.connID)
		return c.GetStatus() == control.StatusDeauthorized
	})
	c, _ := e.store.Connection(e.connID)
	errs := c.GetDataConnectionErrors()
	if len(errs) != 1 || errs[0].GetStatusCode() != "400" || errs[0].GetStatusText() != "invalid_grant" || !strings.Contains(errs[0].GetErrorMessage(), "reconnect Xero") {
		t.Fatalf("dataConnectionErrors %v: want Xero's 400 invalid_grant and what to do", errs)
	}
	if d, _ := e.outbox.Doc(doc); d.GetState() != v1.OutboxState_OUTBOX_STATE_PLANNED || d.GetAttempts() != 0 {
		t.Fatalf("document %s after %d attempts, want still planned and never sent", d.GetState(), d.GetAttempts())
	}
	for _, call := range e.proxy.calls() {
		if strings.Contains(call, "/ManualJournals") {
			t.Fatalf("a journal call went out on a deauthorized connection: %v", e.proxy.calls())
		}
	}
}
