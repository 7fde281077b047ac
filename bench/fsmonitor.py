#!/usr/bin/env python3
"""The cron scan beside a healthy `drift watch` (issue 26: <= 50 ms on the large tree).

Usage: bench/fsmonitor.py [--sizes medium,large] [--work DIR] [--reps N] [--drift BIN]
                          [--also LABEL=BIN ...] [--gap SECONDS]
Uses the trees of bench/run.py (same generator and work dir layout). Per tree: `manifest
create`, a first scan, then per binary (`--drift`, each `--also`) a copy of that state dir and a
`drift watch` on it; after one scan that learns the watcher's token, interleaved --reps times,
each after `--gap` seconds of idle time (a cron cadence): `find -printf`, the scan walking
(`--no-watcher`, on a state dir of its own) and each binary's cron `drift scan` asking its
watcher (with that watcher's CPU while it answered). Then 10 code files are edited and the
next asking scan of each binary is timed (it must report them). Every asking scan must say
`"watcher": {"used": true}` in its JSON report, or the benchmark fails.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the shared tree generator and measuring helpers)


def wait_watching(state, proc, timeout=600):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"drift watch exited {proc.returncode}")
        try:
            w = json.load(open(os.path.join(state, "watch.json")))
            if w.get("pid") == proc.pid and w.get("phase") == "watching":
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit("drift watch did not start in time")


def process_cpu(pid):
    """User + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def asked(drift, mdir, state):
    out = subprocess.run([drift, "scan", "--manifest", mdir, "--state", state, "--format", "json"],
                         capture_output=True, text=True)
    rep = json.loads(out.stdout)
    return out.returncode, rep.get("watcher") or {}, rep


def bench(name, work, binaries, reps, gap):
    base = os.path.join(work, name)
    run.prepare_tree(name, base)
    ws, srcgit = os.path.join(base, "ws"), os.path.join(base, "src.git")
    drift = binaries[0][1]
    mdir, walkstate = os.path.join(base, "mdir-fsmon"), os.path.join(base, "state-fsmon-walk")
    states = {label: os.path.join(base, f"state-fsmon-{label}") for label, _ in binaries}
    for d in [mdir, walkstate] + list(states.values()):
        shutil.rmtree(d, ignore_errors=True)
    run.sh(f"'{drift}' manifest create --root '{ws}' --repo '{srcgit}' --output '{mdir}' >/dev/null")
    run.sh(f"'{drift}' scan --manifest '{mdir}' --state '{walkstate}' --full >/dev/null")
    time.sleep(2.5)  # files hashed inside the racy-git margin are rehashed once
    run.sh(f"'{drift}' scan --manifest '{mdir}' --state '{walkstate}' --no-watcher >/dev/null", )
    # Copies of the same state, one per binary and its watcher; the walking scan keeps its own,
    # so it never moves a watcher's rotation (state.json `scans`) between two asking scans.
    for st in states.values():
        shutil.copytree(walkstate, st, symlinks=True)
    watches = {}
    try:
        for label, binary in binaries:
            t0 = time.time()
            watches[label] = subprocess.Popen([binary, "watch", "--manifest", mdir, "--state", states[label]],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_watching(states[label], watches[label])
            print(f"\n== {name} [{label}]: watcher ready after {time.time() - t0:.2f} s", flush=True)
            _, first, _ = asked(binary, mdir, states[label])
            print(f"  first scan beside it: used={first.get('used')} reason={first.get('reason')} (learns the token)")
        run.warm(ws)
        cmds = [("find -printf", f"find '{ws}' -printf '%s %T@ %C@ %i\\n'"),
                ("drift scan, walking (--no-watcher)",
                 f"'{drift}' scan --manifest '{mdir}' --state '{walkstate}' --no-watcher")]
        asking = {label: f"asking the watcher [{label}]" for label, _ in binaries}
        cmds += [(asking[label], f"'{binary}' scan --manifest '{mdir}' --state '{states[label]}'")
                 for label, binary in binaries]
        print(f"  load average before: {' '.join(run.load())}; {gap:.1f} s between two commands "
              f"(a cron cadence: the watchers idle between scans)", flush=True)
        # Interleaved (run.interleaved's order), with each watcher's CPU while its scan asked
        # (the answer; idle work after it may start before the client exits).
        watcher_of = {asking[label]: watches[label] for label, _ in binaries}
        runs = {label: [] for label, _ in cmds}
        answer_cpu = {label: [] for label in watcher_of}
        for _ in range(reps):
            for label, cmd in cmds:
                time.sleep(gap)
                w = watcher_of.get(label)
                c0 = process_cpu(w.pid) if w else 0.0
                runs[label].append(run.measure(cmd))
                if w:
                    answer_cpu[label].append(process_cpu(w.pid) - c0)
        res = {label: run.median_of(r) for label, r in runs.items()}
        for label, (wall, cpu, rss) in res.items():
            extra = ""
            if label in answer_cpu:
                extra = f"  watcher {sum(answer_cpu[label]) / len(answer_cpu[label]) * 1000:6.1f} ms cpu (mean)"
            print(f"  {label:<40} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms cpu {rss:7.1f} MB{extra}",
                  flush=True)
        print(f"  load average after: {' '.join(run.load())}", flush=True)
        for label, binary in binaries:
            time.sleep(gap)
            _, use, _ = asked(binary, mdir, states[label])
            if not use.get("used"):
                raise SystemExit(f"the asking scan [{label}] did not use the watcher: {use}")
            fast = res[asking[label]][0]
            print(f"  asking scan [{label}]: {fast * 1000:.1f} ms (target <= 50 ms on large), "
                  f"{res['drift scan, walking (--no-watcher)'][0] / fast:.1f}x faster than walking; "
                  f"watcher rescanned {use.get('rescanned')}, re-verified {use.get('reverified')} "
                  f"(ahead of the query: {use.get('reverified_ahead')})")
        code_files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ws, "src"))
                            for f in fs if f.endswith(".py"))[:10]
        for p in code_files:
            with open(p, "a") as fh:
                fh.write("# edited by bench/fsmonitor.py\n")
        for label, binary in binaries:
            t = time.perf_counter()
            code, use, rep = asked(binary, mdir, states[label])
            wall = time.perf_counter() - t
            drifted = rep.get("summary", {}).get("drifted")
            print(f"  10 edits, asking at once [{label}]: {wall * 1000:.1f} ms, exit {code}, drifted {drifted}, "
                  f"used={use.get('used')} rescanned={use.get('rescanned')}", flush=True)
            if code != 1 or drifted != 10:
                raise SystemExit("the asking scan after 10 edits did not report them")
        for p in code_files:
            with open(p) as fh:
                text = fh.read()
            with open(p, "w") as fh:
                fh.write(text.replace("# edited by bench/fsmonitor.py\n", ""))
    finally:
        for watch in watches.values():
            watch.send_signal(signal.SIGTERM)
            try:
                watch.wait(60)
            except subprocess.TimeoutExpired:
                watch.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="medium,large")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--drift", help="the drift binary (default: build and use the release one)")
    ap.add_argument("--also", action="append", default=[],
                    help="LABEL=BIN: another drift binary with its own watcher, interleaved")
    ap.add_argument("--gap", type=float, default=1.0, help="seconds of idle time before each timed command")
    a = ap.parse_args()
    drift = a.drift
    if not drift:
        run.sh(f"cd '{run.REPO}' && swift build -c release >/dev/null")
        drift = os.path.join(run.REPO, ".build/release/drift")
    print(f"machine: {os.cpu_count()} cores, {subprocess.check_output('uname -sr', shell=True, text=True).strip()}")
    binaries = [("drift", drift)] + [tuple(x.split("=", 1)) for x in a.also]
    for name in a.sizes.split(","):
        bench(name, a.work, binaries, a.reps, a.gap)


if __name__ == "__main__":
    main()
