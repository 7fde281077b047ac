#!/usr/bin/env bash
# Installs what drift needs to build on Debian 12 (only the Swift toolchain assumed).
set -euo pipefail
need=()
for p in libgit2-dev libssl-dev pkg-config git openssl python3 python3-venv; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
