#!/usr/bin/env bash
# Trains shapes-clip versions 1 and 2 into models/shapes-clip (TF Serving layout), then
# scores them and writes models/trainer/EVALUATION.md. Extra arguments go to `train`
# (for example --versions 2, --steps 50 for a quick try, --out DIR).
# About 10 minutes on 2 CPU cores; see models/trainer/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ ! -f models/trainer/target/jointspace-trainer.jar ] || [ ! -d models/trainer/target/lib ]; then
  mvn -q -pl models/trainer -am package -DskipTests
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" OPT_OUT_TRACKING=true DJL_OFFLINE=true
cp="models/trainer/target/jointspace-trainer.jar:models/trainer/target/lib/*"
out=models/shapes-clip
args=("$@")
given=no
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--out" ] && [ $((i + 1)) -lt ${#args[@]} ]; then out="${args[$((i + 1))]}"; given=yes; fi
done
if [ "$given" = no ]; then args=(--out "$out" "${args[@]}"); fi
java -Xmx3g -cp "$cp" io.jointspace.trainer.Main train "${args[@]}"
java -Xmx3g -cp "$cp" io.jointspace.trainer.Main evaluate --models "$out" --markdown models/trainer/EVALUATION.md
