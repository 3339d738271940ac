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
        result["evidence"].append("%d process(es) did not show their sockets (other users' or not dumpable: root with CAP_SYS_PTRACE sees them)"
                                  % scan["denied"])

    # 2. The session this process runs in: the nearest sshd ancestor with an ESTABLISHED socket.
    chain = _procfs.process_ancestry(pid, proc_root)
    result["ancestry"] = chain
    sshd_ancestors = [proc for proc in chain[1:] if proc["name"] in names]
    denied_ancestors = []
    for proc in sshd_ancestors:
        try:
            held = _procfs.socket_inodes(proc["pid"], proc_root)
        except PermissionError:
            held = None
        if held is None:
            # sshd sessions are not dumpable: without CAP_SYS_PTRACE (unprivileged, or root in
            # some containers) their descriptors cannot be read.
            denied_ancestors.append(proc)
            continue
        established = sorted((by_inode[inode] for inode in held
                              if inode in by_inode and by_inode[inode]["state"] == "ESTABLISHED"),
                             key=lambda entry: entry["inode"])
        if not established:
            continue
        entry = established[0]
        _set_connection(result, pid, proc, entry, "the socket of the sshd ancestor")
        break
    if result["connection"] is None and denied_ancestors:
        result["denied"] += len(denied_ancestors)
        proc = denied_ancestors[0]
        # Second best: the established TCP connections to the ports sshd listens on. This process
        # runs in one of them; when they all share one local port, that is the port.
        candidates = sorted((entry for entry in by_inode.values()
                             if entry["state"] == "ESTABLISHED" and entry["port"] in result["listen_ports"]),
                            key=lambda entry: entry["inode"])
        ports = sorted({entry["port"] for entry in candidates})
        result["evidence"].append(
            "%s (pid %d), an ancestor, did not show its sockets; established connections to sshd's ports: %s"
            % (proc["name"], proc["pid"], ", ".join("%s:%d" % (e["address"], e["port"]) for e in candidates) or "none"))
        if len(ports) == 1:
            _set_connection(result, pid, proc, candidates[0], "the only port with established connections to sshd")
            result["connection"]["remote_address"] = result["connection"]["remote_port"] = None
    if result["connection"] is None:
        env = _ssh_connection_env(os.environ.get("SSH_CONNECTION")) if pid == os.getpid() else None
        if env is not None and sshd_ancestors:
            result["connection"] = {"pid": sshd_ancestors[0]["pid"], "name": sshd_ancestors[0]["name"],
                                    "family": "ipv6" if ":" in env[2] else "ipv4", "local_address": env[2],
                                    "local_port": env[3], "remote_address": env[0], "remote_port": env[1],
                                    "method": "SSH_CONNECTION of this process"}
            result["connection_port"] = env[3]
            result["evidence"].append("SSH_CONNECTION of this process: %s port %d -> %s port %d" % env)
    if result["connection"] is None:
        result["evidence"].append("no sshd with an established TCP connection among the ancestors of pid %d (%s)"
                                  % (pid, " <- ".join("%s(%d)" % (p["name"], p["pid"]) for p in chain[:12])))
    return result


def _set_connection(result, pid, proc, entry, method):
    result["connection"] = {
        "pid": proc["pid"], "name": proc["name"], "family": entry["family"],
        "local_address": entry["address"], "local_port": entry["port"],
        "remote_address": entry.get("remote_address"), "remote_port": entry.get("remote_port"),
        "method": method,
    }
    result["connection_port"] = entry["port"]
    result["evidence"].append(
        "this process (pid %d) runs in the SSH session of %s (pid %d, ancestor), found by %s: %s port %s -> %s port %d"
        % (pid, proc["name"], proc["pid"], method, entry.get("remote_address"), entry.get("remote_port"),
           entry["address"], entry["port"]))


def _ssh_connection_env(text):
    """SSH_CONNECTION "client_ip client_port server_ip server_port" -> tuple, or None."""
    fields = (text or "").split()
    if len(fields) != 4 or not fields[1].isdigit() or not fields[3].isdigit():
        return None
    if not (0 < int(fields[1]) <= 65535 and 0 < int(fields[3]) <= 65535):
        return None
    return fields[0], int(fields[1]), fields[2], int(fields[3])
