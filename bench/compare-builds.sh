#!/usr/bin/env bash
# Same-run comparison of two server builds under the batching workload: this checkout's build
# (B) against a baseline build (A), a folder holding jointspace-server.jar and lib/ as
# server/target has them after `./jointspace build` at another commit. The two run in turn,
# A B A B ..., each a fresh server warmed up before it is measured, so that drift of the
# machine hits both alike; the report gives each pair's ratio B/A.
#   bench/compare-builds.sh BASELINE_DIR [ROUNDS] [WARMUP_S] [DURATION_S] [CONCURRENCY]
# Defaults: 2 rounds, 45 s warm-up before each kind, 20 s measured, 64 closed-loop callers
# (images, then texts). About 2 x 2 x 2.3 min with the defaults. Warm up long enough for the JIT
# compiler to finish with each path: with 5 s before the texts (after 30 s of images), texts
# measured 8-22% apart between two builds that measure within 1% after 70 s.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

baseline="$(cd "${1:?usage: bench/compare-builds.sh BASELINE_DIR [ROUNDS] [WARMUP_S] [DURATION_S] [CONCURRENCY]}" && pwd)"
rounds="${2:-2}"
warmup="${3:-45}"
duration="${4:-20}"
callers="${5:-64}"
[ -f "$baseline/jointspace-server.jar" ] && [ -d "$baseline/lib" ] \
  || { echo "compare-builds: $baseline has no jointspace-server.jar and lib/" >&2; exit 2; }
if [ ! -f "$ROOT/server/target/jointspace-server.jar" ]; then
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl server -am)
fi
current="$ROOT/server/target"
logs="$ROOT/bench/target/compare"
mkdir -p "$logs"

# one build: start it, warm it up, measure images then texts; prints "images_rps texts_rps images_p99_ms"
measure() {
  local build="$1" name="$2" port low=32768
  # below the kernel's ephemeral ports, which outgoing connections may hold unseen
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range || low=32768
  fi
  [ "$low" -ge 21000 ] || low=40000
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % (low - 20000) ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  java -Xmx2g -cp "$build/jointspace-server.jar:$build/lib/*" -Djointspace.home="$ROOT" io.jointspace.server.Main \
    serve --models "$ROOT/models" --grpc-port "$port" --http-port -1 --poll-interval-ms -1 \
    --data-dir "$logs/pg" >"$logs/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 180); do
    grep -q "serving gRPC" "$logs/$name.log" && break
    kill -0 "$pid" 2>/dev/null || { echo "compare-builds: $name did not start; see $logs/$name.log" >&2; exit 1; }
    sleep 1
  done
  local load=(java -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main load --target "127.0.0.1:$port"
    --concurrency "$callers" --server-pid "$pid")
  local images texts
  images=$("${load[@]}" --kind image --warmup-s "$warmup" --duration-s "$duration")
  texts=$("${load[@]}" --kind text --warmup-s "$warmup" --duration-s "$duration")
  kill -TERM "$pid"
  wait "$pid" || true
  echo "$name images: $images" >&2
  echo "$name texts:  $texts" >&2
  echo "$(rps "$images") $(rps "$texts") $(p99 "$images")"
}
rps() { sed -E 's/.*: ([0-9.]+) req\/s OK.*/\1/' <<<"$1"; }
p99() { sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' <<<"$1"; }

echo "| round | images req/s A / B (B/A) | texts req/s A / B (B/A) | images p99 ms A / B |"
echo "| ---: | --- | --- | --- |"
for r in $(seq 1 "$rounds"); do
  read -r ai at ap <<<"$(measure "$baseline" "baseline-$r")"
  read -r bi bt bp <<<"$(measure "$current" "current-$r")"
  printf '| %d | %s / %s (%.3f) | %s / %s (%.3f) | %s / %s |\n' "$r" "$ai" "$bi" \
    "$(awk "BEGIN { print $bi / $ai }")" "$at" "$bt" "$(awk "BEGIN { print $bt / $at }")" "$ap" "$bp"
done
echo "A: $baseline; B: $current; $callers closed-loop callers, ${warmup} s warm-up per kind, ${duration} s measured"
