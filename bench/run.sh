#!/usr/bin/env bash
# Dynamic batching benchmark: encoder ceiling in-process, closed loop with batching off and
# on (images at 1, 4, 16, 64 and 256 callers, texts), open-loop 2x overload; writes docs/benchmarks.md. About 7-8 min
# (each server is warmed up until its JIT compiler is quiet before it is measured).
#   bench/run.sh [suite options]     e.g. --duration-s 10 --out /tmp/b.md (see --help)
# Builds bench/ (and what it needs) when it is not built or the sources changed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

exec java -Xmx2g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main suite \
  --command "bench/run.sh${*:+ $*}" "$@"
