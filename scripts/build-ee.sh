#!/usr/bin/env bash
# Build the beatsync.ops execution environment (execution-environment.yml) here, with no
# container registry:
#   1. the base image localhost/beatsync-ee-base:<hash>: Debian 13 (trixie, Python 3.13) from
#      the Debian mirror this machine's apt uses, by mmdebstrap + podman import (recipe ee/base/:
#      packages, the build machine's CA bundle so pip reaches PyPI through its proxy, ee-pkgmgr);
#   2. the collection tarballs of ee/requirements.yml (scripts/ee-collections.py: this
#      checkout's `ansible-galaxy collection build`, community.general from the toolchain);
#   3. `ansible-builder build` -> localhost/beatsync-ee:<hash>, tagged :latest.
# Each image is cached by the hash of what makes it (recipe files; for the EE also the
# collections' content, not the tarballs' bytes): nothing is rebuilt when it is unchanged.
#
#   scripts/build-ee.sh             build what is missing, print the EE's tag
#   scripts/build-ee.sh --force     rebuild both images
#   scripts/build-ee.sh --print-tag make the tarballs, print the EE's tag, build nothing
#
# Env: BEATSYNC_DEBIAN_MIRROR (override the mirror URI), BEATSYNC_VENV (toolchain venv with
# ansible-builder and the `ansible` package; default .venv), CONTAINERS_CONF (default: the
# project's). Needs root (mmdebstrap, podman storage under /var/lib/containers).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/container-env.sh
. "$top/scripts/container-env.sh"
venv="${BEATSYNC_VENV:-$top/.venv}"
cache="$top/build/ee"
base_repo=localhost/beatsync-ee-base
ee_repo=localhost/beatsync-ee
image_build_start build-ee 2,19 "$@"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # parallel callers build once

# What makes each image.
base_hash=$(image_recipe_hash "$top/ee/base/packages.txt" "$top/ee/base/customize.sh" "$top/ee/base/ee-pkgmgr" \
  <(sed -n '/^# >>> base/,/^# <<< base/p' "$0"))
collections_digest=$("$venv/bin/python" "$top/scripts/ee-collections.py" --venv "$venv" --out "$cache/collections")
ee_hash=$(image_recipe_hash "$top/execution-environment.yml" "$top/ee/requirements.yml" "$0" \
  <(echo "base $base_hash collections $collections_digest"))
base_tag="$base_repo:$base_hash" ee_tag="$ee_repo:$ee_hash"
if [ "$print_tag" = 1 ]; then echo "$ee_tag"; exit 0; fi

image_build_cached "$ee_tag" "$ee_repo:latest" "recipe and collections"
[ "$(id -u)" = 0 ] || { log "building the images needs root (mmdebstrap, podman)"; exit 1; }
for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/build-image.sh (it installs podman, runc, mmdebstrap)"; exit 1; }
done
[ -x "$venv/bin/ansible-builder" ] || { log "no ansible-builder in $venv: run scripts/bootstrap.sh"; exit 1; }

# >>> base (this block is part of the base image's hash)
apt_uris() {
  {
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' /etc/apt/sources.list 2>/dev/null
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
    cat /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
  } | sed 's:/*$::'
}
build_base() {
  local mirror security work packages t1
  mirror="${BEATSYNC_DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian$' | head -1 || true)}"
  security="$(apt_uris | grep -E '/debian-security$' | head -1 || true)"
  if [ -z "$mirror" ]; then
    log "no Debian mirror found in /etc/apt/sources.list*; set BEATSYNC_DEBIAN_MIRROR"; exit 1
  fi
  local sources=("deb $mirror trixie main" "deb $mirror trixie-updates main")
  [ -n "$security" ] && [ -z "${BEATSYNC_DEBIAN_MIRROR:-}" ] && sources+=("deb $security trixie-security main")
  log "building $base_tag from $mirror (Debian 13 trixie)"
  work=$(mktemp -d "$cache/base-$base_hash.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  t1=$(date +%s.%N)
  packages=$(grep -v '^\s*#' "$top/ee/base/packages.txt" | xargs | tr ' ' ',')
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' \
    --customize-hook="sh '$top/ee/base/customize.sh' \"\$1\" '$top/ee/base'" \
    trixie "$work/rootfs.tar" "${sources[@]}"
  podman import --quiet \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.beatsync.recipe=$base_hash" \
    "$work/rootfs.tar" "$base_tag" >/dev/null
  rm -rf "$work"
  log "base image $base_tag: mmdebstrap + import $(elapsed "$t1") s"
}
# <<< base
if [ "$force" = 1 ] || ! podman image exists "$base_tag"; then
  build_base
fi
podman tag "$base_tag" "$base_repo:latest" >/dev/null

t1=$(date +%s.%N)
rm -rf "$cache/context"
(cd "$top" && "$venv/bin/ansible-builder" build -f execution-environment.yml -c "$cache/context" \
   --container-runtime podman -v 2 \
   --build-arg "EE_BASE_IMAGE=$base_tag" -t "$ee_tag" --extra-build-cli-args "--label org.beatsync.recipe=$ee_hash") >&2
podman tag "$ee_tag" "$ee_repo:latest"
log "ansible-builder build: $(elapsed "$t1") s"

# Older builds of either recipe are dead weight.
# (The untagged stage images of ansible-builder's multi-stage build stay for podman's layer
# cache; `podman image prune` removes them.)
drop_old() {
  podman images --format '{{.Repository}}:{{.Tag}}' "$1" \
    | grep -vxF -e "$2" -e "$1:latest" | xargs -r podman rmi >/dev/null 2>&1 || true
}
drop_old "$base_repo" "$base_tag"
drop_old "$ee_repo" "$ee_tag"
log "done in $(elapsed "$t0") s"
echo "$ee_tag"
