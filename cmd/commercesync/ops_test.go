package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/sink/chtest"
	"github.com/commercesync/commercesync/pipeline/system"
)

// The ops address of a running system serves health, readiness and every
// metric the README's Operations table lists, once a day has posted.
func TestOpsEndpoints(t *testing.T) {
	tg := chtest.Start(t)
	sys := startSystem(t, system.WithReconciliation(system.Reconciliation{Addr: tg.Addr, Database: tg.Database}))
	hc := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get(sys.OpsURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}

	s := newScenario(t, sys, xeroPlatform, seed, 20)
	s.connect(2 * 24 * 60)
	s.pushAll()
	s.syncTo(syncTo)
	s.waitConfirmed(2)

	_, scrape := get("/metrics")
	listed := readmeMetrics(t)
	if len(listed) < 10 {
		t.Fatalf("the README's Operations table lists %d metrics; it was not read", len(listed))
	}
	for _, name := range listed {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{|_bucket\{|_count | )`).MatchString(scrape) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	for _, want := range []string{
		`commercesync_push_outcomes_total{outcome="confirmed",platform="xero"} 2`,
		`commercesync_outbox_documents{state="confirmed"} 2`,
		`commercesync_window_seal_delay_seconds_count 2`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("/metrics has no line %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^commercesync_gateway_records_total\{result="accepted"\} [1-9]`).MatchString(scrape) {
		t.Error("/metrics counts no accepted record")
	}
}

// readmeMetrics lists the metric names of the README's Operations table.
func readmeMetrics(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(raw), "\n## Operations\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(commercesync_[a-z_]+)").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}
