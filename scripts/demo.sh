#!/usr/bin/env bash
# The README's first command: the main job on a built-in demo host. Installs what it needs
# (toolchain, container image), then runs scripts/demo.py, which cleans up its container.
# Env: BEATSYNC_VENV (toolchain venv, default .venv), BEATSYNC_PYTHON (see bootstrap.sh: e.g.
# /usr/bin/python3 for the Python 3.11 lane).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BEATSYNC_VENV="${BEATSYNC_VENV:-$top/.venv}"
bash scripts/bootstrap.sh
bash scripts/build-image.sh
exec "$BEATSYNC_VENV/bin/python" scripts/demo.py
