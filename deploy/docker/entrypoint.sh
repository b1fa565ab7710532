#!/usr/bin/env bash
# The image's entry point, /opt/jointspace/bin/jointspace: the server's command line as
# ./jointspace runs it.
#   serve [FLAGS]              the server (`serve --help` lists every flag)
#   keys bootstrap [FLAGS]     the first admin API key, written into the database
#   health [--service MODEL]   exit 0 when the health port answers SERVING (the HEALTHCHECK)
#   --version
# `serve` without --config, --models, JOINTSPACE_CONFIG or JOINTSPACE_MODELS serves the
# shipped models with their configuration, as ./jointspace serve does. The image runs no
# database: give --database-url or JOINTSPACE_DATABASE_URL.
set -euo pipefail
HOME_DIR=/opt/jointspace
# TensorFlow's native libraries are unpacked here at start (about 650 MB): /tmp is the one
# writable path the image needs.
NATIVE_CACHE="${JOINTSPACE_NATIVE_CACHE:-/tmp/jointspace/javacpp}"

if [ "${1:-}" = serve ] && [ -z "${JOINTSPACE_CONFIG:-}" ] && [ -z "${JOINTSPACE_MODELS:-}" ] \
    && ! printf '%s\n' "$@" | grep -qE '^--(config|models)(=|$)'; then
  shift
  set -- serve --config "$HOME_DIR/models/serve.textproto" --models "$HOME_DIR/models" "$@"
fi

# word splitting of JOINTSPACE_JAVA_OPTS is meant: several JVM options in one variable
# shellcheck disable=SC2086
exec java ${JOINTSPACE_JAVA_OPTS:-} -Djointspace.home="$HOME_DIR" -Dorg.bytedeco.javacpp.cachedir="$NATIVE_CACHE" \
  -cp "$HOME_DIR/lib/jointspace-server.jar:$HOME_DIR/lib/*" io.jointspace.server.Main "$@"
