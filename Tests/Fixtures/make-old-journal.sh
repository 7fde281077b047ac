#!/bin/sh
# Makes Tests/Fixtures/journal-fc4002c.tar.gz: a journal written by drift at commit fc4002c
# (before snapshot records), and what that drift exported and listed from it.
#   git archive fc4002c | tar -x -C /tmp/old && (cd /tmp/old && swift build)
#   sh Tests/Fixtures/make-old-journal.sh /tmp/old/.build/debug/drift
# JournalCompatTests checks that today's drift reads it back identically.
set -eu
OLD=$1
OUT=$(cd "$(dirname "$0")" && pwd)/journal-fc4002c.tar.gz
W=$(mktemp -d /tmp/drift-oldjournal.XXXXXX)
cd "$W"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e
export GIT_AUTHOR_DATE='2026-11-01T00:00:00Z' GIT_COMMITTER_DATE='2026-11-01T00:00:00Z'
mkdir -p up/worker up/config up/packages/models
printf 'import os\n\ndef main():\n    print("worker")\n' > up/worker/main.py
printf 'def helper(x):\n    return x + 1\n' > up/worker/util.py
printf 'queue: video\n' > up/config/settings.yaml
printf 'TOKEN=placeholder-token-value\n' > up/.env
printf 'model-bytes\n' > up/packages/models/whisper.bin
git -C up init -q -b main
git -C up add -A && git -C up commit -qm one
printf 'def helper(x):\n    return x + 2\n' > up/worker/util.py
git -C up commit -qam two
printf '#!/bin/sh\necho start\n' > up/start.sh && chmod +x up/start.sh
git -C up add -A && git -C up commit -qm three
mkdir ws && git -C up archive HEAD | tar -x -C ws
cat > policy.yaml <<'P'
schema: drift.policy/1
ignore:
  - "logs/"
config:
  - ".env"
  - "config/"
secrets:
  - ".env"
data:
  - "packages/models/"
size_limit: 1KiB
P
"$OLD" manifest create --root ws --repo up --output mdir --policy policy.yaml
# Snapshot 1: code edit, odd names (invalid UTF-8, newline, escape byte), config, secret,
# deletion, data.
printf 'import os\n\ndef main():\n    print("hotfix")\n' > ws/worker/main.py
printf 'x = 1\n' > "$(printf 'ws/worker/caf\351.py')"
printf 'y = 2\n' > "$(printf 'ws/worker/new\nline.py')"
printf 'z = 3\n' > "$(printf 'ws/worker/esc\033[31m.py')"
printf 'queue: audio\n' > ws/config/settings.yaml
printf 'TOKEN=rotated-token-value-123\n' > ws/.env
rm ws/worker/util.py
printf 'model-bytes-2\n' > ws/packages/models/whisper.bin
DRIFT_TEST_NOW=2026-11-29T10:00:00Z "$OLD" scan --manifest mdir --state state --format json > scan1.json || true
# Snapshot 2: a file over the size limit, code that carries the secret's value, an exec bit.
head -c 2048 /dev/zero | tr '\0' 'a' > ws/worker/big.py
printf 'KEY = "rotated-token-value-123"\n' > ws/worker/leak.py
chmod +x ws/worker/main.py
DRIFT_TEST_NOW=2026-11-29T11:00:00Z "$OLD" scan --manifest mdir --state state --format json > scan2.json || true
# Snapshot 3: the hotfix reverted except one file.
printf 'import os\n\ndef main():\n    print("worker")\n' > ws/worker/main.py
chmod -x ws/worker/main.py
rm ws/worker/big.py ws/worker/leak.py
DRIFT_TEST_NOW=2026-11-29T12:00:00Z "$OLD" scan --manifest mdir --state state --format json > scan3.json || true
mkdir expected
cp -a state state-export
DRIFT_TEST_NOW=2026-11-30T00:00:00Z "$OLD" export --manifest mdir --state state-export --from-journal \
  --output expected/export
DRIFT_TEST_NOW=2026-11-30T00:00:00Z "$OLD" status --manifest mdir --state state > expected/status.txt || true
rm -rf state-export up
tar -czf "$OUT" mdir state ws policy.yaml expected
cd / && rm -rf "$W"
echo "$OUT"
