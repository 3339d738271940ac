"""tests/molecule/: the pytest driver of the Molecule scenarios (test_scenarios.py) and, in
one sub-directory per scenario, the pytest-testinfra checks Molecule's verifier runs
(molecule.yml: verifier directory ../../tests/molecule/<scenario>, options rootdir
${MOLECULE_PROJECT_DIRECTORY}/tests/molecule, connection podman, hosts <container name>).

The testinfra checks only make sense against a scenario's container: outside a Molecule
verifier run (no MOLECULE_SCENARIO_NAME) they are not collected, so `pytest tests/` does not
run them against this machine. Shared checks live in bedcheck.py (`import bedcheck`).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

collect_ignore_glob = [] if os.environ.get("MOLECULE_SCENARIO_NAME") else ["*/test_*.py"]


def pytest_configure(config):
    config.addinivalue_line("markers", "molecule: runs a Molecule scenario (slow, needs podman + the image)")
