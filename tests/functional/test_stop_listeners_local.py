"""beatsync.ops.stop_listeners through `ansible localhost`, on real uvicorn servers on loopback.

The stopping itself is proven on a systemd host (test_stop_listeners_host.py): here PID 1 may
be anything (a sandbox's init whose namespace cannot be read, a CI runner's systemd), so these
tests assert what holds everywhere: a replaced PID is never signalled, check mode sends
nothing, a refusal names its reason, bad input is a clear error.
"""

from __future__ import annotations

import os

import pytest


def identity(pid, port):
    """What a diagnosis would have recorded for pid (read here, not through the collection)."""
    with open("/proc/%d/stat" % pid) as handle:
        stat = handle.read()
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        cmdline = handle.read().decode().split("\0")[:-1]
    listening = set()
    for name in ("tcp", "tcp6"):
        with open("/proc/net/" + name) as handle:
            for line in handle.read().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    listening.add(int(fields[9]))
    held = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        if target.startswith("socket:["):
            held.add(int(target[8:-1]))
    return {"pid": pid, "start_time": int(stat[stat.rfind(")") + 2:].split()[19]), "cmdline": cmdline,
            "cwd": os.readlink("/proc/%d/cwd" % pid), "inode": sorted(held & listening)[0]}


def test_replaced_pid_is_never_signalled(run_module, start_server):
    server = start_server()
    seen = identity(server.pid, server.port)
    older = dict(seen, start_time=seen["start_time"] - 100)  # what a PID reuse looks like
    result = run_module("stop_listeners", {"port": server.port, "processes": [older]})
    entry = result["processes"][0]
    assert entry["action"] == "skipped" and entry["code"] == "replaced" and entry["signals"] == []
    assert "start time" in entry["reason"] and result["changed"] is False
    assert server.proc.poll() is None and identity(server.pid, server.port) == seen

    moved = dict(seen, cwd="/srv/elsewhere", cmdline=" ".join(seen["cmdline"]))
    result = run_module("stop_listeners", {"port": server.port, "processes": [moved]})
    assert result["processes"][0]["code"] == "replaced" and "working directory" in result["processes"][0]["reason"]
    assert server.proc.poll() is None


def test_check_mode_sends_nothing_and_names_its_decision(run_module, start_server):
    server = start_server()
    seen = identity(server.pid, server.port)
    result = run_module("stop_listeners", {"port": server.port, "processes": [seen]}, check=True)
    entry = result["processes"][0]
    assert entry["signals"] == [] and result["stopped"] == []
    assert entry["action"] in ("would_stop", "skipped")
    if entry["action"] == "skipped":  # where this test runs decides (sandbox, a CI runner's unit)
        assert entry["code"] in ("namespace", "foreign") and entry["reason"]
    assert server.proc.poll() is None and identity(server.pid, server.port) == seen


def test_a_refusal_keeps_the_copy_serving_and_says_why(run_module, start_server):
    server = start_server()
    seen = identity(server.pid, server.port)
    result = run_module("stop_listeners", {"port": server.port, "processes": [seen], "term_timeout": 5})
    entry = result["processes"][0]
    if entry["action"] == "stopped":
        assert result["port_free"] is True and server.proc.wait(timeout=10) is not None
    else:
        assert entry["action"] == "skipped" and entry["code"] in ("namespace", "foreign")
        assert entry["reason"] and result["changed"] is False and result["port_free"] is False
        assert server.proc.poll() is None


def test_nothing_listening_nothing_to_do(run_module, start_server):
    server = start_server()
    port = server.port
    seen = identity(server.pid, port)
    server.stop()
    result = run_module("stop_listeners", {"port": port, "processes": [seen]})
    assert result["changed"] is False and result["port_free"] is True
    assert result["processes"][0]["action"] == "gone"


@pytest.mark.parametrize("args, message", [
    ({"port": 0, "processes": []}, "port must be from 1 to 65535, got 0"),
    ({"port": 70000, "processes": []}, "port must be from 1 to 65535, got 70000"),
    ({"port": 8000, "processes": [{"pid": "garbage", "start_time": 1, "cmdline": "x", "cwd": "/", "inode": 1}]}, "pid"),
    ({"port": 8000, "processes": [{"pid": 1234, "start_time": 1, "cmdline": "x", "cwd": "/"}]}, "inode"),
    ({"port": 8000, "processes": [{"pid": 0, "start_time": 1, "cmdline": "x", "cwd": "/", "inode": 1}]},
     "processes[0].pid must be at least 2, got 0"),
    ({"port": 8000, "processes": [{"pid": 1234, "start_time": [1], "cmdline": "x", "cwd": "/", "inode": 1}]},
     "processes[0].start_time must be clock ticks"),
    ({"port": 8000, "processes": [{"pid": 1234, "start_time": 1, "cmdline": "x", "cwd": "rel", "inode": 1}]},
     "processes[0].cwd must be an absolute path"),
    ({"port": 8000, "processes": [], "term_timeout": -1}, "term_timeout must be from 0 to 600"),
])
def test_bad_input_is_a_clear_error(run_module, args, message):
    result = run_module("stop_listeners", args)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
