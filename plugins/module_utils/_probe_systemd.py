# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""probe_unit(...): the runbook's `systemctl status beatsync` and
`cat /etc/systemd/system/beatsync.service` as facts (the journal: _journal.probe_journal).

Standard library only: this code runs on the managed host.
"""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils import _systemd
from ansible_collections.beatsync.ops.plugins.module_utils._common import find_bin, run_cmd
from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
    ProbeInputError,
    normalize_service,
    validate_timeout,
)

MAX_CANONICAL_CHARS = 64 * 1024


def _systemd_down_reason(cmd):
    text = (cmd.get("stderr") or "") + "\n" + (cmd.get("stdout") or "")
    if _systemd.is_no_systemd_message(text) or (cmd.get("rc") not in (0, None) and not _systemd.sd_booted()):
        first = " ".join(line.strip() for line in text.strip().splitlines()[:2])
        return "systemd is not running on this host (PID 1 is not systemd): %s" % (first or "systemctl failed")
    return None


def _empty_unit(service):
    return {
        "service": service, "systemd": None, "present": None, "load_state": None, "active_state": None,
        "sub_state": None, "result": None, "exec_main_status": None, "exec_main_code": None, "n_restarts": None,
        "main_pid": None, "unit_file_state": None, "fragment_path": None, "drop_in_paths": [],
        "active_enter_timestamp": None, "user": None, "exec_start": None, "exec_argv": [],
        "unit_file_exec_start": None, "working_directory": None, "interpreter": None,
        "interpreter_source": None, "unit_file_read": False, "drift": None, "diff": "", "error": None,
    }


def _read_shebang(path):
    try:
        with open(path, "rb") as handle:
            first = handle.read(256).split(b"\n", 1)[0]
    except OSError:
        return None
    return _systemd.interpreter_from_shebang(first.decode("utf-8", errors="replace"))


def probe_unit(service="beatsync.service", canonical_unit=None, systemctl_path=None, timeout=10):
    """Facts about the unit from `systemctl show` and its unit file (see docs/architecture.md `unit`).

    canonical_unit: the unit text the service role installs; when given, the installed
    FragmentPath file is compared with it (trailing whitespace and blank lines ignored) and
    `drift`/`diff` are set. No systemd -> systemd false and an error; unknown unit -> present false.
    """
    name = normalize_service(service)
    seconds = validate_timeout(timeout)
    if canonical_unit is not None and not isinstance(canonical_unit, str):
        raise ProbeInputError("canonical_unit must be the unit file text (a string), got %s" % type(canonical_unit).__name__)
    if canonical_unit is not None and len(canonical_unit) > MAX_CANONICAL_CHARS:
        raise ProbeInputError("canonical_unit must be at most %d characters, got %d" % (MAX_CANONICAL_CHARS, len(canonical_unit)))
    facts = _empty_unit(name)

    systemctl = find_bin("systemctl", systemctl_path)
    if not systemctl:
        facts["systemd"] = False
        facts["error"] = "systemctl not found%s: systemd is not installed on this host" % (
            " at %s" % systemctl_path if systemctl_path else "")
        return facts

    cmd = run_cmd([systemctl, "show", name, "--no-pager", "--property=" + ",".join(_systemd.SHOW_PROPERTIES)],
                  timeout=seconds, max_bytes=_systemd.MAX_SHOW_BYTES)
    down = _systemd_down_reason(cmd)
    if down:
        facts["systemd"] = False
        facts["error"] = down
        return facts
    if cmd["rc"] != 0:
        facts["error"] = cmd["error"] or "systemctl show %s exited %s: %s" % (name, cmd["rc"], cmd["stderr"].strip()[:500])
        return facts
    facts["systemd"] = True
    props = _systemd.parse_show(cmd["stdout"])
    facts.update(_unit_fields(props))
    if not props.get("LoadState"):
        facts["error"] = "systemctl show printed no LoadState for %s" % name
        return facts

    exec_start = _systemd.parse_exec_start(props.get("ExecStart"))
    unit_text = None
    if facts["fragment_path"]:
        unit_text, read_error, truncated = _systemd.read_bounded(facts["fragment_path"])
        facts["unit_file_read"] = unit_text is not None
        if read_error:
            facts["error"] = read_error
        elif truncated:
            facts["error"] = "unit file %s is larger than %d bytes; compared its beginning only" % (
                facts["fragment_path"], _systemd.MAX_UNIT_FILE_BYTES)
    file_exec = _systemd.unit_file_values(unit_text, "ExecStart") if unit_text is not None else []
    if file_exec:
        facts["unit_file_exec_start"] = file_exec[0]
    if exec_start is None and file_exec:
        exec_start = _systemd.parse_exec_start(file_exec[0])
    if facts["working_directory"] is None and unit_text is not None:
        dirs = _systemd.unit_file_values(unit_text, "WorkingDirectory")
        facts["working_directory"] = dirs[-1].lstrip("-") if dirs else None

    if exec_start:
        facts["exec_start"] = exec_start["command_line"]
        facts["exec_argv"] = exec_start["argv"]
        interpreter = _systemd.interpreter_from_argv(exec_start["path"], exec_start["argv"])
        if interpreter:
            facts["interpreter"], facts["interpreter_source"] = interpreter, "exec_start"
        else:
            interpreter = _read_shebang(exec_start["path"])
            if interpreter:
                facts["interpreter"], facts["interpreter_source"] = interpreter, "shebang"

    # drift stays None when there is nothing to compare (no canonical text, unit not installed
    # or its file unreadable): a missing unit is reported by present=false, not as drift.
    if canonical_unit is not None and facts["present"] and unit_text is not None:
        facts["drift"], facts["diff"] = _systemd.unit_drift(
            unit_text, canonical_unit, installed_name=facts["fragment_path"], canonical_name="canonical " + name)
    return facts


def _unit_fields(props):
    get = props.get
    load_state = _systemd.none_if_empty(get("LoadState"))
    drop_ins = (get("DropInPaths") or "").split()
    return {
        "present": None if load_state is None else load_state != "not-found",
        "load_state": load_state,
        "active_state": _systemd.none_if_empty(get("ActiveState")),
        "sub_state": _systemd.none_if_empty(get("SubState")),
        "result": _systemd.none_if_empty(get("Result")),
        "exec_main_status": _systemd.to_int(get("ExecMainStatus")),
        "exec_main_code": _systemd.to_int(get("ExecMainCode")),
        "n_restarts": _systemd.to_int(get("NRestarts")),
        "main_pid": _systemd.to_int(get("MainPID")),
        "unit_file_state": _systemd.none_if_empty(get("UnitFileState")),
        "fragment_path": _systemd.none_if_empty(get("FragmentPath")),
        "drop_in_paths": drop_ins[:50],
        "active_enter_timestamp": _systemd.none_if_empty(get("ActiveEnterTimestamp")),
        "user": _systemd.none_if_empty(get("User")),
        "working_directory": _systemd.none_if_empty((get("WorkingDirectory") or "").lstrip("!")),
    }
