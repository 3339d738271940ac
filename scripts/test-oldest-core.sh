#!/usr/bin/env bash
# CI stage: the collection against the oldest ansible-core it claims (meta/runtime.yml), on
# the Python a fresh Debian 12 has. A second venv made by `scripts/bootstrap.sh --python
# /usr/bin/python3` (the Python 3.11 lane: requirements/toolchain-py311.txt, ansible-core
# 2.19) with pyenv and any other Python hidden from PATH, as on a user's machine; then
# ansible-lint (production profile), ansible-test sanity (Python 3.11) and the unit tests
# (tests/unit) run from it. About 2.5 minutes with the venv in place, 4-5 from nothing.
#
#   scripts/test-oldest-core.sh [extra pytest arguments]
# Env: BEATSYNC_VENV311 (default build/venv-py311), BEATSYNC_PYTHON311 (default /usr/bin/python3).
# Prints each step's time; exit status non-zero if any step failed (all steps run).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
venv="${BEATSYNC_VENV311:-$top/build/venv-py311}"
python="${BEATSYNC_PYTHON311:-/usr/bin/python3}"
# Only system directories and the lane's venv on PATH: no pyenv shims, no toolchain .venv.
PATH="$venv/bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e pyenv -e '/\.venv/' | paste -sd:)"
export PATH
unset PYENV_VERSION VIRTUAL_ENV

status=0
t0=$SECONDS
step() {
  local name=$1; shift
  local started=$SECONDS
  echo "--- $name"
  if "$@"; then
    echo "--- $name: ok ($((SECONDS - started))s)"
  else
    echo "--- $name: FAILED ($((SECONDS - started))s)"
    status=1
  fi
}

if ! BEATSYNC_VENV="$venv" bash scripts/bootstrap.sh --python "$python"; then
  echo "test-oldest-core: bootstrap of the Python 3.11 lane failed" >&2
  exit 1
fi
echo "test-oldest-core: $("$venv/bin/python" --version), ansible-core $("$venv/bin/python" -c \
  'from ansible.release import __version__; print(__version__)') in $venv"
py_mm=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
step "ansible-lint (production profile)" env VENV="$venv" bash scripts/lint.sh
step "ansible-test sanity (Python $py_mm)" env VENV="$venv" SANITY_PYTHON="$py_mm" \
  SANITY_ROOT="$top/build/sanity-py$py_mm" bash scripts/sanity.sh
step "unit tests" "$venv/bin/pytest" -p no:cacheprovider -q "$@" tests/unit
echo "test-oldest-core: done in $((SECONDS - t0))s"
exit "$status"
