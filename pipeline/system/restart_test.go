package system_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// restartable returns the options two processes share to be "the same
// installation": one data folder and fixed listen addresses (the OAuth
// redirect URL is derived from the HTTP address).
func restartable(t *testing.T) []system.Option {
	return []system.Option{
		system.WithDataDir(t.TempDir()),
		// The sandboxes keep nothing across a restart, so they take free
		// ports; only the gateway's address (the OAuth redirect) must stay.
		system.WithAddrs(freeAddr(t), freeAddr(t), ""),
	}
}

// restart stops the first process and starts a second one on the same data
// folder and addresses, with a clock that goes on from the first one's,
// after a pause of down.
func restart(t *testing.T, m *merchant, stop func(), clk *clock, opts []system.Option, down time.Duration) (*system.System, *clock) {
	t.Helper()
	first := m.sys
	stop()
	next := newClock(clk.Now().Add(down + time.Second))
	sys, _ := start(t, next, opts...)
	if sys.HTTPURL != first.HTTPURL {
		t.Fatalf("the second process serves %s, the first served %s", sys.HTTPURL, first.HTTPURL)
	}
	if sys.DevKey != first.DevKey || sys.TenantID != first.TenantID {
		t.Fatalf("the development key or tenant changed across the restart (tenant %s → %s)", first.TenantID, sys.TenantID)
	}
	m.sys = sys
	return sys, next
}

// TestRestartBeforePushPushesEachDayOnce: the first process takes the
// merchant's configuration and records and seals two days, but has no
// accounting connection yet, so nothing is pushed. A second process on the
// same data folder keeps the development key, the company, its
// configuration and its sealed days; once the merchant connects Xero it
// pushes each day exactly once.
func TestRestartBeforePushPushesEachDayOnce(t *testing.T) {
	t.Parallel()
	opts := restartable(t)
	clk := newClock(testStart)
	sys, stop := start(t, clk, opts...)
	m := newMerchant(t, sys)
	m.createCompany()
	m.saveConfig("200")
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)
	m.seal(day2)
	eventually(t, 30*time.Second, "two sealed days", func() bool { return m.status().GetDaysSealed() == 2 })
	if st := m.status(); len(st.GetDocuments()) != 0 || st.GetSyncStatus() != "ConfigurationError" {
		t.Fatalf("without a connection: %s with %d documents, want ConfigurationError and none", st.GetSyncStatus(), len(st.GetDocuments()))
	}

	sys, _ = restart(t, m, stop, clk, opts, 0)
	st := m.status()
	if st.GetDaysSealed() != 2 || len(st.GetDocuments()) != 0 {
		t.Fatalf("after the restart: %d sealed days and %d documents, want 2 and none", st.GetDaysSealed(), len(st.GetDocuments()))
	}
	var cfg struct{ Version string }
	m.must("GET", "/v1/companies/"+m.company+"/sync/commerce/config", nil, &cfg)
	if cfg.Version != "1" {
		t.Fatalf("configuration version %q after the restart, want 1", cfg.Version)
	}

	m.connect()
	for _, d := range []string{day1, day2} {
		ds := m.waitConfirmed(d, 30*time.Second)
		checkOneJournal(t, sys, ds)
		if ds.GetAttempts() != 1 {
			t.Errorf("day %s: %d attempts, want 1", d, ds.GetAttempts())
		}
	}
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want 2", n)
	}
}

// refusedAfter is a pause after which Xero refuses a connection's stored
// tokens whether or not its sandbox kept them: past the refresh token's 60
// days (accounting-platform-apis.md §1.1). A sandbox restarted in memory has
// forgotten them anyway; one that keeps its state still refuses them.
const refusedAfter = 61 * 24 * time.Hour

// TestRestartWithPlannedDaysWaitsThenResumesAfterReconnect: the first
// process plans two days and tries the first (Xero answers 503, so nothing
// is created) before it stops. The second process finds its Xero
// authorisation refused, as a real installation does when the merchant
// revoked it: a fresh sandbox that forgot the tokens, started after they
// would have expired anyway. Its start-of-process check reads
// the connection Deauthorized before any document goes: the status says so
// (4220) and the documents wait as they were, neither sent nor failed. Once
// the merchant reconnects, both days are pushed, once each, by themselves.
func TestRestartWithPlannedDaysWaitsThenResumesAfterReconnect(t *testing.T) {
	t.Parallel()
	opts := restartable(t)
	clk := newClock(testStart)
	sys, stop := start(t, clk, opts...)
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)
	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: journalsPath, Status: http.StatusServiceUnavailable, Times: 1 << 20})
	m.seal(day2)
	sent := m.waitDoc(day1, 30*time.Second, "a failed send", func(ds *v1.DocumentStatus) bool {
		return ds.GetState() == "Sent" && strings.Contains(ds.GetErrorMessage(), "503")
	})
	m.waitDoc(day2, 30*time.Second, "planned", isState("Planned"))
	if n := len(sys.Xero.ManualJournals(tenant)); n != 0 {
		t.Fatalf("%d journals before the restart, want none", n)
	}

	sys, _ = restart(t, m, stop, clk, opts, refusedAfter)
	st := m.waitDeauthorized(15 * time.Second)
	if st.GetDaysSealed() != 2 || len(st.GetDocuments()) != 2 || st.GetDocumentsFailed() != 0 {
		t.Fatalf("after the restart: %d sealed days, %d documents, %d failed; want 2, 2 and none failed", st.GetDaysSealed(), len(st.GetDocuments()), st.GetDocumentsFailed())
	}
	if d := m.doc(day1); d.GetState() != "Sent" || d.GetAttempts() != sent.GetAttempts() {
		t.Fatalf("day %s is %s after %d attempts, want still Sent after %d: nothing may be pushed on a deauthorized connection", day1, d.GetState(), d.GetAttempts(), sent.GetAttempts())
	}
	if d := m.doc(day2); d.GetState() != "Planned" || d.GetAttempts() != 0 {
		t.Fatalf("day %s is %s after %d attempts, want still Planned and never sent", day2, d.GetState(), d.GetAttempts())
	}

	m.connect()
	for _, d := range []string{day1, day2} {
		checkOneJournal(t, sys, m.waitConfirmed(d, 20*time.Second))
	}
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want 2", n)
	}
	for _, d := range []string{day1, day2} {
		for _, e := range outboxHistory(t, sys, m.doc(d).GetDocumentId()) {
			if e.GetState() == v1.OutboxState_OUTBOX_STATE_FAILED {
				t.Fatalf("day %s failed on the way:%s", d, describe(outboxHistory(t, sys, m.doc(d).GetDocumentId())))
			}
		}
	}
	if st := m.status(); st.GetSyncStatusCode() != 2000 {
		t.Fatalf("status after the reconnect: %d %s %q, want 2000", st.GetSyncStatusCode(), st.GetSyncStatus(), st.GetErrorMessage())
	}
}

// TestRestartWithForgottenTokensReadsDeauthorized is the first process
// restarted with nothing to push: a company connected and configured,
// status 2040 (nothing written). The restarted sandbox refuses the
// connection's tokens (forgotten, and past their lifetime), so the
// restarted process must read the connection Deauthorized at start (no push
// needed to find out): the connection says
// so with Codat's error record, and the status reads 4220 with the way to
// reconnect. Reconnecting brings back 2040, and the next day syncs.
func TestRestartWithForgottenTokensReadsDeauthorized(t *testing.T) {
	t.Parallel()
	opts := restartable(t)
	clk := newClock(testStart)
	sys, stop := start(t, clk, opts...)
	m := newMerchant(t, sys)
	m.onboard()
	if st := m.status(); st.GetSyncStatusCode() != 2040 {
		t.Fatalf("before the restart: %d %s, want 2040 Success", st.GetSyncStatusCode(), st.GetSyncStatus())
	}
	first := m.conn

	sys, _ = restart(t, m, stop, clk, opts, refusedAfter)
	st := m.waitDeauthorized(15 * time.Second)
	if !strings.Contains(st.GetErrorMessage(), "POST /v1/companies/"+m.company+"/connections") || !strings.Contains(st.GetErrorMessage(), "invalid_grant") {
		t.Errorf("status message %q: want Xero's answer and how to reconnect", st.GetErrorMessage())
	}
	if len(st.GetDataConnections()) != 1 || st.GetDataConnections()[0].GetStatus() != "Deauthorized" {
		t.Errorf("status dataConnections = %v, want the one connection, Deauthorized", st.GetDataConnections())
	}
	var conn struct {
		Status               string
		Token                any
		DataConnectionErrors []struct{ StatusCode, StatusText, ErrorMessage, ErroredOnUtc string }
	}
	m.must("GET", "/v1/companies/"+m.company+"/connections/"+first, nil, &conn)
	if conn.Status != "Deauthorized" || conn.Token != nil || len(conn.DataConnectionErrors) != 1 {
		t.Fatalf("connection after the restart: %+v, want Deauthorized with one dataConnectionError and no token", conn)
	}
	e := conn.DataConnectionErrors[0]
	if e.StatusCode != "400" || e.StatusText != "invalid_grant" || !strings.Contains(e.ErrorMessage, "Reconnect") && !strings.Contains(e.ErrorMessage, "reconnect") {
		t.Errorf("dataConnectionError %+v: want Xero's 400 invalid_grant and what to do", e)
	}
	if at, err := time.Parse(time.RFC3339, e.ErroredOnUtc); err != nil || at.Before(testStart) {
		t.Errorf("erroredOnUtc %q: want the time it was found (%v)", e.ErroredOnUtc, err)
	}

	m.connect()
	eventually(t, 15*time.Second, "2040 after the reconnect", func() bool { return m.status().GetSyncStatusCode() == 2040 })
	m.pushDay(day1, 2)
	m.seal(day1)
	checkOneJournal(t, sys, m.waitConfirmed(day1, 20*time.Second))
}

// TestRestartKeepsTheConnection: a company connected and synced by the
// first process keeps syncing after a restart on the same data folder,
// with no reconnection: the sandbox still honours the tokens the control
// plane holds, still has the first day's journal, and takes the next
// day's. (Before the sandboxes kept their state, the second process found
// its tokens forgotten and paused the company asking to reconnect.)
func TestRestartKeepsTheConnection(t *testing.T) {
	t.Parallel()
	opts := restartable(t)
	clk := newClock(testStart)
	sys, stop := start(t, clk, opts...)
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.seal(day1)
	checkOneJournal(t, sys, m.waitConfirmed(day1, 30*time.Second))

	sys, _ = restart(t, m, stop, clk, opts, time.Minute)
	m.pushDay(day2, 2)
	m.seal(day2)
	second := m.waitDoc(day2, 30*time.Second, "confirmed (or failed)", func(ds *v1.DocumentStatus) bool {
		return ds.GetState() == "Confirmed" || ds.GetState() == "Failed"
	})
	if second.GetState() != "Confirmed" {
		t.Fatalf("day %s after the restart is %s: %s %q, want Confirmed with no reconnection",
			day2, second.GetState(), second.GetErrorClass(), second.GetErrorMessage())
	}
	checkOneJournal(t, sys, second)
	var conn struct{ Status string }
	m.must("GET", "/v1/companies/"+m.company+"/connections/"+m.conn, nil, &conn)
	if conn.Status != "Linked" {
		t.Fatalf("the connection is %q after the restart, want Linked", conn.Status)
	}
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want day %s's from before the restart and day %s's", n, day1, day2)
	}
}
