#!/usr/bin/env bash
# Installs what drift needs to build and test on Debian 12 (only the Swift toolchain assumed).
# The packages are listed one per line in scripts/apt/*.list, one file per topic.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in $(grep -hv '^\s*#' scripts/apt/*.list | tr -s ' \t' '\n' | sort -u); do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
