# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's figures in the Prometheus text exposition format (node_exporter's textfile collector).

PRIVATE to the collection: the interface may change without notice. Used by the action plugin
beatsync.ops.write_metrics. Standard library only.

    render(reports, now, previous_text="", detected_at=None) -> text

One report per host (the dicts the diagnose role keeps as beatsync_report). Every series has
HELP and TYPE lines; label values are escaped (backslash, double quote, newline).
"""

from __future__ import annotations

import math
import re

VERDICTS = ("healthy", "degraded", "down")
PREFIX = "beatsync_"
_LAST_SUCCESS = PREFIX + "last_success_timestamp_seconds"
_SAMPLE = re.compile(r'^%s\{host="((?:[^"\\]|\\.)*)"\} (\S+)$' % re.escape(_LAST_SUCCESS))

HELP = {
    "verdict": ("gauge", "1 for the host's verdict of this run (healthy, degraded, down), 0 for the others."),
    "healthy": ("gauge", "1 when the host's verdict is healthy, else 0."),
    "root_cause": ("gauge", "1 for the code of the host's root cause (none when healthy)."),
    "restarts_used": ("gauge", "Restarts of BeatSync made within the host's restart budget (this run or window)."),
    "restarts_left": ("gauge", "Restarts left in the host's restart budget."),
    "seconds_to_healthy": ("gauge", "Seconds from the detection of the failure to the host answering healthy again."),
    "last_success_timestamp_seconds": ("gauge", "Unix time of the last run that found the host healthy."),
    "run_timestamp_seconds": ("gauge", "Unix time these figures were written."),
}


class MetricsError(ValueError):
    """Bad input; the message names it."""


def escape_label(value):
    """A label value as the text format wants it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _unescape(value):
    return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) == "n" else match.group(1), value)


def _number(value, what):
    """A finite float from an int/float/numeric string, else MetricsError naming `what`."""
    if isinstance(value, bool):
        raise MetricsError("%s must be a number, got %r" % (what, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetricsError("%s must be a number, got %r" % (what, value)) from None
    if math.isnan(number) or math.isinf(number):
        raise MetricsError("%s must be a finite number, got %r" % (what, value))
    return number


def _format(number):
    return repr(int(number)) if float(number).is_integer() and abs(number) < 2 ** 53 else repr(float(number))


def previous_last_success(text):
    """{host: timestamp} of the last-success series in an earlier file's text (ours)."""
    found = {}
    for line in (text or "").splitlines():
        match = _SAMPLE.match(line.strip())
        if match:
            try:
                found[_unescape(match.group(1))] = float(match.group(2))
            except ValueError:
                continue
    return found


def _restarts(report, budget_default=None):
    """(used, left) from the report's restarts_used/restarts_left, else the repair role's
    beatsync_restarts_used and beatsync_restart_budget (kept in the report when present)."""
    used = report.get("restarts_used")
    if used is None:
        used = report.get("beatsync_restarts_used")
    left = report.get("restarts_left")
    if left is None and used is not None:
        budget = report.get("beatsync_restart_budget", budget_default)
        if budget is not None:
            left = max(0.0, _number(budget, "restart budget of %s" % report.get("host")) -
                       _number(used, "restarts_used of %s" % report.get("host")))
    return used, left


def check_reports(reports):
    """Validate the reports before anything is written; returns them as a list."""
    if not isinstance(reports, (list, tuple)):
        raise MetricsError("reports must be a list of host reports, got %s" % type(reports).__name__)
    seen = set()
    for index, report in enumerate(reports):
        if not isinstance(report, dict):
            raise MetricsError("reports[%d] must be a dict (a host report), got %s" % (index, type(report).__name__))
        host = report.get("host")
        if not isinstance(host, str) or not host:
            raise MetricsError("reports[%d] has no 'host' (a non-empty string)" % index)
        if host in seen:
            raise MetricsError("reports: host %s appears twice" % host)
        seen.add(host)
        if report.get("verdict") not in VERDICTS:
            raise MetricsError("reports[%d] (%s): verdict must be one of %s, got %r"
                               % (index, host, ", ".join(VERDICTS), report.get("verdict")))
        for key in ("restarts_used", "restarts_left", "beatsync_restarts_used", "beatsync_restart_budget",
                    "detected_at", "healthy_at", "seconds_to_healthy"):
            if report.get(key) is not None:
                _number(report[key], "reports[%d] (%s): %s" % (index, host, key))
    return list(reports)


def render(reports, now, previous_text="", detected_at=None, restart_budget=None):
    """The text of the metrics file for one run.

    now: Unix time of the run's end (the final diagnosis). detected_at: Unix time the failure
    was detected (the run's start, or the event's failing_since), used for hosts repaired in
    this run when their report has no detected_at of its own.
    """
    reports = check_reports(reports)
    now = _number(now, "now")
    if detected_at is not None:
        detected_at = _number(detected_at, "detected_at")
    series = dict((name, []) for name in HELP)
    last_success = previous_last_success(previous_text)
    for report in sorted(reports, key=lambda item: item["host"]):
        host = report["host"]
        label = 'host="%s"' % escape_label(host)
        for verdict in VERDICTS:
            series["verdict"].append(('{%s,verdict="%s"}' % (label, verdict), 1 if report["verdict"] == verdict else 0))
        series["healthy"].append(("{%s}" % label, 1 if report["verdict"] == "healthy" else 0))
        code = report.get("root_cause") or "none"
        series["root_cause"].append(('{%s,code="%s"}' % (label, escape_label(code)), 1))
        used, left = _restarts(report, restart_budget)
        if used is not None:
            series["restarts_used"].append(("{%s}" % label, _number(used, "restarts_used of %s" % host)))
        if left is not None:
            series["restarts_left"].append(("{%s}" % label, _number(left, "restarts_left of %s" % host)))
        seconds = report.get("seconds_to_healthy")
        if seconds is None and report["verdict"] == "healthy" and report.get("before", "healthy") != "healthy":
            since = report.get("detected_at", detected_at)
            if since is not None:
                seconds = max(0.0, _number(report.get("healthy_at", now), "healthy_at of %s" % host) -
                              _number(since, "detected_at of %s" % host))
        if seconds is not None:
            series["seconds_to_healthy"].append(("{%s}" % label, round(_number(seconds, "seconds_to_healthy"), 3)))
        if report["verdict"] == "healthy":
            last_success[host] = now
        if host in last_success:
            series["last_success_timestamp_seconds"].append(("{%s}" % label, last_success[host]))
    # hosts of earlier runs that this run did not see keep their last success
    seen = set(report["host"] for report in reports)
    for host in sorted(set(last_success) - seen):
        series["last_success_timestamp_seconds"].append(('{host="%s"}' % escape_label(host), last_success[host]))
    series["run_timestamp_seconds"].append(("", now))
    lines = []
    for name, (kind, text) in HELP.items():
        if not series[name]:
            continue
        lines.append("# HELP %s%s %s" % (PREFIX, name, text))
        lines.append("# TYPE %s%s %s" % (PREFIX, name, kind))
        lines.extend("%s%s%s %s" % (PREFIX, name, labels, _format(value)) for labels, value in series[name])
    return "\n".join(lines) + "\n"
