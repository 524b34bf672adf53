# PostgreSQL from Debian's packages, its own cluster in $SHOPSTREAM_RUN/postgres on 127.0.0.1:$PG_PORT.
PG_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"
PG_DIR="$SHOPSTREAM_RUN/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"

postgres_install() {
  [ -x "$PG_BIN/postgres" ] && return 0
  log "installing postgresql-$POSTGRES_MAJOR from Debian packages"
  command -v apt-get >/dev/null || die "PostgreSQL $POSTGRES_MAJOR is missing and apt-get is not available; install postgresql-$POSTGRES_MAJOR"
  # The package's own cluster is not ours: do not let the install start it.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$POSTGRES_MAJOR" >/dev/null) \
    || { rm -f /usr/sbin/policy-rc.d; die "apt-get install postgresql-$POSTGRES_MAJOR failed"; }
  rm -f /usr/sbin/policy-rc.d
}

postgres_healthy() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres 2>/dev/null; }

postgres_start() {
  postgres_healthy && return 0
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
      || die "initdb failed; see $PG_DIR/initdb.log"
  fi
  # fsync off: this cluster holds test data only, and it makes the suite much faster on small disks.
  as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=logical" \
    >/dev/null || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start; see its log: $PG_LOG"; }
  wait_healthy PostgreSQL postgres_healthy 30 "$PG_LOG"
}

postgres_stop() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

postgres_version() { "$PG_BIN/postgres" --version | awk '{print $3}'; }
postgres_endpoint() { echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"; }
postgres_log() { echo "$PG_LOG"; }
