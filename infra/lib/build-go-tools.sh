#!/usr/bin/env bash
# Builds the Go-based tools (etcd, helm, kwok, actionlint) from the Go module proxy into $SHOPSTREAM_CACHE/<tool>-<version>/bin.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/go-env.sh"
need go "install Go 1.26 (https://go.dev/doc/install is not reachable here; use the machine image's /usr/local/go)"

# build_tool NAME VERSION PACKAGE [LDFLAGS]: a throwaway wrapper module pins PACKAGE@VERSION,
# because etcd's server module carries local replaces that `go install pkg@v` refuses.
build_tool() {
  local name=$1 version=$2 pkg=$3 ldflags=${4:-}
  local out="$SHOPSTREAM_CACHE/$name-$version"
  [ -x "$out/bin/$name" ] && return 0
  log "building $name $version from the Go module proxy (first time only)"
  mkdir -p "$out/src" "$out/bin"
  (cd "$out/src" && rm -f go.mod go.sum && go mod init "local/$name" >/dev/null 2>&1 \
    && go get "$pkg@$version" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out/bin/$name" "$pkg") \
    || die "building $name $version failed"
}

# kwok refuses to start without stages (the node and pod lifecycles it plays out); its module ships
# the stock ones. Copy them next to the binary so running kwok never depends on the module cache.
kwok_stages() {
  local out="$SHOPSTREAM_CACHE/kwok-v$KWOK_VERSION" stages
  [ -f "$out/stages/pod-ready.yaml" ] && return 0
  stages="$GOMODCACHE/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  [ -d "$stages" ] || (cd "$out/src" && go mod download "sigs.k8s.io/kwok@v$KWOK_VERSION")
  mkdir -p "$out/stages"
  cp "$stages/node/fast/node-initialize.yaml" "$stages/node/heartbeat/node-heartbeat.yaml" \
    "$stages/pod/fast/pod-ready.yaml" "$stages/pod/fast/pod-complete.yaml" "$stages/pod/fast/pod-delete.yaml" \
    "$out/stages/" || die "kwok v$KWOK_VERSION does not ship the stages we use under kustomize/stage"
}

case "${1:-all}" in
  etcd|all) build_tool etcd "v$ETCD_VERSION" go.etcd.io/etcd/server/v3 ;;&
  helm|all) build_tool helm "v$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
              "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" ;;&
  actionlint|all) build_tool actionlint "v$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint \
              "-X github.com/rhysd/actionlint.version=v$ACTIONLINT_VERSION" ;;&
  kwok|all) build_tool kwok "v$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok && kwok_stages ;;
esac
