#!/usr/bin/env bash
# Installs OpenLDAP's server and tools (Debian packages slapd, ldap-utils) when they are missing: the STS LDAP
# tests (test/iam/ldap.test.ts) start their own slapd on a free loopback port.
set -euo pipefail
if [ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils) >/dev/null
else
  echo "slapd is missing: install it (Debian/Ubuntu: apt-get install slapd ldap-utils) and run again" >&2
  exit 1
fi
