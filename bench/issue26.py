#!/usr/bin/env python3
"""Every number of issue 26 for both trees in one run (docs/benchmarks.md, "Issue 26").

Usage: bench/issue26.py [--sizes medium,large] [--work DIR] [--reps N] [--drift BIN]
                        [--also LABEL=BIN ...]

Per tree (the trees of bench/run.py): the SHA-256 floor computed on this machine (bytes /
(2 cores x `openssl speed -evp sha256` of one core, 1 MiB blocks), measured before the
tree's runs), and the practical floor (bench/floor_reader.c, run beside the first scans, as
round six's reader and as round ten's fused walk-and-read);
then, interleaved with the anchors and every `--also` binary (medians of --reps,
/usr/bin/time): `manifest create`, the first scan (fresh state, everything hashed),
`scan --full` (cache present), the unchanged scan beside `find -printf` and `git status`
(all tracked, warm), the scan after 10 edited code files (paired with an unchanged scan of
a copy of the same state: the same re-verification slice), and `drift watch` after its
first scan (peak RSS from /proc, VmHWM). Prints ratios, peak RSS per verb, bytes per file
per verb and, with both trees, the growth from medium to large in bytes per added file.
The load average is printed before and after each part.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tree generator, measuring helpers)


def sha256_per_core():
    """GB/s of one core hashing 1 MiB blocks with OpenSSL's EVP SHA-256."""
    out = subprocess.run("openssl speed -evp sha256 -seconds 2 -bytes 1048576 2>/dev/null | tail -1",
                         shell=True, capture_output=True, text=True).stdout.split()
    return float(out[-1].rstrip("k")) * 1e3 / 1e9


def watch_rss(drift, mdir, state, timeout=900):
    """Peak RSS (MB) of `drift watch` once its first scan is done (watch.json says watching)."""
    proc = subprocess.Popen([drift, "watch", "--manifest", mdir, "--state", state],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=run.ENV)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"drift watch exited: {proc.stderr.read().decode()}")
            try:
                w = json.load(open(os.path.join(state, "watch.json")))
            except (OSError, ValueError):
                w = None
            if w and w.get("pid") == proc.pid and w.get("phase") == "watching":
                time.sleep(1.0)  # a moment of steady state after the first scan
                for line in open(f"/proc/{proc.pid}/status"):
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024, time.monotonic() - t0
            time.sleep(0.1)
        raise SystemExit("drift watch did not reach 'watching'")
    finally:
        proc.terminate()
        proc.wait()


def bench_tree(name, work, binaries, reps):
    base = os.path.join(work, name)
    run.prepare_tree(name, base)
    ws, gitdir, srcgit = (os.path.join(base, d) for d in ("ws", "ws.git", "src.git"))
    git = f"git --git-dir='{gitdir}' --work-tree='{ws}'"
    run.sh(f"{git} checkout -q -- . && {git} status --porcelain >/dev/null")
    files = int(subprocess.check_output(f"find '{ws}' -type f | wc -l", shell=True))
    size = run.du(ws)
    dirs = {label: (os.path.join(base, f"i26-mdir-{label}"), os.path.join(base, f"i26-state-{label}"))
            for label, _ in binaries}
    print(f"\n== {name}: {files} files, {size / 1e9:.2f} GB; median of {reps}, interleaved", flush=True)
    res = {}

    def part(title, cmds, n, ok=None, before=None):
        print(f"  [{title}] load average before: {' '.join(run.load())}", flush=True)
        r = run.interleaved(cmds, n, before=before, ok=ok)
        for label, (wall, cpu, rss) in r.items():
            print(f"  {label:<48} {wall:8.3f}s wall {cpu:8.3f}s cpu {rss:8.1f} MB", flush=True)
        print(f"  [{title}] load average after: {' '.join(run.load())}", flush=True)
        res.update(r)

    run.warm(ws)
    per_core = sha256_per_core()
    floor = size / (2 * per_core * 1e9)
    print(f"  openssl speed -evp sha256, one core: {per_core:.2f} GB/s; floor = {size / 1e9:.2f} GB / "
          f"(2 x {per_core:.2f} GB/s) = {floor:.3f} s", flush=True)
    part("manifest create", [(f"manifest create [{l}]",
                              f"rm -rf '{dirs[l][0]}' && '{d}' manifest create --root '{ws}' --repo '{srcgit}' "
                              f"--output '{dirs[l][0]}'") for l, d in binaries], reps)
    # The practical floor beside the first scans: bench/floor_reader.c, the best plain reader
    # (walk, then open/fstat/read or map/SHA-256 every file on 2 threads, no safety), same page cache.
    reader = os.path.join(work, "floor_reader")
    run.sh(f"cc -O2 -o '{reader}' '{HERE}/floor_reader.c' -lcrypto -lpthread")
    part("first scan", [(f"first scan [{l}]", f"rm -rf '{dirs[l][1]}' && '{d}' scan --manifest '{dirs[l][0]}' "
                         f"--state '{dirs[l][1]}'") for l, d in binaries]
         + [("floor reader (bench/floor_reader.c)", f"'{reader}' '{ws}' 2"),
            ("floor reader, fused walk and read", f"'{reader}' '{ws}' 2 fused")], reps)
    per_core_after = sha256_per_core()
    print(f"  openssl speed after the first scans: {per_core_after:.2f} GB/s one core", flush=True)
    part("scan --full", [(f"scan --full [{l}]", f"'{d}' scan --manifest '{dirs[l][0]}' --state '{dirs[l][1]}' --full")
                         for l, d in binaries], reps)
    time.sleep(2.5)  # files hashed inside the racy-git margin are rehashed once
    for l, d in binaries:
        run.sh(f"'{d}' scan --manifest '{dirs[l][0]}' --state '{dirs[l][1]}' >/dev/null")
    unchanged = [("find -printf '%s %T@ %C@ %i'", f"find '{ws}' -printf '%s %T@ %C@ %i\\n'"),
                 ("git status (all tracked)", f"{git} status --porcelain")]
    unchanged += [(f"unchanged scan [{l}]", f"'{d}' scan --manifest '{dirs[l][0]}' --state '{dirs[l][1]}'")
                  for l, d in binaries]
    part("unchanged, warm", unchanged, max(reps, 5))
    edited = subprocess.check_output(f"find '{ws}/src' -name '*.py' | sort | head -10", shell=True,
                                     text=True).split()
    edits = {l: [] for l, _ in binaries}
    paired = {l: [] for l, _ in binaries}
    scan = lambda l, d, state: f"'{d}' scan --manifest '{dirs[l][0]}' --state '{state}'"
    print(f"  [10 edits] load average before: {' '.join(run.load())}", flush=True)
    for rep in range(reps):
        # Paired: the unchanged scan runs on a copy of the very state the edit scan starts
        # from (same scan number, so the same re-verification slice, the same cache): the
        # slice differs from scan to scan by up to ~100 ms of hashing on the large tree,
        # more than the edits cost.
        for l, d in binaries:
            run.sh(f"rm -rf '{dirs[l][1]}.pair' && cp -a '{dirs[l][1]}' '{dirs[l][1]}.pair'")
        for l, d in binaries:
            paired[l].append(run.measure(scan(l, d, dirs[l][1] + ".pair")))
        for p in edited:
            # A new file renamed over the old one: a tree hard-linked from a shared one
            # (`cp -al`) is edited without writing into the shared inodes.
            with open(p, "rb") as f:
                body = f.read()
            with open(p + ".edit", "wb") as f:
                f.write(body + f"# edit {rep}\n".encode())
            shutil.copymode(p, p + ".edit")
            os.rename(p + ".edit", p)
        for l, d in binaries:
            edits[l].append(run.measure(scan(l, d, dirs[l][1]), ok=(1,)))
        # Back to the clean tree, settled (out of the racy-git margin) for the next pair.
        run.sh(f"{git} checkout -q -- .")
        for settle in range(2):
            if settle:
                time.sleep(2.5)
            for l, d in binaries:
                run.sh(scan(l, d, dirs[l][1]) + " >/dev/null")
    for l, _ in binaries:
        run.sh(f"rm -rf '{dirs[l][1]}.pair'")
        r = run.median_of(edits[l])
        res[f"after 10 edits [{l}]"] = r
        res[f"paired unchanged [{l}]"] = run.median_of(paired[l])
        res[f"paired delta [{l}]"] = tuple(statistics.median(e[k] - u[k] for e, u in zip(edits[l], paired[l]))
                                           for k in (0, 1))
        print(f"  {'scan after 10 edits [' + l + ']':<48} {r[0]:8.3f}s wall {r[1]:8.3f}s cpu {r[2]:8.1f} MB")
        u = res[f"paired unchanged [{l}]"]
        print(f"  {'  its unchanged pair [' + l + ']':<48} {u[0]:8.3f}s wall {u[1]:8.3f}s cpu {u[2]:8.1f} MB")
    print(f"  [10 edits] load average after: {' '.join(run.load())}", flush=True)
    run.sh(f"{git} checkout -q -- .")
    for l, d in binaries:
        rss, up = watch_rss(d, *dirs[l])
        res[f"watch after its first scan [{l}]"] = (up, 0.0, rss)
        print(f"  {'watch after its first scan [' + l + ']':<48} {up:8.3f}s to watching {rss:8.1f} MB", flush=True)

    print(f"  ratios ({name}), medians of the interleaved runs above:")
    f, g = res[unchanged[0][0]], res[unchanged[1][0]]
    practical = res["floor reader (bench/floor_reader.c)"]
    print(f"    floor reader / SHA-256 floor          = {practical[0] / floor:5.2f}x wall, {practical[1]:.3f} s cpu "
          f"(the practical floor)")
    fused = res["floor reader, fused walk and read"]
    print(f"    fused floor reader / SHA-256 floor    = {fused[0] / floor:5.2f}x wall, {fused[1]:.3f} s cpu "
          f"= {fused[1] / (2 * floor):4.2f}x the floor's cpu (round ten's best reader)")
    for l, _ in binaries:
        first, u = res[f"first scan [{l}]"], res[f"unchanged scan [{l}]"]
        print(f"    [{l}] first scan / SHA-256 floor      = {first[0] / floor:5.2f}x  (target <= 1.5x); "
              f"/ floor reader = {first[0] / practical[0]:4.2f}x wall, {first[1] / practical[1]:4.2f}x cpu")
        print(f"    [{l}] unchanged / find -printf        = {u[0] / f[0]:5.2f}x wall, {u[1] / f[1]:5.2f}x cpu "
              f"(target <= 1.0x)")
        print(f"    [{l}] unchanged / git status          = {u[0] / g[0]:5.2f}x wall, {u[1] / g[1]:5.2f}x cpu "
              f"(target <= 1.2x)")
        e, pd = res[f"after 10 edits [{l}]"], res[f"paired delta [{l}]"]
        print(f"    [{l}] 10 edits over unchanged         = {pd[0] * 1000:+6.0f} ms wall, {pd[1] * 1000:+6.0f} ms cpu, "
              f"paired (target <= 50 ms); unpaired {(e[0] - u[0]) * 1000:+6.0f} ms wall")
        verbs = ["manifest create", "first scan", "scan --full", "unchanged scan", "after 10 edits",
                 "watch after its first scan"]
        rss = {v: res[f"{v} [{l}]"][2] for v in verbs}
        print(f"    [{l}] peak RSS MB: " + ", ".join(f"{v} {rss[v]:.1f}" for v in verbs)
              + f"; max {max(rss.values()):.1f} (target <= 150 MB on large)")
        print(f"    [{l}] bytes per file: " + ", ".join(f"{v} {rss[v] * 1048576 / files:.0f}" for v in verbs))
    return {"files": files, "floor": floor, "res": res}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="medium,large")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--drift", help="the drift binary (default: build and use the release one)")
    ap.add_argument("--also", action="append", default=[], help="LABEL=BIN: another drift binary, same rounds")
    a = ap.parse_args()
    if not a.drift:
        run.sh(f"cd '{run.REPO}' && swift build -c release >/dev/null")
    binaries = [("new", a.drift or os.path.join(run.REPO, ".build/release/drift"))]
    binaries += [tuple(x.split("=", 1)) for x in a.also]
    print(f"machine: {os.cpu_count()} cores, {subprocess.check_output('uname -sr', shell=True, text=True).strip()}")
    out = {name: bench_tree(name, a.work, binaries, a.reps) for name in a.sizes.split(",")}
    if "medium" in out and "large" in out:
        m, g = out["medium"], out["large"]
        print("\ngrowth from medium to large, bytes of peak RSS per added file:")
        for l, _ in binaries:
            for v in ["manifest create", "first scan", "scan --full", "unchanged scan", "after 10 edits",
                      "watch after its first scan"]:
                k = f"{v} [{l}]"
                d = (g["res"][k][2] - m["res"][k][2]) * 1048576 / (g["files"] - m["files"])
                print(f"  [{l}] {v:<28} {d:6.0f} B/file")


if __name__ == "__main__":
    main()
