#!/usr/bin/env bash
# compare.sh: plcctl against goburrow/modbus v0.1.0 and libmodbus, in one run,
# against one plcsim process on 127.0.0.1 (see bench/README.md).
#
#   bash bench/compare.sh              # 10 rounds on CPU 0, about 1 minute
#   CPUS=all bash bench/compare.sh     # no pinning: both cores, far noisier
#   COUNT=20 BENCHTIME=5000x OUT=/tmp/r.txt bash bench/compare.sh
#
# It compiles the benchmarks once (go test -c) and runs the binary COUNT
# times with -test.count=1, appending to $OUT (bench/results.txt): the same
# lines `go test -run '^$' -bench . -count $COUNT ./bench/` would print, but
# with the clients interleaved round by round. go test -count runs all of one
# sub-benchmark's samples back to back, so a burst of load on this shared
# machine would land on one client only. Then it prints benchstat's table
# with one column per client (goburrow is the base) and the speed of each
# client relative to goburrow. Exit status 1 if a round fails.
#
# By default the benchmarks, plcsim and the C program all run on CPU 0
# (taskset): on this 2-vCPU VM a wake-up across vCPUs costs tens of µs at
# random, which swamps the differences between clients (README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# golang.org/x/perf has no tagged releases; this is the pseudo-version the Go
# proxy gave for @latest on 2026-11-21, pinned so that runs are comparable.
BENCHSTAT="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"
COUNT="${COUNT:-10}"
BENCHTIME="${BENCHTIME:-20000x}"
BENCH="${BENCH:-.}"
OUT="${OUT:-bench/results.txt}"
CPUS="${CPUS:-0}" # taskset CPU list for the benchmarks, plcsim and libmodbus; "all": no pinning
# Fixed column order: the base first. It also filters: a client not listed
# here would be dropped from the tables.
COL='/client@(goburrow plcctl plcctl-pipelined libmodbus)'

benchstat() { go run "$BENCHSTAT" "$@"; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" ./bench/
out="$(realpath -m "$OUT")"
pin=()
if [ "$CPUS" != all ]; then
	if command -v taskset >/dev/null; then
		pin=(taskset -c "$CPUS")
	else
		echo "compare.sh: taskset not found (Debian package util-linux); running unpinned" >&2
		CPUS=all
	fi
fi

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, CPUs: $CPUS, load average$(uptime | sed 's/.*load average//')" >&2
echo "== commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' (with uncommitted changes)')" >&2
echo "== $COUNT rounds of: ${pin[*]} bench.test -test.run '^\$' -test.bench '$BENCH' -test.benchtime $BENCHTIME >> $OUT" >&2
: >"$out"
for ((r = 0; r < COUNT; r++)); do
	# The binary runs in bench/, as go test would: it builds plcsim and the
	# C program from there.
	if ! (cd bench && PLCCTL_BENCH_ROUND=$r "${pin[@]}" "$tmp/bench.test" -test.run '^$' \
		-test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.timeout 30m >>"$out"); then
		tail -20 "$out" >&2
		exit 1
	fi
	printf '.' >&2
done
echo >&2
echo "== load average after the run$(uptime | sed 's/.*load average//')" >&2
echo

benchstat -col "$COL" "$OUT"

# Speed relative to goburrow from the sec/op medians: goburrow's time divided
# by the client's, so 2.00x means twice as fast as goburrow and 0.50x half as
# fast. "~" marks a difference benchstat does not find significant (p >= 0.05).
echo
echo "Speed relative to goburrow (goburrow sec/op / client sec/op; >1 = faster), medians of $COUNT runs:"
benchstat -format csv -col "$COL" "$OUT" 2>/dev/null | awk -F, '
	/^$/ { if (hdr) done = 1; next }          # the first table (sec/op) ends
	done || /^[a-z]+: / || $1 == "geomean" { next }
	/^,/ && !hdr { for (i = 2; i <= NF; i++) if ($i != "") { col[$i] = i; name[i] = $i }; hdr = 1; next }
	/^,/ { next }                             # the unit line
	{
		rows[++n] = $1
		base = $(col["goburrow"])
		for (i in name) {
			if (name[i] == "goburrow" || $i == "" || base == "") continue
			r = sprintf("%.2fx", base / $i)
			if ($(i + 2) == "~") r = r " ~"
			cell[n, name[i]] = r
		}
	}
	END {
		split("plcctl plcctl-pipelined libmodbus", order, " ")
		printf "%-36s", "benchmark"
		for (k = 1; k <= 3; k++) printf "%18s", order[k]
		printf "\n"
		for (j = 1; j <= n; j++) {
			printf "%-36s", rows[j]
			for (k = 1; k <= 3; k++) printf "%18s", ((j, order[k]) in cell) ? cell[j, order[k]] : "-"
			printf "\n"
		}
	}'
