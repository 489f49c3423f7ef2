package system_test

import (
	"time"

	"testing"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/system"
)

// One app, two merchants, two organisations: each consent links the
// organisation the merchant chose, never one an earlier consent connected
// to the app. (Before, the callback took the first organisation Xero's
// /connections listed, so the second merchant's company was linked to the
// first merchant's books.)
func TestEachConsentLinksTheOrganisationItChose(t *testing.T) {
	second := xerosandbox.DefaultOrganisation()
	second.TenantID, second.Name, second.ShortCode = "00000000-0000-4000-8000-00000000b0b0", "Second Shop", "!sb0b0"
	clk := newClock(testStart)
	sys, _ := start(t, clk, system.WithSandboxOptions(
		xerosandbox.WithOrganisation(xerosandbox.DefaultOrganisation()), xerosandbox.WithOrganisation(second)))
	first, other := newMerchant(t, sys), newMerchant(t, sys)
	other.org = second.TenantID
	first.onboard()
	other.onboard()
	for _, m := range []*merchant{first, other} {
		c, ok := sys.Store.Connection(m.conn)
		if !ok || c.GetPlatformTenantId() != m.tenantID() {
			t.Errorf("company %s is linked to organisation %q, want the one its merchant chose, %s", m.company, c.GetPlatformTenantId(), m.tenantID())
		}
	}
	other.pushDay(day1, 2)
	other.seal(day1)
	other.waitConfirmed(day1, 30*time.Second)
	if n := len(sys.Xero.ManualJournals(first.tenantID())); n != 0 {
		t.Errorf("the first merchant's organisation holds %d journals of the second merchant's day", n)
	}
	if n := len(sys.Xero.ManualJournals(other.tenantID())); n != 1 {
		t.Errorf("the second merchant's organisation holds %d journals, want its day's 1", n)
	}
}
