#!/usr/bin/env bash
# Generates the client code of every language that needs it from the protos in proto/, into
# the clients' folders (the output is committed). Run it again after a .proto changes; it
# always rewrites the same files from scratch, so running it twice changes nothing.
#
#   clients/generate.sh            every language
#   clients/generate.sh python     only the named ones (python, go, node)
#
# The protos compiled for each client: the Jointspace API (jointspace/v1, and
# jointspace/config/v1 that ModelService imports), KServe v2 (inference/), google/rpc/status
# (EmbedStream's errors) and gRPC's health and reflection services. Each language is one
# generate_<language> function below; add a language as one more function and name it in LANGUAGES.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

LANGUAGES=(python go node)
API_PROTOS=proto/src/main/proto
GRPC_SERVICES_VERSION=1.85.1

# Packages a language's step needs: installed with apt-get when missing (as root, or with sudo).
need_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "Installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >&2 || {
    $sudo apt-get update -q >&2 && $sudo apt-get install -y -q "${missing[@]}" >&2
  }
}

# Protos the API imports but the repository does not hold, gathered into $DEPS:
# google/rpc/status.proto from the copy Maven unpacks while building proto/, and gRPC's health
# and reflection protos from the grpc-services jar in the local Maven repository.
gather_dependency_protos() {
  DEPS="$WORK/deps"
  mkdir -p "$DEPS"

  local status
  status="$(find proto/target/protoc-dependencies -path '*/google/rpc/status.proto' 2>/dev/null | head -n1)"
  if [ -z "$status" ]; then
    echo "Unpacking the proto module's dependencies (mvn generate-sources)" >&2
    MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" mvn -B -o -q -pl proto generate-sources >&2
    status="$(find proto/target/protoc-dependencies -path '*/google/rpc/status.proto' | head -n1)"
  fi
  [ -n "$status" ] || { echo "google/rpc/status.proto not found under proto/target" >&2; exit 1; }
  mkdir -p "$DEPS/google/rpc"
  cp "$status" "$DEPS/google/rpc/status.proto"

  local jar="$HOME/.m2/repository/io/grpc/grpc-services/$GRPC_SERVICES_VERSION/grpc-services-$GRPC_SERVICES_VERSION.jar"
  [ -f "$jar" ] || { echo "$jar not found: build the server once (mvn package)" >&2; exit 1; }
  unzip -q -o "$jar" 'grpc/health/v1/health.proto' 'grpc/reflection/v1/reflection.proto' -d "$DEPS"
}

# Python: messages, type stubs (.pyi) and gRPC stubs in clients/python/jointspace/_gen.
#
# Compiled with Debian's protoc 3.21 and grpc_python_plugin rather than the protoc Maven
# downloads (33.x): Python code from protoc 26 and later refuses to load on a protobuf runtime
# older than its own, and Debian's python3-protobuf is 4.21 (protoc 3.21's own runtime).
# The generated modules import each other by their proto package (`jointspace.v1`,
# `grpc.health.v1`), which would clash with this package and with grpcio; those imports
# are rewritten to `jointspace._gen.<package>`.
generate_python() {
  # libprotobuf-dev: the well-known types (google/protobuf/*.proto) under /usr/include
  need_debian_packages protobuf-compiler libprotobuf-dev protobuf-compiler-grpc python3-protobuf python3-grpcio

  local out=clients/python/jointspace/_gen
  local tmp="$WORK/python"
  mkdir -p "$tmp"
  local sources=(
    "$API_PROTOS"/jointspace/v1/*.proto
    "$API_PROTOS"/jointspace/config/v1/*.proto
    "$API_PROTOS"/inference/grpc_predict_v2.proto
    "$DEPS"/google/rpc/status.proto
    "$DEPS"/grpc/health/v1/health.proto
    "$DEPS"/grpc/reflection/v1/reflection.proto
  )
  local services=(
    "$API_PROTOS"/jointspace/v1/*_service.proto
    "$API_PROTOS"/inference/grpc_predict_v2.proto
    "$DEPS"/grpc/health/v1/health.proto
    "$DEPS"/grpc/reflection/v1/reflection.proto
  )
  local includes=(-I"$API_PROTOS" -I"$DEPS" -I/usr/include)
  protoc "${includes[@]}" --python_out="$tmp" --pyi_out="$tmp" "${sources[@]}"
  protoc "${includes[@]}" --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \
    --grpc_out="$tmp" "${services[@]}"

  find "$tmp" \( -name '*.py' -o -name '*.pyi' \) -exec sed -E -i \
    's/^from (jointspace|inference|google\.rpc|grpc\.health|grpc\.reflection)((\.[a-z0-9_]+)*) import /from jointspace._gen.\1\2 import /' {} +
  find "$tmp" -type d -exec sh -c 'printf "" > "$1/__init__.py"' _ {} \;
  printf '"""Code generated from the protos by clients/generate.sh: do not edit."""\n' > "$tmp/__init__.py"

  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp" "$out"
  chmod -R u+rwX,go+rX "$out"

  # Every generated module must import under its new name.
  (cd clients/python && find jointspace/_gen -name '*.py' ! -name '__init__.py' | sort | sed 's/\.py$//; s#/#.#g' |
    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c 'import importlib, sys; [importlib.import_module(m.strip()) for m in sys.stdin]')
  echo "Python: $(find "$out" -name '*.py' ! -name '__init__.py' | wc -l) modules in $out" >&2
}

# Go: messages and gRPC stubs in clients/go/jointspacev1, clients/go/configv1 and
# clients/go/inference (the packages the protos' go_package options name), with Debian's protoc,
# protoc-gen-go and protoc-gen-go-grpc. google/rpc/status, health and reflection are not
# generated: Go has them in google.golang.org/genproto/googleapis/rpc/status (which
# status.proto's own go_package names) and in google.golang.org/grpc/health/grpc_health_v1 and
# google.golang.org/grpc/reflection. The generated packages are compiled once at the end, in
# GOPATH mode with Debian's Go libraries, so a file that does not build is caught here.
generate_go() {
  need_debian_packages protobuf-compiler libprotobuf-dev protoc-gen-go protoc-gen-go-grpc golang-go \
    golang-google-protobuf-dev golang-google-grpc-dev golang-google-genproto-dev golang-github-golang-protobuf-1-5-dev

  local module=github.com/jointspace/jointspace/clients/go
  local packages=(jointspacev1 configv1 inference)
  local tmp="$WORK/go"
  mkdir -p "$tmp"
  local sources=(
    "$API_PROTOS"/jointspace/v1/*.proto
    "$API_PROTOS"/jointspace/config/v1/*.proto
    "$API_PROTOS"/inference/grpc_predict_v2.proto
  )
  protoc -I"$API_PROTOS" -I"$DEPS" -I/usr/include \
    --go_out="$tmp" --go_opt=module="$module" \
    --go-grpc_out="$tmp" --go-grpc_opt=module="$module" "${sources[@]}"

  local package
  mkdir -p clients/go
  for package in "${packages[@]}"; do
    [ -d "$tmp/$package" ] || { echo "protoc wrote no $package: check the protos' go_package" >&2; exit 1; }
    rm -rf "clients/go/$package"
    mv "$tmp/$package" "clients/go/$package"
    chmod -R u+rwX,go+rX "clients/go/$package"
  done

  # Every generated package must compile.
  local gopath="$WORK/gopath"
  mkdir -p "$gopath/src/$(dirname "$module")"
  ln -s "$ROOT/clients/go" "$gopath/src/$module"
  (cd "$gopath/src/$module" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" \
    GOFLAGS= go build "${packages[@]/#/./}")
  echo "Go: $(find "${packages[@]/#/clients/go/}" -name '*.go' | wc -l) files in ${packages[*]/#/clients/go/}" >&2
}

# Node/TypeScript: messages and @grpc/grpc-js service clients in clients/node/src/gen, written
# by ts-proto (its version pinned in clients/node/package-lock.json) run by Debian's protoc,
# and src/gen/fields.ts: each RPC's request type and each message's fields, which the client's
# errors use to tell a field path in a server message from an ordinary word.
generate_node() {
  need_debian_packages protobuf-compiler libprotobuf-dev
  command -v npm >/dev/null 2>&1 || need_debian_packages nodejs npm

  local dir=clients/node
  local out="$dir/src/gen"
  local tmp="$WORK/node"
  mkdir -p "$tmp/gen"
  # the generator is a devDependency: install what the lock file pins when node_modules is
  # missing or older than the lock file (without building the package, which needs src/gen)
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund >&2)
  fi

  local sources=(
    "$API_PROTOS"/jointspace/v1/*.proto
    "$API_PROTOS"/jointspace/config/v1/*.proto
    "$API_PROTOS"/inference/grpc_predict_v2.proto
    "$DEPS"/google/rpc/status.proto
    "$DEPS"/grpc/health/v1/health.proto
    "$DEPS"/grpc/reflection/v1/reflection.proto
  )
  local includes=(-I"$API_PROTOS" -I"$DEPS" -I/usr/include)
  # env=node: bytes as Buffer; int64 as number (the API's ids, versions and counts fit)
  protoc "${includes[@]}" --plugin=protoc-gen-ts_proto="$dir/node_modules/.bin/protoc-gen-ts_proto" \
    --ts_proto_out="$tmp/gen" --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true \
    "${sources[@]}"
  protoc "${includes[@]}" --include_imports --descriptor_set_out="$tmp/descriptors.pb" "${sources[@]}"
  (cd "$dir" && node scripts/field-table.mjs "$tmp/descriptors.pb" "$tmp/gen/fields.ts")

  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp/gen" "$out"
  chmod -R u+rwX,go+rX "$out"
  echo "Node: $(find "$out" -name '*.ts' | wc -l) modules in $out" >&2
}

main() {
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  local languages=("$@")
  [ ${#languages[@]} -gt 0 ] || languages=("${LANGUAGES[@]}")
  local language
  for language in "${languages[@]}"; do
    declare -F "generate_$language" >/dev/null || { echo "unknown language: $language (known: ${LANGUAGES[*]})" >&2; exit 2; }
  done
  gather_dependency_protos
  for language in "${languages[@]}"; do
    "generate_$language"
  done
}

main "$@"
