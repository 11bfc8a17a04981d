#!/usr/bin/env bash
# Runs the Python client suites (test/python) against a real Cairn that conftest.py starts.
# Installs what they need on first use: a venv in .venv with test/python/requirements.txt (scripts/python-venv.sh), and rclone
# (Debian package) when it is missing and we may install it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(bash scripts/python-venv.sh)
if ! command -v rclone >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone) >/dev/null
  else
    echo "rclone is missing: install it (Debian/Ubuntu: apt-get install rclone) and run again" >&2
    exit 1
  fi
fi
exec "$venv/bin/python" -m pytest test/python -q -p no:cacheprovider "$@"
