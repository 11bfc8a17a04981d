#!/usr/bin/env bash
# Runs the analytics client suites (test/analytics: pyarrow, polars, s3fs/pandas, DuckDB, and every notebook
# under notebooks/) against a real Cairn that the suite's conftest.py starts. Installs what they need on
# first use: a venv in .venv-analytics with test/analytics/requirements.txt (kept apart from .venv because
# s3fs pins botocore to an older range than test/python's boto3).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-analytics
req=test/analytics/requirements.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x $venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv $venv
  echo '*' > $venv/.gitignore   # the venv ignores itself, as newer venv tools do
  $venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
exec $venv/bin/python -m pytest test/analytics -q -p no:cacheprovider "$@"
