# mcbench: the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/mcbench
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2

.PHONY: bench-federated build test test-stress test-race bench bench-load lint demo report-png fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcbench

# Packages run one at a time: several suites measure wall-clock latency
# against fakes and would otherwise compete for the same two cores.
test:
	$(GO) test -p 1 ./...

# The suite on a machine as busy as a loaded laptop: a busy loop on every
# core (plain sh, killed when the target ends however it ends) while the
# tests run, uncached, STRESS_RUNS times. Timing tests widen their bounds by
# the timer lateness they observe, so this must pass too.
STRESS_RUNS ?= 1
test-stress:
	@n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc); pids=""; \
	for i in $$(seq $$n); do sh -c 'while :; do :; done' & pids="$$pids $$!"; done; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	echo "test-stress: $$n busy loops (pids$$pids), $(STRESS_RUNS) run(s)"; \
	for r in $$(seq $(STRESS_RUNS)); do \
		start=$$(date +%s); $(GO) test -count=1 -p 1 ./... || exit 1; \
		echo "test-stress: run $$r passed in $$(( $$(date +%s) - start )) s"; \
	done

# The suite under the race detector.
test-race:
	$(GO) test -race -p 1 ./...

# Benchmarks: engine events/s, simulated requests/s (M/M/10 at ρ = 0.9) and
# allocations per event. Numbers depend on the machine; nothing fails on them.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@echo "--- 10M requests in one run: request-slots and queue-capacity stay flat"
	$(GO) test -run '^$$' -bench 'MMc10$$' -benchtime 10000000x -benchmem ./sim/

# Simulated model calls/s of the federated library scenario (sessions,
# faults, four policies) next to M/M/10's requests/s, alternating runs on
# one machine: compare the best and the median of each.
bench-federated:
	$(GO) test -run '^$$' -bench 'Federated|MMc10$$' -benchmem -count 6 ./sim/

# Highest sustained load-generator rate next to plain `vegeta attack`.
bench-load:
	scripts/bench-load.sh

lint:
	gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	scripts/check-layering.sh

# The main job on embedded defaults: simulate the scenario library and the
# demo scenario's strategies, load-test one of them against the in-process
# fakes, and report on both.
LIBRARY := azure-exclusive federated multi-home gov-fedramp

demo: build
	@for s in $(LIBRARY); do ./$(BIN) sim $$s --out out/demo/library/$$s || exit 1; echo; done
	./$(BIN) sim demo --out out/demo/sim --records
	./$(BIN) load demo --strategy azure-bedrock-split --pacer poisson --rate 20 --duration 20s --warmup 2s --out out/demo/load --no-progress
	./$(BIN) report out/demo/sim --out out/demo
	./$(BIN) report out/demo/load --out out/demo/load-report
	@echo "report: out/demo/report.html (load test: out/demo/load-report/report.html)"

# The README's picture of the demo report (needs `make demo` and Chromium).
report-png:
	scripts/report-png.sh

# Every fuzz target for FUZZTIME each (go test fuzzes one target at a time).
# Go minimizes every input that finds new coverage, for up to 60 s by
# default, and fuzzes nothing while both workers minimize; FUZZMINIMIZE
# bounds that by tries, which matters for targets whose body costs
# milliseconds (FuzzParse parses, validates and streams a scenario). A
# crasher is saved either way; FUZZMINIMIZE=60s shortens it further.
FUZZTIME ?= 30s
FUZZMINIMIZE ?= 1000x
FUZZ_TARGETS := ./scenarios/:FuzzParse \
	./backends/azure/:FuzzSSEDecode \
	./backends/bedrock/:FuzzEventStreamDecode ./backends/bedrock/:FuzzEventStreamFrames \
	./backends/fake/:FuzzAzureDecode ./backends/fake/:FuzzSSEEncode ./backends/fake/:FuzzBedrockDecode \
	./backends/fake/:FuzzEventStreamEncode ./backends/fake/:FuzzBedrockSigV4 \
	./backends/internal/wirejson/:FuzzValid \
	./results/threshold/:FuzzThreshold \
	./results/:FuzzReadSummary ./results/:FuzzReadOutcomes

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg || exit 1; \
	done

clean:
	rm -rf bin out
