# commercesync: `make run` starts everything in one process; `make test` runs
# every check CI runs but mutation testing, which `make mutate` runs.

GO        ?= go
PROTO_BIN := proto/.bin

.PHONY: run clickhouse build test test-long bench fuzz vet fmt-check proto proto-check tools mutate mutate-tools clean

run: ## the whole pipeline on embedded defaults, sandboxes included
	@$(MAKE) --no-print-directory clickhouse || echo "clickhouse-server could not be installed; the system runs without reconciliation"
	$(GO) run ./cmd/commercesync dev

# The reconciliation store: Debian's clickhouse-server, installed when
# missing (the tests and `make run` start their own servers from it, on
# loopback ports, with their data in folders of their own). Nothing to do
# when CLICKHOUSE_ADDR names a server.
clickhouse:
	@if [ -n "$$CLICKHOUSE_ADDR" ] || command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; then exit 0; fi; \
	echo "installing Debian's clickhouse-server for the reconciliation store"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null

build:
	$(GO) build -o bin/commercesync ./cmd/commercesync

# The multi-process test (2,000 merchants over 7 days, its stages as separate
# processes of the test binary) runs without -race: under it the run takes
# several times as long, and the same code runs under -race in-process in
# ./pipeline/system.
STAGES_TEST := ^TestStagesRunAsSeparateProcesses$$
test: fmt-check vet proto-check clickhouse ## what CI runs before mutation testing (.ci/run then runs .ci/mutate-changed)
	$(GO) test -race -count=1 -timeout 20m -skip '$(STAGES_TEST)' ./...
	$(GO) test -count=1 -timeout 20m -run '$(STAGES_TEST)' ./cmd/commercesync
	$(GO) test -count=1 -run '^TestMemoryStaysFlatAsDaysClose$$' -v ./pipeline/window
	$(MAKE) fuzz

# Every fuzz target (each outside decoder: REST records, the OAuth callback,
# every Kafka record a stage reads) for FUZZTIME, from its committed corpus.
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz

# Full-size runs; their figures are in the README: the end-to-end tests
# with 100,000 orders, and every property test with 20x the checks.
RAPID_PKGS := ./ledger/day ./ledger/mapping ./ledger/money ./pipeline/window
test-long: vet clickhouse
	COMMERCESYNC_LONG=1 $(GO) test -race -count=1 -timeout 60m -skip '$(STAGES_TEST)' ./...
	COMMERCESYNC_LONG=1 $(GO) test -count=1 -timeout 60m -run '$(STAGES_TEST)' ./cmd/commercesync
	$(GO) test -count=1 -timeout 60m $(RAPID_PKGS) -rapid.checks=2000
	COMMERCESYNC_LONG=1 $(GO) test -count=1 -timeout 120m -run TestMemoryStaysFlatAsDaysClose -v ./pipeline/window
	$(MAKE) bench

# The Store benchmarks each measure a target against its baseline in
# interleaved pairs; -benchtime 5x is five pairs.
# The reconciliation benchmarks likewise: the sink against raw inserts of
# SINK_BENCH_ROWS rows (5 pairs), a company-month against a full scan of
# QUERY_BENCH_ROWS (20 pairs).
SINK_BENCH_ROWS  ?= 10000000
QUERY_BENCH_ROWS ?= 1000000
bench: clickhouse
	$(GO) test -run '^$$' -bench '^Benchmark[^S]' -benchtime 2s -count 5 -cpu 1 ./pipeline/window ./pipeline/plan ./ledger/day ./gateway/records
	$(GO) test -run '^$$' -bench '^BenchmarkStore' -benchtime 5x -cpu 1 ./pipeline/window
	SINK_BENCH_ROWS=$(SINK_BENCH_ROWS) $(GO) test -run '^$$' -bench '^BenchmarkSinkVsRawInsert$$' -benchtime 5x -timeout 60m ./pipeline/sink
	QUERY_BENCH_ROWS=$(QUERY_BENCH_ROWS) $(GO) test -run '^$$' -bench '^BenchmarkCompanyMonthVsFullScan$$' -benchtime 20x -timeout 30m ./pipeline/sink/chstore

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.') ); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Protobuf generation is offline: buf and the Go plugins are pinned in
# proto/tools (a module of its own, so their dependencies stay out of ours),
# and the googleapis protos are vendored in proto/third_party.
tools:
	@mkdir -p $(PROTO_BIN)
	cd proto/tools && $(GO) build -o ../.bin/ \
		google.golang.org/protobuf/cmd/protoc-gen-go \
		google.golang.org/grpc/cmd/protoc-gen-go-grpc \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2
	cd proto/tools/buf && $(GO) build -o ../../.bin/ github.com/bufbuild/buf/cmd/buf

proto: tools
	cd proto && .bin/buf lint && .bin/buf generate

# Fails when the committed generated code is not what `make proto` makes.
proto-check: proto
	@git diff --exit-code -- proto gateway/openapi || \
		(echo "generated code differs from the committed code: run make proto and commit"; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard proto gateway/openapi); \
	if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

# Mutation testing: gremlins, pinned in .ci/mutate (a module of its own, as
# buf is in proto/tools), mutates each package of MUTATE_PKGS with every
# mutator (.ci/mutate/gremlins.yaml) and runs the package's tests against
# each mutant; the gate beside it prints each package's test efficacy and
# mutator coverage and fails below its line in .ci/mutation.txt, counting
# the survivors listed in the package's EQUIVALENT_MUTANTS.md as none.
#
# Mutant runs use -short (the window's long property test and benchmarks
# stay out) and -count=1: gremlins times each mutant against its own
# measured run of the tests, which a cached result would make instant.
# The warm-up test run builds what that measured run would otherwise build,
# for the same reason. A mutant's tests time out after MUTATE_TIMEOUT times
# the measured run (a mutant that loops for ever counts as found, not as
# killed or lived).

# Every package with a threshold in .ci/mutation.txt, in its order there.
MUTATE_PKGS    ?= $(shell awk '!/^[[:space:]]*\#/ && NF { print $$1 }' .ci/mutation.txt)
MUTATE_WORKERS ?= 2
MUTATE_TIMEOUT ?= 20
# MUTATE_DIFF=<commit> mutates only the lines changed since that commit, as CI
# does; the gate then judges those mutants alone. gremlins compares with git
# diff from the package's folder, so paths are made relative to it and hunks
# carry no context lines (it reads a hunk's added lines as one run).
MUTATE_DIFF    ?=
MUTATE_DIR     := .ci/.work
# -vet=off: go test would vet every mutant, costing time and judging nothing
# the tests do (make test vets the code as written).
MUTATE_GOFLAGS := $(GOFLAGS) -count=1 -short -vet=off
# A killed mutant needs only a failing test, not the smallest failing input:
# rapid's shrinking (30 s by default) would make each mutant a property test
# kills cost half a minute. A fixed seed gives every mutant, and every run,
# the same generated inputs: with a random one, a mutant only a rare input
# finds was killed in one run and lived in the next, and the list of
# equivalent mutants could never be right for both.
MUTATE_ENV     := RAPID_SHRINKTIME=0s RAPID_SEED=20261207

mutate-tools:
	@mkdir -p $(MUTATE_DIR)/bin
	cd .ci/mutate && $(GO) build -o ../.work/bin/ github.com/go-gremlins/gremlins/cmd/gremlins && \
		$(GO) build -o ../.work/bin/mutation-gate .

mutate: mutate-tools
	@mkdir -p $(MUTATE_DIR)/reports
	@for p in $(MUTATE_PKGS); do \
		report=$(CURDIR)/$(MUTATE_DIR)/reports/$$(echo $$p | tr / _).json; rm -f $$report; \
		start=$$(date +%s); \
		echo "mutate ./$$p$(if $(MUTATE_DIFF), (lines changed since $(MUTATE_DIFF))) (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		if ! GOFLAGS="$(MUTATE_GOFLAGS)" $(GO) test -cover -coverprofile=$(MUTATE_DIR)/warm.out ./$$p/... >/dev/null; then \
			echo "the tests of ./$$p fail without any mutant: fix them first"; continue; \
		fi; \
		(cd $$p && GOFLAGS="$(MUTATE_GOFLAGS)" $(MUTATE_ENV) \
			GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=diff.relative GIT_CONFIG_VALUE_0=true GIT_CONFIG_KEY_1=diff.context GIT_CONFIG_VALUE_1=0 \
			$(CURDIR)/$(MUTATE_DIR)/bin/gremlins unleash --config $(CURDIR)/.ci/mutate/gremlins.yaml \
			--workers $(MUTATE_WORKERS) --timeout-coefficient $(MUTATE_TIMEOUT) $(if $(MUTATE_DIFF),--diff $(MUTATE_DIFF)) \
			--output-statuses lct -o $$report $(CURDIR)/$$p); \
		echo "mutate ./$$p took $$(( $$(date +%s) - start ))s (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	done
	$(MUTATE_DIR)/bin/mutation-gate -reports $(MUTATE_DIR)/reports $(if $(MUTATE_DIFF),-changed-lines) $(MUTATE_PKGS)

clean:
	rm -rf bin $(PROTO_BIN) $(MUTATE_DIR) .data
