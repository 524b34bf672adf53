#!/usr/bin/env bash
# Local development environment: `infra/dev-env.sh CMD...` runs CMD with the local stack's settings
# (database, Kafka, secrets) filled in where the caller has not set them. Secrets are generated on
# first use into $SHOPSTREAM_RUN/dev-secrets.env (mode 600); nothing else has a default secret.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

secrets="$SHOPSTREAM_RUN/dev-secrets.env"
if [ ! -f "$secrets" ]; then
  umask 077
  { echo "DEV_JWT_SECRET=$(openssl rand -hex 32)"; echo "DEV_ADMIN_TOKEN=$(openssl rand -hex 24)"; } > "$secrets"
fi
# shellcheck disable=SC1090
. "$secrets"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:$PG_PORT/shopstream}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export JWT_SECRET="${JWT_SECRET:-$DEV_JWT_SECRET}"
export ADMIN_TOKEN="${ADMIN_TOKEN:-$DEV_ADMIN_TOKEN}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
exec "$@"
