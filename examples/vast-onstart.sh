#!/bin/sh
# Vast.ai: Console -> Instance Edit -> On-start script. A first scan at boot, before the worker
# starts, so an instance restarted from a clean image proves itself clean at once (exit 0),
# and one restarted on an old state volume reports what it still carries. Then the seed's
# supervisord (socket unix:///tmp/supervisor.sock) starts the workers and drift's own program.
# The scan verifies the manifest with /etc/drift-keys/manifest.pub (baked into the image).
#
# Push credentials for cron's `drift push` (examples/crontab), from the instance's environment
# variables (Vast.ai: Edit -> Environment), written once to root-only files:
#   DRIFT_PUSH_SSH_KEY      the deploy key (OpenSSH private key text)
#   DRIFT_PUSH_KNOWN_HOSTS  the git server's known_hosts line(s) (ssh-keyscan, checked out of band)
mkdir -p -m 0700 /var/lib/drift
mkdir -p /var/log
# --metrics (examples/crontab, examples/supervisord/drift.conf) needs node_exporter's textfile
# directory: drift creates the file, never the directory (an image not built by build-image.sh).
mkdir -p -m 0755 /var/lib/node_exporter/textfile
if [ -n "${DRIFT_PUSH_SSH_KEY:-}" ] && [ ! -f /etc/drift-push/credentials ]; then
  # A subshell, so the workers started below keep the usual umask.
  (
    umask 077
    mkdir -p -m 0700 /etc/drift-push
    printf '%s\n' "$DRIFT_PUSH_SSH_KEY" >/etc/drift-push/id_ed25519
    printf '%s\n' "${DRIFT_PUSH_KNOWN_HOSTS:-}" >/etc/drift-push/known_hosts
    printf 'ssh_key=/etc/drift-push/id_ed25519\nknown_hosts=/etc/drift-push/known_hosts\n' \
      >/etc/drift-push/credentials
  )
fi
/usr/local/bin/drift scan --fail-on overdue --log /var/log/drift.jsonl >/var/log/drift-boot.txt 2>&1 \
  || echo "drift: boot scan exit $? (see /var/log/drift-boot.txt; drift status)" >&2
supervisord -c /etc/supervisor/supervisord.conf
