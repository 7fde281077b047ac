#!/bin/sh
# Vast.ai: Console -> Instance Edit -> On-start script. A first scan at boot, before the worker
# starts, so an instance restarted from a clean image proves itself clean at once (exit 0),
# and one restarted on an old state volume reports what it still carries. Then the seed's
# supervisord (socket unix:///tmp/supervisor.sock) starts the workers and drift's own program.
mkdir -p /var/log && install -d -m 0700 /var/lib/drift
drift scan --state /var/lib/drift --fail-on overdue --log /var/log/drift.jsonl >/var/log/drift-boot.txt 2>&1 \
  || echo "drift: boot scan exit $? (see /var/log/drift-boot.txt)" >&2
supervisord -c /etc/supervisor/supervisord.conf
