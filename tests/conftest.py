"""Fixtures and hooks shared by the pytest suites: real servers on loopback, and a way to run
modules through Ansible itself. Plain helpers live in testlib.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from testlib import FIXTURE_APP, Server, call_module_main, free_port, has_action_plugin, run_module_cli, wait_for_port

# Helper modules whose asserts pytest explains like a test's own.
pytest.register_assert_rewrite("awx_jobs")

# The worker's one booted systemd host is registered here, once for the whole tree: a session
# fixture imported into several test modules would be one fixture (and one host) per module.
from systemd_hosts import shared_beatsync_host  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position


# The longest tests (a Molecule scenario, an e2e playbook journey: minutes each) go first, so
# that xdist's workers do not end with one of them running alone while the others idle.
_LONG_FIRST = ("tests/molecule/test_scenarios.py", "tests/functional/test_playbooks_e2e.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return _LONG_FIRST.index(path) if path in _LONG_FIRST else len(_LONG_FIRST)
    items.sort(key=rank)  # stable: the order inside each file stays


@pytest.fixture
def start_server():
    """Factory: start_server(kind="beatsync", faults="", host="127.0.0.1") -> Server.

    kind "beatsync" runs the fixture app under uvicorn (`python -m uvicorn main:app`, cwd
    the app dir, like the real unit); kind "http.server" runs `python -m http.server`.
    Every server started is stopped at teardown.
    """
    started = []

    def _start(kind="beatsync", faults="", host="127.0.0.1", port=None):
        port = port or free_port(host)
        env = dict(os.environ)
        env.update({
            "BEATSYNC_FAULT": faults,
            "BEATSYNC_FAULT_FILE": "/nonexistent/beatsync-faults",
            "BEATSYNC_ONESHOT_FAULT_FILE": "/nonexistent/beatsync-oneshot",
        })
        if kind == "beatsync":
            argv = [sys.executable, "-m", "uvicorn", "main:app", "--host", host, "--port", str(port),
                    "--log-level", "warning", "--timeout-graceful-shutdown", "1"]
            cwd = FIXTURE_APP
        elif kind == "http.server":
            argv = [sys.executable, "-m", "http.server", str(port), "--bind", host]
            cwd = FIXTURE_APP
        else:
            raise ValueError(kind)
        proc = subprocess.Popen(argv, cwd=str(cwd), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = Server(proc=proc, host=host, port=port, argv=argv)
        started.append(server)
        wait_for_port(host, port, proc=proc)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def run_module():
    """run_module("health_probe", {"url": ...}, check=False) -> the module's result dict.

    Runs the module's main() in this process (call_module_main): the real module code against
    real servers, ~1000x cheaper than an `ansible` process. A name with an action plugin in
    front of its module goes through `ansible` (run_module_cli), since the action is part of
    what the name does. Each module keeps a test or two that use run_module_cli directly.
    """
    def _run(name, args, check=False, timeout=120):
        if has_action_plugin(name):
            return run_module_cli(name, args, check=check, timeout=timeout)
        return call_module_main(name, args, check=check)
    return _run


@pytest.fixture(scope="session")
def run_module_through_ansible():
    """The fixture form of run_module_cli: the real `ansible` CLI, one process per call."""
    return run_module_cli
