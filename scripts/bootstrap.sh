#!/usr/bin/env bash
# Create the project's toolchain from nothing: Debian packages the tests need (podman, runc,
# mmdebstrap for the systemd test hosts) and .venv with the pinned Python tools.
# Idempotent: a second run with unchanged requirements does nothing.
#
#   scripts/bootstrap.sh [--python PYTHON] [--lane NAME] [--check]
#
# Two lanes, chosen by the Python the venv is made with:
#   - Python >= 3.12 (the first one found: python3.12, python3.13, pyenv's, python3):
#     requirements/toolchain.txt + constraints.txt (ansible-core 2.21);
#   - otherwise Debian 12's own python3 (3.11): requirements/toolchain-py311.txt +
#     constraints-py311.txt (ansible-core 2.19, the newest that runs on 3.11).
# --python PYTHON (or BEATSYNC_PYTHON=PYTHON) takes that interpreter and its lane, e.g.
# `--python /usr/bin/python3` for the 3.11 lane on a machine that also has a 3.12; an
# existing venv keeps the interpreter it was made with. --check prints the interpreter, the
# requirement files and whether the venv is up to date, and changes nothing.
# --lane NAME: an extra ansible-core lane on the Python >= 3.12 found as above (or --python's):
# requirements/toolchain-NAME.txt + constraints-NAME.txt, e.g. `--lane core220` (ansible-core
# 2.20) for scripts/test-core-lane.sh; exit status 3 when there is no Python >= 3.12.
# Env: BEATSYNC_VENV (default .venv), BEATSYNC_PYTHON.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv="${BEATSYNC_VENV:-$top/.venv}"
want_python="${BEATSYNC_PYTHON:-}"
check_only=0
extra_lane=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --python) [ "$#" -ge 2 ] || { echo "bootstrap: --python needs an interpreter" >&2; exit 2; }
              want_python=$2; shift 2 ;;
    --python=*) want_python=${1#--python=}; shift ;;
    --lane) [ "$#" -ge 2 ] || { echo "bootstrap: --lane needs a name" >&2; exit 2; }
            extra_lane=$2; shift 2 ;;
    --lane=*) extra_lane=${1#--lane=}; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown option '$1' (--python PYTHON, --lane NAME, --check)" >&2; exit 2 ;;
  esac
done
if [ -n "$extra_lane" ] && { [ ! -f "$top/requirements/toolchain-$extra_lane.txt" ] ||
                             [ ! -f "$top/requirements/constraints-$extra_lane.txt" ]; }; then
  echo "bootstrap: unknown --lane '$extra_lane' (no requirements/toolchain-$extra_lane.txt" \
       "and constraints-$extra_lane.txt)" >&2
  exit 2
fi
# An existing venv keeps its interpreter, and so its lane, unless --python says otherwise
# (demo.sh and test.sh call bootstrap without options).
if [ -z "$want_python" ] && [ -f "$venv/pyvenv.cfg" ]; then
  prev=$(sed -n 's/^executable = //p' "$venv/pyvenv.cfg")
  if [ -n "$prev" ] && [ -x "$prev" ]; then want_python=$prev; fi
fi

# The interpreter for the venv, and with it the lane (requirement files).
py_minor() { "$1" -c 'import sys; print(sys.version_info[1] if sys.version_info[0] == 3 else 0)' 2>/dev/null; }
find_python() {
  local c m
  if [ -n "$want_python" ]; then
    c=$(command -v "$want_python") || { echo "bootstrap: --python/BEATSYNC_PYTHON '$want_python' not found" >&2; return 1; }
    m=$(py_minor "$c") || { echo "bootstrap: '$c' does not run" >&2; return 1; }
    [ "$m" -ge 11 ] || { echo "bootstrap: '$c' is Python 3.$m; ansible-core 2.19 needs Python >= 3.11" >&2; return 1; }
    echo "$c"; return 0
  fi
  # ansible-core 2.20+ needs Python 3.12 or newer: take the first one that is there.
  for c in python3.12 python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3 python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    m=$(py_minor "$c") || continue
    if [ "$m" -ge 12 ]; then command -v "$c"; return 0; fi
  done
  if [ -n "$extra_lane" ]; then
    echo "bootstrap: no Python >= 3.12 found for --lane $extra_lane (python3.12, python3.13," \
         "pyenv's 3.12/3.13, python3 tried)" >&2
    return 3
  fi
  # None: Debian 12's own python3 (3.11) and ansible-core 2.19.
  for c in python3 /usr/bin/python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    m=$(py_minor "$c") || continue
    if [ "$m" -ge 11 ]; then command -v "$c"; return 0; fi
  done
  echo "bootstrap: no Python >= 3.11 found (Debian 12: apt-get install python3 python3-venv;" \
       "or set BEATSYNC_PYTHON)" >&2
  return 1
}
py=$(find_python) || exit $?
if [ -n "$extra_lane" ]; then
  if [ "$(py_minor "$py")" -lt 12 ]; then
    echo "bootstrap: --lane $extra_lane needs Python >= 3.12; '$py' is $("$py" --version 2>&1)" >&2
    exit 3
  fi
  lane="-$extra_lane" # requirements/toolchain-NAME.txt, constraints-NAME.txt
elif [ "$(py_minor "$py")" -ge 12 ]; then
  lane="" # requirements/toolchain.txt, constraints.txt
else
  lane="-py311"
fi
toolchain="$top/requirements/toolchain$lane.txt"
constraints="$top/requirements/constraints$lane.txt"
want=$(cat "$toolchain" "$constraints" | sha256sum | cut -d' ' -f1)
if [ "$check_only" = 1 ]; then
  state="to be created"
  [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.toolchain.sha256" 2>/dev/null)" = "$want" ] && state="up to date"
  echo "bootstrap: python $py ($("$py" --version 2>&1)), requirements/toolchain$lane.txt, $venv $state"
  exit 0
fi

need_debs=()
for pkg in podman runc mmdebstrap uidmap iptables git shellcheck openssh-client; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_debs+=("$pkg")
done
# ansible-rulebook (event-driven repair) runs on Java 17+.
command -v java >/dev/null 2>&1 || need_debs+=(openjdk-17-jre-headless)
# Debian's python3 makes venvs only with python3-venv (ensurepip).
case "$py" in
  /usr/bin/*) "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 || need_debs+=(python3-venv) ;;
esac
if [ "${#need_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: need Debian packages ${need_debs[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "bootstrap: installing ${need_debs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
fi

stamp="$venv/.toolchain.sha256"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "bootstrap: creating $venv with $py ($("$py" --version 2>&1); requirements/toolchain$lane.txt)"
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
"$venv/bin/python" -m pip install -q -r "$toolchain" -c "$constraints" 2>&1 | grep -v "^WARNING: Location" || true
if [ -n "$extra_lane" ]; then
  "$venv/bin/python" -c 'import ansible, ansible_test, pytest'
else
  "$venv/bin/python" -c 'import ansible, molecule, pytest, testinfra, fastapi, uvicorn'
fi
echo "$want" > "$stamp"
echo "bootstrap: toolchain ready ($("$venv/bin/python" --version), ansible-core $("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)'))"
