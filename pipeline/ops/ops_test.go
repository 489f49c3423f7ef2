package ops

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /readyz follows Ready; /healthz answers whatever it says.
func TestReadiness(t *testing.T) {
	m, r := NewMetrics(), NewReady("starting")
	h := Handler(m, r)
	if code, body := scrape(t, h, "/readyz"); code != http.StatusServiceUnavailable || body != "not ready: starting\n" {
		t.Errorf("starting: %d %q", code, body)
	}
	if code, _ := scrape(t, h, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while starting: %d", code)
	}
	r.Set()
	if code, body := scrape(t, h, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("ready: %d %q", code, body)
	}
	r.NotReady("stopping")
	if code, body := scrape(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "stopping") {
		t.Errorf("stopping: %d %q", code, body)
	}
}

// What the observers are told shows on /metrics; a partition given up
// leaves it.
func TestObserversFeedMetrics(t *testing.T) {
	m := NewMetrics()
	m.GatewayRecords(3, 1)
	m.GatewayRecords(2, 0)
	w := m.Window()
	w.Lag(0, 7)
	w.Lag(1, 0)
	w.Lag(1, -1)
	w.Sealed(90 * time.Minute)
	w.Sealed(-time.Second) // a clock behind the day's end counts as no delay
	w.LiveDays(4)
	p := m.Push()
	p.Outcome("xero", "confirmed")
	p.Outcome("xero", "confirmed")
	p.Waited("xero", 250*time.Millisecond)
	_, body := scrape(t, Handler(m, NewReady("x")), "/metrics")
	for _, want := range []string{
		`commercesync_gateway_records_total{result="accepted"} 5`,
		`commercesync_gateway_records_total{result="rejected"} 1`,
		`commercesync_window_consumer_lag{partition="0"} 7`,
		`commercesync_window_seal_delay_seconds_sum 5400`,
		`commercesync_window_seal_delay_seconds_count 2`,
		`commercesync_window_seal_delay_seconds_bucket{le="1"} 1`,
		`commercesync_window_live_days 4`,
		`commercesync_push_outcomes_total{outcome="confirmed",platform="xero"} 2`,
		`commercesync_push_rate_limit_wait_seconds_bucket{platform="xero",le="0.5"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
	if strings.Contains(body, `partition="1"`) {
		t.Error("a partition given up still shows its lag")
	}
}

func TestStateName(t *testing.T) {
	for st, want := range map[v1.OutboxState]string{
		v1.OutboxState_OUTBOX_STATE_PLANNED:    "planned",
		v1.OutboxState_OUTBOX_STATE_SUPERSEDED: "superseded",
		v1.OutboxState(99):                     "99",
	} {
		if got := stateName(st); got != want {
			t.Errorf("stateName(%v) = %q, want %q", st, got, want)
		}
	}
}
