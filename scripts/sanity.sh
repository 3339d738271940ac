#!/usr/bin/env bash
# ansible-test sanity for beatsync.ops, offline, no Docker.
#
#   scripts/sanity.sh [extra ansible-test sanity options, e.g. --test pep8]
#
# 1. Copies the collection (files git tracks + untracked-not-ignored ones, so .venv/, build/
#    and tests/output/ never get in) to
#    $SANITY_ROOT/ansible_collections/beatsync/ops (default build/sanity/...).
#    tests/output/ of the copy is kept between runs (ansible-test's delegation venv lives there).
# 2. Installs scripts/get-pip-offline.py as ansible-test's cached get-pip
#    (~/.ansible/test/cache/get_pip_<ver>.py); <ver> is read from ansible-test itself.
# 3. Runs `ansible-test sanity --python 3.12 $SANITY_MODE` there (default --venv). The per-test
#    venvs are cached by ansible-test in ~/.ansible/test/venv and reused across runs.
# Exit status: ansible-test's (non-zero on any sanity failure).
#
# Environment: VENV (toolchain venv, default .venv), SANITY_ROOT, SANITY_MODE (default --venv),
# SANITY_PYTHON (default 3.12).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
SANITY_ROOT="${SANITY_ROOT:-$REPO/build/sanity}"
SANITY_MODE="${SANITY_MODE:---venv}"
export SANITY_PYTHON="${SANITY_PYTHON:-3.12}"
DEST="$SANITY_ROOT/ansible_collections/beatsync/ops"

if [[ ! -x "$VENV/bin/ansible-test" ]]; then
    echo "sanity.sh: $VENV/bin/ansible-test not found; run scripts/bootstrap.sh first" >&2
    exit 2
fi
export PATH="$VENV/bin:$PATH"

# --- 1. the copy --------------------------------------------------------------------------
mkdir -p "$DEST"
# One run per copy at a time (two runs would empty each other's tree).
exec 9>"$SANITY_ROOT/.lock"
if ! flock -n 9; then
    echo "sanity.sh: another run holds $SANITY_ROOT/.lock; waiting" >&2
    flock 9
fi
# Empty the copy except tests/output (ansible-test's results and delegation venv).
find "$DEST" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
if [[ -d "$DEST/tests" ]]; then
    find "$DEST/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
rm -rf "$DEST/tests/output/bot" "$DEST/tests/output/junit" "$DEST/tests/output/data" \
       "$DEST/tests/output/coverage" "$DEST/tests/output/reports"

# Existing files only: a tracked file deleted in the work tree is not part of the tree tested.
(
    cd "$REPO"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' path; do
            case "$path" in
                # never in the tested tree, even if a .gitignore misses them
                .venv/* | build/* | tests/output/* | .ansible/* | .git/*) continue ;;
            esac
            if [[ -e "$path" || -L "$path" ]]; then printf '%s\0' "$path"; fi
        done |
        tar --null --no-recursion -T - -cf -
) | tar -xf - -C "$DEST"
echo "sanity.sh: collection copied to $DEST ($(find "$DEST" -path "$DEST/tests/output" -prune -o -type f -print | wc -l) files)"

# --- 2. get-pip stand-in ------------------------------------------------------------------
PIP_VERSION="$("$VENV/bin/python" - <<'EOF'
import os, re
try:
    from ansible_test._internal.host_configs import NativePythonConfig
    from ansible_test._internal.python_requirements import get_venv_packages
    print(get_venv_packages(NativePythonConfig(version=os.environ.get("SANITY_PYTHON", "3.12"), path=""))["pip"])
except Exception:  # internal API moved: read the source instead
    import ansible_test
    src = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(src, encoding="utf-8") as f:
        print(re.search(r"""pip\s*=\s*['"]([0-9.]+)['"]""", f.read()).group(1))
EOF
)"
CACHE="$HOME/.ansible/test/cache"
GET_PIP="$CACHE/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$CACHE"
if ! cmp -s "$REPO/scripts/get-pip-offline.py" "$GET_PIP"; then
    cp "$REPO/scripts/get-pip-offline.py" "$GET_PIP"
fi
echo "sanity.sh: pip $PIP_VERSION bootstrap stand-in at $GET_PIP"

# --- 3. ansible-test ----------------------------------------------------------------------
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "sanity.sh: WARNING: shellcheck is not installed, so ansible-test SKIPS the shellcheck" \
         "sanity test (apt-get install shellcheck)" >&2
fi
cd "$DEST"
# Without a VCS root of its own, ansible-test would walk up to the main repository's .git,
# where build/ is ignored and the copy lists no files. Pin the content root instead: the copy
# is then listed from the file system (tests/output excluded by ansible-test itself).
export ANSIBLE_TEST_CONTENT_ROOT="$DEST"
read -r -a mode_args <<< "$SANITY_MODE"   # e.g. "--venv" or "--local --requirements"
status=0
ansible-test sanity --python "$SANITY_PYTHON" "${mode_args[@]}" --color no "$@" || status=$?
if [[ $status -ne 0 ]]; then
    echo "sanity.sh: ansible-test sanity FAILED (exit $status)" >&2
else
    echo "sanity.sh: ansible-test sanity passed"
fi
exit $status
