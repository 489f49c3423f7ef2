// Command mutate is the mutation-testing gate: it reads the report gremlins
// wrote for each package, prints the package's test efficacy and mutator
// coverage, and fails when either is below the package's threshold (in
// .ci/mutation.txt) or when the package's list of equivalent mutants
// (EQUIVALENT_MUTANTS.md beside its code) names a mutant that no longer
// survives.
//
//	go run . -root ../.. -reports ../.work/reports ledger/money ledger/day
//
// The module also pins gremlins itself (go tool gremlins), as proto/tools
// pins buf: its dependencies stay out of the product's go.mod.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// ListName is the file, in each package's folder, that lists its equivalent
// mutants.
const ListName = "EQUIVALENT_MUTANTS.md"

func main() {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	root := fs.String("root", ".", "the repository's root")
	thresholds := fs.String("thresholds", ".ci/mutation.txt", "package thresholds, from the root")
	reports := fs.String("reports", ".ci/.work/reports", "the folder of gremlins' JSON reports, one per package, named by ReportName")
	changed := fs.Bool("changed-lines", false, "gremlins mutated only the lines a change touched (--diff): judge those mutants, and pass a package with none")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "name the packages to check, from the root, such as ledger/money")
		os.Exit(2)
	}
	ok, err := run(os.Stdout, *root, *thresholds, *reports, *changed, fs.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// ReportName is where make mutate asks gremlins to write a package's report.
func ReportName(pkg string) string {
	return strings.ReplaceAll(pkg, "/", "_") + ".json"
}

// run checks each package and writes what it found; it reports whether every
// package passed. An error is a setup fault (an unreadable list, a package
// without a threshold), not a failing package.
func run(w io.Writer, root, thresholdsFile, reportsDir string, changedLines bool, pkgs []string) (bool, error) {
	mins, err := readThresholds(filepath.Join(root, thresholdsFile))
	if err != nil {
		return false, err
	}
	var results []result
	var errs []error
	for _, pkg := range pkgs {
		pkg = strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(pkg), "./"), "/")
		min, ok := mins[pkg]
		if !ok {
			errs = append(errs, fmt.Errorf("%s has no threshold in %s: add a line \"%s efficacy coverage\"", pkg, thresholdsFile, pkg))
			continue
		}
		ms, elapsed, err := readReport(filepath.Join(reportsDir, ReportName(pkg)), pkg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		eqs, err := readEquivalents(filepath.Join(root, pkg, ListName), pkg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := evaluate(pkg, ms, eqs, min, elapsed)
		r.ChangedLines = changedLines
		results = append(results, r)
	}
	if len(results) > 0 {
		write(w, results)
	}
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	for _, r := range results {
		if len(r.Failures()) > 0 {
			return false, nil
		}
	}
	return true, nil
}

func write(w io.Writer, results []result) {
	for _, r := range results {
		for _, m := range r.Survivors {
			fmt.Fprintf(w, "survived: %s %s (kill it with a test, or list it in %s/%s with why it changes nothing)\n", m.Pos, m.Mutator, r.Pkg, ListName)
		}
		for _, s := range r.Stale {
			fmt.Fprintf(w, "stale: %s\n", s)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tmutants\tkilled\tlived\tequivalent\tnot covered\ttimed out\tnot viable\tefficacy\twithout equivalent\tcoverage\tminimum\ttime\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f%%\t%.2f%%\t%.2f%%\t%g/%g\t%.0fs\t\n",
			r.Pkg, r.Total(), r.Killed, r.Lived, r.Equivalent, r.NotCovered, r.TimedOut, r.NotVia,
			r.Efficacy(), r.GateEfficacy(), r.Coverage(), r.Min.Efficacy, r.Min.Coverage, r.Elapsed)
	}
	tw.Flush()
	for _, r := range results {
		if r.ChangedLines {
			fmt.Fprintf(w, "%s: judged the %d mutants on lines the change touched; %d on other lines were not run\n", r.Pkg, r.Total(), r.Skipped)
		}
		fails := r.Failures()
		if len(fails) == 0 {
			fmt.Fprintf(w, "%s: pass\n", r.Pkg)
			continue
		}
		for _, f := range fails {
			fmt.Fprintf(w, "%s: FAIL: %s\n", r.Pkg, f)
		}
	}
}
