#!/usr/bin/env bash
# Makes (once, and again when its requirements change) the venv of an analytics client group and prints its
# folder: .venv-analytics (test/analytics/requirements.txt) by default, .venv-torch, .venv-tensorflow or
# .venv-spark with --torch, --tensorflow or --spark (requirements-<group>.txt, on top of requirements.txt).
# Used by scripts/test-analytics.sh and bench/readers. pip's output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-analytics req=test/analytics/requirements.txt
case "${1:-}" in
  --torch) venv=.venv-torch req=test/analytics/requirements-torch.txt ;;
  --tensorflow) venv=.venv-tensorflow req=test/analytics/requirements-tensorflow.txt ;;
  --spark) venv=.venv-spark req=test/analytics/requirements-spark.txt ;;
  "") ;;
  *) echo "usage: $0 [--torch|--tensorflow|--spark]" >&2; exit 2 ;;
esac
stamp=$venv/.requirements.sha256
want=$(cat test/analytics/requirements*.txt "$req" | sha256sum | cut -d' ' -f1)
# One maker at a time (CI makes the venvs in the background while it builds: scripts/prefetch-test-deps.sh).
mkdir -p $venv
exec 8>$venv/.make-lock
flock 8
if [ ! -x $venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv $venv >&2
  echo '*' > $venv/.gitignore   # the venv ignores itself, as newer venv tools do
  $venv/bin/pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$PWD/$venv"
