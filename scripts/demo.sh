#!/usr/bin/env bash
# The README's first command: the main job on a built-in demo host. Installs what it needs
# (toolchain, container image), then runs scripts/demo.py, which cleans up its container.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/bootstrap.sh
bash scripts/build-image.sh
exec "$top/.venv/bin/python" scripts/demo.py
