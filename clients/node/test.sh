#!/usr/bin/env bash
# Runs the Node client's tests against a server they start (see test/run.ts): installs the
# pinned packages (npm ci) when node_modules is missing or older than the lock file, builds,
# then runs every test file with node --test. Installs Debian's nodejs and npm when node or
# npm is missing (as root, or with sudo).
#
#   clients/node/test.sh                  every test
#   clients/node/test.sh ingest errors    the test files whose names contain these words
#   clients/node/test.sh --test-name-pattern=resume   options go to node --test
#
# JOINTSPACE_TEST_ADDRESS=host:port runs them against a server that is already running.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing nodejs npm" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q nodejs npm >&2 || {
    $sudo apt-get update -q >&2 && $sudo apt-get install -y -q nodejs npm >&2
  }
fi

cd "$HERE"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

# Build the server now when it is stale, in plain sight, rather than inside the tests' wait
# for it to start.
if [ -z "${JOINTSPACE_TEST_ADDRESS:-}" ]; then
  "$ROOT/jointspace" --version >/dev/null
fi

exec node dist/test/run.js "$@"
