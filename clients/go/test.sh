#!/usr/bin/env bash
# Runs the Go client's tests against a server the tests start (see main_test.go), offline:
# installs the Debian packages they need when missing (as root, or with sudo), assembles
# vendor/ from them (vendor-debian.sh), then runs go vet and go test with -mod=vendor.
# Arguments go to go test: clients/go/test.sh -run Ingest -v
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGES=(golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-google-genproto-dev
  golang-github-golang-protobuf-1-5-dev)

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

# Debian's Go, which the vendored packages were written for (a go earlier on PATH may differ).
export PATH="/usr/lib/go/bin:$PATH"
export GO111MODULE=on GOFLAGS=-mod=vendor GOPROXY=off GOSUMDB=off
# gRPC-Go before 1.40 (Debian's is 1.33) applies the retry policy only when told to.
export GRPC_GO_RETRY=on

"$HERE/vendor-debian.sh"
cd "$HERE"
go vet ./...
# a first run builds the server and provisions PostgreSQL before the tests: more than go test's 10 min default
exec go test -count=1 -timeout 30m ./... "$@"
