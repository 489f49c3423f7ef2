package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
	"github.com/commercesync/commercesync/pipeline/system"
	"github.com/commercesync/commercesync/pipeline/window"
)

// TestMain lets the end-to-end tests run this test binary as a separate
// commercesync process (COMMERCESYNC_TEST_ARGS), so a window worker can be
// killed for real. Its fault hooks live here, in the test binary only.
func TestMain(m *testing.M) {
	if args := os.Getenv("COMMERCESYNC_TEST_ARGS"); args != "" {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		var hooks []window.Option
		if os.Getenv("COMMERCESYNC_FAULT_PAUSE_IN_TXN") == "1" {
			hooks = append(hooks, pauseInTransaction(ctx, os.Stderr))
		}
		if err := run(ctx, strings.Fields(args), os.Stdout, os.Stderr, hooks...); err != nil {
			fmt.Fprintln(os.Stderr, "commercesync:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pauseInTransaction stops the window inside the first transaction that
// seals a day, after its output reached the broker and before it commits,
// and says so on stderr, so a test can kill the process there.
func pauseInTransaction(ctx context.Context, stderr io.Writer) window.Option {
	return window.WithInTransactionHook(func(summaries int) {
		if summaries == 0 {
			return
		}
		fmt.Fprintf(stderr, "fault: paused inside a transaction holding %d summaries\n", summaries)
		<-ctx.Done()
		select {}
	})
}

// The two business days end at 2026-03-12T00:00 in New York (04:00Z); the
// clock starts the next noon.
var (
	testStart = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)
	syncTo    = time.Date(2026, 3, 12, 4, 0, 0, 0, time.UTC)
)

const seed = 20260310

// orderCount is the acceptance size, or the full size under make test-long.
func orderCount() int {
	if os.Getenv("COMMERCESYNC_LONG") != "" {
		return 100000
	}
	return 1000
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startSystem(t *testing.T, opts ...system.Option) *system.System {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if b := brokersFromEnv(); b != nil {
		// A real cluster instead of the in-process broker.
		opts = append(opts, system.WithBrokers(b))
	}
	sys, err := system.Start(ctx, append([]system.Option{
		system.WithClock(movingClock(testStart)), system.WithTick(0), system.WithLogger(testLogger(t)),
	}, opts...)...)
	if err != nil {
		cancel()
		t.Fatalf("start system: %v", err)
	}
	t.Cleanup(func() {
		sys.Close()
		cancel()
	})
	return sys
}

// TestEndToEnd pushes two days of a merchant's sales through the REST API
// and finds them in each platform's sandbox as two balanced journals whose
// every account matches the input; pushing it all again changes nothing.
func TestEndToEnd(t *testing.T) {
	for _, p := range platforms {
		t.Run(p.key, func(t *testing.T) { endToEnd(t, p) })
	}
}

func endToEnd(t *testing.T, p platform) {
	tg := chtest.Start(t)
	sys := startSystem(t, system.WithReconciliation(system.Reconciliation{Addr: tg.Addr, Database: tg.Database,
		SinkOptions: []sink.Option{sink.WithBatch(10_000, 20*time.Millisecond)}}))
	s := newScenario(t, sys, p, seed, orderCount())
	// A grace longer than the two days keeps sealing to the explicit
	// sync/latest, since the test pushes orders, then payments, then
	// transactions rather than interleaved in time.
	s.connect(2 * 24 * 60)
	s.pushAll()
	s.syncTo(syncTo)
	s.waitConfirmed(2)
	first := s.checkJournals(s.ds.days)
	if n := len(p.journals(sys)); n != 2 {
		t.Fatalf("sandbox holds %d journals, want 2", n)
	}

	// Everything again, then a barrier: a third day's order sealed after
	// the repeats. Once its journal exists the repeats have been consumed.
	s.pushAll()
	s.syncTo(syncTo)
	barrier := map[string]any{"id": "barrier", "currency": p.currency, "totalAmount": "10.00", "totalTaxAmount": "0",
		"createdDate": "2026-03-12T12:00:00-04:00"}
	var resp pushResponse
	s.api.must("POST", "/v1/companies/"+s.company+"/data/commerce-orders", []any{barrier}, &resp)
	s.syncTo(syncTo.Add(24 * time.Hour))
	s.waitConfirmed(3)
	again := s.checkJournals(s.ds.days)
	if n := len(p.journals(sys)); n != 3 {
		t.Fatalf("after pushing everything again the sandbox holds %d journals, want 3 (two days and the barrier)", n)
	}
	for d, ref := range first {
		if again[d] != ref {
			t.Errorf("day %s: journal narration changed from %q to %q", d, ref, again[d])
		}
	}
	var days struct {
		Days []struct {
			BusinessDay string
			Revision    int
		}
	}
	s.api.must("GET", "/v1/companies/"+s.company+"/ledger/days?from=2026-03-10&to=2026-03-11", nil, &days)
	if len(days.Days) != 2 || days.Days[0].Revision != 1 || days.Days[1].Revision != 1 {
		t.Errorf("ledger days = %+v, want revision 1 of 2026-03-10 and 2026-03-11 only", days.Days)
	}
	checkReconciled(t, sys, s.company, []string{"2026-03-10", "2026-03-11", "2026-03-12"})
}

// checkReconciled runs commercesync reconcile as a finance team would and
// waits for every day to read matched: the records, the ledger and the
// documents the platform confirmed agree on every account.
func checkReconciled(t *testing.T, sys *system.System, company string, days []string) {
	t.Helper()
	t.Setenv("COMMERCESYNC_API_KEY", sys.DevKey)
	var out string
	deadline := time.Now().Add(time.Minute)
	for {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"reconcile", "-url", sys.HTTPURL, "-company", company, "-from", days[0], "-to", days[len(days)-1], "-accounts"}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("reconcile: %v\n%s", err, stderr.String())
		}
		out = stdout.String()
		matched := 0
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 3 && slices.Contains(days, f[0]) && slices.Contains(f, "matched") {
				matched++
			}
		}
		if matched == len(days) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, reconcile says:\n%s\nwant %d days matched", out, len(days))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, "gross_sales") || !strings.Contains(out, "tenders") {
		t.Errorf("reconcile -accounts lists no accounts:\n%s", out)
	}
}

// TestEndToEndInvoiceMode runs the same two days in invoice mode on every
// platform that takes it: each day's invoice, payments and fee bill move
// every account exactly as the day's journal would, the receivable and
// payable end each day at zero, and pushing everything again changes
// nothing.
func TestEndToEndInvoiceMode(t *testing.T) {
	for _, p := range platforms {
		if p.books == nil {
			continue
		}
		t.Run(p.key, func(t *testing.T) {
			sys := startSystem(t)
			s := newScenario(t, sys, p, seed, orderCount())
			s.invoices = true
			s.connect(2 * 24 * 60)
			s.pushAll()
			s.syncTo(syncTo)
			docs := s.waitSettled(s.ds.days)
			first := s.checkBooks(s.ds.days)
			t.Logf("documents per day: %v", docs)

			s.pushAll()
			s.syncTo(syncTo)
			barrier := map[string]any{"id": "barrier", "currency": p.currency, "totalAmount": "10.00", "totalTaxAmount": "0",
				"createdDate": "2026-03-12T12:00:00-04:00"}
			var resp pushResponse
			s.api.must("POST", "/v1/companies/"+s.company+"/data/commerce-orders", []any{barrier}, &resp)
			s.syncTo(syncTo.Add(24 * time.Hour))
			again := s.waitSettled(append([]string{"2026-03-12"}, s.ds.days...))
			after := s.checkBooks(s.ds.days)
			for _, d := range s.ds.days {
				if again[d] != docs[d] {
					t.Errorf("day %s had %d documents, and %d after everything was pushed again", d, docs[d], again[d])
				}
				for code, v := range first[d] {
					if !after[d][code].Equal(v) {
						t.Errorf("day %s account %s moved %s, and %s after everything was pushed again", d, code, v, after[d][code])
					}
				}
			}
			if b := s.p.books(sys, "2026-03-12"); !b[p.codes.sales].Equal(decimal.RequireFromString("-10")) {
				t.Errorf("the barrier day moves %v, want its 10.00 of sales", b)
			}
		})
	}
}

const xeroTenant = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"

// TestWindowCrashTakeover kills a window worker with SIGKILL inside the
// transaction that seals the days, deletes its state store, then lets a
// second worker take over with an empty one: it rebuilds the state from the
// changelog, and the sandbox still ends with exactly the two journals, with
// the references the summaries' deterministic ids give.
func TestWindowCrashTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes; run without -short")
	}
	sys := startSystem(t, system.WithoutWindow(), system.WithMinSessionTimeout(500*time.Millisecond))
	s := newScenario(t, sys, xeroPlatform, seed, orderCount())
	s.connect(2 * 24 * 60)

	stateDir := t.TempDir()
	args := fmt.Sprintf("window -brokers %s -session-timeout 1s -transaction-timeout 2s -log-level warn -state-dir %s", strings.Join(sys.Brokers, ","), stateDir)
	first, paused := startWorker(t, args, true)
	s.pushAll()
	s.syncTo(syncTo)
	select {
	case <-paused:
	case <-time.After(60 * time.Second):
		t.Fatal("the first worker never reached the sealing transaction")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill the first worker: %v", err)
	}
	_ = first.Wait()
	if n := dirEntries(t, stateDir); n == 0 {
		t.Fatal("the first worker kept no state store")
	}
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}

	var days struct{ Days []any }
	s.api.must("GET", "/v1/companies/"+s.company+"/ledger/days", nil, &days)
	if len(days.Days) != 0 {
		t.Fatalf("the killed transaction's summaries are visible: %d days", len(days.Days))
	}

	startWorker(t, args, false)
	s.waitConfirmed(2)
	s.checkJournals(s.ds.days)
	journals := sys.Xero.ManualJournals(xeroTenant)
	if len(journals) != 2 {
		t.Fatalf("sandbox holds %d journals after the takeover, want 2", len(journals))
	}
	for _, j := range journals {
		ref := mapping.Reference(mapping.DocumentID(day.SummaryID(s.company, j.Date, xeroPlatform.currency, 1), 0))
		if !strings.Contains(j.Narration, ref) {
			t.Errorf("journal of %s is %q; want reference %s from revision 1's id", j.Date, j.Narration, ref)
		}
	}
}

func dirEntries(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// startWorker runs this test binary as `commercesync <args>`. With pause,
// the worker stops inside its first sealing transaction and the returned
// channel closes when it says so.
func startWorker(t *testing.T, args string, pause bool) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "COMMERCESYNC_TEST_ARGS="+args)
	if pause {
		cmd.Env = append(cmd.Env, "COMMERCESYNC_FAULT_PAUSE_IN_TXN=1")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	paused := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			if testing.Verbose() {
				fmt.Fprintln(os.Stderr, "worker:", line)
			}
			if !once && strings.HasPrefix(line, "fault: paused") {
				once = true
				close(paused)
			}
		}
	}()
	return cmd, paused
}

// A refund pushed after its day was posted in invoice mode becomes the
// day's next revision: a credit note and its refund, never an edit of the
// posted invoice. The day's books then hold the first revision plus the
// refund, account by account.
func TestInvoiceModeLateRefundIsACreditNote(t *testing.T) {
	sys := startSystem(t)
	s := newScenario(t, sys, xeroPlatform, seed, 40)
	s.invoices = true
	s.connect(2 * 24 * 60)
	s.pushAll()
	s.syncTo(syncTo)
	s.waitSettled(s.ds.days)
	before := len(sys.Xero.Invoices(xeroTenant))

	refund := map[string]any{"id": "late-refund", "currency": "USD", "createdDate": "2026-03-10T15:00:00-04:00",
		"totalAmount": "-21.70", "totalTaxAmount": "-1.70",
		"orderLineItems": []any{map[string]any{"id": "l1", "totalAmount": "-21.70", "totalTaxAmount": "-1.70", "taxPercentage": "8.5"}}}
	var resp pushResponse
	s.api.must("POST", "/v1/companies/"+s.company+"/data/commerce-orders", []any{refund}, &resp)
	if resp.Accepted != 1 {
		t.Fatalf("late refund: %+v", resp.Results)
	}
	s.syncTo(syncTo)
	eventually(t, 30*time.Second, "the second revision posted", func() bool {
		st := s.status()
		n := 0
		for _, d := range st.Documents {
			if d.BusinessDay == "2026-03-10" && d.State == "Confirmed" && strings.Contains(d.Reference, "CS-") {
				n++
			}
		}
		return len(sys.Xero.Invoices(xeroTenant)) > before && st.DocumentsPlanned == 0 && n > 0
	})
	var added []string
	for _, inv := range sys.Xero.Invoices(xeroTenant)[before:] {
		added = append(added, inv.Type+" "+inv.Total.StringFixed(2))
	}
	if got := strings.Join(added, ","); got != "ACCRECCREDIT 21.70" {
		t.Fatalf("the late refund added %q, want one credit note of 21.70", got)
	}
	codes := xeroPlatform.codes
	want := s.ds.expected["2026-03-10"]
	want[codes.sales] = want[codes.sales].Add(decimal.RequireFromString("20.00"))
	want[codes.tax] = want[codes.tax].Add(decimal.RequireFromString("1.70"))
	want[codes.unsettled] = want[codes.unsettled].Sub(decimal.RequireFromString("21.70"))
	s.checkBooks([]string{"2026-03-10"})
}

// A merchant whose configuration groups days by location gets a journal per
// shop for its orders, each line tagged with the shop's tracking option, and
// one for the rest of the day (payments and fees name no location);
// together they hold exactly what the day's one journal would, account by
// account.
func TestDaysGroupedByLocation(t *testing.T) {
	sys := startSystem(t)
	s := newScenario(t, sys, xeroPlatform, seed, 60)
	for i, o := range s.ds.orders {
		o["locationRef"] = map[string]any{"id": []string{"shop-a", "shop-b"}[(i/2)%2]} // both shops on both days (orders alternate days)
	}
	s.connect(2 * 24 * 60)
	var cfg map[string]any
	s.api.must("GET", "/v1/companies/"+s.company+"/sync/commerce/config", nil, &cfg)
	conf := cfg["configuration"].(map[string]any)
	sales := conf["sales"].(map[string]any)
	sales["grouping"] = map[string]any{"groupingLevels": map[string]any{"invoiceLevel": map[string]any{"selectedGroupByOptions": []string{"Location"}}}}
	// Each shop's lines carry its Region, chosen among the tracking options
	// the configuration offers from the organisation.
	option := func(category, name string) map[string]any {
		for _, c := range conf["trackingOptions"].([]any) {
			c := c.(map[string]any)
			if c["name"] != category {
				continue
			}
			for _, o := range c["options"].([]any) {
				if o := o.(map[string]any); o["name"] == name {
					return map[string]any{"categoryId": c["id"], "optionId": o["id"]}
				}
			}
		}
		t.Fatalf("the configuration offers no tracking option %s/%s: %v", category, name, conf["trackingOptions"])
		return nil
	}
	conf["locationTracking"] = map[string]any{
		"shop-a": map[string]any{"tracking": []any{option("Region", "North")}},
		"shop-b": map[string]any{"tracking": []any{option("Region", "South")}},
	}
	s.api.must("PUT", "/v1/companies/"+s.company+"/sync/commerce/config", cfg, nil)
	s.pushAll()
	s.syncTo(syncTo)
	s.waitConfirmed(6)

	perDay := map[string]map[string]decimal.Decimal{}
	shops := map[string][]string{}
	for _, j := range xeroPlatform.journals(sys) {
		if perDay[j.Date] == nil {
			perDay[j.Date] = map[string]decimal.Decimal{}
		}
		var sum decimal.Decimal
		for _, l := range j.Lines {
			perDay[j.Date][l.Code] = perDay[j.Date][l.Code].Add(l.Amount)
			sum = sum.Add(l.Amount)
		}
		if !sum.IsZero() {
			t.Errorf("journal %q does not balance: %s", j.Narration, sum)
		}
		for _, shop := range []string{"shop-a", "shop-b"} {
			if strings.Contains(j.Narration, " at "+shop) {
				shops[j.Date] = append(shops[j.Date], shop)
			}
		}
	}
	for _, j := range sys.Xero.ManualJournals(xeroTenant) {
		want := ""
		switch {
		case strings.Contains(j.Narration, " at shop-a"):
			want = "North"
		case strings.Contains(j.Narration, " at shop-b"):
			want = "South"
		}
		for _, l := range j.Lines {
			got := ""
			if len(l.Tracking) == 1 && l.Tracking[0].Category == "Region" {
				got = l.Tracking[0].Option
			}
			if got != want || (want == "" && len(l.Tracking) > 0) {
				t.Errorf("journal %q line %s carries tracking %+v, want Region %q", j.Narration, l.AccountCode, l.Tracking, want)
			}
		}
	}
	for _, d := range s.ds.days {
		if len(shops[d]) != 2 {
			t.Errorf("day %s has journals for shops %v, want shop-a and shop-b", d, shops[d])
		}
		for code, w := range s.ds.expected[d] {
			if !perDay[d][code].Equal(w) {
				t.Errorf("day %s account %s: the journals hold %s together, the input says %s", d, code, perDay[d][code], w)
			}
		}
	}
}
