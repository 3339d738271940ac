"""The diagnose action's outside check (plugins/action/diagnose.py): its address is refused
before the host is probed, and the look from outside follows the module's look from inside, so
that both see the service at (nearly) the same moment; under the repair lock, after the lock.
Checked on loopback against a real server that records each request and how many it has open at
once, and with a real lock that another owner holds and lets go while the task waits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from testlib import ansible_env

from ansible_collections.beatsync.ops.plugins.module_utils import _lock, _procfs

ANSIBLE = str(Path(sys.executable).parent / "ansible")
HOLD = 0.5  # seconds each request stays open: two in flight at once would overlap


class _Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hold=HOLD):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hold = hold
        self.lock = threading.Lock()
        self.open = self.most = 0
        self.paths = []
        self.arrived = []  # time.monotonic() of each request


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (http.server's name)
        server = self.server
        with server.lock:
            server.open += 1
            server.most = max(server.most, server.open)
            server.paths.append(self.path)
            server.arrived.append(time.monotonic())
        try:
            time.sleep(server.hold)
            body = b'{"status":"healthy"}' if self.path == "/api/health" else b"<html><title>docs</title></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with server.lock:
                server.open -= 1

    def log_message(self, *args):
        pass


def diagnose(server, **args):
    """`ansible localhost -m beatsync.ops.diagnose` against the counting server -> its result."""
    args = dict({"port": server.server_address[1], "probes": ["health", "docs"], "check_drift": False,
                 "external_address": "127.0.0.1", "timeout": 10}, **args)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = subprocess.run([ANSIBLE, "-i", "localhost,", "localhost", "-c", "local", "-m", "beatsync.ops.diagnose",
                               "-a", json.dumps(args)], env=ansible_env(), capture_output=True, text=True,
                              timeout=300, check=False)
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    finally:
        server.shutdown()
        server.server_close()


def test_the_outside_look_follows_the_hosts():
    server = _Counting()
    result = diagnose(server)
    assert result["external"]["health"]["status"] == 200, result
    assert result["probes"]["health"]["status"] == 200, result
    assert server.most == 1, "a request from outside was in flight beside the host's probes"
    # The host's requests, then the controller's: the same pages, in the same order, twice.
    half = len(server.paths) // 2
    assert server.paths[:half] == server.paths[half:] and server.paths[0] == "/api/health", server.paths


def test_a_bad_outside_address_is_refused_before_the_host_is_probed():
    server = _Counting()
    result = diagnose(server, external_address="not a host/")
    assert result.get("failed") and result["msg"].startswith("external_address: "), result
    assert server.paths == [], "the host was probed before the bad address was refused"


def _module_running(name):
    """True when a process of this machine runs a file called name (an AnsiballZ payload)."""
    for pid in _procfs.list_pids():
        process = _procfs.read_process(pid)
        if process and any(name in word for word in process["cmdline"]):
            return True
    return False


def test_under_the_lock_the_outside_check_follows_the_module(tmp_path):
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir(mode=0o700)
    path = str(lock_dir / "repair.lock")
    acquired, dummy = _lock.acquire(path, "the other repair", wait=0)
    assert acquired
    released = []

    def release_once_the_module_waits():
        # The module's own process on this host, then a second for it to reach the lock: the
        # task's start may take seconds on a loaded machine, so no fixed delay would do.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _module_running("AnsiballZ_diagnose"):
            time.sleep(0.05)
        time.sleep(1)
        released.append(time.monotonic())
        _lock.release(path, "the other repair")

    releaser = threading.Thread(target=release_once_the_module_waits, daemon=True)
    releaser.start()
    server = _Counting(hold=0)
    result = diagnose(server, lock={"path": path, "owner": "this repair", "wait": 60, "stale_after": 3600},
                      release_lock={"path": path, "owner": "this repair"})
    releaser.join()
    assert result["lock"]["acquired"] and result["lock"]["waited"] > 0, result.get("lock")
    assert server.paths.count("/api/health") == 2, server.paths  # the host's and the controller's
    # Every request, the controller's too, came after the other repair let go.
    assert min(server.arrived) > released[0], (server.arrived, released)
