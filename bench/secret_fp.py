#!/usr/bin/env python3
"""False positives of drift's secret detection, end to end (docs/secrets.md).

Usage: bench/secret_fp.py [--work DIR] [--venv DIR] [--rules] TREE...
Each TREE (default: the Python standard library's Lib/ and a fresh venv's site-packages with
the packages listed below) is copied into a workspace baked empty, as code (only pycs are
ignored), and `drift scan --format json` runs with no secret source at all (no secret file,
no secret-named variable, no PID 1 environment or supervisord config): every file it flags
`secret-content` is a hit of the known-format rules. Prints files scanned, hits, and each hit
as `path`. With --rules, each hit also names the rule that fired and, in a site-packages, the
distribution that installed the file (the rule comes from the in-process sweep,
Tests/DriftCoreTests/SecretFormatsSweep.swift, run with `swift test --skip-build`).
"""
import argparse, json, os, shutil, subprocess, sys, sysconfig, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PACKAGES = ("pandas scipy django boto3 requests flask sqlalchemy jinja2 cryptography paramiko pyjwt google-auth "
            "google-cloud-storage azure-storage-blob slack_sdk PyGithub python-gitlab openai anthropic stripe "
            "huggingface_hub transformers tokenizers scikit-learn matplotlib sympy networkx pytest black mypy celery "
            "redis kombu twisted tornado aiohttp httpx fastapi pydantic uvicorn gunicorn psycopg2-binary pymongo "
            "oauthlib requests-oauthlib authlib itsdangerous werkzeug ansible-core jupyter jupyterlab sphinx "
            "mkdocs-material pillow lxml grpcio protobuf google-cloud-bigquery pyyaml rich typer tqdm nltk keras "
            "pyarrow polars seaborn plotly dash bokeh statsmodels xgboost lightgbm opencv-python-headless sqlparse "
            "alembic marshmallow pendulum arrow pytz babel docutils pygments selenium scrapy beautifulsoup4 html5lib "
            "fabric invoke pynacl bcrypt passlib python-jose msal azure-identity azure-keyvault-secrets "
            "google-api-python-client firebase-admin hvac kubernetes docker").split()
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
       "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "b@example.com", "NO_COLOR": "1",
       "DRIFT_TEST_PID1_ENVIRON": "/nonexistent", "DRIFT_SUPERVISOR_CONF": "/nonexistent"}
POLICY = """schema: drift.policy/1
ignore: ["__pycache__/", "*.pyc"]
secrets: [".env"]
secret_names: []
size_limit: 16MiB
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, env=ENV, **kw)


def drift_binary():
    import glob
    for kind in ("release", "debug"):
        for d in [os.path.join(REPO, ".build", kind, "drift")] + glob.glob(os.path.join(REPO, ".build", "*", kind,
                                                                                        "drift")):
            if os.path.exists(d):
                return d
    sh(f"cd '{REPO}' && swift build -c release --product drift >/dev/null")
    return os.path.join(REPO, ".build", "release", "drift")


def measure(drift, tree, work):
    name = os.path.basename(tree.rstrip("/")) or "root"
    base = os.path.join(work, name)
    shutil.rmtree(base, ignore_errors=True)
    up, ws, state = base + "/upstream", base + "/ws", base + "/state"
    os.makedirs(up)
    with open(up + "/README", "w") as f:
        f.write("bench\n")
    sh(f"git -C '{up}' init -q -b main && git -C '{up}' add -A && git -C '{up}' commit -qm base")
    shutil.copytree(up, ws, ignore=shutil.ignore_patterns(".git"))
    with open(base + "/policy.yaml", "w") as f:
        f.write(POLICY)
    sh(f"'{drift}' manifest create --root '{ws}' --repo '{up}' --policy '{base}/policy.yaml' --output '{base}/mdir'")
    shutil.copytree(tree, ws + "/tree", symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    files = int(subprocess.run(f"find '{ws}/tree' -type f | wc -l", shell=True, capture_output=True,
                               text=True).stdout)
    r = subprocess.run([drift, "scan", "--manifest", base + "/mdir", "--state", state, "--format", "json"],
                       env=ENV, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"drift scan failed ({r.returncode}): {r.stderr}")
    report = json.loads(r.stdout)
    hits = sorted(f["path"] for f in report["files"] if "secret-content" in (f.get("flags") or []))
    shutil.rmtree(base, ignore_errors=True)
    return files, hits


def rules(tree, work):
    """path (relative to tree) -> rule, from the in-process sweep of the same tree."""
    out = os.path.join(work, "sweep.txt")
    env = dict(os.environ, DRIFT_FP_ROOT=tree, DRIFT_FP_OUT=out)
    subprocess.run(["swift", "test", "--skip-build", "--filter", "SecretFormatsSweep"], cwd=REPO, env=env,
                   capture_output=True, check=True)
    found = {}
    with open(out, encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                found[parts[1]] = parts[0]
    return found


def owners(tree):
    """path (relative to tree) -> distribution name, from every *.dist-info/RECORD."""
    found = {}
    for d in os.listdir(tree) if os.path.isdir(tree) else []:
        record = os.path.join(tree, d, "RECORD")
        if d.endswith(".dist-info") and os.path.exists(record):
            name = d[:-len(".dist-info")].rsplit("-", 1)[0]
            with open(record, encoding="utf-8", errors="replace") as f:
                for line in f:
                    found[line.split(",", 1)[0]] = name
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/drift-bench-secrets")
    ap.add_argument("--venv", default="/tmp/drift-bench-secrets-venv")
    ap.add_argument("--rules", action="store_true", help="name the rule and distribution of each hit")
    ap.add_argument("trees", nargs="*")
    a = ap.parse_args()
    trees = a.trees
    if not trees:
        if not os.path.exists(a.venv + "/bin/pip"):
            sh(f"python3 -m venv '{a.venv}'")
            sh(f"'{a.venv}/bin/pip' install -q {' '.join(PACKAGES)}")
        probe = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        site = subprocess.run([a.venv + "/bin/python", "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip()
        trees = [sysconfig.get_paths()["stdlib"], site]
    drift = drift_binary()
    os.makedirs(a.work, exist_ok=True)
    for t in trees:
        dists = len([d for d in os.listdir(t) if d.endswith(".dist-info")]) if os.path.isdir(t) else 0
        files, hits = measure(drift, t, a.work)
        print(f"{t}: {files} files{f', {dists} distributions' if dists else ''}, {len(hits)} withheld")
        by_rule, by_dist = (rules(t, a.work), owners(t)) if a.rules else ({}, {})
        for h in hits:
            rel = h[len("tree/"):]
            extra = f"\t{by_rule.get(rel, '?')}\t{by_dist.get(rel, '')}" if a.rules else ""
            print(f"  {h}{extra}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
