# CLI tools the tests use: Helm (built from the Go module proxy) and Prometheus/promtool (Debian,
# unpacked into the cache so no daemon is installed or started).
HELM_BIN="$SHOPSTREAM_CACHE/helm-v$HELM_VERSION/bin/helm"
PROM_DIR="$SHOPSTREAM_CACHE/prometheus-debian"
PROMTOOL_BIN="$PROM_DIR/usr/bin/promtool"
PROMETHEUS_BIN="$PROM_DIR/usr/bin/prometheus"

helm_install() { bash "$INFRA_DIR/lib/build-go-tools.sh" helm; }
helm_version() { "$HELM_BIN" version --short 2>/dev/null; }

promtool_install() {
  [ -x "$PROMTOOL_BIN" ] && return 0
  log "fetching Debian's prometheus package for promtool"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }; }) \
    || die "apt-get download prometheus failed"
  mkdir -p "$PROM_DIR" && dpkg-deb -x "$tmp"/prometheus_*.deb "$PROM_DIR" && rm -rf "$tmp"
  [ -x "$PROMTOOL_BIN" ] || die "the prometheus package did not contain promtool"
}
promtool_version() { "$PROMTOOL_BIN" --version 2>&1 | awk 'NR==1 {print $3}'; }
