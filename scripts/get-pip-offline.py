"""Offline stand-in for ``get-pip.py``, used by ``ansible-test``.

ansible-test bootstraps pip into each virtual environment it creates by running
``https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py``, which is not
reachable from every machine.  It first looks for a cached copy at
``~/.ansible/test/cache/get_pip_<version with _>.py``; ``scripts/sanity.sh`` installs this
file there.

ansible-test runs it (through its ``quiet_pip.py`` wrapper, with ``GET_PIP`` pointing here)
with the new venv's interpreter and get-pip's arguments, e.g.::

    --disable-pip-version-check pip==25.2 --no-setuptools --no-wheel

This stand-in

1. runs ``python -m ensurepip --upgrade`` **in a subprocess**: called in-process, ensurepip
   sets ``PIP_CONFIG_FILE=/dev/null``, which hides the machine's pip configuration (its CA
   bundle, index and find-links), and the following install fails with
   ``CERTIFICATE_VERIFY_FAILED``;
2. runs ``python -m pip install`` with the same package arguments, dropping get-pip's own
   options (``--no-setuptools``, ``--no-wheel``, ``--no-pip``), so the requested pip version is
   installed from the configured index.
"""

from __future__ import annotations

import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = frozenset(("--no-setuptools", "--no-wheel", "--no-pip"))


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    env = dict(os.environ)
    env.pop("PIP_CONFIG_FILE", None)
    env.pop("GET_PIP", None)

    cmd = [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"]
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        sys.stderr.write("get-pip stand-in: %s failed with %d\n" % (" ".join(cmd), proc.returncode))
        return proc.returncode

    if not [arg for arg in args if not arg.startswith("-")]:
        return 0

    cmd = [sys.executable, "-m", "pip", "install"] + args
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        sys.stderr.write("get-pip stand-in: %s failed with %d\n" % (" ".join(cmd), proc.returncode))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
