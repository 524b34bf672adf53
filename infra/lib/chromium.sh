# Headless Chromium from Debian's packages, for the admin page's browser test (driven by
# playwright-core, which never downloads browsers itself: it is pointed at CHROMIUM_BIN).
CHROMIUM_BIN=/usr/bin/chromium

chromium_install() {
  [ -x "$CHROMIUM_BIN" ] && return 0
  log "installing $CHROMIUM_PACKAGE from Debian packages"
  command -v apt-get >/dev/null || die "$CHROMIUM_PACKAGE is missing and apt-get is not available; install Debian's $CHROMIUM_PACKAGE package"
  # --no-install-recommends: the recommended fonts, sandbox helpers and desktop integration are
  # hundreds of megabytes a headless test does not use.
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$CHROMIUM_PACKAGE" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$CHROMIUM_PACKAGE" >/dev/null; }) \
    || die "apt-get install $CHROMIUM_PACKAGE failed"
  [ -x "$CHROMIUM_BIN" ] || die "the $CHROMIUM_PACKAGE package did not install $CHROMIUM_BIN"
}

chromium_version() { "$CHROMIUM_BIN" --version 2>/dev/null | awk '{print $2}'; }
