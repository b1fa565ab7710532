#!/usr/bin/env bash
# Mixed-load benchmark: 12 callers for 12 minutes, each call picked at random among Embed of
# 1-8 images, Classify, Upsert of 1-16 images, a filtered Search by text, Get and Delete,
# against one server with its defaults; counts every refusal (RESOURCE_EXHAUSTED) and keeps
# what each was told. Writes its section of docs/benchmarks.md (between the mixed-benchmark
# markers). About 14 min.
#   bench/run-mixed.sh [options]     e.g. --duration-s 60 --out /tmp/b.md (see --help)
#   bench/run-mixed.sh --database-url postgresql://...   use that database (pgvector installed)
# Without --database-url it starts a private cluster in bench/target/pg
# (deploy/local/pg-cluster.sh) and stops it at the end. Builds bench/ when it is stale.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

bench_database "$@"

java -Xmx2g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main mixed \
  --command "bench/run-mixed.sh${args[*]:+ ${args[*]}}" --database-url "$url" --database-note "$note" \
  ${args[@]+"${args[@]}"}
