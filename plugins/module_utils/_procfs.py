# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Read what the kernel says about sockets and processes, straight from /proc.

Standard library only (no psutil, netstat, ss or lsof). Every function takes ``proc_root``
(default ``/proc``) so the tests can point it at a recorded tree. Every read is bounded, and
nothing here raises for a process that vanished or a file that cannot be read: it returns
None (or skips the entry) instead.
"""

from __future__ import annotations

import os
import pwd
import socket
import struct
import sys
import time
from datetime import datetime, timezone

PROC_ROOT = "/proc"

# Bounds on every read.
MAX_FILE_BYTES = 64 * 1024          # status, stat, statm, cgroup, comm, uptime
MAX_STAT_FILE_BYTES = 256 * 1024    # /proc/stat (one line per CPU on big hosts)
MAX_CMDLINE_BYTES = 32 * 1024       # one process's argv
MAX_CMDLINE_ARGS = 1024
MAX_NET_BYTES = 16 * 1024 * 1024    # /proc/net/tcp{,6}
MAX_NET_LINES = 100000
MAX_PIDS = 100000                   # processes looked at in one scan
MAX_FDS_PER_PID = 100000            # descriptors looked at per process
SCAN_SECONDS = 20.0                 # wall-clock budget for one inode -> pid scan

TCP_LISTEN = "0A"
TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
    "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

_NET_FILES = (("ipv4", "tcp"), ("ipv6", "tcp6"))


def read_text(path, max_bytes=MAX_FILE_BYTES):
    """Up to max_bytes of a file as text (undecodable bytes replaced), or None if unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes)
    except (OSError, ValueError):
        return None
    return data.decode("utf-8", errors="replace")


def read_link(path):
    """Target of a symlink (e.g. /proc/PID/cwd), or None if it cannot be read."""
    try:
        return os.readlink(path)
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- /proc/net/tcp

def decode_address(hex_addr, family, byteorder=sys.byteorder):
    """Decode a /proc/net/tcp{,6} address ("0100007F" -> "127.0.0.1") or return None.

    The kernel prints the address as 32-bit words in host byte order (byteorder), so on a
    little-endian host every 4-byte word is reversed; v4-mapped IPv6 addresses come out as
    "::ffff:a.b.c.d".
    """
    size = 4 if family == "ipv4" else 16
    if len(hex_addr) != size * 2:
        return None
    try:
        raw = bytes.fromhex(hex_addr)
    except ValueError:
        return None
    words = struct.unpack("%s%dI" % ("<" if byteorder == "little" else ">", size // 4), raw)
    packed = struct.pack("!%dI" % (size // 4), *words)
    return socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, packed)


def parse_net_tcp(text, family, listen_only=True, max_lines=MAX_NET_LINES, byteorder=sys.byteorder,
                  with_remote=False):
    """Parse the text of /proc/net/tcp (family "ipv4") or /proc/net/tcp6 ("ipv6").

    Returns a list of sockets: {family, address, port, state, uid, inode} (plus remote_address
    and remote_port with with_remote). The header and any garbage or truncated line are
    skipped. With listen_only only LISTEN (0A) sockets are kept.
    """
    sockets = []
    for number, line in enumerate((text or "").splitlines()):
        if number >= max_lines:
            break
        entry = _parse_net_line(line, family, byteorder, with_remote)
        if entry is None:
            continue
        if listen_only and entry["state"] != "LISTEN":
            continue
        sockets.append(entry)
    return sockets


def _parse_endpoint(text, family, byteorder):
    """ "0100007F:1F40" -> ("127.0.0.1", 8000), or None."""
    if text.count(":") != 1:
        return None
    hex_addr, hex_port = text.split(":")
    address = decode_address(hex_addr, family, byteorder)
    if address is None or len(hex_port) != 4:
        return None
    try:
        return address, int(hex_port, 16)
    except ValueError:
        return None


def _parse_net_line(line, family, byteorder, with_remote=False):
    fields = line.split()
    # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if len(fields) < 10 or not fields[0].endswith(":") or not fields[0][:-1].isdigit():
        return None
    state, uid, inode = fields[3].upper(), fields[7], fields[9]
    if state not in TCP_STATES or not uid.isdigit() or not inode.isdigit():
        return None
    local = _parse_endpoint(fields[1], family, byteorder)
    if local is None:
        return None
    entry = {
        "family": family, "address": local[0], "port": local[1], "state": TCP_STATES[state],
        "uid": int(uid), "inode": int(inode),
    }
    if with_remote:
        remote = _parse_endpoint(fields[2], family, byteorder)
        if remote is None:
            return None
        entry["remote_address"], entry["remote_port"] = remote
    return entry


def _net_tables(proc_root):
    """The TCP tables of <proc_root>/net/tcp and tcp6 -> ([(family, text) read], [errors]).

    A missing tcp6 file (IPv6 disabled) is not an error; an unreadable tcp file is."""
    tables, errors = [], []
    for family, name in _NET_FILES:
        path = os.path.join(proc_root, "net", name)
        text = read_text(path, MAX_NET_BYTES)
        if text is None:
            if family == "ipv4" or os.path.exists(path):
                errors.append("cannot read %s" % path)
            continue
        tables.append((family, text))
    return tables, errors


def read_sockets(proc_root=PROC_ROOT, byteorder=sys.byteorder):
    """Every TCP socket (all states, with the remote end) from <proc_root>/net/tcp and tcp6.

    Returns {"sockets": [...], "errors": [...], "read": [families read]}, like read_listeners.
    """
    tables, errors = _net_tables(proc_root)
    sockets = [entry for family, text in tables
               for entry in parse_net_tcp(text, family, listen_only=False, byteorder=byteorder, with_remote=True)]
    return {"sockets": sockets, "errors": errors, "read": [family for family, dummy in tables]}


def read_listeners(port=None, proc_root=PROC_ROOT):
    """LISTEN sockets from <proc_root>/net/tcp and tcp6, optionally only those on one port.

    Returns {"listeners": [...], "errors": [...], "read": [families read]}. A missing tcp6
    file (IPv6 disabled) is not an error; an unreadable tcp file is.
    """
    tables, errors = _net_tables(proc_root)
    listeners = [entry for family, text in tables for entry in parse_net_tcp(text, family)
                 if port is None or entry["port"] == port]
    return {"listeners": listeners, "errors": errors, "read": [family for family, dummy in tables]}


# --------------------------------------------------------------------------- inode -> pid

def list_pids(proc_root=PROC_ROOT, max_pids=MAX_PIDS):
    """Sorted pids visible under proc_root (at most max_pids of them)."""
    pids = []
    try:
        with os.scandir(proc_root) as entries:
            for entry in entries:
                if entry.name.isdigit():
                    pids.append(int(entry.name))
                    if len(pids) >= max_pids:
                        break
    except OSError:
        return []
    return sorted(pids)


def socket_inodes(pid, proc_root=PROC_ROOT, max_fds=MAX_FDS_PER_PID):
    """The socket inodes a process holds open, as a set; raises PermissionError when denied
    (the fd directory, or every link in it, cannot be read).

    Returns None when the process vanished.
    """
    fd_dir = os.path.join(proc_root, str(pid), "fd")
    inodes = set()
    listed = unreadable = 0
    try:
        with os.scandir(fd_dir) as entries:
            for count, entry in enumerate(entries):
                if count >= max_fds:
                    break
                listed += 1
                target = read_link(entry.path)
                if target is None:
                    unreadable += 1
                if target and target.startswith("socket:[") and target.endswith("]"):
                    number = target[8:-1]
                    if number.isdigit():
                        inodes.add(int(number))
    except PermissionError:
        raise
    except OSError:
        return None
    if listed and unreadable == listed and os.path.isdir(fd_dir):
        # A process that is not dumpable (sshd sessions) lists its descriptors but hides their
        # targets from anyone without CAP_SYS_PTRACE.
        raise PermissionError("cannot read the descriptors of pid %s" % pid)
    return inodes


def map_inodes_to_pids(inodes, proc_root=PROC_ROOT, max_pids=MAX_PIDS, budget=SCAN_SECONDS):
    """Find which processes hold the given socket inodes by scanning /proc/<pid>/fd.

    Returns {"pids": {inode: [pid, ...]}, "scanned": n, "denied": n, "vanished": n,
    "truncated": bool}. Processes that vanish or deny access are skipped and counted.
    """
    wanted = set(inodes)
    found = {}
    result = {"pids": found, "scanned": 0, "denied": 0, "vanished": 0, "truncated": False}
    if not wanted:
        return result
    deadline = time.monotonic() + budget
    for pid in list_pids(proc_root, max_pids):
        if time.monotonic() > deadline:
            result["truncated"] = True
            break
        try:
            held = socket_inodes(pid, proc_root)
        except PermissionError:
            result["denied"] += 1
            continue
        if held is None:
            result["vanished"] += 1
            continue
        result["scanned"] += 1
        for inode in held & wanted:
            found.setdefault(inode, []).append(pid)
    return result


# --------------------------------------------------------------------------- one process

def parse_stat(text):
    """Parse /proc/<pid>/stat: {comm, state, ppid, starttime} (starttime in clock ticks) or None."""
    if not text:
        return None
    left, right = text.find("("), text.rfind(")")
    if left < 0 or right < left:
        return None
    rest = text[right + 1:].split()
    # rest[0] is field 3 (state), so field N is rest[N - 3].
    if len(rest) < 20 or not rest[1].lstrip("-").isdigit() or not rest[19].isdigit():
        return None
    return {"comm": text[left + 1:right], "state": rest[0], "ppid": int(rest[1]), "starttime": int(rest[19])}


def parse_cmdline(data, max_args=MAX_CMDLINE_ARGS):
    """Split a NUL-separated /proc/<pid>/cmdline (bytes or text) into a list of arguments."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not data:
        return []
    args = data.split("\0")
    if args and args[-1] == "":
        args.pop()
    return args[:max_args]


def parse_status(text):
    """The fields of /proc/<pid>/status we use: {name, uid (effective), ppid}; missing ones are None."""
    result = {"name": None, "uid": None, "ppid": None}
    for line in (text or "").splitlines():
        key, _sep, value = line.partition(":")
        value = value.strip()
        if key == "Name":
            result["name"] = value
        elif key == "Uid":
            ids = value.split()
            if len(ids) >= 2 and ids[1].isdigit():
                result["uid"] = int(ids[1])
        elif key == "PPid" and value.isdigit():
            result["ppid"] = int(value)
    return result


def parse_cgroup_unit(text):
    """The systemd .service unit in a /proc/<pid>/cgroup file, or None.

    Understands cgroup v2 ("0::/system.slice/beatsync.service") and v1
    ("1:name=systemd:/system.slice/beatsync.service") lines; the v2 line and the name=systemd
    line are preferred over the controller lines. The deepest ".service" component of the path
    is the unit (e.g. ".../user@1000.service/app.slice/foo.service" -> "foo.service").
    """
    ranked = []
    for line in (text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            rank = 0
        elif controllers == "name=systemd":
            rank = 1
        else:
            rank = 2
        ranked.append((rank, path))
    for _rank, path in sorted(ranked, key=lambda item: item[0]):
        units = [part for part in path.split("/") if part.endswith(".service") and len(part) > len(".service")]
        if units:
            return units[-1]
    return None


def user_name(uid):
    """Login name for a uid, or the uid as a string when it has no passwd entry; None for None."""
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return str(uid)


def clock_ticks():
    try:
        ticks = os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        ticks = 100
    return ticks if ticks and ticks > 0 else 100


def page_size():
    try:
        size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        size = 4096
    return size if size and size > 0 else 4096


def boot_time(proc_root=PROC_ROOT):
    """Boot time (epoch seconds) from the btime line of <proc_root>/stat, or None."""
    for line in (read_text(os.path.join(proc_root, "stat"), MAX_STAT_FILE_BYTES) or "").splitlines():
        if line.startswith("btime "):
            value = line.split()[1:2]
            if value and value[0].isdigit():
                return int(value[0])
    return None


def system_uptime(proc_root=PROC_ROOT):
    """Seconds since boot from <proc_root>/uptime, or None."""
    text = read_text(os.path.join(proc_root, "uptime"))
    try:
        return float((text or "").split()[0])
    except (IndexError, ValueError):
        return None


def iso_utc(epoch):
    """ISO 8601 UTC timestamp ("2026-01-02T03:04:05Z") for epoch seconds, or None."""
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def read_process(pid, proc_root=PROC_ROOT, boot=None, uptime_now=None):
    """Everything we report about one process, or None when it is gone.

    Returns {pid, ppid, uid, user, name, cmdline (list), cwd, start_time (clock ticks since boot,
    field 22 of /proc/PID/stat: exact, what stop_listeners re-checks), started_at, uptime,
    rss_bytes, unit}. Fields that cannot be read (e.g. cwd of another user's process) are None.
    boot and uptime_now (from boot_time()/system_uptime()) may be passed to save re-reading.
    """
    base = os.path.join(proc_root, str(pid))
    stat = parse_stat(read_text(os.path.join(base, "stat")))
    status = parse_status(read_text(os.path.join(base, "status")))
    if stat is None and status["name"] is None:
        return None
    cmdline_text = read_text(os.path.join(base, "cmdline"), MAX_CMDLINE_BYTES)
    if boot is None:
        boot = boot_time(proc_root)
    if uptime_now is None:
        uptime_now = system_uptime(proc_root)
    started_at = uptime = None
    if stat is not None:
        since_boot = stat["starttime"] / float(clock_ticks())
        if boot is not None:
            started_at = iso_utc(boot + since_boot)
        if uptime_now is not None:
            uptime = round(max(uptime_now - since_boot, 0.0), 2)
        elif boot is not None:
            uptime = round(max(time.time() - boot - since_boot, 0.0), 2)
    rss_bytes = None
    statm = (read_text(os.path.join(base, "statm")) or "").split()
    if len(statm) >= 2 and statm[1].isdigit():
        rss_bytes = int(statm[1]) * page_size()
    return {
        "pid": int(pid),
        "ppid": stat["ppid"] if stat else status["ppid"],
        "uid": status["uid"],
        "user": user_name(status["uid"]),
        "name": stat["comm"] if stat else status["name"],
        "cmdline": parse_cmdline(cmdline_text),
        "cwd": read_link(os.path.join(base, "cwd")),
        "start_time": stat["starttime"] if stat else None,
        "started_at": started_at,
        "uptime": uptime,
        "rss_bytes": rss_bytes,
        "unit": parse_cgroup_unit(read_text(os.path.join(base, "cgroup"))),
    }


def process_ancestry(pid, proc_root=PROC_ROOT, max_depth=64):
    """The process pid and its ancestors up to pid 1, from the ppid of /proc/<pid>/stat.

    Returns [{pid, ppid, name}, ...], pid first. Stops at pid 1 (included), at a process that
    cannot be read (not included), at a loop, or after max_depth entries.
    """
    chain, seen = [], set()
    current = int(pid)
    while current > 0 and current not in seen and len(chain) < max_depth:
        seen.add(current)
        stat = parse_stat(read_text(os.path.join(proc_root, str(current), "stat")))
        if stat is None:
            break
        chain.append({"pid": current, "ppid": stat["ppid"], "name": stat["comm"]})
        if current == 1:
            break
        current = stat["ppid"]
    return chain


def process_name(pid, proc_root=PROC_ROOT):
    """comm of a process (from /proc/<pid>/stat), or None when it is gone."""
    stat = parse_stat(read_text(os.path.join(proc_root, str(pid), "stat")))
    return stat["comm"] if stat else None
