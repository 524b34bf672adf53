#!/usr/bin/env bash
# The project's container images, built with podman/buildah (no Docker engine needed):
#   images.sh build [TARGET...]  the local base-image stand-in if missing, then every Dockerfile target
#                               (or those named) as localhost/shopstream/<target>:local
#   images.sh podman ARGS...     podman with the project's configuration (runtime, rlimits, storage)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$INFRA_DIR/lib/node.sh"
. "$INFRA_DIR/lib/images.sh"

podman_install
podman_configure
case "${1:-}" in
  build) shift; exec 9>"$SHOPSTREAM_RUN/.images.lock"; flock 9; images_build "$@" ;;
  podman) shift; exec podman "$@" ;;
  *) echo "usage: images.sh build [TARGET...] | podman ARGS..." >&2; exit 2 ;;
esac
