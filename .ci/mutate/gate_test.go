package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repo lays out a repository with a threshold file, a package's list of
// equivalent mutants and gremlins' report for it.
func repo(t *testing.T, thresholds, list, reportJSON string) (root, reports string) {
	t.Helper()
	root = t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".ci/mutation.txt", thresholds)
	if list != "" {
		write("ledger/money/"+ListName, list)
	}
	if reportJSON != "" {
		write("reports/"+ReportName("ledger/money"), reportJSON)
	}
	return root, filepath.Join(root, "reports")
}

// report10 is 8 killed, 2 lived (money.go:5:3 and :9:7), 1 not covered and
// 1 timed out.
const report10 = `{"files":[{"file_name":"money.go","mutations":[
{"type":"ARITHMETIC_BASE","status":"KILLED","line":1,"column":1},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":2,"column":1},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":3,"column":1},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":4,"column":1},
{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":5,"column":3},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":6,"column":1},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":7,"column":1},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":8,"column":1},
{"type":"INVERT_NEGATIVES","status":"LIVED","line":9,"column":7},
{"type":"ARITHMETIC_BASE","status":"KILLED","line":10,"column":1},
{"type":"ARITHMETIC_BASE","status":"NOT COVERED","line":11,"column":1},
{"type":"INVERT_LOOPCTRL","status":"TIMED OUT","line":12,"column":2}
]}],"elapsed_time":12.5}`

const list = "# Equivalent mutants\n\n| Mutant | Mutator | Why |\n|---|---|---|\n"

// An equivalent survivor is left out of the efficacy the gate compares;
// gremlins' own figure is still printed beside it.
func TestListedSurvivorIsNotAFailure(t *testing.T) {
	root, reports := repo(t, "ledger/money 90 80\n",
		list+"| `money.go:5:3` | CONDITIONALS_BOUNDARY | both branches give the same amount |\n", report10)
	var out bytes.Buffer
	ok, err := run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("8 killed of 9 real mutants is 88.9%%, below 90; passed:\n%s", out.String())
	}
	for _, want := range []string{
		"survived: ledger/money/money.go:9:7 INVERT_NEGATIVES",
		"80.00%", // gremlins' efficacy, 8 of 10
		"88.89%", // without the equivalent one, 8 of 9
		"90.91%", // coverage: 10 run of 11
		"12s",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "survived: ledger/money/money.go:5:3") {
		t.Errorf("a listed survivor is reported as a survivor:\n%s", out.String())
	}

	// Listing the other survivor too brings efficacy to 100%.
	root, reports = repo(t, "ledger/money 90 80\n", list+
		"| money.go:5:3 | CONDITIONALS_BOUNDARY | same amount |\n"+
		"| money.go:9:7 | INVERT_NEGATIVES | -0 is 0 |\n", report10)
	out.Reset()
	ok, err = run(&out, root, ".ci/mutation.txt", reports, false, []string{"./ledger/money/"})
	if err != nil || !ok {
		t.Fatalf("ok %v, err %v:\n%s", ok, err, out.String())
	}
	if !strings.Contains(out.String(), "ledger/money: pass") {
		t.Errorf("no pass line:\n%s", out.String())
	}
}

// The gate compares at the threshold inclusively: exactly the minimum passes.
func TestThresholdIsInclusive(t *testing.T) {
	root, reports := repo(t, "ledger/money 80 90.90\n", "", report10)
	var out bytes.Buffer
	ok, err := run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err != nil || !ok {
		t.Fatalf("80%% efficacy against a minimum of 80: ok %v, err %v\n%s", ok, err, out.String())
	}
	root, reports = repo(t, "ledger/money 80 91\n", "", report10)
	out.Reset()
	ok, err = run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err != nil || ok {
		t.Fatalf("90.91%% coverage against 91: ok %v, err %v\n%s", ok, err, out.String())
	}
	if !strings.Contains(out.String(), "mutator coverage 90.91% is below 91.00%") {
		t.Errorf("the failure does not say which figure is short:\n%s", out.String())
	}
}

// An entry that no longer names a survivor fails the gate, saying what
// became of the mutant, so the list cannot rot.
func TestStaleEntriesAreReported(t *testing.T) {
	root, reports := repo(t, "ledger/money 0 0\n", list+
		"| money.go:1:1 | ARITHMETIC_BASE | now killed |\n"+
		"| money.go:40:2 | ARITHMETIC_BASE | the line moved |\n"+
		"| money.go:5:3 | INVERT_LOGICAL | another mutator at a survivor's place |\n"+
		"| money.go:12:2 | INVERT_LOOPCTRL | timed out on a loaded machine |\n", report10)
	var out bytes.Buffer
	ok, err := run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("stale entries passed:\n%s", out.String())
	}
	for _, want := range []string{
		"stale: ledger/money/money.go:1:1 ARITHMETIC_BASE (list line 5): now KILLED",
		"stale: ledger/money/money.go:40:2 ARITHMETIC_BASE (list line 6): no such mutant",
		"stale: ledger/money/money.go:5:3 INVERT_LOGICAL (list line 7): no such mutant",
		"3 stale entries",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "money.go:12:2 INVERT_LOOPCTRL (list") {
		t.Errorf("a listed mutant that timed out is called stale:\n%s", out.String())
	}
}

func TestSetupFaultsNameTheFileAndTheFix(t *testing.T) {
	for _, tc := range []struct {
		name, thresholds, list, report string
		want                           string
	}{
		{"no threshold", "ledger/day 90 90\n", "", report10, `ledger/money has no threshold in .ci/mutation.txt: add a line "ledger/money efficacy coverage"`},
		{"threshold columns", "ledger/money 90\n", "", report10, `mutation.txt:1: want "package efficacy coverage"`},
		{"threshold value", "ledger/money 90 ninety\n", "", report10, `"ninety" is not a percentage`},
		{"threshold range", "ledger/money 190 90\n", "", report10, `"190" is not a percentage`},
		{"threshold twice", "ledger/money 90 90\nledger/money 80 80\n", "", report10, "mutation.txt:2: ledger/money has a threshold already"},
		{"no report", "ledger/money 90 90\n", "", "", "gremlins did not finish"},
		{"bad report", "ledger/money 90 90\n", "", "{", "is not a gremlins report"},
		{"mutator", "ledger/money 90 90\n", list + "| money.go:5:3 | CONDITIONAL_BOUNDARY | typo |\n", report10, `EQUIVALENT_MUTANTS.md:5: "CONDITIONAL_BOUNDARY" is not a gremlins mutator`},
		{"no reason", "ledger/money 90 90\n", list + "| money.go:5:3 | CONDITIONALS_BOUNDARY |  |\n", report10, "EQUIVALENT_MUTANTS.md:5: say why"},
		{"folder", "ledger/money 90 90\n", list + "| ledger/money/money.go:5:3 | CONDITIONALS_BOUNDARY | x |\n", report10, "name the file as it is in the package (money.go)"},
		{"row", "ledger/money 90 90\n", list + "| money.go:5 | CONDITIONALS_BOUNDARY | x |\n", report10, "EQUIVALENT_MUTANTS.md:5: want a row"},
		{"twice", "ledger/money 90 90\n", list + "| money.go:5:3 | CONDITIONALS_BOUNDARY | x |\n| money.go:5:3 | CONDITIONALS_BOUNDARY | y |\n", report10, "listed at line 5 already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, reports := repo(t, tc.thresholds, tc.list, tc.report)
			var out bytes.Buffer
			ok, err := run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
			if ok || err == nil {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestListLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(list)
	for i := 0; i <= maxListEntries; i++ {
		b.WriteString("| money.go:" + strconv.Itoa(i+1) + ":1 | ARITHMETIC_BASE | x |\n")
	}
	root, reports := repo(t, "ledger/money 0 0\n", b.String(), report10)
	_, err := run(&bytes.Buffer{}, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err == nil || !strings.Contains(err.Error(), "more than 2000 entries") {
		t.Fatalf("a list past its limit: %v", err)
	}
	root, reports = repo(t, "ledger/money 0 0\n", list+"| money.go:1:1 | ARITHMETIC_BASE | "+strings.Repeat("x", maxLineBytes)+" |\n", report10)
	_, err = run(&bytes.Buffer{}, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"})
	if err == nil || !strings.Contains(err.Error(), "lines are at most 4096 bytes") {
		t.Fatalf("a line past its limit: %v", err)
	}
}

// The table reads the way gremlins counts: efficacy over killed and lived,
// coverage over those and the not covered; timed out and not viable in
// neither.
func TestCounts(t *testing.T) {
	ms, elapsed, err := readReport(writeTemp(t, report10), "ledger/money")
	if err != nil {
		t.Fatal(err)
	}
	r := evaluate("ledger/money", ms, nil, threshold{}, elapsed)
	got := []int{r.Total(), r.Killed, r.Lived, r.NotCovered, r.TimedOut, r.NotVia, len(r.Survivors)}
	want := []int{12, 8, 2, 1, 1, 0, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("total, killed, lived, not covered, timed out, not viable, survivors = %v, want %v", got, want)
		}
	}
	if r.Survivors[0].Pos != "ledger/money/money.go:5:3" || r.Survivors[1].Pos != "ledger/money/money.go:9:7" {
		t.Errorf("survivors %v are not in file order", r.Survivors)
	}
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each figure passes at exactly its minimum, and 100 is a minimum one can
// set.
func TestFiguresAtTheirMinimumPass(t *testing.T) {
	r := result{Pkg: "p", Killed: 9, Lived: 1, Min: threshold{Efficacy: 90, Coverage: 100}}
	if f := r.Failures(); len(f) != 0 {
		t.Errorf("9 of 10 killed and all run, against 90 and 100: %v", f)
	}
	r = result{Pkg: "p", Killed: 9, NotCovered: 1, Min: threshold{Efficacy: 100, Coverage: 90}}
	if f := r.Failures(); len(f) != 0 {
		t.Errorf("9 of 9 killed and 9 of 10 run, against 100 and 90: %v", f)
	}
	mins, err := readThresholds(writeTemp(t, "a 100 100\nb 0 0\n"))
	if err != nil || mins["a"] != (threshold{100, 100}) || mins["b"] != (threshold{}) {
		t.Errorf("thresholds of 100 and 0: %v, %v", mins, err)
	}
}

// reportChanged is report10 as gremlins writes it when it mutates only the
// lines a change touched: the mutants elsewhere are SKIPPED.
const reportChanged = `{"files":[{"file_name":"money.go","mutations":[
{"type":"ARITHMETIC_BASE","status":"KILLED","line":1,"column":1},
{"type":"CONDITIONALS_BOUNDARY","status":"SKIPPED","line":5,"column":3},
{"type":"INVERT_NEGATIVES","status":"LIVED","line":9,"column":7},
{"type":"ARITHMETIC_BASE","status":"SKIPPED","line":10,"column":1}
]}],"elapsed_time":1}`

// With only the changed lines mutated, the gate judges their mutants
// against the package's thresholds, does not call an entry on an untouched
// line stale, still calls one naming no mutant stale, and passes a change
// with no mutant on its lines.
func TestChangedLinesOnly(t *testing.T) {
	root, reports := repo(t, "ledger/money 90 90\n", list+"| money.go:5:3 | CONDITIONALS_BOUNDARY | untouched |\n", reportChanged)
	var out bytes.Buffer
	ok, err := run(&out, root, ".ci/mutation.txt", reports, true, []string{"ledger/money"})
	if err != nil || ok {
		t.Fatalf("1 of 2 changed-line mutants killed passed 90%%: ok %v, err %v\n%s", ok, err, out.String())
	}
	for _, want := range []string{"judged the 2 mutants on lines the change touched; 2 on other lines were not run", "survived: ledger/money/money.go:9:7 INVERT_NEGATIVES", "test efficacy 50.00% is below 90.00%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "stale") {
		t.Errorf("an entry on an untouched line was judged:\n%s", out.String())
	}

	root, reports = repo(t, "ledger/money 90 90\n", list+"| money.go:6:3 | CONDITIONALS_BOUNDARY | moved |\n",
		`{"files":[{"file_name":"money.go","mutations":[{"type":"CONDITIONALS_BOUNDARY","status":"SKIPPED","line":5,"column":3}]}]}`)
	out.Reset()
	ok, err = run(&out, root, ".ci/mutation.txt", reports, true, []string{"ledger/money"})
	if err != nil || ok || !strings.Contains(out.String(), "stale: ledger/money/money.go:6:3 CONDITIONALS_BOUNDARY (list line 5): no such mutant") {
		t.Fatalf("an entry naming no mutant: ok %v, err %v\n%s", ok, err, out.String())
	}

	root, reports = repo(t, "ledger/money 90 90\n", "",
		`{"files":[{"file_name":"money.go","mutations":[{"type":"CONDITIONALS_BOUNDARY","status":"SKIPPED","line":5,"column":3}]}]}`)
	out.Reset()
	ok, err = run(&out, root, ".ci/mutation.txt", reports, true, []string{"ledger/money"})
	if err != nil || !ok || !strings.Contains(out.String(), "judged the 0 mutants") {
		t.Fatalf("a change with no mutant on its lines: ok %v, err %v\n%s", ok, err, out.String())
	}
	out.Reset()
	if ok, _ := run(&out, root, ".ci/mutation.txt", reports, false, []string{"ledger/money"}); ok {
		t.Fatalf("a whole-package run that judged no mutant passed:\n%s", out.String())
	}
}
