# plcctl: `make demo` runs the bundled simulator driven by plcctl;
# `make test` runs everything CI runs.
GO       ?= go
BIN      ?= bin
DIST     ?= dist
FUZZTIME ?= 20s
# Tests keep cgo (the race detector needs it); the binaries are built without.
export CGO_ENABLED ?= 1

# The platforms make dist builds: edge gateways (linux/arm64) and the
# laptops engineers carry. make test vets every one of them.
DIST_TARGETS ?= linux/amd64 linux/arm64 windows/amd64 darwin/arm64

# Static, reproducible binaries: no cgo, no local paths; the VCS revision is
# stamped by the toolchain, and by -X as well where it cannot stamp it (a
# git worktree, -buildvcs=false in GOFLAGS).
REVISION := $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -s -w -X github.com/plcctl/plcctl/internal/version.Revision=$(REVISION)
GOBUILD  = CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags '$(LDFLAGS)'

.PHONY: all build dist test vet cross-vet static-check fmt-check repo-check unit fuzz demo interop bench bench-uring bench-micro bench-compare clean

all: build

build:
	$(GOBUILD) -o $(BIN)/ ./cmd/plcctl ./cmd/plcsim

# dist: plcctl and plcsim for every DIST_TARGETS platform, named
# NAME-OS-ARCH[.exe], and SHA256SUMS beside them (sha256sum -c checks them).
dist:
	@set -e; rm -rf $(DIST); mkdir -p $(DIST); \
	for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		for cmd in plcctl plcsim; do \
			echo "== $(DIST)/$$cmd-$$os-$$arch$$ext"; \
			GOOS=$$os GOARCH=$$arch $(GOBUILD) -o $(DIST)/$$cmd-$$os-$$arch$$ext ./cmd/$$cmd; \
		done; \
	done; \
	cd $(DIST) && sha256sum plcctl-* plcsim-* > SHA256SUMS && cat SHA256SUMS

# test: static checks, then every test with the race detector (the interop
# suite included: it skips a missing peer locally and fails on it with CI=true).
test: vet cross-vet static-check fmt-check repo-check unit

vet:
	$(GO) vet ./...

# cross-vet: every package and test type-checks and vets for every dist
# target other than this machine's, which vet covers (platform files such
# as term_windows.go included), without linking.
HOST_TARGET := $(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)
cross-vet:
	@set -e; for t in $(filter-out $(HOST_TARGET),$(DIST_TARGETS)); do \
		echo "== go vet GOOS=$${t%/*} GOARCH=$${t#*/}"; \
		CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
	done

# static-check: make build gives binaries without cgo that know their version.
# repo-check: no build output is committed (three binaries of 10-11 MB were,
# by a go build or go test -c in a package directory): every tracked file is
# under 1 MiB and none is an executable (ELF, PE, Mach-O).
repo-check:
	@set -e; bad=0; \
	big=$$(git ls-files -z | xargs -0 stat -c '%s %n' | awk '$$1 >= 1048576 { print $$2 }'); \
	for f in $$big; do echo "repo-check: $$f is 1 MiB or more: build output or data that belongs elsewhere"; bad=1; done; \
	for f in $$(git ls-files --eol | awk '$$1 == "i/-text" { print $$NF }'); do \
		case "$$(head -c 4 "$$f" | od -An -tx1 | tr -d ' \n')" in \
		7f454c46|4d5a*|cffaedfe|cefaedfe|feedfacf|feedface) echo "repo-check: $$f is an executable"; bad=1;; \
		esac; \
	done; \
	[ $$bad -eq 0 ] && echo "== repo-check: $$(git ls-files | wc -l) tracked files, none 1 MiB or more, no executables"

static-check: build
	@set -e; for b in plcctl plcsim; do \
		$(GO) version -m $(BIN)/$$b | grep -q 'CGO_ENABLED=0' || { echo "$(BIN)/$$b was built with cgo"; exit 1; }; \
		if command -v readelf >/dev/null && readelf -l $(BIN)/$$b | grep -q 'program interpreter'; then \
			echo "$(BIN)/$$b is dynamically linked"; exit 1; fi; \
		$(BIN)/$$b --version | grep -q "^$$b " || { echo "$(BIN)/$$b --version failed"; exit 1; }; \
	done; echo "== static binaries: $$($(BIN)/plcctl --version)"

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

# bench: every figure of BENCHMARKS.md in one run and one table (~10 min):
# the raw ping-pong floor, plcctl vs goburrow vs libmodbus against plcsim and
# libmodbus's C server, pipelining, plcsim vs libmodbus and pymodbus servers
# at 1..256 connections, plcctl bench vs the Go benchmark, one-shot CLI vs
# hello-world, allocations; plots with gnuplot (bench/run.sh).
bench:
	bash bench/run.sh

# bench-uring: can any server reach 1.5x libmodbus at 64 connections, split
# placement? epoll tricks and an io_uring ceiling under two load generators
# (bench/uring.sh, see bench/README.md).
bench-uring:
	bash bench/uring.sh

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
	rm -rf $(BIN) $(DIST)
