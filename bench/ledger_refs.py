#!/usr/bin/env python3
"""drift benchmark: `gate --ledger-refs` over N pushed ledger refs, and the bytes one push sends.

Usage: bench/ledger_refs.py [--refs 1000,10000] [--work DIR] [--drift BIN]
Builds an upstream with history, bakes, exports one hotfix and pushes it to a bare repo,
then fans the ledger commit out under N host names (refs/drift/host-K/<id>) and times the
gate reading all of them. Prints wall and CPU seconds and per-ref cost.
"""
import argparse, os, shutil, subprocess, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.com", NO_COLOR="1", DRIFT_HOST="bench")

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, env=ENV, text=True, capture_output=True, **kw).stdout

def measure(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "sh", "-c", cmd + " >/dev/null"],
                         env=ENV, stderr=subprocess.PIPE, text=True)
    wall, user, sys_, rss = out.stderr.strip().splitlines()[-1].split()
    return out.returncode, float(wall), float(user) + float(sys_), int(rss) / 1024

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refs", default="1000")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "drift-bench-refs"))
    ap.add_argument("--drift", default=None)
    a = ap.parse_args()
    drift = os.path.abspath(a.drift) if a.drift else None
    if drift is None:
        sh(f"cd '{REPO}' && swift build -c release")
        drift = os.path.join(REPO, ".build/release/drift")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    w = a.work
    sh(f"""set -e; cd '{w}'
        git init -q -b main up && cd up && mkdir -p app
        for i in $(seq 1 200); do printf 'v = %s\\n' $i > app/m$i.py; done
        git add -A && git commit -qm one
        head -c 1048576 /dev/urandom > blob.bin && git add -A && git commit -qm two
        git rm -q blob.bin && printf 'x\\n' >> app/m1.py && git commit -qam three
        cd .. && mkdir ws && git -C up archive HEAD | tar -x -C ws
        '{drift}' manifest create --root ws --repo up --output md
        git clone -q --bare up served.git
        printf 'fix = 1\\n' >> ws/app/m2.py
        '{drift}' export --manifest md --state st --output out --push '{w}/served.git'
        """)
    ref = sh(f"git --git-dir='{w}/served.git' for-each-ref --format='%(refname) %(objectname)' refs/drift/").split()
    name, oid = ref[0], ref[1]
    rid = name.rsplit("/", 1)[1]
    size = sum(os.path.getsize(os.path.join(w, "out", f)) for f in ("drift.patch", "drift.bundle", "report.json"))
    print(f"one push: export files {size} bytes; upstream history carries a 1 MiB blob")
    have = 1
    for n in sorted(int(x) for x in a.refs.split(",")):
        lines = "".join(f"create refs/drift/host-{k}/{rid} {oid}\n" for k in range(have, n))
        subprocess.run(["git", f"--git-dir={w}/served.git", "update-ref", "--stdin"], input=lines, text=True, check=True)
        sh(f"git --git-dir='{w}/served.git' pack-refs --all")
        have = n
        rc, wall, cpu, rss = measure(f"'{drift}' gate --repo '{w}/served.git' --ledger-refs")
        print(f"gate --ledger-refs, {n:>6} refs: rc {rc}, {wall:7.2f}s wall {cpu:7.2f}s cpu {rss:7.1f} MB, "
              f"{wall / n * 1000:6.2f} ms/ref")

if __name__ == "__main__":
    main()
