#!/usr/bin/env bash
# A private PostgreSQL + pgvector cluster for development, tests and `./jointspace serve`.
#
#   deploy/local/pg-cluster.sh start DIR    create (first time) and start; prints the URL
#   deploy/local/pg-cluster.sh stop DIR     stop (fast shutdown)
#   deploy/local/pg-cluster.sh status DIR   exit 0 when running
#   deploy/local/pg-cluster.sh url DIR      postgresql://... of a running cluster
#   deploy/local/pg-cluster.sh standby DIR PRIMARY_DIR
#                                           make DIR a streaming replica (hot standby) of the
#                                           running cluster of PRIMARY_DIR (pg_basebackup -R,
#                                           first time) and start it; prints its URL. Later,
#                                           start/stop/status/url DIR work on it as on any cluster
#
# The cluster listens on 127.0.0.1 only, on a free port (kept in DIR/port). Connections over
# TCP need the password of the user `postgres` (SCRAM-SHA-256), a random one kept in
# DIR/password (mode 0600, owned by the user who runs this script); the printed URL leaves
# it out. When called as root, the server runs as the `postgres` user (PostgreSQL refuses to
# run as root). After a crash (kill -9) the next start recovers from the WAL. Runs
# install-postgres.sh first when PostgreSQL or pgvector is missing.
#
# A standby copies the primary's files, its password included (DIR/password is the primary's),
# and follows the primary over a replication connection on 127.0.0.1 (SCRAM, the same
# password, kept for the server in a 0600 file beside its data). It answers reads only;
# `SELECT pg_promote()` on it (or `pg_ctl promote`) would make it a primary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

die() { echo "pg-cluster: $*" >&2; exit 1; }

# Files this script reads or replaces must be what it wrote: never a link (which could point
# a root-run script at any file of the machine).
no_link() {
  local f
  for f in "$@"; do
    [ ! -L "$f" ] || die "$f is a symbolic link; refusing to use it"
  done
}

[ ! -L "$dir" ] || die "$dir is a symbolic link; give the folder itself"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd -P)"
# Where the cluster's files live: DIR itself, or (when the postgres user cannot reach DIR,
# e.g. a checkout under /root) a folder under /var/lib/postgresql named in DIR/location.
hashed_base="/var/lib/postgresql/jointspace/$(printf '%s' "$dir" | sha1sum | cut -c1-16)"
base="$dir"
no_link "$dir/location" "$dir/port" "$dir/password"
if [ -e "$dir/location" ]; then
  # only ever the one folder this script would choose for DIR
  [ -f "$dir/location" ] && [ "$(cat "$dir/location")" = "$hashed_base" ] \
    || die "$dir/location does not name $hashed_base; remove it if the cluster was moved"
  base="$hashed_base"
  no_link /var/lib/postgresql /var/lib/postgresql/jointspace "$base"
fi
data="$base/data"
no_link "$data"
DB="${JOINTSPACE_DB_NAME:-jointspace}"
[[ "$DB" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "JOINTSPACE_DB_NAME must be a plain identifier (got '$DB')"

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

# Whether something listens on 127.0.0.1:$1.
listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port nothing listens on, below the kernel's range of ephemeral ports (which outgoing
# connections take their local ports from, unseen by this check, and which then cannot be
# bound): from 20000 up to that range (32768 on Linux by default).
free_port() {
  local p low=32768 span
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range || low=32768
  fi
  span=$(( low - 20000 ))
  [ "$span" -ge 1000 ] || span=20000
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % span ))
    if ! listening "$p"; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# The user the database server runs as.
owner_name() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Replaces DIR/NAME with CONTENT atomically: a new file (never an existing one, so no link is
# followed) renamed over the old name. Written by the user running this script.
write_file() {
  local name="$1" content="$2" tmp
  no_link "$dir/$name"
  tmp="$(umask 077 && mktemp "$dir/.$name.XXXXXX")"
  printf '%s\n' "$content" > "$tmp"
  mv -f -T "$tmp" "$dir/$name"
}

# DIR/port: a port number, or nothing when the file is missing or holds anything else.
read_port() {
  local p
  [ -f "$dir/port" ] || return 0
  p="$(head -c 16 "$dir/port" | head -n 1)"
  if [[ "$p" =~ ^[0-9]{4,5}$ ]] && [ "$p" -le 65535 ]; then echo "$p"; fi
}

# The password of the database user `postgres`: DIR/password, made on first use. Refused
# when it is not a plain file of this user, readable by this user only.
password_file() {
  local f="$dir/password"
  no_link "$f"
  if [ ! -e "$f" ]; then
    write_file password "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  fi
  [ -f "$f" ] && [ "$(stat -c %u "$f")" = "$(id -u)" ] && [ "$(stat -c %a "$f")" = 600 ] \
    || die "$f must be a file of $(id -un) with mode 0600; remove it to make a new password"
  [[ "$(cat "$f")" =~ ^[0-9a-f]{32,128}$ ]] || die "$f does not hold a password this script wrote; remove it to make a new one"
  echo "$f"
}

# Authentication: SCRAM-SHA-256 passwords over TCP (loopback only), and on the socket the
# server's own operating-system user as `postgres` (peer), for this script's own work.
write_hba() {
  local hba ident
  hba="# written by deploy/local/pg-cluster.sh
local all postgres peer map=owner
host  all all 127.0.0.1/32 scram-sha-256
host  replication postgres 127.0.0.1/32 scram-sha-256"
  ident="# written by deploy/local/pg-cluster.sh
owner $(owner_name) postgres"
  changed=no
  if [ "$(cat "$data/pg_hba.conf")" != "$hba" ] || [ "$(cat "$data/pg_ident.conf" 2>/dev/null)" != "$ident" ]; then
    printf '%s\n' "$hba" | as_owner tee "$data/pg_hba.conf" >/dev/null
    printf '%s\n' "$ident" | as_owner tee "$data/pg_ident.conf" >/dev/null
    changed=yes
  fi
}

# psql over the cluster's socket, as the server's user
psql_local() {
  as_owner "$bin/psql" -h "$base" -p "$port" -U postgres -X -v ON_ERROR_STOP=1 "$@"
}

# The postmaster of $data is alive: its pid exists and is no zombie (a killed server whose
# parent does not reap it would otherwise look alive to pg_ctl).
running() {
  local pid state
  [ -f "$data/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$data/postmaster.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/stat" ] || return 1
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
# server starts and recovers from the WAL. Deleted as the server's user: these folders are its.
clear_stale() {
  [ -f "$data/postmaster.pid" ] || return 0
  for _ in $(seq 1 100); do
    [ -z "$(cluster_pids)" ] && break
    sleep 0.1
  done
  as_owner rm -f "$data/postmaster.pid"
  # the socket's lock names the dead postmaster too, which a zombie keeps "alive" to PostgreSQL
  as_owner find "$base" -maxdepth 1 -name '.s.PGSQL.*' -delete
}

url() {
  local p
  p="$(read_port)"
  [ -n "$p" ] || die "$dir/port holds no port"
  echo "postgresql://postgres@127.0.0.1:$p/$DB"
}

# The cluster of PRIMARY_DIR as a standby's source: its port and password, read the way this
# script reads its own (no links, a port number, a password this script wrote).
primary_source() {
  local pdir="$1" p
  [ -n "$pdir" ] || die "standby needs the primary's folder: standby DIR PRIMARY_DIR"
  [ ! -L "$pdir" ] || die "$pdir is a symbolic link; give the folder itself"
  [ -d "$pdir" ] || die "$pdir is not a folder"
  pdir="$(cd "$pdir" && pwd -P)"
  [ "$pdir" != "$dir" ] || die "a cluster cannot be its own standby"
  no_link "$pdir/port" "$pdir/password"
  p="$(head -c 16 "$pdir/port" 2>/dev/null | head -n 1)"
  [[ "$p" =~ ^[0-9]{4,5}$ ]] || die "$pdir/port holds no port; start the primary first (start $pdir)"
  [ -f "$pdir/password" ] && [ "$(stat -c %u "$pdir/password")" = "$(id -u)" ] \
    && [[ "$(cat "$pdir/password")" =~ ^[0-9a-f]{32,128}$ ]] || die "$pdir/password is not a password this script wrote"
  primary_port="$p"
  primary_password="$(cat "$pdir/password")"
}

case "$cmd" in
  start|standby)
    if [ "$cmd" = standby ]; then
      primary_source "${3:-}"
    fi
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
      chown postgres "$dir"
      if [ "$base" = "$dir" ] && ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
        base="$hashed_base"
        mkdir -p "$base"
        no_link /var/lib/postgresql /var/lib/postgresql/jointspace "$base"
        chown postgres "$base"
        write_file location "$base"
        data="$base/data"
        echo "pg-cluster: the postgres user cannot reach $dir; the cluster lives in $base" >&2
      fi
    fi
    if [ "$cmd" = standby ] && [ ! -f "$data/PG_VERSION" ]; then
      # the standby's roles are the primary's: so is its password
      no_link "$dir/password"
      [ ! -e "$dir/password" ] || [ "$(cat "$dir/password")" = "$primary_password" ] \
        || die "$dir/password differs from the primary's; remove it (and DIR) to make a new standby"
      write_file password "$primary_password"
      # the replication connection's password, for pg_basebackup and then the standby's
      # WAL receiver (-R names this file in primary_conninfo): the server's user's, 0600
      no_link "$base/primary.pgpass"
      printf '127.0.0.1:%s:*:postgres:%s\n' "$primary_port" "$primary_password" \
        | as_owner sh -c 'umask 077 && cat > "$1"' _ "$base/primary.pgpass"
      as_owner env PGPASSFILE="$base/primary.pgpass" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" \
        -U postgres -D "$data" -R -X stream --checkpoint=fast --no-password >/dev/null \
        || die "pg_basebackup from 127.0.0.1:$primary_port failed (is the primary running, started by this script?)"
      # the primary's socket folder came with its configuration: this cluster's own instead
      printf "unix_socket_directories = '%s'\n" "$base" | as_owner tee -a "$data/postgresql.conf" >/dev/null
    elif [ "$cmd" = standby ] && [ ! -f "$data/standby.signal" ]; then
      die "$data holds a cluster that is not a standby; give an empty folder"
    fi
    pwfile="$(password_file)"
    if [ ! -f "$data/PG_VERSION" ]; then
      # no password yet: the socket (peer) only, until the password is set below
      as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=reject \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      as_owner tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
password_encryption = 'scram-sha-256'
# pgvector before 0.8.2 has a reported flaw in parallel HNSW index builds
max_parallel_maintenance_workers = 0
shared_buffers = 256MB
fsync = on
# per-statement calls, times and JIT work: CREATE EXTENSION pg_stat_statements to read them
shared_preload_libraries = 'pg_stat_statements'
CONF
    fi
    # a cluster made by an older script (trust) is brought to password authentication here
    write_hba
    if running; then
      [ "$changed" = no ] || as_owner "$bin/pg_ctl" -D "$data" reload >/dev/null
      port="$(read_port)"
      [ -n "$port" ] || die "$dir/port holds no port while the cluster runs"
    else
      clear_stale
      # keep the last port when it is still free, so clients configured with the URL reconnect
      port="$(read_port)"
      if [ -n "$port" ] && listening "$port"; then port=""; fi
      [ -n "$port" ] || port="$(free_port)"
      # another process may take the port between the check and the bind (a cluster started
      # beside this one): then start again on another
      for try in 1 2 3 4; do
        write_file port "$port"
        log_lines=0
        [ ! -f "$base/server.log" ] || log_lines=$(wc -l < "$base/server.log")
        if as_owner "$bin/pg_ctl" -D "$data" -o "-p $port -c unix_socket_permissions=0700" -l "$base/server.log" \
          -w -t 120 start >/dev/null; then
          break
        fi
        if [ "$try" -lt 4 ] && tail -n +"$((log_lines + 1))" "$base/server.log" 2>/dev/null \
          | grep -q 'could not bind\|could not create any TCP/IP sockets'; then
          echo "pg-cluster: port $port was taken meanwhile; starting on another" >&2
          port="$(free_port)"
          continue
        fi
        die "the cluster did not start; see $base/server.log"
      done
    fi
    if [ -f "$data/standby.signal" ]; then
      # a standby takes its roles, databases and extensions from its primary (read-only here)
      url
      exit 0
    fi
    # the password of DIR/password, sent on stdin (never on a command line)
    printf "SET client_min_messages = warning; ALTER ROLE postgres PASSWORD '%s';\n" "$(cat "$pwfile")" \
      | psql_local -d postgres -q -f - >/dev/null
    if ! psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
      psql_local -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
    fi
    psql_local -d "$DB" -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
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
    echo "unknown command: $cmd (start, stop, status, url, standby)" >&2
    exit 2
    ;;
esac
