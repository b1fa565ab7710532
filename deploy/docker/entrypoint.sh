#!/usr/bin/env bash
# The image's launcher, /opt/jointspace/jointspace: the server's command line, run as
# ./jointspace runs it but without building anything.
#   serve [FLAGS]              the server (`serve --help` lists every flag)
#   keys bootstrap [FLAGS]     the first admin API key, written into the database
#   runtime                    what TensorFlow runs on (the image build runs it once)
#   --version
# `serve` without --config, --models, JOINTSPACE_CONFIG or JOINTSPACE_MODELS serves the
# shipped models with their configuration, as ./jointspace serve does, and then listens on
# every interface of the container (API keys required) with the plaintext health port on
# 8502, unless a flag or JOINTSPACE_GRPC_ADDRESS / JOINTSPACE_HEALTH_PORT says otherwise.
# A configuration of your own gets the server's defaults for what it leaves out. The image
# runs no database: give --database-url or JOINTSPACE_DATABASE_URL.
set -euo pipefail
HOME_DIR=/opt/jointspace

given() {
  local flag="$1"
  shift
  printf '%s\n' "$@" | grep -qE -- "^--$flag(=|$)"
}

if [ "${1:-}" = serve ] && [ -z "${JOINTSPACE_CONFIG:-}" ] && [ -z "${JOINTSPACE_MODELS:-}" ] \
    && ! given config "$@" && ! given models "$@"; then
  shift
  defaults=(--config "$HOME_DIR/models/serve.textproto" --models "$HOME_DIR/models")
  [ -n "${JOINTSPACE_GRPC_ADDRESS:-}" ] || given grpc-address "$@" || defaults+=(--grpc-address 0.0.0.0)
  [ -n "${JOINTSPACE_HEALTH_PORT:-}" ] || given health-port "$@" || defaults+=(--health-port 8502)
  set -- serve "${defaults[@]}" "$@"
fi

# TensorFlow's native code: unpacked into JavaCPP's cache by `runtime` when the image was
# built, then loaded from there (native/lib) without the cache, which wants to be writable.
native=(-Dorg.bytedeco.javacpp.cachedir="$HOME_DIR/native/javacpp")
if [ -d "$HOME_DIR/native/lib" ]; then
  native+=(-Dorg.bytedeco.javacpp.pathsFirst=true -Dorg.bytedeco.javacpp.cacheLibraries=false
           -Djava.library.path="$HOME_DIR/native/lib")
fi

# Word splitting of JOINTSPACE_JAVA_OPTS is meant: several JVM options in one variable.
# shellcheck disable=SC2086
exec java "${native[@]}" ${JOINTSPACE_JAVA_OPTS:-} -Djointspace.home="$HOME_DIR" \
  -cp "$HOME_DIR/lib/jointspace-server.jar:$HOME_DIR/lib/*" io.jointspace.server.Main "$@"
