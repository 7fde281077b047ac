#!/usr/bin/env python3
"""Cost of change (issue 26): the scan after 10 edited files, over the unchanged scan, and
what it writes to the state dir (statcache and statcache.log bytes).

A tree of N small code files (the stat cache's size depends on the file count, not on the
bytes; default 198,281, the large tree's count), baked once. Then, per binary (--drift and
each --also LABEL=BIN, own state dir), interleaved --reps times: an unchanged scan, then 10
files edited (appended to; sha256 of them timed too) and a scan. Prints medians and the bytes
the edit scan wrote, with the load average.

  python3 bench/edits.py [--drift BIN] [--also old=BIN] [--files 198281] [--reps 5] [--work DIR]
"""
import argparse, os, shutil, statistics, subprocess, sys, time


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def timed(cmd, ok=(0,)):
    t0 = time.monotonic()
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if p.returncode not in ok:
        raise SystemExit(f"{cmd}: exit {p.returncode}: {p.stderr}")
    return time.monotonic() - t0


def sizes(state):
    out = {}
    for f in ("statcache", "statcache.log"):
        p = os.path.join(state, f)
        out[f] = os.path.getsize(p) if os.path.exists(p) else 0
        out[f + ".ino"] = os.stat(p).st_ino if os.path.exists(p) else 0
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drift", default=".build/release/drift")
    ap.add_argument("--also", action="append", default=[])
    ap.add_argument("--files", type=int, default=198_281)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default="/tmp/drift-bench-edits")
    a = ap.parse_args()
    bins = [("drift", os.path.abspath(a.drift))] + [(x.split("=", 1)[0], os.path.abspath(x.split("=", 1)[1]))
                                                    for x in a.also]
    base = os.path.join(a.work, f"n{a.files}")
    ws, up, mdir = base + "/ws", base + "/up", base + "/mdir"
    if not os.path.exists(mdir):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(up + "/worker")
        with open(up + "/worker/main.py", "w") as f:
            f.write("def main():\n    return 1\n")
        sh(f"cd '{up}' && git init -q -b main . && git add -A && git -c user.name=b -c user.email=b@b commit -qm base")
        os.makedirs(ws)
        sh(f"git -C '{up}' archive HEAD | tar -x -C '{ws}'")
        for d in range((a.files + 999) // 1000):
            p = f"{ws}/src/pkg{d:04d}"
            os.makedirs(p)
            for k in range(min(1000, a.files - d * 1000)):
                with open(f"{p}/m{k:04d}.py", "w") as f:
                    f.write(f"v = {d * 1000 + k}\n")
        sh(f"find '{ws}' -exec touch -h -d '-1 hour' {{}} +")
        sh(f"'{bins[0][1]}' manifest create --root '{ws}' --repo '{up}' --output '{mdir}'")
    edited = [f"{ws}/src/pkg0000/m{k:04d}.py" for k in range(10)]
    states = {}
    for label, b in bins:
        st = os.path.join(base, "state-" + label)
        shutil.rmtree(st, ignore_errors=True)
        sh(f"'{b}' scan --manifest '{mdir}' --state '{st}' >/dev/null || true")
        states[label] = st
    time.sleep(2.5)  # the racy-git margin: edits older than 2 s are cached
    for label, b in bins:
        sh(f"'{b}' scan --manifest '{mdir}' --state '{states[label]}' >/dev/null || true")
    load0 = os.getloadavg()[0]
    res = {label: {"unchanged": [], "edits": [], "hash": [], "written": []} for label, _ in bins}
    for rep in range(a.reps):
        for label, b in bins:
            scan = f"'{b}' scan --manifest '{mdir}' --state '{states[label]}' >/dev/null"
            time.sleep(2.2)  # every earlier edit past the racy margin
            res[label]["unchanged"].append(timed(scan, ok=(0, 1)))
            for p in edited:
                with open(p, "a") as f:
                    f.write(f"# edit {label} {rep}\n")
            res[label]["hash"].append(timed("sha256sum " + " ".join(edited)))
            before = sizes(states[label])
            res[label]["edits"].append(timed(scan, ok=(1,)))
            after = sizes(states[label])
            rewrote = after["statcache.ino"] != before["statcache.ino"]
            res[label]["written"].append(after["statcache"] if rewrote else
                                         after["statcache.log"] - before["statcache.log"])
    load1 = os.getloadavg()[0]
    print(f"files: {a.files:,}; reps: {a.reps}; load average {load0:.1f} before, {load1:.1f} after")
    print("| binary | unchanged scan s | scan after 10 edits s | sha256 of the 10 s | "
          "10 edits over unchanged ms | stat cache bytes written by the edit scan |")
    print("|---|---|---|---|---|---|")
    for label, _ in bins:
        r = res[label]
        m = {k: statistics.median(v) for k, v in r.items()}
        print(f"| {label} | {m['unchanged']:.3f} | {m['edits']:.3f} | {m['hash']:.3f} | "
              f"{(m['edits'] - m['unchanged'] - m['hash']) * 1000:.0f} | {int(m['written']):,} |")


if __name__ == "__main__":
    sys.exit(main())
