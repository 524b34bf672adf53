#!/usr/bin/env bash
# Resolves Kafka Connect (same version as the broker) and the Debezium PostgreSQL connector with its
# outbox EventRouter from Maven Central into $SHOPSTREAM_CACHE/kafka-connect-<kafka>-debezium-<ver>/libs.
# Only bench/debezium.ts needs it, so `infra.sh up` and the tests never pay for it. Prints the libs dir.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need java "apt-get install -y openjdk-17-jre-headless (Kafka 4 needs Java 17+)"
need mvn "apt-get install -y maven"
need unzip "apt-get install -y unzip"
out="$SHOPSTREAM_CACHE/kafka-connect-$KAFKA_VERSION-debezium-$DEBEZIUM_VERSION-log4j-$LOG4J_VERSION"
if [ ! -f "$out/.complete" ]; then
  log "resolving Kafka Connect $KAFKA_VERSION and Debezium $DEBEZIUM_VERSION jars from Maven Central"
  rm -rf "$out/libs"; mkdir -p "$out"
  mvn -B -q -Dmaven.repo.local="$SHOPSTREAM_CACHE/m2" -f "$INFRA_DIR/kafka-connect/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Ddebezium.version="$DEBEZIUM_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out/libs" >&2 || die "maven could not resolve Kafka Connect / Debezium"
  n=$(ls "$out/libs" | grep -c '^slf4j-api-1\.7\.' || true)
  [ "$n" = 1 ] || die "expected exactly one slf4j-api 1.7.x jar in $out/libs, found $n"
  unzip -l "$out/libs/debezium-connect-plugins-$DEBEZIUM_VERSION.jar" | grep -q 'io/debezium/transforms/outbox/EventRouter.class' ||
    die "io.debezium.transforms.outbox.EventRouter is not in debezium-connect-plugins $DEBEZIUM_VERSION"
  touch "$out/.complete"
fi
echo "$out/libs"
