#!/usr/bin/env bash
# servers.sh: the servers section of bench/run.sh on its own, with each
# server's CPU time per request and a ceiling, for working on plcsim's speed.
#
#   bash bench/servers.sh                       # 3 rounds x 2 s per row
#   ROUNDS=5 SECONDS_PER=3 bash bench/servers.sh
#   BEFORE=12c6295 bash bench/servers.sh        # adds plcsim built from that commit
#   CONNS="64" bash bench/servers.sh            # only some connection counts
#   ENGINE=goroutines bash bench/servers.sh     # the load generator's old engine
#   ENGINE=uring bash bench/servers.sh          # bench/testdata/uring_loadgen.c (batched, io_uring)
#
# Servers, all under bench/loadgen (FC 3 x 10, exact frames, one request
# outstanding per connection), rounds interleaved so that load from elsewhere
# hits every server alike:
#   plcsim      this tree's plcsim
#   before      plcsim built from $BEFORE (only with BEFORE=)
#   libmodbus   bench/testdata/libmodbus_server.c (libmodbus's select loop)
#   ceiling     bench/testdata/epoll_server.c: one epoll thread, a canned
#               answer per request, no checks: what the load generator and
#               the kernel allow any server at all
# Placement, on every row: "split" = server on CPU 0, load generator on
# CPU 1; "all" = plcsim and the load generator unpinned (how far plcsim
# scales on both CPUs).
#
# Then one connection with client and server on CPU 0 ("cpu0"): libmodbus's C
# client, microseconds per request against each server.
#
# Per row: requests/s and p99 (the load generator's), and the server's CPU
# time per request (sum of its threads' run time, /proc/PID/task/*/schedstat;
# user and system from /proc/PID/stat, 10 ms ticks), and the load
# generator's (getrusage): on its own CPU that bounds what any server can be
# shown to do. The CPU time moves far
# less with load from other processes than requests/s does. Raw lines go to
# $OUT/servers-cpu.txt (default bench/results/servers).
#
# Needs: go, gcc, pkg-config, libmodbus-dev, taskset. 127.0.0.1 only.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
SECONDS_PER="${SECONDS_PER:-2}"
CONNS="${CONNS:-1 8 64 256}"
ENGINE="${ENGINE:-epoll}"
OUT="$(realpath -m "${OUT:-bench/results/servers}")"
mkdir -p "$OUT"
raw="$OUT/servers-cpu.txt"
rm -f "$raw" "$OUT/servers-cpu0.txt"
tmp="$(mktemp -d)"
spid=""
trap stop_server_and_clean EXIT

log "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load$(uptime | sed 's/.*load average//')"
log "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')${BEFORE:+, before = $BEFORE}"
BUILDFLAGS=(-trimpath -ldflags=-s\ -w)
CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/" ./cmd/plcctl ./cmd/plcsim ./bench/loadgen
servers=(plcsim)
if [ -n "${BEFORE:-}" ]; then
	mkdir -p "$tmp/before"
	git archive "$BEFORE" | tar -x -C "$tmp/before"
	(cd "$tmp/before" && CGO_ENABLED=0 go build "${BUILDFLAGS[@]}" -o "$tmp/before-plcsim" ./cmd/plcsim)
	servers+=(before)
fi
servers+=(libmodbus ceiling)
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$tmp/libmodbus_server" bench/testdata/libmodbus_server.c $(pkg-config --cflags --libs libmodbus)
gcc -O2 -Wall -o "$tmp/epoll_server" bench/testdata/epoll_server.c
[ "$ENGINE" = uring ] && gcc -O2 -Wall -o "$tmp/uring_loadgen" bench/testdata/uring_loadgen.c
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$tmp/libmodbus_bench" bench/testdata/libmodbus_bench.c $(pkg-config --cflags --libs libmodbus)

# start NAME CPUS: starts one server, sets $addr and $spid.
start() {
	local name="$1" cpus="$2" pin=() logf="$tmp/$1.log"
	[ "$cpus" = all ] || pin=(taskset -c "$cpus")
	# Emptied here, not by the redirection below: that runs in the
	# background and could come after the address is read from the last run's log.
	: >"$logf"
	case "$name" in
	plcsim) "${pin[@]}" "$tmp/plcsim" --listen 127.0.0.1:0 --max-conns 1024 --log-format json 2>"$logf" >/dev/null & ;;
	before) "${pin[@]}" "$tmp/before-plcsim" --listen 127.0.0.1:0 --max-conns 1024 --log-format json 2>"$logf" >/dev/null & ;;
	libmodbus) "${pin[@]}" "$tmp/libmodbus_server" 1000 >"$logf" 2>&1 & ;;
	ceiling) "${pin[@]}" "$tmp/epoll_server" 1000 >"$logf" 2>&1 & ;;
	esac
	spid=$!
	addr="$(server_addr "$logf")"
	[ -n "$addr" ] || { echo "servers.sh: $name did not start:" >&2; cat "$logf" >&2; exit 1; }
	case "$addr" in 127.0.0.1:*) ;; *) echo "servers.sh: $name not on loopback: $addr" >&2; exit 1 ;; esac
	case "$name" in plcsim | before) "$tmp/plcctl" -a "$addr" write-registers 0 $(seq 0 99) >/dev/null ;; esac
}
stop() { kill -INT "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; spid=""; }
runns() { # the run time of all of $spid's threads, ns
	local t=0 x f
	for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" 2>/dev/null && t=$((t + x)); done
	echo "$t"
}
ticks() { awk '{print $14, $15}' /proc/"$spid"/stat; }

# measure PLACEMENT NAME CONNS [LOADGEN ARGS...]: one loadgen run, one raw line.
measure() {
	local place="$1" name="$2" c="$3" lg=() a ta b tb j
	shift 3
	[ "$place" = all ] || lg=(taskset -c 1)
	a=$(runns) ta=$(ticks)
	if [ "$ENGINE" = uring ]; then
		j=$("${lg[@]}" "$tmp/uring_loadgen" -addr "$addr" -conns "$c" -duration "${SECONDS_PER}s" "$@")
	else
		j=$("${lg[@]}" "$tmp/loadgen" -addr "$addr" -conns "$c" -duration "${SECONDS_PER}s" -engine "$ENGINE" "$@")
	fi
	b=$(runns) tb=$(ticks)
	echo "$place $name $j $a $b $ta $tb" >>"$raw"
}

log "servers: $ROUNDS rounds x {${servers[*]}} split + plcsim all, x {$CONNS} connections, ${SECONDS_PER}s each"
for r in $(seq 1 "$ROUNDS"); do
	for srv in "${servers[@]}"; do
		start "$srv" 0
		for c in $CONNS; do measure split "$srv" "$c"; done
		# Pipelined load, 4 outstanding per connection: another shape, its own table.
		[ "$ENGINE" = epoll ] && measure depth4 "$srv" 64 -depth 4
		# One connection, client and server both on CPU 0: libmodbus's C
		# client, 20000 sequential FC 3 x 10 (holding register i = i).
		ns=$(taskset -c 0 "$tmp/libmodbus_bench" 127.0.0.1 "${addr#127.0.0.1:}" read 0 10 20000 0 | sed -n 's/^elapsed_ns //p')
		echo "$srv $ns" >>"$OUT/servers-cpu0.txt"
		stop
		printf '.' >&2
	done
	start plcsim all
	for c in $CONNS; do measure all plcsim "$c"; done
	stop
	printf '.' >&2
done
echo >&2
log "load$(uptime | sed 's/.*load average//')"

# The table: medians over the rounds.
awk -v conns="$CONNS" -v servers="${servers[*]}" -v engine="$ENGINE" '
function med(k,   n, i, j, t, v) {
	n = split(vals[k], v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : 0
}
function add(k, x) { vals[k] = vals[k] " " x }
{
	place = $1; name = $2; j = $3
	n = j; sub(/.*"requests":/, "", n); sub(/,.*/, "", n)
	rps = j; sub(/.*"rps":/, "", rps); sub(/,.*/, "", rps)
	p99 = j; sub(/.*"p99_us":/, "", p99); sub(/[,}].*/, "", p99)
	c = j; sub(/.*"conns":/, "", c); sub(/,.*/, "", c)
	if (n + 0 == 0) next
	k = place "/" name "/" c
	add(k "/rps", rps); add(k "/p99", p99)
	add(k "/cpu", ($5 - $4) / 1000 / n)
	add(k "/usr", ($8 - $6) * 1e4 / n); add(k "/sys", ($9 - $7) * 1e4 / n)
	lg = j; if (sub(/.*"cpu_us_per_req":/, "", lg)) { sub(/[,}].*/, "", lg); add(k "/lg", lg) }
}
END {
	ns = split(servers, sv, " "); nc = split(conns, cv, " ")
	print "## Servers under " (engine == "uring" ? "bench/testdata/uring_loadgen.c" : "bench/loadgen -engine " engine) " (FC 3 x 10, one request outstanding per connection), medians"
	print "## split = server on CPU 0, load generator on CPU 1; all = plcsim and load generator unpinned"
	printf "%-6s %-16s %11s %9s %9s %10s %9s %9s %10s\n", "conns", "server", "requests/s", "vs libmb", "p99 µs", "CPU µs/req", "user µs", "sys µs", "load µs/req"
	for (i = 1; i <= nc; i++) {
		lm = med("split/libmodbus/" cv[i] "/rps")
		for (s = 1; s <= ns; s++) {
			k = "split/" sv[s] "/" cv[i]
			r = med(k "/rps")
			printf "%-6s %-16s %11.0f %8.2fx %9.0f %10.2f %9.2f %9.2f %10.2f\n", cv[i], "split " sv[s], r, lm ? r / lm : 0, med(k "/p99"), med(k "/cpu"), med(k "/usr"), med(k "/sys"), med(k "/lg")
		}
		k = "all/plcsim/" cv[i]
		r = med(k "/rps")
		printf "%-6s %-16s %11.0f %8.2fx %9.0f %10.2f %9.2f %9.2f %10.2f\n", cv[i], "all plcsim", r, lm ? r / lm : 0, med(k "/p99"), med(k "/cpu"), med(k "/usr"), med(k "/sys"), med(k "/lg")
	}
	lm = med("depth4/libmodbus/64/rps")
	if (lm) {
		print "## Pipelined load, not the target shape: loadgen -depth 4 (4 outstanding per connection), 64 connections, split"
		for (s = 1; s <= ns; s++) {
			k = "depth4/" sv[s] "/64"
			r = med(k "/rps")
			printf "%-6s %-16s %11.0f %8.2fx %9.0f %10.2f %9.2f %9.2f %10.2f\n", 64, "depth4 " sv[s], r, r / lm, med(k "/p99"), med(k "/cpu"), med(k "/usr"), med(k "/sys"), med(k "/lg")
		}
	}
}' "$raw" | tee "$OUT/servers-table.txt"
echo "## One connection, client and server on CPU 0: libmodbus's C client, 20000 x FC 3 x 10, µs per request (median)" | tee -a "$OUT/servers-table.txt"
for srv in "${servers[@]}"; do
	awk -v s="$srv" '$1 == s { print $2 / 20000 / 1000 }' "$OUT/servers-cpu0.txt" | sort -n |
		awk -v s="$srv" '{ v[NR] = $1 } END { printf "%-16s %8.2f\n", "cpu0 " s, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
done | tee -a "$OUT/servers-table.txt"
