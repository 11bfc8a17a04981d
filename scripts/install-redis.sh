#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing: the bucket notification tests
# (test/s3/notifications-redis.test.ts) start their own redis-server on a free loopback port.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
else
  echo "redis-server is missing: install it (Debian/Ubuntu: apt-get install redis-server) and run again" >&2
  exit 1
fi
