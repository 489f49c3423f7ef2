// Package chtest gives tests a real ClickHouse server: the one CLICKHOUSE_ADDR
// names, or a throwaway clickhouse-server of their own.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/commercesync/commercesync/pipeline/sink/chserver"
)

// Target is a server and a database no other test uses.
type Target struct {
	Addr, Database string
	// HTTP is the server's HTTP interface, when this test started it.
	HTTP string
}

// Start returns a fresh database on a real server. With CLICKHOUSE_ADDR set
// it uses that server and drops the database when the test ends; otherwise
// it starts a clickhouse-server in the test's temporary folder, stopped when
// the test ends. A machine with neither fails the test, saying how to fix
// it: a skipped test would count as passing.
func Start(t testing.TB) Target {
	t.Helper()
	db := "t_" + randomHex(6)
	if addr := os.Getenv("CLICKHOUSE_ADDR"); addr != "" {
		tg := Target{Addr: addr, Database: db}
		t.Cleanup(func() {
			if err := exec(context.Background(), addr, "DROP DATABASE IF EXISTS "+db); err != nil {
				t.Logf("drop test database %s: %v", db, err)
			}
		})
		return tg
	}
	s, err := chserver.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("ClickHouse for the test: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Logf("stop clickhouse-server: %v", err)
		}
	})
	return Target{Addr: s.Addr, Database: db, HTTP: s.HTTP}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
