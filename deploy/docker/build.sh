#!/usr/bin/env bash
# Builds the container image jointspace:<version> from deploy/docker/Dockerfile with buildah
# (no Docker engine needed), on a Debian base made here with debootstrap.
#
#   deploy/docker/build.sh              the full multi-stage build (JDK + Maven in the image)
#   deploy/docker/build.sh --prebuilt   the runtime stage only, from the jars of ./jointspace build
#                                       (built first when missing or older than the sources)
#
# The image goes to this checkout's store, var/containers (see store.sh), as
# localhost/jointspace:<version>; the name is printed last. The base is Debian bookworm
# (minbase) debootstrapped from the Debian mirror this machine's apt uses, kept there as
# localhost/jointspace-base:bookworm so that later builds skip that step
# (JOINTSPACE_BASE_IMAGE names another base, e.g. debian:bookworm-slim where a registry is
# reachable; remove that image to make it again with newer packages). Layers are cached
# (buildah --layers), so a rebuild redoes only what changed; run as root, the full build
# uses root's ~/.m2 as its Maven repository. Buildah's whole output: var/docker-build.log.
# Installs buildah and debootstrap when missing (Debian/Ubuntu, needs root or sudo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/docker/store.sh
. "$ROOT/deploy/docker/store.sh"
LOCAL_BASE=localhost/jointspace-base:bookworm
BASE="${JOINTSPACE_BASE_IMAGE:-$LOCAL_BASE}"

prebuilt=no
case "${1:-}" in
  --prebuilt) prebuilt=yes ;;
  "") ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build.sh: unknown argument '$1' (--prebuilt, --help)" >&2; exit 2 ;;
esac

missing=()
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
if [ "$BASE" = "$LOCAL_BASE" ]; then
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "build.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian mirror this machine already uses (deb.debian.org when it uses none).
debian_uri() {
  local kind="$1" uri
  uri="$( { sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null;
             sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' \
               /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } \
           | grep -E "debian" | grep -v -e ubuntu -e '^$' \
           | if [ "$kind" = security ]; then grep security; else grep -v security; fi \
           | awk 'NR == 1' || true)"
  if [ -n "$uri" ]; then echo "${uri%/}"
  elif [ "$kind" = security ]; then echo http://deb.debian.org/debian-security
  else echo http://deb.debian.org/debian
  fi
}

# Debian bookworm, minbase, as a local image: made once, then reused.
base_work="" base_ctr=""
make_base() {
  local mirror security work mnt
  mirror="$(debian_uri main)"
  security="$(debian_uri security)"
  echo "build.sh: making $LOCAL_BASE (debootstrap bookworm from $mirror)" >&2
  mkdir -p "$ROOT/var"
  work="$(mktemp -d "$ROOT/var/docker-base.XXXXXX")"
  base_work="$work"
  # the root filesystem and the working container go on any exit, also a failed one
  trap 'as_root rm -rf "$base_work"; [ -z "$base_ctr" ] || buildah_ rm "$base_ctr" >/dev/null 2>&1' EXIT
  as_root debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # as Debian's own images: updates and security fixes, no documentation, no apt caches
  as_root tee "$work/rootfs/etc/apt/sources.list" >/dev/null <<LIST
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
LIST
  as_root tee "$work/rootfs/etc/dpkg/dpkg.cfg.d/excludes" >/dev/null <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  as_root find "$work/rootfs/var/cache/apt" "$work/rootfs/var/lib/apt/lists" -type f -delete
  as_root find "$work/rootfs/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete
  as_root rm -rf "$work/rootfs/usr/share/man" "$work/rootfs/usr/share/info"
  base_ctr="$(buildah_ from scratch)"
  mnt="$(buildah_ mount "$base_ctr")"
  as_root cp -a "$work/rootfs/." "$mnt/"
  buildah_ umount "$base_ctr" >/dev/null
  buildah_ config --os linux --arch "$(dpkg --print-architecture)" --cmd /bin/bash "$base_ctr"
  buildah_ commit -q "$base_ctr" "$LOCAL_BASE" >/dev/null
  buildah_ rm "$base_ctr" >/dev/null
  base_ctr=""
  as_root rm -rf "$work"
  trap - EXIT
}

if [ "$BASE" = "$LOCAL_BASE" ] && ! buildah_ inspect --type image "$LOCAL_BASE" >/dev/null 2>&1; then
  started=$SECONDS
  make_base
  echo "build.sh: $LOCAL_BASE made in $(( SECONDS - started )) s" >&2
fi

version="$(sed -nE 's:^  <version>([^<]+)</version>.*:\1:p' "$ROOT/pom.xml" | head -n 1)"
[ -n "$version" ] || { echo "build.sh: no <version> in $ROOT/pom.xml" >&2; exit 1; }
image="localhost/jointspace:$version"

args=(--isolation chroot --layers --force-rm --format docker --build-arg "BASE_IMAGE=$BASE"
      -f "$ROOT/deploy/docker/Dockerfile")
mkdir -p "$ROOT/var"
log="$ROOT/var/docker-build.log"
: >"$log"
# buildah's whole output goes to var/docker-build.log; its steps are shown as they start
bud() {
  buildah_ bud "${args[@]}" "$@" "$ROOT" 2>&1 | tee -a "$log" \
    | grep --line-buffered -E '^(\[[0-9]+/[0-9]+\] )?(STEP|COMMIT)' | cut -c1-160 >&2 \
    || { echo "build.sh: buildah bud failed; the end of $log:" >&2; tail -n 40 "$log" >&2; exit 1; }
}
started=$SECONDS
if [ "$prebuilt" = yes ]; then
  # the launcher builds when the jars are missing or older than the sources
  "$ROOT/jointspace" --version >/dev/null
  bud --target prebuilt --build-context "jars=$ROOT/server/target" -t "$image"
else
  if [ "$(id -u)" -eq 0 ] && [ -d "$HOME/.m2" ]; then
    # the build stage's Maven repository is this machine's (for Docker: a cache mount)
    args+=(-v "$HOME/.m2:/root/.m2")
  fi
  # The build stage under a name of its own, so that the prune below keeps its layers (the
  # JDK, the last build) for the next build; then the image, from those layers.
  bud --target build -t "localhost/jointspace-build:$version"
  bud -t "$image"
fi
# what no tag names any more (the previous image of these tags) goes; tagged images and their
# layers, the cache of the next build, stay
buildah_ rmi --prune >/dev/null 2>&1 || true
echo "build.sh: $image built in $(( SECONDS - started )) s ($([ "$prebuilt" = yes ] && echo "prebuilt jars" || echo "full build"))" >&2
echo "$image"
