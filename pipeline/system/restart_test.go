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
		// The sandboxes keep their state in the data folder whatever their
		// address, so they take free ports; only the gateway's address (the
		// OAuth redirect) must stay.
		system.WithAddrs(freeAddr(t), freeAddr(t), ""),
	}
}

// restart stops the first process and starts a second one on the same data
// folder and addresses, with a clock that goes on from the first one's.
func restart(t *testing.T, m *merchant, stop func(), clk *clock, opts []system.Option) (*system.System, *clock) {
	t.Helper()
	first := m.sys
	stop()
	next := newClock(clk.Now().Add(time.Second))
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

	sys, _ = restart(t, m, stop, clk, opts)
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
		t.Fatalf("the sandbox holds %d journals, want day %s's from before the restart and day %s's", n, day1, day2)
	}
}

// TestRestartWithPlannedDaysPausesThenResumesAfterReconnect: the first
// process plans two days and tries the first (Xero answers 503, so nothing
// is created); then the merchant disconnects the app in Xero, and the
// process stops. The second process finds the stored tokens refused, as a
// real installation would after a revocation: the company must pause with
// a plain instruction to reconnect, and once the merchant reconnects both
// days must be pushed, once each.
func TestRestartWithPlannedDaysPausesThenResumesAfterReconnect(t *testing.T) {
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
	m.waitDoc(day1, 30*time.Second, "a failed send", func(ds *v1.DocumentStatus) bool {
		return ds.GetState() == "Sent" && strings.Contains(ds.GetErrorMessage(), "503")
	})
	m.waitDoc(day2, 30*time.Second, "planned", isState("Planned"))
	if n := len(sys.Xero.ManualJournals(tenant)); n != 0 {
		t.Fatalf("%d journals before the restart, want none", n)
	}
	sys.Xero.RevokeRefreshTokens()
	sys.Xero.ExpireAccessTokens()

	sys, _ = restart(t, m, stop, clk, opts)
	if st := m.status(); st.GetDaysSealed() != 2 || len(st.GetDocuments()) != 2 {
		t.Fatalf("after the restart: %d sealed days and %d documents, want 2 and 2", st.GetDaysSealed(), len(st.GetDocuments()))
	}
	paused := m.waitDoc(day1, 15*time.Second, "paused (Failed, merchant_actionable) with an instruction to reconnect",
		func(ds *v1.DocumentStatus) bool { return ds.GetState() == "Failed" })
	if paused.GetErrorClass() != "merchant_actionable" || !strings.Contains(paused.GetErrorMessage(), "reconnect") {
		t.Fatalf("day %s failed with %s %q, want merchant_actionable asking to reconnect", day1, paused.GetErrorClass(), paused.GetErrorMessage())
	}
	if st := m.status(); st.GetSyncStatus() != "PushError" || !strings.Contains(st.GetErrorMessage(), "reconnect") {
		t.Fatalf("status %s %q, want PushError asking to reconnect", st.GetSyncStatus(), st.GetErrorMessage())
	}

	m.connect()
	for _, d := range []string{day1, day2} {
		checkOneJournal(t, sys, m.waitConfirmed(d, 20*time.Second))
	}
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want day %s's from before the restart and day %s's", n, day1, day2)
	}
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

	sys, _ = restart(t, m, stop, clk, opts)
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
