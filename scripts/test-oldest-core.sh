#!/usr/bin/env bash
# CI stage: the collection against the oldest ansible-core it claims (meta/runtime.yml), on
# the Python a fresh Debian 12 has: the py311 lane of scripts/test-core-lane.sh (build/venv-py311
# on /usr/bin/python3, requirements/toolchain-py311.txt, ansible-core 2.19; ansible-lint,
# ansible-test sanity and tests/unit). Kept as that lane's entry point.
#
#   scripts/test-oldest-core.sh [extra pytest arguments]
# Env: BEATSYNC_VENV311 (default build/venv-py311), BEATSYNC_PYTHON311 (default /usr/bin/python3).
exec bash "$(dirname "$0")/test-core-lane.sh" py311 "$@"
