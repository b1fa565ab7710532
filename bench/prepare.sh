# Sourced by the bench/run*.sh scripts: sets ROOT and JAR,
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

# bench_database ARGS...: sets url (--database-url, else a private cluster in bench/target/pg
# started now and stopped when the script exits), note (where the database came from) and
# args (the other arguments).
bench_database() {
  url=""
  args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --database-url) url="$2"; shift 2 ;;
      --database-url=*) url="${1#--database-url=}"; shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  note="given with --database-url"
  if [ -z "$url" ]; then
    PG_DIR="$ROOT/bench/target/pg"
    url="$("$ROOT/deploy/local/pg-cluster.sh" start "$PG_DIR")"
    trap '"$ROOT/deploy/local/pg-cluster.sh" stop "$PG_DIR"' EXIT
    # the cluster takes its password only (kept in PG_DIR/password)
    url="postgresql://postgres:$(cat "$PG_DIR/password")@${url#postgresql://postgres@}"
    note="a private cluster in bench/target/pg, deploy/local/pg-cluster.sh"
  fi
}
