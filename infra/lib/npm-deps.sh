#!/usr/bin/env bash
# Installs node_modules from package-lock.json when they are missing or stale, with the project's
# Node (keyed by the lock's hash and the Node version, so a Node bump reinstalls).
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/lib/node.sh
stamp=node_modules/.shopstream-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --no-audit --no-fund
echo "$want" > "$stamp"
