# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.port_probe against real listeners on loopback: uvicorn, http.server, ::1,
plain sockets, a socket shared with a child, nothing at all, and an unprivileged probe."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import COLLECTIONS_PATH, FIXTURE_APP, free_port, ansible_doc_json, ansible_doc_text

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs
from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_port

ME = pwd.getpwuid(os.geteuid()).pw_name
PYTHON_NAME = Path(sys.executable).name[:15]          # comm is the name the interpreter was executed as


def own_unit():
    """The systemd unit this test process runs in (None outside systemd services)."""
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        return _procfs.parse_cgroup_unit(handle.read())


def own_cmdline():
    with open("/proc/self/cmdline", "rb") as handle:
        return _procfs.parse_cmdline(handle.read())


def only_listener(facts):
    assert facts["listening"] is True, facts
    assert len(facts["listeners"]) == 1, facts
    return facts["listeners"][0]


@pytest.fixture
def listen_socket():
    """Factory: a plain socket this test binds and listens on; closed at teardown."""
    sockets = []

    def _listen(host="127.0.0.1", family=socket.AF_INET, v6only=None):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sockets.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only is not None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
        sock.bind((host, 0))
        sock.listen(8)
        return sock, sock.getsockname()[1]

    yield _listen
    for sock in sockets:
        sock.close()


def test_uvicorn_listener(start_server):
    server = start_server()
    facts = probe_port(port=server.port)
    assert facts["port"] == server.port
    assert facts["owner_unknown"] is False
    assert facts["error"] is None
    listener = only_listener(facts)
    assert listener["family"] == "ipv4"
    assert listener["address"] == "127.0.0.1"
    assert listener["port"] == server.port
    assert listener["pid"] == server.pid
    assert listener["pids"] == [server.pid]
    assert listener["name"] == PYTHON_NAME
    assert listener["cmdline"] == server.argv
    assert listener["cwd"] == str(FIXTURE_APP)
    assert listener["user"] == ME
    assert listener["uid"] == os.geteuid()
    assert listener["unit"] == own_unit()
    assert isinstance(listener["inode"], int) and listener["inode"] > 0
    held = {os.readlink(os.path.join("/proc/%d/fd" % server.pid, fd)) for fd in os.listdir("/proc/%d/fd" % server.pid)}
    assert "socket:[%d]" % listener["inode"] in held


def test_http_server_listener(start_server):
    server = start_server(kind="http.server")
    listener = only_listener(probe_port(port=server.port))
    assert (listener["family"], listener["address"], listener["pid"]) == ("ipv4", "127.0.0.1", server.pid)
    assert listener["name"] == PYTHON_NAME
    assert listener["cmdline"] == server.argv
    assert listener["cmdline"][1:3] == ["-m", "http.server"]
    assert listener["cwd"] == str(FIXTURE_APP)
    assert listener["user"] == ME


def test_ipv6_loopback_only_listener(start_server):
    server = start_server(host="::1")
    facts = probe_port(port=server.port)
    listener = only_listener(facts)
    assert listener["family"] == "ipv6"
    assert listener["address"] == "::1"
    assert listener["pid"] == server.pid
    assert listener["cmdline"] == server.argv
    assert listener["cwd"] == str(FIXTURE_APP)
    assert facts["owner_unknown"] is False


def test_plain_socket_in_this_process(listen_socket):
    sock, port = listen_socket("127.0.0.1")
    listener = only_listener(probe_port(port=port))
    assert listener["pid"] == os.getpid()
    assert listener["inode"] == os.fstat(sock.fileno()).st_ino
    assert listener["cmdline"] == own_cmdline()
    assert listener["cwd"] == os.getcwd()
    assert listener["user"] == ME
    assert listener["name"] == _procfs.parse_stat(Path("/proc/self/stat").read_text())["comm"]


def test_v4_mapped_and_any_address(listen_socket):
    _sock, port = listen_socket("::ffff:127.0.0.1", family=socket.AF_INET6, v6only=False)
    listener = only_listener(probe_port(port=port))
    assert (listener["family"], listener["address"], listener["pid"]) == ("ipv6", "::ffff:127.0.0.1", os.getpid())

    # A wildcard bind is "any address"; it is only probed here, no traffic goes to it.
    _sock, port = listen_socket("0.0.0.0")
    listener = only_listener(probe_port(port=port))
    assert (listener["family"], listener["address"]) == ("ipv4", "0.0.0.0")


def test_same_port_on_both_families(listen_socket):
    _sock4, port = listen_socket("127.0.0.1")
    sock6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock6.bind(("::1", port))
    except OSError:
        sock6.close()
        pytest.skip("port %d is taken on ::1" % port)
    try:
        sock6.listen(8)
        facts = probe_port(port=port)
        assert [(item["family"], item["address"], item["pid"]) for item in facts["listeners"]] == [
            ("ipv4", "127.0.0.1", os.getpid()), ("ipv6", "::1", os.getpid())]
    finally:
        sock6.close()


def test_socket_shared_with_a_child(listen_socket):
    sock, port = listen_socket("127.0.0.1")
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.stdin.read(); time.sleep(0)"],
                             pass_fds=[sock.fileno()], stdin=subprocess.PIPE)
    try:
        listener = only_listener(probe_port(port=port))
        assert listener["pids"] == sorted([os.getpid(), child.pid])
        assert listener["pid"] == min(os.getpid(), child.pid)
    finally:
        child.communicate(b"", timeout=10)


def test_nothing_listens():
    port = free_port()
    facts = probe_port(port=port)
    assert facts == {"port": port, "listening": False, "listeners": [], "owner_unknown": False, "denied": 0, "error": None}


def test_listener_goes_away(listen_socket):
    sock, port = listen_socket("127.0.0.1")
    assert probe_port(port=port)["listening"] is True
    sock.close()
    assert probe_port(port=port)["listening"] is False


# --------------------------------------------------------------------------- without privilege

def _unprivileged_python():
    """A setpriv binary and a Python interpreter the nobody user can run, or skip."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to nobody and to own a root listener")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv not installed")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no nobody user")
    candidates = [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")]
    for python in dict.fromkeys(filter(None, candidates)):
        probe = subprocess.run(_as_nobody(setpriv, python, "import sys; assert sys.version_info >= (3, 7)"),
                               capture_output=True, timeout=30, check=False, env=_nobody_env())
        if probe.returncode == 0:
            return setpriv, python
    pytest.skip("no Python interpreter that the nobody user can run")
    return None


def _as_nobody(setpriv, python, code):
    group = "nogroup"
    try:
        import grp
        grp.getgrnam(group)
    except KeyError:
        group = "nobody"
    return [setpriv, "--reuid=nobody", "--regid=%s" % group, "--clear-groups", python, "-c", code]


def _nobody_env():
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(COLLECTIONS_PATH), "LC_ALL": "C", "PYTHONDONTWRITEBYTECODE": "1"}


def run_probe_as_nobody(port):
    setpriv, python = _unprivileged_python()
    code = ("import json, sys\n"
            "from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_port\n"
            "json.dump(probe_port(port=int(sys.argv[1])), sys.stdout)\n")
    argv = _as_nobody(setpriv, python, code) + [str(port)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, env=_nobody_env(), cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_owner_unknown_without_privilege(start_server):
    server = start_server()                     # owned by root: its /proc/<pid>/fd is closed to nobody
    facts = run_probe_as_nobody(server.port)
    assert facts["listening"] is True
    assert facts["owner_unknown"] is True
    assert facts["denied"] > 0
    assert facts["error"] is None
    listener = only_listener(facts)
    assert listener["pid"] is None
    assert listener["pids"] == []
    assert (listener["family"], listener["address"], listener["port"]) == ("ipv4", "127.0.0.1", server.port)
    assert listener["uid"] == 0
    assert listener["user"] == "root"            # the socket's owner, still visible in /proc/net/tcp
    assert listener["cmdline"] == []
    assert listener["cwd"] is None
    # Run as root, the same probe sees the owner.
    assert only_listener(probe_port(port=server.port))["pid"] == server.pid


def test_nothing_listens_without_privilege():
    port = free_port()
    facts = run_probe_as_nobody(port)
    assert facts["listening"] is False
    assert facts["owner_unknown"] is False
    assert facts["listeners"] == []


# --------------------------------------------------------------------------- through Ansible

def test_module_through_ansible(start_server, run_module, run_module_through_ansible):
    server = start_server()
    for check in (False, True):
        # The real `ansible` CLI for the real run, the module in-process for --check.
        runner = run_module if check else run_module_through_ansible
        result = runner("port_probe", {"port": server.port}, check=check)
        assert result.get("failed") is not True, result
        assert result["changed"] is False
        assert result["listening"] is True
        assert result["owner_unknown"] is False
        listener = only_listener(result)
        assert (listener["pid"], listener["family"], listener["address"]) == (server.pid, "ipv4", "127.0.0.1")
        assert listener["cmdline"] == server.argv
        assert listener["cwd"] == str(FIXTURE_APP)


def test_module_nothing_listens(run_module):
    port = free_port()
    result = run_module("port_probe", {"port": port}, check=True)
    assert result["changed"] is False
    assert result["listening"] is False
    assert result["listeners"] == []


@pytest.mark.parametrize("port,words", [
    (0, "from 1 to 65535"), (70000, "from 1 to 65535"), ("abc", "port"), (-5, "from 1 to 65535"),
])
def test_module_bad_port(run_module, port, words):
    result = run_module("port_probe", {"port": port})
    assert result["failed"] is True
    assert "port" in result["msg"]
    assert words in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_module_unknown_option(run_module):
    result = run_module("port_probe", {"prot": 8000})
    assert result["failed"] is True
    assert "prot" in result["msg"]


def test_ansible_doc_renders():
    text = ansible_doc_text("port_probe")[0]
    assert "beatsync.ops.port_probe" in text
    assert "owner_unknown" in text
    data = ansible_doc_json("port_probe")
    assert data["doc"]["options"]["port"]["type"] == "int"
    assert data["doc"]["version_added"] == "0.1.0"
    assert "listeners" in data["return"]
    import yaml
    examples = yaml.safe_load(data["examples"])
    assert examples[0]["beatsync.ops.port_probe"] == {"port": 8000}
