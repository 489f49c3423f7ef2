package day

import (
	"flag"
	"os"
	"testing"
)

// TestMain keeps rapid from writing fail files into the source tree; a
// failure still prints the seed that reproduces it (-rapid.seed=...).
func TestMain(m *testing.M) {
	_ = flag.Set("rapid.nofailfile", "true")
	os.Exit(m.Run())
}
