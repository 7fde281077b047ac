#!/usr/bin/env bash
# The built-in demo: a sample upstream repo and workspace in a temp dir, a manifest baked,
# an emergency hotfix applied, then `drift scan`, `drift diff` and `drift export`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release >/dev/null
DRIFT="$PWD/.build/release/drift"
demo=$(mktemp -d /tmp/drift-demo-XXXXXX)
trap 'rm -rf "$demo"' EXIT
export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "upstream repository (what CI builds the image from)"
mkdir -p "$demo/upstream/worker" "$demo/upstream/packages/models"
cd "$demo/upstream"
printf 'def transcode(job):\n    return job.run(timeout=30)\n' > worker/tasks.py
printf 'MINIO_ENDPOINT=minio:9000\nMINIO_SECRET=demo-not-a-real-secret\n' > .env
printf '#!/bin/sh\necho starting worker\n' > start_remote.sh && chmod +x start_remote.sh
printf 'six==1.16.0\n' > requirements.instance.txt
printf 'weights' > packages/models/whisper.bin
git init -q -b main . && git add -A && git commit -qm "worker v1"
git log --oneline

say "image build: workspace copied, manifest baked"
mkdir -p "$demo/workspace" && git archive HEAD | tar -x -C "$demo/workspace"
"$DRIFT" manifest create --root "$demo/workspace" --repo "$demo/upstream" --output "$demo/etc-drift"

say "in the container: a clean scan"
"$DRIFT" scan --manifest "$demo/etc-drift" --state "$demo/state" || true

say "emergency hotfix on the instance"
cd "$demo/workspace"
printf 'def transcode(job):\n    return job.run(timeout=120)  # hotfix: long videos\n' > worker/tasks.py
printf 'MAX_RETRIES = 5\n' > worker/limits.py
printf 'MINIO_ENDPOINT=minio-2:9000\nMINIO_SECRET=demo-not-a-real-secret\n' > .env
mkdir -p logs && echo noise > logs/worker.log

say "drift scan (cron runs this)"
"$DRIFT" scan --manifest "$demo/etc-drift" --state "$demo/state" || echo "(exit $? = drift found)"

say "drift diff (what a hotfix author reviews)"
"$DRIFT" diff --manifest "$demo/etc-drift" --state "$demo/state" || true

say "drift export, then git am in a fresh clone of upstream"
"$DRIFT" export --manifest "$demo/etc-drift" --state "$demo/state" --output "$demo/out" --author "On-call <oncall@example.com>"
ls -l "$demo/out"
git clone -q "$demo/upstream" "$demo/fix" && cd "$demo/fix"
git am -q "$demo/out/drift.patch" && git log --stat -1 | cat

say "drift gate: CI rejects upstream without the fix, accepts it with the fix"
"$DRIFT" gate --repo "$demo/upstream" --ledger "$demo/out" || echo "(exit $? = rejected)"
"$DRIFT" gate --repo "$demo/fix" --ledger "$demo/out"
say "done (demo files in $demo are removed on exit)"
