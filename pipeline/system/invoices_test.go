package system_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// toInvoices saves the merchant's configuration again in invoice mode, the
// commerce provider as the sales customer.
func (m *merchant) toInvoices() {
	m.t.Helper()
	var cfg map[string]any
	m.must("GET", "/v1/companies/"+m.company+"/sync/commerce/config", nil, &cfg)
	org, _ := m.sys.Xero.Organisation(tenant)
	conf := cfg["configuration"].(map[string]any)
	conf["mapSettings"] = map[string]any{"outputFormat": "Invoice"}
	conf["sales"].(map[string]any)["salesCustomer"] = map[string]any{"selectedCustomerId": org.Contacts[0].ContactID}
	m.must("PUT", "/v1/companies/"+m.company+"/sync/commerce/config", cfg, nil)
}

func (m *merchant) docOfType(d, typ string) *v1.DocumentStatus {
	for _, ds := range m.status().GetDocuments() {
		if ds.GetBusinessDay() == d && ds.GetDocumentType() == typ {
			return ds
		}
	}
	return nil
}

// TestInvoiceModeDroppedPaymentFoundAfterExpiry: in invoice mode Xero
// commits the day's card payment but the answer is lost, and every payment
// call then fails until Xero has forgotten the idempotency key. A blind
// re-send would now pay the invoice twice (or be refused as an
// over-payment); the worker finds the payment by its reference and
// confirms it, so the invoice is paid once.
func TestInvoiceModeDroppedPaymentFoundAfterExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	m := newMerchant(t, sys)
	m.onboard()
	m.toInvoices()
	m.pushDay(day1, 3)

	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: "/Payments", DropResponse: true, Times: 2})
	sys.Xero.InjectFault(xerosandbox.Fault{Path: "/Payments", Status: http.StatusServiceUnavailable, Times: 1 << 20})
	m.seal(day1)

	eventually(t, 30*time.Second, "the payment's send to end unknown, then a failed call", func() bool {
		ds := m.docOfType(day1, "Payment")
		return ds != nil && ds.GetState() == "Sent" && strings.Contains(ds.GetErrorMessage(), "503")
	})
	if n := len(sys.Xero.Payments(tenant)); n != 1 {
		t.Fatalf("the dropped send left %d payments, want 1 (committed)", n)
	}
	clk.Jump(xerosandbox.IdempotencyKeyTTL + time.Minute)
	sys.Xero.ClearFaults()

	var pay *v1.DocumentStatus
	eventually(t, 30*time.Second, "every document of the day confirmed", func() bool {
		pay = m.docOfType(day1, "Payment")
		inv := m.docOfType(day1, "SalesInvoice")
		return pay != nil && inv != nil && pay.GetState() == "Confirmed" && inv.GetState() == "Confirmed"
	})
	ps := sys.Xero.Payments(tenant)
	if len(ps) != 1 || ps[0].ID != pay.GetExternalId() || ps[0].Reference != pay.GetReference() {
		t.Fatalf("payments %+v; the document confirmed %s with reference %s", ps, pay.GetExternalId(), pay.GetReference())
	}
	if pay.GetAttempts() != 1 {
		t.Errorf("the payment was sent %d times, want once (found, not re-sent)", pay.GetAttempts())
	}
	for _, inv := range sys.Xero.Invoices(tenant) {
		if inv.Type == "ACCREC" && (inv.Status != "PAID" || !inv.Due.IsZero()) {
			t.Errorf("invoice %s is %s with %s due, want paid in full", inv.Number, inv.Status, inv.Due)
		}
	}
}
