#!/usr/bin/env bash
# The cross-language check (clients/crosscheck/README.md): starts one server (the shipped
# models, a private database under a temporary folder), runs the same scenario through each
# client library and the command line, and compares their outputs.
#
#   clients/crosscheck/run.sh                 every language
#   clients/crosscheck/run.sh java python     only these (the first is the reference)
#
# Set JOINTSPACE_TEST_ADDRESS (host:port) to use a server already running instead. Expects
# what the clients' own test scripts install (./jointspace test runs those first).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LANGUAGES=(java python go node cli)
START_TIMEOUT_S=240

run_java() {
  java -cp "clients/java/target/test-classes:clients/java/target/jointspace-client.jar:clients/java/target/lib/*" \
    io.jointspace.client.CrossCheck "$@"
}
run_python() { /usr/bin/python3 clients/python/tests/crosscheck.py "$@"; }
run_go() {
  # built offline with Debian's Go, from the vendor tree clients/go/test.sh assembles
  [ -d clients/go/vendor ] || clients/go/vendor-debian.sh
  (cd clients/go && PATH="/usr/lib/go/bin:$PATH" GO111MODULE=on GOFLAGS=-mod=vendor GOPROXY=off GOSUMDB=off \
    go build -o "$WORK/crosscheck-go" ./cmd/crosscheck)
  "$WORK/crosscheck-go" "$@"
}
run_node() {
  # the package built as clients/node/test.sh builds it
  [ -f clients/node/dist/src/index.js ] || (cd clients/node && npm ci --no-audit --no-fund >&2 && npm run --silent build >&2)
  node clients/node/crosscheck.mjs "$@"
}
run_cli() { /usr/bin/python3 clients/crosscheck/cli.py "$@"; }

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
  local port
  port="$(free_port)"
  ADDRESS="127.0.0.1:$port"
  ./jointspace serve --grpc-port "$port" --http-port -1 --data-dir "$WORK/pg" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until ./jointspace models --address "$ADDRESS" --timeout 2s >/dev/null 2>&1; do
    if ! kill -0 "$SERVER" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "crosscheck: the server did not start; its log:" >&2
      tail -n 40 "$WORK/serve.log" >&2
      exit 1
    fi
    sleep 1
  done
}

stop_server() {
  [ -n "${SERVER:-}" ] || return 0
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}

main() {
  local languages=("$@")
  [ ${#languages[@]} -gt 0 ] || languages=("${LANGUAGES[@]}")
  local language
  for language in "${languages[@]}"; do
    declare -F "run_$language" >/dev/null || { echo "unknown language: $language (known: ${LANGUAGES[*]})" >&2; exit 2; }
  done
  WORK="$(mktemp -d)"
  trap 'stop_server; rm -rf "$WORK"' EXIT
  # the Java program is a test class of the Java client: build when it is missing
  [ -f clients/java/target/test-classes/io/jointspace/client/CrossCheck.class ] || ./jointspace build
  if [ -n "${JOINTSPACE_TEST_ADDRESS:-}" ]; then
    ADDRESS="$JOINTSPACE_TEST_ADDRESS"
  else
    start_server
  fi
  local outputs=()
  for language in "${languages[@]}"; do
    if ! "run_$language" "$ADDRESS" "crosscheck_$language" >"$WORK/$language.json" 2>"$WORK/$language.err"; then
      echo "crosscheck: the $language program failed:" >&2
      tail -n 20 "$WORK/$language.err" >&2
      exit 1
    fi
    outputs+=("$WORK/$language.json")
  done
  /usr/bin/python3 clients/crosscheck/compare.py "${outputs[@]}"
}

main "$@"
