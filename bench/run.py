#!/usr/bin/env python3
"""drift benchmark: drift against the anchors on the same generated trees.

Usage: bench/run.py [--sizes medium,large] [--work DIR] [--reps N]
Prints one table per tree: wall and CPU seconds, peak RSS, ratio to the anchors.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIZES = {"medium": (50_000, 2 << 30), "large": (200_000, 6 << 30)}
ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.com", NO_COLOR="1")

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, env=ENV, **kw)

def measure(cmd, ok=(0,)):
    """Runs cmd under /usr/bin/time; returns (wall, cpu, peak_rss_mb)."""
    fmt = "%e %U %S %M"
    out = subprocess.run(["/usr/bin/time", "-f", fmt, "sh", "-c", cmd + " >/dev/null"],
                         env=ENV, stderr=subprocess.PIPE, text=True)
    last = out.stderr.strip().splitlines()[-1]
    if out.returncode not in ok:
        raise SystemExit(f"benchmark command failed ({out.returncode}): {cmd}\n{out.stderr}")
    wall, user, sys_, rss = last.split()
    return float(wall), float(user) + float(sys_), int(rss) / 1024

def best(cmd, reps, ok=(0,)):
    runs = [measure(cmd, ok) for _ in range(reps)]
    return min(runs, key=lambda r: r[0])

def warm(ws):
    sh(f"find '{ws}' -type f -print0 | xargs -0 -P2 cat > /dev/null")

def bench_tree(name, work, drift, reps):
    nfiles, nbytes = SIZES[name]
    base = os.path.join(work, name)
    ws, gitdir = os.path.join(base, "ws"), os.path.join(base, "ws.git")
    # The upstream repository drift bakes from: the source code (models and caches are
    # not committed, as in the worker's real repository).
    srcgit = os.path.join(base, "src.git")
    if not os.path.exists(os.path.join(base, ".ready")):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        sh(f"python3 '{HERE}/gen_tree.py' '{ws}' {nfiles} {nbytes}")
        # Every file tracked by git (warm index), with the git dir outside the root.
        sh(f"git --git-dir='{gitdir}' --work-tree='{ws}' init -q && "
           f"git --git-dir='{gitdir}' --work-tree='{ws}' add -A -f && "
           f"git --git-dir='{gitdir}' --work-tree='{ws}' commit -qm tree")
        sh(f"git --git-dir='{srcgit}' --work-tree='{ws}' init -q && "
           f"git --git-dir='{srcgit}' --work-tree='{ws}' add src assets && "
           f"git --git-dir='{srcgit}' --work-tree='{ws}' commit -qm source")
        open(os.path.join(base, ".ready"), "w").close()
    sh(f"git --git-dir='{gitdir}' --work-tree='{ws}' checkout -q -- . && git --git-dir='{gitdir}' --work-tree='{ws}' status --porcelain >/dev/null")
    mdir, state = os.path.join(base, "mdir"), os.path.join(base, "state")
    shutil.rmtree(mdir, ignore_errors=True); shutil.rmtree(state, ignore_errors=True)
    files = int(subprocess.check_output(f"find '{ws}' -type f | wc -l", shell=True))
    size = int(subprocess.check_output(f"du -sb '{ws}' | cut -f1", shell=True))
    rows = []
    def row(label, r):
        rows.append((label, *r)); print(f"  {label:<44} {r[0]:8.3f}s wall {r[1]:8.3f}s cpu {r[2]:8.1f} MB", flush=True)
    print(f"\n== {name}: {files} files, {size / 1e9:.2f} GB in {ws}", flush=True)
    warm(ws)
    row("find -printf '%s %T@ %C@ %i' (metadata floor)", best(f"find '{ws}' -printf '%s %T@ %C@ %i\\n'", reps))
    row("git status (all tracked, warm index)", best(f"git --git-dir='{gitdir}' --work-tree='{ws}' status --porcelain", reps))
    warm(ws)
    row("sha256sum over all files", best(f"find '{ws}' -type f -print0 | xargs -0 sha256sum", 1))
    warm(ws)
    row("drift manifest create (full hash)",
        best(f"rm -rf '{mdir}' && '{drift}' manifest create --root '{ws}' --repo '{srcgit}' --output '{mdir}'", reps))
    warm(ws)
    row("drift scan --full (first scan, no cache)", best(f"'{drift}' scan --manifest '{mdir}' --state '{state}' --full", reps))
    row("drift scan (nothing changed, warm cache)", best(f"'{drift}' scan --manifest '{mdir}' --state '{state}'", reps))
    edited = subprocess.check_output(f"find '{ws}/src' -name '*.py' | sort | head -10", shell=True, text=True).split()
    edit_runs, diff_runs, hash10 = [], [], []
    for rep in range(reps):
        for p in edited:
            with open(p, "a") as f: f.write(f"# edit {rep}\n")
        paths = " ".join(f"'{p}'" for p in edited)
        hash10.append(measure(f"sha256sum {paths}"))
        edit_runs.append(measure(f"'{drift}' scan --manifest '{mdir}' --state '{state}'", ok=(1,)))
        diff_runs.append(measure(f"'{drift}' diff --manifest '{mdir}' --state '{state}'", ok=(1,)))
    row("drift scan after 10 edits", min(edit_runs))
    row("drift diff after 10 edits", min(diff_runs))
    row("sha256sum of the 10 edited files", min(hash10))
    sh(f"git --git-dir='{gitdir}' --work-tree='{ws}' checkout -q -- .")
    if shutil.which("aide"):
        conf = os.path.join(base, "aide.conf")
        with open(conf, "w") as f:
            f.write(f"database_in=file:{base}/aide.db\ndatabase_out=file:{base}/aide.db.new\n"
                    f"gzip_dbout=no\nDRIFT = p+i+n+u+g+s+m+c+sha256\n{ws} DRIFT\n")
        warm(ws)
        row("aide --init", best(f"aide --config '{conf}' --init", 1))
        shutil.copy(f"{base}/aide.db.new", f"{base}/aide.db")
        warm(ws)
        row("aide --check", best(f"aide --config '{conf}' --check", 1, ok=(0, 1, 2, 3, 4, 5, 6, 7)))
    else:
        print("  aide: not installed (apt-get install aide); skipped")
    return rows

def ratios(rows):
    r = {label: (wall, cpu, rss) for label, wall, cpu, rss in rows}
    get = lambda k: next(v for l, v in r.items() if l.startswith(k))
    full, unchanged = get("drift manifest create"), get("drift scan (nothing")
    print("  ratios:")
    print(f"    sha256sum / manifest create          = {get('sha256sum over')[0] / full[0]:6.1f}x faster (target >= 8x)")
    if any(l.startswith("aide --init") for l in r):
        print(f"    aide --init / manifest create        = {get('aide --init')[0] / full[0]:6.1f}x faster (target >= 10x)")
        print(f"    aide --check / unchanged scan        = {get('aide --check')[0] / unchanged[0]:6.1f}x faster (target >= 30x)")
    print(f"    unchanged scan / find -printf        = {unchanged[0] / get('find')[0]:6.2f}x (target <= 1.5x)")
    print(f"    unchanged scan / git status          = {unchanged[0] / get('git status')[0]:6.2f}x (target <= 1x)")
    extra = get("drift scan after")[0] - unchanged[0] - get("sha256sum of the 10")[0]
    print(f"    10-edit scan - unchanged - hash(10)  = {extra * 1000:6.0f} ms (target <= 50 ms)")
    print(f"    peak RSS of any drift run            = {max(v[2] for l, v in r.items() if l.startswith('drift')):6.1f} MB (target <= 150 MB on large)")
    return unchanged[0]

def bench_sitepackages(work, drift, reps):
    """A 20,000-file site-packages: the unchanged re-scan must not rehash it."""
    import json
    base = os.path.join(work, "sitepackages")
    sp = os.path.join(base, "env", "lib", "python3.11", "site-packages")
    ws, repo = os.path.join(base, "ws"), os.path.join(base, "repo")
    if not os.path.exists(os.path.join(base, ".ready")):
        shutil.rmtree(base, ignore_errors=True)
        sh(f"python3 '{HERE}/gen_sitepackages.py' '{sp}' 20400 40")
        os.makedirs(ws)
        with open(os.path.join(ws, "requirements.txt"), "w") as f: f.write("")
        sh(f"git init -q '{repo}' && cp '{ws}/requirements.txt' '{repo}/' && git -C '{repo}' add -A && git -C '{repo}' commit -qm r")
        open(os.path.join(base, ".ready"), "w").close()
    mdir, state = os.path.join(base, "mdir"), os.path.join(base, "state")
    shutil.rmtree(mdir, ignore_errors=True); shutil.rmtree(state, ignore_errors=True)
    time.sleep(2.5)  # files younger than the racy-git margin are never cached
    print(f"\n== site-packages: {sp}", flush=True)
    r = best(f"'{drift}' manifest create --root '{ws}' --repo '{repo}' --site-packages '{sp}' --output '{mdir}'", 1)
    print(f"  {'drift manifest create --site-packages':<44} {r[0]:8.3f}s wall {r[1]:8.3f}s cpu {r[2]:8.1f} MB")
    for label in ("first scan (no cache)", "re-scan, unchanged"):
        t0 = time.time()
        out = subprocess.run([drift, "scan", "--manifest", mdir, "--state", state, "--format", "json"],
                             capture_output=True, text=True)
        wall = time.time() - t0
        s = json.loads(out.stdout)["summary"]
        print(f"  {'drift scan: ' + label:<44} {wall:8.3f}s wall  RECORD entries {s['pip_checked']}, read {s['pip_hashed']}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="medium,large")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-sitepackages", action="store_true")
    a = ap.parse_args()
    sh(f"cd '{REPO}' && swift build -c release >/dev/null")
    drift = os.path.join(REPO, ".build/release/drift")
    print(f"machine: {os.cpu_count()} cores, {subprocess.check_output('uname -sr', shell=True, text=True).strip()}")
    out = subprocess.run("openssl speed -evp sha256 -multi 2 -seconds 2 -bytes 1048576 2>/dev/null | tail -1",
                         shell=True, capture_output=True, text=True).stdout.split()
    if out: print(f"openssl 2-core SHA-256 limit: {float(out[-1].rstrip('k')) / 1e6:.2f} GB/s")
    unchanged = {}
    for name in a.sizes.split(","):
        rows = bench_tree(name, a.work, drift, a.reps)
        unchanged[name] = ratios(rows)
    if not a.no_sitepackages:
        bench_sitepackages(a.work, drift, a.reps)
    if "medium" in unchanged and "large" in unchanged:
        print(f"\nunchanged scan large / medium = {unchanged['large'] / unchanged['medium']:.2f}x (target <= 4.5x)")

if __name__ == "__main__":
    main()
