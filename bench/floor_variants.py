#!/usr/bin/env python3
"""The first scan's kernel time (docs/benchmarks.md, "Issue 26, round ten"): bench/floor_reader.c's
variants side by side on the trees of bench/run.py, interleaved, medians of --reps.

Usage: bench/floor_variants.py [--sizes medium,large] [--work DIR] [--root DIR] [--reps N] [VARIANT ...]

--root DIR reads that tree instead (a private copy whose page cache was filled another way).

A VARIANT is floor_reader's options in one string ("fused noatime", "big=read:1M"); "T=n" in it
sets the thread count (default 2). Per variant: the whole process's user and sys CPU (wait4),
wall, and CPU over the SHA-256 floor's CPU (bytes / one core's `openssl speed -evp sha256`,
1 MiB blocks): with both cores busy all the time, that ratio is the best wall / floor any reader
of that kind reaches. Walls are printed but on a shared machine CPU is the number compared.
The trees are only read (the shared page cache of /tmp/drift-bench is never written).
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tree generator)
from issue26 import sha256_per_core  # noqa: E402

DEFAULT = ["", "noatime", "T=1", "T=3", "big=read:128K", "big=read:1M", "big=read:4M", "big=map:8M:madvpop",
           "big=map:0:populate", "big=map:0:huge", "big=map:8M:seq", "small=read:128K", "small=read:16K",
           "small=mmap", "fadv=rand", "fused", "fused noatime", "fused T=3", "fused big=map:0:huge",
           "fused nohash", "fused big=none", "fused small=none"]


def one(reader, ws, variant):
    opts, threads = [], "2"
    for o in variant.split():
        if o.startswith("T="):
            threads = o[2:]
        else:
            opts.append(o)
    t0 = time.monotonic()
    p = subprocess.Popen([reader, ws, threads] + opts, stdout=subprocess.PIPE)
    out = p.stdout.read().decode().split()
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f"floor_reader {variant} failed: {status}")
    return time.monotonic() - t0, ru.ru_utime, ru.ru_stime, int(out[3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="medium,large")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench"))
    ap.add_argument("--root", help="a tree to read instead of the generated ones")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("variants", nargs="*", default=DEFAULT)
    a = ap.parse_args()
    reader = os.path.join(tempfile.mkdtemp(prefix="floor-"), "floor_reader")
    run.sh(f"cc -O2 -o '{reader}' '{HERE}/floor_reader.c' -lcrypto -lpthread")
    trees = [(a.root, a.root)] if a.root else [(n, os.path.join(a.work, n, "ws")) for n in a.sizes.split(",")]
    for name, ws in trees:
        if not a.root:
            run.prepare_tree(name, os.path.dirname(ws))
        per_core = sha256_per_core()
        res = {v: [] for v in a.variants}
        load0 = " ".join(run.load())
        for _ in range(a.reps):
            for v in a.variants:
                res[v].append(one(reader, ws, v))
        size = max(r[0][3] for r in res.values())
        floor_cpu = size / (per_core * 1e9)
        print(f"\n== {name}: {size / 1e9:.2f} GB; openssl speed -evp sha256 {per_core:.2f} GB/s a core; "
              f"SHA-256 floor {floor_cpu / 2:.3f} s wall = {floor_cpu:.3f} s CPU; load {load0} -> "
              f"{' '.join(run.load())}; medians of {a.reps}, interleaved")
        print(f"  {'variant':<28} {'user':>7} {'sys':>7} {'cpu':>7} {'cpu/floor':>9} {'wall':>7}")
        for v in a.variants:
            r = res[v]
            u, s = statistics.median(x[1] for x in r), statistics.median(x[2] for x in r)
            c, w = statistics.median(x[1] + x[2] for x in r), statistics.median(x[0] for x in r)
            own = r[0][3] / (per_core * 1e9)  # a variant that skips a class: over its own bytes' floor
            print(f"  {v or 'default (round six)':<28} {u:7.3f} {s:7.3f} {c:7.3f} {c / own:8.2f}x {w:7.3f}"
                  + ("" if r[0][3] == size else f"  ({r[0][3] / 1e9:.2f} GB hashed)"), flush=True)


if __name__ == "__main__":
    main()
