#!/usr/bin/env bash
# Build the beatsync.ops test-bed image: Debian 12 (bookworm) with systemd as PID 1, python3,
# pip, venv, ufw, iptables, iproute2, procps, curl, sudo, an offline wheelhouse of the fixture
# app's dependencies (/opt/wheelhouse + /etc/pip.conf) and fastapi/uvicorn pre-installed
# system-wide. Built with mmdebstrap from the Debian mirror this machine's apt uses, imported
# into podman as localhost/beatsync-systemd:<recipe hash> and :latest.
#
#   scripts/build-image.sh            build unless an image of the same recipe exists
#   scripts/build-image.sh --force    rebuild anyway
#   scripts/build-image.sh --print-tag  print the hash tag and exit
#
# Env: BEATSYNC_DEBIAN_MIRROR (override the mirror URI), BEATSYNC_VENV (toolchain venv whose
# pip downloads the wheels; default .venv), CONTAINERS_CONF (default: the project's).
# Needs root (mmdebstrap, podman storage under /var/lib/containers). Installs podman, runc and
# mmdebstrap with apt when missing. Never touches /etc/containers.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/container-env.sh
. "$top/scripts/container-env.sh"
recipe="$top/tests/containers"
venv="${BEATSYNC_VENV:-$top/.venv}"
cache="$top/build/image-cache"
image_build_start build-image 2,17 "$@"

# Everything that changes the image's content is in the hash.
recipe_files=(
  "$top/scripts/build-image.sh"
  "$recipe/packages.txt" "$recipe/wheels.txt" "$recipe/pip.conf" "$recipe/customize.sh"
  "$top/requirements/constraints.txt" "$top/tests/fixtures/beatsync_app/requirements.txt"
)
hash=$(image_recipe_hash "${recipe_files[@]}")
tag="$BEATSYNC_IMAGE_REPO:$hash"
if [ "$print_tag" = 1 ]; then echo "$tag"; exit 0; fi

# Tools (a fresh Debian machine has none of them).
need=()
for pkg in podman runc mmdebstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "need ${need[*]}: run as root"; exit 1; }
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # parallel callers (several Molecule scenarios) build once

image_build_cached "$tag" "$BEATSYNC_IMAGE" "recipe"
[ "$(id -u)" = 0 ] || { log "building the image needs root (mmdebstrap)"; exit 1; }

# The Debian mirror: the one this machine's apt uses (deb822 .sources or one-line lists).
apt_uris() {
  {
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' /etc/apt/sources.list 2>/dev/null
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
    cat /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
  } | sed 's:/*$::'
}
mirror="${BEATSYNC_DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian$' | head -1 || true)}"
security="$(apt_uris | grep -E '/debian-security$' | head -1 || true)"
if [ -z "$mirror" ]; then
  log "no Debian mirror found in /etc/apt/sources.list*; set BEATSYNC_DEBIAN_MIRROR"; exit 1
fi
sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
[ -n "$security" ] && [ -z "${BEATSYNC_DEBIAN_MIRROR:-}" ] && sources+=("deb $security bookworm-security main")
log "building $tag from $mirror"

# Wheels for the container's CPython 3.11, downloaded with the toolchain's pip.
if [ ! -x "$venv/bin/pip" ]; then
  log "no toolchain venv at $venv: running scripts/bootstrap.sh"
  "$top/scripts/bootstrap.sh"
fi
work=$(mktemp -d "$cache/build-$hash.XXXXXX")
trap 'rm -rf "$work"' EXIT
t1=$(date +%s.%N)
grep -hv '^\s*#' "$top/tests/fixtures/beatsync_app/requirements.txt" "$recipe/wheels.txt" \
  | sed '/^\s*$/d' > "$work/wheels.in"
"$venv/bin/pip" download --quiet --disable-pip-version-check --dest "$work/wheels" \
  --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform any \
  -c "$top/requirements/constraints.txt" -r "$work/wheels.in" 2>&1 | { grep -v '^WARNING: Location' || true; } >&2
log "wheelhouse: $(find "$work/wheels" -name '*.whl' | wc -l) wheels ($(elapsed "$t1") s)"

t1=$(date +%s.%N)
packages=$(grep -v '^\s*#' "$recipe/packages.txt" | xargs | tr ' ' ',')
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --customize-hook="sh '$recipe/customize.sh' \"\$1\" '$work/wheels' '$recipe'" \
  bookworm "$work/rootfs.tar" "${sources[@]}"
log "mmdebstrap: $(du -h "$work/rootfs.tar" | cut -f1) ($(elapsed "$t1") s)"

t1=$(date +%s.%N)
podman import --quiet \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL org.beatsync.recipe=$hash" \
  "$work/rootfs.tar" "$tag" >/dev/null
podman tag "$tag" "$BEATSYNC_IMAGE"
log "imported $tag and tagged $BEATSYNC_IMAGE ($(elapsed "$t1") s)"
# Older builds of the recipe are dead weight.
podman images --format '{{.Repository}}:{{.Tag}}' "$BEATSYNC_IMAGE_REPO" \
  | grep -vxF -e "$tag" -e "$BEATSYNC_IMAGE" | xargs -r podman rmi >/dev/null 2>&1 || true
log "done in $(elapsed "$t0") s"
echo "$tag"
