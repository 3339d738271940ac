# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the collection: which TCP ports sshd serves, and which one carries this very
connection, read from /proc.

Standard library only. Two facts, both independent of the environment (sudo's env_reset
cannot lose them) and of sshd's configuration syntax (Port, ListenAddress host:port, socket
options):

- listen ports: LISTEN sockets held by a process named sshd;
- the live connection: walk the ppid chain from this process up; the first sshd process on
  it that holds an ESTABLISHED TCP socket is the session this process runs in, and that
  socket's local port is the port the operator connected to.
"""

from __future__ import annotations

import os

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs

#: Process names (comm) of OpenSSH's server: sshd, and sshd-session since OpenSSH 9.8.
SSHD_NAMES = ("sshd", "sshd-session")


def probe_ssh_ports(pid=None, names=SSHD_NAMES, proc_root=_procfs.PROC_ROOT):
    """Ports sshd listens on and the port of the SSH session `pid` (default: this process) runs in.

    Returns {listen_ports, listeners, connection_port, connection, ancestry, denied, errors,
    evidence}; never raises for unreadable /proc entries (they are counted or reported).
    """
    names = tuple(names or SSHD_NAMES)
    pid = os.getpid() if pid is None else int(pid)
    result = {"listen_ports": [], "listeners": [], "connection_port": None, "connection": None,
              "ancestry": [], "denied": 0, "errors": [], "evidence": []}
    net = _procfs.read_sockets(proc_root)
    result["errors"].extend(net["errors"])
    by_inode = {entry["inode"]: entry for entry in net["sockets"] if entry["inode"]}

    # 1. LISTEN sockets held by sshd.
    listen = {inode: entry for inode, entry in by_inode.items() if entry["state"] == "LISTEN"}
    scan = _procfs.map_inodes_to_pids(listen, proc_root)
    result["denied"] += scan["denied"]
    names_seen = {}
    for inode in sorted(scan["pids"]):
        for holder in sorted(scan["pids"][inode]):
            if holder not in names_seen:
                names_seen[holder] = _procfs.process_name(holder, proc_root)
            if names_seen[holder] not in names:
                continue
            entry = listen[inode]
            result["listeners"].append({"family": entry["family"], "address": entry["address"],
                                        "port": entry["port"], "pid": holder, "name": names_seen[holder]})
            result["evidence"].append("%s (pid %d) listens on %s port %d (%s)"
                                      % (names_seen[holder], holder, entry["address"], entry["port"],
                                         entry["family"]))
            break
    result["listen_ports"] = sorted({entry["port"] for entry in result["listeners"]})
    if scan["denied"]:
        result["evidence"].append("%d process(es) did not show their sockets (run with become to see every sshd)"
                                  % scan["denied"])

    # 2. The session this process runs in: the nearest sshd ancestor with an ESTABLISHED socket.
    chain = _procfs.process_ancestry(pid, proc_root)
    result["ancestry"] = chain
    for proc in chain[1:]:
        if proc["name"] not in names:
            continue
        try:
            held = _procfs.socket_inodes(proc["pid"], proc_root)
        except PermissionError:
            result["denied"] += 1
            result["evidence"].append("%s (pid %d), an ancestor, did not show its sockets"
                                      % (proc["name"], proc["pid"]))
            continue
        established = sorted((by_inode[inode] for inode in (held or ())
                              if inode in by_inode and by_inode[inode]["state"] == "ESTABLISHED"),
                             key=lambda entry: entry["inode"])
        if not established:
            continue
        entry = established[0]
        result["connection"] = {
            "pid": proc["pid"], "name": proc["name"], "family": entry["family"],
            "local_address": entry["address"], "local_port": entry["port"],
            "remote_address": entry.get("remote_address"), "remote_port": entry.get("remote_port"),
        }
        result["connection_port"] = entry["port"]
        result["evidence"].append(
            "this process (pid %d) runs in the SSH session of %s (pid %d, ancestor): connection %s port %s -> %s port %d"
            % (pid, proc["name"], proc["pid"], entry.get("remote_address"), entry.get("remote_port"),
               entry["address"], entry["port"]))
        break
    if result["connection"] is None:
        result["evidence"].append("no sshd with an established TCP connection among the ancestors of pid %d (%s)"
                                  % (pid, " <- ".join("%s(%d)" % (p["name"], p["pid"]) for p in chain[:12])))
    return result
