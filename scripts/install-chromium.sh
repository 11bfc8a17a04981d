#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the web console tests (test/console/) drive it headless through
# playwright-core (which downloads no browser of its own).
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
else
  echo "chromium is missing: install it (Debian/Ubuntu: apt-get install chromium) and run again" >&2
  exit 1
fi
