#!/usr/bin/env bash
# uring.sh: can a server reach 1.5x libmodbus at 64 connections under a
# polling load (one request outstanding per connection), and what does each
# trick buy? Server on CPU 0, load generator on CPU 1, interleaved rounds.
#
#   bash bench/uring.sh                               # 7 rounds x 1 s per run
#   ROUNDS=12 SECONDS_PER=1 NICE=-10 bash bench/uring.sh
#   SERVERS="libmodbus ceiling uring-coop" LOADGENS="go uring" bash bench/uring.sh
#   MAXFOREIGN=0.15 bash bench/uring.sh               # drop runs others disturbed
#
# Servers (all answer FC 3 x 10, holding register i = i):
#   libmodbus     bench/testdata/libmodbus_server.c (select loop)
#   plcsim        this tree's plcsim
#   ceiling       bench/testdata/epoll_server.c: one epoll thread, canned answers
#   ceiling-et, ceiling-sock, ceiling-reno, ceiling-batch, ceiling-quickack
#                 the same with one trick each (EPOLLET; recv/send instead of
#                 read/write; TCP_CONGESTION reno; all reads then all writes
#                 per wakeup; TCP_QUICKACK before every read)
#   uring-coop, uring-defer, uring-plain
#                 bench/testdata/uring_server.c: every receive and send of the
#                 ready connections in one io_uring_enter (COOP_TASKRUN,
#                 SINGLE_ISSUER|DEFER_TASKRUN, no flags)
# Load generators (exact frames, every answer checked, one outstanding):
#   go            bench/loadgen (epoll engine: epoll_wait + recvfrom + sendto)
#   uring         bench/testdata/uring_loadgen.c (io_uring, one enter per batch)
#
# First the cost of a bare system call and of a loopback exchange
# (bench/testdata/syscost.c, on CPU 0). Then per server and load generator:
# requests/s and its ratio to libmodbus under the same load generator
# (of the medians, and the median of the per-round ratios), server CPU time
# per request (schedstat of all its threads) and its ratio, the load
# generator's own CPU per request (getrusage), TCP segments per request
# (/proc/net/snmp OutSegs, both directions), the server's voluntary context
# switches per request, requests per load generator wakeup, p99, the load
# average, "srv busy" and "lg busy" (the share of its CPU that the server
# and the load generator used: the one near 1.00 limits requests/s), and
# "foreign": CPU time that neither the server nor the load
# generator used on the two CPUs during the run (other processes), in CPUs.
# MAXFOREIGN= drops the runs above it from the medians. Raw lines go to
# $OUT/uring-raw.txt (default bench/results/uring).
#
# NICE=-10 (needs root) runs both at a higher priority than other work, so
# that other processes disturb the runs less; say so with the figures.
# Needs: go, gcc, pkg-config, libmodbus-dev, taskset, Linux with io_uring
# (/proc/sys/kernel/io_uring_disabled 0). 127.0.0.1 only.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-7}"
SECONDS_PER="${SECONDS_PER:-1}"
CONNS="${CONNS:-64}"
NICE="${NICE:-0}"
SERVERS="${SERVERS:-libmodbus plcsim ceiling ceiling-et ceiling-sock ceiling-reno ceiling-batch ceiling-quickack uring-coop uring-defer uring-plain}"
LOADGENS="${LOADGENS:-go uring}"
OUT="$(realpath -m "${OUT:-bench/results/uring}")"
mkdir -p "$OUT"
raw="$OUT/uring-raw.txt"
: >"$raw"
tmp="$(mktemp -d)"
spid=""
trap stop_server_and_clean EXIT

log "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)," \
	"io_uring_disabled $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo '?'), load$(uptime | sed 's/.*load average//')"
log "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)'), nice $NICE"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/" ./cmd/plcctl ./cmd/plcsim ./bench/loadgen
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$tmp/libmodbus_server" bench/testdata/libmodbus_server.c $(pkg-config --cflags --libs libmodbus)
for c in epoll_server uring_server uring_loadgen syscost; do
	gcc -O2 -Wall -o "$tmp/$c" "bench/testdata/$c.c"
done

echo "## One thread on CPU 0 (bench/testdata/syscost.c), CPU µs per operation, 3 runs"
for _ in 1 2 3; do taskset -c 0 "$tmp/syscost"; done | awk '{ k = $0; sub(/ +[0-9.]+ us$/, "", k); v[k] = v[k] sprintf(" %7.3f", $(NF - 1)) }
	END { for (k in v) printf "%-20s %s\n", k, v[k] }' | sort

server_cmd() { # NAME: the command line of that server
	case "$1" in
	libmodbus) echo "$tmp/libmodbus_server 1000" ;;
	plcsim) echo "$tmp/plcsim --listen 127.0.0.1:0 --max-conns 1024 --log-format json" ;;
	ceiling) echo "$tmp/epoll_server 1000" ;;
	ceiling-*) echo "$tmp/epoll_server 1000 ${1#ceiling-}" ;;
	uring-*) echo "$tmp/uring_server 1000 ${1#uring-}" ;;
	*) echo "uring.sh: unknown server $1" >&2; exit 2 ;;
	esac
}
loadgen_cmd() {
	case "$1" in
	go) echo "$tmp/loadgen" ;;
	uring) echo "$tmp/uring_loadgen" ;;
	*) echo "uring.sh: unknown load generator $1" >&2; exit 2 ;;
	esac
}
runns() { local t=0 x f; for f in /proc/"$spid"/task/*/schedstat; do read -r x _ <"$f" 2>/dev/null && t=$((t + x)); done; echo "$t"; }
vcsw() { local t=0 f; for f in /proc/"$spid"/task/*/status; do t=$((t + $(awk '/^voluntary_ctxt/ { print $2 }' "$f" 2>/dev/null || echo 0))); done; echo "$t"; }
segs() { awk '/^Tcp:/ && ++n == 2 { print $12 }' /proc/net/snmp; }
busy() { awk '$1 == "cpu0" || $1 == "cpu1" { t += $2 + $3 + $4 + $7 + $8 } END { print t }' /proc/stat; } # 10 ms ticks

log "$ROUNDS rounds x {$SERVERS} x {$LOADGENS}, $CONNS connections, ${SECONDS_PER}s each"
for r in $(seq 1 "$ROUNDS"); do
	for srv in $SERVERS; do
		: >"$tmp/log"
		# shellcheck disable=SC2046
		nice -n "$NICE" taskset -c 0 $(server_cmd "$srv") >"$tmp/log" 2>&1 &
		spid=$!
		addr="$(server_addr "$tmp/log")"
		[ -n "$addr" ] || { echo "uring.sh: $srv did not start:" >&2; cat "$tmp/log" >&2; exit 1; }
		case "$addr" in 127.0.0.1:*) ;; *) echo "uring.sh: $srv not on loopback: $addr" >&2; exit 1 ;; esac
		[ "$srv" = plcsim ] && "$tmp/plcctl" -a "$addr" write-registers 0 $(seq 0 99) >/dev/null
		for c in $CONNS; do
			for lg in $LOADGENS; do
				a=$(runns) s0=$(segs) v0=$(vcsw) u0=$(busy)
				# shellcheck disable=SC2046
				j=$(nice -n "$NICE" taskset -c 1 $(loadgen_cmd "$lg") -addr "$addr" -conns "$c" -duration "${SECONDS_PER}s")
				b=$(runns) s1=$(segs) v1=$(vcsw) u1=$(busy)
				echo "$r $srv $c/$lg $j $((b - a)) $((s1 - s0)) $((v1 - v0)) $(cut -d' ' -f1 /proc/loadavg) $((u1 - u0))" >>"$raw"
			done
		done
		kill -INT "$spid"
		wait "$spid" 2>/dev/null || true
		spid=""
		printf '.' >&2
	done
done
echo >&2
log "load$(uptime | sed 's/.*load average//')"

echo "## Servers on CPU 0, load generator on CPU 1, FC 3 x 10, one request outstanding per connection; medians of $ROUNDS rounds"
echo "## vs libmb: ratio of the medians; rnd: median of the per-round ratios (same load generator); foreign: CPUs used by other processes"
awk -v maxfo="${MAXFOREIGN:-}" '
function med(k,   n, i, j, t, v) {
	n = split(vals[k], v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : 0
}
function get(j, f,   x) { x = j; if (!sub(".*\"" f "\":", "", x)) return 0; sub(/[,}].*/, "", x); return x }
function add(k, x) { vals[k] = vals[k] " " x }
{
	name = $2; c = $3; j = $4; n = get(j, "requests")
	if (n == 0) next
	fo = ($9 * 0.01 - $5 / 1e9 - get(j, "cpu_us_per_req") * n / 1e6) / get(j, "seconds")
	if (maxfo != "" && fo > maxfo + 0) { dropped++; next }
	k = name "/" c
	if (!(k in seen)) { seen[k] = 1; order[++no] = k }
	R[$1, k] = get(j, "rps"); C[$1, k] = $5 / 1000 / n; if ($1 > nr) nr = $1
	add(k "/rps", get(j, "rps")); add(k "/cpu", $5 / 1000 / n); add(k "/lg", get(j, "cpu_us_per_req"))
	add(k "/seg", $6 / n); add(k "/csw", $7 / n); add(k "/wk", n / (get(j, "wakeups") + 1e-9))
	add(k "/p99", get(j, "p99_us")); add(k "/la", $8); add(k "/fo", fo); errs += get(j, "errors")
	cnt[k]++
	add(k "/su", get(j, "rps") * $5 / 1e9 / n); add(k "/lu", get(j, "rps") * get(j, "cpu_us_per_req") / 1e6)
}
END {
	printf "%-9s %-17s %9s %7s %6s %8s %7s %6s %8s %6s %7s %6s %7s %5s %7s %8s %7s %4s\n", "conns/lg", "server", "req/s", "vs libmb", "rnd",
		"srv µs", "vs libmb", "rnd", "load µs", "seg/rq", "csw/rq", "rq/wk", "p99 µs", "load", "foreign", "srv busy", "lg busy", "runs"
	for (i = 1; i <= no; i++) {
		k = order[i]; split(k, kk, "/"); rk = "libmodbus/" kk[2] "/" kk[3]
		for (r = 1; r <= nr; r++) if ((r, k) in R && (r, rk) in R && R[r, rk] > 0) { add(k "/rr", R[r, k] / R[r, rk]); add(k "/cr", C[r, rk] / C[r, k]) }
		lr = med(rk "/rps"); lc = med(rk "/cpu")
		printf "%-9s %-17s %9.0f %7.2fx %5.2fx %8.2f %7.2fx %5.2fx %8.2f %6.2f %7.3f %6.1f %7.0f %5s %7.2f %8.2f %7.2f %4d\n", kk[2] "/" kk[3], kk[1],
			med(k "/rps"), lr ? med(k "/rps") / lr : 0, med(k "/rr"), med(k "/cpu"), med(k "/cpu") ? lc / med(k "/cpu") : 0, med(k "/cr"),
			med(k "/lg"), med(k "/seg"), med(k "/csw"), med(k "/wk"), med(k "/p99"), med(k "/la"), med(k "/fo"), med(k "/su"), med(k "/lu"), cnt[k]
	}
	if (dropped) printf "(%d runs dropped: other processes used more than %s CPU during them)\n", dropped, maxfo
	if (errs) printf "ERRORS: %d answers were wrong or missing\n", errs
}' "$raw" | tee "$OUT/uring-table.txt"
