#!/usr/bin/env bash
# Prints the development Secrets of the kind stack (the Tiltfile applies its output):
#   shopstream-db   url (DATABASE_URL of every component) and password (the dev PostgreSQL's)
#   shopstream-jwt  secret (HS256 JWT_SECRET of the api)
# The random values are generated once into a file outside the repository (mode 600) and reused,
# so a Tiltfile reload does not change the password of a database that is already initialised.
#   usage: k8s/dev/dev-secrets.sh [namespace]        (default: shop)
# SHOPSTREAM_KIND_SECRETS overrides the file (default ~/.cache/shopstream/kind-dev-secrets.env).
set -euo pipefail

namespace="${1:-shop}"
file="${SHOPSTREAM_KIND_SECRETS:-${HOME}/.cache/shopstream/kind-dev-secrets.env}"

if [[ ! -s "$file" ]]; then
  command -v openssl >/dev/null || { echo "dev-secrets: openssl is needed to generate secrets" >&2; exit 1; }
  mkdir -p "$(dirname "$file")"
  umask 077
  {
    # Hex only: the password goes into a URL unescaped.
    echo "POSTGRES_PASSWORD=$(openssl rand -hex 24)"
    echo "JWT_SECRET=$(openssl rand -hex 32)"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
fi

POSTGRES_PASSWORD=""
JWT_SECRET=""
# shellcheck source=/dev/null
source "$file"
[[ "$POSTGRES_PASSWORD" =~ ^[0-9a-f]{32,}$ && "$JWT_SECRET" =~ ^[0-9a-f]{64,}$ ]] || {
  echo "dev-secrets: $file is not what this script writes; delete it to generate new secrets" >&2
  exit 1
}

cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: shopstream-db
  namespace: ${namespace}
  labels:
    app.kubernetes.io/part-of: shopstream
type: Opaque
stringData:
  url: postgres://shopstream:${POSTGRES_PASSWORD}@shopstream-postgres.${namespace}.svc:5432/shopstream
  password: ${POSTGRES_PASSWORD}
---
apiVersion: v1
kind: Secret
metadata:
  name: shopstream-jwt
  namespace: ${namespace}
  labels:
    app.kubernetes.io/part-of: shopstream
type: Opaque
stringData:
  secret: ${JWT_SECRET}
YAML
