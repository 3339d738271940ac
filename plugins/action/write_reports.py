# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: all of a play's reports written by the controller's process in one task."""

from __future__ import annotations

import json
import os

from ansible_collections.beatsync.ops.plugins.module_utils._redact import redact_data
from ansible_collections.beatsync.ops.plugins.plugin_utils._files import AtomicWriteError, FileWriteAction, write_atomic

ARGUMENT_SPEC = dict(
    dir=dict(type="path", required=True),
    reports=dict(type="list", elements="dict", default=[]),
    suffix=dict(type="str", default=""),
    summary=dict(type="str"),
    summary_name=dict(type="str", default="fleet-summary"),
    mode=dict(type="str", default="0600"),
    dir_mode=dict(type="str", default="0700"),
    redact=dict(type="bool", default=True),
)


class ReportError(Exception):
    """Bad input, named in the task's failure message."""


def _file_name(name, what):
    name = str(name)
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise ReportError("%s %r cannot be a file name (empty, '.', '..' or containing '/')" % (what, name))
    return name


def _mode(text):
    try:
        mode = int(str(text), 8)
    except ValueError:
        raise ReportError("mode must be an octal string such as '0644', got %r" % (text,)) from None
    if not 0 <= mode <= 0o777:
        raise ReportError("mode must be between 0000 and 0777, got %r" % (text,))
    return mode


def write_reports(directory, reports, suffix="", summary=None, summary_name="fleet-summary", mode="0600",
                  dir_mode="0700", redact=True):
    """Write the files; returns their paths. Every input is checked before the first write.
    Files get mode (default 0600); a directory created here gets dir_mode (default 0700)."""
    file_mode = _mode(mode)
    directory_mode = _mode(dir_mode)
    directory = os.path.abspath(os.path.expanduser(directory))
    planned = []
    for index, report in enumerate(reports):
        if not isinstance(report, dict) or "host" not in report:
            raise ReportError("reports[%d] must be a dict with a 'host' key" % index)
        name = _file_name("%s%s" % (report["host"], suffix), "report file of host")
        planned.append((os.path.join(directory, name + ".json"),
                        json.dumps(redact_data(report) if redact else report, indent=4, sort_keys=True, default=str) + "\n"))
    if summary is not None:
        planned.append((os.path.join(directory, _file_name(summary_name, "summary_name") + ".md"), str(summary)))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=directory_mode, exist_ok=True)
            os.chmod(directory, directory_mode)  # makedirs' mode is masked by the umask
    except OSError as exc:
        raise ReportError("cannot create the report directory %s: %s" % (directory, exc.strerror or exc)) from None
    if not os.path.isdir(directory):
        raise ReportError("the report directory %s is not a directory" % directory)
    written = []
    for path, text in planned:
        try:
            write_atomic(path, text, file_mode)
        except AtomicWriteError as exc:
            raise ReportError("cannot write %s: %s" % (path, exc.reason)) from None
        written.append(path)
    return directory, written


class ActionModule(FileWriteAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    ERRORS = (ReportError,)

    def write(self, args, task_vars):
        directory, files = write_reports(args["dir"], args["reports"], suffix=args["suffix"], summary=args["summary"],
                                         summary_name=args["summary_name"], mode=args["mode"],
                                         dir_mode=args["dir_mode"], redact=args["redact"])
        return dict(dir=directory, files=files)
