# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin beatsync.ops.fleet_summary: everything a run publishes, in one run-once task.

The per-host JSON reports, the Markdown fleet summary, the controller-side network finding,
the Prometheus textfile (when asked) and the AWX artifacts, from the reports the play's hosts
registered. One task instead of five: each task is a worker process and a round of templating
per run, and these steps only ever run together.
"""

from __future__ import annotations

from ansible.utils.display import Display

from ansible_collections.beatsync.ops.plugins.action.write_metrics import _with_restarts, run_started_at, write_metrics
from ansible_collections.beatsync.ops.plugins.action.write_reports import ReportError, write_reports
from ansible_collections.beatsync.ops.plugins.module_utils._findings import FLEET_MIN_HOSTS, FLEET_OUTSIDE_SHARE, fleet_findings
from ansible_collections.beatsync.ops.plugins.module_utils._metrics import MetricsError
from ansible_collections.beatsync.ops.plugins.plugin_utils._files import FileWriteAction
from ansible_collections.beatsync.ops.plugins.plugin_utils._summary import artifacts, markdown

ARGUMENT_SPEC = dict(
    reports=dict(type="list", elements="dict"),
    outcome_var=dict(type="str", default="beatsync_outcome"),
    dir=dict(type="path", default="beatsync-reports"),
    suffix=dict(type="str", default=""),
    summary_name=dict(type="str", default="fleet-summary"),
    mode=dict(type="str", default="0600"),
    dir_mode=dict(type="str", default="0700"),
    metrics_file=dict(type="path"),
    detected_at=dict(type="raw"),
    publish=dict(type="bool", default=True),
    show=dict(type="bool", default=True),
)

# Options the task does not set come from these variables when set (the operator's inventory,
# -e, an EDA rulebook's extra_vars), else from ARGUMENT_SPEC's defaults.
VARIABLES = {
    "dir": "beatsync_report_dir", "suffix": "beatsync_report_suffix", "summary_name": "beatsync_summary_name",
    "mode": "beatsync_report_mode", "dir_mode": "beatsync_report_dir_mode", "metrics_file": "beatsync_metrics_file",
    "detected_at": "beatsync_detected_at",
}

display = Display()


def play_reports(task_vars, outcome_var):
    """The `report` of every host of the play (ansible_play_hosts_all) that registered outcome_var."""
    hostvars = task_vars.get("hostvars") or {}
    # HostVars.raw_get: the host's variables without templating each one on the way out. A
    # registered outcome holds no templates, and templating it walks every probe fact again.
    raw_get = getattr(hostvars, "raw_get", None) or hostvars.get
    reports = []
    for host in task_vars.get("ansible_play_hosts_all") or []:
        variables = raw_get(host) or {}
        outcome = variables.get(outcome_var) if outcome_var in variables else None
        if isinstance(outcome, dict) and isinstance(outcome.get("report"), dict):
            reports.append(outcome["report"])
    return reports


class ActionModule(FileWriteAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    ERRORS = (ReportError, MetricsError)
    VARIABLES = VARIABLES

    def write(self, args, task_vars):
        reports = args["reports"] if args["reports"] is not None else play_reports(task_vars, args["outcome_var"])
        found = fleet_findings(reports, share=FLEET_OUTSIDE_SHARE, min_hosts=FLEET_MIN_HOSTS)
        fleet_network = found[0] if found else {}
        summary = markdown(reports, fleet_network)
        directory, files = write_reports(args["dir"], reports, suffix=args["suffix"], summary=summary,
                                         summary_name=args["summary_name"], mode=args["mode"], dir_mode=args["dir_mode"])
        metrics = None
        if args["metrics_file"]:
            detected_at = args["detected_at"]
            if detected_at in (None, ""):
                detected_at = run_started_at()
            try:
                metrics, dummy = write_metrics(args["metrics_file"], _with_restarts(reports, task_vars.get("hostvars") or {}),
                                               detected_at=detected_at)
            except MetricsError as exc:
                raise MetricsError("metrics_file: %s (the reports were written)" % exc) from None
        published = artifacts(reports, fleet_network)
        result = dict(dir=directory, files=files, metrics_file=metrics, fleet_network=fleet_network,
                      unhealthy=published["beatsync_unhealthy"], hosts=len(reports), msg=summary.splitlines())
        if args["publish"]:
            # What set_stats would publish: AWX shows it as the job's artifacts.
            result["ansible_stats"] = {"data": published, "per_host": False, "aggregate": False}
        if args["show"]:
            display.display(summary.rstrip("\n"))
        return result
