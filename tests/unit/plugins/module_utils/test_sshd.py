# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_sshd.probe_ssh_ports on /proc trees laid out in tmp_path (recorded from a Debian 12 host
with sshd on 2222 via ListenAddress, reached over SSH with sudo become)."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _sshd

TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
LISTEN_2222 = "   0: 00000000:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 80228 1 0 100 0 0 10 0\n"
LISTEN_8000 = "   1: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 70000 1 0 100 0 0 10 0\n"
# 10.88.0.9:2222 <- 10.88.0.1:53496
SESSION = "   2: 0900580A:08AE 0100580A:D0F8 01 00000000:00000000 02:000AFC68 00000000     0        0 81060 4 0 20 4 15 62 -1\n"
OTHER = "   3: 0900580A:1F40 0100580A:D0F9 01 00000000:00000000 02:000AFC68 00000000     0        0 81070 4 0 20 4 15 62 -1\n"


def make_proc(root, processes, tcp=TCP_HEADER + LISTEN_2222 + LISTEN_8000 + SESSION + OTHER):
    """processes: {pid: (comm, ppid, [socket inodes] or None for unreadable links)}."""
    (root / "net").mkdir(parents=True)
    (root / "net" / "tcp").write_text(tcp)
    for pid, (comm, ppid, inodes) in processes.items():
        base = root / str(pid)
        (base / "fd").mkdir(parents=True)
        (base / "stat").write_text("%d (%s) S %d %s\n" % (pid, comm, ppid, " ".join(["0"] * 40)))
        for number, inode in enumerate(inodes or []):
            os.symlink("socket:[%d]" % inode, str(base / "fd" / str(number + 3)))
    return root


TREE = {
    1: ("systemd", 0, []),
    123: ("sshd", 1, [80228]),                 # listener
    149: ("sshd", 123, [81060]),               # sshd: ops [priv]
    155: ("sshd", 149, [81060]),               # sshd: ops@notty
    156: ("sh", 155, []),
    157: ("sudo", 156, []),
    158: ("sh", 157, []),
    159: ("python3", 158, []),                 # the module
    300: ("python3", 1, [70000, 81070]),       # uvicorn on 8000
}


@pytest.mark.skipif(sys.byteorder != "little", reason="recorded on a little-endian host")
def test_listeners_and_the_session_of_an_ancestor(tmp_path):
    root = make_proc(tmp_path / "proc", TREE)
    facts = _sshd.probe_ssh_ports(pid=159, proc_root=str(root))
    assert facts["listen_ports"] == [2222]
    assert facts["listeners"] == [{"family": "ipv4", "address": "0.0.0.0", "port": 2222, "pid": 123, "name": "sshd"}]
    assert facts["connection_port"] == 2222
    conn = facts["connection"]
    assert conn["pid"] == 155 and conn["remote_address"] == "10.88.0.1" and conn["remote_port"] == 53496
    assert conn["local_address"] == "10.88.0.9" and conn["method"] == "the socket of the sshd ancestor"
    assert [p["name"] for p in facts["ancestry"]] == ["python3", "sh", "sudo", "sh", "sshd", "sshd", "sshd", "systemd"]
    assert any("runs in the SSH session" in line for line in facts["evidence"])


@pytest.mark.skipif(sys.byteorder != "little", reason="recorded on a little-endian host")
def test_not_an_ssh_session(tmp_path):
    tree = dict(TREE)
    tree[500] = ("python3", 1, [])
    root = make_proc(tmp_path / "proc", tree)
    facts = _sshd.probe_ssh_ports(pid=500, proc_root=str(root))
    assert facts["listen_ports"] == [2222]
    assert facts["connection_port"] is None and facts["connection"] is None
    assert "no sshd with an established TCP connection" in facts["evidence"][-1]


@pytest.mark.skipif(sys.byteorder != "little", reason="recorded on a little-endian host")
def test_session_descriptors_hidden_falls_back_to_sshd_ports(tmp_path, monkeypatch):
    root = make_proc(tmp_path / "proc", TREE)
    real = _sshd._procfs.read_link

    def hidden(path):   # sshd sessions are not dumpable: no CAP_SYS_PTRACE, no link targets
        if "/149/fd/" in path or "/155/fd/" in path:
            return None
        return real(path)

    monkeypatch.setattr(_sshd._procfs, "read_link", hidden)
    facts = _sshd.probe_ssh_ports(pid=159, proc_root=str(root))
    assert facts["connection_port"] == 2222
    assert facts["connection"]["method"] == "the only port with established connections to sshd"
    assert facts["connection"]["remote_address"] is None
    assert facts["denied"] >= 2


def test_ssh_connection_env_parsing():
    assert _sshd._ssh_connection_env("10.0.0.1 50000 10.0.0.2 2222") == ("10.0.0.1", 50000, "10.0.0.2", 2222)
    for bad in ("", None, "a b c", "10.0.0.1 x 10.0.0.2 22", "10.0.0.1 1 10.0.0.2 70000"):
        assert _sshd._ssh_connection_env(bad) is None


def test_unreadable_proc_is_reported_not_raised(tmp_path):
    facts = _sshd.probe_ssh_ports(pid=1, proc_root=str(tmp_path / "nothing"))
    assert facts["listen_ports"] == [] and facts["connection_port"] is None
    assert facts["errors"]
