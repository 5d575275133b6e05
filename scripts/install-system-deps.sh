#!/usr/bin/env bash
# Debian packages that tide's tests use. Idempotent; needs root (CI runs as root).
set -euo pipefail
need=()
# Installed means "install ok installed": a package removed without purge still answers dpkg -s.
for pkg in "$@"; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
