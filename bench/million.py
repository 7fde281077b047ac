#!/usr/bin/env python3
"""A million files (issue 28): N empty files in a data directory of a baked workspace.

Measures, for each N in --counts (default 200000,1000000):
  - first `drift scan` (nothing cached) and a second one: wall seconds, peak RSS (/usr/bin/time),
    and the size of state.json / statcache;
  - `drift watch`: start-up (until watch.json says phase "watching"), then one code edit, and the
    time until the journal has a snapshot naming it (polled every 50 ms), the watcher's RSS then.
Prints one Markdown table row per N with the load average before and after.

  python3 bench/million.py [--drift PATH] [--counts 200000,1000000] [--work DIR]
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, **kw).stdout


def timed(argv):
    """(wall seconds, peak RSS MiB, exit code, CPU seconds user+sys) of one run, by /usr/bin/time."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S"] + argv, capture_output=True, text=True)
    wall = time.monotonic() - t0
    rss_kib, user, system = p.stderr.strip().splitlines()[-1].split()
    return wall, int(rss_kib) / 1024, p.returncode, float(user) + float(system)


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


def cpu_of(pid):
    """User + system CPU seconds of a running process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(work, n, drift):
    base = os.path.join(work, f"n{n}")
    ws, up, mdir = base + "/ws", base + "/up", base + "/mdir"
    if not os.path.exists(mdir):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(up + "/worker")
        with open(up + "/worker/main.py", "w") as f:
            f.write("def main():\n    return 1\n")
        sh("git init -q -b main . && git add -A && git -c user.name=b -c user.email=b@b commit -qm base", cwd=up)
        sh(f"mkdir -p '{ws}' && git -C '{up}' archive HEAD | tar -x -C '{ws}'")
        sh(f"'{drift}' manifest create --root '{ws}' --repo '{up}' --output '{mdir}'")
        # N empty files in a data path, 1,000 per directory.
        data = ws + "/packages/models/unpacked"
        for d in range((n + 999) // 1000):
            p = f"{data}/part{d:04d}"
            os.makedirs(p)
            for k in range(min(1000, n - d * 1000)):
                open(f"{p}/shard-{d:04d}-{k:04d}.bin", "w").close()
    return ws, mdir


def bench(work, n, drift, state_root=None):
    ws, mdir = tree(work, n, drift)
    # A state dir of its own lets several binaries share one tree (the tree is only read).
    state = os.path.join(state_root or os.path.join(work, f"n{n}"), f"state-{n}" if state_root else "state")
    if state_root:
        os.makedirs(state_root, exist_ok=True)
    shutil.rmtree(state, ignore_errors=True)
    load0 = os.getloadavg()[0]
    scan = [drift, "scan", "--manifest", mdir, "--state", state, "--format", "text"]
    first = timed(scan)
    second = timed(scan)
    sizes = {f: os.path.getsize(os.path.join(state, f)) for f in ("state.json", "statcache")}
    # Watch: start-up, then one code edit journaled.
    env = dict(os.environ)
    w = subprocess.Popen([drift, "watch", "--manifest", mdir, "--state", state], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    t0 = time.monotonic()
    startup = None
    try:
        while time.monotonic() - t0 < 1800:
            try:
                with open(state + "/watch.json") as f:
                    if json.load(f).get("phase") == "watching":
                        startup = time.monotonic() - t0
                        break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        head = sh(f"git --git-dir='{state}/journal.git' rev-parse -q --verify refs/heads/journal || true").strip()
        cpu0 = cpu_of(w.pid)
        with open(ws + "/worker/main.py", "a") as f:
            f.write(f"# hotfix {time.time()}\n")
        t1 = time.monotonic()
        journaled = batch_cpu = None
        while time.monotonic() - t1 < 600:
            now = sh(f"git --git-dir='{state}/journal.git' rev-parse -q --verify refs/heads/journal || true").strip()
            if now and now != head:
                journaled = time.monotonic() - t1
                batch_cpu = cpu_of(w.pid) - cpu0
                break
            time.sleep(0.05)
        watch_rss = rss_of(w.pid)
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=120)
    load1 = os.getloadavg()[0]
    return {
        "n": n, "first": first, "second": second, "sizes": sizes, "startup": startup,
        "journaled": journaled, "batch_cpu": batch_cpu, "watch_rss": watch_rss, "load": (load0, load1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drift", default=".build/release/drift")
    ap.add_argument("--counts", default="200000,1000000")
    ap.add_argument("--work", default="/tmp/drift-bench-million")
    ap.add_argument("--state-root", default=None,
                    help="where the state dirs go (default: beside each tree); the trees under --work are only read")
    a = ap.parse_args()
    drift = os.path.abspath(a.drift)
    if not os.path.exists(drift):
        sh("swift build -c release --product drift")
    print("| files | first scan wall s / CPU s / RSS MB | second scan wall s / CPU s / RSS MB | state.json | "
          "statcache | watch start-up s | edit journaled wall s / watcher CPU s | watch RSS MB | load avg before/after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in a.counts.split(",")]:
        r = bench(a.work, n, drift, a.state_root)
        f, s = r["first"], r["second"]
        fmt = lambda v: "-" if v is None else f"{v:.2f}"
        print(f"| {n:,} | {f[0]:.1f} / {f[3]:.1f} / {f[1]:.0f} | {s[0]:.1f} / {s[3]:.1f} / {s[1]:.0f} | "
              f"{r['sizes']['state.json']:,} B | "
              f"{r['sizes']['statcache'] / 1e6:.1f} MB | {fmt(r['startup'])} | "
              f"{fmt(r['journaled'])} / {fmt(r['batch_cpu'])} | "
              f"{r['watch_rss']:.0f} | {r['load'][0]:.1f} / {r['load'][1]:.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
