#!/usr/bin/env bash
# Dynamic batching benchmark: encoder ceiling in-process, closed loop with batching off and
# on (images, texts), open-loop 2x overload; writes docs/benchmarks.md. About 4-5 min.
#   bench/run.sh [suite options]     e.g. --duration-s 10 --out /tmp/b.md (see --help)
# Builds bench/ (and what it needs) when it is not built or the sources changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/jointspace-bench.jar"
cd "$ROOT"

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export OPT_OUT_TRACKING=true DJL_OFFLINE=true

if [ ! -f "$JAR" ] || [ ! -d "$ROOT/bench/target/lib" ] || [ -n "$(find "$ROOT/pom.xml" "$ROOT/proto" \
    "$ROOT/registry" "$ROOT/server" "$ROOT/models/trainer" "$ROOT/bench" -path '*/target' -prune -o \
    -name '*.java' -newer "$JAR" -print -o -name 'pom.xml' -newer "$JAR" -print -o -name '*.proto' \
    -newer "$JAR" -print | head -n 1)" ]; then
  echo "bench: building (mvn package -pl bench -am)" >&2
  mvn -B -q -DskipTests package -pl bench -am ${BENCH_MVN_ARGS:-}
fi

exec java -Xmx2g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main suite \
  --command "bench/run.sh${*:+ $*}" "$@"
