#!/bin/bash
# One watched code edit, the watcher's CPU and peak RSS (issue 28): with a tree that
# bench/million.py made (WORK/nN: ws, mdir), scans once into WORK/nN/state-batch (if it has
# no state yet), starts `drift watch`, waits for "watching", records the watcher with
# `perf record -g` while one line is appended to worker/main.py, and prints the edit's wall
# seconds, the watcher's CPU ticks (1/100 s) until the journal's branch moved, and VmHWM.
#   bench/watch_batch.sh DRIFT PERF-OUT [N=200000] [WORK=/tmp/drift-bench-million]
set -e
D=$1; OUT=$2; N=${3:-200000}; WORK=${4:-/tmp/drift-bench-million}
B=$WORK/n$N; ST=$B/state-batch
if [ ! -f "$ST/state.json" ]; then
    rm -rf "$ST"
    "$D" scan --manifest "$B/mdir" --state "$ST" --format text >/dev/null || true
fi
"$D" watch --manifest "$B/mdir" --state "$ST" >/dev/null 2>&1 &
W=$!
until python3 -c "import json,sys; sys.exit(json.load(open('$ST/watch.json')).get('phase')!='watching')" \
    2>/dev/null; do sleep 0.2; done
H=$(git --git-dir="$ST/journal.git" rev-parse -q --verify refs/heads/journal || true)
perf record -g -F 499 -p $W -o "$OUT" 2>/dev/null &
P=$!
sleep 1
C0=$(awk '{print $14+$15}' /proc/$W/stat)
echo "# hotfix $(date +%s%N)" >> "$B/ws/worker/main.py"
T0=$(date +%s.%N)
while [ "$(git --git-dir="$ST/journal.git" rev-parse -q --verify refs/heads/journal || true)" = "$H" ]; do
    sleep 0.05
done
T1=$(date +%s.%N)
C1=$(awk '{print $14+$15}' /proc/$W/stat)
kill -INT $P; wait $P || true
echo "wall $(echo "$T1 - $T0" | bc) cpu_ticks $((C1 - C0)) $(grep VmHWM /proc/$W/status)"
kill $W; wait $W || true
