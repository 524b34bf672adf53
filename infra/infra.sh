#!/usr/bin/env bash
# The one entry point for local infrastructure: `infra.sh install|up|down|status|env`.
#   install  builds or downloads everything into $SHOPSTREAM_CACHE (idempotent, keyed by version)
#   up       install, then start PostgreSQL, Kafka, etcd, kube-apiserver and the control plane
#            (kube-controller-manager, kube-scheduler, kwok with one fake node), reusing healthy ones
#   down     stop everything started by `up`, by saved PID
#   status   one line per service: health, version, endpoint
#   env      shell exports (or --json) that point clients at the running services
# SHOPSTREAM_CONTROL_PLANE=0 selects the plain apiserver profile: no controllers, scheduler or fake
# nodes are built or started (objects are stored but nothing acts on them), which saves their build
# on a cold machine. A control plane that is already running is left alone; `down` stops it anyway.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$INFRA_DIR/lib/postgres.sh"
. "$INFRA_DIR/lib/kafka.sh"
. "$INFRA_DIR/lib/kube.sh"
. "$INFRA_DIR/lib/control-plane.sh"
. "$INFRA_DIR/lib/tools.sh"
. "$INFRA_DIR/lib/chromium.sh"

check_prerequisites() {
  need java "apt-get install -y openjdk-17-jre-headless (Kafka 4 needs Java 17+)"
  local jv; jv=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [ "${jv%%.*}" -ge 17 ] 2>/dev/null || die "Java 17+ is required for Kafka 4, found $jv: apt-get install -y openjdk-17-jdk-headless"
  need mvn "apt-get install -y maven"
  need go "Go 1.26+ is required to build etcd, kube-apiserver and helm; install it from the machine image (/usr/local/go)"
  need openssl "apt-get install -y openssl"
  need curl "apt-get install -y curl"
}

install_all() {
  check_prerequisites
  postgres_install
  kafka_install
  promtool_install
  chromium_install
  # The Go builds compete for the same two cores; run them one after the other.
  etcd_install
  helm_install
  apiserver_install
  kwok_install
}

up() {
  install_all
  postgres_start; log "PostgreSQL ready at $(postgres_endpoint)"
  kafka_start; log "Kafka ready at $(kafka_endpoint)"
  etcd_start; log "etcd ready at $(etcd_endpoint)"
  apiserver_start; log "kube-apiserver ready at $(apiserver_endpoint)"
  control_plane_start
}

down() {
  control_plane_stop; apiserver_stop; etcd_stop; kafka_stop; postgres_stop
  log "stopped"
}

row() { printf '%-24s %-9s %-10s %s\n' "$@"; }
status() {
  local rc=0 state
  row SERVICE STATE VERSION ENDPOINT
  if postgres_healthy; then state=healthy; else state=down; rc=1; fi
  row postgresql "$state" "$(postgres_version 2>/dev/null || echo -)" "$(postgres_endpoint)"
  if kafka_healthy; then state=healthy; else state=down; rc=1; fi
  row kafka "$state" "$(kafka_version)" "$(kafka_endpoint)"
  if etcd_healthy; then state=healthy; else state=down; rc=1; fi
  row etcd "$state" "$( [ -x "$ETCD_BIN" ] && etcd_version || echo -)" "$(etcd_endpoint)"
  if apiserver_healthy; then state=healthy; else state=down; rc=1; fi
  row kube-apiserver "$state" "$( [ -x "$K8S_BIN/kube-apiserver" ] && apiserver_version || echo -)" "$(apiserver_endpoint)"
  if control_plane_wanted; then
    if kcm_healthy; then state=healthy; else state=down; rc=1; fi
    row kube-controller-manager "$state" "$(k8s_component_version kube-controller-manager || echo -)" "$(kcm_endpoint)"
    if scheduler_healthy; then state=healthy; else state=down; rc=1; fi
    row kube-scheduler "$state" "$(k8s_component_version kube-scheduler || echo -)" "$(scheduler_endpoint)"
    if kwok_healthy; then state=healthy; else state=down; rc=1; fi
    row kwok "$state" "$(kwok_version || echo -)" "$(kwok_endpoint)"
  fi
  if [ -x "$HELM_BIN" ]; then state=installed; else state=missing; rc=1; fi
  row helm "$state" "$( [ -x "$HELM_BIN" ] && helm_version || echo -)" "$HELM_BIN"
  if [ -x "$PROMTOOL_BIN" ]; then state=installed; else state=missing; rc=1; fi
  row promtool "$state" "$( [ -x "$PROMTOOL_BIN" ] && promtool_version || echo -)" "$PROMTOOL_BIN"
  if [ -x "$CHROMIUM_BIN" ]; then state=installed; else state=missing; rc=1; fi
  row chromium "$state" "$( [ -x "$CHROMIUM_BIN" ] && chromium_version || echo -)" "$CHROMIUM_BIN"
  return $rc
}

print_env() {
  if [ "${1:-}" = --json ]; then
    cat <<JSON
{"databaseUrl":"$(postgres_endpoint)","etcd":"$ETCD_BIN","kubeApiserver":"$K8S_BIN/kube-apiserver","kubePki":"$PKI","kafkaBrokers":"$(kafka_endpoint)","kafkaClasspath":"$KAFKA_CP",
 "kafkaLog4jConfig":"$INFRA_DIR/kafka/log4j2.properties","kubeconfig":"$KUBECONFIG_PATH","kubectl":"$K8S_BIN/kubectl",
 "helm":"$HELM_BIN","controlPlane":$(control_plane_healthy && echo true || echo false),"kwokNode":"$KWOK_NODE","promtool":"$PROMTOOL_BIN","prometheus":"$PROMETHEUS_BIN","runDir":"$SHOPSTREAM_RUN",
 "versions":{"postgres":"$POSTGRES_MAJOR","kafka":"$KAFKA_VERSION","kubernetes":"$K8S_VERSION","etcd":"$ETCD_VERSION","helm":"$HELM_VERSION","kwok":"$KWOK_VERSION"}}
JSON
    return
  fi
  cat <<ENV
export SHOPSTREAM_DATABASE_URL=$(postgres_endpoint)
export SHOPSTREAM_KAFKA_BROKERS=$(kafka_endpoint)
export SHOPSTREAM_KAFKA_CLASSPATH='$KAFKA_CP'
export SHOPSTREAM_KUBECONFIG=$KUBECONFIG_PATH
export SHOPSTREAM_HELM=$HELM_BIN
export SHOPSTREAM_PROMTOOL=$PROMTOOL_BIN
export SHOPSTREAM_PROMETHEUS=$PROMETHEUS_BIN
export SHOPSTREAM_KUBECTL=$K8S_BIN/kubectl
ENV
}

# Two runs (a test run and `npm start`, say) must not format or start the same service at once.
with_lock() { exec 9>"$SHOPSTREAM_RUN/.lock"; flock 9; "$@"; }

case "${1:-}" in
  install) with_lock install_all ;;
  up) with_lock up ;;
  down) with_lock down ;;
  status) status ;;
  env) print_env "${2:-}" ;;
  *) echo "usage: infra.sh install|up|down|status|env" >&2; exit 2 ;;
esac
