#!/usr/bin/env python3
"""The unchanged scan alone, against its anchors (issue 17, point 2).

Usage: bench/unchanged.py [--sizes medium,large] [--work DIR] [--reps N] [--drift BIN]
                          [--also LABEL=BIN ...] [--cold] [--out DIR]
Uses the trees of bench/run.py (same generator, same work dir layout). Per tree: one
`manifest create` and a first scan, then `find -printf`, `git status` (every file tracked)
and the unchanged `drift scan` interleaved, --reps times (median wall and CPU, peak RSS,
load average before and after). `--also old=PATH` measures another drift binary in the same
rounds (same manifest and state dir layout, its own copies). `--cold` adds cold-cache runs
(drops the page cache before every run; needs root). `--out DIR` keeps the MDIRs and
states there and runs `git status` with `GIT_OPTIONAL_LOCKS=0` (it does not refresh the index):
nothing is written into the trees, which other sessions may be reading.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the shared tree generator and measuring helpers)


def setup(drift, ws, srcgit, mdir, state):
    shutil.rmtree(mdir, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    run.sh(f"'{drift}' manifest create --root '{ws}' --repo '{srcgit}' --output '{mdir}' >/dev/null")
    run.sh(f"'{drift}' scan --manifest '{mdir}' --state '{state}' --full >/dev/null")


def bench(name, work, binaries, reps, cold, out=None):
    base = os.path.join(work, name)
    run.prepare_tree(name, base)
    ws, gitdir, srcgit = (os.path.join(base, d) for d in ("ws", "ws.git", "src.git"))
    git = f"git --git-dir='{gitdir}' --work-tree='{ws}'"
    if out:
        git = "GIT_OPTIONAL_LOCKS=0 " + git
        mine = os.path.join(out, name)
        os.makedirs(mine, exist_ok=True)
    else:
        mine = base
        run.sh(f"{git} checkout -q -- . && {git} status --porcelain >/dev/null")
    cmds = [("find -printf '%s %T@ %C@ %i'", f"find '{ws}' -printf '%s %T@ %C@ %i\\n'"),
            ("git status (all tracked)", f"{git} status --porcelain")]
    for label, drift in binaries:
        mdir, state = os.path.join(mine, f"mdir-{label}"), os.path.join(mine, f"state-{label}")
        setup(drift, ws, srcgit, mdir, state)
        cmds.append((f"drift scan, unchanged [{label}]", f"'{drift}' scan --manifest '{mdir}' --state '{state}'"))
    time.sleep(2.5)  # files hashed inside the racy-git margin are rehashed once
    for label, cmd in cmds[2:]:
        run.sh(cmd + " >/dev/null")
    run.warm(ws)
    files = int(subprocess.check_output(f"find '{ws}' -type f | wc -l", shell=True))
    print(f"\n== {name}: {files} files; median of {reps}, interleaved", flush=True)
    for tag, before in (("warm", None),) + ((("cold", run.drop_caches),) if cold else ()):
        if tag == "cold" and not run.can_drop_caches():
            print("  cold runs skipped: dropping the page cache needs root")
            break
        print(f"  [{tag}] load average before: {' '.join(run.load())}", flush=True)
        res = run.interleaved(cmds, reps, before=before)
        for label, (wall, cpu, rss) in res.items():
            print(f"  [{tag}] {label:<40} {wall:7.3f}s wall {cpu:7.3f}s cpu {rss:7.1f} MB", flush=True)
        print(f"  [{tag}] load average after: {' '.join(run.load())}", flush=True)
        f, g = res[cmds[0][0]], res[cmds[1][0]]
        for label, _ in cmds[2:]:
            d = res[label]
            print(f"  [{tag}] {label}: {d[0] / g[0]:.2f}x git status wall ({d[1] / g[1]:.2f}x cpu), "
                  f"{d[0] / f[0]:.2f}x find wall ({d[1] / f[1]:.2f}x cpu)  (target <= 1x)", flush=True)
        if tag == "cold":
            run.warm(ws)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="medium,large")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--drift", help="the drift binary (default: build and use the release one)")
    ap.add_argument("--also", action="append", default=[], help="LABEL=BIN: another drift binary, same rounds")
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--out", help="keep MDIRs and states here; write nothing into the trees")
    a = ap.parse_args()
    if not a.drift:
        run.sh(f"cd '{run.REPO}' && swift build -c release >/dev/null")
    binaries = [("new", a.drift or os.path.join(run.REPO, ".build/release/drift"))]
    binaries += [tuple(x.split("=", 1)) for x in a.also]
    print(f"machine: {os.cpu_count()} cores, {subprocess.check_output('uname -sr', shell=True, text=True).strip()}")
    for name in a.sizes.split(","):
        bench(name, a.work, binaries, a.reps, a.cold, a.out)


if __name__ == "__main__":
    main()
