#!/usr/bin/env bash
# A private PostgreSQL + pgvector cluster for development, tests and `./jointspace serve`.
#
#   deploy/local/pg-cluster.sh start DIR    create (first time) and start; prints the URL
#   deploy/local/pg-cluster.sh stop DIR     stop (fast shutdown)
#   deploy/local/pg-cluster.sh status DIR   exit 0 when running
#   deploy/local/pg-cluster.sh url DIR      postgresql://... of a running cluster
#
# The cluster listens on 127.0.0.1 only, on a free port (kept in DIR/port), with trust
# authentication: it is for this machine's own use. When called as root, the server runs
# as the `postgres` user (PostgreSQL refuses to run as root). After a crash (kill -9) the
# next start recovers from the WAL. Runs install-postgres.sh first when PostgreSQL or
# pgvector is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# Where the cluster's files live: DIR itself, or (when the postgres user cannot reach DIR,
# e.g. a checkout under /root) a folder under /var/lib/postgresql named in DIR/location.
base="$dir"
if [ -f "$dir/location" ]; then base="$(cat "$dir/location")"; fi
data="$base/data"
DB="${JOINTSPACE_DB_NAME:-jointspace}"

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}
bin="$(pg_bindir || true)"
if [ -z "$bin" ] || [ ! -f "$("$bin/pg_config" --sharedir 2>/dev/null)/extension/vector.control" ]; then
  "$here/install-postgres.sh" >&2
  bin="$(pg_bindir)"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# The postmaster of $data is alive: its pid exists and is no zombie (a killed server whose
# parent does not reap it would otherwise look alive to pg_ctl).
running() {
  local pid state
  [ -f "$data/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$data/postmaster.pid")"
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Z]).*/\1/' "/proc/$pid/stat")"
  [ "$state" != Z ] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null
}

# Live (non-zombie) processes working in the data folder: the server and its backends.
cluster_pids() {
  local p
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/cwd" 2>/dev/null)" = "$data" ] \
        && [ "$(sed -E 's/^[0-9]+ \(.*\) ([A-Z]).*/\1/' "$p/stat" 2>/dev/null)" != Z ]; then
      echo "${p#/proc/}"
    fi
  done
}

# After a crash: wait for orphaned backends to exit, then drop the stale lock file so the
# server starts and recovers from the WAL.
clear_stale() {
  [ -f "$data/postmaster.pid" ] || return 0
  for _ in $(seq 1 100); do
    [ -z "$(cluster_pids)" ] && break
    sleep 0.1
  done
  rm -f "$data/postmaster.pid"
  # the socket's lock names the dead postmaster too, which a zombie keeps "alive" to PostgreSQL
  rm -f "$base"/.s.PGSQL.*.lock "$base"/.s.PGSQL.[0-9]*[0-9]
}

url() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/$DB"
}

case "$cmd" in
  start)
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
      chown postgres "$dir"
      if [ "$base" = "$dir" ] && ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
        base="/var/lib/postgresql/jointspace/$(printf '%s' "$dir" | sha1sum | cut -c1-16)"
        mkdir -p "$base"
        chown postgres "$base"
        echo "$base" > "$dir/location"
        data="$base/data"
        echo "pg-cluster: the postgres user cannot reach $dir; the cluster lives in $base" >&2
      fi
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
# pgvector before 0.8.2 has a reported flaw in parallel HNSW index builds
max_parallel_maintenance_workers = 0
shared_buffers = 256MB
fsync = on
CONF
    fi
    if running; then
      url
      exit 0
    fi
    clear_stale
    # keep the last port when it is still free, so clients configured with the URL reconnect
    port=""
    if [ -f "$dir/port" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$dir/port")") 2>/dev/null; then
      port="$(cat "$dir/port")"
    fi
    [ -n "$port" ] || port="$(free_port)"
    echo "$port" > "$dir/port"
    as_owner "$bin/pg_ctl" -D "$data" -o "-p $port" -l "$base/server.log" -w -t 120 start >/dev/null
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
      as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
    fi
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d "$DB" -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
    url
    ;;
  stop)
    if running; then
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
  status)
    running
    ;;
  url)
    running || { echo "not running: $dir" >&2; exit 1; }
    url
    ;;
  *)
    echo "unknown command: $cmd (start, stop, status, url)" >&2
    exit 2
    ;;
esac
