package chstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	schema "github.com/commercesync/commercesync/deploy/clickhouse"
	"github.com/commercesync/commercesync/pipeline/sink/chstore"
	"github.com/commercesync/commercesync/pipeline/sink/chtest"
)

// Opening applies every migration once and records it; opening again
// applies nothing and records nothing twice.
func TestOpenAppliesEachMigrationOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg := chtest.Start(t)
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.Version)
	}
	for range 2 {
		s, err := chstore.Open(ctx, tg.Addr, tg.Database)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Applied(ctx)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("applied %v; want %v, each once", got, want)
		}
	}
}

func TestOpenRefusesABadDatabaseNameAndRanges(t *testing.T) {
	ctx := context.Background()
	if _, err := chstore.Open(ctx, "127.0.0.1:1", "bad-name; DROP"); err == nil || !strings.Contains(err.Error(), "use letters, digits and _") {
		t.Fatalf("Open with a bad name: %v", err)
	}
	tg := chtest.Start(t)
	s, err := chstore.Open(ctx, tg.Addr, tg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct{ from, to, want string }{
		{"2026-3-1", "2026-03-02", `from "2026-3-1": send a date as YYYY-MM-DD`},
		{"2026-03-02", "2026-03-01", "to 2026-03-01 is before from 2026-03-02"},
		{"2025-01-01", "2026-03-01", "spans 425 days; the limit is 366"},
	} {
		if _, err := s.Accounts(ctx, "t", "c", c.from, c.to); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Accounts(%s, %s): %v; want %q", c.from, c.to, err, c.want)
		}
	}
}

// Every query runs on this server's SQL dialect, empty or not.
func TestQueriesRunOnAnEmptyStore(t *testing.T) {
	ctx := context.Background()
	tg := chtest.Start(t)
	s, err := chstore.Open(ctx, tg.Addr, tg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Accounts(ctx, "t", "c", "2026-03-01", "2026-03-31"); err != nil {
		t.Errorf("Accounts: %v", err)
	}
	if _, err := s.Days(ctx, "t", "c", "2026-03-01", "2026-03-31"); err != nil {
		t.Errorf("Days: %v", err)
	}
	if es, cut, err := s.Exceptions(ctx, "t", "2026-03-01"); err != nil || len(es) != 0 || cut {
		t.Errorf("Exceptions: %v, %v, %v; want none", es, cut, err)
	}
}
