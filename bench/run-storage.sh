#!/usr/bin/env bash
# Storage benchmark: UpsertStream ingest against binary COPY; loading the search set as a bulk
# load (UpsertStream into an empty collection, index built by the server) against the hand-made
# path (binary COPY without the index, then CREATE INDEX); server RSS over that load and over
# model version load/unload cycles; then Search recall@10 (against exact search), latency and
# QPS at 1 and 8 clients, unfiltered and filtered (10%, 1%), over 100,000 clustered 512-d
# vectors. Writes its section of docs/benchmarks.md (between the storage-benchmark markers).
# About 15 min on 2 cores.
#   bench/run-storage.sh [options]     e.g. --rows 20000 --out /tmp/b.md (see --help)
#   bench/run-storage.sh --database-url postgresql://...   use that database (pgvector installed)
# BENCH_SERVER_JVM_OPTS adds JVM options to the server, named in the report (e.g. "-Xms2g -XX:+AlwaysPreTouch").
# Without --database-url it starts a private cluster in bench/target/pg
# (deploy/local/pg-cluster.sh) and stops it at the end. Builds bench/ when it is stale.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

bench_database "$@"

java -Xmx4g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main storage \
  --command "bench/run-storage.sh${args[*]:+ ${args[*]}}" --database-url "$url" --database-note "$note" \
  ${args[@]+"${args[@]}"}
