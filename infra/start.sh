#!/usr/bin/env bash
# `npm start`: the local main job. Installs what is missing, brings the infrastructure up and shows
# where everything listens. Later issues add the API, relays, consumer and operator to this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/lib/npm-deps.sh
bash infra/infra.sh up
echo
bash infra/infra.sh status
echo
echo "kubectl: $(bash infra/infra.sh env --json | node -e 'const e=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(`${e.kubectl} --kubeconfig ${e.kubeconfig}`)')"
echo "Stop everything with: npm run infra -- down"
