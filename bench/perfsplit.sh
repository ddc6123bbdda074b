#!/usr/bin/env bash
# perfsplit.sh: where the CPU time per request of a server and of the load
# generator goes, 64 connections, server on CPU 0, load generator on CPU 1:
# perf record -g of both for one run, sorted into classes by
# bench/perfsplit.py (own TCP send, the peer's TCP input that loopback runs
# in the sender's softirq, own TCP receive, system call entry and exit, VFS,
# readiness waits, io_uring, scheduler, program, Go runtime), each in
# microseconds per request. perf slows both down: compare the classes, not
# the totals with bench/uring.sh's.
#
#   bash bench/perfsplit.sh                         # every server below, go load generator
#   SERVERS="plcsim uring-defer" LOADGEN=uring SECONDS_PER=2 bash bench/perfsplit.sh
#
# Servers and load generators are bench/uring.sh's (libmodbus, plcsim,
# ceiling[-TRICK], uring-MODE; go, uring). plcsim and loadgen are built
# with their symbols. Needs perf, python3, gcc, pkg-config, libmodbus-dev,
# taskset. 127.0.0.1 only.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
SERVERS="${SERVERS:-libmodbus plcsim ceiling uring-coop uring-defer}"
LOADGEN="${LOADGEN:-go}"
SECONDS_PER="${SECONDS_PER:-2}"
tmp="$(mktemp -d)"
spid="" ppid=""
cleanup() {
	[ -n "$ppid" ] && kill -INT "$ppid" 2>/dev/null || true
	[ -n "$spid" ] && kill -INT "$spid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -trimpath -o "$tmp/" ./cmd/plcctl ./cmd/plcsim ./bench/loadgen
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$tmp/libmodbus_server" bench/testdata/libmodbus_server.c $(pkg-config --cflags --libs libmodbus)
for c in epoll_server uring_server uring_loadgen; do gcc -O2 -Wall -o "$tmp/$c" "bench/testdata/$c.c"; done
case "$LOADGEN" in go) lgbin="$tmp/loadgen" ;; uring) lgbin="$tmp/uring_loadgen" ;; *) echo "perfsplit.sh: LOADGEN is go or uring" >&2; exit 2 ;; esac
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load generator $LOADGEN, load$(uptime | sed 's/.*load average//')" >&2
runns() { local t=0 x f; for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" 2>/dev/null && t=$((t + x)); done; echo "$t"; }
for srv in $SERVERS; do
	case "$srv" in
	libmodbus) cmd=("$tmp/libmodbus_server" 1000) ;;
	plcsim) cmd=("$tmp/plcsim" --listen 127.0.0.1:0 --max-conns 1024 --log-format json) ;;
	ceiling) cmd=("$tmp/epoll_server" 1000) ;;
	ceiling-*) cmd=("$tmp/epoll_server" 1000 "${srv#ceiling-}") ;;
	uring-*) cmd=("$tmp/uring_server" 1000 "${srv#uring-}") ;;
	*) echo "perfsplit.sh: unknown server $srv" >&2; exit 2 ;;
	esac
	: >"$tmp/log"
	taskset -c 0 "${cmd[@]}" >"$tmp/log" 2>&1 &
	spid=$!
	addr="$(server_addr "$tmp/log")"
	case "$addr" in 127.0.0.1:*) ;; *) echo "perfsplit.sh: $srv did not start on loopback" >&2; cat "$tmp/log" >&2; exit 1 ;; esac
	[ "$srv" = plcsim ] && "$tmp/plcctl" -a "$addr" write-registers 0 $(seq 0 99) >/dev/null
	perf record -q -g -p "$spid" -o "$tmp/srv.data" 2>/dev/null &
	ppid=$!
	sleep 0.3
	a=$(runns)
	j=$(taskset -c 1 perf record -q -g -o "$tmp/lg.data" "$lgbin" -addr "$addr" -conns 64 -duration "${SECONDS_PER}s" 2>/dev/null)
	b=$(runns)
	kill -INT "$ppid"; wait "$ppid" 2>/dev/null || true; ppid=""
	kill -INT "$spid"; wait "$spid" 2>/dev/null || true; spid=""
	n=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$j")
	sus=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / 1000 / n }')
	lus=$(sed 's/.*"cpu_us_per_req":\([0-9.]*\).*/\1/' <<<"$j")
	rps=$(sed 's/.*"rps":\([0-9.]*\).*/\1/' <<<"$j")
	printf "## %s under %s: %.0f req/s with perf, server %s µs/req, load generator %.2f µs/req, load %s\n" "$srv" "$LOADGEN" "$rps" "$sus" "$lus" "$(cut -d' ' -f1 /proc/loadavg)"
	echo "server:"
	perf script -i "$tmp/srv.data" 2>/dev/null | python3 bench/perfsplit.py "$sus"
	echo "load generator:"
	perf script -i "$tmp/lg.data" 2>/dev/null | python3 bench/perfsplit.py "$lus"
done
