# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_procfs and probe_host on recorded /proc text and on a /proc tree laid out in tmp_path."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs
from ansible_collections.beatsync.ops.plugins.module_utils import _probe_host as probe_host

RECORDED = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "procfs"
BTIME = 1767225600          # 2026-01-01T00:00:00Z, in stat_host
UPTIME = 20000.50           # in uptime_host


def recorded(name, mode="r"):
    with open(RECORDED / name, mode) as handle:
        return handle.read()


# --------------------------------------------------------------------------- addresses

@pytest.mark.parametrize("hex_addr,family,expected", [
    ("0100007F", "ipv4", "127.0.0.1"),
    ("00000000", "ipv4", "0.0.0.0"),
    ("0A00A8C0", "ipv4", "192.168.0.10"),
    ("00000000000000000000000000000000", "ipv6", "::"),
    ("00000000000000000000000001000000", "ipv6", "::1"),
    ("0000000000000000FFFF00000100007F", "ipv6", "::ffff:127.0.0.1"),
    ("B80D0120000000000000000001000000", "ipv6", "2001:db8::1"),
    ("000080FE00000000FF0F2E02E3B7A5FE", "ipv6", "fe80::22e:fff:fea5:b7e3"),
])
def test_decode_address_little_endian_words(hex_addr, family, expected):
    assert _procfs.decode_address(hex_addr, family, byteorder="little") == expected


def test_decode_address_big_endian_host():
    assert _procfs.decode_address("7F000001", "ipv4", byteorder="big") == "127.0.0.1"
    assert _procfs.decode_address("00000000000000000000000000000001", "ipv6", byteorder="big") == "::1"


@pytest.mark.parametrize("hex_addr,family", [
    ("0100007", "ipv4"), ("0100007F00", "ipv4"), ("ZZZZZZZZ", "ipv4"), ("", "ipv4"),
    ("0000000000000000000000000100000", "ipv6"), ("0100007F", "ipv6"),
])
def test_decode_address_rejects_bad_text(hex_addr, family):
    assert _procfs.decode_address(hex_addr, family, byteorder="little") is None


# --------------------------------------------------------------------------- /proc/net/tcp{,6}

def test_parse_net_tcp_listen_only_skips_garbage_and_truncated_lines():
    sockets = _procfs.parse_net_tcp(recorded("net_tcp"), "ipv4", byteorder="little")
    assert sockets == [
        {"family": "ipv4", "address": "0.0.0.0", "port": 8000, "state": "LISTEN", "uid": 0, "inode": 41001},
        {"family": "ipv4", "address": "127.0.0.1", "port": 3306, "state": "LISTEN", "uid": 107, "inode": 41002},
        {"family": "ipv4", "address": "192.168.0.10", "port": 8000, "state": "LISTEN", "uid": 1000, "inode": 41004},
    ]


def test_parse_net_tcp_all_states():
    sockets = _procfs.parse_net_tcp(recorded("net_tcp"), "ipv4", listen_only=False, byteorder="little")
    assert [(item["state"], item["inode"]) for item in sockets] == [
        ("LISTEN", 41001), ("LISTEN", 41002), ("ESTABLISHED", 41003), ("LISTEN", 41004), ("TIME_WAIT", 0),
    ]


def test_parse_net_tcp6_ipv6_and_v4_mapped():
    sockets = _procfs.parse_net_tcp(recorded("net_tcp6"), "ipv6", byteorder="little")
    assert [(item["address"], item["port"], item["uid"], item["inode"]) for item in sockets] == [
        ("::", 8000, 0, 42001),
        ("::1", 8000, 1000, 42002),
        ("::ffff:127.0.0.1", 8000, 0, 42003),
        ("2001:db8::1", 8001, 0, 42004),
        ("fe80::22e:fff:fea5:b7e3", 22, 0, 42006),
    ]
    assert all(item["family"] == "ipv6" for item in sockets)


@pytest.mark.parametrize("text", ["", None, "\0\0\0", "garbage", "  sl  local_address\n", "\n\n\n"])
def test_parse_net_tcp_empty_or_garbage(text):
    assert not _procfs.parse_net_tcp(text, "ipv4")


def test_parse_net_tcp_bounded_lines():
    line = "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0 100 0 0 10 0\n"
    assert len(_procfs.parse_net_tcp(line * 50, "ipv4", max_lines=10, byteorder="little")) == 10


# --------------------------------------------------------------------------- cgroup

@pytest.mark.parametrize("name,unit", [
    ("cgroup_v1_hybrid", "beatsync.service"),
    ("cgroup_v1", "beatsync.service"),
    ("cgroup_v2", "beatsync.service"),
    ("cgroup_v2_session", None),
    ("cgroup_v2_user_service", "beatsync-dev.service"),
    ("cgroup_v2_user_manager", "user@1000.service"),
    ("cgroup_none", None),
    ("cgroup_docker", None),
    ("cgroup_controller_only", "other.service"),
    ("cgroup_garbage", None),
])
def test_parse_cgroup_unit(name, unit):
    assert _procfs.parse_cgroup_unit(recorded(name)) == unit


def test_parse_cgroup_unit_prefers_v2_and_systemd_lines():
    text = "5:cpu:/system.slice/wrong.service\n1:name=systemd:/system.slice/right.service\n"
    assert _procfs.parse_cgroup_unit(text) == "right.service"
    text = "1:name=systemd:/system.slice/v1.service\n0::/system.slice/v2.service\n"
    assert _procfs.parse_cgroup_unit(text) == "v2.service"
    assert _procfs.parse_cgroup_unit("0::/system.slice/.service\n") is None
    assert _procfs.parse_cgroup_unit(None) is None


# --------------------------------------------------------------------------- stat, status, cmdline

def test_parse_stat():
    assert _procfs.parse_stat(recorded("stat_python3")) == {"comm": "python3", "state": "S", "ppid": 1, "starttime": 1234500}
    weird = _procfs.parse_stat(recorded("stat_weird_comm"))
    assert weird["comm"] == "we (ird) name"
    assert weird["ppid"] == 4242
    assert weird["starttime"] == 500
    assert _procfs.parse_stat(recorded("stat_truncated")) is None
    assert _procfs.parse_stat("") is None
    assert _procfs.parse_stat("no parens at all") is None


def test_parse_status():
    assert _procfs.parse_status(recorded("status_python3")) == {"name": "python3", "uid": 0, "ppid": 1}
    assert _procfs.parse_status("Uid:\t1000\t1001\t1001\t1001\n") == {"name": None, "uid": 1001, "ppid": None}
    assert _procfs.parse_status(None) == {"name": None, "uid": None, "ppid": None}


def test_parse_cmdline():
    assert _procfs.parse_cmdline(recorded("cmdline_uvicorn", "rb")) == [
        "/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
    assert not _procfs.parse_cmdline(b"")
    assert _procfs.parse_cmdline(b"a\0\0b\0") == ["a", "", "b"]
    assert _procfs.parse_cmdline(b"\xff\xfe\0x\0") == ["\ufffd\ufffd", "x"]
    assert len(_procfs.parse_cmdline(b"x\0" * 5000)) == _procfs.MAX_CMDLINE_ARGS


def test_user_name():
    assert _procfs.user_name(0) == pwd.getpwuid(0).pw_name
    assert _procfs.user_name(None) is None
    unused = 4000000000
    assert _procfs.user_name(unused) == str(unused)


def test_iso_utc():
    assert _procfs.iso_utc(BTIME) == "2026-01-01T00:00:00Z"
    assert _procfs.iso_utc(None) is None


# --------------------------------------------------------------------------- a recorded /proc tree

def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def _add_pid(root, pid, stat, status, cmdline, cgroup, cwd=None, fds=(), statm="statm_python3"):
    base = root / str(pid)
    _write(base / "stat", stat)
    _write(base / "status", status)
    _write(base / "cmdline", cmdline)
    _write(base / "statm", recorded(statm))
    _write(base / "cgroup", cgroup)
    if cwd:
        os.symlink(cwd, base / "cwd")
    (base / "fd").mkdir()
    for number, target in enumerate(fds):
        os.symlink(target, base / "fd" / str(number))


@pytest.fixture
def proc_tree(tmp_path):
    """A small /proc: uvicorn under beatsync.service (pid 4242, holds 41001 and 42001), a stray
    copy started by hand (pid 5151, holds 42002), its shell grepping for it (pid 6000), and
    a process that owns nothing (pid 7000). 41004 and 42003 belong to no visible process."""
    root = tmp_path / "proc"
    _write(root / "net" / "tcp", recorded("net_tcp"))
    _write(root / "net" / "tcp6", recorded("net_tcp6"))
    _write(root / "stat", recorded("stat_host"))
    _write(root / "uptime", recorded("uptime_host"))
    _add_pid(root, 4242, recorded("stat_python3"), recorded("status_python3"), recorded("cmdline_uvicorn", "rb"),
             recorded("cgroup_v2"), cwd="/opt/beatsync/web_service/backend",
             fds=["/dev/null", "pipe:[1]", "socket:[41001]", "socket:[42001]", "anon_inode:[eventpoll]"])
    stray_stat = recorded("stat_python3").replace("4242 (python3) S 1", "5151 (uvicorn) S 900").replace(" 1234500 ", " 1900050 ")
    stray_status = recorded("status_python3").replace("Uid:\t0\t0\t0\t0", "Uid:\t1000\t4000000000\t1000\t1000")
    _add_pid(root, 5151, stray_stat, stray_status, b"/srv/venv/bin/python3\0/srv/venv/bin/uvicorn\0main:app\0--port\0" b"8000\0",
             recorded("cgroup_v2_session"), cwd="/home/dev/backend", fds=["socket:[42002]", "socket:[99999]"])
    _add_pid(root, 6000, recorded("stat_weird_comm"), "Name:\tgrep\nUid:\t0\t0\t0\t0\n",
             b"grep\0--color=auto\0uvicorn main:app\0", recorded("cgroup_none"), cwd="/root")
    _add_pid(root, 7000, recorded("stat_python3").replace("4242 (python3)", "7000 (python3)"), recorded("status_python3"),
             b"python3\0-m\0uvicorn\0other:app\0", recorded("cgroup_docker"))
    (root / "self").mkdir()
    (root / "not-a-pid").mkdir()
    return root


def test_read_listeners_recorded(proc_tree):
    seen = _procfs.read_listeners(port=8000, proc_root=str(proc_tree))
    assert seen["errors"] == []
    assert seen["read"] == ["ipv4", "ipv6"]
    assert [item["inode"] for item in seen["listeners"]] == [41001, 41004, 42001, 42002, 42003]


def test_read_listeners_without_tcp6_is_not_an_error(proc_tree):
    (proc_tree / "net" / "tcp6").unlink()
    seen = _procfs.read_listeners(port=8000, proc_root=str(proc_tree))
    assert seen["errors"] == []
    assert seen["read"] == ["ipv4"]


def test_map_inodes_to_pids(proc_tree):
    scan = _procfs.map_inodes_to_pids([41001, 42001, 42002, 41004], proc_root=str(proc_tree))
    assert scan["pids"] == {41001: [4242], 42001: [4242], 42002: [5151]}
    assert scan["scanned"] == 4
    assert scan["denied"] == 0
    assert scan["truncated"] is False
    assert _procfs.map_inodes_to_pids([], proc_root=str(proc_tree))["scanned"] == 0


def test_list_pids(proc_tree):
    assert _procfs.list_pids(str(proc_tree)) == [4242, 5151, 6000, 7000]
    assert len(_procfs.list_pids(str(proc_tree), max_pids=2)) == 2
    assert not _procfs.list_pids(str(proc_tree / "missing"))


def test_read_process_recorded(proc_tree):
    info = _procfs.read_process(4242, str(proc_tree))
    page = os.sysconf("SC_PAGE_SIZE")
    since_boot = 1234500 / float(os.sysconf("SC_CLK_TCK"))
    assert info == {
        "pid": 4242, "ppid": 1, "uid": 0, "user": pwd.getpwuid(0).pw_name, "name": "python3",
        "cmdline": ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"],
        "cwd": "/opt/beatsync/web_service/backend", "start_time": 1234500,
        "started_at": _procfs.iso_utc(BTIME + since_boot),
        "uptime": round(UPTIME - since_boot, 2),
        "rss_bytes": 12800 * page,
        "unit": "beatsync.service",
    }
    assert _procfs.read_process(31337, str(proc_tree)) is None


def test_read_process_missing_files(proc_tree):
    base = proc_tree / "7000"
    for name in ("statm", "cgroup", "cmdline"):
        (base / name).unlink()
    (base / "stat").write_text("7000 (python3) S 1\n")      # truncated
    (proc_tree / "uptime").unlink()
    info = _procfs.read_process(7000, str(proc_tree))
    assert info["name"] == "python3"                          # from status
    assert info["ppid"] == 1
    assert info["cmdline"] == []
    assert info["cwd"] is None
    assert info["rss_bytes"] is None
    assert info["unit"] is None
    assert info["started_at"] is None
    assert info["uptime"] is None


# --------------------------------------------------------------------------- probe_host on the tree

def test_probe_port_recorded(proc_tree):
    facts = probe_host.probe_port(port=8000, proc_root=str(proc_tree))
    assert facts["port"] == 8000
    assert facts["listening"] is True
    assert facts["owner_unknown"] is True
    assert facts["error"] is None
    by_inode = {item["inode"]: item for item in facts["listeners"]}
    assert sorted(by_inode) == [41001, 41004, 42001, 42002, 42003]
    service = by_inode[41001]
    assert service["family"] == "ipv4"
    assert service["address"] == "0.0.0.0"
    assert service["pid"] == 4242
    assert service["pids"] == [4242]
    assert service["name"] == "python3"
    assert service["cwd"] == "/opt/beatsync/web_service/backend"
    assert service["unit"] == "beatsync.service"
    assert service["cmdline"][2:4] == ["uvicorn", "main:app"]
    assert by_inode[42001]["address"] == "::"
    assert by_inode[42001]["pid"] == 4242
    stray = by_inode[42002]
    assert (stray["family"], stray["address"], stray["pid"], stray["name"], stray["unit"]) == ("ipv6", "::1", 5151, "uvicorn", None)
    assert stray["user"] == "4000000000"                          # effective uid without a passwd entry
    unknown = by_inode[41004]
    assert unknown["pid"] is None
    assert unknown["pids"] == []
    assert unknown["name"] is None
    assert unknown["cmdline"] == []
    assert unknown["uid"] == 1000
    assert unknown["user"] == _procfs.user_name(1000)             # from the socket owner
    assert by_inode[42003]["address"] == "::ffff:127.0.0.1"


def test_probe_port_nothing_listens(proc_tree):
    facts = probe_host.probe_port(port=8080, proc_root=str(proc_tree))
    assert facts == {"port": 8080, "listening": False, "listeners": [], "owner_unknown": False, "denied": 0, "error": None}


def test_probe_port_unreadable_proc(tmp_path):
    facts = probe_host.probe_port(port=8000, proc_root=str(tmp_path))
    assert facts["listening"] is None
    assert "net/tcp" in facts["error"]


def test_probe_process_recorded(proc_tree):
    facts = probe_host.probe_process(proc_root=str(proc_tree))
    assert facts["pattern"] == "uvicorn"
    assert facts["app_spec"] == "main:app"
    assert facts["service"] == "beatsync.service"
    assert facts["error"] is None
    assert [item["pid"] for item in facts["processes"]] == [4242, 5151]
    assert facts["count"] == 2
    assert facts["stray"] == [5151]
    assert facts["processes"][0]["under_service"] is True
    assert facts["processes"][1]["under_service"] is False
    assert facts["processes"][1]["cwd"] == "/home/dev/backend"


def test_probe_process_configurable(proc_tree):
    root = str(proc_tree)
    assert probe_host.probe_process(app_spec="other:app", proc_root=root)["stray"] == [7000]
    assert probe_host.probe_process(app_spec="nope:app", proc_root=root)["count"] == 0
    assert probe_host.probe_process(app_spec="", proc_root=root)["count"] == 3
    assert probe_host.probe_process(pattern="gunicorn", proc_root=root)["count"] == 0
    assert probe_host.probe_process(pattern="grep", app_spec="uvicorn main:app", proc_root=root)["count"] == 1
    # The probe trusts a normalised service name (the module's edge turns "beatsync" into it).
    facts = probe_host.probe_process(service="beatsync.service", proc_root=root)
    assert facts["service"] == "beatsync.service"
    assert facts["stray"] == [5151]
    assert probe_host.probe_process(service="other.service", proc_root=root)["stray"] == [4242, 5151]


def test_probe_process_empty_proc(tmp_path):
    facts = probe_host.probe_process(proc_root=str(tmp_path))
    assert facts["count"] == 0
    assert "no processes" in facts["error"]


# --------------------------------------------------------------------------- command line matching

@pytest.mark.parametrize("argv,expected", [
    (["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"], True),
    (["python3", "-X", "dev", "-u", "-m", "uvicorn", "main:app"], True),
    (["python3", "-muvicorn", "main:app"], True),
    (["/venv/bin/uvicorn", "main:app", "--port", "8000"], True),
    (["/venv/bin/python3", "/venv/bin/uvicorn", "main:app"], True),
    (["uvicorn", "--host", "::1", "main:app"], True),
    (["python3", "-m", "uvicorn", "other:app"], False),
    (["python3", "-m", "uvicorn"], False),
    (["python3", "-m", "http.server", "8000"], False),
    (["grep", "uvicorn", "main:app"], False),
    (["grep", "--color=auto", "uvicorn main:app"], False),
    (["/bin/bash", "-c", "ps aux | grep uvicorn main:app"], False),
    (["python3", "-c", "import uvicorn", "uvicorn", "main:app"], False),
    (["sudo", "python3", "-m", "uvicorn", "main:app"], False),
    (["python3", "-m"], False),
    (["python3", "-"], False),
    ([], False),
    (["python3", "app.py", "uvicorn", "main:app"], False),
    (["main:app", "uvicorn"], False),
])
def test_cmdline_matches(argv, expected):
    assert probe_host.cmdline_matches(argv, "uvicorn", "main:app") is expected


def test_cmdline_matches_path_pattern():
    argv = ["/venv/bin/python3", "/venv/bin/uvicorn", "main:app"]
    assert probe_host.cmdline_matches(argv, "/venv/bin/uvicorn", "main:app")
    assert not probe_host.cmdline_matches(argv, "/other/bin/uvicorn", "main:app")
