#!/bin/bash
# The outgoing-secret check of `drift export` (incident 11, F2): a 133-file workspace with 12
# baked PEM keys under tests/certs, a `.env` of 40 tokens added, 9 drifted code files (~100 KB),
# `drift export --from-journal` timed (CPU seconds and peak RSS) for each binary given, interleaved.
# usage: bench/export_secrets.sh WORKDIR ROUNDS DRIFT_BINARY...
set -euo pipefail
work=$1; rounds=$2; shift 2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
git init -q up && cd up
mkdir -p pkg tests/certs
for i in $(seq 1 120); do
  python3 -c "import random,sys; random.seed($i); print('\n'.join('def f%d_%d(x):\n    return x * %d + %d' % ($i, j, random.randint(1, 999), j) for j in range(60)))" > pkg/mod$i.py
done
for i in $(seq 1 12); do openssl genrsa -out tests/certs/key$i.pem 2048 2>/dev/null; done
echo "x = 1" > setup.py
git add -A && git -c user.name=b -c user.email=b@x commit -qm base && cd ..
git clone -q up ws
drift=$1
"$drift" manifest create --root "$work/ws" --repo "$work/up" --output "$work/m" >/dev/null
python3 - "$work/ws" <<'PY'
import random, sys, string
random.seed(7)
ws = sys.argv[1]
with open(ws + "/.env", "w") as f:
    for i in range(40):
        f.write("TOKEN_%d=%s\n" % (i, "".join(random.choice(string.ascii_letters + string.digits) for _ in range(32))))
for i in range(1, 10):
    with open(ws + "/pkg/mod%d.py" % i, "a") as f:
        for j in range(300):
            f.write("# hotfix %d line %d %s\n" % (i, j, "".join(random.choice(string.ascii_lowercase) for _ in range(30))))
PY
export TOKEN_ENV_A=envtok-aaaaaaaaaaaaaaaaaaaaaaaa TOKEN_ENV_B=envtok-bbbbbbbbbbbbbbbbbbbbbbbb
"$drift" scan --manifest "$work/m" --state "$work/s" >/dev/null || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  for b in "$@"; do
    /usr/bin/time -f "$b %M KB %U user %S sys" "$b" export --from-journal --force --output "$work/out" \
      --manifest "$work/m" --state "$work/s" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
    tail -1 "$work/err"
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
