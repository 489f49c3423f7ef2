#!/usr/bin/env bash
# Runs loadgen against the stages as separate processes, in two layouts:
# "scaled" (2 gateways, 3 windows, 2 planners, 2 push workers) and "single"
# (one of each), each beside one broker process and the Xero sandbox. In
# each layout it makes PAIRS rounds; a round sends through REST, gRPC and
# straight to Kafka, and each of those runs is followed at once by its
# baseline, plain franz-go produce of as many records of the same sizes to
# the same broker (loadgen -baseline), so target and baseline alternate.
# It prints each run's lines and, per layout and path, the median of the
# ratios, with the load at the start and the end. The machine is shared,
# so only ratios taken this way mean anything.
#
#   cmd/commercesync/bench_stages.sh [PAIRS] [MERCHANTS] [ORDERS]
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS="${1:-5}"
MERCHANTS="${2:-100}"
ORDERS="${3:-50}"
work=$(mktemp -d)
cs="$work/commercesync"
"${GO:-go}" build -o "$cs" ./cmd/commercesync
pids=()
stop() { # the stages first, then the sandbox and the broker they use
	for p in "${pids[@]:2}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]:2}"; do wait "$p" 2>/dev/null || true; done
	for p in "${pids[@]:0:2}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
}
trap 'stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
waitport() { for _ in $(seq 1 300); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

export COMMERCESYNC_SEALING_KEY=$(head -c 32 /dev/urandom | base64)
export COMMERCESYNC_ADMIN_TOKEN=cso_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
export COMMERCESYNC_XERO_CLIENT_SECRET=commercesync-dev-secret
export COMMERCESYNC_LOG_FORMAT=json COMMERCESYNC_LOG_LEVEL=warn

layout() { # name gateways windows planners pushers
	local name=$1 gws=$2 wins=$3 plans=$4 pushes=$5 base=$((30000 + RANDOM % 20000))
	export KAFKA_BROKERS=127.0.0.1:$base
	local gw=http://127.0.0.1:$((base + 1)) xeroport=$((base + 9)) ops=$((base + 10))
	"$cs" broker -kafka-data "$work/$name/kafka" -kafka-port "$base" 2>>"$work/$name.log" & pids+=($!)
	waitport "$base"
	local orgs=$((MERCHANTS * PAIRS * 3))
	"$cs" sandbox xero -organisations "$orgs" -addr "127.0.0.1:$xeroport" -redirect-uri "$gw/v1/oauth/callback" 2>>"$work/$name.log" & pids+=($!)
	local P="-platforms xero -xero-client-id commercesync-dev -xero-sandbox http://127.0.0.1:$xeroport"
	# Each process its own ops port, counted here: a background job or a
	# command substitution cannot change the shell's variables.
	for i in $(seq 1 "$gws"); do
		ops=$((ops + 1)); o=127.0.0.1:$ops
		"$cs" gateway -http "127.0.0.1:$((base + i))" -grpc "127.0.0.1:$((base + 4 + i))" -public-url "$gw" -ops "$o" $P 2>>"$work/$name.log" & pids+=($!)
	done
	waitport $((base + 1))
	for _ in $(seq 1 "$wins"); do ops=$((ops + 1)); o=127.0.0.1:$ops; "$cs" window -ops "$o" 2>>"$work/$name.log" & pids+=($!); done
	for _ in $(seq 1 "$plans"); do ops=$((ops + 1)); o=127.0.0.1:$ops; "$cs" plan -platforms xero -ops "$o" 2>>"$work/$name.log" & pids+=($!); done
	for _ in $(seq 1 "$pushes"); do ops=$((ops + 1)); o=127.0.0.1:$ops; "$cs" push $P -callback "$gw/v1/oauth/callback" -ops "$o" 2>>"$work/$name.log" & pids+=($!); done
	local tenant key
	export COMMERCESYNC_URL=$gw
	tenant=$("$cs" admin tenants create -name "Bench $name" | awk '/^Tenant / { print $2 }')
	key=$("$cs" admin keys create -tenant "$tenant" -scopes ingest,configure,read | sed -n 's/^Secret (shown this once; store it now): //p')
	export COMMERCESYNC_API_KEY=$key
	local seed=100 offset=0
	for p in $(seq 1 "$PAIRS"); do
		for via in rest grpc kafka; do
			seed=$((seed + 1))
			echo "== $name pair $p via $via" | tee -a "$work/$name.out"
			"$cs" loadgen -url "$gw" -grpc "127.0.0.1:$((base + 5))" -via "$via" -brokers "$KAFKA_BROKERS" -baseline \
				-platform xero -organisations "$orgs" -organisation-offset "$offset" -merchants "$MERCHANTS" -days 2 -orders "$ORDERS" \
				-seed "$seed" -start 2026-03-02 -wait 5m 2>>"$work/$name.log" | tee -a "$work/$name.out"
			offset=$((offset + MERCHANTS))
		done
	done
	stop
}

echo "load at start: $(uptime)"
layout scaled 2 3 2 2
layout single 1 1 1 1
echo "load at end:   $(uptime)"
for name in scaled single; do
	awk -v name="$name" '
		/^== / { via = $NF }
		/^ratio:/ { split($0, f, /[ ,]+/); for (i = 1; i <= length(f); i++) { if (f[i] == "ingest") ing[via] = ing[via] " " f[i+1]; if (f[i] == "end") e2e[via] = e2e[via] " " f[i+3] } }
		function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n ? ((n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : "-" }
		END { for (v in ing) printf "%s via %s: median ratio to raw produce: ingest %s, end to end %s (of %d pairs)\n", name, v, median(ing[v]), median(e2e[v]), split(ing[v], x, " ") }
	' "$work/$name.out"
done
