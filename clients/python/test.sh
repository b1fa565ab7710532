#!/usr/bin/env bash
# Runs the Python client's tests against a server the tests start (see tests/conftest.py).
# Installs the Debian packages they need when missing (as root, or with sudo).
# Arguments go to pytest: clients/python/test.sh -k ingest -x
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGES=(python3-grpcio python3-protobuf python3-pytest python3-numpy)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >&2 || {
    $sudo apt-get update -q >&2 && $sudo apt-get install -y -q "${missing[@]}" >&2
  }
fi

cd "$HERE"
# Debian's interpreter, which sees the packages above (a python3 earlier on PATH may not).
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 -m pytest -p no:cacheprovider "$@"
