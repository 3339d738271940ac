# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Journal line classifiers: what a BeatSync unit's log says went wrong.

`classify(lines)` takes `journalctl -o short-iso` lines (or bare messages) and returns one
classification per telling line: {kind, line, ...}. Kinds:

- missing_module: ``ModuleNotFoundError: No module named 'x'``, ``/usr/bin/python3: No module
  named uvicorn``, ``ImportError: cannot import name 'y' from 'x'`` -> module (and name)
- syntax_error: ``SyntaxError``/``IndentationError``/``TabError`` -> file, lineno, message,
  taken from the traceback's last ``File "...", line N`` of the same process
- address_in_use: ``[Errno 98] ... address already in use``
- permission_denied: ``PermissionError``, ``[Errno 13]``, ``Permission denied``
- startup_failed: uvicorn's ``Application startup failed`` / ``Error loading ASGI app``
- oom_killed: kernel ``Out of memory: Killed process``, ``oom-kill``, systemd's OOM messages
- start_limit_hit: ``Start request repeated too quickly`` / ``start-limit-hit``
- exec_failed: systemd could not execute ExecStart (``status=203/EXEC``)
- chdir_failed: WorkingDirectory missing (``status=200/CHDIR``)
- exception: the last line of any other Python traceback -> exception, message

Standard library only; pure; every input bounded.
"""

from __future__ import annotations

import os
import re

from ansible_collections.beatsync.ops.plugins.module_utils import _systemd
from ansible_collections.beatsync.ops.plugins.module_utils._common import find_bin, run_cmd
from ansible_collections.beatsync.ops.plugins.module_utils._text import clean_line
from ansible_collections.beatsync.ops.plugins.module_utils._validate import MAX_JOURNAL_LINES as MAX_LINES
MAX_LINE_CHARS = 2048
MAX_CLASSIFICATIONS = 200

KINDS = (
    "missing_module", "syntax_error", "address_in_use", "permission_denied", "startup_failed",
    "oom_killed", "start_limit_hit", "exec_failed", "chdir_failed", "exception",
)


class _Lazy(object):
    """A pattern compiled on its first use: most diagnoses read a healthy journal, whose lines
    _could_match() rules out before any classifying pattern runs (19 compiles, ~4 ms, saved)."""

    __slots__ = ("_args", "match", "search")

    def __init__(self, *args):
        self._args = args

    def __getattr__(self, name):
        if name not in ("match", "search"):
            raise AttributeError(name)
        compiled = re.compile(*self._args)
        self.match, self.search = compiled.match, compiled.search
        return getattr(compiled, name)


# journalctl -o short-iso ("2025-12-02T10:00:01+0800 host ident[pid]: msg") and -o short
# ("Dec 02 10:00:01 host ident[pid]: msg").
_PREFIX = _Lazy(
    r"^(?:\d{4}-\d\d-\d\dT[0-9:.,]+(?:[+-]\d\d:?\d\d|Z)?|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?)"
    r" (?P<host>\S+) (?P<ident>[^\s\[]+?)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)

_TRACEBACK = _Lazy(r"Traceback \(most recent call last\):")
_FRAME = _Lazy(r'^\s*File "(?P<file>[^"]{1,1024})", line (?P<lineno>\d{1,9})')
_SYNTAX = _Lazy(r"(?:^|[\s:])(?P<exc>SyntaxError|IndentationError|TabError): ?(?P<msg>.*)$")
_SYNTAX_WHERE = _Lazy(r"\((?P<file>[^()]+), line (?P<lineno>\d{1,9})\)\s*$")

_MISSING = (
    _Lazy(r"(?:ModuleNotFoundError|ImportError): No module named '(?P<module>[^']{1,256})'"),
    _Lazy(r"(?:ModuleNotFoundError|ImportError): No module named (?P<module>[\w.]{1,256})"),
    _Lazy(r"(?:^|\s)\S*python[\w.]*: No module named (?P<module>[\w.]{1,256})"),
    _Lazy(r"ImportError: cannot import name '(?P<name>[^']{1,256})' from '(?P<module>[^']{1,256})'"),
    _Lazy(r"No module named '(?P<module>[^']{1,256})'"),
)

_SIMPLE = (
    ("address_in_use", _Lazy(r"address already in use|\[Errno 98\]|EADDRINUSE", re.I)),
    ("permission_denied", _Lazy(r"PermissionError|\[Errno 13\]|permission denied|status=243/CREDENTIALS", re.I)),
    ("startup_failed", _Lazy(r"Application startup failed|Error loading ASGI app")),
    ("oom_killed", _Lazy(r"Out of memory|Killed process \d+|oom-kill|killed by the OOM killer|invoked oom-killer", re.I)),
    ("start_limit_hit", _Lazy(r"Start request repeated too quickly|start-limit-hit")),
    ("exec_failed", _Lazy(r"status=203/EXEC|Failed to locate executable|Failed at step EXEC|Failed to execute ")),
    ("chdir_failed", _Lazy(r"status=200/CHDIR|Failed at step CHDIR|Changing to the requested working directory failed")),
)

# Every classifying pattern above needs one of these (lowercased) in the message, so a line
# without any of them matches none of _TRACEBACK, _FRAME, _SYNTAX, _MISSING, _SIMPLE.
_TRIGGERS = (
    "traceback (most recent call last):", 'file "', "syntaxerror", "indentationerror", "taberror",
    "no module named", "cannot import name",
    "address already in use", "[errno 98]", "eaddrinuse",
    "permissionerror", "[errno 13]", "permission denied", "status=243/credentials",
    "application startup failed", "error loading asgi app",
    "out of memory", "killed process ", "oom-kill", "killed by the oom killer", "invoked oom-killer",
    "start request repeated too quickly", "start-limit-hit",
    "status=203/exec", "failed to locate executable", "failed at step exec", "failed to execute ",
    "status=200/chdir", "failed at step chdir", "changing to the requested working directory failed",
)


def _could_match(message):
    """False only when no classifying pattern can match message: an ASCII text (re.I folds
    some non-ASCII letters onto ASCII ones, such as the Kelvin sign or the long s) holding
    none of _TRIGGERS."""
    if not message.isascii():
        return True
    low = message.lower()
    return any(trigger in low for trigger in _TRIGGERS)


_EXCEPTION = _Lazy(r"^(?P<exc>[A-Za-z_][\w.]{0,200}(?:Error|Exception|Exit|Interrupt|Warning)): ?(?P<msg>.*)$")


def split_prefix(line):
    """(source, message): source is 'ident[pid]' when the line has a journal prefix, else ''."""
    match = _PREFIX.match(line)
    if not match:
        return "", line
    source = match.group("ident") + ("[%s]" % match.group("pid") if match.group("pid") else "")
    return source, match.group("msg")


def _top_package(module):
    return module.split(".", 1)[0]


def classify_message(message):
    """Classify one message on its own (no traceback context): a dict without 'line', or None."""
    for pattern in _MISSING:
        match = pattern.search(message)
        if match:
            item = {"kind": "missing_module", "module": match.group("module"),
                    "package": _top_package(match.group("module"))}
            if "name" in match.groupdict() and match.group("name"):
                item["name"] = match.group("name")
            return item
    for kind, pattern in _SIMPLE:
        if pattern.search(message):
            return {"kind": kind}
    return None


def classify(lines, max_lines=MAX_LINES, max_items=MAX_CLASSIFICATIONS):
    """Classify journal lines; returns [{kind, line, module?, file?, lineno?, ...}] in log order.

    Python tracebacks span lines: the `File "...", line N` frames of each process (journal
    ident+pid) are remembered so a SyntaxError gets its file and line, and the final line of
    any other traceback is reported as kind `exception` when nothing more specific matched.
    Garbage (non-text, huge lines, control characters) is bounded and never raises.
    """
    if isinstance(lines, (str, bytes)):
        lines = clean_line(lines, max_chars=max_lines * MAX_LINE_CHARS).splitlines()
    try:
        lines = list(lines)[-max_lines:]
    except TypeError:
        return []
    frames = {}       # source -> (file, lineno) of the last non-frozen frame
    in_traceback = {}  # source -> True while a traceback is open
    out = []
    for raw in lines:
        if len(out) >= max_items:
            break
        line = clean_line(raw)
        source, message = split_prefix(line)
        if not in_traceback.get(source) and not _could_match(message):
            continue                        # nothing below would match or change state
        body = message.strip()

        if _TRACEBACK.search(body):
            in_traceback[source] = True
            frames.pop(source, None)
            continue
        frame = _FRAME.match(message)
        if frame:
            if not frame.group("file").startswith("<frozen"):
                frames[source] = (frame.group("file"), int(frame.group("lineno")))
            continue

        syntax = _SYNTAX.search(body)
        if syntax:
            item = {"kind": "syntax_error", "line": line, "exception": syntax.group("exc"),
                    "message": syntax.group("msg")}
            where = frames.get(source)
            if where is None:
                found = _SYNTAX_WHERE.search(syntax.group("msg"))
                if found:
                    where = (found.group("file"), int(found.group("lineno")))
            if where:
                item["file"], item["lineno"] = where
            out.append(item)
            in_traceback.pop(source, None)
            frames.pop(source, None)
            continue

        item = classify_message(body)
        if item is not None:
            item["line"] = line
            if item["kind"] == "missing_module" and source in frames:
                item["file"], item["lineno"] = frames[source]
            out.append(item)
            if in_traceback.get(source) and _EXCEPTION.match(body):
                in_traceback.pop(source, None)
                frames.pop(source, None)
            continue

        if in_traceback.get(source):
            exc = _EXCEPTION.match(body)
            if exc:
                item = {"kind": "exception", "line": line, "exception": exc.group("exc"), "message": exc.group("msg")}
                if source in frames:
                    item["file"], item["lineno"] = frames[source]
                out.append(item)
                in_traceback.pop(source, None)
                frames.pop(source, None)
    return out


def summarize(classifications):
    """{kind: count} over classifications."""
    counts = {}
    for item in classifications:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return counts


# systemd's own line for each start attempt of the unit ("Started beatsync.service - ...").
_START_MARKER = re.compile(r"\bsystemd\[1\]: Start(?:ed|ing) ")


def since_last_start(lines):
    """The lines of the unit's latest start attempt: from its last systemd start line on.

    A journal keeps old failures (a SyntaxError fixed an hour ago); only what the latest
    attempt printed says why the unit is down now. Without a start line, all lines.
    """
    lines = list(lines or [])
    for index in range(len(lines) - 1, -1, -1):
        if isinstance(lines[index], str) and _START_MARKER.search(lines[index]):
            return lines[index:]
    return lines


def split_journal(text, max_lines=MAX_LINES, max_chars=MAX_LINE_CHARS):
    """journalctl output -> (lines, meta): entry lines bounded and cleaned; '-- ... --' lines apart."""
    lines = []
    meta = []
    if not isinstance(text, str):
        return lines, meta
    for raw in text.splitlines():
        line = clean_line(raw, max_chars)
        if not line.strip():
            continue
        if line.startswith("-- ") and line.rstrip().endswith("--"):
            meta.append(line)
            continue
        lines.append(line)
    return lines[-max_lines:], meta[:20]


def probe_journal(service="beatsync.service", lines=50, journalctl_path=None, timeout=10, latest_start=False):
    """The unit's last `lines` journal lines and their classification (docs/architecture.md `journal`).

    With latest_start, `classifications` judge the latest start attempt only (what says why the
    unit is down now) and `classifications_all` keeps the classification of every line read.
    Trusts its arguments (checked at the edge, _argspec.validate): service normalised
    (beatsync.service), lines an int in 1..MAX_LINES, timeout seconds > 0.
    """
    name, count, seconds = service, lines, timeout
    facts = {"service": name, "available": False, "lines": [], "classifications": [], "kinds": {},
             "hint": None, "error": None}
    journalctl = find_bin("journalctl", journalctl_path)
    if not journalctl:
        facts["error"] = "journalctl not found%s: no systemd journal on this host" % (
            " at %s" % journalctl_path if journalctl_path else "")
        return facts
    cmd = run_cmd([journalctl, "-u", name, "-n", str(count), "--no-pager", "-o", "short-iso"],
                  timeout=seconds, max_bytes=count * (MAX_LINE_CHARS + 200) + 4096)
    stderr = (cmd["stderr"] or "").strip()
    entries, _meta = split_journal(cmd["stdout"], max_lines=count)
    low = stderr.lower()
    if cmd["rc"] is None:
        facts["error"] = cmd["error"]
        facts["lines"] = entries
    elif "no journal files were found" in low or "no journal files were opened" in low or _systemd.is_no_systemd_message(stderr):
        facts["error"] = "no readable systemd journal on this host: %s" % " ".join(stderr.splitlines()[-1:])
        if not os.path.isdir("/run/systemd/journal"):
            facts["error"] += " (journald is not running)"
    elif cmd["rc"] != 0:
        facts["error"] = "journalctl exited %s: %s" % (cmd["rc"], stderr[:500])
    else:
        facts["available"] = True
        facts["lines"] = entries
    if "hint:" in low:
        facts["hint"] = " ".join(part.strip() for part in stderr.splitlines() if part.strip())[:500]
    facts["classifications"] = classify(facts["lines"])
    if latest_start and facts["lines"]:
        facts["classifications_all"] = facts["classifications"]
        facts["classifications"] = classify(since_last_start(facts["lines"]))
    facts["kinds"] = summarize(facts["classifications"])
    return facts
