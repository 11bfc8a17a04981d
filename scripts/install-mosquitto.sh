#!/usr/bin/env bash
# Installs Debian's mosquitto when it is missing: the bucket notification tests (test/s3/notifications-mqtt.test.ts)
# start their own MQTT broker on free loopback ports, in a folder of their own.
set -euo pipefail
if command -v mosquitto >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto) >/dev/null
else
  echo "mosquitto is missing: install it (Debian/Ubuntu: apt-get install mosquitto) and run again" >&2
  exit 1
fi
