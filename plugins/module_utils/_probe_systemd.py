# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""probe_unit(...): the runbook's `systemctl status beatsync` and
`cat /etc/systemd/system/beatsync.service` as facts (the journal: _journal.probe_journal).

Standard library only: this code runs on the managed host. probe_unit trusts its arguments:
the module's edge (argument spec and _argspec.validate) checked them once.
"""

from __future__ import annotations

import os

from ansible_collections.beatsync.ops.plugins.module_utils import _bind, _redact, _systemd, _unit_merge
from ansible_collections.beatsync.ops.plugins.module_utils._common import find_bin, run_cmd
MAX_CAT_BYTES = 1024 * 1024
MAX_DRIFT_ITEMS = 20


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
        "active_enter_timestamp": None, "user": None, "group": None, "exec_start": None, "exec_argv": [],
        "unit_file_exec_start": None, "working_directory": None, "interpreter": None,
        "interpreter_source": None, "unit_file_read": False, "effective_read": False, "dropins": [],
        "environment_names": [], "drift": None, "drift_items": [], "diff": "", "bind": None,
        "canonical_bind": None, "error": None,
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

    canonical_unit: the unit text the service role installs; when given, the EFFECTIVE unit
    (`systemctl cat`: the unit file plus its drop-ins, merged as systemd merges them, see
    _unit_merge; read from the files `systemctl show` names, in `systemctl cat`'s format, see
    _cat_from_files) is compared with it: `drift_items` names each differing setting with the
    file(s) and line(s) that set it, `diff` is the unit file's text diff (trailing whitespace and
    blank lines ignored). `bind` is where the effective ExecStart's uvicorn listens
    (_bind.uvicorn_bind, with the path and line that say so), `canonical_bind` the canonical
    unit's. Environment= values and secret-named settings are redacted in everything returned.
    No systemd -> systemd false and an error; unknown unit -> present false.
    Trusts its arguments (checked at the edge): service normalised (beatsync.service), timeout
    seconds > 0, canonical_unit None or text of at most _argspec.MAX_CANONICAL_CHARS.
    """
    name, seconds = service, timeout
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
    cat_text = None
    if facts["present"]:
        cat = _cat_from_files(props)
        if cat is None:
            cat = run_cmd([systemctl, "cat", name, "--no-pager"], timeout=seconds, max_bytes=MAX_CAT_BYTES)
        files = _unit_merge.parse_systemctl_cat(cat["stdout"]) if cat["rc"] == 0 else []
        if files:
            cat_text = cat["stdout"]
            facts["effective_read"] = True
            if unit_text is None and files[0][0] == facts["fragment_path"]:
                # systemctl could read what this process could not (or a stale path): use its copy.
                unit_text = files[0][1]
                facts["unit_file_read"], facts["error"] = True, None
    if cat_text is None and unit_text is not None:
        # No `systemctl cat` answer: the unit file alone (its drop-ins cannot be read).
        cat_text = "# %s\n%s" % (facts["fragment_path"], unit_text)
    effective = _unit_merge.merge_cat(cat_text) if cat_text is not None else None
    if effective is not None:
        facts["dropins"] = effective["dropins"][:50]
        facts["environment_names"] = sorted(_unit_merge.effective_value(effective, "Environment"))[:100]
        if facts["group"] is None:
            facts["group"] = _unit_merge.effective_value(effective, "Group") or None
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

    if effective is not None:
        facts["bind"] = effective_bind(effective, facts["exec_argv"])
    if canonical_unit is not None:
        facts["canonical_bind"] = effective_bind(_unit_merge.merge([("<canonical>", canonical_unit)]))

    # drift stays None when there is nothing to compare (no canonical text, unit not installed
    # or its file unreadable): a missing unit is reported by present=false, not as drift.
    if canonical_unit is not None and facts["present"] and unit_text is not None:
        file_drift, diff = _systemd.unit_drift(
            unit_text, canonical_unit, installed_name=facts["fragment_path"], canonical_name="canonical " + name)
        items = _unit_merge.unit_drift(cat_text, canonical_unit)
        facts["drift"] = bool(file_drift or items)
        facts["diff"] = _redact.redact_diff(diff)
        facts["drift_items"] = [_drift_item(item) for item in items[:MAX_DRIFT_ITEMS]]
    return facts


def _cat_from_files(props):
    """What `systemctl cat` prints for a loaded unit ({"rc": 0, "stdout": text}), read from the
    files `systemctl show` named (FragmentPath, then DropInPaths in that order), without a
    second systemctl process and PID 1's work for it: each file under a "# path" line, a
    missing final newline added, an empty line before every header but the first (systemd
    252's format), bounded and decoded as run_cmd does. None (ask `systemctl cat`) unless the
    unit is loaded and every one of those paths is a regular file this process can read."""
    fragment = props.get("FragmentPath") or ""
    if props.get("LoadState") != "loaded" or not fragment.startswith("/"):
        return None
    chunks, size = [], 0
    for index, path in enumerate([fragment] + (props.get("DropInPaths") or "").split()):
        if not path.startswith("/") or not os.path.isfile(path):
            return None                     # a path with blanks, a deleted or special file: systemctl says
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CAT_BYTES + 1 - size) if size <= MAX_CAT_BYTES else b""
        except OSError:
            return None                     # systemctl cat fails on it too ("Failed to cat"), as it did
        chunk = (b"\n" if index else b"") + b"# " + path.encode("utf-8", "surrogateescape") + b"\n" + data
        if data and not data.endswith(b"\n"):
            chunk += b"\n"
        chunks.append(chunk)
        size += len(chunk)
    return {"rc": 0, "stdout": b"".join(chunks)[:MAX_CAT_BYTES].decode("utf-8", errors="replace")}


def _drift_item(item):
    """One _unit_merge.unit_drift entry, redacted, with the line a person reads."""
    item = _redact.redact_data(item)
    item["describe"] = _unit_merge.describe_drift(item)
    return item


def effective_bind(effective, argv=None):
    """Where the effective unit's uvicorn listens: _bind.uvicorn_bind of its (last) ExecStart
    with the unit's Environment= (UVICORN_HOST/PORT), plus `declared_by`: the file(s) and
    line(s) that set it. Environment values are used here, never returned."""
    exec_entry = effective["sections"].get("Service", {}).get("ExecStart")
    values = exec_entry["values"] if exec_entry else []
    if not argv:
        argv = _unit_merge.split_words(values[-1].value.lstrip("-@:+!|")) if values else []
    env = _unit_merge.effective_value(effective, "Environment")
    bind = _bind.uvicorn_bind(argv, env)
    declared = []
    if values:
        declared.append(values[-1])
    if bind.get("source", {}).get("host") == "env" or bind.get("source", {}).get("port") == "env":
        env_entry = effective["sections"].get("Service", {}).get("Environment")
        declared += [item for item in (env_entry["values"] if env_entry else [])
                     if "UVICORN_HOST" in item.value or "UVICORN_PORT" in item.value]
    bind["declared_by"] = [{"path": item.path, "line": item.lineno,
                            "text": _redact.redact_unit_text("%s=%s" % (item.key, item.value)),
                            "kind": "unit_file" if item.path == effective["unit_file"] else "dropin"}
                           for item in declared]
    return bind


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
        "group": _systemd.none_if_empty(get("Group")),
        "working_directory": _systemd.none_if_empty((get("WorkingDirectory") or "").lstrip("!")),
    }
