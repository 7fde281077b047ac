#!/bin/sh
# The worker image's build steps for drift, shared by examples/Dockerfile and the
# root-file-system test (Tests/DriftBinaryTests/RootfsTests.swift), so the two cannot drift apart.
# Runs as root INSIDE the image being built, with:
#   /workspace                 the checkout of the worker's repository, .git included
#   /usr/local/bin/drift       the dist binary (scripts/dist.sh)
#   $DRIFT_SIGN_KEY            Ed25519 private key, PEM (default /run/secrets/drift_key, a build
#                              secret: it must never land in a layer)
#   /etc/drift-keys/manifest.pub  its public key (the Dockerfile COPYs it): every drift verb
#                              verifies the manifest with it, no flag or environment needed; the
#                              script makes it and its directory root-owned, and checks the bake with it
#   $DRIFT_EXAMPLES            optional: drift's examples/ directory, to install the supervisord
#                              config (socket unix:///tmp/supervisor.sock), its programs and the crontab
# pip reads its usual environment (PIP_INDEX_URL, PIP_NO_INDEX, PIP_FIND_LINKS).
set -eu
ws="${DRIFT_WORKSPACE:-/workspace}"
venv="${DRIFT_VENV:-/venv}"
key="${DRIFT_SIGN_KEY:-/run/secrets/drift_key}"
mdir="${DRIFT_MANIFEST:-/etc/drift}"
pub=/etc/drift-keys/manifest.pub
state="${DRIFT_STATE:-/var/lib/drift}"

# Without the public key in place, cron's scans would trust any manifest: refuse to build.
if [ ! -f "$pub" ]; then
  echo "build-image.sh: $pub is missing (COPY the signing key's public half there)" >&2
  exit 1
fi
chown root:root /etc/drift-keys "$pub"
chmod 0755 /etc/drift-keys
chmod 0644 "$pub"

# Debian packages the worker needs; nothing to do when the base image has them.
need=""
for p in python3 python3-venv supervisor; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  rm -rf /var/lib/apt/lists/*
fi

# The Python environment, from the pins only (the seed's "baked at image build time").
python3 -m venv "$venv"
"$venv/bin/pip" install --no-cache-dir -q --disable-pip-version-check -r "$ws/requirements.instance.txt"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# supervisord as the seed runs it, plus drift's programs and the cron lines when given.
if [ -n "${DRIFT_EXAMPLES:-}" ] && [ -d "$DRIFT_EXAMPLES" ]; then
  mkdir -p /etc/supervisor/conf.d
  cp "$DRIFT_EXAMPLES/image/supervisord.conf" /etc/supervisor/supervisord.conf
  for c in "$DRIFT_EXAMPLES"/supervisord/*.conf; do
    [ -f "$c" ] && cp "$c" /etc/supervisor/conf.d/
  done
  if [ -d /etc/cron.d ]; then
    cp "$DRIFT_EXAMPLES/crontab" /etc/cron.d/drift
    chmod 0644 /etc/cron.d/drift
  fi
fi

# Bake the manifest of /workspace and the venv, signed; then drop the history. The git
# directory moves out of the workspace first, so the manifest never records .git itself
# (the image ships without it).
gitdir="$(mktemp -d)/workspace.git"
mv "$ws/.git" "$gitdir"
set -- --root "$ws" --repo "$gitdir" --site-packages "$site" --requirements "$ws/requirements.instance.txt"
if [ -f "$ws/policies/worker.yaml" ]; then
  set -- "$@" --policy "$ws/policies/worker.yaml"
fi
drift manifest create "$@" --sign-key "$key" --output "$mdir"
rm -rf "$(dirname "$gitdir")"
# The state dir is root's alone (it journals drifted code).
mkdir -p -m 0700 "$state"
chmod 0700 "$state"
# node_exporter's textfile collector directory: the crontab's and the watcher's --metrics file
# is written there, and drift creates the file, never the directory.
mkdir -p -m 0755 /var/lib/node_exporter/textfile
# The bake verifies with the installed key, exactly as cron's scans will (status reads MDIR only).
check="$(mktemp -d)"
DRIFT_PUBLIC_KEY="" drift status --manifest "$mdir" --state "$check" >/dev/null
rm -rf "$check"
drift --version
