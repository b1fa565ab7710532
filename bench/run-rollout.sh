#!/usr/bin/env bash
# Rollout benchmark: the backfill's rate (StartRollout of 4,000 demo scenes from shapes-clip 1
# to 2) against the same encoder's best rate in-process, from pixels and from PNG bytes; then
# live Search and Embed latency and throughput with no rollout, beside a backfill, and beside a
# rate-limited one. Writes its section of docs/benchmarks.md (between the rollout-benchmark
# markers). About 5 min on 2 cores.
#   bench/run-rollout.sh [options]     e.g. --items 800 --duration-s 5 --out /tmp/b.md (see --help)
#   bench/run-rollout.sh --database-url postgresql://...   use that database (pgvector installed)
# Without --database-url it starts a private cluster in bench/target/pg-rollout
# (deploy/local/pg-cluster.sh), runs in a fresh database of its own there (--own-database)
# and stops the cluster at the end. Builds bench/ when it is stale.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

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
own=()
if [ -z "$url" ]; then
  PG_DIR="$ROOT/bench/target/pg-rollout"
  url="$("$ROOT/deploy/local/pg-cluster.sh" start "$PG_DIR")"
  trap '"$ROOT/deploy/local/pg-cluster.sh" stop "$PG_DIR"' EXIT
  # the cluster takes its password only (kept in PG_DIR/password)
  url="postgresql://postgres:$(cat "$PG_DIR/password")@${url#postgresql://postgres@}"
  note="a private cluster in bench/target/pg-rollout, deploy/local/pg-cluster.sh"
  own=(--own-database bench_rollout)
fi

java -Xmx2g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main rollout \
  --command "bench/run-rollout.sh${args[*]:+ ${args[*]}}" --database-url "$url" --database-note "$note" \
  ${own[@]+"${own[@]}"} ${args[@]+"${args[@]}"}
