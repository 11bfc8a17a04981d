#!/usr/bin/env bash
# Makes, ahead of their suites, what the Python, analytics and heavy client groups install on first use: the venvs
# (.venv, .venv-analytics, .venv-torch, .venv-tensorflow, .venv-spark: about 9 GB of wheels) and the PrestoDB
# server (.venv-presto). It only downloads and unpacks, so .ci/run runs it in the background while the Rust
# addon compiles and vitest runs, instead of after them. Each maker takes its folder's lock, so a suite that
# starts while its venv is still being made waits for it instead of making it a second time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/python-venv.sh > /dev/null
for group in "" --torch --tensorflow --spark; do
  bash scripts/analytics-venv.sh $group > /dev/null
done
bash scripts/install-presto.sh > /dev/null
echo "prefetch-test-deps: done"
