#!/usr/bin/env bash
# `npm start`: the local main job. Installs what is missing, brings the infrastructure up, migrates
# the local database and runs the API until Ctrl-C. Later issues add relays, consumer and operator.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib/common.sh
API_PORT="${API_PORT:-8080}"
SAMPLE_SELLER=3fa85f64-5717-4562-b3fc-2c963f66afa6

bash infra/lib/npm-deps.sh
bash infra/infra.sh up
npx tsc -b

# The local database (the server's own "postgres" database stays for tools and tests).
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qAtc "select 1 from pg_database where datname = 'shopstream'" | grep -q 1 \
  || psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "create database shopstream"
infra/dev-env.sh node services/shared/dist/db/migrate-cli.js

api_log="$SHOPSTREAM_RUN/api.log"
PORT="$API_PORT" infra/dev-env.sh node services/api/dist/main.js > >(tee -a "$api_log") 2>&1 &
api_pid=$!
trap 'kill -TERM $api_pid 2>/dev/null; wait $api_pid 2>/dev/null; exit 0' INT TERM
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$API_PORT/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$API_PORT/readyz" >/dev/null || { echo "the API did not become ready; see $api_log" >&2; kill $api_pid; exit 1; }

token=$(infra/dev-env.sh node services/api/dist/dev-token.js "$SAMPLE_SELLER")
cat <<INFO

shopstream is running.
  API        http://127.0.0.1:$API_PORT
  API docs   http://127.0.0.1:$API_PORT/docs   (OpenAPI: /openapi.json)
  metrics    http://127.0.0.1:$API_PORT/metrics
  database   postgres://postgres@127.0.0.1:$PG_PORT/shopstream
  kubectl    $SHOPSTREAM_CACHE/k8s-$K8S_VERSION/bin/kubectl --kubeconfig $SHOPSTREAM_RUN/kube/kubeconfig

Development token for the sample seller $SAMPLE_SELLER (valid 24 h):
  $token

Try it:
  curl -sS -X POST http://127.0.0.1:$API_PORT/products \\
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
    -d '{"seller_id":"$SAMPLE_SELLER","title":"Wireless Mouse","price":15.99,"stock":100}'

Ctrl-C stops the API; \`npm run infra -- down\` stops the infrastructure.
INFO
wait $api_pid
