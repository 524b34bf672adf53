#!/usr/bin/env bash
# Resolves the Kafka broker and CLI jars from Maven Central into $SHOPSTREAM_CACHE/kafka-<version>/libs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need java "apt-get install -y openjdk-17-jre-headless (Kafka 4 needs Java 17+)"
need mvn "apt-get install -y maven"
out="$SHOPSTREAM_CACHE/kafka-$KAFKA_VERSION-log4j-$LOG4J_VERSION"
[ -f "$out/.complete" ] && exit 0
log "resolving Kafka $KAFKA_VERSION jars from Maven Central"
rm -rf "$out/libs"; mkdir -p "$out"
mvn -B -q -Dmaven.repo.local="$SHOPSTREAM_CACHE/m2" -f "$INFRA_DIR/kafka/pom.xml" \
  -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$out/libs" || die "maven could not resolve Kafka $KAFKA_VERSION"
n=$(ls "$out/libs" | grep -c '^slf4j-api-1\.7\.' || true)
[ "$n" = 1 ] || die "expected exactly one slf4j-api 1.7.x jar in $out/libs, found $n"
touch "$out/.complete"
