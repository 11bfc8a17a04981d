#!/usr/bin/env bash
# Installs Debian's rabbitmq-server when it is missing: the bucket notification tests
# (test/s3/notifications-amqp.test.ts) start their own AMQP 0.9.1 broker on free loopback ports, in a folder of their
# own.
set -euo pipefail
if command -v /usr/lib/rabbitmq/bin/rabbitmq-server >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server) >/dev/null
else
  echo "rabbitmq-server is missing: install it (Debian/Ubuntu: apt-get install rabbitmq-server) and run again" >&2
  exit 1
fi
