# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Host probes: who listens on the BeatSync port, and which uvicorn processes serve the app.

These replace the runbook's ``netstat -tlnp | grep 8000``, ``lsof -i :8000`` and
``ps aux | grep uvicorn`` with facts read from /proc (standard library only).

The probes trust their arguments: the module's edge (its argument spec and
_argspec.validate) checked them once; nothing here checks them again.
"""

from __future__ import annotations

import os

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs

# Python interpreter options that take a separate argument (python -X dev -m uvicorn ...).
_PY_OPTS_WITH_ARG = ("-X", "-W", "-Q", "--check-hash-based-pycs")


# --------------------------------------------------------------------------- port

def probe_port(port=8000, proc_root=_procfs.PROC_ROOT):
    """Who listens on a TCP port, IPv4 and IPv6, any bind address.

    Returns {port, listening, listeners, owner_unknown, denied, error}; each listener is
    {family, address, port, inode, uid, pid, pids, name, cmdline, user, cwd, unit}.
    listening is None only when /proc/net/tcp could not be read at all. A listener whose socket
    inode was found in no readable /proc/<pid>/fd has pid None and sets owner_unknown: something
    listens, but this probe may not see who (typically: it runs without privilege).

    Trusts its arguments (checked at the module's edge): port an int in 1..65535, proc_root a path.
    """
    result = {"port": port, "listening": None, "listeners": [], "owner_unknown": False, "denied": 0, "error": None}
    seen = _procfs.read_listeners(port=port, proc_root=proc_root)
    if seen["errors"]:
        result["error"] = "; ".join(seen["errors"])
    if not seen["read"]:
        return result
    sockets = sorted(seen["listeners"], key=lambda item: (item["family"], item["address"], item["inode"]))
    result["listening"] = bool(sockets)
    if not sockets:
        return result
    scan = _procfs.map_inodes_to_pids([item["inode"] for item in sockets if item["inode"]], proc_root=proc_root)
    result["denied"] = scan["denied"]
    if scan["truncated"]:
        result["error"] = "; ".join(filter(None, [result["error"], "process scan stopped early (time budget)"]))
    boot, uptime_now = _procfs.boot_time(proc_root), _procfs.system_uptime(proc_root)
    for item in sockets:
        pids = sorted(scan["pids"].get(item["inode"], [])) if item["inode"] else []
        listener = {
            "family": item["family"], "address": item["address"], "port": item["port"],
            "inode": item["inode"], "uid": item["uid"], "pid": pids[0] if pids else None, "pids": pids,
            "name": None, "cmdline": [], "user": _procfs.user_name(item["uid"]), "cwd": None, "unit": None,
            "start_time": None,
        }
        info = _procfs.read_process(pids[0], proc_root, boot, uptime_now) if pids else None
        if info is not None:
            for key in ("name", "cmdline", "user", "cwd", "unit", "start_time"):
                listener[key] = info[key]
        if listener["pid"] is None:
            result["owner_unknown"] = True
        result["listeners"].append(listener)
    return result


# --------------------------------------------------------------------------- process

def _base(arg):
    return arg.rstrip("/").rsplit("/", 1)[-1]


def _token_is(arg, pattern):
    return arg == pattern or ("/" not in pattern and _base(arg) == pattern)


def _is_python(arg):
    name = _base(arg)
    return name.startswith("python") or name.startswith("pypy")


def program_index(argv, pattern):
    """Index of the argument that names the running program if it is pattern, else None.

    Matches "/venv/bin/uvicorn ...", "python3 [opts] -m uvicorn ..." and
    "python3 [opts] /venv/bin/uvicorn ..." (how the kernel shows a script run by its shebang),
    but not "grep uvicorn" or "bash -c '... uvicorn ...'": the pattern must be the program.
    """
    if not argv:
        return None
    if _token_is(argv[0], pattern):
        return 0
    if not _is_python(argv[0]):
        return None
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "-m":
            module = argv[index + 1] if index + 1 < len(argv) else ""
            return index + 1 if module == pattern else None
        if arg.startswith("-m") and not arg.startswith("--"):
            return index if arg[2:] == pattern else None
        if arg == "-" or arg.startswith("-c") or arg == "--":
            return None
        if arg in _PY_OPTS_WITH_ARG:
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        return index if _token_is(arg, pattern) else None
    return None


def cmdline_matches(argv, pattern, app_spec):
    """True when argv runs pattern (see program_index) with app_spec as one of its arguments.

    An empty app_spec matches any arguments.
    """
    index = program_index(argv, pattern)
    if index is None:
        return False
    return not app_spec or app_spec in argv[index + 1:]


def probe_process(pattern="uvicorn", app_spec="main:app", service="beatsync.service", proc_root=_procfs.PROC_ROOT):
    """The processes running pattern with app_spec, and which of them are outside service.

    Returns {pattern, app_spec, service, processes, stray, count, error}; each process is
    {pid, ppid, uid, user, name, cmdline, cwd, started_at, uptime, rss_bytes, unit,
    under_service}. stray lists the pids of matching processes that are not in the service's
    cgroup (a copy started by hand and left running). The probe's own process is never listed.

    Trusts its arguments (checked at the module's edge): service already normalised
    (beatsync.service, not beatsync), pattern a non-empty word, app_spec a word or "".
    """
    result = {"pattern": pattern, "app_spec": app_spec, "service": service,
              "processes": [], "stray": [], "count": 0, "error": None}
    pids = _procfs.list_pids(proc_root)
    if not pids:
        result["error"] = "no processes visible under %s" % proc_root
        return result
    own = os.getpid() if os.path.realpath(proc_root) == "/proc" else None
    boot, uptime_now = _procfs.boot_time(proc_root), _procfs.system_uptime(proc_root)
    for pid in pids:
        if pid == own:
            continue
        argv = _procfs.parse_cmdline(_procfs.read_text(os.path.join(proc_root, str(pid), "cmdline"),
                                                       _procfs.MAX_CMDLINE_BYTES))
        if not cmdline_matches(argv, pattern, app_spec):
            continue
        info = _procfs.read_process(pid, proc_root, boot, uptime_now)
        if info is None:
            continue
        info["under_service"] = info["unit"] == service
        result["processes"].append(info)
        if not info["under_service"]:
            result["stray"].append(pid)
    result["count"] = len(result["processes"])
    return result
