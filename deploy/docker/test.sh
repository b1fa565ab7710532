#!/usr/bin/env bash
# The container image test: the server as the image runs it, against a PostgreSQL outside it.
#
#   deploy/docker/test.sh           builds the image from the built jars (build.sh --prebuilt), then tests it
#   deploy/docker/test.sh IMAGE     tests IMAGE of this checkout's store (e.g. the full build of build.sh)
#
# A private PostgreSQL + pgvector cluster (deploy/local/pg-cluster.sh, in var/docker-test/pg)
# listens on loopback; the image runs with `buildah run --isolation chroot`, which shares the
# host's network, with its root filesystem mounted read-only and only /tmp writable (and a
# root-owned /run, which buildah itself needs). Checks: start-up fails at once, naming
# JOINTSPACE_DATABASE_URL, without a database; `keys bootstrap` in the image makes an admin key;
# the image's start command serves on 0.0.0.0 with API keys required, as uid/gid 10001; the
# image's HEALTHCHECK passes on the health port and fails on a closed one; over loopback gRPC
# a call without a key is refused, a text and an image are embedded, and a collection is
# upserted and searched by text and by image; the server wrote next to nothing to /tmp (the
# native libraries were unpacked when the image was built); SIGTERM stops it cleanly. Cleans
# up on any exit: the server, the working container, its mounts and the database; a
# container a killed run left behind goes at the next start. Needs root or sudo (buildah, mount).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/docker/store.sh
. "$ROOT/deploy/docker/store.sh"
WORK="$ROOT/var/docker-test"
PGDIR="$WORK/pg"
DB=jointspace_image
started=$SECONDS

pass() { echo "image-test: PASS $*"; }
fail() {
  echo "image-test: FAIL $*" >&2
  if [ -s "$WORK/server.log" ]; then
    echo "image-test: the server's last lines:" >&2
    tail -n 30 "$WORK/server.log" | sed 's/^/  | /' >&2
  fi
  exit 1
}

# A port nothing listens on, below the kernel's range of ephemeral ports: an outgoing
# connection (the server's own to PostgreSQL among them) takes its local port from that range,
# unseen by this check, and a port it holds cannot be bound (a server once failed to start here
# with its HTTP port "in use" that way).
free_port() {
  local p low=32768 span
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range || low=32768
  fi
  span=$(( low - 20000 ))
  [ "$span" -ge 1000 ] || span=20000
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % span ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# The pids under $1, depth first.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# The server's java process among the working container's processes under $1.
java_pid() {
  local p
  for p in $(descendants "$1"); do
    if [ "$(ps -o comm= -p "$p" 2>/dev/null)" = java ]; then echo "$p"; return 0; fi
  done
  return 1
}

# Stops the server started under the runner pid $1 (SIGTERM, then SIGKILL after 20 s).
stop_server() {
  local runner="$1" pid
  pid="$(java_pid "$runner")" && as_root kill -TERM "$pid"
  for _ in $(seq 1 40); do kill -0 "$runner" 2>/dev/null || break; sleep 0.5; done
  pid="$(java_pid "$runner")" && as_root kill -KILL "$pid"
  kill -0 "$runner" 2>/dev/null && as_root kill -TERM "$runner"
  wait "$runner" 2>/dev/null
}

# Our mounts over a working container's root filesystem, last first (each was mounted once).
MOUNTS=()
unmount_ours() {
  local i
  for (( i = ${#MOUNTS[@]} - 1; i >= 0; i-- )); do
    as_root umount "${MOUNTS[$i]}"
  done
  MOUNTS=()
}

ctr="" runner=""
cleanup() {
  local rc=$?
  set +e
  [ -z "$runner" ] || stop_server "$runner"
  unmount_ours
  [ -z "$ctr" ] || buildah_ rm "$ctr" >/dev/null
  "$ROOT/deploy/local/pg-cluster.sh" stop "$PGDIR" >/dev/null 2>&1
  # TensorFlow's unpacked native libraries (about 650 MB)
  as_root rm -rf "$WORK/tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A working container that a killed run left behind, with the mounts it made over it.
for old in $(buildah_ containers --quiet --filter name=jointspace-image-test- 2>/dev/null); do
  old_mnt="$(buildah_ mount "$old")"
  # its processes (a server still running) are those whose root directory is that container's
  old_root="$(stat -c %d:%i "$old_mnt/")"
  for proc in /proc/[0-9]*; do
    [ "$(as_root stat -L -c %d:%i "$proc/root/" 2>/dev/null)" != "$old_root" ] \
      || as_root kill -KILL "${proc#/proc/}" 2>/dev/null || true
  done
  for m in "$old_mnt/run" "$old_mnt/tmp"; do
    ! mountpoint -q "$m" || as_root umount "$m"
  done
  # the read-only bind over the root is the topmost mount there, when it is still in place
  [ "$(findmnt -n -o OPTIONS --target "$old_mnt" | cut -d, -f1)" != ro ] || as_root umount "$old_mnt"
  buildah_ rm "$old" >/dev/null
done
as_root rm -rf "$WORK/tmp"

mkdir -p "$WORK"
rm -f "$WORK/server.log"

image="${1:-}"
if [ -z "$image" ]; then
  image="$("$ROOT/deploy/docker/build.sh" --prebuilt)" || fail "deploy/docker/build.sh --prebuilt"
fi
buildah_ inspect --type image "$image" >/dev/null 2>&1 || fail "no image $image"
pass "image $image"

# The image's configuration: user, start command and health check.
buildah_ inspect --type image "$image" >"$WORK/image.json"
image_config() {
  python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["Docker"]["config"]; exec(sys.argv[2])' "$WORK/image.json" "$1"
}
user="$(image_config 'print(c.get("User", ""))')"
[ "$user" = 10001:10001 ] || fail "the image's user is '$user', not 10001:10001"
mapfile -t start_command < <(image_config '[print(w) for w in (c.get("Entrypoint") or []) + (c.get("Cmd") or [])]')
mapfile -t health_command < <(image_config '
t = (c.get("Healthcheck") or {}).get("Test") or ["NONE"]
for w in (t[1:] if t[0] == "CMD" else ["/bin/sh", "-c", t[1]] if t[0] == "CMD-SHELL" else []):
    print(w)')
[ ${#start_command[@]} -gt 0 ] || fail "the image has no start command"
[ ${#health_command[@]} -gt 0 ] || fail "the image has no HEALTHCHECK (built without --format docker?)"
pass "image config: user 10001:10001, start command '${start_command[*]}', health check '${health_command[*]}'"

# The database, outside the image: a private cluster on loopback, and a fresh database in it.
"$ROOT/deploy/local/pg-cluster.sh" start "$PGDIR" >/dev/null
pg_port="$(cat "$PGDIR/port")"
PGPASSWORD="$(cat "$PGDIR/password")"
export PGPASSWORD
psql_bin="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)"
PGOPTIONS="-c client_min_messages=warning" \
  "$psql_bin" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
database_url="postgresql://postgres:$PGPASSWORD@127.0.0.1:$pg_port/$DB"
pass "PostgreSQL + pgvector on 127.0.0.1:$pg_port, database $DB"

# The working container: its root filesystem read-only, /tmp writable (and /run, a small
# root-owned tmpfs: buildah writes /run/.containerenv there for each run).
ctr="$(buildah_ from --pull=never --name "jointspace-image-test-$$" "$image")"
mnt="$(buildah_ mount "$ctr")"
mkdir -p "$WORK/tmp"
as_root chmod 1777 "$WORK/tmp"
as_root mount --bind "$mnt" "$mnt" && MOUNTS+=("$mnt")
as_root mount -o remount,bind,ro "$mnt"
as_root mount --bind "$WORK/tmp" "$mnt/tmp" && MOUNTS+=("$mnt/tmp")
as_root mount -t tmpfs -o size=1m,mode=0755 jointspace-image-run "$mnt/run" && MOUNTS+=("$mnt/run")
in_image() { buildah_ run --isolation chroot "$@"; }
in_image "$ctr" -- sh -c '! touch /opt/jointspace/probe 2>/dev/null && touch /tmp/probe && rm /tmp/probe' \
  || fail "the root filesystem should be read-only and /tmp writable"
pass "root filesystem read-only, /tmp writable"

# Without a database URL, start-up fails at once and says what to give.
no_db_log="$WORK/no-database.log"
in_image -e "JOINTSPACE_GRPC_PORT=$(free_port)" -e "JOINTSPACE_HEALTH_PORT=$(free_port)" -e JOINTSPACE_METRICS_PORT=-1 \
  "$ctr" -- "${start_command[@]}" >"$no_db_log" 2>&1 &
runner=$!
for _ in $(seq 1 120); do kill -0 "$runner" 2>/dev/null || break; sleep 0.5; done
kill -0 "$runner" 2>/dev/null && fail "without a database URL, the server was still running after 60 s"
no_db_rc=0
wait "$runner" || no_db_rc=$?
runner=""
[ "$no_db_rc" -ne 0 ] || fail "without a database URL, the server exited 0"
grep -q "JOINTSPACE_DATABASE_URL" "$no_db_log" || { cat "$no_db_log" >&2; fail "no database URL: the error does not name JOINTSPACE_DATABASE_URL"; }
pass "without a database URL, start-up fails (exit $no_db_rc): $(grep -o 'Cannot start.*' "$no_db_log" | head -n 1)"

# The first admin key, made with the image itself.
JOINTSPACE_API_KEY="$(in_image "$ctr" -- /opt/jointspace/jointspace keys bootstrap --database-url "$database_url" 2>"$WORK/bootstrap.log")" \
  || { cat "$WORK/bootstrap.log" >&2; fail "keys bootstrap"; }
[[ "$JOINTSPACE_API_KEY" =~ ^js_[0-9a-f]{16}_ ]] || fail "keys bootstrap printed no key"
export JOINTSPACE_API_KEY
pass "keys bootstrap in the image: key ${JOINTSPACE_API_KEY:3:16}"

# The server, with the image's own start command.
grpc_port="$(free_port)" health_port="$(free_port)" http_port="$(free_port)"
in_image -e "JOINTSPACE_DATABASE_URL=$database_url" -e "JOINTSPACE_GRPC_PORT=$grpc_port" \
  -e "JOINTSPACE_HEALTH_PORT=$health_port" -e "JOINTSPACE_HTTP_PORT=$http_port" \
  "$ctr" -- "${start_command[@]}" >"$WORK/server.log" 2>&1 &
runner=$!
for _ in $(seq 1 240); do
  grep -q "Jointspace serving gRPC on" "$WORK/server.log" && break
  kill -0 "$runner" 2>/dev/null || fail "the server exited during start-up"
  sleep 0.5
done
serving="$(grep -o "Jointspace serving gRPC on.*" "$WORK/server.log")" || fail "the server did not start within 120 s"
[[ "$serving" == *"0.0.0.0:$grpc_port"*"API keys required"* ]] || fail "expected 0.0.0.0:$grpc_port with API keys required: $serving"
pass "server started in the image: $serving"

server="$(java_pid "$runner")" || fail "no java process under the working container"
uids="$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$server/status")"
gids="$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$server/status")"
[ "$uids" = "10001 10001 10001 10001" ] && [ "$gids" = "10001 10001 10001 10001" ] \
  || fail "the server runs as uid $uids, gid $gids"
pass "server process $server runs as uid 10001, gid 10001"

in_image -e "JOINTSPACE_HEALTH_PORT=$health_port" "$ctr" -- "${health_command[@]}" >"$WORK/health.log" 2>&1 \
  || { cat "$WORK/health.log" >&2; fail "the image's health check on the health port"; }
if in_image -e "JOINTSPACE_HEALTH_PORT=$(free_port)" "$ctr" -- "${health_command[@]}" >>"$WORK/health.log" 2>&1; then
  fail "the image's health check passed on a port nothing listens on"
fi
pass "health check in the image: healthy on the health port $health_port, unhealthy on a closed port"

# Over loopback gRPC, with the command line of this checkout.
cli() { "$ROOT/jointspace" "$1" --address "127.0.0.1:$grpc_port" "${@:2}"; }
if env -u JOINTSPACE_API_KEY "$ROOT/jointspace" models --address "127.0.0.1:$grpc_port" >"$WORK/nokey.log" 2>&1; then
  fail "a call without an API key was answered"
fi
grep -q UNAUTHENTICATED "$WORK/nokey.log" || { cat "$WORK/nokey.log" >&2; fail "a call without a key: not UNAUTHENTICATED"; }
pass "a call without an API key: UNAUTHENTICATED"

samples="$ROOT/docs/samples"
cli embed --model shapes-clip@2 --text "a red star" --image "$samples/red-star.png" --output json >"$WORK/embed.json" \
  || fail "embed"
dims="$(python3 -c '
import json, math, sys
r = json.load(open(sys.argv[1]))
vectors = [e["values"] for e in r["embeddings"]]
assert len(vectors) == 2, vectors
for v in vectors:
    assert abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-3, "not normalized"
print(" ".join(str(len(v)) for v in vectors))' "$WORK/embed.json")" || { cat "$WORK/embed.json" >&2; fail "embed: unexpected answer"; }
[ "$dims" = "64 64" ] || fail "embed: dimensions $dims, expected 64 64"
pass "embed a text and an image with shapes-clip@2: two unit vectors of 64"

cat >"$WORK/items.jsonl" <<JSONL
{"id": "red-star", "image_path": "$samples/red-star.png", "metadata": {"color": "red", "shape": "star"}}
{"id": "blue-circle", "image_path": "$samples/blue-circle.png", "metadata": {"color": "blue", "shape": "circle"}}
{"id": "caption", "text": "a small green hexagon at the top", "metadata": {"color": "green", "shape": "hexagon"}}
JSONL
cli collections create image_test --model shapes-clip@2 >/dev/null || fail "collections create"
cli ingest image_test "$WORK/items.jsonl" >"$WORK/ingest.log" 2>&1 || { cat "$WORK/ingest.log" >&2; fail "ingest"; }
pass "collection image_test created, 3 items upserted"

top_hit() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["hits"][0]["id"])' "$1"
}
cli search image_test --text "a red star" --top-k 3 --output json >"$WORK/search-text.json" || fail "search by text"
hit="$(top_hit "$WORK/search-text.json")" || { cat "$WORK/search-text.json" >&2; fail "search by text: no hits"; }
[ "$hit" = red-star ] || fail "search by text 'a red star': first hit $hit"
cli search image_test --image "$samples/blue-circle.png" --top-k 3 --output json >"$WORK/search-image.json" \
  || fail "search by image"
hit="$(top_hit "$WORK/search-image.json")" || { cat "$WORK/search-image.json" >&2; fail "search by image: no hits"; }
[ "$hit" = blue-circle ] || fail "search by image blue-circle.png: first hit $hit"
pass "search by text and by image: red-star, blue-circle first"

# What the server wrote: only /tmp can take anything (the root filesystem is read-only), and
# the native libraries were unpacked when the image was built, not there.
written_kb="$(as_root du -sk "$WORK/tmp" | cut -f1)"
[ "$written_kb" -lt 10240 ] || fail "the server wrote $written_kb KiB under /tmp: $(as_root ls -A "$WORK/tmp")"
pass "written under /tmp: $written_kb KiB ($(as_root ls -A "$WORK/tmp" | tr '\n' ' ' | sed 's/ $//'))"

as_root kill -TERM "$server"
for _ in $(seq 1 60); do kill -0 "$runner" 2>/dev/null || break; sleep 0.5; done
kill -0 "$runner" 2>/dev/null && fail "the server did not stop within 30 s of SIGTERM"
wait "$runner" || true
runner=""
grep -q "JointspaceServer - Stopped" "$WORK/server.log" || fail "no clean shutdown in the log"
pass "SIGTERM: the server stopped cleanly"

echo "image-test: PASS all checks in $(( SECONDS - started )) s"
