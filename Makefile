# plcctl: `make demo` runs the bundled simulator driven by plcctl;
# `make test` runs everything CI runs.
GO       ?= go
BIN      ?= bin
FUZZTIME ?= 20s
export CGO_ENABLED ?= 1

.PHONY: all build test vet fmt-check unit fuzz demo interop bench bench-micro bench-compare clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# test: static checks, then every test with the race detector (the interop
# suite included: it skips a missing peer locally and fails on it with CI=true).
test: vet fmt-check unit

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 ./...

# fuzz: each fuzz target for FUZZTIME (seed corpora live in <pkg>/testdata/fuzz).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

interop:
	$(GO) test -race -count=1 -v ./interop/...

# bench: every figure of BENCHMARKS.md in one run and one table (~8 min):
# the raw ping-pong floor, plcctl vs goburrow vs libmodbus against plcsim and
# libmodbus's C server, pipelining, plcsim vs libmodbus and pymodbus servers
# at 1..256 connections, plcctl bench vs the Go benchmark, one-shot CLI vs
# hello-world, allocations; plots with gnuplot (bench/run.sh).
bench:
	bash bench/run.sh

# bench-micro: the in-process Go micro-benchmarks of every package.
bench-micro:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# bench-compare: plcctl vs goburrow/modbus vs libmodbus against one plcsim
# process, rounds interleaved, benchstat ratios (see bench/README.md).
bench-compare:
	bash bench/compare.sh

# demo: start plcsim on a free loopback port, drive it with plcctl, stop it
# with SIGINT (graceful close), and show the simulator's own account.
demo: build
	@set -e; log="$$(mktemp)"; \
	$(BIN)/plcsim --listen 127.0.0.1:0 --holding-registers 1000 --log-format json 2>"$$log" & pid=$$!; \
	trap 'kill -INT $$pid 2>/dev/null || true; rm -f "$$log"' EXIT; \
	for i in $$(seq 1 100); do \
		addr="$$(sed -n 's/.*"addr":"\([^"]*\)".*"plcsim ready".*/\1/p' "$$log" | head -1)"; \
		[ -n "$$addr" ] && break; sleep 0.05; \
	done; \
	[ -n "$$addr" ] || { echo "plcsim did not start:"; cat "$$log"; exit 1; }; \
	echo "== plcsim listening on $$addr"; \
	ADDR="$$addr" PLCCTL="$(BIN)/plcctl" sh testdata/demo.sh; \
	kill -INT $$pid; wait $$pid; trap - EXIT; \
	echo "== plcsim stopped cleanly; its last words:"; tail -1 "$$log"; rm -f "$$log"
	@set -e; log="$$(mktemp)"; plant=testdata/plants/pump-station.yaml; \
	$(BIN)/plcsim --plant $$plant --listen 127.0.0.1:0 --log-format json 2>"$$log" & pid=$$!; \
	trap 'kill -INT $$pid 2>/dev/null || true; rm -f "$$log"' EXIT; \
	for i in $$(seq 1 100); do \
		addr="$$(sed -n 's/.*"addr":"\([^"]*\)".*"plcsim ready".*/\1/p' "$$log" | head -1)"; \
		[ -n "$$addr" ] && break; sleep 0.05; \
	done; \
	[ -n "$$addr" ] || { echo "plcsim did not start:"; cat "$$log"; exit 1; }; \
	echo; echo "== plcsim serving the pump station $$plant on $$addr"; \
	ADDR="$$addr" PLANT="$$plant" PLCCTL="$(BIN)/plcctl" sh testdata/demo-plant.sh; \
	kill -INT $$pid; wait $$pid; trap - EXIT; rm -f "$$log"

clean:
	rm -rf $(BIN)
