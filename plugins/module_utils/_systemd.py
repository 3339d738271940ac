# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Pure helpers around systemd: `systemctl show` parsing, ExecStart parsing, unit file
reading and drift diff. Journal reading is in _journal.py.

Standard library only: this code runs on the managed host and in the EDA event source.
Nothing here runs a command; _probe_systemd.py does that through _common.run_cmd.
"""

from __future__ import annotations

import os
import re
import shlex

from ansible_collections.beatsync.ops.plugins.module_utils._text import clean_line

# The properties probe_unit asks `systemctl show` for.
SHOW_PROPERTIES = (
    "Id", "LoadState", "ActiveState", "SubState", "Result", "ExecMainStatus", "ExecMainCode",
    "NRestarts", "MainPID", "UnitFileState", "FragmentPath", "DropInPaths",
    "ActiveEnterTimestamp", "ExecStart", "WorkingDirectory", "User", "Group",
)

MAX_SHOW_BYTES = 256 * 1024
MAX_SHOW_LINES = 500
MAX_VALUE_CHARS = 8192
MAX_UNIT_FILE_BYTES = 64 * 1024
MAX_DIFF_LINES = 200
MAX_DIFF_CHARS = 16 * 1024

# What systemctl/journalctl print when PID 1 is not systemd or the bus is not there.
NO_SYSTEMD_MARKERS = (
    "system has not been booted with systemd",
    "failed to connect to bus",
    "failed to get d-bus connection",
    "running in chroot, ignoring",
)

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?[a-z]?$")


def is_no_systemd_message(text):
    """True when command output says systemd is not PID 1 / the bus is not there."""
    low = (text or "").lower()
    return any(marker in low for marker in NO_SYSTEMD_MARKERS)


def sd_booted(run_dir="/run/systemd/system"):
    """sd_booted(3): systemd is PID 1 when /run/systemd/system is a directory."""
    return os.path.isdir(run_dir)


def parse_show(text, max_lines=MAX_SHOW_LINES):
    """Parse `systemctl show` KEY=VALUE output into a dict (first '=' splits; bounded).

    Lines without '=' or with an unusable key are ignored; a repeated key keeps its first
    value (with several units, the first unit wins).
    """
    props = {}
    if not isinstance(text, str):
        return props
    for count, line in enumerate(text[:MAX_SHOW_BYTES].splitlines()):
        if count >= max_lines:
            break
        key, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Za-z][A-Za-z0-9]{0,63}$", key):
            continue
        if key not in props:
            props[key] = clean_line(value, MAX_VALUE_CHARS)
    return props


def to_int(value):
    """systemctl show numbers -> int, or None for '', '[not set]' and garbage."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def none_if_empty(value):
    if value is None:
        return None
    value = str(value).strip()
    if value in ("", "[not set]", "n/a"):
        return None
    return value


def _split_argv(text):
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


def parse_exec_start(value):
    """Parse an ExecStart value into {path, argv, flags, command_line}, or None.

    Understands the `systemctl show` form
    ``{ path=/usr/bin/python3 ; argv[]=/usr/bin/python3 -m uvicorn main:app ; ignore_errors=no ; ... }``
    (first command only when there are several) and the raw unit file form
    ``/usr/bin/python3 -m uvicorn main:app`` with optional ``-@:+!`` prefixes.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()[:MAX_VALUE_CHARS]
    if not text:
        return None
    if text.startswith("{"):
        # argv[] is printed unquoted and may itself contain ';': it ends at the next known field.
        path_match = re.search(r"path=(.*?) ; argv\[\]=", text)
        argv_match = re.search(r"argv\[\]=(.*?)(?: ; (?:flags|ignore_errors)=| \}|$)", text)
        path = path_match.group(1).strip() if path_match else None
        argv_text = argv_match.group(1).strip() if argv_match else None
        if path is None:
            simple = re.search(r"path=([^ ;}]+)", text)
            path = simple.group(1) if simple else None
        argv = _split_argv(argv_text) if argv_text else ([path] if path else [])
        if not path and argv:
            path = argv[0]
        if not path:
            return None
        return {"path": path, "argv": argv, "flags": "", "command_line": argv_text or path}
    match = re.match(r"^([-@:+!]*)(.*)$", text)
    flags, rest = match.group(1), match.group(2).strip()
    argv = _split_argv(rest)
    if not argv:
        return None
    path = argv[0]
    if "@" in flags and len(argv) > 1:
        # '@' means the second word is argv[0]; the executable is still the first word.
        argv = argv[1:]
    return {"path": path, "argv": argv, "flags": flags, "command_line": rest}


def interpreter_from_argv(path, argv):
    """The Python interpreter a command line runs, or None when it is not visibly Python.

    /usr/bin/python3 -m uvicorn ... -> /usr/bin/python3; /usr/bin/env python3 ... -> python3;
    a console script such as /opt/venv/bin/uvicorn returns None (probe_unit then reads its
    shebang).
    """
    if not path:
        return None
    if _PYTHON_NAME.match(os.path.basename(path)):
        return path
    if os.path.basename(path) == "env":
        for word in argv[1:]:
            if word.startswith("-") or "=" in word:
                continue
            return word if _PYTHON_NAME.match(os.path.basename(word)) else None
    return None


def interpreter_from_shebang(first_line):
    """'#!/opt/venv/bin/python3' -> '/opt/venv/bin/python3'; '#!/usr/bin/env python3' -> 'python3'."""
    if not isinstance(first_line, str) or not first_line.startswith("#!"):
        return None
    words = first_line[2:].strip().split()
    if not words:
        return None
    return interpreter_from_argv(words[0], words)


def read_bounded(path, max_bytes=MAX_UNIT_FILE_BYTES):
    """Read a text file, at most max_bytes. Returns (text or None, error or None, truncated)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return None, "cannot read %s: %s" % (path, exc.strerror or exc), False
    truncated = len(data) > max_bytes
    return data[:max_bytes].decode("utf-8", errors="replace"), None, truncated


def unit_file_values(text, key, section="Service"):
    """All values of `key` in `[section]` of a unit file text (continuation lines joined)."""
    values = []
    if not isinstance(text, str):
        return values
    current = None
    pending = None
    for raw in text.splitlines():
        line = raw.strip()
        if pending is not None:
            if line.endswith("\\"):
                pending += " " + line[:-1].strip()
                continue
            pending += " " + line
            line, pending = pending, None
        elif line.endswith("\\") and not line.startswith(("#", ";")):
            pending = line[:-1].strip()
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current != section:
            continue
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            value = value.strip()
            if value == "":
                values = []  # an empty assignment resets the list, as systemd does
            else:
                values.append(value)
    return values


def normalize_unit_text(text):
    """Unit text lines with trailing whitespace stripped and blank lines dropped."""
    if not isinstance(text, str):
        return []
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def unit_drift(installed, canonical, installed_name="installed", canonical_name="canonical",
               max_lines=MAX_DIFF_LINES, max_chars=MAX_DIFF_CHARS):
    """Compare an installed unit text with the canonical one.

    Trailing whitespace and blank lines are ignored. Returns (drift, diff): drift None when
    either text is missing; diff a unified diff from canonical to installed, bounded.
    """
    if installed is None or canonical is None:
        return None, ""
    want = normalize_unit_text(canonical)
    have = normalize_unit_text(installed)
    if want == have:
        return False, ""
    import difflib  # pylint: disable=import-outside-toplevel  # only a drifted unit gets a diff (~2 ms of import)
    lines = list(difflib.unified_diff(want, have, fromfile=canonical_name, tofile=installed_name, lineterm=""))
    truncated = len(lines) > max_lines
    diff = "\n".join(lines[:max_lines])
    if len(diff) > max_chars:
        diff = diff[:max_chars]
        truncated = True
    if truncated:
        diff += "\n... diff truncated"
    return True, diff
