# shellcheck shell=bash
# Source me: the environment every beatsync.ops test-bed script and test uses for podman.
#   . scripts/container-env.sh
# Exports:
#   CONTAINERS_CONF        tests/containers/containers.conf (runc, cgroupfs, nofile <= 16384);
#                          /etc/containers is never changed.
#   BEATSYNC_IMAGE_REPO    localhost/beatsync-systemd
#   BEATSYNC_IMAGE         $BEATSYNC_IMAGE_REPO:latest (what Molecule and the pytest bed boot)
#   BEATSYNC_TOP           the repository (collection) root
# An already exported CONTAINERS_CONF / BEATSYNC_IMAGE* wins.
BEATSYNC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export BEATSYNC_TOP
export CONTAINERS_CONF="${CONTAINERS_CONF:-$BEATSYNC_TOP/tests/containers/containers.conf}"
export BEATSYNC_IMAGE_REPO="${BEATSYNC_IMAGE_REPO:-localhost/beatsync-systemd}"
export BEATSYNC_IMAGE="${BEATSYNC_IMAGE:-$BEATSYNC_IMAGE_REPO:latest}"

# ---- the image build scripts' prologue (scripts/build-image.sh, scripts/build-ee.sh) --------
# image_build_start NAME HELP_LINES "$@"
#   Parses the scripts' options: --force (sets force=1), --print-tag (print_tag=1), -h|--help
#   (prints lines HELP_LINES, e.g. 2,17, of the script and exits); any other argument exits 2.
#   Sets t0 (the start time) and defines log MSG ("NAME: MSG" on stderr) and elapsed T (seconds
#   since T, one decimal). An interactive shell that only sources this file gets none of that.
# image_recipe_hash FILE...
#   12 hex digits of the files' paths (relative to the repository) and contents: the tag of
#   an image made from them.
# image_build_cached TAG LATEST WHAT
#   Unless --force: when TAG exists, tags it LATEST, says so, prints TAG and exits 0.
image_build_start() {
  local arg help=$2
  image_build_name=$1
  shift 2
  force=0 print_tag=0
  for arg in "$@"; do
    # shellcheck disable=SC2034  # print_tag is read by the calling script
    case "$arg" in
      --force) force=1 ;;
      --print-tag) print_tag=1 ;;
      -h|--help) sed -n "${help}p" "$0"; exit 0 ;;
      *) echo "$image_build_name: unknown argument $arg" >&2; exit 2 ;;
    esac
  done
  t0=$(date +%s.%N)
  # shellcheck disable=SC2317  # called by the calling script
  elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
  # shellcheck disable=SC2317
  log() { echo "$image_build_name: $*" >&2; }
}

image_recipe_hash() {
  local f
  for f in "$@"; do printf '%s\n' "${f#"$BEATSYNC_TOP"/}"; cat "$f"; done | sha256sum | cut -c1-12
}

image_build_cached() {
  if [ "$force" = 0 ] && podman image exists "$1"; then
    podman tag "$1" "$2" >/dev/null
    log "$1 is there ($3 unchanged), tagged $2; nothing to build ($(elapsed "$t0") s)"
    echo "$1"
    exit 0
  fi
}
