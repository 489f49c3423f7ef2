# commercesync: `make run` starts everything in one process; `make test` runs
# every check CI runs.

GO        ?= go
PROTO_BIN := proto/.bin

.PHONY: run build test test-long bench fuzz vet fmt-check proto proto-check tools clean

run: ## the whole pipeline on embedded defaults, sandboxes included
	$(GO) run ./cmd/commercesync dev

build:
	$(GO) build -o bin/commercesync ./cmd/commercesync

test: fmt-check vet proto-check ## what CI runs
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) fuzz

# Every fuzz target (each outside decoder: REST records, the OAuth callback,
# every Kafka record a stage reads) for FUZZTIME, from its committed corpus.
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz

# Full-size runs; their figures are in the README: the end-to-end tests
# with 100,000 orders, and every property test with 20x the checks.
RAPID_PKGS := ./ledger/day ./ledger/mapping ./ledger/money ./pipeline/window
test-long: vet
	COMMERCESYNC_LONG=1 $(GO) test -race -count=1 -timeout 60m ./...
	$(GO) test -count=1 -timeout 60m $(RAPID_PKGS) -rapid.checks=2000
	$(MAKE) bench

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 5 -cpu 1 ./pipeline/window ./pipeline/plan ./ledger/day ./gateway/records

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

clean:
	rm -rf bin $(PROTO_BIN) .data
