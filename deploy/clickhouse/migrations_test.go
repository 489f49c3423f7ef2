package clickhouse

import (
	"reflect"
	"strings"
	"testing"
)

func TestMigrationsAreNumberedAndSplit(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("migrations %+v; want them to start at 0001", ms)
	}
	for _, m := range ms {
		for _, st := range m.Statements {
			if strings.Contains(st, ";") {
				t.Errorf("%04d_%s: a statement holds ';', so it was not split: %s", m.Version, m.Name, st)
			}
			// What ClickHouse 18.16 refuses (reference: infrastructure.md).
			for _, banned := range []string{"DateTime64", "Map(", "Bool", "LowCardinality", " TTL ", "CODEC", "Float"} {
				if strings.Contains(st, banned) {
					t.Errorf("%04d_%s uses %s, which ClickHouse 18.16 refuses or money must not use", m.Version, m.Name, banned)
				}
			}
		}
	}
}

func TestSplitCutsAtLineEndSemicolonsAndDropsComments(t *testing.T) {
	got := Split("-- a comment\nCREATE TABLE a (x String);\n\n  -- another\nCREATE TABLE b\n(\n  y String\n);\nSELECT 1")
	want := []string{"CREATE TABLE a (x String)", "CREATE TABLE b\n(\n  y String\n)", "SELECT 1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Split = %q; want %q", got, want)
	}
}
