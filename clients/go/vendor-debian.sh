#!/usr/bin/env bash
# Assembles vendor/ for an offline build of this module from Debian's Go packages
# (/usr/share/gocode: golang-google-grpc-dev, golang-google-protobuf-dev,
# golang-google-genproto-dev, golang-github-golang-protobuf-1-5-dev and what they depend on),
# so that `go build`, `go vet` and `go test` run with -mod=vendor and no module proxy.
#
# The packages this module imports, and theirs, are listed in GOPATH mode, copied without their
# tests, and attributed in vendor/modules.txt to the modules go.mod requires (at go.mod's
# versions, which the Go tool checks vendor/modules.txt against; the code is Debian's).
# A package that no requirement in go.mod provides is an error: add the module to go.mod.
# vendor/ is not committed (.gitignore); run this again after an import changes.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
GOCODE="${GOCODE:-/usr/share/gocode}"
MODULE="$(sed -n 's/^module //p' "$HERE/go.mod")"
[ -d "$GOCODE/src" ] || { echo "$GOCODE/src not found: install Debian's golang-google-grpc-dev" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
rm -rf "$HERE/vendor"

# The non-standard packages every package of the module and its tests import, transitively.
mkdir -p "$WORK/gopath/src/$(dirname "$MODULE")"
ln -s "$HERE" "$WORK/gopath/src/$MODULE"
(cd "$WORK/gopath/src/$MODULE" && GO111MODULE=off GOPATH="$WORK/gopath:$GOCODE" GOFLAGS= \
  go list -deps -test -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./...) |
  sed 's/ \[.*\]$//' | grep -v -e "^$MODULE\$" -e "^$MODULE/" -e '\.test$' | sort -u > "$WORK/packages"

# Modules go.mod requires, longest path first, so a package goes to the most specific one.
awk '/^require \(/ {inside=1; next} inside && /^\)/ {inside=0; next}
     inside && NF >= 2 {print $1, $2} /^require [^(]/ {print $2, $3}' "$HERE/go.mod" |
  awk '{print length($1), $0}' | sort -rn | cut -d' ' -f2- > "$WORK/modules"

: > "$WORK/attributed"
while read -r package; do
  module=""
  while read -r path version; do
    case "$package" in "$path" | "$path"/*) module="$path"; break ;; esac
  done < "$WORK/modules"
  [ -n "$module" ] || { echo "no requirement in go.mod provides $package" >&2; exit 1; }
  echo "$module $package" >> "$WORK/attributed"
  mkdir -p "$HERE/vendor/$package"
  find "$GOCODE/src/$package" -maxdepth 1 -type f ! -name '*_test.go' -exec cp {} "$HERE/vendor/$package/" \;
done < "$WORK/packages"

# vendor/modules.txt: every required module (marked explicit, as go.mod lists it), then its packages.
sort -k1,1 "$WORK/modules" | while read -r path version; do
  printf '# %s %s\n## explicit; go 1.19\n' "$path" "$version"
  awk -v m="$path" '$1 == m {print $2}' "$WORK/attributed" | sort
done > "$HERE/vendor/modules.txt"
echo "vendor/: $(wc -l < "$WORK/packages") packages from $GOCODE" >&2
