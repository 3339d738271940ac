"""beatsync.ops.stop_listeners on a real systemd host (podman container of the test bed).

Real processes hold real ports inside the host: uvicorn copies of the fixture app started by
hand (outside any unit, like runbook option 3), uvicorn with forked workers, SO_REUSEPORT
servers, a copy run by another systemd unit, and beatsync.service itself. What the module was
told (the "diagnosis") is read independently of the collection, by a snippet run in the host.
The module runs through `ansible` with the podman connection, as the repair role will run it.
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from testlib import run_module_on
from systemd_hosts import APP_DIR, beatsync_host, podman_env, podman_inventory, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers


# Who holds a port, read straight from /proc inside the host (not through the collection).
HOLDERS = textwrap.dedent(r"""
    import json, os, sys
    port = int(sys.argv[1])
    inodes = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = open("/proc/net/" + name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(f[9]))
    out = []
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            held = set()
            for fd in os.listdir("/proc/%d/fd" % pid):
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if target.startswith("socket:["):
                    held.add(int(target[8:-1]))
            mine = sorted(held & inodes)
            if not mine:
                continue
            stat = open("/proc/%d/stat" % pid).read()
            start = int(stat[stat.rfind(")") + 2:].split()[19])
            cmd = open("/proc/%d/cmdline" % pid, "rb").read().decode().split("\0")[:-1]
            out.append({"pid": pid, "start_time": start, "cmdline": cmd,
                        "cwd": os.readlink("/proc/%d/cwd" % pid), "inode": mine[0],
                        "cgroup": open("/proc/%d/cgroup" % pid).read()})
        except OSError:
            continue
    print(json.dumps(out))
""")

REUSEPORT_SERVER = textwrap.dedent(r"""
    import signal, socket, sys, time
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    sock.listen(16)
    if "--ignore-term" in sys.argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1)
""")


@pytest.fixture(scope="module")
def host(beatsync_host):  # noqa: F811
    beatsync_host.exec(["mkdir", "-p", "/usr/local/share/i14"])
    beatsync_host.exec("cat > /usr/local/share/i14/holders.py", input=HOLDERS)
    beatsync_host.exec("cat > /usr/local/share/i14/reuseport.py", input=REUSEPORT_SERVER)
    return beatsync_host


@pytest.fixture
def inventory(tmp_path, host):
    return podman_inventory(tmp_path / "inventory.json", host)


def run_stop(inventory, args, check=False):
    return run_module_on("bed", inventory, "beatsync.ops.stop_listeners", args, check=check, env=podman_env())


def holders(host, port):
    return json.loads(host.exec(["python3", "/usr/local/share/i14/holders.py", str(port)]).stdout)


def wait_holders(host, port, count):
    """Wait (bounded) until `count` processes hold the port; returns them."""
    seen = []
    for _attempt in range(200):
        seen = holders(host, port)
        if len(seen) >= count:
            return seen
        time.sleep(0.1)
    raise AssertionError("expected %d holders of port %d, saw %s" % (count, port, seen))


def alive(host, pid):
    state = host.exec("awk '{print $3}' /proc/%d/stat 2>/dev/null" % pid, check=False).stdout.strip()
    return state not in ("", "Z")


def start_detached(host, command, cwd=APP_DIR):
    """Start command in the host outside any unit (setsid, like a copy started by hand)."""
    host.exec("cd %s && setsid %s </dev/null >/dev/null 2>&1 &" % (cwd, command))


def uvicorn(port, extra=""):
    return "/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port %d %s" % (port, extra)


def diagnosed(entries):
    return [{key: entry[key] for key in ("pid", "start_time", "cmdline", "cwd", "inode")} for entry in entries]


def cleanup(host, port):
    for entry in holders(host, port):
        host.exec(["kill", "-KILL", str(entry["pid"])], check=False)


def by_pid(result):
    return {entry["pid"]: entry for entry in result["processes"]}


def test_stale_copy_is_stopped_after_the_recheck(host, inventory):
    port = 18101
    start_detached(host, uvicorn(port))
    stale = wait_holders(host, port, 1)
    try:
        result = run_stop(inventory, {"port": port, "processes": diagnosed(stale)})
        assert result.get("failed") is not True, result
        entry = by_pid(result)[stale[0]["pid"]]
        assert entry["action"] == "stopped" and entry["signals"] == ["SIGTERM"] and entry["method"] == "pidfd"
        assert result["changed"] is True and result["stopped"] == [stale[0]["pid"]]
        assert result["port_free"] is True and holders(host, port) == []
        assert not alive(host, stale[0]["pid"])
    finally:
        cleanup(host, port)


def test_check_mode_reports_and_sends_nothing(host, inventory):
    port = 18102
    start_detached(host, uvicorn(port))
    stale = wait_holders(host, port, 1)
    try:
        result = run_stop(inventory, {"port": port, "processes": diagnosed(stale)}, check=True)
        entry = by_pid(result)[stale[0]["pid"]]
        assert entry["action"] == "would_stop" and entry["signals"] == []
        assert result["changed"] is True and result["stopped"] == [] and result["port_free"] is False
        # the same process (same start time) still holds the port
        assert holders(host, port) == stale
    finally:
        cleanup(host, port)


def test_diagnosed_pid_replaced_before_the_kill_nothing_signalled(host, inventory):
    port = 18103
    start_detached(host, uvicorn(port))
    first = wait_holders(host, port, 1)
    host.exec(["kill", "-KILL", str(first[0]["pid"])])
    start_detached(host, uvicorn(port))
    for _attempt in range(200):
        now = holders(host, port)
        if now and now[0]["pid"] != first[0]["pid"]:
            break
        time.sleep(0.1)
    second = holders(host, port)
    assert second and second[0]["pid"] != first[0]["pid"]
    # What the module sees when a new process got the diagnosed PID: the pid holds the port,
    # same command line and directory, but it started at another time with another socket.
    reused = dict(diagnosed(first)[0], pid=second[0]["pid"])
    try:
        result = run_stop(inventory, {"port": port, "processes": diagnosed(first) + [reused]})
        assert result.get("failed") is not True, result
        entries = by_pid(result)
        assert entries[first[0]["pid"]]["action"] == "gone"
        assert entries[second[0]["pid"]]["action"] == "skipped"
        assert entries[second[0]["pid"]]["code"] == "replaced"
        assert "start time" in entries[second[0]["pid"]]["reason"]
        assert all(entry["signals"] == [] for entry in result["processes"])
        assert result["changed"] is False and result["stopped"] == []
        assert holders(host, port) == second  # the new process was not touched

        # Only the old diagnosis (the PID that is gone): the new holder was not diagnosed.
        result = run_stop(inventory, {"port": port, "processes": diagnosed(first)})
        assert result["changed"] is False
        assert by_pid(result)[second[0]["pid"]]["code"] == "not_diagnosed"
        assert holders(host, port) == second
    finally:
        cleanup(host, port)


def test_process_in_a_unit_cgroup_is_foreign(host, inventory):
    port = 18104
    host.exec(["systemd-run", "--unit=i14-other-app", "--property=WorkingDirectory=" + APP_DIR,
               "/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)])
    try:
        other = wait_holders(host, port, 1)
        assert "/i14-other-app.service" in other[0]["cgroup"]
        result = run_stop(inventory, {"port": port, "processes": diagnosed(other)})
        entry = by_pid(result)[other[0]["pid"]]
        assert entry["action"] == "skipped" and entry["code"] == "foreign"
        assert "i14-other-app.service" in entry["reason"] and entry["signals"] == []
        assert result["changed"] is False and holders(host, port) == other
        assert host.unit_property("ActiveState", "i14-other-app.service") == "active"
    finally:
        host.exec(["systemctl", "stop", "i14-other-app.service"], check=False)


def test_the_service_itself_is_not_a_stale_copy(host, inventory):
    own = wait_holders(host, 8000, 1)
    main_pid = host.unit_property("MainPID")
    result = run_stop(inventory, {"port": 8000, "processes": diagnosed(own)})
    entry = by_pid(result)[own[0]["pid"]]
    assert entry["action"] == "skipped" and entry["code"] == "service"
    assert "beatsync.service" in entry["reason"]
    assert result["changed"] is False and host.unit_property("MainPID") == main_pid
    assert host.http_status_inside("/api/health") == "200"


def test_forked_workers_all_stopped(host, inventory):
    port = 18105
    start_detached(host, uvicorn(port, "--workers 2"))
    every = wait_holders(host, port, 3)  # the supervisor and two workers share the socket
    assert len({entry["inode"] for entry in every}) == 1
    try:
        # The diagnosis names the lowest pid (as port_probe does); its workers share the socket.
        result = run_stop(inventory, {"port": port, "processes": diagnosed(every[:1]), "term_timeout": 20})
        assert result.get("failed") is not True, result
        assert sorted(result["stopped"]) == sorted(entry["pid"] for entry in every)
        assert result["port_free"] is True and holders(host, port) == []
        workers = [entry for entry in result["processes"] if not entry["diagnosed"]]
        assert len(workers) == 2 and all("a worker of the same copy" in entry["reason"] for entry in workers)
    finally:
        cleanup(host, port)


def test_so_reuseport_holders_all_stopped_and_sigkill_after_the_wait(host, inventory):
    port = 18106
    start_detached(host, "/usr/bin/python3 /usr/local/share/i14/reuseport.py %d" % port)
    start_detached(host, "/usr/bin/python3 /usr/local/share/i14/reuseport.py %d --ignore-term" % port)
    both = wait_holders(host, port, 2)
    assert len({entry["inode"] for entry in both}) == 2
    stubborn = [entry["pid"] for entry in both if "--ignore-term" in entry["cmdline"]][0]
    try:
        result = run_stop(inventory, {"port": port, "processes": diagnosed(both), "term_timeout": 1})
        assert result.get("failed") is not True, result
        assert sorted(result["stopped"]) == sorted(entry["pid"] for entry in both)
        assert by_pid(result)[stubborn]["signals"] == ["SIGTERM", "SIGKILL"]
        assert result["port_free"] is True and holders(host, port) == []
    finally:
        cleanup(host, port)
