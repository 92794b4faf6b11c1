#!/usr/bin/env bash
# Installs (if missing) a JDK and Maven from Debian, then builds the Iceberg Java REST client of the tests once in a
# temporary copy, so Maven Central's jars (iceberg-core, iceberg-parquet, iceberg-data, Hadoop's client) are in
# ~/.m2 before the tests run. Prints the path of mvn on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq openjdk-17-jdk-headless maven >&2
fi
build=$(mktemp -d)
cp -r test/fixtures/iceberg-rest/java-client/. "$build"
mvn -q -B -f "$build/pom.xml" package -DskipTests >&2
rm -rf "$build"
command -v mvn
