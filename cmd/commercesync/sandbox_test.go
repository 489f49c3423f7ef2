package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSandboxCommandKeepsItsStateInDataFolder: `commercesync sandbox xero
// -data dir` keeps the sandbox's state in dir from its start, and stops
// cleanly when told to.
func TestSandboxCommandKeepsItsStateInDataFolder(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "xero", "-addr", "127.0.0.1:0", "-data", dir}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "xero sandbox listening on http://127.0.0.1:") {
		t.Fatalf("first line %q (%v)", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if _, err := os.Stat(filepath.Join(dir, "xero.json")); err != nil {
		t.Fatalf("the sandbox keeps nothing in its data folder: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("the sandbox stopped with %v", err)
	}
}
