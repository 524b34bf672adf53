#!/usr/bin/env bash
# Copies charts/ into a scratch directory, packages the umbrella's file:// dependencies there
# (`helm dependency build` writes charts/shopstream/charts/*.tgz and Chart.lock, build output that
# must not land in the repository) and prints the path of the umbrella chart to render.
#   usage: k8s/dev/umbrella-chart.sh [scratch-dir]   (default: $TMPDIR/shopstream-tilt-charts)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/shopstream-tilt-charts}"
helm="${HELM:-helm}"

rm -rf "$out"
mkdir -p "$out"
cp -R "$repo/charts" "$out/"
rm -rf "$out/charts/shopstream/charts" "$out/charts/shopstream/Chart.lock"
"$helm" dependency build "$out/charts/shopstream" >/dev/null
echo "$out/charts/shopstream"
