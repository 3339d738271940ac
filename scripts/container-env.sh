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
