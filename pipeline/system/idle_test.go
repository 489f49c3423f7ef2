package system_test

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
)

// cpuTime is the CPU this test process has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOver measures the process's CPU use over d of wall time.
func cpuOver(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	c0 := cpuTime(t)
	<-time.After(d) // a measurement period, not a wait for an outcome
	return cpuTime(t) - c0
}

// TestWaitingCompanyDoesNotSpin: a company whose document waits for its
// retry time, or which is paused with work behind the failed document,
// must leave the push worker asleep. The process is measured alone (this
// test is not parallel, so it runs before the parallel ones): an idle
// system uses a few milliseconds of CPU per second.
func TestWaitingCompanyDoesNotSpin(t *testing.T) {
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)
	const window, budget = time.Second, 250 * time.Millisecond
	if used := cpuOver(t, window); used > budget {
		t.Skipf("the idle system already uses %s of CPU per %s; cannot measure", used, window)
	}

	// Waiting for a retry: every look-up fails, so the first day's document
	// stays Sent with a retry scheduled up to 2 s ahead.
	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: journalsPath, Status: http.StatusServiceUnavailable, Times: 1 << 20})
	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodGet, Path: journalsPath, Status: http.StatusServiceUnavailable, Times: 1 << 20})
	m.seal(day1)
	m.waitDoc(day1, 30*time.Second, "a retry scheduled", isState("Sent"))
	if used := cpuOver(t, window); used > budget {
		t.Errorf("while a document waits for its retry the process used %s of CPU in %s: the push worker spins", used, window)
	}

	// Paused: the first day fails for the merchant to fix (archived
	// account) and the second waits behind it.
	err := sys.Xero.UpdateOrganisation(tenant, func(o *xerosandbox.Organisation) {
		for i := range o.Accounts {
			if o.Accounts[i].Code == "200" {
				o.Accounts[i].Status = "ARCHIVED"
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sys.Xero.ClearFaults()
	m.waitDoc(day1, 30*time.Second, "failed", isState("Failed"))
	m.seal(day2)
	m.waitDoc(day2, 30*time.Second, "planned", isState("Planned"))
	if used := cpuOver(t, window); used > budget {
		t.Errorf("while the company is paused with a planned document the process used %s of CPU in %s: the push worker spins", used, window)
	}
}
