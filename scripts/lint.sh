#!/usr/bin/env bash
# Lint gate for beatsync.ops, offline:
#   1. ansible-lint --profile production over the whole collection (playbooks, roles,
#      molecule, galaxy.yml, meta/), configured by .ansible-lint;
#   2. antsibull-changelog lint on changelogs/ (fragments and changelog.yaml).
# Exit status: non-zero if either fails (both always run).
#
#   scripts/lint.sh [extra ansible-lint arguments]
# Environment: VENV (toolchain venv, default .venv).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
if [[ ! -x "$VENV/bin/ansible-lint" ]]; then
    echo "lint.sh: $VENV/bin/ansible-lint not found; run scripts/bootstrap.sh first" >&2
    exit 2
fi
case ":$PATH:" in
    *":$VENV/bin:"*) ;;
    *) export PATH="$VENV/bin:$PATH" ;;
esac
cd "$REPO" || exit 2

# The collection itself, as beatsync.ops, on the collections path (same link as
# tests/conftest.py makes); the bundled collections of the `ansible` package (community.general,
# ansible.posix, ...) are found in the venv's site-packages by ansible-core itself.
COLLECTIONS="$REPO/build/collections"
LINK="$COLLECTIONS/ansible_collections/beatsync/ops"
if [[ ! -e "$LINK" ]]; then
    mkdir -p "$(dirname "$LINK")"
    ln -sfn "$REPO" "$LINK"
fi
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
# no Galaxy: ansible-lint must not try to install anything or fetch schemas
export ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1
export ANSIBLE_LOCAL_TEMP="${TMPDIR:-/tmp}/beatsync-lint-ansible-tmp"

export NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
status=0

# ansible-lint keeps a copy of a collection it once installed under .ansible/collections and
# puts it first on the path, and it also searches ~/.ansible/collections: a stale copy of
# beatsync.ops in either would hide modules added since. Use the link above only: drop the
# repository-local cache and give ansible-lint an ANSIBLE_HOME of its own.
rm -rf "$REPO/.ansible/collections/ansible_collections/beatsync"
export ANSIBLE_HOME="$REPO/build/ansible-home"

echo "lint.sh: ansible-lint --profile production --offline"
ansible-lint --profile production --offline --strict -c "$REPO/.ansible-lint" "$@" || status=1

echo "lint.sh: antsibull-changelog lint"
antsibull-changelog lint || status=1

if [[ $status -ne 0 ]]; then
    echo "lint.sh: FAILED" >&2
else
    echo "lint.sh: passed"
fi
exit $status
