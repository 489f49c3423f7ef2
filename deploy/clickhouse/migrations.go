// Package clickhouse holds the reconciliation store's schema as numbered
// migrations (NNNN_name.sql), applied in order at start and recorded in the
// database's schema_migrations table.
package clickhouse

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Migration is one numbered file, split into its statements.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// MaxStatements bounds a migration's statements, so a file missing its
// separators is caught rather than sent as one.
const MaxStatements = 100

// Migrations returns every migration, in version order. Versions must be
// unique and start at 1 with no gaps, so that two branches adding the same
// number fail here rather than on a server.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, n := range names {
		num, rest, ok := strings.Cut(strings.TrimSuffix(n, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name it NNNN_what.sql, NNNN from 0001", n)
		}
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		stmts := Split(string(b))
		if len(stmts) == 0 || len(stmts) > MaxStatements {
			return nil, fmt.Errorf("migration %s: %d statements; want 1 to %d, each ending in ';' at the end of a line", n, len(stmts), MaxStatements)
		}
		out = append(out, Migration{Version: v, Name: rest, Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: versions must run 1, 2, 3… with no gap or repeat; want %04d", m.Version, m.Name, i+1)
		}
	}
	return out, nil
}

// Split cuts SQL text into statements: each ends with ';' at the end of a
// line, and lines starting with -- are comments.
func Split(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
