#!/usr/bin/env bash
# Installs Debian's postgresql when it is missing: the bucket notification tests
# (test/s3/notifications-postgres.test.ts) make their own cluster with initdb and start it on a free loopback
# port (as the package's `postgres` user when they run as root). The package's own cluster is not used.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
else
  echo "PostgreSQL is missing: install it (Debian/Ubuntu: apt-get install postgresql) and run again" >&2
  exit 1
fi
