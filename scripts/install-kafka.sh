#!/usr/bin/env bash
# Apache Kafka's broker for the Kafka notification tests (test/s3/notifications-kafka.test.ts): its jars and
# their dependencies resolved by Maven from Maven Central into .kafka/libs (Java 17 runs it). Installs Debian's
# maven and a JDK when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .kafka/libs/kafka_2.13-3.9.1.jar ]; then exit 0; fi
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jre-headless) >/dev/null
  else
    echo "maven and Java 17 are missing: install them (Debian: apt-get install maven openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi
rm -rf .kafka/libs
mvn -q -B -Dstyle.color=never -f scripts/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$PWD/.kafka/libs"
