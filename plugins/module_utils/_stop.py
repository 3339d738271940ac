# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the collection: stop the processes that hold a TCP port, safely, in one step.

`stop_listeners()` is what beatsync.ops.stop_listeners runs. At the moment it acts it looks
again at every process that holds the port and signals one only when

- it is the process the diagnosis saw: same start time (clock ticks since boot, or the ISO time
  the probes report), command line, working directory, and it still holds the diagnosed socket
  inode; or it holds a socket inode of such a process (a forked worker of the same copy);
- it runs in no systemd service's cgroup (a process of another unit is foreign, and the
  service's own process is not a stale copy) and in no scope other than a login session
  (``session-N.scope``, where a copy started by hand lives);
- it runs in the same mount namespace as PID 1 (not inside a container).

Signals go through a pidfd opened BEFORE the re-check (``os.pidfd_open`` /
``signal.pidfd_send_signal``), so a PID that is reused after the check cannot be hit: the pidfd
still names the process that was checked. Without pidfd support the start time is read again
right before each ``kill()``. SIGTERM, a bounded wait, SIGKILL, a bounded wait.

Standard library only. Nothing here raises for a process that vanished.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError, validate_port

MAX_PROCESSES = 256
MAX_TIMEOUT = 600.0


# --------------------------------------------------------------------------- one process

def cgroup_paths(text):
    """The systemd-relevant cgroup paths of a /proc/<pid>/cgroup file: the v2 "0::" line and the
    v1 "name=systemd" line (a hybrid host has both, and systemd may track units in either)."""
    paths = []
    for line in (text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) == 3 and ((parts[0] == "0" and parts[1] == "") or parts[1] == "name=systemd"):
            if parts[2] not in paths:
                paths.append(parts[2])
    return paths


def unit_of_cgroup(path):
    """The systemd unit a cgroup path puts a process in, or None for none.

    The deepest ``.service`` or ``.scope`` component, except a login session's
    ``session-N.scope`` (where processes started by hand from a shell live).
    """
    unit = None
    for part in (path or "").split("/"):
        if part.endswith(".service") and len(part) > len(".service"):
            unit = part
        elif part.endswith(".scope") and len(part) > len(".scope") and not part.startswith("session-"):
            unit = part
    return unit


def unit_of_cgroups(paths):
    """The unit of the first path that names one (see unit_of_cgroup), or None."""
    for path in paths or []:
        unit = unit_of_cgroup(path)
        if unit:
            return unit
    return None


def process_identity(pid, proc_root=_procfs.PROC_ROOT):
    """What identifies a process now, or None when it is gone.

    {pid, start_time (clock ticks since boot), started_at (ISO), state, ppid, cmdline (list),
    cwd, inodes (sorted socket inodes), cgroup (list of the systemd cgroup paths), unit, mnt_ns}. Unreadable fields are None.
    """
    base = os.path.join(proc_root, str(pid))
    stat = _procfs.parse_stat(_procfs.read_text(os.path.join(base, "stat")))
    if stat is None:
        return None
    try:
        inodes = _procfs.socket_inodes(pid, proc_root)
    except PermissionError:
        inodes = None
    cgroups = cgroup_paths(_procfs.read_text(os.path.join(base, "cgroup")))
    boot = _procfs.boot_time(proc_root)
    return {
        "pid": int(pid),
        "start_time": stat["starttime"],
        "started_at": _procfs.iso_utc(boot + stat["starttime"] / float(_procfs.clock_ticks())) if boot is not None else None,
        "state": stat["state"],
        "ppid": stat["ppid"],
        "cmdline": _procfs.parse_cmdline(_procfs.read_text(os.path.join(base, "cmdline"), _procfs.MAX_CMDLINE_BYTES)),
        "cwd": _procfs.read_link(os.path.join(base, "cwd")),
        "inodes": sorted(inodes) if inodes is not None else None,
        "cgroup": cgroups or None,
        "unit": unit_of_cgroups(cgroups),
        "mnt_ns": _procfs.read_link(os.path.join(base, "ns", "mnt")),
    }


def start_ticks(pid, proc_root=_procfs.PROC_ROOT):
    """The start time (clock ticks since boot) of pid, or None when gone (or a zombie)."""
    stat = _procfs.parse_stat(_procfs.read_text(os.path.join(proc_root, str(pid), "stat")))
    if stat is None or stat["state"] in ("Z", "X", "x"):
        return None
    return stat["starttime"]


# --------------------------------------------------------------------------- input

def _validate_processes(processes):
    if processes is None:
        processes = []
    if not isinstance(processes, list):
        raise ProbeInputError("processes must be a list of the diagnosed processes, got %r" % (processes,))
    if len(processes) > MAX_PROCESSES:
        raise ProbeInputError("processes lists %d entries, at most %d" % (len(processes), MAX_PROCESSES))
    result = {}
    for number, entry in enumerate(processes):
        where = "processes[%d]" % number
        if not isinstance(entry, dict):
            raise ProbeInputError("%s must be a dict with pid, start_time, cmdline, cwd and inode, got %r" % (where, entry))
        missing = [key for key in ("pid", "start_time", "cmdline", "cwd", "inode") if entry.get(key) in (None, "", [])]
        if missing:
            raise ProbeInputError("%s is missing %s: without them a process cannot be re-checked before it is signalled"
                                  % (where, ", ".join(missing)))
        pid = _int(entry["pid"], where + ".pid", 2)
        inode = _int(entry["inode"], where + ".inode", 1)
        start = entry["start_time"]
        if isinstance(start, str) and start.strip().isdigit():
            start = int(start.strip())
        if isinstance(start, bool) or not isinstance(start, (int, str)):
            raise ProbeInputError("%s.start_time must be clock ticks since boot (int) or an ISO time like "
                                  "2026-01-02T03:04:05Z, got %r" % (where, start))
        if isinstance(start, int) and start < 0:
            raise ProbeInputError("%s.start_time must not be negative, got %d" % (where, start))
        cmdline = entry["cmdline"]
        if isinstance(cmdline, list):
            if not all(isinstance(arg, str) for arg in cmdline):
                raise ProbeInputError("%s.cmdline must be a list of strings or a string, got %r" % (where, cmdline))
        elif not isinstance(cmdline, str):
            raise ProbeInputError("%s.cmdline must be a list of strings or a string, got %r" % (where, cmdline))
        cwd = entry["cwd"]
        if not isinstance(cwd, str) or not cwd.startswith("/"):
            raise ProbeInputError("%s.cwd must be an absolute path, got %r" % (where, cwd))
        if pid in result:
            raise ProbeInputError("processes lists pid %d twice" % pid)
        result[pid] = {"pid": pid, "start_time": start, "cmdline": cmdline, "cwd": cwd, "inode": inode}
    return result


def _int(value, name, minimum):
    try:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(value)
        number = int(str(value).strip())
    except ValueError:
        raise ProbeInputError("%s must be an integer, got %r" % (name, value))
    if number < minimum:
        raise ProbeInputError("%s must be at least %d, got %d" % (name, minimum, number))
    return number


def _timeout(value, name):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be a number of seconds, got %r" % (name, value))
    if not 0 <= seconds <= MAX_TIMEOUT:
        raise ProbeInputError("%s must be from 0 to %s seconds, got %s" % (name, MAX_TIMEOUT, value))
    return seconds


# --------------------------------------------------------------------------- decisions

def identity_mismatches(diagnosed, seen):
    """What differs between the diagnosed process and the one now at its pid (list of text)."""
    differs = []
    start = diagnosed["start_time"]
    if isinstance(start, int):
        if seen["start_time"] != start:
            differs.append("start time %s ticks, diagnosed %s" % (seen["start_time"], start))
    elif seen["started_at"] != start:
        differs.append("started at %s, diagnosed %s" % (seen["started_at"], start))
    cmdline = diagnosed["cmdline"]
    now = seen["cmdline"] if isinstance(cmdline, list) else " ".join(seen["cmdline"])
    if now != cmdline:
        differs.append("command line %r, diagnosed %r" % (now, cmdline))
    if seen["cwd"] != diagnosed["cwd"]:
        differs.append("working directory %r, diagnosed %r" % (seen["cwd"], diagnosed["cwd"]))
    return differs


def _placement_refusal(seen, service, pid1_ns):
    """Why a process may not be signalled because of where it runs, or None."""
    if seen["cgroup"] is None:
        return "foreign", "its cgroup cannot be read, so it cannot be shown to be outside every systemd unit"
    if seen["unit"] == service:
        return "service", "it runs in %s's own cgroup: the service itself, not a stale copy" % service
    if seen["unit"]:
        return "foreign", "it runs in the cgroup of the systemd unit %s: a process of another unit is foreign, never stale" % seen["unit"]
    if pid1_ns is None:
        return "namespace", "the mount namespace of PID 1 cannot be read, so it cannot be shown to run on this host's namespace"
    if seen["mnt_ns"] != pid1_ns:
        return "namespace", "it runs in mount namespace %s, not PID 1's %s (a container or sandbox)" % (seen["mnt_ns"], pid1_ns)
    return None


# --------------------------------------------------------------------------- signals

def pidfd_supported():
    return hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


def _open_pidfd(pid):
    """A pidfd for pid, None when pidfds are unsupported here; raises ProcessLookupError when gone."""
    if not pidfd_supported():
        return None
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            raise ProcessLookupError(pid)
        return None  # ENOSYS, EINVAL (old kernel), EMFILE: fall back to the start-time re-check


def _send(target, signum, proc_root):
    """Send signum to a checked target; True when sent, False when it is already gone."""
    if target["pidfd"] is not None:
        try:
            signal.pidfd_send_signal(target["pidfd"], signum)
        except ProcessLookupError:
            return False
        return True
    # No pidfd: the pid must still be the process that was checked, right now.
    if start_ticks(target["pid"], proc_root) != target["start_time"]:
        return False
    try:
        os.kill(target["pid"], signum)
    except ProcessLookupError:
        return False
    return True


def _exited(target, proc_root):
    if target["pidfd"] is not None:
        poller = select.poll()
        poller.register(target["pidfd"], select.POLLIN)
        return bool(poller.poll(0))
    return start_ticks(target["pid"], proc_root) != target["start_time"]


def _wait(targets, timeout, proc_root):
    """Wait until every target exited or timeout passed; returns those still running."""
    deadline = time.monotonic() + timeout
    running = [target for target in targets if not _exited(target, proc_root)]
    while running and time.monotonic() < deadline:
        pidfds = [target["pidfd"] for target in running if target["pidfd"] is not None]
        pause = min(0.1, max(deadline - time.monotonic(), 0))
        if pidfds and len(pidfds) == len(running):
            poller = select.poll()
            for pidfd in pidfds:
                poller.register(pidfd, select.POLLIN)
            poller.poll(int(pause * 1000) + 1)
        else:
            time.sleep(pause)
        running = [target for target in running if not _exited(target, proc_root)]
    return running


# --------------------------------------------------------------------------- the whole step

def _holders(port, proc_root):
    seen = _procfs.read_listeners(port=port, proc_root=proc_root)
    if not seen["read"]:
        raise OSError("; ".join(seen["errors"]) or "cannot read the listening sockets")
    inodes = sorted({item["inode"] for item in seen["listeners"] if item["inode"]})
    scan = _procfs.map_inodes_to_pids(inodes, proc_root=proc_root)
    holders = {}
    for inode, pids in scan["pids"].items():
        for pid in pids:
            holders.setdefault(pid, set()).add(inode)
    unowned = sorted(set(inodes) - set(scan["pids"]))
    return holders, inodes, unowned


def stop_listeners(port, processes, service="beatsync.service", term_timeout=10.0, kill_timeout=5.0,
                   check_mode=False, proc_root=_procfs.PROC_ROOT):
    """Re-check and stop every process that holds port and is (part of) a diagnosed process.

    Returns {port, changed, processes: [...], stopped, skipped, not_stopped, port_free,
    listeners_after, pidfd, unowned_inodes}. Each process entry is {pid, diagnosed, seen,
    action, reason, signals}; action is one of stopped, would_stop, skipped, gone, failed.
    Raises ProbeInputError for bad input, OSError when the sockets cannot be read at all.
    """
    port = validate_port(port)
    diagnosed = _validate_processes(processes)
    term_timeout = _timeout(term_timeout, "term_timeout")
    kill_timeout = _timeout(kill_timeout, "kill_timeout")
    if not isinstance(service, str) or not service.strip() or "/" in service:
        raise ProbeInputError("service must be a systemd unit name like beatsync.service, got %r" % (service,))
    if "." not in service:
        service += ".service"
    result = {"port": port, "changed": False, "processes": [], "stopped": [], "skipped": [], "not_stopped": [],
              "port_free": None, "listeners_after": [], "pidfd": pidfd_supported(), "unowned_inodes": []}
    holders, _inodes, result["unowned_inodes"] = _holders(port, proc_root)
    pid1_ns = _procfs.read_link(os.path.join(proc_root, "1", "ns", "mnt"))
    own = os.getpid()
    entries, targets, verified_inodes = {}, [], {}
    try:
        # Diagnosed processes first: their verified inodes vouch for the workers sharing them.
        order = sorted(diagnosed) + sorted(pid for pid in holders if pid not in diagnosed)
        for pid in order:
            entry, target = _check_one(pid, diagnosed.get(pid), holders.get(pid, set()), verified_inodes,
                                       service, pid1_ns, own, proc_root)
            entries[pid] = entry
            if target is not None:
                targets.append(target)
                if pid in diagnosed:
                    verified_inodes.update({inode: pid for inode in holders.get(pid, set())})
            elif entry.get("_pidfd") is not None:
                os.close(entry["_pidfd"])
        if check_mode:
            for target in targets:
                entries[target["pid"]]["action"] = "would_stop"
            result["changed"] = bool(targets)
        else:
            _signal_all(targets, entries, term_timeout, kill_timeout, proc_root)
            result["changed"] = any(entry["signals"] for entry in entries.values())
    finally:
        for target in targets:
            if target["pidfd"] is not None:
                os.close(target["pidfd"])
    for pid in sorted(entries):
        entry = entries[pid]
        entry.pop("_pidfd", None)
        result["processes"].append(entry)
        if entry["action"] == "stopped":
            result["stopped"].append(pid)
        elif entry["action"] == "failed":
            result["not_stopped"].append(pid)
        elif entry["action"] == "skipped":
            result["skipped"].append(pid)
    after, _inodes, _unowned = _holders(port, proc_root)
    listeners = _procfs.read_listeners(port=port, proc_root=proc_root)
    result["port_free"] = not listeners["listeners"]
    result["listeners_after"] = [{"pid": pid, "inodes": sorted(inodes)} for pid, inodes in sorted(after.items())]
    return result


def _check_one(pid, diag, held, verified_inodes, service, pid1_ns, own, proc_root):
    """(entry, target or None) for one pid: target is set when it may be signalled."""
    entry = {"pid": pid, "diagnosed": diag is not None, "holds_port": bool(held), "seen": None,
             "action": "skipped", "code": None, "reason": None, "signals": [], "method": None}

    def skip(code, reason):
        entry.update(action="skipped", code=code, reason=reason)
        return entry, None

    if pid in (1, own):
        return skip("protected", "pid %d is %s and is never signalled" % (pid, "PID 1" if pid == 1 else "this module"))
    try:
        pidfd = _open_pidfd(pid)  # before the check: the signal can only reach what was checked
    except ProcessLookupError:
        entry.update(action="gone", code="gone", reason="no process has pid %d any more" % pid)
        return entry, None
    entry["_pidfd"] = pidfd
    seen = process_identity(pid, proc_root)
    if seen is None or seen["state"] in ("Z", "X", "x"):
        entry.update(action="gone", code="gone", reason="pid %d has exited" % pid)
        return entry, None
    entry["seen"] = {key: seen[key] for key in ("start_time", "started_at", "cmdline", "cwd", "inodes", "cgroup", "unit", "mnt_ns")}
    if seen["inodes"] is None:
        return skip("unreadable", "its open files cannot be read, so its sockets cannot be re-checked")
    if diag is not None:
        differs = identity_mismatches(diag, seen)
        if differs:
            return skip("replaced", "pid %d is not the diagnosed process any more: %s" % (pid, "; ".join(differs)))
        if diag["inode"] not in seen["inodes"]:
            return skip("not_listening", "it no longer holds the diagnosed socket (inode %d)" % diag["inode"])
        if diag["inode"] not in held:
            return skip("not_listening", "the diagnosed socket (inode %d) no longer listens on the port" % diag["inode"])
        why = "the diagnosed process: same start time, command line, working directory and socket inode %d" % diag["inode"]
    else:
        shared = sorted(inode for inode in held if inode in verified_inodes)
        if not shared:
            return skip("not_diagnosed", "it listens on the port with socket inode(s) %s that no diagnosed process "
                        "holds: it was not diagnosed" % ", ".join(str(inode) for inode in sorted(held)))
        why = "holds socket inode %d of the diagnosed pid %d (a worker of the same copy)" % (shared[0], verified_inodes[shared[0]])
    refusal = _placement_refusal(seen, service, pid1_ns)
    if refusal is not None:
        return skip(*refusal)
    entry.update(action="checked", reason=why, method="pidfd" if pidfd is not None else "kill")
    return entry, {"pid": pid, "pidfd": pidfd, "start_time": seen["start_time"]}


def _signal_all(targets, entries, term_timeout, kill_timeout, proc_root):
    live = []
    for target in targets:
        if _send(target, signal.SIGTERM, proc_root):
            entries[target["pid"]]["signals"].append("SIGTERM")
            live.append(target)
        else:
            entries[target["pid"]].update(action="gone", code="gone", reason="it exited before it was signalled")
    running = _wait(live, term_timeout, proc_root)
    for target in running:
        if _send(target, signal.SIGKILL, proc_root):
            entries[target["pid"]]["signals"].append("SIGKILL")
    still = _wait(running, kill_timeout, proc_root)
    for target in live:
        entry = entries[target["pid"]]
        if target in still:
            entry.update(action="failed", code="did_not_exit",
                         reason="it still runs %ss after SIGKILL" % kill_timeout)
        else:
            entry.update(action="stopped", code=None)
