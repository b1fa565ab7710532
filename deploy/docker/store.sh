# Sourced by build.sh and test.sh: the buildah image store of this checkout.
#
# The images live in var/containers (JOINTSPACE_CONTAINERS to move it), apart from the
# machine's default store, so that pruning what this checkout no longer needs touches no one
# else's images. The storage driver is overlay where the kernel mounts one (layers shared,
# nothing copied), else vfs (every container a full copy); the choice is kept in
# var/containers/driver. buildah runs as root with chroot isolation, which works where
# containers cannot start. Expects ROOT (the repository) to be set.

STORE="${JOINTSPACE_CONTAINERS:-$ROOT/var/containers}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

store_driver() {
  local probe driver
  if [ -f "$STORE/driver" ]; then
    cat "$STORE/driver"
    return 0
  fi
  as_root mkdir -p "$STORE"
  probe="$(as_root mktemp -d "$STORE/.probe.XXXXXX")"
  as_root mkdir "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if as_root mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
      "$probe/merged" 2>/dev/null; then
    as_root umount "$probe/merged"
    driver=overlay
  else
    driver=vfs
  fi
  as_root rm -rf "$probe"
  echo "$driver" | as_root tee "$STORE/driver" >/dev/null
  echo "$driver"
}

STORE_DRIVER="$(store_driver)"

buildah_() {
  as_root buildah --root "$STORE/storage" --runroot "$STORE/run" --storage-driver "$STORE_DRIVER" "$@"
}
