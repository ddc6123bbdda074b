#!/usr/bin/env bash
# run.sh: every performance figure of issue 10 in one run, one table
# (`make bench`). See BENCHMARKS.md for what each row means and the figures.
#
#   bash bench/run.sh                 # about 10 minutes
#   ROUNDS=3 SECONDS_PER=2 bash bench/run.sh   # quicker, noisier
#   OUT=/tmp/b bash bench/run.sh      # raw results there (default bench/results/latest)
#
# Everything talks to 127.0.0.1 only, servers on free ports started and
# stopped here; every load is bounded in time and count. Placement is stated
# on every row: "cpu0" = client, server and kernel work all on CPU 0
# (taskset -c 0); "split" = server on CPU 0, load generator on CPU 1;
# "all" = no pinning, both CPUs.
#
# Needs: go, gcc, pkg-config, libmodbus-dev, python3-pymodbus, taskset
# (util-linux); gnuplot-nox for the plots (skipped without it).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
SECONDS_PER="${SECONDS_PER:-3}"
OUT="$(realpath -m "${OUT:-bench/results/latest}")"
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.jsonl "$OUT"/*.json
tmp="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -INT "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp" "bench/_hello-imports.$$"
}
trap cleanup EXIT

for tool in go gcc pkg-config taskset python3; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (see the header for the Debian packages)" >&2; exit 1; }
done
log() { echo "== $*" >&2; }

log "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load$(uptime | sed 's/.*load average//')"
log "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
{
	echo "date $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "cpus $(nproc)"
	echo "cpu_model $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	echo "go $(go env GOVERSION)"
	echo "rounds $ROUNDS"
} >"$OUT/meta.txt"

# Build everything the way `make build` does (static Go binaries).
log "building"
BUILDFLAGS=(-trimpath -ldflags=-s\ -w)
CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/" ./cmd/plcctl ./cmd/plcsim ./bench/loadgen ./bench/oneshot
mkdir -p "$tmp/hello"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, world") }\n' >"$tmp/hello/main.go"
(cd "$tmp/hello" && printf 'module hello\n\ngo 1.26\n' >go.mod && CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/hello-world" .)
# hello_importing NAME PACKAGE...: the same hello-world importing every
# package PACKAGE... link (not internal ones, which it cannot name): their
# init runs, the binary is as large. It is built inside the module (a
# directory starting with _ is no package of ./...) so that the imports
# resolve to the same versions.
hello_importing() {
	local name="$1" floor="bench/_hello-imports.$$"
	shift
	mkdir -p "$floor"
	{
		printf 'package main\n\nimport (\n\t"fmt"\n'
		CGO_ENABLED=0 go list -deps "$@" | grep -v -E '^(unsafe|runtime|fmt|github.com/plcctl/plcctl/cmd/plcctl)$|internal|^vendor/' | sed 's/.*/\t_ "&"/'
		printf ')\n\nfunc main() { fmt.Println("hello, world") }\n'
	} >"$floor/main.go"
	CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/$name" "./$floor"
	rm -rf "$floor"
}
# hello + imports: everything plcctl links. hello + no TLS/YAML: what a
# plcctl without TLS and plant files would link besides its own packages
# (the floor a light binary could reach; transport and plc link crypto/tls today).
hello_importing hello-imports ./cmd/plcctl
hello_importing hello-light ./modbus ./values github.com/spf13/pflag github.com/rs/zerolog net os/signal
# The floor of the read itself: the hello-world plus the same exchange with
# plcsim and its graceful close, with package net, and in blocking system
# calls without the netpoller (bench/testdata/oneshot_read.go).
CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/oneshot-read" bench/testdata/oneshot_read.go
# The peers' one-shot reads: goburrow/modbus (built like plcctl) and
# libmodbus's C client (dynamically linked, as its users get it). Neither
# waits for the peer's FIN: goburrow close(2)s, libmodbus shutdown(SHUT_RDWR)s and close(2)s.
CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/goburrow-oneshot" bench/testdata/goburrow_oneshot.go
LM="$(pkg-config --cflags --libs libmodbus)"
# shellcheck disable=SC2086
gcc -O2 -Wall -o "$tmp/libmodbus-oneshot" bench/testdata/libmodbus_oneshot.c $LM
gcc -O2 -Wall -o "$tmp/pingpong" bench/testdata/pingpong.c
# shellcheck disable=SC2086
gcc -O2 -Wall -o "$tmp/libmodbus_server" bench/testdata/libmodbus_server.c $LM
gcc -O2 -Wall -o "$tmp/epoll_server" bench/testdata/epoll_server.c
go test -c -o "$tmp/bench.test" ./bench/

# start_server NAME PLACEMENT: starts one server, sets $addr and $spid.
start_server() {
	local name="$1" cpus="$2" pin=()
	[ "$cpus" = all ] || pin=(taskset -c "$cpus")
	local logf="$tmp/$name.log"
	: >"$logf" # now: the redirection below runs in the background, maybe after the address is read from the last server's log
	case "$name" in
	plcsim) "${pin[@]}" "$tmp/plcsim" --listen 127.0.0.1:0 --max-conns 1024 --log-format json 2>"$logf" >/dev/null & ;;
	libmodbus) "${pin[@]}" "$tmp/libmodbus_server" 1000 >"$logf" 2>&1 & ;;
	ceiling) "${pin[@]}" "$tmp/epoll_server" 1000 >"$logf" 2>&1 & ;;
	pymodbus) "${pin[@]}" /usr/bin/python3 testdata/interop/pymodbus_server.py --port 0 >"$logf" 2>&1 & ;;
	esac
	spid=$!
	pids+=("$spid")
	addr="$(server_addr "$logf")"
	[ -n "$addr" ] || { echo "run.sh: $name did not start:" >&2; cat "$logf" >&2; exit 1; }
	case "$addr" in 127.0.0.1:*) ;; *) echo "run.sh: $name not on loopback: $addr" >&2; exit 1 ;; esac
	if [ "$name" = plcsim ]; then
		# Same layout as the other servers: holding register i = i.
		"$tmp/plcctl" -a "$addr" write-registers 0 $(seq 0 99) >/dev/null
	fi
}
stop_server() { kill -INT "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
# loadgen_cpu ARGS...: one bench/loadgen run against $spid; its JSON line
# with the server's CPU time per request added (server_cpu_us_per_req: the
# run time of all the server's threads, /proc/PID/task/*/schedstat).
loadgen_cpu() {
	local a b j n f x
	a=0 b=0
	for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" 2>/dev/null && a=$((a + x)); done
	j=$("$@")
	for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" 2>/dev/null && b=$((b + x)); done
	n=$(echo "$j" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
	if [ -n "$n" ] && [ "$n" -gt 0 ]; then
		echo "${j%\}},\"server_cpu_us_per_req\":$(awk -v d=$((b - a)) -v n="$n" 'BEGIN { printf "%.3f", d / 1000 / n }')}"
	else
		echo "$j"
	fi
}

# 1. The physical floor: frames of the same sizes, no protocol work.
log "floor: raw ping-pong"
for r in $(seq 1 "$ROUNDS"); do
	for sz in 29 259; do
		echo "cpu0 $(taskset -c 0 "$tmp/pingpong" 100000 12 $sz)" >>"$OUT/floor.txt"
		echo "all $("$tmp/pingpong" 100000 12 $sz)" >>"$OUT/floor.txt"
	done
done

# 2. Clients, one connection: plcctl, goburrow, libmodbus, pipelined; against
# plcsim and against libmodbus's C server; pinned and unpinned. Rounds are
# interleaved so a burst of load from elsewhere hits every client alike.
log "clients: $ROUNDS rounds x (plcsim cpu0, libmodbus cpu0, plcsim all)"
for r in $(seq 1 "$ROUNDS"); do
	for cfg in plcsim:0 libmodbus:0 plcsim:all; do
		srv="${cfg%%:*}" cpus="${cfg#*:}" pin=()
		[ "$cpus" = all ] || pin=(taskset -c "$cpus")
		(cd bench && PLCCTL_BENCH_ROUND=$r PLCCTL_BENCH_SERVER="$srv" "${pin[@]}" "$tmp/bench.test" \
			-test.run '^$' -test.bench 'BenchmarkRead$|BenchmarkRead/|BenchmarkReadParallel' \
			-test.benchtime 20000x -test.benchmem -test.timeout 10m) |
			sed -n "s/^Benchmark/$srv-$cpus Benchmark/p" >>"$OUT/clients.txt"
		printf '.' >&2
	done
done
echo >&2

# 3. plcctl bench (the field tool) against the Go benchmark of the same
# workload (BenchmarkRead/regs=10/client=plcctl, above), and the in-flight
# sweep for the plot, against plcsim on CPU 0 with plcctl on CPU 0 too.
log "plcctl bench: in-flight sweep"
start_server plcsim 0
for r in $(seq 1 "$ROUNDS"); do
	# The Go benchmark of the same workload right before plcctl bench
	# --in-flight 1, in each round, both on CPU 0 with their plcsim: on a
	# loaded machine only figures taken close together in time compare.
	(cd bench && taskset -c 0 "$tmp/bench.test" -test.run '^$' -test.bench 'BenchmarkRead/regs=10/client=plcctl$' \
		-test.benchtime 20000x -test.benchmem) | sed -n 's/^Benchmark/paired-0 Benchmark/p' >>"$OUT/paired.txt"
	for k in 1 2 4 8 16; do
		echo "cpu0 $(taskset -c 0 "$tmp/plcctl" -a "$addr" bench -o json --requests 20000 --in-flight $k 0 10)" >>"$OUT/plcctl-bench.jsonl"
		echo "all $("$tmp/plcctl" -a "$addr" bench -o json --requests 20000 --in-flight $k 0 10)" >>"$OUT/plcctl-bench.jsonl"
	done
done

# 4. One-shot CLI against a hello-world binary built the same way, the
# hello-world importing plcctl's packages (the floor their init sets) or
# those of a plcctl without TLS and plant files, the same exchange with
# plcsim in a bare Go program (the floor of the read), and plcctl --version
# (the floor of plcctl's own binary: start, init, one flag set).
# bench/oneshot runs them interleaved, one run of each in turn, so that load
# which comes and goes hits all alike (hyperfine's 300 runs of one command,
# then of the next, are skewed by any burst in between).
#
# A binary starts 0.1-0.6 ms slower (more the larger it is) when its pages
# came into the page cache through exec's page faults, or were written by
# the Go linker's mmap, than when they came by read() or write() (cp, a
# download): the page cache then holds them in large folios (ext4, Linux
# 6.18; BENCHMARKS.md). So every binary measured here is first dropped from
# the page cache (sync, then dd iflag=nocache): each is measured as it
# starts after a reboot, all alike, whatever wrote it.
oneshot_bins=("$tmp/hello-world" "$tmp/hello-imports" "$tmp/hello-light" "$tmp/oneshot-read" "$tmp/goburrow-oneshot" "$tmp/libmodbus-oneshot" "$tmp/plcctl")
sync "${oneshot_bins[@]}"
for b in "${oneshot_bins[@]}"; do dd if="$b" iflag=nocache count=0 status=none; done
log "one-shot CLI (bench/oneshot, $ROUNDS rounds of 300 interleaved runs)"
for r in $(seq 1 "$ROUNDS"); do
	"$tmp/oneshot" -runs 300 -warmup 20 \
		"hello-world=$tmp/hello-world" \
		"hello + imports=$tmp/hello-imports" \
		"hello + no TLS/YAML=$tmp/hello-light" \
		"Go net read=$tmp/oneshot-read $addr" \
		"Go syscall read=$tmp/oneshot-read -syscall $addr" \
		"libmodbus read=$tmp/libmodbus-oneshot ${addr%:*} ${addr##*:}" \
		"goburrow read=$tmp/goburrow-oneshot $addr" \
		"plcctl --version=$tmp/plcctl --version" \
		"plcctl --help=$tmp/plcctl --help" \
		"plcctl read=$tmp/plcctl -a $addr read-holding-registers 0 10" >>"$OUT/oneshot.txt"
	printf '.' >&2
done
echo >&2
stop_server

# 5. Servers under the same load generator: server on CPU 0, load on CPU 1.
# "ceiling" is bench/testdata/epoll_server.c: one epoll thread answering
# canned frames, the least any server can cost under this load generator.
# bench/loadgen's default engine is one epoll thread with raw system calls
# (the least a load generator costs per request: about the ceiling's).
log "servers: $ROUNDS rounds x {plcsim, libmodbus, pymodbus, ceiling} x {1,8,64,256} connections"
for r in $(seq 1 "$ROUNDS"); do
	for srv in plcsim libmodbus pymodbus ceiling; do
		start_server "$srv" 0
		for c in 1 8 64 256; do
			echo "split $srv $(loadgen_cpu taskset -c 1 "$tmp/loadgen" -addr "$addr" -conns $c -duration "${SECONDS_PER}s")" >>"$OUT/servers.txt"
		done
		# A pipelined load (4 requests outstanding per connection), reported
		# apart: not the shape of the target.
		echo "split-depth4 $srv $(loadgen_cpu taskset -c 1 "$tmp/loadgen" -addr "$addr" -conns 64 -depth 4 -duration "${SECONDS_PER}s")" >>"$OUT/servers.txt"
		stop_server
		printf '.' >&2
	done
	# plcsim on both CPUs, load generator unpinned too: how far it scales.
	start_server plcsim all
	for c in 1 8 64 256; do
		echo "all plcsim $(loadgen_cpu "$tmp/loadgen" -addr "$addr" -conns $c -duration "${SECONDS_PER}s")" >>"$OUT/servers.txt"
	done
	stop_server
done
echo >&2

# 6. Allocations per request: the client reading into a caller's buffer and
# plcsim handling a request (Go benchmarks, in-process, -benchmem).
log "allocations"
go test -run '^$' -bench 'Alloc' -benchmem -benchtime 20000x ./transport/ ./plc/ ./simulator/ 2>/dev/null |
	grep '^Benchmark' >"$OUT/allocs.txt" || true

log "load$(uptime | sed 's/.*load average//')"
go run ./bench/report "$OUT"
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$OUT'" bench/plot.gp && log "plots: $OUT/inflight.png $OUT/connections.png"
else
	log "gnuplot not found (apt-get install gnuplot-nox): no plots"
fi
