"""Fixtures shared by the pytest suites: real servers on loopback, the collection on a
collections path, and a way to run modules through Ansible itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_APP = REPO / "tests" / "fixtures" / "beatsync_app"
BUILD = REPO / "build"
COLLECTIONS_PATH = BUILD / "collections"

# The collection's Python code must be importable as ansible_collections.beatsync.ops.
_LINK = COLLECTIONS_PATH / "ansible_collections" / "beatsync" / "ops"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        _LINK.symlink_to(REPO, target_is_directory=True)
    except FileExistsError:
        pass
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (the kernel's pick)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, timeout=20.0, proc=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening" % proc.returncode)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listened on %s:%s within %ss" % (host, port, timeout))


@dataclass
class Server:
    """A real server process on loopback."""

    proc: subprocess.Popen
    host: str
    port: int
    argv: list = field(default_factory=list)

    @property
    def pid(self):
        return self.proc.pid

    @property
    def base_url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


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


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    })
    return env


def _bin(name):
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="session")
def run_module():
    """run_module("health_probe", {"url": ...}, check=False) -> the module's result dict.

    Runs `ansible localhost -m beatsync.ops.<name>` for real, so argument parsing, FQCN
    loading and AnsiballZ packaging are exercised.
    """
    def _run(name, args, check=False, timeout=120):
        argv = [_bin("ansible"), "localhost", "-c", "local", "-m", "beatsync.ops." + name,
                "-a", json.dumps(args)]
        if check:
            argv.append("--check")
        proc = subprocess.run(argv, env=ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
        try:
            data = json.loads(proc.stdout)
            return data["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError):
            raise AssertionError("ansible did not return JSON (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return _run
