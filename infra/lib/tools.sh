# CLI tools the tests use: Helm and actionlint (built from the Go module proxy), Prometheus/promtool
# (Debian, unpacked into the cache so no daemon is installed or started) and shellcheck (Debian).
HELM_BIN="$SHOPSTREAM_CACHE/helm-v$HELM_VERSION/bin/helm"
PROM_DIR="$SHOPSTREAM_CACHE/prometheus-debian"
PROMTOOL_BIN="$PROM_DIR/usr/bin/promtool"
PROMETHEUS_BIN="$PROM_DIR/usr/bin/prometheus"
ACTIONLINT_BIN="$SHOPSTREAM_CACHE/actionlint-v$ACTIONLINT_VERSION/bin/actionlint"
SHELLCHECK_BIN=/usr/bin/shellcheck

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

# actionlint checks a workflow's run: scripts only through shellcheck, and skips them silently when
# shellcheck is missing: so both come together, and callers pass -shellcheck="$SHELLCHECK_BIN".
actionlint_install() {
  if [ ! -x "$SHELLCHECK_BIN" ]; then
    log "installing shellcheck from Debian packages"
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }) \
      || die "apt-get install shellcheck failed"
  fi
  bash "$INFRA_DIR/lib/build-go-tools.sh" actionlint
}
actionlint_version() { "$ACTIONLINT_BIN" -version 2>/dev/null | head -n 1; }
