"""Runs every Molecule scenario (molecule/<name>/molecule.yml) as one pytest test, so the
pytest summary counts scenarios. `molecule test -s <name>` from the repo root with the test
bed's environment (CONTAINERS_CONF, the toolchain's bin first on PATH).

    pytest tests/molecule/test_scenarios.py                      # all scenarios
    pytest tests/molecule/test_scenarios.py -k default           # one
    BEATSYNC_MOLECULE_SCENARIOS=default,repair pytest ...        # a subset
    pytest -m "not molecule" tests/                              # everything else

Skips when podman is missing or not root. The image is built (or reused) by each scenario's
dependency step (scripts/build-image.sh). Output of a failing scenario is in the failure and
in build/molecule-logs/<name>.log.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOLECULE_DIR = REPO / "molecule"
LOGS = REPO / "build" / "molecule-logs"
TIMEOUT = int(os.environ.get("BEATSYNC_MOLECULE_TIMEOUT", "1800"))


def scenarios():
    found = sorted(p.parent.name for p in MOLECULE_DIR.glob("*/molecule.yml"))
    wanted = [s for s in os.environ.get("BEATSYNC_MOLECULE_SCENARIOS", "").split(",") if s]
    return [s for s in found if not wanted or s in wanted]


def molecule_env():
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("CONTAINERS_CONF", str(REPO / "tests" / "containers" / "containers.conf"))
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    return env


@pytest.mark.molecule
@pytest.mark.parametrize("scenario", scenarios())
def test_scenario(scenario):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/build-image.sh installs it)")
    if os.geteuid() != 0:
        pytest.skip("the Molecule scenarios need root (podman, /var/lib/containers)")
    molecule = Path(sys.executable).parent / "molecule"
    if not molecule.exists():
        pytest.skip("molecule is not in the toolchain (scripts/bootstrap.sh)")
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / ("%s.log" % scenario)
    start = time.monotonic()
    with open(log, "w", encoding="utf-8") as handle:
        try:
            proc = subprocess.run([str(molecule), "test", "-s", scenario], cwd=str(REPO),
                                  env=molecule_env(), stdout=handle, stderr=subprocess.STDOUT,
                                  timeout=TIMEOUT, check=False)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout after %ss" % TIMEOUT
    elapsed = time.monotonic() - start
    text = log.read_text(encoding="utf-8", errors="replace")
    print("molecule test -s %s: rc=%s in %.1f s (log: %s)" % (scenario, rc, elapsed, log))
    if rc != 0:
        subprocess.run([str(molecule), "destroy", "-s", scenario], cwd=str(REPO), env=molecule_env(),
                       capture_output=True, timeout=300, check=False)
        pytest.fail("molecule test -s %s failed (rc=%s, %.0f s); last output:\n%s"
                    % (scenario, rc, elapsed, text[-6000:]), pytrace=False)
