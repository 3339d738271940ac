# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this plugin_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The fleet summary of one run as Markdown, and the artifacts AWX shows for it.

Rendered in Python rather than from a Jinja template: it is one small table, and compiling a
template costs every run a few hundredths of a second on the controller. Every value that
came from a host goes through _escape.md_cell (one cell per value, no markup, no control
characters).
"""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils._escape import md_cell

COLUMNS = ("host", "before", "verdict", "root cause", "remedy", "actions taken")
# The artifacts keep a row short: the raw facts stay in the per-host JSON reports.
ARTIFACT_OMITS = ("probes", "external", "findings")


def _row(report):
    before = str(report.get("before") or "")
    if report.get("before_root_cause"):
        before += " (%s)" % report["before_root_cause"]
    cells = (report.get("host"), before, report.get("verdict"), report.get("root_cause") or "-",
             report.get("remedy") or "-", ", ".join(str(item) for item in report.get("actions") or []) or "-")
    return "| " + " | ".join(md_cell(cell) for cell in cells) + " |"


def markdown(reports, fleet_network=None):
    """The fleet summary: the controller-side network finding (if any), one table row per
    host, then one line per host that has a finding."""
    lines = ["# BeatSync fleet summary"]
    if fleet_network:
        lines += ["", "**%s**: %s" % (md_cell(fleet_network.get("code")), md_cell(fleet_network.get("summary"), newline=" ")),
                  "Hosts: %s" % md_cell(", ".join(str(host) for host in fleet_network.get("hosts") or []), newline=" ")]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += [_row(report) for report in reports]
    notes = ["- **%s**: %s" % (md_cell(report.get("host")), md_cell(report.get("summary")))
             for report in reports if report.get("summary")]
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def artifacts(reports, fleet_network=None):
    """set_stats data: beatsync_fleet (short rows), beatsync_unhealthy, beatsync_fleet_network."""
    return {
        "beatsync_fleet": [{key: value for key, value in report.items() if key not in ARTIFACT_OMITS} for report in reports],
        "beatsync_unhealthy": [report.get("host") for report in reports if report.get("verdict") != "healthy"],
        "beatsync_fleet_network": fleet_network or {},
    }
