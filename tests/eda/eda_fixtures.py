"""Fixtures of the EDA tests: a fixture BeatSync app whose process can be swapped on one port.

The test process owns the listening socket and hands it to each uvicorn (`--fd`). A swap
starts the next server on the same socket, waits until it has started, and only then stops
the previous one (gracefully: requests in flight are answered): nothing refuses or stalls
connections in between, however slowly a loaded machine imports FastAPI. That is how the
runbook's incident looks from outside (the port never closes, /docs turns 503).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from testlib import FIXTURE_APP  # tests/conftest.py (tests/ is on sys.path)


class SwappableApp:
    """The fixture app on a loopback port the test owns; swap(faults) replaces the process."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.faults = None

    def start(self, faults=""):
        env = dict(os.environ)
        env.update({"BEATSYNC_FAULT": faults, "BEATSYNC_FAULT_FILE": "/nonexistent/beatsync-faults",
                    "BEATSYNC_ONESHOT_FAULT_FILE": "/nonexistent/beatsync-oneshot"})
        fd = self.sock.fileno()
        # uvicorn says "Application startup complete." at log level info: the moment it serves.
        log = tempfile.TemporaryFile(mode="w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "main:app", "--fd", str(fd), "--log-level", "info", "--no-access-log"],
            cwd=str(FIXTURE_APP), env=env, pass_fds=(fd,), stdout=subprocess.DEVNULL, stderr=log)
        self.log = log
        self.faults = faults
        return self

    def wait_started(self, timeout=60):
        """Until this process's uvicorn has completed its start-up (it accepts from now on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fixture app exited with %s" % self.proc.returncode)
            self.log.seek(0)
            if b"Application startup complete" in self.log.read():
                return
            time.sleep(0.05)
        raise RuntimeError("fixture app did not complete its start-up within %ss" % timeout)

    @staticmethod
    def _stop(proc):
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def stop(self):
        self._stop(self.proc)
        self.proc = None

    def swap(self, faults):
        """Stop the server, then start one with `faults` on the same socket. The socket stays
        open here in between, so a request waits in its backlog for the new server rather than
        being refused; two servers never accept side by side (one poll's health request could
        reach the old one and its /docs request the new one, a state neither server is in)."""
        self._stop(self.proc)
        self.start(faults)
        self.wait_started()
        return self

    def wait_ready(self, timeout=20):
        """Until /api/health answers at all (any status): the process is serving."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("fixture app exited with %s" % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.base_url + "/api/health", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("fixture app on %s did not answer within %ss" % (self.base_url, timeout))

    def close(self):
        self.stop()
        self.sock.close()


@pytest.fixture
def swappable_app():
    """Factory: swappable_app(faults="") -> a started SwappableApp (closed at teardown)."""
    apps = []

    def _make(faults=""):
        app = SwappableApp().start(faults)
        apps.append(app)
        app.wait_ready()
        return app

    yield _make
    for app in apps:
        app.close()
