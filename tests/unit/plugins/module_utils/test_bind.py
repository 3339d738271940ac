# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_bind: uvicorn's bind from an ExecStart argv, and overlap of listeners with it, checked
against what this machine's kernel answers to real bind() calls."""

from __future__ import annotations

import errno
import socket

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _bind
from ansible_collections.beatsync.ops.plugins.module_utils import _procfs

PY = ["/usr/bin/python3", "-m", "uvicorn", "main:app"]


def addrs(bind):
    return [(a["family"], a["address"], a["v6only"]) for a in bind["addresses"]]


# --------------------------------------------------------------------------- uvicorn_bind

@pytest.mark.parametrize("argv,host,port,sources", [
    (PY + ["--host", "0.0.0.0", "--port", "8000"], "0.0.0.0", 8000, ("argv", "argv")),
    (PY, "127.0.0.1", 8000, ("default", "default")),
    (PY + ["--host=::", "--port=9001"], "::", 9001, ("argv", "argv")),
    (PY + ["--host", "0.0.0.0", "--host", "127.0.0.1"], "127.0.0.1", 8000, ("argv", "default")),
    (["/opt/venv/bin/uvicorn", "main:app", "--port", "8080"], "127.0.0.1", 8080, ("default", "argv")),
    (["/usr/bin/env", "PYTHONPATH=/x", "uvicorn", "main:app", "--host", "[::1]"], "[::1]", 8000, ("argv", "default")),
    (["/usr/bin/python3", "-I", "-muvicorn", "main:app", "--host", "localhost"], "localhost", 8000, ("argv", "default")),
])
def test_uvicorn_bind_from_argv(argv, host, port, sources):
    bind = _bind.uvicorn_bind(argv)
    assert (bind["server"], bind["kind"], bind["host"], bind["port"], bind["error"]) == ("uvicorn", "tcp", host, port, None)
    assert (bind["source"]["host"], bind["source"]["port"]) == sources


def test_expanded_addresses_and_loopback():
    assert addrs(_bind.uvicorn_bind(PY + ["--host", "0.0.0.0"])) == [("ipv4", "0.0.0.0", None)]
    assert addrs(_bind.uvicorn_bind(PY + ["--host", "::"])) == [("ipv6", "::", True)]
    assert addrs(_bind.uvicorn_bind(PY + ["--host", "::", "--workers", "2"])) == [("ipv6", "::", False)]
    assert addrs(_bind.uvicorn_bind(PY + ["--host", "::", "--reload"])) == [("ipv6", "::", False)]
    assert addrs(_bind.uvicorn_bind(PY + ["--host", "::ffff:127.0.0.1"])) == [("ipv4", "127.0.0.1", None)]
    local = _bind.uvicorn_bind(PY + ["--host", "localhost"])
    assert addrs(local) == [("ipv4", "127.0.0.1", None), ("ipv6", "::1", True)]
    assert _bind.loopback_only(local) and _bind.loopback_only(_bind.uvicorn_bind(PY))
    assert _bind.loopback_only(_bind.uvicorn_bind(PY + ["--host", "127.0.0.2"]))
    assert not _bind.loopback_only(_bind.uvicorn_bind(PY + ["--host", "0.0.0.0"]))
    assert not _bind.loopback_only(_bind.uvicorn_bind(PY + ["--host", "10.1.2.3"]))
    every = _bind.uvicorn_bind(PY + ["--host", ""])
    assert addrs(every) == [("ipv4", "0.0.0.0", None), ("ipv6", "::", True)]


def test_environment_supplies_host_and_port():
    bind = _bind.uvicorn_bind(PY, {"UVICORN_HOST": "0.0.0.0", "UVICORN_PORT": "8100"})
    assert (bind["host"], bind["port"], bind["source"]) == ("0.0.0.0", 8100, {"host": "env", "port": "env"})
    bind = _bind.uvicorn_bind(PY + ["--port", "8000"], {"UVICORN_PORT": "8100"})
    assert bind["port"] == 8000


def test_uds_fd_and_errors():
    uds = _bind.uvicorn_bind(PY + ["--uds", "/run/beatsync.sock", "--host", "0.0.0.0"])
    assert (uds["kind"], uds["path"], uds["loopback_only"]) == ("uds", "/run/beatsync.sock", True)
    fd = _bind.uvicorn_bind(PY + ["--fd", "3"])
    assert fd["kind"] == "fd" and fd["fd"] == 3 and "socket activation" in fd["error"]
    assert _bind.uvicorn_bind(["/usr/bin/python3", "main.py"])["error"] == "not a uvicorn command line"
    assert _bind.uvicorn_bind(["/usr/bin/gunicorn", "-k", "uvicorn.workers.UvicornWorker"])["server"] is None
    assert "not a number" in _bind.uvicorn_bind(PY + ["--port", "http"])["error"]
    assert "not a number" in _bind.uvicorn_bind(PY + ["--port", "70000"])["error"]
    named = _bind.uvicorn_bind(PY + ["--host", "app.example.internal"])
    assert named["addresses"] == [] and "without DNS" in named["error"] and not named["loopback_only"]
    assert _bind.uvicorn_bind(PY + ["--host"])["error"] == "--host has no value"
    assert _bind.uvicorn_bind(PY + ["--", "--host", "0.0.0.0"])["host"] == "127.0.0.1"
    assert _bind.uvicorn_args(["/usr/bin/python3", "-c", "x", "uvicorn"]) is None


# --------------------------------------------------------------------------- overlap (table)

def listener(address, port=8000):
    return {"family": "ipv6" if ":" in address else "ipv4", "address": address, "port": port}


@pytest.mark.parametrize("their,our_argv,conflict,certain", [
    ("::1", ["--host", "0.0.0.0"], False, True),              # the case
    ("0.0.0.0", ["--host", "0.0.0.0"], True, True),
    ("127.0.0.1", ["--host", "0.0.0.0"], True, True),         # 0.0.0.0 overlaps every IPv4
    ("10.0.0.5", ["--host", "0.0.0.0"], True, True),
    ("0.0.0.0", ["--host", "127.0.0.1"], True, True),
    ("127.0.0.2", ["--host", "127.0.0.1"], False, True),
    ("::", ["--host", "0.0.0.0"], True, False),               # dual-stack unless V6ONLY: unknown
    ("::", ["--host", "::1"], True, True),
    ("::1", ["--host", "::"], True, True),
    ("127.0.0.1", ["--host", "::"], False, True),             # uvicorn (1 worker) sets V6ONLY
    ("127.0.0.1", ["--host", "::", "--workers", "2"], True, True),
    ("::ffff:127.0.0.1", ["--host", "127.0.0.1"], True, True),
    ("::1", ["--host", "localhost"], True, True),
    ("0.0.0.0", ["--host", "127.0.0.1", "--port", "8001"], False, True),
    ("::1", ["--host", "app.example.internal"], True, False),
    ("::1", ["--uds", "/run/x.sock"], False, True),
])
def test_overlap_table(their, our_argv, conflict, certain):
    result = _bind.overlap(listener(their), _bind.uvicorn_bind(PY + our_argv))
    assert (result["conflict"], result["certain"]) == (conflict, certain), result


def test_overlap_details():
    bind = _bind.uvicorn_bind(PY + ["--host", "0.0.0.0"])
    result = _bind.overlap(listener("::1"), bind)
    assert result["reason"] == "[::1] does not overlap 0.0.0.0" and result["certain"]
    assert _bind.overlap(listener("::"), bind, listener_v6only=True)["conflict"] is False
    assert _bind.overlap(listener("::"), bind, listener_v6only=False) == {
        "conflict": True, "certain": True, "address": "0.0.0.0",
        "reason": ":: without IPV6_V6ONLY (dual-stack) also holds every IPv4 address"}
    assert _bind.overlap({"family": "ipv4", "address": "garbage", "port": 8000}, bind)["certain"] is False
    found = _bind.conflicting_listeners([listener("::1"), listener("::"), listener("127.0.0.1"),
                                         listener("0.0.0.0", 9000)], bind)
    assert [(item[0]["address"], item[1]["certain"]) for item in found] == [("127.0.0.1", True), ("::", False)]
    different = _bind.overlap(listener("127.0.0.2"), _bind.uvicorn_bind(PY + ["--host", "127.0.0.1"]))
    assert different["reason"] == "127.0.0.2 does not overlap 127.0.0.1"


def test_loopback_helpers_and_accepts():
    assert _bind.is_loopback("127.0.0.1") and _bind.is_loopback("::1") and _bind.is_loopback("::ffff:127.0.0.9")
    assert not _bind.is_loopback("0.0.0.0") and not _bind.is_loopback("::") and not _bind.is_loopback("x")
    assert _bind.is_wildcard("::") and _bind.is_wildcard("0.0.0.0") and not _bind.is_wildcard("::1")
    assert _bind.listens_only_on_loopback([listener("127.0.0.1"), listener("::1")])
    assert not _bind.listens_only_on_loopback([listener("127.0.0.1"), listener("0.0.0.0")])
    assert not _bind.listens_only_on_loopback([])
    assert _bind.listens_only_on_loopback([listener("127.0.0.1"), listener("0.0.0.0", 9)], port=8000)
    anyv4 = _bind.uvicorn_bind(PY + ["--host", "0.0.0.0"])
    assert _bind.accepts(anyv4, "10.88.0.5") and not _bind.accepts(anyv4, "fd00::5")
    assert not _bind.accepts(_bind.uvicorn_bind(PY), "10.88.0.5")
    assert _bind.accepts(_bind.uvicorn_bind(PY + ["--host", "::", "--workers", "4"]), "10.88.0.5")
    assert not _bind.accepts(_bind.uvicorn_bind(PY + ["--host", "::"]), "10.88.0.5")
    assert not _bind.accepts(anyv4, "nonsense")


# --------------------------------------------------------------------------- the kernel agrees

def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def _listen(address, port, v6only=None):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6 and v6only is not None:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    sock.bind((address, port))
    sock.listen(1)
    return sock


KERNEL_CASES = [
    # (foreign listener, its v6only, uvicorn host, uvicorn's v6only)
    ("::1", True, "0.0.0.0", None),
    ("::1", False, "0.0.0.0", None),
    ("::", True, "0.0.0.0", None),
    ("::", False, "0.0.0.0", None),
    ("::", False, "127.0.0.1", None),
    ("0.0.0.0", None, "::", True),
    ("0.0.0.0", None, "::", False),
    ("127.0.0.1", None, "0.0.0.0", None),
    ("0.0.0.0", None, "127.0.0.1", None),
    ("127.0.0.2", None, "127.0.0.1", None),
    ("::1", True, "::", True),
    ("127.0.0.1", None, "::1", True),
]


@pytest.mark.parametrize("theirs,their_v6only,ours,our_v6only", KERNEL_CASES)
def test_overlap_matches_the_kernel(theirs, their_v6only, ours, our_v6only):
    """A real listener on loopback/wildcard, then a real bind() of the unit's address on the
    same port: EADDRINUSE exactly when overlap() says conflict; the listener as /proc shows it."""
    if not _ipv6_loopback():
        pytest.skip("no IPv6 here")
    held = _listen(theirs, 0, their_v6only)
    try:
        port = held.getsockname()[1]
        shown = [item for item in _procfs.read_listeners(port)["listeners"] if item["port"] == port]
        assert len(shown) == 1
        try:
            _listen(ours, port, our_v6only).close()
            kernel_conflict = False
        except OSError as exc:
            assert exc.errno == errno.EADDRINUSE
            kernel_conflict = True
    finally:
        held.close()
    argv = PY + ["--host", ours, "--port", str(port)] + (["--workers", "2"] if our_v6only is False else [])
    bind = _bind.uvicorn_bind(argv)
    assert bind["addresses"][0]["v6only"] == our_v6only
    result = _bind.overlap(shown[0], bind, listener_v6only=their_v6only)
    assert result["certain"] and result["conflict"] is kernel_conflict, (result, kernel_conflict)
