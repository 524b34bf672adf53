# Shared by every infra script: where things live, logging, and failing with a reason.
INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
# shellcheck source=../versions.env
. "$INFRA_DIR/versions.env"
export SHOPSTREAM_CACHE="${SHOPSTREAM_CACHE:-$HOME/.cache/shopstream}"
# Runtime state (data dirs, logs, pids). The ports are machine-wide, so the state is too; it sits
# outside /root because PostgreSQL runs as the postgres user and must reach its data dir.
export SHOPSTREAM_RUN="${SHOPSTREAM_RUN:-/var/tmp/shopstream}"
mkdir -p "$SHOPSTREAM_CACHE" "$SHOPSTREAM_RUN"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed: $2"; }

# Starts a command detached from this shell (own session), its output in LOG, its pid in PIDFILE.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  # 9>&-: the child must not inherit infra.sh's lock, or the lock would live as long as the service.
  setsid nohup "$@" >"$logfile" 2>&1 < /dev/null 9>&- &
  echo $! >"$pidfile"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process in PIDFILE: TERM, then KILL after TIMEOUT seconds.
stop_pid() {
  local pidfile=$1 name=$2 timeout=${3:-20} pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((timeout * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in ${timeout}s; killing it"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$pidfile"
}

# Polls CHECK (a function name) until it succeeds; on timeout names the service and its log.
wait_healthy() {
  local name=$1 check=$2 timeout=$3 logfile=$4 pidfile=${5:-}
  for _ in $(seq $((timeout * 2))); do
    "$check" && return 0
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then
      tail -n 30 "$logfile" >&2 || true
      die "$name exited during start-up; see its log: $logfile"
    fi
    sleep 0.5
  done
  tail -n 30 "$logfile" >&2 || true
  die "$name was not healthy within ${timeout}s; see its log: $logfile"
}

# Runs as the postgres user when we are root: PostgreSQL refuses to run as root.
as_pg_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@" 9>&-; else "$@" 9>&-; fi; }
