#!/usr/bin/env bash
# The project's Node.js: `. infra/lib/node.sh` makes sure $SHOPSTREAM_CACHE/node-<version> holds the
# pinned NODE_VERSION (fetched once from the npm registry's node-linux-<arch> package, its sha512
# checked against versions.env) and puts its bin/ first on PATH. Everything after that — npm's
# scripts, tsc, jest, the services the tests spawn (process.execPath) — runs on it, whatever Node
# the machine has; the machine's npm is only the launcher.
# `bash infra/lib/node.sh CMD...` does the same and then runs CMD.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

node_home() { printf '%s/node-%s' "$SHOPSTREAM_CACHE" "$NODE_VERSION"; }

ensure_project_node() {
  local home arch integrity tmp tarball got
  home=$(node_home)
  if [ -x "$home/bin/node" ] && [ "$("$home/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then return 0; fi
  case "$(uname -m)" in
    x86_64) arch=x64 integrity=$NODE_INTEGRITY_X64 ;;
    aarch64 | arm64) arch=arm64 integrity=$NODE_INTEGRITY_ARM64 ;;
    *) die "no Node.js $NODE_VERSION build is pinned for $(uname -m) (infra/versions.env has x64 and arm64)" ;;
  esac
  need npm "the machine's npm launches the project's Node (apt-get install -y nodejs npm)"
  log "fetching Node.js $NODE_VERSION (npm package node-linux-$arch) into $home"
  tmp=$(mktemp -d "$SHOPSTREAM_CACHE/.node-XXXXXX")
  # npm pack: the registry, mirror and credentials the machine's npm is configured with.
  tarball=$(cd "$tmp" && npm pack --silent --ignore-scripts "node-linux-$arch@$NODE_VERSION") \
    || { rm -rf "$tmp"; die "npm could not fetch node-linux-$arch@$NODE_VERSION from $(npm config get registry)"; }
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tarball" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    rm -rf "$tmp"
    die "node-linux-$arch@$NODE_VERSION has sha512 $got, but infra/versions.env pins $integrity; refusing it"
  fi
  tar -xzf "$tmp/$tarball" -C "$tmp"
  [ "$("$tmp/package/bin/node" --version)" = "v$NODE_VERSION" ] || { rm -rf "$tmp"; die "the fetched node does not report v$NODE_VERSION"; }
  rm -rf "$home"
  mv "$tmp/package" "$home"
  rm -rf "$tmp"
}

ensure_project_node
export PATH="$(node_home)/bin:$PATH"

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then exec "$@"; fi
