#!/usr/bin/env bash
# Runs the Python client suites (test/python) against a real Cairn that conftest.py starts.
# Installs what they need on first use: a venv in .venv with test/python/requirements.txt, and rclone
# (Debian package) when it is missing and we may install it.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/python/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
if ! command -v rclone >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone) >/dev/null
  else
    echo "rclone is missing: install it (Debian/Ubuntu: apt-get install rclone) and run again" >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest test/python -q -p no:cacheprovider "$@"
