#!/usr/bin/env bash
# Warm-up benchmark: the first 100 calls to a version that appears in the repository while the
# server runs, against the same calls once steady, with warm-up on and off; then the time from
# `./jointspace serve` with the shipped models to SERVING (gRPC health), build excluded, several
# runs each. Writes its section of docs/benchmarks.md (between the warmup-benchmark markers).
# About 5 min on 2 cores.
#   bench/run-warmup.sh [options]     e.g. --start-runs 3 --out /tmp/b.md (see --help)
# Builds bench/ when it is stale.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

exec java -Xmx1g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main warmup \
  --command "bench/run-warmup.sh${*:+ $*}" "$@"
