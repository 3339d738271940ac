#!/usr/bin/env bash
# CI stage: the collection against another ansible-core version it claims (meta/runtime.yml)
# than the main toolchain's 2.21: a venv of its own made by scripts/bootstrap.sh from the
# lane's requirements/toolchain-<lane>.txt + constraints-<lane>.txt, then ansible-lint
# (production profile), ansible-test sanity and the unit tests (tests/unit) run from it.
#
#   scripts/test-core-lane.sh LANE [extra pytest arguments]
#
# Lanes (the ansible-core version of each is pinned in its requirements file only):
#   py311    Debian 12's own python3 (`bootstrap.sh --python /usr/bin/python3`), with pyenv
#            and any other Python hidden from PATH as on a user's machine: ansible-core 2.19,
#            the oldest claimed. Venv build/venv-py311. scripts/test-oldest-core.sh runs it.
#   core220  the Python >= 3.12 bootstrap.sh finds (`bootstrap.sh --lane core220`):
#            ansible-core 2.20. Venv build/venv-core220. Where there is no Python >= 3.12
#            (a stock Debian 12) the lane cannot run: it prints "SKIPPED" and why, and exits 0
#            (the py311 lane still runs there); BEATSYNC_LANE_STRICT=1 makes that a failure.
# Env: BEATSYNC_LANE_VENV (the lane's venv), BEATSYNC_LANE_PYTHON (its interpreter; py311
# default /usr/bin/python3); for py311 also BEATSYNC_VENV311 and BEATSYNC_PYTHON311.
# Prints each step's time; exit status non-zero if any step failed (all steps run).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
lane=${1:-}
[ "$#" -gt 0 ] && shift
me="test-core-lane $lane"

bootstrap_args=()
case "$lane" in
  py311)
    venv="${BEATSYNC_LANE_VENV:-${BEATSYNC_VENV311:-$top/build/venv-py311}}"
    bootstrap_args=(--python "${BEATSYNC_LANE_PYTHON:-${BEATSYNC_PYTHON311:-/usr/bin/python3}}")
    ;;
  core220)
    venv="${BEATSYNC_LANE_VENV:-$top/build/venv-core220}"
    bootstrap_args=(--lane core220)
    if [ -n "${BEATSYNC_LANE_PYTHON:-}" ]; then bootstrap_args+=(--python "$BEATSYNC_LANE_PYTHON"); fi
    ;;
  *)
    echo "test-core-lane: unknown lane '$lane' (py311, core220)" >&2
    exit 2
    ;;
esac

# Only system directories and the lane's venv on PATH: no pyenv shims, no toolchain .venv
# (bootstrap.sh finds pyenv's interpreters by their directory, not by PATH).
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

BEATSYNC_VENV="$venv" bash scripts/bootstrap.sh "${bootstrap_args[@]}"
rc=$?
if [ "$rc" = 3 ]; then
  # bootstrap.sh said which Python is missing (no Python >= 3.12 for this lane).
  echo "$me: SKIPPED: this lane's ansible-core needs a Python >= 3.12 and this machine has" \
       "none (install python3.12, e.g. with pyenv, to run it); lint, sanity and unit tests of" \
       "this ansible-core version did NOT run"
  if [ "${BEATSYNC_LANE_STRICT:-0}" = 1 ]; then exit 1; fi
  exit 0
elif [ "$rc" != 0 ]; then
  echo "$me: bootstrap of $venv failed" >&2
  exit 1
fi
echo "$me: $("$venv/bin/python" --version), ansible-core $("$venv/bin/python" -c \
  'from ansible.release import __version__; print(__version__)') in $venv"
py_mm=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
step "ansible-lint (production profile)" env VENV="$venv" bash scripts/lint.sh
# A sanity copy per lane: tests/output there keeps ansible-test's delegation venv of that
# ansible-core version between runs.
step "ansible-test sanity (Python $py_mm)" env VENV="$venv" SANITY_PYTHON="$py_mm" \
  SANITY_ROOT="$top/build/sanity-$lane" bash scripts/sanity.sh
step "unit tests" "$venv/bin/pytest" -p no:cacheprovider -q "$@" tests/unit
echo "$me: done in $((SECONDS - t0))s"
exit "$status"
