#!/usr/bin/env bash
# cpucost.sh: CPU time per request of the client and of the server, all on
# CPU 0, for plcctl bench and libmodbus's C client against one server, in
# interleaved rounds. On a shared machine the wall clock of a pinned run
# includes whatever else ran on CPU 0; the CPU time that the client and the
# server themselves spent does not (it still grows with cache pollution, so
# compare figures of one run only). With everything on one CPU, client CPU
# + server CPU is what the wall clock would be on a quiet machine.
#
#   bash bench/cpucost.sh                       # plcsim, FC 3 x 10, 5 rounds
#   SERVER=libmodbus REGS=125 bash bench/cpucost.sh
#   INFLIGHT="1 16" N=50000 ROUNDS=7 bash bench/cpucost.sh
#   PLCCTL_OLD=/tmp/plcctl-before bash bench/cpucost.sh   # also another build
#
# Client CPU: perf stat's task-clock (every thread). Server CPU: the sum of
# /proc/PID/task/*/schedstat's run time before and after. Needs perf
# (linux-perf), taskset, gcc, pkg-config and libmodbus-dev.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
SERVER="${SERVER:-plcsim}"
N="${N:-30000}"
ROUNDS="${ROUNDS:-5}"
REGS="${REGS:-10}"
INFLIGHT="${INFLIGHT:-1 16}"
for tool in perf taskset gcc pkg-config; do
	command -v "$tool" >/dev/null || { echo "cpucost.sh: $tool not found" >&2; exit 1; }
done
tmp="$(mktemp -d)"
spid=""
cleanup() {
	[ -n "$spid" ] && kill -INT "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -o "$tmp/" ./cmd/plcctl ./cmd/plcsim
LM="$(pkg-config --cflags --libs libmodbus)"
# shellcheck disable=SC2086
gcc -O2 -Wall -o "$tmp/libmodbus_bench" bench/testdata/libmodbus_bench.c $LM
# shellcheck disable=SC2086
gcc -O2 -Wall -o "$tmp/libmodbus_server" bench/testdata/libmodbus_server.c $LM

logf="$tmp/server.log"
case "$SERVER" in
plcsim) taskset -c 0 "$tmp/plcsim" --listen 127.0.0.1:0 --log-format json 2>"$logf" >/dev/null & ;;
libmodbus) taskset -c 0 "$tmp/libmodbus_server" 16 >"$logf" 2>&1 & ;;
*) echo "cpucost.sh: SERVER is plcsim or libmodbus" >&2; exit 2 ;;
esac
spid=$!
addr="$(server_addr "$logf")"
case "$addr" in 127.0.0.1:*) ;; *) echo "cpucost.sh: $SERVER did not start on loopback" >&2; cat "$logf" >&2; exit 1 ;; esac
# The libmodbus client checks register i = i (bench/testdata/libmodbus_bench.c, seed 0).
[ "$SERVER" = plcsim ] && "$tmp/plcctl" -a "$addr" write-registers --split 0 $(seq 0 124) >/dev/null 2>&1

srvcpu() { # server run time so far, ns
	local s=0 x f
	for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" && s=$((s + x)); done
	echo "$s"
}
# one NAME CMD...: prints NAME client-µs server-µs context-switches-per-request
one() {
	local name="$1" s0 s1 out
	shift
	s0="$(srvcpu)"
	out="$(perf stat -x, -e task-clock,context-switches taskset -c 0 "$@" 2>&1 >/dev/null)"
	s1="$(srvcpu)"
	awk -F, -v name="$name" -v n="$N" -v srv="$((s1 - s0))" '
		$3 == "task-clock" { tc = $1 } $3 == "context-switches" { cs = $1 }
		END { printf "%s %.3f %.3f %.3f\n", name, tc * 1000 / n, srv / n / 1000, cs / n }' <<<"$out"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), server $SERVER on CPU 0, clients on CPU 0," \
	"FC 3 x $REGS, $N requests a run, $ROUNDS rounds, load$(uptime | sed 's/.*load average//')" >&2
H="${addr%:*}" P="${addr#*:}"
for ((r = 0; r < ROUNDS; r++)); do
	one "libmodbus/1" "$tmp/libmodbus_bench" "$H" "$P" read 0 "$REGS" "$N" 0
	for k in $INFLIGHT; do
		one "plcctl/$k" "$tmp/plcctl" -a "$addr" bench --requests "$N" --in-flight "$k" 0 "$REGS"
		[ -n "${PLCCTL_OLD:-}" ] && one "other/$k" "$PLCCTL_OLD" -a "$addr" bench --requests "$N" --in-flight "$k" 0 "$REGS"
	done
	printf '.' >&2
done >"$tmp/runs.txt"
echo >&2
echo "# CPU µs per request, medians of $ROUNDS rounds (client: perf task-clock; server: schedstat); name = client/in-flight"
# Median of each column, per name.
while read -r name; do
	grep "^$name " "$tmp/runs.txt" | awk '{ print $2, $3, $2 + $3, $4 }' >"$tmp/one.txt"
	m="$(( ($(wc -l <"$tmp/one.txt") + 1) / 2 ))"
	printf "%-14s client %7.2f  server %7.2f  sum %7.2f  switches/req %.2f\n" "$name" \
		"$(cut -d' ' -f1 "$tmp/one.txt" | sort -g | sed -n "${m}p")" \
		"$(cut -d' ' -f2 "$tmp/one.txt" | sort -g | sed -n "${m}p")" \
		"$(cut -d' ' -f3 "$tmp/one.txt" | sort -g | sed -n "${m}p")" \
		"$(cut -d' ' -f4 "$tmp/one.txt" | sort -g | sed -n "${m}p")"
done < <(cut -d' ' -f1 "$tmp/runs.txt" | sort -u)
