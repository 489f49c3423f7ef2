package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The binary a user builds carries no test hook: the fault hooks the
// end-to-end tests use are compiled into the test binary only. This builds
// the command as `make build` does and looks for the hook's switch, its
// message and the window option it installs, in the bytes and the symbols.
func TestBinaryShipsNoTestHooks(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "commercesync")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"COMMERCESYNC_FAULT_PAUSE_IN_TXN", "fault: paused inside a transaction"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the binary contains the test hook's %q", s)
		}
	}
	nm, err := exec.Command(goTool, "tool", "nm", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, nm)
	}
	if !strings.Contains(string(nm), "main.runWindow") {
		t.Fatalf("the symbol table lists no main.runWindow; this check reads the wrong binary")
	}
	if strings.Contains(string(nm), "window.WithInTransactionHook") {
		t.Error("the binary links window.WithInTransactionHook, which only the test hook uses")
	}
}
