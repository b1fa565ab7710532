#!/usr/bin/env bash
# Batching overhead benchmark: ModelInfer of TF Serving's half_plus_two (from
# ../shared/testdata/savedmodels; its rows are skipped when that is absent) and Embed of one
# image, at 1, 4, 8 and 64 callers, against two servers side by side, batching off and on, in
# windows that alternate between them (--rounds, default 2); server CPU per call from /proc,
# the in-process costs as the baseline. Writes its section of
# docs/benchmarks.md (between the overhead-benchmark markers). About 10 min on 2 cores.
#   bench/run-overhead.sh [options]     e.g. --callers 1,4 --out /tmp/b.md (see --help)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

exec java -Xmx2g -cp "$JAR:$ROOT/bench/target/lib/*" io.jointspace.bench.Main overhead \
  --command "bench/run-overhead.sh${*:+ $*}" "$@"
