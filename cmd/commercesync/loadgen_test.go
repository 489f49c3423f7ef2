package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commercesync/commercesync/pipeline/loadgen"
)

// loadgen against a running system, through REST and through gRPC: every
// record is accepted, every day seals and is timed; with a platform, every
// day's journal is confirmed.
func TestLoadgenRuns(t *testing.T) {
	sys := startSystem(t)
	t.Setenv("COMMERCESYNC_API_KEY", sys.DevKey)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"rest", []string{"-via", "rest", "-merchants", "12", "-days", "3", "-orders", "30", "-seed", "11"},
			[]string{"accepted → sealed summary: 36 of 36 days"}},
		{"grpc", []string{"-via", "grpc", "-merchants", "12", "-days", "3", "-orders", "30", "-seed", "12"},
			[]string{"accepted → sealed summary: 36 of 36 days"}},
		{"xero", []string{"-platform", "xero", "-merchants", "2", "-days", "2", "-orders", "10", "-seed", "13"},
			[]string{"accepted → sealed summary: 4 of 4 days", "accepted → confirmed document: 4 of 4 days"}},
		{"kafka", []string{"-via", "kafka", "-merchants", "6", "-days", "3", "-orders", "30", "-seed", "14", "-baseline"},
			[]string{"accepted → sealed summary: 18 of 18 days", "end to end: ", "baseline: raw franz-go produce of ", "ratio: ingest "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"loadgen", "-url", sys.HTTPURL, "-grpc", sys.GRPCAddr, "-brokers", strings.Join(sys.Brokers, ","),
				"-start", "2026-03-02", "-wait", "2m"}, c.args...)
			if err := run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatalf("loadgen: %v\n%s%s", err, out.String(), errOut.String())
			}
			m := regexp.MustCompile(`ingest: (\d+) records in .*\((\d+) accepted, (\d+) rejected\)`).FindStringSubmatch(out.String())
			if m == nil || m[1] != m[2] || m[3] != "0" || m[1] == "0" {
				t.Errorf("every record should be accepted:\n%s", out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("no %q in:\n%s", w, out.String())
				}
			}
		})
	}

	// Events produced straight to commerce.events make the books the
	// gateway's would: every company's ledger holds what was sent.
	a := &api{t: t, base: sys.HTTPURL, key: sys.DevKey, hc: &http.Client{Timeout: 30 * time.Second}}
	spec := loadgen.Spec{Merchants: 6, Days: 3, OrdersPerDay: 30, Seed: 14, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Late: 0.02, Updated: 0.02, Deleted: 0.01}
	for i := range spec.Merchants {
		req, _ := http.NewRequest("POST", sys.HTTPURL+"/v1/companies", strings.NewReader(fmt.Sprintf(`{"name":%q}`, spec.Merchant(i).Name)))
		req.Header.Set("Authorization", "Bearer "+sys.DevKey)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("loadgen-14-%d", i))
		resp, err := a.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil || resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("merchant %d's company: %v (replayed %q)", i, err, resp.Header.Get("Idempotent-Replayed"))
		}
		var days ledgerDays
		a.must("GET", "/v1/companies/"+c.ID+"/ledger/days", nil, &days)
		if diff := sameBooks(expectedBooks(t, spec, i), ledgerBooks(days)); diff != "" {
			t.Errorf("merchant %d, straight to Kafka: the ledger is not what was sent: %s", i, diff)
		}
	}

	// Bad settings are refused naming the flag.
	for _, bad := range [][]string{{"-via", "kafka"}, {"-merchants", "0"}, {"-late", "0.7", "-updated", "0.7"}, {"-start", "yesterday"}} {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"loadgen", "-url", sys.HTTPURL}, bad...), &out, &out); err == nil {
			t.Errorf("loadgen %v ran; want it refused", bad)
		}
	}
}
