#!/usr/bin/env python3
"""drift benchmark: the gate against history (issue 27) and big entries (issue 28).

Usage: bench/gate_history.py --drift BIN [--work DIR] [--behind 1000,100000,1000000]
                             [--entries 1,200] [--since 300] [--runs 3] [--paths 100000]

For each size N, an upstream whose main has N commits *behind* the image base and --since
commits after it (one of them carries entry 0's Drift-Id trailer; the last adds every even
entry's file, a content reconciliation), built by one `git fast-import` and cached under
--work (default /tmp/drift-bench-history; delete it to rebuild). Each entry is an export
directory (drift.bundle, drift.patch, report.json) built byte by byte as bench/gen_fleet.py
builds them, with a Drift-Id `DriftID.compute` agrees with. For each N and entry count it
times, in one run and side by side, `drift gate --repo R --ledger L` (median of --runs under
/usr/bin/time: wall, max RSS) and `git rev-list main ^BASE` (what the walk must cost), then
prints a markdown table and the flatness across N (time and RSS, largest / smallest).
With --paths P it also times one entry of P changed paths in one directory, and in 1,000
directories (issue 28: linear, target <= 2 s at 100,000), both one blob and no drift.patch; and
one realistic entry of P (round 13): P distinct blobs, names with non-UTF-8/ESC/newline bytes,
P/2 directories and the drift.patch `git format-patch` writes, for each outcome (not upstream,
reconciled by content, by trailer), CPU beside wall. With --commit-graph it also times
both against a copy of each repository (hard links: the same pack files and page cache) that
holds the commit-graph `git gc` writes (`objects/info/commit-graph`, cached beside it).
"""
import argparse, hashlib, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fleet import ENV, drift_id, git, obj_id, pack_entry, tree_body  # noqa: E402


def fast_import(repo, write_stream):
    p = subprocess.Popen(["git", "--git-dir=" + repo, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE,
                         env=ENV)
    write_stream(p.stdin)
    p.stdin.write(b"done\n")
    p.stdin.close()
    if p.wait() != 0:
        raise SystemExit("fast-import failed")


def build_upstream(work, behind, since, entries):
    """An upstream repo (bare) and ledgers of 1 and `entries` entries; cached."""
    d = os.path.join(work, f"behind-{behind}")
    done = os.path.join(d, "done")
    if os.path.exists(done):
        return d, open(done).read().split()
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    repo = os.path.join(d, "up.git")
    git("init", "-q", "--bare", repo)
    t0 = time.time()
    app = [(b"100644", b"m%d.py" % i, b"v = %d\n" % i) for i in range(1, 201)]

    def history(w):
        w.write(b"blob\nmark :1\ndata 2\nx\n")
        for i in range(1, behind + 1):
            w.write(b"commit refs/heads/main\nmark :%d\ncommitter b <b@e> %d +0000\ndata 8\nhistory\n"
                    % (i + 1, 1_600_000_000 + i))
            if i == 1:
                for mode, name, body in app:
                    w.write(b"M %s inline app/%s\ndata %d\n%s\n" % (mode, name, len(body), body))
            w.write(b"M 100644 inline hist.txt\ndata %d\n%d\n\n" % (len(b"%d\n" % i), i))
    fast_import(repo, history)
    base = git("--git-dir=" + repo, "rev-parse", "main").strip()
    root = []
    for line in git("--git-dir=" + repo, "ls-tree", "main").splitlines():
        meta, name = line.split(b"\t", 1)
        mode, _, hexid = meta.split(b" ")
        root.append((mode.lstrip(b"0"), name, bytes.fromhex(hexid.decode())))
    # The entries: each adds fix/h<k>.py on the base (as gen_fleet.py, but export directories).
    ids = []
    for ledger in ("ledger-1", f"ledger-{entries}"):
        os.makedirs(os.path.join(d, ledger))
    for k in range(entries):
        content = b"fix = %d\n" % k
        blob = obj_id(b"blob", content)
        fix_tree = tree_body([(b"100644", b"h%d.py" % k, blob)])
        fix_id = obj_id(b"tree", fix_tree)
        root_tree = tree_body(root + [(b"40000", b"fix", fix_id)])
        rid = drift_id(base, obj_id(b"tree", root_tree))
        ids.append(rid)
        msg = b"drift: hotfix on host-%d\n\nDrift-Id: %s\nDrift-Host: host-%d\nDrift-Base: %s\n" % (
            k, rid.encode(), k, base)
        commit = (b"tree %s\nparent %s\nauthor drift <d@h> 1764460800 +0000\ncommitter drift <d@h> 1764460800 +0000"
                  b"\n\n" % (obj_id(b"tree", root_tree).hex().encode(), base)) + msg
        cid = obj_id(b"commit", commit).hex().encode()
        pack = b"PACK" + (2).to_bytes(4, "big") + (4).to_bytes(4, "big") + pack_entry(1, commit) + \
            pack_entry(2, root_tree) + pack_entry(2, fix_tree) + pack_entry(3, content)
        pack += hashlib.sha1(pack).digest()
        bundle = b"# v2 git bundle\n-%s\n%s refs/heads/drift/%s\n\n" % (base, cid, rid.encode()) + pack
        report = b'{"files":[{"path":"fix/h%d.py","first_seen":"2026-11-01T00:00:00Z"}],"withheld":[]}\n' % k
        for ledger in ([f"ledger-{entries}"] + (["ledger-1"] if k == 0 else [])):
            e = os.path.join(d, ledger, f"host-{k}")
            os.makedirs(e)
            open(os.path.join(e, "drift.bundle"), "wb").write(bundle)
            open(os.path.join(e, "report.json"), "wb").write(report)

    # --since commits after the base: the middle one carries entry 0's trailer, the last one
    # adds every even entry's file (content), on top of small edits to app/.
    def after(w):
        for i in range(1, since + 1):
            trailer = b"\n\nDrift-Id: %s" % ids[0].encode() if i == since // 2 else b""
            msg = b"upstream %d%s\n" % (i, trailer)
            w.write(b"commit refs/heads/main\ncommitter b <b@e> %d +0000\ndata %d\n%s" % (
                1_700_000_000 + i, len(msg), msg))
            if i == 1:
                w.write(b"from %s\n" % base)
            w.write(b"M 100644 inline app/m%d.py\ndata %d\nv = %d\n" % (i % 200 + 1, len(b"v = %d\n" % -i), -i))
            if i == since:
                for k in range(0, entries, 2):
                    body = b"fix = %d\n" % k
                    w.write(b"M 100644 inline fix/h%d.py\ndata %d\n%s\n" % (k, len(body), body))
            w.write(b"\n")
    fast_import(repo, after)
    git("--git-dir=" + repo, "repack", "-adq")
    print(f"# built behind-{behind} in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    open(done, "w").write(base.decode())
    return d, [base.decode()]


def with_commit_graph(d):
    """d's repository as hard links, plus the commit-graph `git gc` writes; cached."""
    g = os.path.join(d, "graph.git")
    if not os.path.exists(os.path.join(g, "objects", "info", "commit-graph")):
        subprocess.run(["rm", "-rf", g], check=True)
        subprocess.run(["cp", "-al", os.path.join(d, "up.git"), g], check=True)
        t0 = time.time()
        git("--git-dir=" + g, "commit-graph", "write", "--reachable", "--no-progress")
        print(f"# wrote {g}/objects/info/commit-graph in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    return g


def once(argv):
    """Wall, max RSS (MB, wait4), peak anonymous RSS (MB, /proc polled every ms) and exit code.
    Max RSS counts the pages of the mapped pack index and pack that lookups touch (file-backed,
    shared page cache, growing with the pack for git and libgit2 alike); RssAnon is the heap."""
    t0 = time.monotonic()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    anon = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("RssAnon:"):
                    anon = max(anon, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.001)
    return Run(time.monotonic() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, anon / 1024,
               usage.ru_minflt, os.waitstatus_to_exitcode(status))


class Run:
    """One timed run: wall and CPU (user + system) seconds, max RSS and heap MB, minor faults, exit code."""

    def __init__(self, wall, cpu, rss, anon, faults, rc):
        self.wall, self.cpu, self.rss, self.anon, self.faults, self.rc = wall, cpu, rss, anon, faults, rc


def timed(argv, runs):
    """Medians over `runs` runs, each figure on its own (wall, CPU, max RSS, heap, faults; last exit code)."""
    samples = [once(argv) for _ in range(runs)]

    def med(key):
        vals = sorted(getattr(s, key) for s in samples)
        return vals[len(vals) // 2]
    return Run(med("wall"), med("cpu"), med("rss"), med("anon"), med("faults"), samples[-1].rc)


def big_entry(work, drift, paths, runs):
    """One entry of `paths` changed paths, flat in one directory and spread over 1,000."""
    rows = []
    for layout in ("one directory", "1,000 directories"):
        d = os.path.join(work, f"paths-{paths}-{'flat' if layout == 'one directory' else 'spread'}")
        repo = os.path.join(d, "up.git")
        if not os.path.exists(os.path.join(d, "done")):
            subprocess.run(["rm", "-rf", d], check=True)
            os.makedirs(os.path.join(d, "ledger", "e"))
            git("init", "-q", "--bare", repo)

            def stream(w):
                w.write(b"commit refs/heads/main\ncommitter b <b@e> 1700000000 +0000\ndata 5\nbase\n"
                        b"M 100644 inline README\ndata 2\nr\n\n")
                w.write(b"blob\nmark :1\ndata 2\nx\n")
                w.write(b"commit refs/heads/bulk\ncommitter b <b@e> 1700000001 +0000\ndata 5\nbulk\nfrom refs/heads/main\n")
                for i in range(paths):
                    name = b"bulk/f%d.py" % i if layout == "one directory" else b"bulk/d%d/f%d.py" % (i % 1000, i)
                    w.write(b"M 100644 :1 %s\n" % name)
                w.write(b"\n")
            fast_import(repo, stream)
            base = git("--git-dir=" + repo, "rev-parse", "main").strip()
            tree = git("--git-dir=" + repo, "rev-parse", "bulk^{tree}").strip()
            rid = drift_id(base, bytes.fromhex(tree.decode()))
            msg = b"bulk\n\nDrift-Host: bulk\nDrift-Id: %s\nDrift-Base: %s\n" % (rid.encode(), base)
            c = git("--git-dir=" + repo, "commit-tree", tree.decode(), "-p", base.decode(), inp=msg).strip()
            git("--git-dir=" + repo, "update-ref", "refs/heads/drift/" + rid, c.decode())
            git("--git-dir=" + repo, "bundle", "create", "-q", os.path.join(d, "ledger", "e", "drift.bundle"),
                "refs/heads/drift/" + rid, "^" + base.decode())
            git("--git-dir=" + repo, "update-ref", "-d", "refs/heads/drift/" + rid)
            git("--git-dir=" + repo, "update-ref", "-d", "refs/heads/bulk")
            git("--git-dir=" + repo, "reflog", "expire", "--expire=now", "--all")
            git("--git-dir=" + repo, "gc", "-q", "--prune=now")
            open(os.path.join(d, "done"), "w").write("")
        r = timed([drift, "gate", "--repo", repo, "--commit", "main", "--ledger", os.path.join(d, "ledger")], runs)
        rows.append((layout, r.wall, r.rss, r.anon, r.rc))
    return rows


def realistic_entry(work, drift, paths, runs):
    """One entry as a real bulk export is (round 13): `paths` distinct blobs under paths/2 directories,
    names with non-UTF-8, ESC and newline bytes, and the drift.patch `git format-patch` writes. Timed
    for each outcome: not upstream (main), reconciled by content (a commit of the same tree, no
    trailer) and by trailer (the export commit itself upstream)."""
    d = os.path.join(work, f"paths-{paths}-realistic")
    repo = os.path.join(d, "up.git")
    if not os.path.exists(os.path.join(d, "done")):
        subprocess.run(["rm", "-rf", d], check=True)
        os.makedirs(os.path.join(d, "ledger", "e"))
        git("init", "-q", "--bare", repo)
        dirs = max(paths // 2, 1)

        def name(i):
            return b"pkg/\xc3\xa9t\xe9\x1b%05d/m\n%d.py" % (i % dirs, i)

        def quoted(n):
            return b'"' + n.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n") + b'"'

        def stream(w):
            w.write(b"commit refs/heads/main\ncommitter b <b@e> 1700000000 +0000\ndata 5\nbase\n"
                    b"M 100644 inline README\ndata 2\nr\n\n")
            w.write(b"commit refs/heads/bulk\ncommitter b <b@e> 1700000001 +0000\ndata 5\nbulk\nfrom refs/heads/main\n")
            for i in range(paths):
                body = b"x = %d  # hotfix\n" % i
                w.write(b"M 100644 inline %s\ndata %d\n%s\n" % (quoted(name(i)), len(body), body))
            w.write(b"\n")
        fast_import(repo, stream)
        base = git("--git-dir=" + repo, "rev-parse", "main").strip()
        tree = git("--git-dir=" + repo, "rev-parse", "bulk^{tree}").strip()
        rid = drift_id(base, bytes.fromhex(tree.decode()))
        msg = b"bulk\n\nDrift-Host: bulk\nDrift-Id: %s\nDrift-Base: %s\n" % (rid.encode(), base)
        c = git("--git-dir=" + repo, "commit-tree", tree.decode(), "-p", base.decode(), inp=msg).strip()
        git("--git-dir=" + repo, "update-ref", "refs/heads/drift/" + rid, c.decode())
        git("--git-dir=" + repo, "bundle", "create", "-q", os.path.join(d, "ledger", "e", "drift.bundle"),
            "refs/heads/drift/" + rid, "^" + base.decode())
        patch = subprocess.run(["git", "--git-dir=" + repo, "format-patch", "--stdout", "-1", c.decode()], env=ENV,
                               check=True, capture_output=True).stdout
        open(os.path.join(d, "ledger", "e", "drift.patch"), "wb").write(patch)
        same = git("--git-dir=" + repo, "commit-tree", tree.decode(), "-p", base.decode(), inp=b"same fix by hand\n")
        git("--git-dir=" + repo, "update-ref", "refs/heads/content", same.strip().decode())
        git("--git-dir=" + repo, "update-ref", "refs/heads/trailer", c.decode())
        git("--git-dir=" + repo, "update-ref", "-d", "refs/heads/drift/" + rid)
        git("--git-dir=" + repo, "update-ref", "-d", "refs/heads/bulk")
        open(os.path.join(d, "done"), "w").write("")
    rows = []
    for outcome, rev in (("not upstream", "main"), ("reconciled by content", "content"),
                         ("reconciled by trailer", "trailer")):
        r = timed([drift, "gate", "--repo", repo, "--commit", rev, "--ledger", os.path.join(d, "ledger")], runs)
        rows.append((outcome, r))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drift", required=True)
    ap.add_argument("--work", default="/tmp/drift-bench-history")
    ap.add_argument("--behind", default="1000,100000,1000000")
    ap.add_argument("--entries", default="1,200")
    ap.add_argument("--since", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--paths", type=int, default=100000)
    ap.add_argument("--commit-graph", action="store_true")
    a = ap.parse_args()
    drift = os.path.abspath(a.drift)
    counts = [int(x) for x in a.entries.split(",")]
    most = max(counts)
    print(f"load {os.getloadavg()[0]:.1f}; median of {a.runs} runs; {a.since} commits since the base", flush=True)
    print("| commits behind the base | entries | drift gate wall / CPU | max RSS | heap (RssAnon) | minor faults "
          "| exit | git rev-list main ^BASE wall / CPU | its max RSS | its minor faults |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    table = {}
    variants = [""] + ([" (commit-graph)"] if a.commit_graph else [])
    for n in [int(x) for x in a.behind.split(",")]:
        d, (base,) = build_upstream(a.work, n, a.since, most)
        for variant in variants:
            repo = with_commit_graph(d) if variant else os.path.join(d, "up.git")
            git = shutil.which("git")
            rl = timed([git, "--git-dir=" + repo, "rev-list", "--count", "main", "^" + base], a.runs)
            for k in counts:
                ledger = os.path.join(d, f"ledger-{k}")
                r = timed([drift, "gate", "--repo", repo, "--commit", "main", "--ledger", ledger], a.runs)
                table[(n, f"{k}{variant}")] = (r, rl)
                print(f"| {n:,} | {k}{variant} | {r.wall:.3f} s / {r.cpu:.3f} s | {r.rss:.0f} MB | {r.anon:.1f} MB "
                      f"| {r.faults:,} | {r.rc} | {rl.wall:.3f} s / {rl.cpu:.3f} s | {rl.rss:.0f} MB | {rl.faults:,} |",
                      flush=True)
    sizes = sorted({n for n, _ in table})
    for label in [f"{k}{v}" for v in variants for k in counts]:
        k = int(label.split()[0])
        runs = [table[(n, label)][0] for n in sizes]
        gits = [table[(n, label)][1] for n in sizes]

        def ratio(key):
            vals = [getattr(r, key) for r in runs]
            return max(vals) / min(vals)
        # What the gate adds to git's own walk: its growth with history beyond what `git rev-list` pays
        # for the same lookups in the same pack index (page faults of the mapped .idx, shared page cache).
        beyond_cpu = [r.cpu - g.cpu for r, g in zip(runs, gits)]
        beyond_rss = [r.rss - g.rss for r, g in zip(runs, gits)]
        target = 0.1 + 0.002 * k
        print(f"{label} entries across {sizes[0]:,}..{sizes[-1]:,} behind (target <= 1.20x): "
              f"wall {ratio('wall'):.2f}x, "
              f"CPU {ratio('cpu'):.2f}x, heap {ratio('anon'):.2f}x, max RSS {ratio('rss'):.2f}x; beyond git rev-list: "
              f"CPU {max(beyond_cpu) / max(min(beyond_cpu), 1e-3):.2f}x "
              f"({', '.join(f'{x * 1000:.0f}' for x in beyond_cpu)} ms), max RSS "
              f"{max(beyond_rss) / max(min(beyond_rss), 1e-3):.2f}x ({', '.join(f'{x:.0f}' for x in beyond_rss)} MB); "
              f"worst wall {max(r.wall for r in runs):.3f} s (target <= {target:.2f} s)", flush=True)
    if a.paths:
        for layout, wall, rss, anon, rc in big_entry(a.work, drift, a.paths, a.runs):
            print(f"one entry of {a.paths:,} changed paths in {layout}: {wall:.3f} s, {rss:.0f} MB max RSS, "
                  f"{anon:.0f} MB heap, exit {rc} (target <= 2 s)", flush=True)
        for outcome, r in realistic_entry(a.work, drift, a.paths, a.runs):
            print(f"one realistic entry of {a.paths:,} distinct blobs, hostile names, format-patch drift.patch, "
                  f"{outcome}: {r.wall:.3f} s wall, {r.cpu:.3f} s CPU, {r.rss:.0f} MB max RSS, {r.anon:.0f} MB heap, "
                  f"exit {r.rc} (target <= 2 s CPU)", flush=True)


if __name__ == "__main__":
    main()
