#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the action plugin of the same name does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_summary
short_description: Publish a diagnose or repair run in one controller-side step
version_added: 0.1.0
description:
  - Collects the C(report) of every host of the play that registered O(outcome_var) (the
    diagnosis of M(beatsync.ops.diagnose)), or takes O(reports), and in one task
    writes each host's JSON report and the Markdown fleet summary (as M(beatsync.ops.write_reports)),
    names one C(controller_network) finding when most hosts fail only from the controller's side
    (as the P(beatsync.ops.fleet_network#filter) filter), writes the Prometheus textfile when
    O(metrics_file) is set (as M(beatsync.ops.write_metrics)), publishes the AWX artifacts (as
    M(ansible.builtin.set_stats)) and prints the summary.
  - Used by C(playbooks/diagnose.yml) and C(playbooks/repair.yml). One task instead of five, as each
    task costs the controller a worker process and a round of templating per run.
  - Run it once per play (C(run_once=true)); it never touches a managed host.
  - An option the task does not set is read from the collection's variable for it when that is set
    (not undefined, null or empty), else it takes its default here. O(dir) from C(beatsync_report_dir),
    O(suffix) from C(beatsync_report_suffix), O(summary_name) from C(beatsync_summary_name), O(mode) from
    C(beatsync_report_mode), O(dir_mode) from C(beatsync_report_dir_mode), O(metrics_file) from
    C(beatsync_metrics_file), O(detected_at) from C(beatsync_detected_at). A message about an option read
    from a variable names the variable.
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    support: full
    description:
      - Writes its files in check mode too; they are the controller's output of a diagnosis, not a change to a host.
  diff_mode:
    support: none
    description: Reports are output, not managed state.
  action:
    support: full
    description: Runs on the controller as an action plugin.
options:
  reports:
    description:
      - The host reports to publish (each a dict with a C(host) key). When omitted, the C(report) of
        O(outcome_var) of every host in C(ansible_play_hosts_all) that has one.
    type: list
    elements: dict
  outcome_var:
    description: The variable each host registered its diagnosis in.
    type: str
    default: beatsync_outcome
  dir:
    description: Directory on the controller for the reports; created with O(dir_mode) when missing.
    type: path
    default: beatsync-reports
  suffix:
    description: Added to each host's report file name before C(.json), for example C(-repair).
    type: str
    default: ""
  summary_name:
    description: File name of the fleet summary, without C(.md).
    type: str
    default: fleet-summary
  mode:
    description: Permissions of the report files, as an octal string (reports carry host details).
    type: str
    default: "0600"
  dir_mode:
    description: Permissions of O(dir) when this task creates it, as an octal string.
    type: str
    default: "0700"
  metrics_file:
    description:
      - A C(.prom) file in node_exporter's textfile collector directory (which must exist) for the run's
        figures, see M(beatsync.ops.write_metrics). Not written when omitted or empty.
    type: path
  detected_at:
    description:
      - Unix time the failure was first seen, for the metrics' detection-to-healthy seconds. Defaults to
        the start of the C(ansible-playbook) run.
    type: raw
  publish:
    description:
      - Return the summary as C(ansible_stats) (C(beatsync_fleet), C(beatsync_unhealthy),
        C(beatsync_fleet_network)), which AWX shows as the job's artifacts, exactly as
        M(ansible.builtin.set_stats) with C(per_host=false) and C(aggregate=false) would.
    type: bool
    default: true
  show:
    description: Print the fleet summary in the job's output.
    type: bool
    default: true
notes:
  - Never reports C(changed), like M(beatsync.ops.write_reports).
seealso:
  - module: beatsync.ops.diagnose
  - module: beatsync.ops.write_reports
  - module: beatsync.ops.write_metrics
"""

EXAMPLES = r"""
- name: Diagnose every host, then publish the run
  hosts: beatsync
  gather_facts: false
  tasks:
    - name: Diagnose BeatSync
      beatsync.ops.diagnose:
      register: beatsync_outcome

    - name: Reports, fleet summary, metrics and artifacts, once for the run
      beatsync.ops.fleet_summary:
        dir: /var/log/beatsync-reports
        metrics_file: /var/lib/node_exporter/textfile/beatsync.prom
      run_once: true
      delegate_to: localhost
      register: beatsync_fleet_summary
"""

RETURN = r"""
dir:
  description: Absolute path of the report directory.
  returned: success
  type: str
  sample: /home/ops/beatsync-reports
files:
  description: Absolute paths of the files written, host reports first, then the summary.
  returned: success
  type: list
  elements: str
metrics_file:
  description: Absolute path of the metrics file written, or null.
  returned: success
  type: str
fleet_network:
  description:
    - The C(controller_network) finding (C(code), C(summary), C(evidence), C(hosts) ...) when most hosts fail only
      from the controller's side, else an empty dict.
  returned: success
  type: dict
unhealthy:
  description: The hosts whose verdict is not C(healthy).
  returned: success
  type: list
  elements: str
hosts:
  description: How many host reports were published.
  returned: success
  type: int
msg:
  description: The fleet summary, one line per list item.
  returned: success
  type: list
  elements: str
"""
