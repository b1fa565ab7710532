# Sourced by bench/run.sh, bench/run-storage.sh and bench/run-rollout.sh: sets ROOT and JAR,
# moves to ROOT, quiets TensorFlow, keeps DJL offline, and builds bench/ (and what it needs)
# when it is not built or a source it depends on changed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/jointspace-bench.jar"
cd "$ROOT"

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export OPT_OUT_TRACKING=true DJL_OFFLINE=true

if [ ! -f "$JAR" ] || [ ! -d "$ROOT/bench/target/lib" ] || [ -n "$(find "$ROOT/pom.xml" "$ROOT/proto" \
    "$ROOT/registry" "$ROOT/server" "$ROOT/clients/java" "$ROOT/models/trainer" "$ROOT/bench" -path '*/target' -prune -o \
    -name '*.java' -newer "$JAR" -print -o -name 'pom.xml' -newer "$JAR" -print -o -name '*.proto' \
    -newer "$JAR" -print -o -name '*.sql' -newer "$JAR" -print | head -n 1)" ]; then
  echo "bench: building (mvn package -pl bench -am)" >&2
  mvn -B -q -DskipTests package -pl bench -am ${BENCH_MVN_ARGS:-}
fi
