#!/usr/bin/env bash
# The whole test suite, as the README states it and .ci/run calls it:
# toolchain bootstrap, ansible-lint (production), ansible-test sanity, pytest (unit,
# functional tests on real loopback servers, systemd containers and Molecule scenarios).
# Exits non-zero on any failure; prints pytest's "N passed, N failed" summary.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export PATH="$top/.venv/bin:$PATH"
status=0
step() {
  local name=$1; shift
  local started=$SECONDS
  echo "=== $name"
  if "$@"; then
    echo "=== $name: ok ($((SECONDS - started))s)"
  else
    echo "=== $name: FAILED ($((SECONDS - started))s)"
    status=1
  fi
}

bash scripts/bootstrap.sh || { echo "bootstrap failed"; exit 1; }
# Everything below is independent of each other's result: run all, report all.
step "ansible-lint (production profile)" bash scripts/lint.sh
step "ansible-test sanity" bash scripts/sanity.sh
# The other ansible-core versions meta/runtime.yml claims: lint, sanity and unit tests, each
# from a venv of its own (scripts/test-core-lane.sh; tests/unit/test_release.py checks that
# every claimed minor has a lane here). py311: Debian 12's python3, pyenv hidden, the oldest
# claimed (build/venv-py311); core220: ansible-core 2.20 on the Python >= 3.12 (build/venv-core220),
# "SKIPPED" without failing where there is none.
step "oldest ansible-core (Python 3.11 lane)" bash scripts/test-core-lane.sh py311
step "ansible-core 2.20 lane" bash scripts/test-core-lane.sh core220
# The systemd test hosts' image (skipped when one from the same recipe exists).
step "systemd test image" bash scripts/build-image.sh
# The execution environment (tests/functional/test_ee_run.py runs jobs inside it): cached by
# recipe and collection content like the test image; a few seconds when unchanged.
step "execution environment image" bash scripts/build-ee.sh
# Three workers (BEATSYNC_TEST_WORKERS): most tests wait on systemd containers, Molecule and
# servers rather than on the CPU, and every test makes its own hosts, ports and directories.
# Measured on 2 cores (docs/benchmarks.md, "CI stages"): 3 workers 27% faster than 2, 4 no
# better than 3.
step "pytest" "$top/.venv/bin/pytest" -p no:cacheprovider -o junit_family=xunit2 \
  -n "${BEATSYNC_TEST_WORKERS:-3}" --dist load \
  --junitxml="$top/build/pytest-junit.xml" "$@" tests
exit "$status"
