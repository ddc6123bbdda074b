#!/usr/bin/env python3
"""uring_pool.py RAW...: requests/s of bench/uring.sh runs that other processes left alone, pooled.

Reads the raw files of several bench/uring.sh runs (OUT/uring-raw.txt, one line per 1-s run:
round, server, conns/loadgen, the load generator's JSON, server run time ns, TCP segments,
context switches, load average, busy ticks of both CPUs). Keeps the runs in which other
processes used at most --max-foreign CPUs, divides each one's requests/s by the median kept
libmodbus run of the same file and load generator, and prints, per server group and load
generator, the number of runs, the median requests/s, the median ratio and its range, and the
median share of its CPU that the server and the load generator used. The ceiling-TRICK
variants are left out; uring-coop, -defer and -plain are one group.

    python3 bench/uring_pool.py bench/runs/2026-12-06-uring-raw-*.txt
"""
import argparse
import collections
import json
import statistics as st


def runs(path):
    with open(path) as f:
        for line in f:
            p = line.split()
            j = json.loads(p[3])
            n = j['requests']
            if n == 0:
                continue
            srv_ns, busy_ticks = int(p[4]), int(p[8])
            foreign = (busy_ticks * 0.01 - srv_ns / 1e9 - j['cpu_us_per_req'] * n / 1e6) / j['seconds']
            lg = p[2].split('/')[1]
            lg = 'uring' if lg == 'uc' else lg
            yield p[1], lg, j['rps'], foreign, j['rps'] * srv_ns / 1e9 / n, j['rps'] * j['cpu_us_per_req'] / 1e6


def group(name):
    if name.startswith('uring-'):
        return 'io_uring (coop/defer/plain)'
    if name == 'ceiling':
        return 'epoll ceiling'
    if name.startswith('ceiling-'):
        return None
    return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('raw', nargs='+')
    ap.add_argument('--max-foreign', type=float, default=0.2)
    a = ap.parse_args()
    ratio, rps, sbusy, lbusy = (collections.defaultdict(list) for _ in range(4))
    for path in a.raw:
        kept = [r for r in runs(path) if r[3] <= a.max_foreign]
        for lg in ('go', 'uring'):
            ref = [r[2] for r in kept if r[0] == 'libmodbus' and r[1] == lg]
            if not ref:
                continue
            m = st.median(ref)
            for name, rlg, r, _, sb, lb in kept:
                g = group(name)
                if rlg != lg or g is None:
                    continue
                k = (g, lg)
                ratio[k].append(r / m)
                rps[k].append(r)
                sbusy[k].append(sb)
                lbusy[k].append(lb)
    print('| server | load generator | runs | requests/s, median | vs libmodbus, median | range | server / load generator busy |')
    print('|---|---|---|---|---|---|---|')
    for g in ('libmodbus', 'plcsim', 'epoll ceiling', 'io_uring (coop/defer/plain)'):
        for lg in ('go', 'uring'):
            k = (g, lg)
            v = ratio.get(k)
            if not v:
                continue
            print(f"| {g} | {'bench/loadgen' if lg == 'go' else 'uring_loadgen'} | {len(v)} | {st.median(rps[k]):,.0f} | "
                  f"{st.median(v):.2f}x | {min(v):.2f}-{max(v):.2f}x | {st.median(sbusy[k]):.2f} / {st.median(lbusy[k]):.2f} |")


if __name__ == '__main__':
    main()
