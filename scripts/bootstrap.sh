#!/usr/bin/env bash
# Create the project's toolchain from nothing: Debian packages the tests need (podman, runc,
# mmdebstrap for the systemd test hosts) and .venv with the pinned Python tools.
# Idempotent: a second run with unchanged requirements does nothing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv="${BEATSYNC_VENV:-$top/.venv}"

need_debs=()
for pkg in podman runc mmdebstrap uidmap iptables git shellcheck openssh-client; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_debs+=("$pkg")
done
# ansible-rulebook (event-driven repair) runs on Java 17+.
command -v java >/dev/null 2>&1 || need_debs+=(openjdk-17-jre-headless)
if [ "${#need_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: need Debian packages ${need_debs[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "bootstrap: installing ${need_debs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
fi

# ansible-core 2.20+ needs Python 3.12 or newer: take the first one that is there.
find_python() {
  local c
  for c in "${BEATSYNC_PYTHON:-}" python3.12 python3.13 \
           /root/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

stamp="$venv/.toolchain.sha256"
want=$(cat "$top/requirements/toolchain.txt" "$top/requirements/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
py=$(find_python) || { echo "bootstrap: no Python >= 3.12 found (set BEATSYNC_PYTHON)" >&2; exit 1; }
echo "bootstrap: creating $venv with $py"
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
"$venv/bin/python" -m pip install -q -r "$top/requirements/toolchain.txt" \
  -c "$top/requirements/constraints.txt" 2>&1 | grep -v "^WARNING: Location" || true
"$venv/bin/python" -c 'import ansible, molecule, pytest, testinfra, fastapi, uvicorn' 
echo "$want" > "$stamp"
echo "bootstrap: toolchain ready ($("$venv/bin/ansible" --version | head -1))"
