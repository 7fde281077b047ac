#!/bin/bash
# Incident 11 (export findings F5, F6, F10): CPU seconds (user+sys) and peak RSS of a follow-up
# `drift export` and of `drift export --from-journal`, old binary A against new binary B,
# interleaved. Fixture: 300 code files, 9 edited, a venv with one upgraded pin (the freeze is
# read and, new in B, compared with the snapshot's pip record), two exports per state dir.
#   bench/incident11_export.sh DRIFT-A DRIFT-B [RUNS=5] [WORK=/tmp/drift-incident11-export]
# Needs python3 -m venv and the wheels in /tmp/drift-test-wheels (six 1.16.0, toml 0.10.1/0.10.2).
set -e
A=$1; B=$2; RUNS=${3:-5}; WORK=${4:-/tmp/drift-incident11-export}
WH=/tmp/drift-test-wheels
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
git init -q -b main up
for i in $(seq 1 300); do
    d=up/pkg/m$((i % 20)); mkdir -p $d
    python3 -c "import sys; print('\n'.join(f'def f{j}(x):\n    return x + {j}\n' for j in range(40)))" > $d/f$i.py
done
printf 'six==1.16.0\ntoml==0.10.1\n' > up/requirements.instance.txt
git -C up add -A; git -C up -c user.name=b -c user.email=b@x commit -qm base
mkdir ws; git -C up archive HEAD | tar -x -C ws
python3 -m venv venv
venv/bin/python -m pip -q --disable-pip-version-check install --no-index --find-links $WH \
    -r ws/requirements.instance.txt
SP=$(venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$B" manifest create --root "$WORK/ws" --repo "$WORK/up" --output "$WORK/mdir" --site-packages "$SP" \
    --requirements "$WORK/ws/requirements.instance.txt" >/dev/null
for i in $(seq 1 9); do echo "# hotfix $i" >> ws/pkg/m$i/f$i.py; done
venv/bin/python -m pip -q --disable-pip-version-check install --no-index --find-links $WH -U toml==0.10.2
for X in A B; do
    D=${!X}; mkdir -m 700 st$X
    "$D" export --manifest mdir --state st$X --output o1$X >/dev/null
done
echo "# hotfix 10" >> ws/pkg/m10/f10.py
measure() { # label binary args...
    local label=$1; shift
    /usr/bin/time -f "$label %U %S %M" "$@" >/dev/null 2>>"$WORK/times" || true
}
: > times
for r in $(seq 1 "$RUNS"); do
    for X in A B; do
        D=${!X}
        measure "followup-$X" "$D" export --manifest mdir --state st$X --output o2$X --force
        measure "journal-$X" "$D" export --manifest mdir --state st$X --output o3$X --force --from-journal
    done
done
grep -E '^(followup|journal)-' times | awk '{k=$1; c=$2+$3; s[k]+=c; n[k]++; if ($4>m[k]) m[k]=$4}
    END {for (k in s) printf "%-12s cpu_s_mean %.3f maxrss_kb %d runs %d\n", k, s[k]/n[k], m[k], n[k]}' | sort
