# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: a run's figures as a Prometheus text file on the controller, in one task."""

from __future__ import annotations

import os
import time

from ansible_collections.beatsync.ops.plugins.module_utils._metrics import MetricsError, render
from ansible_collections.beatsync.ops.plugins.plugin_utils._files import AtomicWriteError, FileWriteAction, write_atomic

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    reports=dict(type="list", elements="raw", default=[]),
    detected_at=dict(type="raw"),
    restart_budget=dict(type="raw"),
)

MAX_PREVIOUS_BYTES = 4 * 1024 * 1024


def _read_previous(path):
    """The file this run replaces (for the hosts' last success), '' when there is none."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_PREVIOUS_BYTES)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MetricsError("cannot read the previous metrics file %s: %s" % (path, exc.strerror or exc)) from None


def write_metrics(path, reports, now=None, detected_at=None, restart_budget=None):
    """Render and write atomically (temporary file in the same directory, mode 0644, rename).

    The directory must exist: it is the textfile collector's, which the operator names."""
    path = os.path.abspath(os.path.expanduser(path))
    directory, name = os.path.split(path)
    if not name.endswith(".prom"):
        raise MetricsError("path must name a file ending in .prom (node_exporter's textfile collector reads "
                           "only those), got %s" % path)
    if not os.path.isdir(directory):
        raise MetricsError("the metrics directory %s does not exist or is not a directory (create it, usually "
                           "node_exporter's --collector.textfile.directory)" % directory)
    text = render(reports, time.time() if now is None else now, previous_text=_read_previous(path),
                  detected_at=detected_at, restart_budget=restart_budget)
    try:
        write_atomic(path, text, 0o644)
    except AtomicWriteError as exc:
        if exc.in_directory:
            raise MetricsError("cannot write in the metrics directory %s: %s" % (directory, exc.reason)) from None
        raise MetricsError(str(exc)) from None
    return path, text


def run_started_at(pid=None):
    """Unix time the ansible-playbook process (this worker's parent) started, None when unknown.

    The run's first diagnosis detects the failure, so this is the detection time of a repair
    run when the caller does not know a better one (EDA passes the event's failing_since)."""
    try:
        with open("/proc/%d/stat" % (pid or os.getppid()), "r", encoding="ascii") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", "r", encoding="ascii") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        return boot + float(ticks) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _with_restarts(reports, hostvars):
    """Reports without restarts_used get the repair role's beatsync_restarts_used and
    beatsync_restart_budget of their host (when the play set them)."""
    merged = []
    for report in reports:
        if isinstance(report, dict) and report.get("restarts_used") is None and isinstance(report.get("host"), str):
            variables = hostvars.get(report["host"]) or {}
            extra = dict((key, variables[key]) for key in ("beatsync_restarts_used", "beatsync_restart_budget")
                         if key in variables and key not in report)
            if extra:
                report = dict(report, **extra)
        merged.append(report)
    return merged


class ActionModule(FileWriteAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    ERRORS = (MetricsError,)
    ERROR_PREFIX = "write_metrics: "

    def write(self, args, task_vars):
        reports = args["reports"]
        if isinstance(reports, list):
            reports = _with_restarts(reports, task_vars.get("hostvars") or {})
        detected_at = args["detected_at"]
        if detected_at in (None, ""):
            detected_at = run_started_at()
        path, text = write_metrics(args["path"], reports, detected_at=detected_at,
                                   restart_budget=args["restart_budget"])
        return dict(path=path, series=sum(1 for line in text.splitlines() if line and not line.startswith("#")))
