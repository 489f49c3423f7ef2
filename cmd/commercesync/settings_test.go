package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateSettings = flag.Bool("update", false, "rewrite the README's settings table from the code")

// The README's settings table is the one the code makes.
func TestSettingsTableIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
	before, rest, ok1 := strings.Cut(string(raw), begin)
	current, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("the README has no %q … %q markers", strings.TrimSpace(begin), end)
	}
	want := settingsTable()
	if current == want {
		return
	}
	if *updateSettings {
		if err := os.WriteFile(path, []byte(before+begin+want+end+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the README's settings table is not the code's; run: go test ./cmd/commercesync -run TestSettingsTableIsCurrent -update\nwant:\n%s", want)
}

// A variable sets its flag; the command line wins over it; a bad value
// names the variable.
func TestFlagsComeFromTheEnvironment(t *testing.T) {
	t.Setenv("COMMERCESYNC_TICK", "5m")
	t.Setenv("COMMERCESYNC_LOG_LEVEL", "debug")
	fs, f := newDevFlags(io.Discard)
	if err := parseFlags(fs, []string{"-log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	if *f.tick != 5*time.Minute || *f.level != "warn" {
		t.Errorf("tick %s, log level %s; want 5m from the environment and warn from the command line", *f.tick, *f.level)
	}
	t.Setenv("KAFKA_BROKERS", "a:9092,b:9092")
	wfs, w := newWindowFlags(io.Discard)
	if err := parseFlags(wfs, nil); err != nil || *w.brokers != "a:9092,b:9092" {
		t.Errorf("window -brokers %q, %v; want KAFKA_BROKERS", *w.brokers, err)
	}
	t.Setenv("COMMERCESYNC_SANDBOX_ADDR", "127.0.0.1:9999")
	sfs, s := newSandboxFlags("xero", io.Discard)
	if err := parseFlags(sfs, nil); err != nil || *s.addr != "127.0.0.1:9999" {
		t.Errorf("sandbox -addr %q, %v; want COMMERCESYNC_SANDBOX_ADDR", *s.addr, err)
	}
	t.Setenv("COMMERCESYNC_TICK", "often")
	fs, _ = newDevFlags(io.Discard)
	if err := parseFlags(fs, nil); err == nil || !strings.Contains(err.Error(), `COMMERCESYNC_TICK="often"`) {
		t.Errorf("a bad variable: %v; want an error naming it", err)
	}
}
