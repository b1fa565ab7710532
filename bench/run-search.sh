#!/usr/bin/env bash
# Search benchmark: gRPC Search by vector against the same k-NN statement in plain SQL on the
# collection's view (a JDBC client of its own, same ef_search, same top 10, metadata returned),
# p50/p99 and CPU per call at 1 and 8 clients; then filtered searches (equality at 10% and 1%,
# a range, an `and` of two keys) against unfiltered, with recall@10; then queries far from the
# data (between clusters, also with a range filter, random directions, captions against 20,000 scenes embedded by
# shapes-clip), recall@10 and latency. 100,000 clustered 512-d vectors by default. Writes its
# section of docs/benchmarks.md (between the search-benchmark markers). About 10 min on 2 cores
# (the HNSW index build and the scenes' ingest are much of it; --no-far-queries leaves them out).
#   bench/run-search.sh [options]     e.g. --rows 20000 --dimension 128 --no-report (see --help)
#   bench/run-search.sh --reuse       keep the collection, and reuse it on the next run
#   bench/run-search.sh --database-url postgresql://...   use that database (pgvector installed)
# BENCH_SERVER_JVM_OPTS adds JVM options to the server (e.g. -XX:StartFlightRecording=filename=s.jfr).
# Without --database-url it starts a private cluster in bench/target/pg
# (deploy/local/pg-cluster.sh) and stops it at the end. Builds bench/ when it is stale.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

bench_database "$@"

java -Xmx4g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main search \
  --command "bench/run-search.sh${args[*]:+ ${args[*]}}" --database-url "$url" --database-note "$note" \
  ${args[@]+"${args[@]}"}
