package system_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors/xero"
	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const journalsPath = "/ManualJournals"

// The development OAuth client every embedded sandbox knows (pipeline/system).
const (
	devClientID     = "commercesync-dev"
	devClientSecret = "commercesync-dev-secret"
)

// unknownThenConfirmed checks a document's history: it was sent once, the
// outcome of that send was unknown (an error recorded while Sent), and it
// was then confirmed without a second send.
func unknownThenConfirmed(t *testing.T, h []*v1.OutboxEntry) {
	t.Helper()
	unknown := false
	for _, e := range h {
		if e.GetAttempts() > 1 {
			t.Fatalf("the document was sent again after the unknown outcome instead of being found:%s", describe(h))
		}
		if e.GetState() == v1.OutboxState_OUTBOX_STATE_SENT && e.GetErrorClass() == v1.ErrorClass_ERROR_CLASS_RETRYABLE {
			unknown = true
		}
	}
	if !unknown {
		t.Fatalf("no unknown outcome was recorded, so the fault did not bite:%s", describe(h))
	}
}

// TestDroppedResponseConfirmedByFind: Xero commits the first day's journal
// but the answer is lost, twice over, so Go's transport cannot replay it
// (it re-sends an idempotent request once, on a reused connection; the
// sandbox replays the committed answer and drops it again). The worker
// records the outcome as unknown, looks the journal up by its reference
// before sending again, and confirms the one that exists.
func TestDroppedResponseConfirmedByFind(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)

	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: journalsPath, DropResponse: true, Times: 2})
	m.seal(day2)

	first := m.waitConfirmed(day1, 30*time.Second)
	second := m.waitConfirmed(day2, 30*time.Second)
	checkOneJournal(t, sys, first)
	checkOneJournal(t, sys, second)
	if first.GetAttempts() != 1 {
		t.Errorf("day %s: %d attempts recorded, want 1 (found, not re-sent)", day1, first.GetAttempts())
	}
	unknownThenConfirmed(t, outboxHistory(t, sys, first.GetDocumentId()))
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want 2", n)
	}
}

// TestDroppedResponseAfterIdempotencyExpiry: as above, but every journal
// call fails (503) until Xero has forgotten the idempotency key (6 minutes
// by the injected clock), so a blind re-send with the same key would now
// create a second journal. The worker still finds the first one and
// confirms it.
func TestDroppedResponseAfterIdempotencyExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)

	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: journalsPath, DropResponse: true, Times: 2})
	// Then every journal call, look-up or send, fails until the clock has
	// moved on.
	sys.Xero.InjectFault(xerosandbox.Fault{Path: journalsPath, Status: http.StatusServiceUnavailable, Times: 1 << 20})
	m.seal(day1)

	// The send's outcome is unknown and the next call has failed.
	m.waitDoc(day1, 30*time.Second, "a failed call after the dropped answer", func(ds *v1.DocumentStatus) bool {
		return ds.GetState() == "Sent" && strings.Contains(ds.GetErrorMessage(), "503")
	})
	if n := len(sys.Xero.ManualJournals(tenant)); n != 1 {
		t.Fatalf("the dropped send left %d journals, want 1 (committed)", n)
	}
	clk.Jump(xerosandbox.IdempotencyKeyTTL + time.Minute)
	sys.Xero.ClearFaults()

	ds := m.waitConfirmed(day1, 30*time.Second)
	checkOneJournal(t, sys, ds)
	h := outboxHistory(t, sys, ds.GetDocumentId())
	unknownThenConfirmed(t, h)
	sentAt, doneAt := h[0].GetUpdatedUnixMs(), h[len(h)-1].GetUpdatedUnixMs()
	if d := time.Duration(doneAt-sentAt) * time.Millisecond; d < xerosandbox.IdempotencyKeyTTL {
		t.Fatalf("confirmed %s after the send, before Xero forgot the key; the test did not reach its case:%s", d, describe(h))
	}
}

// TestServerErrorThenSuccess: Xero answers 500 twice; nothing was
// committed, so the worker's look-ups find nothing and it sends again until
// the journal is created once. Status shows the attempts.
func TestServerErrorThenSuccess(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.pushDay(day2, 2)

	sys.Xero.InjectFault(xerosandbox.Fault{Method: http.MethodPut, Path: journalsPath, Status: http.StatusInternalServerError, Times: 2})
	m.seal(day2)

	first := m.waitConfirmed(day1, 30*time.Second)
	second := m.waitConfirmed(day2, 30*time.Second)
	checkOneJournal(t, sys, first)
	checkOneJournal(t, sys, second)
	if first.GetAttempts() != 3 {
		t.Errorf("day %s: status reports %d attempts, want 3 (two 500s, then the journal)", day1, first.GetAttempts())
	}
	if second.GetAttempts() != 1 {
		t.Errorf("day %s: status reports %d attempts, want 1", day2, second.GetAttempts())
	}
	if first.GetErrorMessage() != "" || first.GetErrorClass() != "" {
		t.Errorf("a confirmed document still shows an error: %q (%s)", first.GetErrorMessage(), first.GetErrorClass())
	}
}

// probeToken authorises the development app a second time, as another
// session of it would (the hosted mapping page reading the chart), and
// returns an access token that spends the tenant's quota like the worker's.
func probeToken(t *testing.T, sys *system.System) string {
	t.Helper()
	ctx := context.Background()
	c := xero.New(xero.WithClientID(devClientID), xero.WithClientSecret(devClientSecret), xero.WithSandboxBase(sys.SandboxURL["xero"]))
	cfg := c.OAuthConfig(sys.HTTPURL + "/v1/oauth/callback")
	back, err := xerosandbox.Approve(ctx, &http.Client{Timeout: 10 * time.Second}, cfg.AuthCodeURL("probe"), "")
	if err != nil {
		t.Fatalf("probe consent: %v", err)
	}
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"))
	if err != nil {
		t.Fatalf("probe token: %v", err)
	}
	return tok.AccessToken
}

// TestThrottledHonoursRetryAfter: another session of the app spends the
// tenant's whole minute quota (8 calls here, enough for the worker's
// setup read of six calls) 52 s before the day's push, so Xero
// answers the worker 429 with a Retry-After of the 8 s left in the window.
// The worker's next call comes no sooner, by the injected clock (its own
// first back-off is at most 2 s), and the journal is confirmed once.
func TestThrottledHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	const limit = 8
	clk := newClock(testStart)
	sys, _ := start(t, clk, system.WithSandboxOptions(xerosandbox.WithMinuteLimit(limit)))
	m := newMerchant(t, sys)
	m.createCompany()
	connID := m.connect()
	// The worker reads the new connection's setup (a few calls); let that
	// minute pass so the quota below is the only one in play.
	eventually(t, 20*time.Second, "the platform setup", func() bool {
		_, ok := sys.Store.PlatformSetup(connID)
		return ok
	})
	clk.Jump(61 * time.Second)
	if v := m.saveConfig("200"); v != "1" {
		t.Fatalf("saved configuration version %q, want 1", v)
	}
	m.pushDay(day1, 3)
	tok := probeToken(t, sys)

	// The quota is spent at one instant, so it all comes back at once.
	spent, thaw := clk.Freeze()
	for range limit {
		if code := organisationStatus(t, sys, tok); code != http.StatusOK {
			thaw()
			t.Fatalf("probe call answered %d", code)
		}
	}
	thaw()
	if code := organisationStatus(t, sys, tok); code != http.StatusTooManyRequests {
		t.Fatalf("with the quota spent Xero answers %d, want 429", code)
	}
	clk.Jump(52 * time.Second)
	m.seal(day1)

	ds := m.waitConfirmed(day1, 40*time.Second)
	checkOneJournal(t, sys, ds)
	h := outboxHistory(t, sys, ds.GetDocumentId())
	reopens := spent.Add(time.Minute).UnixMilli()
	i := slices.IndexFunc(h, func(e *v1.OutboxEntry) bool { return e.GetErrorClass() == v1.ErrorClass_ERROR_CLASS_THROTTLED })
	switch {
	case i < 0:
		t.Fatalf("no 429 was recorded:%s", describe(h))
	case h[i].GetUpdatedUnixMs() >= reopens:
		t.Fatalf("the 429 was recorded after the window reopened; the test did not reach its case:%s", describe(h))
	case i+1 < len(h) && h[i+1].GetUpdatedUnixMs() < reopens:
		t.Fatalf("the worker called again %s before Retry-After allowed:%s",
			time.Duration(reopens-h[i+1].GetUpdatedUnixMs())*time.Millisecond, describe(h))
	}
	// The throttled send reached nothing, so one more send confirms it.
	if n := len(h); h[n-1].GetState() != v1.OutboxState_OUTBOX_STATE_CONFIRMED || h[n-1].GetAttempts() > 2 {
		t.Errorf("want at most one send after the throttled one, then confirmed:%s", describe(h))
	}
}

// TestArchivedAccountPausesUntilNewConfig: the mapped sales account is
// archived in Xero, so the first day fails with Xero's own words and the
// company pauses; a second day sealed meanwhile waits. When the merchant
// saves a configuration that maps sales to 260, both days are pushed under
// it, once each.
func TestArchivedAccountPausesUntilNewConfig(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	setStatus := func(code, status string) {
		err := sys.Xero.UpdateOrganisation(tenant, func(o *xerosandbox.Organisation) {
			for i := range o.Accounts {
				if o.Accounts[i].Code == code {
					o.Accounts[i].Status = status
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setStatus("200", "ARCHIVED")
	m.seal(day1)

	const xeroSays = "Account code '200' has been archived, or deleted."
	failed := m.waitDoc(day1, 30*time.Second, "failed", isState("Failed"))
	if failed.GetErrorClass() != "merchant_actionable" || !strings.Contains(failed.GetErrorMessage(), xeroSays) {
		t.Fatalf("day %s failed with %s %q, want merchant_actionable %q", day1, failed.GetErrorClass(), failed.GetErrorMessage(), xeroSays)
	}
	if st := m.status(); st.GetSyncStatus() != "PushError" || !strings.Contains(st.GetErrorMessage(), xeroSays) {
		t.Fatalf("status = %s %q, want PushError with Xero's message", st.GetSyncStatus(), st.GetErrorMessage())
	}

	// A second day sealed while paused is planned but not pushed.
	m.pushDay(day2, 2)
	m.seal(day2)
	m.waitDoc(day2, 30*time.Second, "planned", isState("Planned"))
	held := time.Now().Add(time.Second)
	for time.Now().Before(held) {
		if ds := m.doc(day2); ds.GetState() != "Planned" || len(sys.Xero.ManualJournals(tenant)) != 0 {
			t.Fatalf("day %s moved to %s while the company was paused (%d journals)", day2, ds.GetState(), len(sys.Xero.ManualJournals(tenant)))
		}
		time.Sleep(20 * time.Millisecond)
	}

	if v := m.saveConfig("260"); v != "2" {
		t.Fatalf("the fix saved version %q, want 2", v)
	}
	first := m.waitConfirmed(day1, 30*time.Second)
	second := m.waitDoc(day2, 20*time.Second, "confirmed or failed", func(ds *v1.DocumentStatus) bool {
		return ds.GetState() == "Confirmed" || ds.GetState() == "Failed"
	})
	h2 := outboxHistory(t, sys, second.GetDocumentId())
	for _, e := range h2 {
		if e.GetState() == v1.OutboxState_OUTBOX_STATE_FAILED {
			t.Errorf("day %s was pushed with the mapping the merchant had already replaced and failed; "+
				"documents planned but not sent under an older configuration must follow the new one:%s", day2, describe(h2))
			break
		}
	}
	second = m.waitConfirmed(day2, 40*time.Second)
	for _, ds := range []*v1.DocumentStatus{first, second} {
		j := checkOneJournal(t, sys, ds)
		if codes := accountCodes(j); codes["200"] || !codes["260"] {
			t.Errorf("day %s posted to %v, want sales on 260 and nothing on 200", ds.GetBusinessDay(), codes)
		}
	}
}

// TestExpiredAccessTokenRefreshed: Xero rejects the stored access token;
// the worker refreshes once (Xero rotates the refresh token), stores the
// rotated token, sealed, on the connection, and pushes with it.
func TestExpiredAccessTokenRefreshed(t *testing.T) {
	t.Parallel()
	sys, _ := start(t, newClock(testStart))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)

	before, ok := sys.Store.Connection(m.conn)
	if !ok {
		t.Fatalf("connection %s not in the store", m.conn)
	}
	old, err := control.OpenToken(sys.Store.Sealer(), before)
	if err != nil {
		t.Fatal(err)
	}
	sys.Xero.ExpireAccessTokens()
	m.seal(day1)

	ds := m.waitConfirmed(day1, 30*time.Second)
	checkOneJournal(t, sys, ds)
	if ds.GetAttempts() != 1 {
		t.Errorf("%d attempts, want 1: the refresh belongs to the call", ds.GetAttempts())
	}
	after, _ := sys.Store.Connection(m.conn)
	if proto.Equal(after.GetToken(), before.GetToken()) {
		t.Fatal("the connection still holds the token sealed at connect time")
	}
	cur, err := control.OpenToken(sys.Store.Sealer(), after)
	if err != nil {
		t.Fatalf("the stored token does not open: %v", err)
	}
	if cur.RefreshToken == "" || cur.RefreshToken == old.RefreshToken || cur.AccessToken == old.AccessToken {
		t.Fatal("the stored token was not rotated")
	}
	if after.GetStatus() != "Linked" {
		t.Errorf("connection status %q after the refresh, want Linked", after.GetStatus())
	}
	// The stored access token is the one Xero now accepts; the old one is not.
	if code := organisationStatus(t, sys, cur.AccessToken); code != http.StatusOK {
		t.Errorf("Xero answers %d to the stored access token, want 200", code)
	}
	if code := organisationStatus(t, sys, old.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("Xero answers %d to the expired access token, want 401", code)
	}
}

func organisationStatus(t *testing.T, sys *system.System, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sys.SandboxURL["xero"]+xerosandbox.APIPath+"/Organisation", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Xero-Tenant-Id", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRefusedRefreshMidRunDeauthorizes: a running process whose refresh
// token Xero no longer accepts (unused for 60 days, accounting-platform-apis.md
// §1.1) marks the connection Deauthorized on the first refused refresh; the
// status says so (4220) and no document fails. Reconnecting sends the
// waiting day by itself, and the posted one is not posted again.
func TestRefusedRefreshMidRunDeauthorizes(t *testing.T) {
	t.Parallel()
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 3)
	m.seal(day1)
	checkOneJournal(t, sys, m.waitConfirmed(day1, 30*time.Second))
	first := m.conn

	clk.Jump(61 * 24 * time.Hour)
	m.pushDay(day2, 2)
	m.seal(day2)
	st := m.waitDeauthorized(20 * time.Second)
	if st.GetDocumentsFailed() != 0 || !strings.Contains(st.GetErrorMessage(), "invalid_grant") {
		t.Fatalf("status %q with %d failed documents; want Xero's invalid_grant and none failed", st.GetErrorMessage(), st.GetDocumentsFailed())
	}
	if d := m.doc(day2); d != nil && (d.GetState() != "Planned" || d.GetAttempts() != 0) {
		t.Fatalf("day %s is %s after %d attempts, want it waiting, never sent", day2, d.GetState(), d.GetAttempts())
	}
	if c, _ := sys.Store.Connection(first); c.GetStatus() != "Deauthorized" {
		t.Fatalf("connection %s is %s, want Deauthorized", first, c.GetStatus())
	}

	m.connect()
	checkOneJournal(t, sys, m.waitConfirmed(day2, 30*time.Second))
	checkOneJournal(t, sys, m.doc(day1))
	if n := len(sys.Xero.ManualJournals(tenant)); n != 2 {
		t.Fatalf("the sandbox holds %d journals, want 2", n)
	}
}
