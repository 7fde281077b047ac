#!/usr/bin/env python3
"""drift watch benchmark on the medium tree (docs/benchmarks.md, "drift watch").

Usage: bench/watch.py [--work DIR] [--edits 200] [--spread 60] [--idle 120] [--burst 10000] [--per-dir 40]
                      [--no-build]
                      [--drift BIN]

Measures, with a release build: start-up (first scan + every watch) against an unchanged
`drift scan`; write -> journal latency (p50/p99) over EDITS edits spread over SPREAD seconds;
idle CPU over IDLE seconds (extrapolated to 10 minutes) and RSS; a BURST-file burst recorded
after its end. Prints `uptime` with every number: the machine may be shared.
"""
import argparse, json, os, shutil, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run import SIZES, ENV, sh  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def load():
    return open("/proc/loadavg").read().split()[:3]


def prepare(work, per_dir=40):
    """The medium tree of bench/run.py (shared with it), its source repo and a tracked copy;
    with `per_dir` other than 40, a tree of the same size with that many source files per
    directory (2: about 19,000 directories), kept in its own directory."""
    nfiles, nbytes = SIZES["medium"]
    base = os.path.join(work, "medium" if per_dir == 40 else f"medium-pd{per_dir}")
    ws, gitdir, srcgit = (os.path.join(base, n) for n in ("ws", "ws.git", "src.git"))
    if not os.path.exists(os.path.join(base, ".ready")):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        sh(f"python3 '{HERE}/gen_tree.py' '{ws}' {nfiles} {nbytes} {per_dir}")
        sh(f"git --git-dir='{gitdir}' --work-tree='{ws}' init -q && git --git-dir='{gitdir}' --work-tree='{ws}' add -A -f && "
           f"git --git-dir='{gitdir}' --work-tree='{ws}' commit -qm tree")
        sh(f"git --git-dir='{srcgit}' --work-tree='{ws}' init -q && git --git-dir='{srcgit}' --work-tree='{ws}' add src assets && "
           f"git --git-dir='{srcgit}' --work-tree='{ws}' commit -qm source")
        open(os.path.join(base, ".ready"), "w").close()
    reset(base)
    return base, ws, srcgit


def reset(base):
    ws, gitdir = os.path.join(base, "ws"), os.path.join(base, "ws.git")
    shutil.rmtree(os.path.join(ws, "src", "zz_burst"), ignore_errors=True)
    sh(f"git --git-dir='{gitdir}' --work-tree='{ws}' checkout -q -- .")


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def status_kb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def watch_json(state):
    try:
        return json.load(open(os.path.join(state, "watch.json")))
    except (OSError, ValueError):
        return None


def ref(state):
    try:
        return open(os.path.join(state, "journal.git", "refs", "heads", "journal")).read()
    except OSError:
        return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/drift-bench")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--spread", type=float, default=60)
    ap.add_argument("--idle", type=float, default=120)
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--per-dir", type=int, default=40,
                    help="source files per directory (2: the issue's ~19,000-directory medium tree)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--drift", help="binary to measure (an anchor, e.g. an older build); implies --no-build")
    a = ap.parse_args()
    if not a.no_build and not a.drift:
        sh(f"cd '{REPO}' && swift build -c release >/dev/null")
    drift = a.drift or os.path.join(REPO, ".build/release/drift")
    base, ws, srcgit = prepare(a.work, a.per_dir)
    mdir, state = os.path.join(base, "watch-mdir"), os.path.join(base, "watch-state")
    shutil.rmtree(mdir, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    sh(f"'{drift}' manifest create --root '{ws}' --repo '{srcgit}' --output '{mdir}' >/dev/null")
    dirs = int(subprocess.check_output(f"find '{ws}' -type d -not -path '*/__pycache__*' | wc -l", shell=True))
    files = int(subprocess.check_output(f"find '{ws}' -type f | wc -l", shell=True))
    print(f"medium tree: {files} files, {dirs} directories not ignored (incl. root); load {load()}", flush=True)

    scan = [drift, "scan", "--manifest", mdir, "--state", state]
    subprocess.run(scan, stdout=subprocess.DEVNULL, check=False)  # first scan fills the stat cache
    time.sleep(2.5)  # past the racy-git margin, so the next scan caches every file
    subprocess.run(scan, stdout=subprocess.DEVNULL, check=False)
    runs = []
    for _ in range(3):
        t0 = time.monotonic()
        subprocess.run(scan, stdout=subprocess.DEVNULL, check=False)
        runs.append(time.monotonic() - t0)
    unchanged = min(runs)
    print(f"unchanged drift scan: {unchanged:.3f} s (best of 3); load {load()}", flush=True)

    log = os.path.join(base, "watch.jsonl")
    proc = subprocess.Popen([drift, "watch", "--manifest", mdir, "--state", state, "--log", log],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    try:
        t0 = time.monotonic()
        while True:
            w = watch_json(state)
            if w and w.get("pid") == proc.pid and w.get("phase") == "watching":
                break
            if proc.poll() is not None:
                raise SystemExit(f"drift watch exited: {proc.stderr.read().decode()}")
            time.sleep(0.002)
        startup = time.monotonic() - t0
        print(f"start-up (first scan + {w['watched_directories']} watches): {startup:.3f} s = "
              f"{startup / unchanged:.2f}x the unchanged scan (target <= 2x); load {load()}", flush=True)

        sources = sorted(subprocess.check_output(f"find '{ws}/src' -name '*.py' | sort | head -{a.edits}",
                                                 shell=True, text=True).split())
        lat = []
        start = time.monotonic()
        for i, p in enumerate(sources):
            slot = start + i * a.spread / len(sources)
            while time.monotonic() < slot:
                time.sleep(0.001)
            before = ref(state)
            with open(p, "a") as f:
                f.write(f"# watch edit {i}\n")
            t = time.monotonic()
            while ref(state) == before and time.monotonic() - t < 10:
                time.sleep(0.002)
            lat.append(time.monotonic() - t)
        print(f"write -> journal over {len(lat)} edits in {time.monotonic() - start:.0f} s: "
              f"p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms "
              f"(targets: median <= 500 ms, p99 <= 1 s); load {load()}", flush=True)

        time.sleep(3)
        c0, t0 = cpu_ticks(proc.pid), time.monotonic()
        time.sleep(a.idle)
        c1, t1 = cpu_ticks(proc.pid), time.monotonic()
        cpu = (c1 - c0) / CLK / (t1 - t0) * 100
        print(f"idle CPU over {t1 - t0:.0f} s: {(c1 - c0) / CLK:.2f} s = {cpu:.3f}% of one core "
              f"(10 min at this rate: {(c1 - c0) / CLK * 600 / (t1 - t0):.2f} s CPU; target <= 0.1%); "
              f"RSS {status_kb(proc.pid, 'VmRSS') / 1024:.1f} MB, peak {status_kb(proc.pid, 'VmHWM') / 1024:.1f} MB "
              f"(target <= 64 MB; of it file-backed {status_kb(proc.pid, 'RssFile') / 1024:.1f} MB, "
              f"anonymous {status_kb(proc.pid, 'RssAnon') / 1024:.1f} MB); load {load()}", flush=True)

        burst = os.path.join(ws, "src", "zz_burst")
        c0 = cpu_ticks(proc.pid)
        t0 = time.monotonic()
        for i in range(a.burst):
            d = os.path.join(burst, f"d{i // 100:03d}")
            if i % 100 == 0:
                os.makedirs(d)
            with open(os.path.join(d, f"f{i}.py"), "w") as f:
                f.write(f"x = {i}\n")
        t_end = time.monotonic()
        want = a.burst + len(sources)
        n = 0
        while time.monotonic() - t_end < 120:
            try:
                n = len(json.load(open(os.path.join(state, "state.json")))["items"])
            except (OSError, ValueError):
                pass
            if n >= want:
                break
            time.sleep(0.05)
        w = watch_json(state) or {}
        f = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        print(f"burst: watcher CPU {(cpu_ticks(proc.pid) - c0) / CLK:.2f} s (user+sys; totals since start "
              f"user {int(f[11]) / CLK:.2f} s, sys {int(f[12]) / CLK:.2f} s), {w.get('batches')} batches", flush=True)
        print(f"burst of {a.burst} files written in {t_end - t0:.2f} s, all recorded {time.monotonic() - t_end:.2f} s after "
              f"its end ({n}/{want} drifted paths in state.json; overflows {w.get('overflows')}, full scans "
              f"{w.get('full_scans')}; target <= 10 s); RSS peak {status_kb(proc.pid, 'VmHWM') / 1024:.1f} MB; "
              f"load {load()}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        print(f"SIGTERM: exit {rc}", flush=True)
        reset(base)


if __name__ == "__main__":
    main()
