#!/usr/bin/env bash
# Installs node_modules from package-lock.json when they are missing or stale (keyed by the lock's hash).
set -euo pipefail
cd "$(dirname "$0")/../.."
node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M<20 || (M===20 && m<19)) { console.error(`Node ${process.versions.node} is too old: shopstream needs Node 20.19+ (apt-get install -y nodejs from the machine image)`); process.exit(1) }'
stamp=node_modules/.shopstream-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --no-audit --no-fund
echo "$want" > "$stamp"
