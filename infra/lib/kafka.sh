# Apache Kafka, single-node KRaft (broker + controller in one JVM) on 127.0.0.1:$KAFKA_PORT.
KAFKA_HOME="$SHOPSTREAM_CACHE/kafka-$KAFKA_VERSION-log4j-$LOG4J_VERSION"
KAFKA_CP="$KAFKA_HOME/libs/*"
KAFKA_DIR="$SHOPSTREAM_RUN/kafka"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"
KAFKA_JOPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$INFRA_DIR/kafka/log4j2.properties")

kafka_install() { bash "$INFRA_DIR/lib/install-kafka.sh"; }

# Runs one of Kafka's own tools (e.g. org.apache.kafka.tools.TopicCommand) from the broker's classpath.
kafka_tool() { java -Xmx256m "-Dlog4j2.configurationFile=$INFRA_DIR/kafka/log4j2.properties" -cp "$KAFKA_CP" "$@"; }

kafka_healthy() {
  pid_alive "$KAFKA_PID" || return 1
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1
}

kafka_write_config() {
  cat >"$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
}

kafka_start() {
  kafka_healthy && return 0
  mkdir -p "$KAFKA_DIR"
  kafka_write_config
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local cid; cid=$(kafka_tool kafka.tools.StorageTool random-uuid)
    kafka_tool kafka.tools.StorageTool format --standalone -t "$cid" -c "$KAFKA_DIR/server.properties" --ignore-formatted \
      >"$KAFKA_DIR/format.log" 2>&1 || die "formatting Kafka storage failed; see $KAFKA_DIR/format.log"
  fi
  spawn "$KAFKA_PID" "$KAFKA_LOG" java "${KAFKA_JOPTS[@]}" -cp "$KAFKA_CP" kafka.Kafka "$KAFKA_DIR/server.properties"
  wait_healthy Kafka kafka_healthy 90 "$KAFKA_LOG" "$KAFKA_PID"
}

kafka_stop() { stop_pid "$KAFKA_PID" Kafka 30; }
kafka_version() { echo "$KAFKA_VERSION"; }
kafka_endpoint() { echo "127.0.0.1:$KAFKA_PORT"; }
kafka_log() { echo "$KAFKA_LOG"; }
