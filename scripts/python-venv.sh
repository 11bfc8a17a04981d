#!/usr/bin/env bash
# Makes (once, and again when test/python/requirements.txt changes) the venv of the Python client suites, .venv,
# and prints its folder. Used by scripts/test-python.sh and scripts/prefetch-test-deps.sh. pip's output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/python/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
# One maker at a time (CI makes the venvs in the background while it builds: scripts/prefetch-test-deps.sh).
mkdir -p .venv
exec 8>.venv/.make-lock
flock 8
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv >&2
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$PWD/.venv"
