#!/usr/bin/env bash
# Container images without a Docker engine: podman/buildah from Debian with runc (Debian 12's crun
# refuses this kind of VM's hybrid cgroup layout, and podman's default rlimits exceed its hard
# limits), storage and configuration under $SHOPSTREAM_CACHE/containers so the layer cache outlives
# a clone. Sourced by infra/images.sh.

CONTAINERS_HOME="$SHOPSTREAM_CACHE/containers"
IMAGE_TARGETS=(api relay consumer operator api-dev relay-dev consumer-dev operator-dev)
PRODUCTION_TARGETS=(api relay consumer operator)
LOCAL_TAG=local

podman_install() {
  local missing=()
  for tool in podman buildah runc mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "${missing[*]} missing and apt-get is not available; install Debian's podman buildah runc mmdebstrap"
  log "installing ${missing[*]} (Debian packages)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc mmdebstrap uidmap >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc mmdebstrap uidmap >/dev/null; }) \
    || die "apt-get install podman buildah runc mmdebstrap failed"
}

# The project's containers.conf and storage.conf, exported for every podman call of ours.
podman_configure() {
  mkdir -p "$CONTAINERS_HOME/storage" "$SHOPSTREAM_RUN/containers"
  cat >"$CONTAINERS_HOME/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  cat >"$CONTAINERS_HOME/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$CONTAINERS_HOME/storage"
runroot = "$SHOPSTREAM_RUN/containers"
CONF
  export CONTAINERS_CONF="$CONTAINERS_HOME/containers.conf"
  export CONTAINERS_STORAGE_CONF="$CONTAINERS_HOME/storage.conf"
}

# The base image exactly as the Dockerfile names it (ARG NODE_IMAGE), as podman resolves that name.
dockerfile_base_image() {
  local name
  name=$(sed -n 's/^ARG NODE_IMAGE=//p' "$REPO_DIR/Dockerfile")
  [ -n "$name" ] || die "the Dockerfile has no ARG NODE_IMAGE=<image>"
  case "$name" in */*) printf '%s' "$name" ;; *) printf 'docker.io/library/%s' "$name" ;; esac
}

# No public registry is reachable here, so the base image is made locally under that name: a minimal
# Debian root filesystem of the suite the name says, with the project's pinned Node and npm in
# /usr/local as the official image has them. Labelled as a stand-in; rebuilt when a pin changes.
base_image_ensure() {
  local image tag major suite key have rootfs tmp tarball got
  image=$(dockerfile_base_image)
  tag=${image##*:}
  major=${tag%%-*}
  suite=$(printf '%s' "$tag" | cut -d- -f2)
  [ "$major" = "${NODE_VERSION%%.*}" ] \
    || die "the Dockerfile's base image $image is Node $major, but infra/versions.env pins Node $NODE_VERSION"
  key="debian-$suite node-$NODE_VERSION npm-$NPM_VERSION"
  have=$(podman image inspect --format '{{ index .Labels "io.shopstream.stand-in" }}' "$image" 2>/dev/null || true)
  [ "$have" = "$key" ] && return 0
  log "making the local stand-in for $image ($key)"
  tmp=$(mktemp -d "$CONTAINERS_HOME/.base-XXXXXX")
  rootfs="$tmp/rootfs"
  # path-exclude: what debian:<suite>-slim leaves out too.
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,libatomic1 \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$rootfs" http://deb.debian.org/debian >"$tmp/mmdebstrap.log" 2>&1 \
    || { tail -20 "$tmp/mmdebstrap.log" >&2; rm -rf "$tmp"; die "mmdebstrap $suite failed"; }
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
  cp "$(node_home)/bin/node" "$rootfs/usr/local/bin/node"
  tarball=$(cd "$tmp" && npm pack --silent --ignore-scripts "npm@$NPM_VERSION") || { rm -rf "$tmp"; die "npm could not fetch npm@$NPM_VERSION"; }
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tarball" | base64 -w0)"
  [ "$got" = "$NPM_INTEGRITY" ] || { rm -rf "$tmp"; die "npm@$NPM_VERSION has sha512 $got, but infra/versions.env pins $NPM_INTEGRITY"; }
  tar -xzf "$tmp/$tarball" -C "$tmp"
  mv "$tmp/package" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  [ "$(chroot "$rootfs" /usr/local/bin/node --version)" = "v$NODE_VERSION" ] || { rm -rf "$tmp"; die "node does not run in the $suite root filesystem"; }
  tar -C "$rootfs" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    --change "LABEL io.shopstream.stand-in=\"$key\"" \
    --change 'LABEL org.opencontainers.image.description="local stand-in for the official Node.js image, made by infra/images.sh; never pushed"' \
    - "$image" >/dev/null || { rm -rf "$tmp"; die "podman import of $image failed"; }
  rm -rf "$tmp"
}

# This machine's trust store and an npmrc pointing npm at it, mounted only into the build's RUN steps:
# the registry may sit behind a TLS-intercepting proxy whose CA only the host trusts. The images
# themselves are left as the Dockerfile makes them.
build_trust_mounts() {
  local bundle=/etc/ssl/certs/ca-certificates.crt
  [ -f "$bundle" ] || return 0
  printf 'cafile=%s\n' "$bundle" >"$CONTAINERS_HOME/build-npmrc"
  printf -- '--volume=%s:%s:ro --volume=%s:/usr/local/etc/npmrc:ro' "$bundle" "$bundle" "$CONTAINERS_HOME/build-npmrc"
}

# Builds each target (all by default) as localhost/shopstream/<target>:local, reusing cached layers.
images_build() {
  local targets=("$@") mounts started t
  [ ${#targets[@]} -gt 0 ] || targets=("${IMAGE_TARGETS[@]}")
  base_image_ensure
  read -r -a mounts <<<"$(build_trust_mounts)"
  for t in "${targets[@]}"; do
    started=$(date +%s)
    podman build --pull=never --layers "${mounts[@]}" --target "$t" \
      --tag "localhost/shopstream/$t:$LOCAL_TAG" --file "$REPO_DIR/Dockerfile" "$REPO_DIR" \
      >"$SHOPSTREAM_RUN/containers/build-$t.log" 2>&1 \
      || { tail -30 "$SHOPSTREAM_RUN/containers/build-$t.log" >&2; die "podman build --target $t failed (log: $SHOPSTREAM_RUN/containers/build-$t.log)"; }
    log "built localhost/shopstream/$t:$LOCAL_TAG in $(( $(date +%s) - started ))s ($(image_size "$t"))"
  done
}

image_size() {
  podman image inspect --format '{{ .Size }}' "localhost/shopstream/$1:$LOCAL_TAG" \
    | awk '{ printf "%.0f MB", $1 / 1000 / 1000 }'
}
