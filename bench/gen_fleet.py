#!/usr/bin/env python3
"""drift benchmark fixture: a fleet of N hosts, each with its own hotfix, pushed as ledger refs.

Usage: bench/gen_fleet.py --hosts N[,N...] --work DIR [--gate BIN]... [--runs K]
With --gate, times `BIN gate --repo DIR/served.git --ledger-refs` on each fleet under
/usr/bin/time -v (wall, CPU, max RSS, the 1-minute load average when it started) and prints
one line per binary and size (median of K runs by CPU), then the largest size's CPU and wall
against the next size down. Give --gate twice to time an anchor (an older build) side by side.
Writes DIR/served.git: an upstream with history (base = 3 commits, then a fourth that
reconciles by content every even-numbered host's hotfix), and N refs
refs/drift/host-K/<id>, each a parentless ledger commit (tree: drift.bundle, drift.patch,
report.json; message ends in `Drift-Ledger: 1`) exactly as `drift push` sends them.
Host K's hotfix adds fix/hK.py; its bundle is a real v2 git bundle (prerequisite = base,
one ref refs/heads/drift/<id>, a pack of 4 objects: blob, fix tree, root tree, commit with a
Drift-Id trailer) built here byte by byte, and the ledger commits are written by one
`git fast-import` — no drift run per host, so 10,000 hosts take seconds.
Prints REV and the number of refs. Half the entries (even K) are reconciled.
"""
import argparse, hashlib, os, shutil, subprocess, zlib

ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.com",
           GIT_AUTHOR_DATE="1764460800 +0000", GIT_COMMITTER_DATE="1764460800 +0000")


def git(*args, inp=None, cwd=None):
    return subprocess.run(["git", *args], input=inp, cwd=cwd, env=ENV, check=True,
                          capture_output=True).stdout


def obj_id(kind, body):
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).digest()


def pack_entry(type_no, body):
    n = len(body)
    first = (type_no << 4) | (n & 0x0F)
    n >>= 4
    out = bytearray()
    while n:
        out.append(first | 0x80)
        first = n & 0x7F
        n >>= 7
    out.append(first)
    return bytes(out) + zlib.compress(body, 1)


def drift_id(base, tree_id, inputs=()):
    """DriftID.compute: the gate recomputes every entry's id from its base, tree and inputs."""
    text = b"drift-id/1\nbase %s\ntree %s\n" % (base, tree_id.hex().encode())
    text += b"".join(line + b"\n" for line in inputs)
    return hashlib.sha256(text).hexdigest()[:20]


def tree_body(entries):
    # git sorts tree entries by name, a directory as if its name ended in '/'.
    key = lambda e: e[1] + (b"/" if e[0] == b"40000" else b"")
    return b"".join(m + b" " + n + b"\0" + i for m, n, i in sorted(entries, key=key))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--gate", action="append", default=[],
                    help="drift binary to time (repeat for an anchor, e.g. the previous build)")
    ap.add_argument("--runs", type=int, default=1, help="runs per binary and size; the median is printed")
    a = ap.parse_args()
    sizes = [int(x) for x in a.hosts.split(",")]
    results = {}
    for n in sizes:
        w = os.path.join(os.path.abspath(a.work), f"fleet-{n}")
        rev = generate(n, w)
        if not a.gate:
            print(rev, n)
        for b in a.gate:
            results[(b, n)] = gate(os.path.abspath(b), os.path.join(w, "served.git"), n, a.runs)
    # Linearity: the largest size against the next one down (the issue: 10,000 <= 12x 1,000).
    if len(sizes) >= 2:
        big, small = sorted(sizes)[-1], sorted(sizes)[-2]
        for b in a.gate:
            (cb, wb, _), (cs, ws, _) = results[(b, big)], results[(b, small)]
            print(f"{b}: {big} / {small} entries: cpu {cb / cs:.1f}x, wall {wb / ws:.1f}x "
                  f"(target <= {1.2 * big / small:.0f}x)", flush=True)


def gate(drift, served, n, runs=1):
    samples = []
    for _ in range(runs):
        load = os.getloadavg()[0]
        out = subprocess.run(["/usr/bin/time", "-v", drift, "gate", "--repo", served, "--ledger-refs"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        f = {}
        for line in out.stderr.splitlines():
            k, _, v = line.strip().rpartition(": ")
            f[k] = v
        wall = f["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
        secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
        user, sys_ = float(f["User time (seconds)"]), float(f["System time (seconds)"])
        rss = int(f["Maximum resident set size (kbytes)"]) / 1024
        samples.append((user + sys_, secs, rss, user, sys_, load, out.returncode))
    samples.sort()
    cpu, secs, rss, user, sys_, load, rc = samples[len(samples) // 2]
    print(f"{drift}: gate --ledger-refs, {n:>6} entries: rc {rc}, {secs:7.2f}s wall {cpu:7.2f}s cpu "
          f"({user:.2f} user + {sys_:.2f} sys) {max(s[2] for s in samples):7.1f} MB max RSS, "
          f"{cpu / n * 1000:6.3f} ms cpu/entry, load {load:.1f} (median of {runs})", flush=True)
    return cpu, secs, rss


def generate(hosts, w):
    a = argparse.Namespace(hosts=hosts)
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    up = os.path.join(w, "up")
    git("init", "-q", "-b", "main", up)
    os.makedirs(os.path.join(up, "app"))
    for i in range(1, 201):
        with open(os.path.join(up, "app", f"m{i}.py"), "w") as f:
            f.write(f"v = {i}\n")
    git("add", "-A", cwd=up)
    git("commit", "-qm", "one", cwd=up)
    with open(os.path.join(up, "README"), "w") as f:
        f.write("fleet\n")
    git("add", "-A", cwd=up)
    git("commit", "-qm", "two", cwd=up)
    with open(os.path.join(up, "app", "m1.py"), "a") as f:
        f.write("x\n")
    git("commit", "-qam", "three", cwd=up)
    base = git("rev-parse", "HEAD", cwd=up).strip()
    root = []
    for line in git("ls-tree", "HEAD", cwd=up).splitlines():
        meta, name = line.split(b"\t", 1)
        mode, _, hexid = meta.split(b" ")
        root.append((mode.lstrip(b"0"), name, bytes.fromhex(hexid.decode())))
    # Upstream moves on: the fourth commit carries every even host's fix (content reconciliation).
    os.makedirs(os.path.join(up, "fix"))
    for k in range(0, a.hosts, 2):
        with open(os.path.join(up, "fix", f"h{k}.py"), "w") as f:
            f.write(f"fix = {k}\n")
    git("add", "-A", cwd=up)
    git("commit", "-qm", "four: fleet fixes", cwd=up)
    served = os.path.join(w, "served.git")
    git("clone", "-q", "--bare", up, served)
    rev = git("rev-parse", "HEAD", cwd=up).strip().decode()

    stream = bytearray()
    mark = 0
    for k in range(a.hosts):
        content = b"fix = %d\n" % k
        blob = obj_id(b"blob", content)
        fix_tree = tree_body([(b"100644", b"h%d.py" % k, blob)])
        fix_id = obj_id(b"tree", fix_tree)
        root_tree = tree_body(root + [(b"40000", b"fix", fix_id)])
        root_id = obj_id(b"tree", root_tree)
        rid = drift_id(base, root_id)
        msg = (b"drift: hotfix on host-%d\n\nDrift-Id: %s\nDrift-Host: host-%d\nDrift-Base: %s\n"
               % (k, rid.encode(), k, base))
        commit = (b"tree %s\nparent %s\nauthor drift <drift@host-%d> 1764460800 +0000\n"
                  b"committer drift <drift@host-%d> 1764460800 +0000\n\n" % (root_id.hex().encode(), base, k, k)) + msg
        cid = obj_id(b"commit", commit).hex().encode()
        pack = b"PACK" + (2).to_bytes(4, "big") + (4).to_bytes(4, "big") + pack_entry(1, commit) + \
            pack_entry(2, root_tree) + pack_entry(2, fix_tree) + pack_entry(3, content)
        pack += hashlib.sha1(pack).digest()
        bundle = b"# v2 git bundle\n-%s\n%s refs/heads/drift/%s\n\n" % (base, cid, rid.encode()) + pack
        patch = (b"From %s Mon Sep 17 00:00:00 2001\nSubject: [PATCH] drift: hotfix on host-%d\n\n---\n"
                 b"diff --git a/fix/h%d.py b/fix/h%d.py\nnew file mode 100644\n--- /dev/null\n+++ b/fix/h%d.py\n"
                 b"@@ -0,0 +1 @@\n+fix = %d\n-- \n2.39.5\n" % (cid, k, k, k, k, k))
        report = b'{"schema":"drift.report/1","files":[{"path":"fix/h%d.py","first_seen":"2026-11-01T00:00:00Z"}]}\n' % k
        marks = []
        for body in (bundle, patch, report):
            mark += 1
            marks.append(mark)
            stream += b"blob\nmark :%d\ndata %d\n" % (mark, len(body)) + body + b"\n"
        lmsg = b"drift ledger: export %s from host-%d\n\nbase %s\n\nDrift-Ledger: 1\n" % (rid.encode(), k, base)
        stream += (b"commit refs/drift/host-%d/%s\ncommitter drift <drift@host-%d> 1764460800 +0000\n"
                   b"data %d\n" % (k, rid.encode(), k, len(lmsg)) + lmsg)
        for name, m in zip((b"drift.bundle", b"drift.patch", b"report.json"), marks):
            stream += b"M 100644 :%d %s\n" % (m, name)
        stream += b"\n"
    git("--git-dir=" + served, "fast-import", "--quiet", inp=bytes(stream))
    git("--git-dir=" + served, "pack-refs", "--all")
    return rev


if __name__ == "__main__":
    main()
