package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Limits on what the gate reads: a report or list past them is refused with
// its path rather than read without end.
const (
	maxReportBytes   = 64 << 20
	maxListBytes     = 1 << 20
	maxListEntries   = 2000
	maxLineBytes     = 4096
	maxThresholdRows = 200
)

// Statuses as gremlins writes them in its JSON report.
const (
	statusKilled     = "KILLED"
	statusLived      = "LIVED"
	statusNotCovered = "NOT COVERED"
	statusTimedOut   = "TIMED OUT"
	statusNotViable  = "NOT VIABLE"
	statusSkipped    = "SKIPPED"
)

// mutators are gremlins' mutator names; an equivalence entry naming another
// is a typo, refused rather than never matched.
var mutators = map[string]bool{
	"ARITHMETIC_BASE":         true,
	"CONDITIONALS_BOUNDARY":   true,
	"CONDITIONALS_NEGATION":   true,
	"INCREMENT_DECREMENT":     true,
	"INVERT_NEGATIVES":        true,
	"INVERT_ASSIGNMENTS":      true,
	"INVERT_BITWISE":          true,
	"INVERT_BWASSIGN":         true,
	"INVERT_LOGICAL":          true,
	"INVERT_LOOPCTRL":         true,
	"REMOVE_SELF_ASSIGNMENTS": true,
}

// report is the part of gremlins' JSON output (unleash -o) the gate reads.
type report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Elapsed float64 `json:"elapsed_time"`
}

// mutant is one mutation of a report, its file named from the repository's
// root so that it reads the same as an equivalence entry.
type mutant struct {
	Pos     string // file:line:column
	Mutator string
	Status  string
}

func (m mutant) key() string { return m.Pos + " " + m.Mutator }

// threshold is a package's minimum test efficacy and mutator coverage.
type threshold struct {
	Efficacy, Coverage float64
}

// equivalent is one entry of a package's list of equivalent mutants.
type equivalent struct {
	Pos, Mutator, Why string
	Line              int // in the list, for messages
}

func (e equivalent) key() string { return e.Pos + " " + e.Mutator }

// readReport reads gremlins' JSON report of the package in dir (a path from
// the repository's root, as the report's file names are from the package).
func readReport(file, dir string) ([]mutant, float64, error) {
	data, err := readLimited(file, maxReportBytes)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, fmt.Errorf("no report at %s: gremlins did not finish (interrupted, or the package's tests fail without mutation); run make mutate MUTATE_PKGS=%s and read its output", file, dir)
		}
		return nil, 0, err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, fmt.Errorf("%s is not a gremlins report: %w", file, err)
	}
	var ms []mutant
	for _, f := range r.Files {
		for _, m := range f.Mutations {
			ms = append(ms, mutant{
				Pos:     fmt.Sprintf("%s:%d:%d", path.Join(dir, f.Name), m.Line, m.Column),
				Mutator: m.Type,
				Status:  m.Status,
			})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return lessPos(ms[i].Pos, ms[j].Pos, ms[i].Mutator, ms[j].Mutator) })
	return ms, r.Elapsed, nil
}

// readThresholds reads lines of "package efficacy coverage" (percentages);
// # starts a comment.
func readThresholds(file string) (map[string]threshold, error) {
	data, err := readLimited(file, maxListBytes)
	if err != nil {
		return nil, err
	}
	out := map[string]threshold{}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, maxLineBytes), maxLineBytes)
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(out) == maxThresholdRows {
			return nil, fmt.Errorf("%s:%d: more than %d packages", file, n, maxThresholdRows)
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"package efficacy coverage\", such as \"ledger/money 90 90\", got %q", file, n, sc.Text())
		}
		eff, err1 := percent(f[1])
		cov, err2 := percent(f[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s has a threshold already; keep one line per package", file, n, f[0])
		}
		out[f[0]] = threshold{Efficacy: eff, Coverage: cov}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w (lines are at most %d bytes)", file, err, maxLineBytes)
	}
	return out, nil
}

func percent(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage; write a number from 0 to 100, such as 90", s)
	}
	return v, nil
}

// entryRow is one row of the list's table: | file:line:column | MUTATOR | why |.
var entryRow = regexp.MustCompile(`^\|\s*` + "`?" + `([^|\s` + "`" + `]+):(\d+):(\d+)` + "`?" + `\s*\|\s*` + "`?" + `([A-Z_]+)` + "`?" + `\s*\|(.*)\|\s*$`)

// readEquivalents reads a package's list of equivalent mutants, a Markdown
// table whose rows name a mutant by its file (in the package), line, column
// and mutator and say why it changes nothing observable. A missing list is
// an empty one. Rows are returned with their file named from the root.
func readEquivalents(file, dir string) ([]equivalent, error) {
	data, err := readLimited(file, maxListBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []equivalent
	seen := map[string]int{}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, maxLineBytes), maxLineBytes)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") || isTableChrome(line) {
			continue
		}
		m := entryRow.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: want a row \"| file.go:line:column | MUTATOR | why it changes nothing observable |\", got %q", file, n, line)
		}
		if !mutators[m[4]] {
			return nil, fmt.Errorf("%s:%d: %q is not a gremlins mutator; use one of %s", file, n, m[4], mutatorNames())
		}
		why := strings.TrimSpace(m[5])
		if why == "" {
			return nil, fmt.Errorf("%s:%d: say why the mutant changes nothing observable in the row's last cell", file, n)
		}
		if strings.Contains(m[1], "/") {
			return nil, fmt.Errorf("%s:%d: name the file as it is in the package (%s), without a folder", file, n, path.Base(m[1]))
		}
		e := equivalent{Pos: fmt.Sprintf("%s:%s:%s", path.Join(dir, m[1]), m[2], m[3]), Mutator: m[4], Why: why, Line: n}
		if first, dup := seen[e.key()]; dup {
			return nil, fmt.Errorf("%s:%d: %s %s is listed at line %d already", file, n, e.Pos, e.Mutator, first)
		}
		seen[e.key()] = n
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%s:%d: more than %d entries; a package with that many equivalent mutants wants its code simplified", file, n, maxListEntries)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w (lines are at most %d bytes)", file, err, maxLineBytes)
	}
	return out, nil
}

// isTableChrome is the header row and the |---|---| separator.
func isTableChrome(line string) bool {
	if strings.Trim(line, "|-: ") == "" {
		return true
	}
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(line, "|"))), "mutant")
}

func mutatorNames() string {
	names := make([]string, 0, len(mutators))
	for m := range mutators {
		names = append(names, m)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func readLimited(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, limit)
	}
	return data, nil
}

// result is one package's outcome.
type result struct {
	Pkg                          string
	Killed, Lived, Equivalent    int
	NotCovered, TimedOut, NotVia int
	// Skipped are the mutants on lines a change left alone, when only the
	// changed lines were mutated (ChangedLines); they are not judged.
	Skipped      int
	ChangedLines bool
	Elapsed      float64
	Min          threshold
	Survivors    []mutant // lived and not listed
	Stale        []string // entries matching no survivor, with the reason
}

// Efficacy is gremlins' test efficacy: killed over killed and lived.
func (r result) Efficacy() float64 { return ratio(r.Killed, r.Killed+r.Lived) }

// GateEfficacy leaves listed equivalent survivors out: they are not faults a
// test could find.
func (r result) GateEfficacy() float64 { return ratio(r.Killed, r.Killed+r.Lived-r.Equivalent) }

// Coverage is gremlins' mutator coverage: mutants some test runs, over all.
func (r result) Coverage() float64 {
	return ratio(r.Killed+r.Lived, r.Killed+r.Lived+r.NotCovered)
}

// Total counts every mutant judged, whatever became of it.
func (r result) Total() int {
	return r.Killed + r.Lived + r.NotCovered + r.TimedOut + r.NotVia
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

// Failures says why the package fails the gate; none when it passes.
func (r result) Failures() []string {
	var out []string
	if r.Total() == 0 && !r.ChangedLines {
		out = append(out, "gremlins found no mutant: check the package's path")
	}
	if e := r.GateEfficacy(); e < r.Min.Efficacy {
		out = append(out, fmt.Sprintf("test efficacy %.2f%% is below %.2f%%: kill the survivors listed above with tests, or list the equivalent ones", e, r.Min.Efficacy))
	}
	if c := r.Coverage(); c < r.Min.Coverage {
		out = append(out, fmt.Sprintf("mutator coverage %.2f%% is below %.2f%%: test the code the NOT COVERED mutants are in", c, r.Min.Coverage))
	}
	if len(r.Stale) > 0 {
		out = append(out, fmt.Sprintf("%d stale entries in the list of equivalent mutants", len(r.Stale)))
	}
	return out
}

// evaluate counts a package's mutants and matches its list against them.
// An entry is stale unless it names a mutant that lived; one that timed out
// is kept (on a loaded machine a living mutant can run past the timeout),
// and one on a line a change left alone is not judged.
func evaluate(pkg string, ms []mutant, eqs []equivalent, min threshold, elapsed float64) result {
	r := result{Pkg: pkg, Min: min, Elapsed: elapsed}
	listed := map[string]bool{}
	for _, e := range eqs {
		listed[e.key()] = true
	}
	byKey := map[string]mutant{}
	for _, m := range ms {
		byKey[m.key()] = m
		switch m.Status {
		case statusKilled:
			r.Killed++
		case statusLived:
			r.Lived++
			if listed[m.key()] {
				r.Equivalent++
			} else {
				r.Survivors = append(r.Survivors, m)
			}
		case statusNotCovered:
			r.NotCovered++
		case statusTimedOut:
			r.TimedOut++
		case statusNotViable:
			r.NotVia++
		case statusSkipped:
			r.Skipped++
		}
	}
	for _, e := range eqs {
		m, ok := byKey[e.key()]
		switch {
		case !ok:
			r.Stale = append(r.Stale, fmt.Sprintf("%s %s (list line %d): no such mutant; the code moved or changed: find the mutant's new place or remove the entry", e.Pos, e.Mutator, e.Line))
		case m.Status == statusLived, m.Status == statusTimedOut, m.Status == statusSkipped:
		default:
			r.Stale = append(r.Stale, fmt.Sprintf("%s %s (list line %d): now %s, not a survivor: remove the entry", e.Pos, e.Mutator, e.Line, m.Status))
		}
	}
	return r
}

// lessPos orders file:line:column positions numerically, then by mutator.
func lessPos(a, b, ma, mb string) bool {
	fa, la, ca := splitPos(a)
	fb, lb, cb := splitPos(b)
	switch {
	case fa != fb:
		return fa < fb
	case la != lb:
		return la < lb
	case ca != cb:
		return ca < cb
	}
	return ma < mb
}

func splitPos(p string) (string, int, int) {
	parts := strings.Split(p, ":")
	if len(parts) < 3 {
		return p, 0, 0
	}
	l, _ := strconv.Atoi(parts[len(parts)-2])
	c, _ := strconv.Atoi(parts[len(parts)-1])
	return strings.Join(parts[:len(parts)-2], ":"), l, c
}
