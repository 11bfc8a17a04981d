#!/usr/bin/env bash
# Installs Debian's nats-server when it is missing: the bucket notification tests (test/s3/notifications-nats.test.ts)
# start their own NATS server (with JetStream) on free loopback ports, in a folder of their own.
set -euo pipefail
if command -v nats-server >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >/dev/null
else
  echo "nats-server is missing: install it (Debian/Ubuntu: apt-get install nats-server) and run again" >&2
  exit 1
fi
