#!/usr/bin/env bash
# Runs the REST ingest benchmark pair interleaved, gateway then raw produce,
# PAIRS times (default 7), each run a fresh process with -count=1, and prints
# the records/s of each run, the ratio of each pair and the median ratio,
# with the load at the start and the end. The machine is shared, so only
# ratios taken this way, within one run, mean anything.
#
#   gateway/bench_ingest.sh [PAIRS] [BENCHTIME]
#   TEST_BINARY=/tmp/gateway.test gateway/bench_ingest.sh   # a binary built elsewhere (go test -c)
#   CPUPROFILE=/tmp/ingest.prof gateway/bench_ingest.sh 1     # profile the gateway's runs
set -euo pipefail
cd "$(dirname "$0")"
PAIRS="${1:-7}"
BENCHTIME="${2:-3s}"
bin="${TEST_BINARY:-}"
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/gateway.test
	"${GO:-go}" test -c -o "$bin" .
fi
run() { # benchmark name, then extra flags; prints records/s
	"$bin" -test.run '^$' -test.bench "^$1\$" -test.benchtime "$BENCHTIME" -test.count 1 "${@:2}" |
		awk '/records\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "records/s") print $i }'
}
echo "load at start: $(uptime)"
ratios=()
for p in $(seq 1 "$PAIRS"); do
	prof=()
	if [ -n "${CPUPROFILE:-}" ]; then prof=(-test.cpuprofile "${CPUPROFILE%.prof}-$p.prof"); fi
	g=$(run BenchmarkRESTIngestGateway "${prof[@]}")
	r=$(run BenchmarkRESTIngestRawProduce)
	ratio=$(awk -v g="$g" -v r="$r" 'BEGIN { printf "%.3f", g / r }')
	ratios+=("$ratio")
	printf 'pair %d: gateway %8.0f records/s  raw produce %8.0f records/s  ratio %s\n' "$p" "$g" "$r" "$ratio"
done
echo "load at end:   $(uptime)"
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END {
	m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	printf "median ratio (gateway / raw produce) of %d pairs: %.3f (range %.3f to %.3f)\n", NR, m, a[1], a[NR] }'
