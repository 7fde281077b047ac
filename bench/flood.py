#!/usr/bin/env python3
"""A paced bulk unpack into a data path under `drift watch` (incident 12, F15 and F3).

For each binary in --drift: a small baked workspace, `drift watch` started, then N data files
written into packages/models/flood/ (the default policy's data path) with a pause every 50
files (a tar slowed by load); half way, one line appended to worker/util.py. Measures the
snapshots the unpack added, the watcher's CPU (user+sys from /proc) and VmHWM, the journal's
size, the seconds from the hotfix's write until a journal commit message names it (polled
every 100 ms), and `drift log` (text, JSON) wall/CPU/RSS/bytes afterwards.
Prints one Markdown table row per binary with the load average.

  python3 bench/flood.py --drift OLD,NEW [--files 20000] [--work /tmp/NAME/flood]
"""
import argparse
import os
import shutil
import subprocess
import threading
import time


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, **kw).stdout


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def snapshots(state):
    r = subprocess.run(["git", f"--git-dir={state}/journal.git", "rev-list", "--first-parent",
                        "refs/heads/journal"], capture_output=True, text=True)
    return len(r.stdout.split())


def latest_message(state):
    r = subprocess.run(["git", f"--git-dir={state}/journal.git", "log", "-1", "--format=%B",
                        "refs/heads/journal"], capture_output=True, text=True)
    return r.stdout


def timed(argv, out):
    with open(out, "wb") as o:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + argv, stdout=o, stderr=subprocess.PIPE,
                           text=True)
    e, u, s, m = r.stderr.strip().splitlines()[-1].split()
    return float(e), float(u) + float(s), int(m) / 1024, os.path.getsize(out)


def run(drift, files, work):
    shutil.rmtree(work, ignore_errors=True)
    up, ws, mdir, state = (f"{work}/{n}" for n in ("up", "ws", "mdir", "state"))
    os.makedirs(f"{up}/worker")
    os.makedirs(f"{up}/packages/models")
    with open(f"{up}/worker/util.py", "w") as f:
        f.write("def helper(x):\n    return x + 1\n")
    with open(f"{up}/packages/models/keep.bin", "w") as f:
        f.write("x\n")
    sh("git init -q -b main . && git add -A && git -c user.email=b@b -c user.name=b commit -qm base", cwd=up)
    os.makedirs(ws)
    sh(f"git -C {up} archive HEAD | tar -x -C {ws}")
    sh(f"{drift} manifest create --root {ws} --repo {up} --output {mdir}")
    w = subprocess.Popen([drift, "watch", "--manifest", mdir, "--state", state],
                         stdout=open(f"{work}/watch.out", "w"), stderr=open(f"{work}/watch.err", "w"))
    try:
        while True:
            time.sleep(0.1)
            try:
                if '"watching"' in open(f"{state}/watch.json").read():
                    break
            except OSError:
                pass
        before, cpu0 = snapshots(state), proc_cpu(w.pid)
        wrote = {}

        def unpack():
            d = f"{ws}/packages/models/flood"
            os.makedirs(d)
            for i in range(files):
                with open(f"{d}/w{i:06d}.bin", "w") as fh:
                    fh.write(f"weights {i}\n")
                if i == files // 2:
                    with open(f"{ws}/worker/util.py", "a") as fh:
                        fh.write("HOTFIX = 1\n")
                    wrote["hotfix"] = time.monotonic()
                if i % 50 == 49:
                    time.sleep(0.02)
            wrote["end"] = time.monotonic()

        t0 = time.monotonic()
        th = threading.Thread(target=unpack)
        th.start()
        latency = None
        while latency is None and time.monotonic() - t0 < 600:
            time.sleep(0.1)
            if "hotfix" in wrote and "worker/util.py" in latest_message(state):
                latency = time.monotonic() - wrote["hotfix"]
        th.join()
        # Quiet: no new snapshot for 5 s.
        last, since = snapshots(state), time.monotonic()
        while time.monotonic() - since < 5:
            time.sleep(0.5)
            n = snapshots(state)
            if n != last:
                last, since = n, time.monotonic()
        cpu, peak = proc_cpu(w.pid) - cpu0, hwm(w.pid)
        journal = int(sh(f"du -sk {state}/journal.git").split()[0]) / 1024
    finally:
        w.terminate()
        w.wait()
    logs = [timed([drift, "log", "--manifest", mdir, "--state", state, "--format", f], f"{work}/log.{f}")
            for f in ("text", "json")]
    return dict(snaps=last - before, cpu=cpu, hwm=peak, journal=journal, latency=latency,
                unpack=wrote["end"] - t0, logs=logs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drift", required=True, help="comma-separated binaries")
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--work", default="/tmp/s12-flood/flood")
    a = ap.parse_args()
    print("| binary | files | unpack s | snapshots | watcher CPU s | VmHWM MB | journal MB | hotfix journaled s "
          "| log text s/CPU/MB/bytes | log json s/CPU/MB/bytes | load |")
    for d in a.drift.split(","):
        r = run(d, a.files, a.work)
        lg = ["%.2f/%.2f/%.0f/%d" % x for x in r["logs"]]
        lat = "%.2f" % r["latency"] if r["latency"] is not None else "-"
        print(f"| {d} | {a.files} | {r['unpack']:.1f} | {r['snaps']} | {r['cpu']:.2f} | {r['hwm']:.0f} "
              f"| {r['journal']:.1f} | {lat} | {lg[0]} | {lg[1]} | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
