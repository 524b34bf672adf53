#!/usr/bin/env bash
# `npm test`: install what is missing, then lint, type-check and run every test (unit and integration)
# against real PostgreSQL, Kafka and kube-apiserver. Safe to run on a fresh machine and on a warm one.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "node.js and node dependencies"
# The project's pinned Node (fetched once into ~/.cache/shopstream), first on PATH for everything below.
. infra/lib/node.sh
echo "node $(node --version) ($(command -v node)), npm $(npm --version)"
bash infra/lib/npm-deps.sh

step "lint"
npm run -s lint

step "type-check"
npx tsc -b

step "infrastructure (install into ~/.cache/shopstream if missing, then start)"
bash infra/infra.sh up
# In CI nothing should outlive the run; on a workstation the warm services are reused next time.
if [ "${CI:-}" = true ]; then trap 'bash infra/infra.sh down || true' EXIT; fi

step "container images (podman/buildah; layers cached in ~/.cache/shopstream/containers)"
# tests/integration/images runs what this builds, as the charts run it.
bash infra/images.sh build

step "jest: unit and integration"
report=$(mktemp)
set +e
# --forceExit: the run ends when the last test file has, even if a test left a handle open (the
# integration project's global teardown names it); CI must never wait out its limit on a finished run.
# --no-experimental-webstorage: jest's environment reads every global, and Node 26's localStorage
# getter warns on each read without a --localstorage-file; no test uses Web Storage.
node --experimental-vm-modules --no-experimental-webstorage node_modules/jest/bin/jest.js --ci --forceExit --json --outputFile="$report" "$@"
rc=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
rm -f "$report"
step "done"
exit $rc
