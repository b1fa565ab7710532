#!/usr/bin/env bash
# Makes PostgreSQL 15+ with pgvector available on Debian/Ubuntu. Idempotent: returns at once
# when the server binaries and the vector extension are already installed.
#
# Installs the PostgreSQL server, its headers and build tools when missing (apt), then
# builds pgvector from Debian's source package (the trixie one builds against bookworm's
# PostgreSQL 15) when the distribution has no pgvector package. Needs root or sudo for the
# installs; prints what it does.
set -euo pipefail

PGVECTOR_VERSION="${PGVECTOR_VERSION:-0.8.0}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

have_vector() {
  local bin="$1" share
  share="$("$bin/pg_config" --sharedir 2>/dev/null)" || return 1
  [ -f "$share/extension/vector.control" ]
}

apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then
    as_root apt-get update -qq
    apt_updated=yes
  fi
  as_root env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

bin="$(pg_bindir || true)"
if [ -n "$bin" ] && [ -x "$bin/pg_config" ] && have_vector "$bin"; then
  echo "postgres: $("$bin/postgres" --version) with pgvector at $bin"
  exit 0
fi

if [ -z "$bin" ]; then
  echo "postgres: installing the PostgreSQL server" >&2
  apt_install postgresql
  bin="$(pg_bindir)"
fi
major="$("$bin/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')"
if [ "$major" -lt 15 ]; then
  echo "postgres: PostgreSQL $major found; 15 or newer is needed" >&2
  exit 1
fi

# The distribution's own package first (Debian trixie+, Ubuntu 24.04+).
if ! have_vector "$bin"; then
  if apt-cache policy "postgresql-$major-pgvector" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo "postgres: installing postgresql-$major-pgvector" >&2
    apt_install "postgresql-$major-pgvector"
  fi
fi

if ! have_vector "$bin"; then
  echo "postgres: building pgvector $PGVECTOR_VERSION from Debian's source package" >&2
  apt_install "postgresql-server-dev-$major" build-essential ca-certificates debian-archive-keyring
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # A sources list naming the Debian mirror this machine already uses, for trixie's sources.
  uri="$( { sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null;
             sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' \
               /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } \
           | grep -v -e security -e ubuntu -e '^$' | awk 'NR == 1' || true)"
  uri="${uri:-http://deb.debian.org/debian}"
  mkdir -p "$work/lists/partial"
  # trixie's Release file is checked against Debian's archive keys (debian-archive-keyring
  # has them from bookworm's 2023.3 on): a source that is not signed by them is refused.
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "deb-src [signed-by=$keyring] $uri trixie main" > "$work/sources.list"
  opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" source --download-only -qq "pgvector=$PGVECTOR_VERSION-1")
  tar -xzf "$work"/pgvector_"$PGVECTOR_VERSION".orig.tar.gz -C "$work"
  src="$(ls -d "$work"/pgvector-*/ | head -n 1)"
  # OPTFLAGS="": portable binaries (no -march=native).
  make -s -C "$src" PG_CONFIG="$bin/pg_config" OPTFLAGS="" >/dev/null
  as_root make -s -C "$src" PG_CONFIG="$bin/pg_config" OPTFLAGS="" install >/dev/null
fi

have_vector "$bin" || { echo "postgres: pgvector is still missing" >&2; exit 1; }
echo "postgres: $("$bin/postgres" --version) with pgvector at $bin"
