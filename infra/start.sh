#!/usr/bin/env bash
# `npm start`: the local main job. Installs what is missing, brings the infrastructure up, migrates
# the local database, creates the local topics, installs the CRD and the local ProductPipeline,
# runs the API, two relays, a consumer and the operator, and shows the live view of the pipeline
# (`shopstream watch`) until Ctrl-C, which stops them all.
# Each process logs JSON lines to $SHOPSTREAM_RUN/<name>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib/common.sh
. infra/lib/kafka.sh
# The project's pinned Node, first on PATH for npm, tsc and every process started below.
. infra/lib/node.sh
API_PORT="${API_PORT:-8080}"
SAMPLE_SELLER=3fa85f64-5717-4562-b3fc-2c963f66afa6

bash infra/lib/npm-deps.sh
bash infra/infra.sh up
npx tsc -b

# The local database (the server's own "postgres" database stays for tools and tests).
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qAtc "select 1 from pg_database where datname = 'shopstream'" | grep -q 1 \
  || psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "create database shopstream"
infra/dev-env.sh node services/shared/dist/db/migrate-cli.js
# Local topics (DESIGN §3: 3 partitions locally). The operator takes this over in a later issue.
for topic in product.events product.events.dlq; do
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --create --if-not-exists \
    --topic "$topic" --partitions 3 --replication-factor 1 >/dev/null
done

# The operator's CRD and the local pipeline (the operator reconciles its topics, Direct mode).
KUBECTL=("$SHOPSTREAM_CACHE/k8s-$K8S_VERSION/bin/kubectl" --kubeconfig "$SHOPSTREAM_RUN/kube/kubeconfig")
"${KUBECTL[@]}" apply --server-side --force-conflicts -f charts/operator/crds/productpipelines.shopstream.io.yaml >/dev/null
"${KUBECTL[@]}" wait --for=condition=Established crd/productpipelines.shopstream.io --timeout=60s >/dev/null
# The operator reads the outbox backlog through this secret (the pipeline's relay.databaseSecretRef).
"${KUBECTL[@]}" create secret generic shopstream-db -n default \
  --from-literal=url="$(infra/dev-env.sh sh -c 'printf %s "$DATABASE_URL"')" --dry-run=client -o yaml |
  "${KUBECTL[@]}" apply -f - >/dev/null
"${KUBECTL[@]}" apply -f k8s/samples/productpipeline-local.yaml >/dev/null

pids=()
stopping=
stop_all() {
  [ -n "$stopping" ] && return; stopping=1
  trap '' INT # a second Ctrl-C must not cut the shutdown short
  echo; echo "stopping: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "stopped; the logs are in $SHOPSTREAM_RUN/{api,relay-1,relay-2,consumer,operator}.log"
  exit 0
}
trap stop_all INT TERM
run() { # run NAME ENV... -- CMD...
  local name=$1; shift
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" infra/dev-env.sh "$@" >>"$SHOPSTREAM_RUN/$name.log" 2>&1 &
  pids+=($!)
}
run api PORT="$API_PORT" -- node services/api/dist/main.js
run relay-1 RELAY_ID=local-relay-1 METRICS_PORT=9464 -- node services/relay/dist/main.js
run relay-2 RELAY_ID=local-relay-2 METRICS_PORT=9474 -- node services/relay/dist/main.js
run consumer METRICS_PORT=9465 -- node services/consumer/dist/main.js
run operator KUBECONFIG="$SHOPSTREAM_RUN/kube/kubeconfig" METRICS_PORT=9466 POD_NAME=local-operator WATCH_NAMESPACE=default \
  LEADER_ELECTION_LEASE_MS=15000 -- node operator/dist/main.js

for url in "http://127.0.0.1:$API_PORT/readyz" http://127.0.0.1:9464/readyz http://127.0.0.1:9474/readyz http://127.0.0.1:9465/readyz http://127.0.0.1:9466/readyz; do
  for _ in $(seq 120); do curl -sf "$url" >/dev/null && break; sleep 0.5; done
  curl -sf "$url" >/dev/null || { echo "not ready: $url; see the logs in $SHOPSTREAM_RUN/*.log" >&2; stop_all; }
done

for _ in $(seq 60); do
  [ "$("${KUBECTL[@]}" get pp local -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
  sleep 1
done
token=$(infra/dev-env.sh node services/api/dist/dev-token.js "$SAMPLE_SELLER")
admin_token=$(infra/dev-env.sh sh -c 'printf %s "$ADMIN_TOKEN"')
cat <<INFO

shopstream is running.
  API        http://127.0.0.1:$API_PORT
  API docs   http://127.0.0.1:$API_PORT/docs   (OpenAPI: /openapi.json)
  admin      http://127.0.0.1:$API_PORT/admin  (admin token: $admin_token)
  metrics    api http://127.0.0.1:$API_PORT/metrics · relays :9464 :9474 · consumer :9465 · operator :9466 (/metrics)
  database   postgres://postgres@127.0.0.1:$PG_PORT/shopstream
  Kafka      127.0.0.1:$KAFKA_PORT, topic product.events
  logs       $SHOPSTREAM_RUN/{api,relay-1,relay-2,consumer,operator}.log
  kubectl    ${KUBECTL[*]}

$("${KUBECTL[@]}" get pp -n default)

Development token for the sample seller $SAMPLE_SELLER (valid 24 h):
  $token

Try it:
  curl -sS -X POST http://127.0.0.1:$API_PORT/products \\
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
    -d '{"seller_id":"$SAMPLE_SELLER","title":"Wireless Mouse","price":15.99,"stock":100}'
  infra/dev-env.sh npx shopstream status      # also: lag, diagnose, outbox list, reset-offsets
  curl -sS 'http://127.0.0.1:$API_PORT/products/search?q=mouse'
  ${KUBECTL[*]} apply -f k8s/samples/offset-reset-dryrun.yaml
  ${KUBECTL[*]} get pp local -o yaml     # the reset plan is in status.consumers[0].lastReset

  npm run demo -- --rate 200 --duration 20   # load, then counts in/out and commit → applied latency

Ctrl-C stops the API, relays, consumer and operator; \`npm run infra -- down\` stops the infrastructure.
The live view (\`npx shopstream watch\`) follows.

INFO
# The live view runs in the foreground: Ctrl-C reaches it (and the services, which stop on SIGINT
# too) and the trap stops whatever is left. If the view itself fails, the services keep running.
watch_status=0
SHOPSTREAM_METRICS_URLS="${SHOPSTREAM_METRICS_URLS:-api=http://127.0.0.1:$API_PORT/metrics,relay=http://127.0.0.1:9464/metrics,relay=http://127.0.0.1:9474/metrics,consumer=http://127.0.0.1:9465/metrics,operator=http://127.0.0.1:9466/metrics}" \
  infra/dev-env.sh node cli/dist/main.js watch || watch_status=$?
if [ "$watch_status" -ne 0 ] && [ -z "$stopping" ]; then
  echo "the live view ended (exit $watch_status); the services keep running until Ctrl-C" >&2
  wait "${pids[@]}" || true
fi
stop_all
