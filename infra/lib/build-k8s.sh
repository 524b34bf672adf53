#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from the Go module proxy
# into $SHOPSTREAM_CACHE/k8s-<version>/bin, all from one wrapper module so they share one dependency
# graph and one Go build cache: adding a binary to a cache that has the others compiles only its own
# packages.
# k8s.io/kubernetes requires its staging modules at v0.0.0 through local replaces, which a module
# consumer cannot see; we replace each one with its published v0.<minor>.<patch> instead.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/go-env.sh"

out="$SHOPSTREAM_CACHE/k8s-$K8S_VERSION"
bins=(kube-apiserver kubectl)
# The plain apiserver profile (SHOPSTREAM_CONTROL_PLANE=0) needs neither controllers nor a scheduler.
[ "${SHOPSTREAM_CONTROL_PLANE:-1}" = 0 ] || bins+=(kube-controller-manager kube-scheduler)
missing=0; for b in "${bins[@]}"; do [ -x "$out/bin/$b" ] || missing=1; done
[ "$missing" = 0 ] && exit 0
minor=$(echo "$K8S_VERSION" | cut -d. -f2); patch=${K8S_VERSION##*.}
src="$out/src"; mkdir -p "$src" "$out/bin"
log "building ${bins[*]} v$K8S_VERSION (first time only; several minutes)"

gomod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
[ -f "$gomod" ] || die "could not download k8s.io/kubernetes@v$K8S_VERSION from the Go module proxy"
{
  printf 'module local/k8sbins\n\ngo 1.26\n\nrequire k8s.io/kubernetes v%s\n\n' "$K8S_VERSION"
  { grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | cut -d' ' -f1
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0( |$)' "$gomod" | awk '{print $1}'; } | sort -u |
    awk -v v="v0.$minor.$patch" '{print "replace " $1 " => " $1 " " v}'
} > "$src/go.mod"
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${bins[@]}"
  printf ')\n'
} > "$src/tools.go"
(cd "$src" && go mod tidy)
ldf="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
(cd "$src" && go build -trimpath -ldflags "$ldf" -o "$out/bin/" "${bins[@]/#/k8s.io/kubernetes/cmd/}")
log "built $("$out/bin/kube-apiserver" --version)"
